"""Channel performance in a period, with an S/A/B/C grade.

Per channel (every channel seen in users, events, orders or channel_spend; a missing channel
value is the channel ``(unknown)``):

* ``visits`` — ``visit`` events in the period by ``events.channel`` (when events carry a channel);
* ``active_users`` — distinct users with any event in the period, by their acquisition channel
  (``users.channel``);
* ``traffic_share`` — share of visits when visits are known, else share of active users
  (``DataFrame.attrs["traffic_basis"]`` says which);
* ``new_users`` — users with ``signup_at`` in the period, by ``users.channel``;
* ``paying_users`` — distinct users with a paid order in the period, by ``users.channel``;
  ``conversion_rate`` = paying_users ÷ active_users (the shared definition, per channel);
* ``cost, impressions, clicks`` — ``channel_spend`` rows dated in the period; ``ctr`` = clicks ÷
  impressions; ``cpc`` = cost ÷ clicks; ``cac`` = cost ÷ new_users;
* ``gmv`` — paid orders in the period by ``orders.channel`` (by the buyer's ``users.channel``
  when orders carry no channel); ``roi`` = gmv ÷ cost;
* ``retention`` — retention proxy: of the users the channel acquired in the *previous* period,
  the share with any event in this period;
* ``budget_share`` = cost ÷ total cost; ``return_share`` = gmv ÷ total gmv.

Undefined ratios (zero or unknown denominator) are ``None`` and the ``na`` column maps the
metric to a reason code (``no_active_users``, ``no_impressions``, ``no_clicks``, ``no_new_users``,
``no_cost``, ``no_cohort``, ``no_events``, ``no_traffic``, ``no_gmv``).

Grade: each graded metric (``roi``, ``cac``, ``retention``) is min-max normalised to [0, 1]
across the paid channels where it is defined — ``(x - min) / (max - min)``, reversed for CAC since
lower is better; when every defined value is equal the normalised value is 0.5 (no channel is
better). The score is the weighted mean of the normalised metrics a channel has
(``settings.channel_grade_weights``, renormalised over the defined ones). Only paid channels
(cost > 0) are graded, and none whose graded metric rests on fewer than ``min_base`` users (a grade
is a verdict); ``score ≥ cuts[0]`` → S, ``≥ cuts[1]`` → A, ``≥ cuts[2]`` → B, else C
(``settings.channel_grade_cuts``, default 0.75/0.5/0.25).
"""

from __future__ import annotations

from functools import reduce

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import Pack
from opsnb.pack.expr import money_sum
from opsnb.params import InsightsSettings
from opsnb.periods import Period

UNKNOWN = "(unknown)"
GRADED = {"roi": "higher", "cac": "lower", "retention": "higher"}
COLUMNS = ["channel", "visits", "active_users", "traffic_share", "new_users", "paying_users", "conversion_rate",
           "cost", "impressions", "clicks", "ctr", "cpc", "cac", "gmv", "roi", "cohort", "retention", "score", "grade",
           "budget_share", "return_share", "na"]
#: Per-user ratios and the count of users each rests on (``min_base`` applies to it).
USER_BASES = {"conversion_rate": "active_users", "cac": "new_users", "retention": "cohort"}


def _in(t: ibis.Table, col: str, period: Period) -> ibis.expr.types.BooleanValue:
    return (t[col] >= ts_literal(period.start)) & (t[col] < ts_literal(period.end))


def _chan(col: ibis.expr.types.StringValue) -> ibis.expr.types.StringValue:
    return col.fill_null(UNKNOWN)


def _users_with_channel(pack: Pack) -> ibis.Table | None:
    if not pack.has("users"):
        return None
    u = pack.table("users")
    if "channel" not in u.columns:
        return None
    return u.select("user_id", "signup_at", channel=_chan(u.channel))


