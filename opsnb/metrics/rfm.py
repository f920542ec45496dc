"""RFM: recency, frequency and monetary value per customer at the end of a period, and segments.

Definitions (all computed in the backend; only the segment summary comes back by default):

* **Orders counted**: paid orders (:mod:`opsnb.metrics.orders`) with ``ts`` before the period's
  (exclusive) end and, when ``lookback_days`` is given, on or after ``end - lookback_days``.
  The default lookback is *all history up to the period end*, as in the R ``rfm`` package.
  Refund and cancelled rows are not netted (refunds are reported elsewhere).
* **Recency** = days from the period end (the first day after the period, the "analysis
  date") to the local day of the customer's last paid order: an order on the period's last
  day has recency 1.
* **Frequency** = number of paid orders; **monetary** = sum of their amounts.
* **Scores** 1–5 are quintiles: ``NTILE(5)`` over the customers ordered by the value
  (recency *descending*, so 5 = most recent; frequency and monetary ascending, so 5 = most),
  ties broken by ``user_id`` ascending. Ties can therefore straddle a quintile border; every
  quintile holds ``n // 5`` or ``n // 5 + 1`` customers (the first ones get the extra).
* Customers without a paid order in the window have no RFM row (they are not customers yet).
* **Segments**: the rules of ``settings.insights.rfm_segments`` (inclusive score ranges on R, F
  and M) applied in order, first match wins; no match → ``Others``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import USER_KEY, Pack
from opsnb.params import RFMRule
from opsnb.periods import Period

OTHERS = "Others"


def rfm_scores(pack: Pack, period: Period, *, lookback_days: int | None = None) -> ibis.Table:
    """Per-customer RFM values and 1–5 scores at the end of ``period``, as a lazy Ibis table.

    Parameters
    ----------
    pack, period
        The data pack and the review period (the analysis date is ``period.end``).
    lookback_days
        Only orders within this many days before the period end count; ``None`` = all history.

    Returns
    -------
    ibis.Table
        Columns ``user_id, last_order, recency, frequency, monetary, r, f, m`` — one row per
        customer with a paid order in the window. Nothing is executed: call ``.execute()`` (or
        aggregate further) when the per-customer rows are really needed.
    """
    per = _per_customer(pack, period, lookback_days)
    return per.select("user_id", "last_order", "recency", "frequency", "monetary", "r", "f", "m")


def _per_customer(pack: Pack, period: Period, lookback_days: int | None) -> ibis.Table:
    """:func:`rfm_scores` by the pack's user key; ``user_id`` is carried along (DuckDB drops it unused)."""
    o = paid_orders(pack, keyed=True)
    end = ts_literal(period.end)
    o = o.filter(o.ts < end)
    if lookback_days is not None:
        o = o.filter(o.ts >= ts_literal(period.end - timedelta(days=lookback_days)))
    uk = o[USER_KEY]
    per = o.group_by(uk).aggregate(
        user_id=o.user_id.arbitrary(),
        last_order=o.ts.max(),
        frequency=o.count(),
        monetary=o.amount.sum(),
    )
    analysis_day = ibis.date(period.end.isoformat())
    per = per.mutate(recency=analysis_day.delta(per.last_order.date(), unit="day"))
    # the key orders like user_id: ties are broken by user_id ascending
    return per.mutate(
        r=ibis.ntile(5).over(order_by=[ibis.desc(per.recency), per[USER_KEY]]) + 1,
        f=ibis.ntile(5).over(order_by=[per.frequency, per[USER_KEY]]) + 1,
        m=ibis.ntile(5).over(order_by=[per.monetary, per[USER_KEY]]) + 1,
    )


def segment_of(r: int, f: int, m: int, rules: Sequence[RFMRule]) -> str:
    """The segment of scores ``(r, f, m)``: the first rule whose inclusive ranges all hold, else ``Others``."""
    for rule in rules:
        if rule.r[0] <= r <= rule.r[1] and rule.f[0] <= f <= rule.f[1] and rule.m[0] <= m <= rule.m[1]:
            return rule.segment
    return OTHERS


def _segment_expr(s: ibis.Table, rules: Sequence[RFMRule]) -> ibis.expr.types.StringValue:
    """:func:`segment_of` as an Ibis expression over per-customer scores (the explorer's drill-down)."""
    def within(col: ibis.expr.types.IntegerValue, rng: tuple[int, int]) -> ibis.expr.types.BooleanValue:
        return col.between(rng[0], rng[1])

    if not rules:
        return ibis.literal(OTHERS)
    branches = [(within(s.r, rule.r) & within(s.f, rule.f) & within(s.m, rule.m), rule.segment) for rule in rules]
    return ibis.cases(*branches, else_=OTHERS)


def rfm_segments(pack: Pack, period: Period, rules: Sequence[RFMRule], *,
                 lookback_days: int | None = None) -> pd.DataFrame:
    """Size and revenue of each RFM segment at the end of ``period``.

    Parameters
    ----------
    pack, period
        The data pack and the review period.
    rules
        Segment rules in priority order (``settings.insights.rfm_segments``); first match wins.
    lookback_days
        See :func:`rfm_scores`.

    Returns
    -------
    pandas.DataFrame
        One row per rule segment in rule order, then ``Others``: ``segment, customers, share,
        revenue, revenue_share, recency, frequency, monetary`` (the last three are segment
        means; ``None`` for an empty segment). Shares are fractions of all scored customers
        and of their total monetary value.

    Raises
    ------
    NoData
        No orders table, or no paid order before the period end.
    """
    s = _per_customer(pack, period, lookback_days)
    # at most 125 (r, f, m) cells come back; the rules map cells to segments here
    cells = s.group_by(["r", "f", "m"]).aggregate(
        customers=s.count(),
        revenue=s.monetary.sum(),
        recency=s.recency.sum(),
        frequency=s.frequency.sum(),
    ).execute()
    if cells.empty:
        raise NoData("orders", f"no paid order before {period.end.isoformat()}")
    cells["segment"] = [segment_of(int(r), int(f), int(m), rules)
                        for r, f, m in zip(cells["r"], cells["f"], cells["m"], strict=True)]
    agg = cells.groupby("segment", sort=False)[["customers", "revenue", "recency", "frequency"]].sum().reset_index()
    agg["monetary"] = agg["revenue"] / agg["customers"]
    agg["recency"] = agg["recency"] / agg["customers"]
    agg["frequency"] = agg["frequency"] / agg["customers"]
    order = list(dict.fromkeys([r.segment for r in rules] + [OTHERS]))
    out = pd.DataFrame({"segment": order}).merge(agg, on="segment", how="left")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64")
    total_c = int(out["customers"].sum())
    total_r = float(out["revenue"].sum())
    out["share"] = out["customers"] / total_c
    out["revenue_share"] = out["revenue"] / total_r if total_r else None
    for c in ("recency", "frequency", "monetary"):
        out[c] = out[c].astype("object").where(out["customers"] > 0, None)
    return out[["segment", "customers", "share", "revenue", "revenue_share", "recency", "frequency", "monetary"]]
