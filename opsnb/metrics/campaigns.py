"""Campaign review (02 关键举措与成果): results, uplift, after-effect and the timeline.

Attribution rules (the same for every function here):

* A campaign's **window** is its ``start`` to its ``end`` day, both inclusive, i.e. timestamps
  ``start <= ts < end + 1 day``. A campaign belongs to a review period when its window overlaps
  the period; its results cover its whole window (not only the part inside the period) **up to the
  period's last day** (the as-of day): nothing after it is read, so a campaign still running then is
  reported to date (``running``), with the cost of the days read (:func:`cost_cents`).
* A campaign's **cost** (``campaigns.cost``) is its own cost over its whole window — by the data
  contract, costs *outside* paid-channel media spend (prizes, coupons, gifts, event and production
  costs) unless ``campaigns.cost_in_channel_spend`` says the team books them inside
  ``channel_spend`` (:func:`spend_reconciliation`). It is spread evenly over the window's days, to
  the cent, wherever a part of it is needed (a period, the days to date).
* An **order** is attributed to a campaign when ``orders.campaign_id`` equals the campaign's id
  and the order's ``ts`` lies in the window. Only paid orders (:mod:`opsnb.metrics.orders`) count
  for orders, GMV and buyers; refund rows are never netted in. An order carries one campaign id,
  so overlapping campaigns never share an order.
* A **participant** is a distinct user with a touchpoint carrying the campaign id in the window,
  or with an order (any status) carrying the campaign id in the window. A user may take part in
  several overlapping campaigns and then counts in each.
* **New users acquired** are participants whose ``users.signup_at`` lies in the window.
* **Reach** is ``campaigns.reach`` when given, else the distinct users with a touchpoint of the
  campaign in the window (``reach_source`` says which).

Undefined ratios (zero cost, zero new users, no participants, no target) are ``None`` with a
reason code in the matching ``*_reason`` column, never ``inf`` or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.orders import paid_orders
from opsnb.pack import Pack
from opsnb.pack.expr import money_sum
from opsnb.periods import Period

#: Reason codes for undefined numbers; the view translates them (``campaigns.reason.<code>``).
REASONS = ("zero_cost", "no_new_users", "no_participants", "no_target", "no_baseline", "before_data",
           "no_users_table", "no_comparison", "no_events_table", "zero_views", "no_traffic", "no_variation",
           "control", "no_due_members", "no_earners", "no_active_users", "running", "not_observed")


def ratio(num: float | int | None, den: float | int | None, reason: str) -> tuple[float | None, str | None]:
    """``num ÷ den`` or ``(None, reason)`` when the denominator is 0 or missing."""
    if num is None or den is None or pd.isna(num) or pd.isna(den) or den == 0:
        return None, reason
    return float(num) / float(den), None


def ts(d: date) -> datetime:
    """Midnight of local day ``d`` (a literal comparable with pack timestamps)."""
    return datetime(d.year, d.month, d.day)


def _nonempty(t: ibis.Table, table: str, reason: str) -> None:
    if int(t.count().execute()) == 0:
        raise NoData(table, reason)


def period_campaigns(pack: Pack, period: Period) -> ibis.Table:
    """Campaigns whose inclusive window overlaps ``period``, with ``win_end`` = end + 1 day (exclusive) and
    ``obs_end`` = the earlier of ``win_end`` and the period's end: what may be read as of the period's last day.

    Raises :class:`NoData` when the table is absent, empty or has no campaign in the period.
    """
    c = pack.table("campaigns")
    _nonempty(c, "campaigns", "the campaigns table is empty")
    c = c.filter((c.start < ts(period.end)) & (c.end >= ts(period.start)))
    _nonempty(c, "campaigns", f"no campaign runs in {period.label}")
    c = c.mutate(win_end=c.end + ibis.interval(days=1))
    return c.mutate(obs_end=ibis.least(c.win_end, ibis.literal(ts(period.end))))


def cost_cents(cost: float, start: date, end: date, lo: date, hi: date) -> int:
    """The cents of ``cost`` that fall on the days ``[lo, hi)`` of a campaign running ``start``..``end`` (inclusive).

    The cost is spread evenly over the campaign's days, in whole cents: C cents over n days is
    ``C // n`` a day and one cent more on each of the first ``C % n`` days. So the parts of any split
    of the days (months, the period and the rest, the days to date) add up to the cost exactly.

    >>> cost_cents(100.0, date(2026, 9, 29), date(2026, 10, 1), date(2026, 10, 1), date(2026, 11, 1))
    3333
    """
    cents = round(float(cost) * 100)
    n = (end - start).days + 1
    if n <= 0:
        raise ValueError(f"a campaign ends before it starts: {start} .. {end}")
    q, r = divmod(cents, n)
    a, b = max(0, (lo - start).days), min(n, (hi - start).days)
    if b <= a:
        return 0
    return q * (b - a) + max(0, min(b, r) - a)


def _opt(t: ibis.Table, name: str, typ: str) -> ibis.Value:
    return t[name] if name in t.columns else ibis.null(typ)


def participants(pack: Pack, camps: ibis.Table) -> ibis.Table:
    """Distinct ``(campaign_id, user_id)`` pairs: touchpoints or orders carrying the id in the window (to ``obs_end``)."""
    parts = []
    if pack.has("touchpoints") and "campaign_id" in pack.table("touchpoints").columns:
        tp = pack.table("touchpoints")
        j = tp.join(camps, [tp.campaign_id == camps.campaign_id, tp.ts >= camps.start, tp.ts < camps.obs_end])
        parts.append(j.select(campaign_id=camps.campaign_id, user_id=tp.user_id))
    o = pack.table("orders")
    if "campaign_id" in o.columns:
        j = o.join(camps, [o.campaign_id == camps.campaign_id, o.ts >= camps.start, o.ts < camps.obs_end])
        parts.append(j.select(campaign_id=camps.campaign_id, user_id=o.user_id))
    if not parts:
        raise NoData("orders", "neither orders nor touchpoints carry a campaign_id")
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p, distinct=True)
    return u.filter(u.user_id.notnull()).distinct()


def campaign_results(pack: Pack, period: Period, *, roi_threshold: float = 1.0) -> pd.DataFrame:
    """One row per campaign overlapping ``period``: reach, participants, new users, orders, GMV, cost, ROI, CAC.

    Attribution follows the module docstring. Columns: ``campaign_id, name, type, channel, owner,
    start, end, days, days_read, running, reach, reach_source, participants, new_users, buyers, orders,
    gmv, cost, cost_total, roi, roi_reason, cac, cac_reason, conversion, conversion_reason,
    target_new_users, new_users_attainment, new_users_attainment_reason, target_gmv, gmv_attainment,
    gmv_attainment_reason, roi_rank, low_roi``. ``days_read`` are the window's days up to the period's
    last day; ``running`` campaigns go on after it: their ``cost`` is the part of ``cost_total`` on
    the days read (ROI compares like days) and their targets are not judged yet (reason ``running``).
    ``conversion`` is buyers ÷ participants. Rows are ranked by ROI (highest first, rank 1); campaigns
    whose ROI is undefined get no rank and come last. ``low_roi`` is ROI < ``roi_threshold``.

    Raises
    ------
    NoData
        No campaigns table, no campaign in the period, or no orders table.
    """
    camps = period_campaigns(pack, period)
    o = pack.table("orders")
    if "campaign_id" not in o.columns:
        raise NoData("orders", "orders have no campaign_id column, so GMV cannot be attributed to campaigns")
    cols = camps.select(
        "campaign_id", "name", "type", "start", "end", "cost", "obs_end",
        channel=_opt(camps, "channel", "string"), owner=_opt(camps, "owner", "string"),
        reach_given=_opt(camps, "reach", "int64"), target_new_users=_opt(camps, "target_new_users", "int64"),
        target_gmv=_opt(camps, "target_gmv", "float64"),
    ).execute()

    po = paid_orders(pack)
    j = po.join(camps, [po.campaign_id == camps.campaign_id, po.ts >= camps.start, po.ts < camps.obs_end])
    sales = j.group_by(campaign_id=camps.campaign_id).aggregate(
        orders=po.order_id.nunique(), gmv=money_sum(po.amount), buyers=po.user_id.nunique()).execute()

    pp = participants(pack, camps)
    if pack.has("users"):
        us = pack.table("users")
        pj = pp.join(camps, pp.campaign_id == camps.campaign_id).left_join(us, pp.user_id == us.user_id)
        is_new = (us.signup_at >= camps.start) & (us.signup_at < camps.obs_end)
        people = pj.group_by(campaign_id=pp.campaign_id).aggregate(
            participants=pp.user_id.nunique(), new_users=pp.user_id.nunique(where=is_new)).execute()
    else:
        people = pp.group_by("campaign_id").aggregate(participants=pp.user_id.nunique()).execute()
        people["new_users"] = pd.NA

    touched = None
    if pack.has("touchpoints") and "campaign_id" in pack.table("touchpoints").columns:
        tp = pack.table("touchpoints")
        tj = tp.join(camps, [tp.campaign_id == camps.campaign_id, tp.ts >= camps.start, tp.ts < camps.obs_end])
        touched = tj.group_by(campaign_id=camps.campaign_id).aggregate(touched=tp.user_id.nunique()).execute()

    df = cols.merge(sales, on="campaign_id", how="left").merge(people, on="campaign_id", how="left")
    df = df.merge(touched, on="campaign_id", how="left") if touched is not None else df.assign(touched=pd.NA)
    for c in ("orders", "buyers", "participants"):
        df[c] = df[c].fillna(0).astype("int64")
    df["gmv"] = df["gmv"].fillna(0.0).astype("float64")
    if pack.has("users"):
        df["new_users"] = df["new_users"].fillna(0).astype("int64")
    df["start"] = pd.to_datetime(df["start"]).dt.date
    df["end"] = pd.to_datetime(df["end"]).dt.date
    obs_end = pd.to_datetime(df.pop("obs_end")).dt.date
    df["days"] = [(e - s).days + 1 for s, e in zip(df["start"], df["end"], strict=True)]
    df["days_read"] = [(o - s).days for s, o in zip(df["start"], obs_end, strict=True)]
    df["running"] = df["days_read"] < df["days"]
    df["cost_total"] = df["cost"].astype("float64")
    df["cost"] = [cost_cents(c, s, e, s, o) / 100 if run else c for c, s, e, o, run
                  in zip(df["cost_total"], df["start"], df["end"], obs_end, df["running"], strict=True)]

    rows: list[dict[str, Any]] = []
    for r in df.to_dict("records"):
        given = r.pop("reach_given")
        touched_n = r.pop("touched")
        if given is not None and not pd.isna(given):
            r["reach"], r["reach_source"] = int(given), "table"
        elif touched_n is not None and not pd.isna(touched_n):
            r["reach"], r["reach_source"] = int(touched_n), "touchpoints"
        else:
            r["reach"], r["reach_source"] = None, None
        r["roi"], r["roi_reason"] = ratio(r["gmv"], r["cost"], "zero_cost")
        nu = None if pd.isna(r["new_users"]) else r["new_users"]
        r["new_users"] = nu
        r["cac"], r["cac_reason"] = ratio(r["cost"], nu, "no_new_users" if nu is not None else "no_users_table")
        r["conversion"], r["conversion_reason"] = ratio(r["buyers"], r["participants"], "no_participants")
        tnu = None if pd.isna(r["target_new_users"]) else int(r["target_new_users"])
        tg = None if pd.isna(r["target_gmv"]) else float(r["target_gmv"])
        r["target_new_users"], r["target_gmv"] = tnu, tg
        r["new_users_attainment"], r["new_users_attainment_reason"] = (
            ratio(nu, tnu, "no_target") if nu is not None else (None, "no_users_table"))
        r["gmv_attainment"], r["gmv_attainment_reason"] = ratio(r["gmv"], tg, "no_target")
        if r["running"]:  # a whole window's target is judged when the window is over
            for k in ("new_users_attainment", "gmv_attainment"):
                if r[f"{k}_reason"] is None:
                    r[k], r[f"{k}_reason"] = None, "running"
        r["low_roi"] = r["roi"] is not None and r["roi"] < roi_threshold
        rows.append(r)
    out = pd.DataFrame(rows)
    ranked = out["roi"].notna()
    out["_key"] = out["roi"].where(ranked, float("-inf"))
    out = out.sort_values(["_key", "gmv", "campaign_id"], ascending=[False, False, True], kind="stable")
    out = out.drop(columns="_key").reset_index(drop=True)
    out["roi_rank"] = pd.array([i + 1 if ok else None for i, ok in enumerate(out["roi"].notna())], dtype="Int64")
    order = ["campaign_id", "name", "type", "channel", "owner", "start", "end", "days", "days_read", "running",
             "reach", "reach_source", "participants", "new_users", "buyers", "orders", "gmv", "cost", "cost_total",
             "roi", "roi_reason",
             "cac", "cac_reason", "conversion", "conversion_reason", "target_new_users", "new_users_attainment",
             "new_users_attainment_reason", "target_gmv", "gmv_attainment", "gmv_attainment_reason",
             "roi_rank", "low_roi"]
    out = out[order]
    for c in ("channel", "owner"):
        out[c] = out[c].astype("string")
    for c in ("reach", "new_users", "target_new_users"):
        out[c] = out[c].astype("Int64")
    for c in ("roi", "cac", "conversion", "new_users_attainment", "target_gmv", "gmv_attainment"):
        out[c] = nullable_float(out[c])
    return out


# ---------------------------------------------------------------- spend


@dataclass(frozen=True)
class SpendReconciliation:
    """What the period's marketing cost is made of, in whole cents (so every total adds up exactly).

    ``campaigns``: one row per campaign overlapping the period — ``campaign_id, name, start, end, days,
    cost`` (whole window), ``days_in`` (its days inside the period) and ``cost_in_cents`` (the part of
    its cost on those days, :func:`cost_cents`). ``channels``: ``channel, cost_cents`` — the period's
    ``channel_spend`` per channel (None without the table). ``inside``: campaign costs are booked inside
    channel spend (``campaigns.cost_in_channel_spend``); otherwise they come on top of it.
    """

    campaigns: pd.DataFrame = field(repr=False)
    channels: pd.DataFrame | None = field(repr=False)
    inside: bool

    @property
    def campaign_cents(self) -> int:
        """The campaigns' costs on the period's days."""
        return int(self.campaigns["cost_in_cents"].sum())

    @property
    def channel_cents(self) -> int | None:
        """The period's channel spend (None without a channel_spend table)."""
        return None if self.channels is None else int(self.channels["cost_cents"].sum())

    @property
    def total_cents(self) -> int | None:
        """The period's marketing cost: channel spend, plus the campaigns' costs when they are outside it."""
        if self.channel_cents is None:
            return None
        return self.channel_cents if self.inside else self.channel_cents + self.campaign_cents

    @property
    def other_cents(self) -> int | None:
        """Inside: the channel spend that is not a campaign's (negative when the data contradict the setting)."""
        if self.channel_cents is None or not self.inside:
            return None
        return self.channel_cents - self.campaign_cents


