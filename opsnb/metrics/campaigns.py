"""Campaign review (02 关键举措与成果): results, uplift, after-effect and the timeline.

Attribution rules (the same for every function here):

* A campaign's **window** is its ``start`` to its ``end`` day, both inclusive, i.e. timestamps
  ``start <= ts < end + 1 day``. A campaign belongs to a review period when its window overlaps
  the period; its results cover its whole window (not only the part inside the period).
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
           "control", "no_due_members", "no_earners", "no_active_users")


def ratio(num: float | int | None, den: float | int | None, reason: str) -> tuple[float | None, str | None]:
    """``num ÷ den`` or ``(None, reason)`` when the denominator is 0 or missing."""
    if num is None or den is None or pd.isna(num) or pd.isna(den) or den == 0:
        return None, reason
    return float(num) / float(den), None


def roi_text(roi: float | None) -> str | None:
    """ROI in the written-review form ``1:8.3`` (None when undefined)."""
    return None if roi is None or pd.isna(roi) else f"1:{roi:.1f}"


def ts(d: date) -> datetime:
    """Midnight of local day ``d`` (a literal comparable with pack timestamps)."""
    return datetime(d.year, d.month, d.day)


def _nonempty(t: ibis.Table, table: str, reason: str) -> None:
    if int(t.count().execute()) == 0:
        raise NoData(table, reason)


def period_campaigns(pack: Pack, period: Period) -> ibis.Table:
    """Campaigns whose inclusive window overlaps ``period`` (with ``win_end`` = end + 1 day, exclusive).

    Raises :class:`NoData` when the table is absent, empty or has no campaign in the period.
    """
    c = pack.table("campaigns")
    _nonempty(c, "campaigns", "the campaigns table is empty")
    c = c.filter((c.start < ts(period.end)) & (c.end >= ts(period.start)))
    _nonempty(c, "campaigns", f"no campaign runs in {period.label}")
    return c.mutate(win_end=c.end + ibis.interval(days=1))


def _opt(t: ibis.Table, name: str, typ: str) -> ibis.Value:
    return t[name] if name in t.columns else ibis.null(typ)


def participants(pack: Pack, camps: ibis.Table) -> ibis.Table:
    """Distinct ``(campaign_id, user_id)`` pairs: touchpoints or orders carrying the id in the window."""
    parts = []
    if pack.has("touchpoints") and "campaign_id" in pack.table("touchpoints").columns:
        tp = pack.table("touchpoints")
        j = tp.join(camps, [tp.campaign_id == camps.campaign_id, tp.ts >= camps.start, tp.ts < camps.win_end])
        parts.append(j.select(campaign_id=camps.campaign_id, user_id=tp.user_id))
    o = pack.table("orders")
    if "campaign_id" in o.columns:
        j = o.join(camps, [o.campaign_id == camps.campaign_id, o.ts >= camps.start, o.ts < camps.win_end])
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
    start, end, days, reach, reach_source, participants, new_users, buyers, orders, gmv, cost, roi,
    roi_text, roi_reason, cac, cac_reason, conversion, conversion_reason, target_new_users,
    new_users_attainment, new_users_attainment_reason, target_gmv, gmv_attainment,
    gmv_attainment_reason, roi_rank, low_roi``. Rows are ranked by ROI (highest first, rank 1);
    campaigns whose ROI is undefined get no rank and come last. ``low_roi`` is ROI < ``roi_threshold``.

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
        "campaign_id", "name", "type", "start", "end", "cost",
        channel=_opt(camps, "channel", "string"), owner=_opt(camps, "owner", "string"),
        reach_given=_opt(camps, "reach", "int64"), target_new_users=_opt(camps, "target_new_users", "int64"),
        target_gmv=_opt(camps, "target_gmv", "float64"),
    ).execute()

    po = paid_orders(pack)
    j = po.join(camps, [po.campaign_id == camps.campaign_id, po.ts >= camps.start, po.ts < camps.win_end])
    sales = j.group_by(campaign_id=camps.campaign_id).aggregate(
        orders=po.order_id.nunique(), gmv=money_sum(po.amount), buyers=po.user_id.nunique()).execute()

    pp = participants(pack, camps)
    if pack.has("users"):
        us = pack.table("users")
        pj = pp.join(camps, pp.campaign_id == camps.campaign_id).left_join(us, pp.user_id == us.user_id)
        is_new = (us.signup_at >= camps.start) & (us.signup_at < camps.win_end)
        people = pj.group_by(campaign_id=pp.campaign_id).aggregate(
            participants=pp.user_id.nunique(), new_users=pp.user_id.nunique(where=is_new)).execute()
    else:
        people = pp.group_by("campaign_id").aggregate(participants=pp.user_id.nunique()).execute()
        people["new_users"] = pd.NA

    touched = None
    if pack.has("touchpoints") and "campaign_id" in pack.table("touchpoints").columns:
        tp = pack.table("touchpoints")
        tj = tp.join(camps, [tp.campaign_id == camps.campaign_id, tp.ts >= camps.start, tp.ts < camps.win_end])
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
    df["days"] = [(e - s).days + 1 for s, e in zip(df["start"], df["end"], strict=True)]

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
        r["roi_text"] = roi_text(r["roi"])
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
        r["low_roi"] = r["roi"] is not None and r["roi"] < roi_threshold
        rows.append(r)
    out = pd.DataFrame(rows)
    ranked = out["roi"].notna()
    out["_key"] = out["roi"].where(ranked, float("-inf"))
    out = out.sort_values(["_key", "gmv", "campaign_id"], ascending=[False, False, True], kind="stable")
    out = out.drop(columns="_key").reset_index(drop=True)
    out["roi_rank"] = pd.array([i + 1 if ok else None for i, ok in enumerate(out["roi"].notna())], dtype="Int64")
    order = ["campaign_id", "name", "type", "channel", "owner", "start", "end", "days", "reach", "reach_source",
             "participants", "new_users", "buyers", "orders", "gmv", "cost", "roi", "roi_text", "roi_reason",
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


def nullable_float(s: pd.Series) -> pd.Series:
    """A float column whose undefined cells are ``pd.NA`` (never NaN shown as a number)."""
    return pd.Series(pd.array([None if v is None or pd.isna(v) else float(v) for v in s], dtype="Float64"),
                     index=s.index, name=s.name)


# ---------------------------------------------------------------- daily series


def daily_gmv(pack: Pack, start: date, end: date) -> pd.Series:
    """Paid GMV per local day over ``[start, end)``, every day present (0 where no order)."""
    po = paid_orders(pack)
    po = po.filter((po.ts >= ts(start)) & (po.ts < ts(end)))
    d = po.group_by(day=po.ts.date()).aggregate(gmv=money_sum(po.amount)).execute()
    idx = pd.date_range(start, end - timedelta(days=1), freq="D").date
    s = pd.Series(d["gmv"].to_numpy(dtype="float64"), index=pd.to_datetime(d["day"]).dt.date, dtype="float64")
    return s.reindex(idx, fill_value=0.0).rename("gmv")


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
    """GMV and new users during each campaign against the same-length window just before it, and last year.

    GMV here is **all** paid GMV of the business on those days (not only attributed orders) and new
    users are all signups, since uplift asks what the campaign added to the whole. The baseline is the
    ``days`` days immediately before ``start``; the last-year window is the same calendar days one
    year earlier. A window that starts before the pack's first day of data has no value
    (``*_reason = "before_data"``). Caveats: ``baseline_overlaps`` lists other campaigns (ids)
    running on any baseline day; ``baseline_holidays`` lists the public holidays of the unit's calendar
    ``region`` (``settings.region``: CN, GB …; None: none) in the baseline, days off in lieu included
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
    cs = camps.select("campaign_id", "name", "start", "end").execute()
    cs["start"] = pd.to_datetime(cs["start"]).dt.date
    cs["end"] = pd.to_datetime(cs["end"]).dt.date
    first, last = pack.day_range()
    spans = []
    for s, e in zip(cs["start"], cs["end"], strict=True):
        n = (e - s).days + 1
        spans += [s - timedelta(days=n), e + timedelta(days=1), _same_day_last_year(s)]
    lo, hi = min(spans), max(spans)
    gmv = daily_gmv(pack, lo, hi)
    signups = daily_signups(pack, lo, hi) if pack.has("users") else None
    days_off = holiday_dates(lo, hi, region=region)

    def window(series: pd.Series | None, s: date, e: date) -> float | None:
        if series is None:
            return None
        return float(series.loc[s:e - timedelta(days=1)].sum())  # type: ignore[misc]

    rows = []
    for r in cs.to_dict("records"):
        s, e = r["start"], r["end"]
        n = (e - s).days + 1
        we = e + timedelta(days=1)
        bs = s - timedelta(days=n)
        ls, le = _same_day_last_year(s), _same_day_last_year(s) + timedelta(days=n)
        has_base = first is not None and first <= bs
        has_ly = first is not None and first <= ls
        out: dict[str, Any] = {"campaign_id": r["campaign_id"], "name": r["name"], "start": s, "end": e, "days": n,
                               "baseline_start": bs, "baseline_end": s - timedelta(days=1),
                               "partial": last is None or last < e}
        for key, series in (("gmv", gmv), ("new_users", signups)):
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
    return df


