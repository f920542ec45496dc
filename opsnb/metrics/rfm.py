"""RFM: recency, frequency and monetary value per customer at an analysis date, and segments.

Definitions (all computed in the backend; only the segment summary comes back by default):

* **Analysis date and orders counted**: paid orders (:mod:`opsnb.metrics.orders`). By default the
  analysis date is the period's (exclusive) end — the first day after the period — and orders
  with ``ts`` before it count. With ``analysis_date`` (``settings.insights.rfm_analysis_date``),
  any day can be the analysis date, with the R ``rfm`` package's convention: orders up to and
  *including* that day count. When ``lookback_days`` is given, only orders on or after
  ``(last day counted + 1) - lookback_days`` count. The default lookback is *all history*, as in
  R ``rfm``. Refund and cancelled rows are not netted (refunds are reported elsewhere).
* **Recency** = days from the analysis date to the local day of the customer's last paid order
  (R: ``as.numeric(analysis_date - date_most_recent, units = "days")``). By default an order on
  the period's last day has recency 1; with ``analysis_date`` an order on that day has recency 0.
* **Frequency** = number of paid orders; **monetary** = sum of their amounts.
* **Scores** 1–5, by ``scoring`` (``settings.insights.rfm_scoring``):

  - ``ntile`` (default): quintiles of customers, ``NTILE(5)`` over the customers ordered by the
    value (recency *descending*, so 5 = most recent; frequency and monetary ascending, so 5 =
    most), ties broken by ``user_id`` ascending. Ties can therefore straddle a quintile border;
    every quintile holds ``n // 5`` or ``n // 5 + 1`` customers (the first ones get the extra).
  - ``quantile_breaks``: R ``rfm``'s ``rfm_table_order`` with its default 5 bins. For each of
    recency, frequency and monetary, ``q_k`` = R's default (type 7) quantile of the customers'
    values at ``k/5`` (k = 1…4), computed exactly as R does; the breaks are ``b_k = q_k + 1`` (R
    adds 1) and a value ``x`` falls in bin ``1 + #{k : x >= b_k}`` (R: ``lower <= x < upper``
    with lower bounds ``min(x), b_1…b_4`` and upper bounds ``b_1…b_4, max(x) + 1``). Frequency
    and monetary score the bin; recency scores ``6 - bin`` (5 = most recent). Equal values always
    share a score, so score groups need not have equal sizes. The breaks are computed when the
    scores are built (one query fetching the three value columns); the scores stay lazy.
* Customers without a paid order in the window have no RFM row (they are not customers yet).
* **Segments**: rules (``settings.insights.rfm_rules``: the rules of ``rfm_segments``, or R
  ``rfm``'s documented map with ``rfm_segment_map: r_rfm``) with inclusive score ranges on R, F
  and M, applied in order, first match wins (as R ``rfm_segment``); no match → ``Others``.
  With ``quantile_breaks``, ``r_rfm`` and ``analysis_date`` 2006-12-31, R's example data
  ``rfm_data_orders`` give R's published segment counts (``tests/unit/test_rfm_reference.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import USER_KEY, Pack
from opsnb.pack.expr import flag, money_sum
from opsnb.params import RFMRule, RFMScoring
from opsnb.periods import Period

OTHERS = "Others"
#: Number of score bins (scores 1..BINS), as R rfm's default ``recency_bins = frequency_bins = monetary_bins = 5``.
BINS = 5
_SCORINGS = ("ntile", "quantile_breaks")


def rfm_scores(pack: Pack, period: Period, *, lookback_days: int | None = None,
               scoring: RFMScoring = "ntile", analysis_date: date | None = None) -> ibis.Table:
    """Per-customer RFM values and 1–5 scores at the analysis date, as a lazy Ibis table.

    Parameters
    ----------
    pack, period
        The data pack and the review period (the default analysis date is ``period.end``).
    lookback_days
        Only orders within this many days before the end of the window count; ``None`` = all history.
    scoring
        ``"ntile"`` (quintiles of customers) or ``"quantile_breaks"`` (R ``rfm``'s breaks at the
        20/40/60/80 % quantiles); see the module docstring.
    analysis_date
        Score at this day instead of the period end, R's convention: orders up to and including
        it count and recency is counted from it.

    Returns
    -------
    ibis.Table
        Columns ``user_id, last_order, recency, frequency, monetary, r, f, m`` — one row per
        customer with a paid order in the window. With ``ntile`` nothing is executed; with
        ``quantile_breaks`` the breaks are computed now (one query), the scores stay lazy.

    Raises
    ------
    ValueError
        An unknown ``scoring``.
    """
    per = _per_customer(pack, period, lookback_days, scoring=scoring, analysis_date=analysis_date)
    return per.select("user_id", "last_order", "recency", "frequency", "monetary", "r", "f", "m")


def _window(period: Period, analysis_date: date | None) -> tuple[date, date]:
    """``(end, recency_day)``: orders with ``ts < end`` count; recency is counted from ``recency_day``."""
    if analysis_date is None:
        return period.end, period.end
    return analysis_date + timedelta(days=1), analysis_date


def _per_customer(pack: Pack, period: Period, lookback_days: int | None, *, scoring: RFMScoring = "ntile",
                  analysis_date: date | None = None) -> ibis.Table:
    """:func:`rfm_scores` by the pack's user key; ``user_id`` is carried along (DuckDB drops it unused)."""
    if scoring not in _SCORINGS:
        raise ValueError(f"unknown RFM scoring {scoring!r}; known: {list(_SCORINGS)}")
    end_day, recency_day = _window(period, analysis_date)
    o = paid_orders(pack, keyed=True)
    o = o.filter(o.ts < ts_literal(end_day))
    if lookback_days is not None:
        o = o.filter(o.ts >= ts_literal(end_day - timedelta(days=lookback_days)))
    uk = o[USER_KEY]
    per = o.group_by(uk).aggregate(
        user_id=o.user_id.min(),  # one id per key: min is portable (PostgreSQL has no arbitrary/first)
        last_order=o.ts.max(),
        frequency=o.count(),
        monetary=money_sum(o.amount),
    )
    analysis_day = ibis.date(recency_day.isoformat())
    per = per.mutate(recency=analysis_day.delta(per.last_order.date(), unit="day"))
    if scoring == "quantile_breaks":
        values = per.select("recency", "frequency", "monetary").execute()
        return per.mutate(
            r=BINS + 1 - _bin_expr(per.recency, quantile_breaks(values["recency"])),
            f=_bin_expr(per.frequency, quantile_breaks(values["frequency"])),
            m=_bin_expr(per.monetary, quantile_breaks(values["monetary"])),
        )
    # the key orders like user_id: ties are broken by user_id ascending
    return per.mutate(
        r=ibis.ntile(BINS).over(order_by=[ibis.desc(per.recency), per[USER_KEY]]) + 1,
        f=ibis.ntile(BINS).over(order_by=[per.frequency, per[USER_KEY]]) + 1,
        m=ibis.ntile(BINS).over(order_by=[per.monetary, per[USER_KEY]]) + 1,
    )