def spend_reconciliation(pack: Pack, period: Period, *, inside: bool = False) -> SpendReconciliation:
    """The period's campaign costs beside its channel spend, reconciled to the cent.

    By the data contract ``campaigns.cost`` is a campaign's own cost over its whole window — outside
    paid-channel media spend (prizes, coupons, gifts, event and production costs) unless ``inside``
    (the team books campaign media in ``channel_spend``, and the campaign cost is part of it).
    ``channel_spend.cost`` is paid media spend per channel and day. A campaign's cost counts in a
    period by its days in the period (:func:`cost_cents`).

    Raises
    ------
    NoData
        No campaigns table or no campaign in the period.
    """
    camps = period_campaigns(pack, period)
    cs = camps.select("campaign_id", "name", "start", "end", "cost").order_by("start", "campaign_id").execute()
    cs["start"] = pd.to_datetime(cs["start"]).dt.date
    cs["end"] = pd.to_datetime(cs["end"]).dt.date
    cs["cost"] = cs["cost"].astype("float64")
    cs["days"] = [(e - s).days + 1 for s, e in zip(cs["start"], cs["end"], strict=True)]
    lo, hi = period.start, period.end
    cs["days_in"] = [max(0, (min(e + timedelta(days=1), hi) - max(s, lo)).days)
                     for s, e in zip(cs["start"], cs["end"], strict=True)]
    cs["cost_in_cents"] = pd.array([cost_cents(c, s, e, lo, hi) for c, s, e
                                    in zip(cs["cost"], cs["start"], cs["end"], strict=True)], dtype="int64")
    channels = None
    if pack.has("channel_spend"):
        sp = pack.table("channel_spend")
        sp = sp.filter((sp.date >= ts(period.start)) & (sp.date < ts(period.end)))
        by = sp.group_by("channel").aggregate(cost=money_sum(sp.cost)).order_by("channel").execute()
        channels = pd.DataFrame({"channel": by["channel"].astype("string"),
                                 "cost_cents": pd.array([round(float(c) * 100) for c in by["cost"]], dtype="int64")})
    return SpendReconciliation(campaigns=cs, channels=channels, inside=inside)