# ---------------------------------------------------------------- after-effect


def after_effect(pack: Pack, period: Period, days: int = 30) -> pd.DataFrame:
    """Participants' purchase and retention in the ``days`` days after each campaign vs comparable users.

    For each campaign overlapping ``period`` the follow-up window is ``[end + 1 day, end + 1 + days)``.

    * participants: the campaign's participants (module docstring) found in ``users``;
    * comparison: users who took part in **no** campaign of the period, signed up before the
      follow-up window, in a signup month that also holds participants (same signup-month cohorts);
    * ``repurchase_*``: share of the group with at least one paid order in the follow-up window;
    * ``retention_*``: share of the group with any event in the follow-up window;
    * the comparison rates are cohort-standardised: each signup month's rate weighted by the
      participants' share in that month, so a difference is not just a different cohort mix.

    Differences (``*_diff``) are participant minus comparison, in fraction points. ``complete`` is
    False when the pack's data end before the follow-up window does.

    Raises
    ------
    NoData
        No campaign in the period, or no users or orders table.
    """
    camps = period_campaigns(pack, period)
    us = pack.table("users")
    po = paid_orders(pack)
    pp = participants(pack, camps)
    fc = camps.select("campaign_id", "name", "end", f0=camps.win_end,
                      f1=camps.win_end + ibis.interval(days=days))
    ucoh = us.select("user_id", "signup_at", cohort=us.signup_at.truncate("M"))
    part = pp.join(ucoh, "user_id").join(fc, "campaign_id").select("campaign_id", "user_id", "cohort", "f0", "f1")
    cohorts = part.select("campaign_id", "cohort").distinct()
    nonp = ucoh.anti_join(pp.select("user_id").distinct(), "user_id")
    # The comparison group (every non-participant of a participant cohort, per campaign) can be most of
    # the users times the campaigns: it is never built row by row. Each count is an aggregate of its own —
    # who bought / was active in which campaign's window first (small), then their cohort — so memory
    # stays bounded by the groups, not by users × campaigns (#20: scale 30 within a DuckDB memory cap).
    window = cohorts.join(fc, "campaign_id").select("campaign_id", "cohort", "f0")

    def comparison(who: ir.Table | None, name: str) -> ir.Table:
        """Non-participants of each campaign's cohorts (signed up before its follow-up), counted per
        (campaign, cohort): all of them, or those in ``who`` (campaign_id, user_id)."""
        base = nonp if who is None else who.join(nonp, "user_id")
        j = base.join(window, ["campaign_id", "cohort"] if who is not None else ["cohort"])
        j = j.filter(j.signup_at < j.f0)
        return j.group_by("campaign_id", "cohort").aggregate(**{name: j.user_id.count()})

    def in_window(t: ir.Table) -> ir.Table:
        """(campaign_id, user_id) of the users with a row of ``t`` (user_id, ts) in a campaign's follow-up."""
        j = t.join(fc, [t.ts >= fc.f0, t.ts < fc.f1])
        return j.select(j.campaign_id, j.user_id).distinct()

    bought = in_window(po.select("user_id", "ts"))
    has_events = pack.has("events")
    # who was active on which day is all this needs: user_days (one row per user and day, 3.6× fewer rows
    # than events) gives the same answer, as the windows run from midnight to midnight
    active = in_window(pack.derived("user_days").select("user_id", "ts")) if has_events else None

    pm = part.left_join(bought.mutate(b=ibis.literal(1)), ["campaign_id", "user_id"]).select(
        part, b=ibis._.b.fill_null(0))
    if active is not None:
        pm = pm.left_join(active.mutate(a=ibis.literal(1)), ["campaign_id", "user_id"]).select(
            pm, a=ibis._.a.fill_null(0))
    else:
        pm = pm.mutate(a=ibis.literal(0))
    p_agg = pm.group_by("campaign_id", "cohort").aggregate(n=pm.user_id.count(), buyers=pm.b.sum(),
                                                           active=pm.a.sum()).mutate(grp=ibis.literal("p"))
    c_agg = comparison(None, "n").left_join(comparison(bought, "buyers"), ["campaign_id", "cohort"])
    c_agg = c_agg.select("campaign_id", "cohort", "n", buyers=c_agg.buyers.fill_null(0))
    if active is not None:
        c_act = comparison(active, "active")
        c_agg = c_agg.left_join(c_act, ["campaign_id", "cohort"]).select(c_agg, active=c_act.active.fill_null(0))
    else:
        c_agg = c_agg.mutate(active=ibis.literal(0))
    cols = ["campaign_id", "grp", "cohort", "n", "buyers", "active"]
    agg = pd.concat([p_agg.select(*cols).execute(), c_agg.mutate(grp=ibis.literal("c")).select(*cols).execute()],
                    ignore_index=True)

    info = fc.execute()
    _, last = pack.day_range()
    rows = []
    for r in info.sort_values("campaign_id").to_dict("records"):
        a = agg[agg["campaign_id"] == r["campaign_id"]]
        p = a[a["grp"] == "p"].set_index("cohort")
        c = a[a["grp"] == "c"].set_index("cohort")
        n_p = int(p["n"].sum())
        shared = p.index.intersection(c.index)
        w = p.loc[shared, "n"] / p.loc[shared, "n"].sum() if len(shared) else pd.Series(dtype="float64")
        f1 = pd.Timestamp(r["f1"]).date()
        out: dict[str, Any] = {
            "campaign_id": r["campaign_id"], "name": r["name"],
            "follow_start": pd.Timestamp(r["f0"]).date(), "follow_end": f1 - timedelta(days=1), "days": days,
            "participants": n_p, "comparison": int(c["n"].sum()),
            "complete": last is not None and last >= f1 - timedelta(days=1)}
        for key, col in (("repurchase", "buyers"), ("retention", "active")):
            pr, preason = ratio(p[col].sum(), n_p, "no_participants")
            if key == "retention" and not has_events:
                pr, preason = None, "no_events_table"
            if len(shared) and (key != "retention" or has_events):
                cr: float | None = float((w * c.loc[shared, col] / c.loc[shared, "n"]).sum())
                creason = None
            else:
                cr, creason = None, "no_events_table" if key == "retention" and not has_events else "no_comparison"
            out[f"{key}_participants"], out[f"{key}_participants_reason"] = pr, preason
            out[f"{key}_comparison"], out[f"{key}_comparison_reason"] = cr, creason
            out[f"{key}_diff"] = pr - cr if pr is not None and cr is not None else None
        rows.append(out)
    df = pd.DataFrame(rows)
    for key in ("repurchase", "retention"):
        for suffix in ("_participants", "_comparison", "_diff"):
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