def r_quantile(values: Sequence[float] | np.ndarray | pd.Series, prob: float) -> float:
    """R's default quantile (``quantile(x, prob)``, type 7), with R's own arithmetic.

    ``index = 1 + (n - 1) * prob``; ``lo, hi = floor(index), ceiling(index)`` on the sorted values;
    ``q = x[lo]`` unless ``index > lo`` and ``x[hi] != x[lo]``, then ``(1 - h) * x[lo] + h * x[hi]``
    with ``h = index - lo`` (the same value as numpy's "linear" up to rounding; this form matches
    R's to the last bit, which matters when a break meets a value exactly). Missing values are
    dropped (R would stop unless ``na.rm = TRUE``).

    Raises
    ------
    ValueError
        No values.
    """
    x = np.sort(pd.Series(values, dtype="float64").dropna().to_numpy())
    n = len(x)
    if n == 0:
        raise ValueError("quantile of no values")
    index = 1 + (n - 1) * prob
    lo, hi = math.floor(index), math.ceil(index)
    q = float(x[lo - 1])
    if index > lo and x[hi - 1] != q:
        h = index - lo
        q = (1 - h) * q + h * float(x[hi - 1])
    return q


def quantile_breaks(values: Sequence[float] | np.ndarray | pd.Series, bins: int = BINS) -> list[float]:
    """R ``rfm``'s score breaks: the type-7 quantiles at ``k/bins`` (k = 1…bins-1), each plus 1.

    The probabilities are R's ``seq(0, 1, length.out = bins + 1)`` (``k * (1/bins)``, so 0.6 is
    ``3 * 0.2``). No values → no breaks (every value then scores 1; there are none to score).
    """
    v = pd.Series(values, dtype="float64").dropna()
    if v.empty:
        return []
    step = 1.0 / bins
    return [r_quantile(v, k * step) + 1 for k in range(1, bins)]


def quantile_scores(values: pd.Series, *, reverse: bool = False, bins: int = BINS) -> pd.Series:
    """R ``rfm``'s bin scores of a plain series (the ``quantile_breaks`` scoring, in pandas).

    ``1 + #{k : x >= b_k}`` with the :func:`quantile_breaks` ``b_k``; ``reverse`` (recency) gives
    ``bins + 1 -`` that, so the smallest values score highest. Missing values score as the lowest
    bin. Returns int64 scores on the input's index.
    """
    v = pd.Series(values, dtype="float64")
    b = np.asarray(quantile_breaks(v, bins))
    binned = 1 + (v.to_numpy()[:, None] >= b[None, :]).sum(axis=1)
    out = pd.Series(binned.astype("int64"), index=values.index)
    return bins + 1 - out if reverse else out


def _bin_expr(col: ibis.expr.types.NumericValue, breaks: Sequence[float]) -> ibis.expr.types.IntegerValue:
    """:func:`quantile_scores`' ``1 + #{k : x >= b_k}`` as an Ibis expression (a null value is bin 1)."""
    out: ibis.expr.types.IntegerValue = ibis.literal(1, type="int64")
    for b in breaks:
        out = out + flag(col >= ibis.literal(float(b), type="float64"))
    return out


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
                 lookback_days: int | None = None, scoring: RFMScoring = "ntile",
                 analysis_date: date | None = None) -> pd.DataFrame:
    """Size and revenue of each RFM segment at the end of ``period`` (or at ``analysis_date``).

    Parameters
    ----------
    pack, period
        The data pack and the review period.
    rules
        Segment rules in priority order (``settings.insights.rfm_rules``); first match wins.
    lookback_days, scoring, analysis_date
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
        No orders table, or no paid order in the window.
    """
    s = _per_customer(pack, period, lookback_days, scoring=scoring, analysis_date=analysis_date)
    # at most 125 (r, f, m) cells come back; the rules map cells to segments here
    cells = s.group_by(["r", "f", "m"]).aggregate(
        customers=s.count(),
        revenue=money_sum(s.monetary),
        recency=s.recency.sum(),
        frequency=s.frequency.sum(),
    ).execute()
    if cells.empty:
        when = f"before {period.end.isoformat()}" if analysis_date is None else f"on or before {analysis_date.isoformat()}"
        raise NoData("orders", f"no paid order {when}")
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