def nullable_float(s: pd.Series) -> pd.Series:
    """A float column whose undefined cells are ``pd.NA`` (never NaN shown as a number)."""
    return pd.Series(pd.array([None if v is None or pd.isna(v) else float(v) for v in s], dtype="Float64"),
                     index=s.index, name=s.name)


# ---------------------------------------------------------------- daily series


def daily_sales(pack: Pack, start: date, end: date) -> pd.DataFrame:
    """Paid GMV and paid orders per local day over ``[start, end)``, every day present (0 where no order)."""
    po = paid_orders(pack)
    po = po.filter((po.ts >= ts(start)) & (po.ts < ts(end)))
    d = po.group_by(day=po.ts.date()).aggregate(gmv=money_sum(po.amount), orders=po.order_id.nunique()).execute()
    idx = pd.date_range(start, end - timedelta(days=1), freq="D").date
    out = pd.DataFrame({"gmv": d["gmv"].to_numpy(dtype="float64"), "orders": d["orders"].to_numpy(dtype="int64")},
                       index=pd.to_datetime(d["day"]).dt.date)
    return out.reindex(idx, fill_value=0).astype({"gmv": "float64", "orders": "int64"})


def daily_gmv(pack: Pack, start: date, end: date) -> pd.Series:
    """Paid GMV per local day over ``[start, end)``, every day present (0 where no order)."""
    return daily_sales(pack, start, end)["gmv"].rename("gmv")