def _pieces(pack: Pack, period: Period) -> tuple[list[pd.DataFrame], str]:
    parts: list[pd.DataFrame] = []
    users = _users_with_channel(pack)
    events = pack.table("events") if pack.has("events") else None
    basis = "active_users"
    if events is not None and "channel" in events.columns:
        e = events.filter(_in(events, "ts", period) & (events.event == "visit"))
        parts.append(e.group_by(channel=_chan(e.channel)).aggregate(visits=e.count()).execute())
        basis = "visits"
    if users is not None:
        nu = users.filter(_in(users, "signup_at", period))
        parts.append(nu.group_by("channel").aggregate(new_users=nu.count()).execute())
        if events is not None:
            act = events.filter(_in(events, "ts", period)).select("user_id").distinct()
            a = act.join(users, "user_id")
            parts.append(a.group_by("channel").aggregate(active_users=a.count()).execute())
            cohort = users.filter(_in(users, "signup_at", period.previous()))
            ret = cohort.left_join(act.mutate(active=ibis.literal(1)), "user_id")
            parts.append(ret.group_by("channel").aggregate(
                cohort=ret.count(), retained=ret.active.count()).execute())
    if pack.has("orders"):
        o = paid_orders(pack)
        o = o.filter(_in(o, "ts", period))
        if "channel" in o.columns:
            parts.append(o.group_by(channel=_chan(o.channel)).aggregate(gmv=money_sum(o.amount)).execute())
        elif users is not None:
            j = o.join(users, "user_id")
            parts.append(j.group_by("channel").aggregate(gmv=money_sum(j.amount)).execute())
        if users is not None:
            payers = o.select("user_id").distinct().join(users, "user_id")
            parts.append(payers.group_by("channel").aggregate(paying_users=payers.count()).execute())
    if pack.has("channel_spend"):
        s = pack.table("channel_spend")
        s = s.filter(_in(s, "date", period))
        aggs = {"cost": money_sum(s.cost)}
        for c in ("impressions", "clicks"):
            if c in s.columns:
                aggs[c] = s[c].sum()
        parts.append(s.group_by(channel=_chan(s.channel)).aggregate(**aggs).execute())
    return [p for p in parts if not p.empty], basis


def _ratio(df: pd.DataFrame, num: str, den: str, out: str, reason: str) -> None:
    """``df[out] = num / den`` as objects, None (with ``df.na[out] = reason``) where den is 0 or unknown."""
    n = df[num] if num in df else pd.Series(pd.NA, index=df.index)
    d = df[den] if den in df else pd.Series(pd.NA, index=df.index)
    ok = d.notna() & n.notna() & (d.fillna(0) != 0)
    vals = (n.where(ok).astype("float64") / d.where(ok, 1).astype("float64")).astype(object)
    df[out] = vals.where(ok, None)
    for i in df.index[~ok]:
        df.at[i, "na"][out] = reason


def _grade(df: pd.DataFrame, settings: InsightsSettings) -> None:
    weights = {k: w for k, w in settings.channel_grade_weights.items() if w > 0}
    paid = df["cost"].astype("float64").fillna(0) > 0
    norm = pd.DataFrame(index=df.index)
    for k in weights:
        x = df[k].astype("float64").where(paid)  # normalised among the graded (paid) channels only
        lo, hi = x.min(), x.max()
        if pd.isna(lo):
            norm[k] = float("nan")
            continue
        if hi == lo:
            n = pd.Series(0.5, index=df.index).where(x.notna())
        else:
            n = (x - lo) / (hi - lo)
            if GRADED[k] == "lower":
                n = 1 - n
        norm[k] = n
    w = pd.Series(weights, dtype="float64")
    have = norm.notna()
    wsum = have.mul(w, axis=1).sum(axis=1)
    score = norm.fillna(0).mul(w, axis=1).sum(axis=1) / wsum.where(wsum > 0)
    score = score.where(paid)
    cuts = settings.channel_grade_cuts
    grade = pd.Series(None, index=df.index, dtype=object)
    for letter, cut in reversed(list(zip("SAB", cuts, strict=True))):
        grade[score >= cut] = letter
    grade[score < cuts[2]] = "C"
    # a grade is a verdict: none when a graded metric was left out for a base under min_base
    thin = pd.Series([any(df.at[i, "na"].get(k) == "small_base" for k in weights) for i in df.index], index=df.index)
    score = score.where(~thin)
    df["score"] = score.astype(object).where(score.notna(), None)
    df["grade"] = grade.where(score.notna(), None)
    for i in df.index[score.isna()]:
        df.at[i, "na"]["grade"] = "no_cost" if not paid[i] else "small_base" if thin[i] else "no_graded_metric"