def daily_signups(pack: Pack, start: date, end: date) -> pd.Series:
    """New users (signup_at) per local day over ``[start, end)``, every day present."""
    u = pack.table("users")
    u = u.filter((u.signup_at >= ts(start)) & (u.signup_at < ts(end)))
    d = u.group_by(day=u.signup_at.date()).aggregate(n=u.user_id.nunique()).execute()
    idx = pd.date_range(start, end - timedelta(days=1), freq="D").date
    s = pd.Series(d["n"].to_numpy(dtype="int64"), index=pd.to_datetime(d["day"]).dt.date, dtype="int64")
    return s.reindex(idx, fill_value=0).rename("new_users")


# ---------------------------------------------------------------- uplift


def _same_day_last_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def uplift(pack: Pack, period: Period, *, region: str | None = "CN") -> pd.DataFrame:
    """Site-wide GMV, orders and new users during each campaign against the same-length window just before it,
    and last year.

    GMV here is **all** paid GMV of the business on those days (not only attributed orders) and new
    users are all signups, since uplift asks what the campaign added to the whole. The window is the
    campaign's days up to the period's last day (``days``; ``running`` when the campaign goes on after
    it); the baseline is the ``days`` days immediately before ``start``; the last-year window is the
    same calendar days one year earlier. A window that starts before the pack's first day of data has
    no value (``*_reason = "before_data"``). ``orders``/``orders_baseline`` and
    ``new_users``/``new_users_baseline`` are the counts a verdict rests on (the view tests them).
    Caveats: ``baseline_overlaps`` lists other campaigns (ids) running on any baseline day;
    ``baseline_holidays`` lists the public holidays of the unit's calendar ``region`` (``settings.region``:
    CN, GB …; None: none) in the baseline, days off in lieu included
    (:func:`opsnb.metrics.calendar.holiday_dates`); ``caveat`` is True when either is non-empty.

    Raises
    ------
    NoData
        No campaign in the period, or no orders table.
    """
    from opsnb.metrics.calendar import holiday_dates

    camps = period_campaigns(pack, period)
    pack.table("orders")
    allc = pack.table("campaigns").select("campaign_id", "start", "end").execute()
    allc["start"] = pd.to_datetime(allc["start"]).dt.date
    allc["end"] = pd.to_datetime(allc["end"]).dt.date
    cs = camps.select("campaign_id", "name", "start", "end", "obs_end").execute()
    for c in ("start", "end", "obs_end"):
        cs[c] = pd.to_datetime(cs[c]).dt.date
    first, _ = pack.day_range()
    spans = []
    for s, o in zip(cs["start"], cs["obs_end"], strict=True):
        n = (o - s).days
        spans += [s - timedelta(days=n), o, _same_day_last_year(s)]
    lo, hi = min(spans), max(spans)
    sales = daily_sales(pack, lo, hi)
    signups = daily_signups(pack, lo, hi) if pack.has("users") else None
    days_off = holiday_dates(lo, hi, region=region)

    def window(series: pd.Series | None, s: date, e: date) -> float | None:
        if series is None:
            return None
        return float(series.loc[s:e - timedelta(days=1)].sum())  # type: ignore[misc]

    rows = []
    for r in cs.to_dict("records"):
        s, e, we = r["start"], r["end"], r["obs_end"]
        n = (we - s).days
        bs = s - timedelta(days=n)
        ls, le = _same_day_last_year(s), _same_day_last_year(s) + timedelta(days=n)
        has_base = first is not None and first <= bs
        has_ly = first is not None and first <= ls
        out: dict[str, Any] = {"campaign_id": r["campaign_id"], "name": r["name"], "start": s, "end": e, "days": n,
                               "running": we <= e, "baseline_start": bs, "baseline_end": s - timedelta(days=1)}
        for key, series in (("gmv", sales["gmv"]), ("new_users", signups)):
            cur = window(series, s, we)
            base = window(series, bs, s) if has_base else None
            ly = window(series, ls, le) if has_ly else None
            missing = "no_users_table" if series is None else None
            out[key] = cur
            out[f"{key}_baseline"] = base
            out[f"{key}_uplift"], out[f"{key}_uplift_reason"] = (
                ratio(cur - base, base, "no_baseline") if cur is not None and base is not None
                else (None, missing or "before_data"))
            out[f"{key}_ly"] = ly
            out[f"{key}_yoy"], out[f"{key}_yoy_reason"] = (
                ratio(cur - ly, ly, "no_baseline") if cur is not None and ly is not None
                else (None, missing or "before_data"))
        out["orders"] = int(window(sales["orders"], s, we) or 0)
        out["orders_baseline"] = int(window(sales["orders"], bs, s) or 0) if has_base else None
        others = allc[(allc["campaign_id"] != r["campaign_id"]) & (allc["start"] < s) & (allc["end"] >= bs)]
        out["baseline_overlaps"] = sorted(others["campaign_id"].astype(str))
        days = [bs + timedelta(days=i) for i in range(n)]
        out["baseline_holidays"] = [d for d in days if d in days_off]
        out["caveat"] = bool(out["baseline_overlaps"] or out["baseline_holidays"])
        rows.append(out)
    df = pd.DataFrame(rows)
    for key in ("gmv", "new_users"):
        for suffix in ("", "_baseline", "_uplift", "_ly", "_yoy"):
            df[key + suffix] = nullable_float(df[key + suffix])
    df["orders_baseline"] = df["orders_baseline"].astype("Int64")
    return df


def shift(during: int, before: int, *, min_base: int, confidence: float = 0.95) -> str:
    """Whether a count moved between two windows of equal length: ``up``, ``down``, ``flat`` or ``small``.

    ``small`` when the earlier window holds fewer than ``min_base`` (no verdict on a small base).
    Otherwise, if nothing changed, each of the ``during + before`` events fell in either window with
    probability ½: the count moved when the Wilson interval of ``during ÷ (during + before)`` excludes ½
    (the conditional test of two Poisson counts).

    >>> shift(60, 40, min_base=30), shift(52, 48, min_base=30), shift(9, 3, min_base=30)
    ('up', 'flat', 'small')
    """
    from opsnb.metrics.rates import Rate

    if before < min_base:
        return "small"
    if not Rate(during, during + before).differs_from(0.5, confidence=confidence):
        return "flat"
    return "up" if during > before else "down"


# ---------------------------------------------------------------- after-effect


def _standardised(p: pd.DataFrame, c: pd.DataFrame, col: str) -> tuple[float, float] | None:
    """The comparison group's rate of ``col`` weighted to the participants' cohort mix, and its effective size.

    ``p``/``c``: per-cohort counts (index cohort; columns n and ``col``). The rate is Σ wₖ·pₖ with wₖ the
    participants' share in cohort k; its effective size is R(1−R) ÷ Σ wₖ²·pₖ(1−pₖ)/nₖ (Kish), the size of
    a simple sample as precise, so an interval on it (Newcombe) is honest about the weighting.
    """
    shared = p.index.intersection(c.index[c["n"] > 0])
    if not len(shared):
        return None
    w = p.loc[shared, "n"] / p.loc[shared, "n"].sum()
    rates = c.loc[shared, col] / c.loc[shared, "n"]
    rate = float((w * rates).sum())
    var = float((w * w * rates * (1 - rates) / c.loc[shared, "n"]).sum())
    n_eff = rate * (1 - rate) / var if var > 0 else float(c.loc[shared, "n"].sum())
    return rate, n_eff