def channels(pack: Pack, period: Period, settings: InsightsSettings, *, min_base: int | None = None) -> pd.DataFrame:
    """Channel performance table for ``period`` (see the module docstring for every definition).

    Parameters
    ----------
    pack, period
        The data pack and the review period.
    settings
        ``settings.insights``: grade weights and cuts.
    min_base
        ``settings.min_base``: a per-user ratio (:data:`USER_BASES`) on fewer users is ``None`` with
        reason ``small_base`` (shown with its n, and left out of the grade); None: no minimum.

    Returns
    -------
    pandas.DataFrame
        One row per channel (sorted by GMV, then cost, descending) with columns
        ``channel, visits, active_users, traffic_share, new_users, paying_users, conversion_rate,
        cost, impressions, clicks, ctr, cpc, cac, gmv, roi, cohort, retention, score, grade,
        budget_share, return_share, na`` (``cohort``: the previous period's new users, the base of
        ``retention``). Counts are integers (0 when none), ``cost``,
        ``impressions``, ``clicks`` and ``gmv`` are ``None`` when the source table or column is
        absent, ratios are ``None`` when undefined with the reason code in ``na``.

    Raises
    ------
    NoData
        No table carries a channel, or nothing happened in the period.
    """
    parts, basis = _pieces(pack, period)
    if not parts:
        raise NoData("channel_spend", f"no channel data in {period.label}")
    df = reduce(lambda a, b: a.merge(b, on="channel", how="outer"), parts)
    df = df.reset_index(drop=True)
    for c in ("visits", "active_users", "new_users", "paying_users", "cohort", "retained"):
        if c in df:
            df[c] = df[c].fillna(0).astype("int64")
    has_spend = pack.has("channel_spend")
    spend_cols = pack.table("channel_spend").columns if has_spend else []
    for c in ("cost", "impressions", "clicks"):
        if c in df:
            df[c] = df[c].astype("float64").fillna(0.0) if c == "cost" else df[c].fillna(0).astype("int64")
    if "gmv" in df:
        df["gmv"] = df["gmv"].astype("float64").fillna(0.0)
    df["na"] = [{} for _ in range(len(df))]

    traffic = "visits" if basis == "visits" else "active_users"
    if traffic in df:
        df["_traffic_total"] = df[traffic].sum()
    _ratio(df, traffic, "_traffic_total", "traffic_share", "no_traffic")
    _ratio(df, "paying_users", "active_users", "conversion_rate", "no_active_users")
    _ratio(df, "clicks", "impressions", "ctr", "no_impressions" if "impressions" in spend_cols else "no_spend_data")
    _ratio(df, "cost", "clicks", "cpc", "no_clicks" if "clicks" in spend_cols else "no_spend_data")
    _ratio(df, "cost", "new_users", "cac", "no_new_users")
    _ratio(df, "gmv", "cost", "roi", "no_cost")
    if "cohort" in df:
        _ratio(df, "retained", "cohort", "retention", "no_cohort")
    else:
        df["retention"] = None
        for i in df.index:
            df.at[i, "na"]["retention"] = "no_events"
    if "cost" in df:
        df["_cost_total"] = df["cost"].sum()
    _ratio(df, "cost", "_cost_total", "budget_share", "no_cost")
    if "gmv" in df:
        df["_gmv_total"] = df["gmv"].sum()
    _ratio(df, "gmv", "_gmv_total", "return_share", "no_gmv")
    for i in df.index:  # a channel without spend has no CAC for lack of cost, not of new users
        if "cost" not in df or not df.at[i, "cost"]:
            df.at[i, "na"]["cac"] = "no_cost"
            df.at[i, "cac"] = None
    for c in COLUMNS:
        if c not in df:
            df[c] = None
    if min_base is not None:
        for ratio, base in USER_BASES.items():
            for i in df.index:
                n = df.at[i, base]
                if df.at[i, ratio] is not None and n is not None and int(n) < min_base:
                    df.at[i, ratio] = None
                    df.at[i, "na"][ratio] = "small_base"
    if "cost" not in df.columns or not has_spend:
        df["cost"] = None
    _grade(df, settings)
    df = df.sort_values(["gmv", "cost", "channel"], ascending=[False, False, True],
                        key=lambda s: s.astype("float64") if s.name != "channel" else s).reset_index(drop=True)
    out = df[COLUMNS].copy()
    out.attrs["traffic_basis"] = basis
    out.attrs["period"] = period.label
    return out