def after_effect(pack: Pack, period: Period, days: int = 30, *, confidence: float = 0.95) -> pd.DataFrame:
    """Participants' purchase and activity in the ``days`` days after each campaign vs comparable users.

    For each campaign overlapping ``period`` the follow-up window is ``[end + 1 day, end + 1 + days)``,
    cut at the period's end (or the data's, when earlier): nothing after the as-of day is read (``observed_days`` of ``days``;
    ``complete`` when all were observed; none observed: the rates are n/a, reason ``not_observed``).

    * participants: the campaign's participants (module docstring) found in ``users``;
    * comparison (``comparison_basis``): with an events table, ``active`` — users active on a day of the
      campaign's window who took part in **no** campaign of the period (participants are active users by
      definition: comparing them with dormant ones would credit the campaign with being active);
      without events, ``cohort`` — every such non-participant who signed up before the follow-up;
      either way in a signup month that also holds participants;
    * ``repurchase_*``: share of the group with at least one paid order in the follow-up window;
    * ``retention_*``: share of the group with any event in the follow-up window;
    * the comparison rates are cohort-standardised: each signup month's rate weighted by the
      participants' share in that month, so a difference is not just a different cohort mix.

    Differences (``*_diff``) are participant minus comparison, in fraction points, with Newcombe's
    interval at ``confidence`` (``*_ci_low``, ``*_ci_high``; the comparison enters with its effective
    size after weighting, :func:`_standardised`). ``repurchase_buyers`` / ``retention_active`` count the
    participants behind the rates.

    Raises
    ------
    NoData
        No campaign in the period, or no users or orders table.
    """
    from opsnb.metrics.rates import newcombe

    camps = period_campaigns(pack, period)
    us = pack.table("users")
    po = paid_orders(pack)
    pp = participants(pack, camps)
    _, last = pack.day_range()
    as_of = ibis.literal(ts(min(period.end, last + timedelta(days=1)) if last is not None else period.end))
    fc = camps.select("campaign_id", "name", "end", w0=camps.start, w1=camps.obs_end, f0=camps.win_end,
                      f1=ibis.least(camps.win_end + ibis.interval(days=days), as_of))
    ucoh = us.select("user_id", "signup_at", cohort=us.signup_at.truncate("M"))
    part = pp.join(ucoh, "user_id").join(fc, "campaign_id").select("campaign_id", "user_id", "cohort")
    cohorts = part.select("campaign_id", "cohort").distinct()
    nonp = ucoh.anti_join(pp.select("user_id").distinct(), "user_id")
    has_events = pack.has("events")
    # who was active on which day is all this needs: user_days (one row per user and day, 3.6× fewer rows
    # than events) gives the same answer, as the windows run from midnight to midnight
    user_days = pack.derived("user_days").select("user_id", "ts") if has_events else None

    def in_span(t: ir.Table, lo: str, hi: str) -> ir.Table:
        """(campaign_id, user_id) of the users with a row of ``t`` (user_id, ts) in ``[fc[lo], fc[hi])``."""
        j = t.join(fc, [t.ts >= fc[lo], t.ts < fc[hi]])
        return j.select(j.campaign_id, j.user_id).distinct()

    bought = in_span(po.select("user_id", "ts"), "f0", "f1")
    active = in_span(user_days, "f0", "f1") if user_days is not None else None
    # The comparison pool is built per campaign from the users active in its window (bounded by them), or
    # from the cohorts' non-participants; each count is an aggregate of its own, so memory stays bounded
    # by the groups, not by users × campaigns (#20: scale 30 within a DuckDB memory cap).
    if user_days is not None:
        during = in_span(user_days, "w0", "w1")
        pool = during.join(nonp, "user_id").select("campaign_id", "user_id", "cohort")
        pool = pool.join(cohorts, ["campaign_id", "cohort"]).select("campaign_id", "user_id", "cohort")
    else:
        window = cohorts.join(fc, "campaign_id").select("campaign_id", "cohort", "f0")
        j = nonp.join(window, "cohort")
        pool = j.filter(j.signup_at < j.f0).select("campaign_id", "user_id", "cohort")

    def flagged(t: ir.Table, who: ir.Table | None, name: str) -> ir.Table:
        if who is None:
            return t.mutate(**{name: ibis.literal(0)})
        hit = who.mutate(**{f"_{name}": ibis.literal(1)})
        j = t.left_join(hit, ["campaign_id", "user_id"])
        return j.select(t, **{name: j[f"_{name}"].fill_null(0)})

    def counts(t: ir.Table, grp: str) -> pd.DataFrame:
        t = flagged(flagged(t, bought, "b"), active, "a")
        agg = t.group_by("campaign_id", "cohort").aggregate(n=t.user_id.count(), buyers=t.b.sum(), active=t.a.sum())
        return agg.mutate(grp=ibis.literal(grp)).execute()

    agg = pd.concat([counts(part, "p"), counts(pool, "c")], ignore_index=True)
    info = fc.execute()
    rows = []
    for r in info.sort_values("campaign_id").to_dict("records"):
        a = agg[agg["campaign_id"] == r["campaign_id"]]
        p = a[a["grp"] == "p"].set_index("cohort")
        c = a[a["grp"] == "c"].set_index("cohort")
        n_p = int(p["n"].sum())
        f0, f1 = pd.Timestamp(r["f0"]).date(), pd.Timestamp(r["f1"]).date()
        observed = max(0, (f1 - f0).days)
        out: dict[str, Any] = {
            "campaign_id": r["campaign_id"], "name": r["name"], "follow_start": f0,
            "follow_end": f0 + timedelta(days=observed - 1) if observed else None, "days": days,
            "observed_days": observed, "complete": observed == days, "participants": n_p,
            "comparison": int(c["n"].sum()), "comparison_basis": "active" if has_events else "cohort"}
        for key, col in (("repurchase", "buyers"), ("retention", "active")):
            x_p = int(p[col].sum())
            out[f"{key}_{col}"] = x_p
            pr, preason = ratio(x_p, n_p, "no_participants")
            std = _standardised(p, c, col)
            cr, creason = (std[0], None) if std is not None else (None, "no_comparison")
            if key == "retention" and not has_events:
                pr, preason, cr, creason = None, "no_events_table", None, "no_events_table"
            if not observed:
                pr, preason, cr, creason = None, "not_observed", None, "not_observed"
            out[f"{key}_participants"], out[f"{key}_participants_reason"] = pr, preason
            out[f"{key}_comparison"], out[f"{key}_comparison_reason"] = cr, creason
            out[f"{key}_diff"] = pr - cr if pr is not None and cr is not None else None
            ci = None
            if out[f"{key}_diff"] is not None and std is not None:
                n_eff = max(1, round(std[1]))
                ci = newcombe(x_p, n_p, min(n_eff, max(0, round(std[0] * n_eff))), n_eff, confidence=confidence)
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = ci if ci is not None else (None, None)
            out[f"{key}_comparison_size"] = None if std is None else float(std[1])
        rows.append(out)
    df = pd.DataFrame(rows)
    for key in ("repurchase", "retention"):
        for suffix in ("_participants", "_comparison", "_diff", "_ci_low", "_ci_high", "_comparison_size"):
            df[key + suffix] = nullable_float(df[key + suffix])
    return df


# ---------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Timeline:
    """Daily GMV over the period and the campaigns running in it (for the calendar chart)."""

    daily: pd.Series
    campaigns: pd.DataFrame = field(repr=False)


def timeline(pack: Pack, period: Period) -> Timeline:
    """Daily paid GMV over ``period`` and each overlapping campaign's ``name, start, end, cost``."""
    camps = period_campaigns(pack, period)
    cs = camps.select("campaign_id", "name", "type", "start", "end", "cost").order_by("start", "campaign_id").execute()
    cs["start"] = pd.to_datetime(cs["start"]).dt.date
    cs["end"] = pd.to_datetime(cs["end"]).dt.date
    daily = daily_gmv(pack, period.start, period.end) if pack.has("orders") else pd.Series(dtype="float64")
    return Timeline(daily=daily, campaigns=cs)
