"""Targets of KPIs: which target a KPI has for a period, and how actual against target becomes a status.

Beside :mod:`opsnb.metrics.targets` (which *makes* next targets: the annual plan and its split), this
module *resolves* the targets a review compares against, so the goals page, the plan and the year to
date use one rule each:

* :func:`target_table` — every explicit target: the kpis table, then the previous review's plan.
* :func:`resolve_target` — the target of a KPI for a period: an explicit row, else (additive KPIs)
  the sum of its months, else of its quarters.
* :func:`to_date_target` — the one pro-rating rule for a period the review covers in part (a quarter
  or year under way, a month whose data end early), returned with the :class:`ToDate` record of the
  rule applied (the page's footnotes are generated from it).
* :func:`attainment_ratio` and :func:`status_of` — the attainment rules (direction-aware, never inf/NaN).
* :func:`is_additive` / :func:`is_cumulative` — which KPIs add up over months and grow through a period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd

from opsnb.pack.core import Pack
from opsnb.params import KPI, StatusBands
from opsnb.periods import Period

__all__ = ["ADDITIVE_BUILTINS", "CUMULATIVE_BUILTINS", "SOURCE_SUM_MONTHS", "SOURCE_SUM_QUARTERS", "SOURCE_TABLE",
           "Target", "ToDate", "attainment_ratio", "is_additive", "is_cumulative", "is_nan", "kpis_frame",
           "norm_label", "resolve_target", "status_of", "target_table", "to_date_target"]

#: Built-in definitions whose monthly values and targets add up to quarters and years.
ADDITIVE_BUILTINS = frozenset({"new_users", "gmv", "orders"})
#: Built-in definitions whose value grows through the period (to-date targets are pro-rated).
CUMULATIVE_BUILTINS = frozenset({"new_users", "mau", "gmv", "orders", "paying_users"})

SOURCE_TABLE = "kpis table"
SOURCE_SUM_MONTHS = "sum of months"
SOURCE_SUM_QUARTERS = "sum of quarters"



@dataclass(frozen=True)
class Target:
    """A target with where it came from (``"kpis table"``, ``"sum of months"``, ``"plan 2026-09"``…)."""

    value: float | None
    source: str | None = None
    reason: str | None = None


# ---------------------------------------------------------------- helpers on the pack


def is_additive(kpi: KPI) -> bool:
    """Whether monthly values and targets of ``kpi`` add up to quarters and years.

    Built-ins: new_users, gmv, orders. Table KPIs: ``kpi.additive`` when set, else the unit is
    count or currency. Never ratios, averages or distinct counts.
    """
    if kpi.source == "table":
        declared = getattr(kpi, "additive", None)
        if declared is not None:
            return bool(declared)
        return kpi.unit in ("count", "currency")
    return kpi.definition in ADDITIVE_BUILTINS


def is_cumulative(kpi: KPI) -> bool:
    """Whether the value grows through the period (to-date targets of a partial period are pro-rated)."""
    if kpi.source == "table":
        return False
    return kpi.definition in CUMULATIVE_BUILTINS


def kpis_frame(pack: Pack) -> pd.DataFrame:
    """The kpis table as pandas with a normalised ``period`` label (it is small)."""
    cached = pack.__dict__.get("_opsnb_kpis_frame")
    if cached is not None:
        return cached
    if not pack.has("kpis"):
        df = pd.DataFrame({"metric": pd.Series([], dtype="string"), "period": pd.Series([], dtype="string"),
                           "target": pd.Series([], dtype="float64"), "actual": pd.Series([], dtype="float64")})
    else:
        df = pack.con.execute(pack.table("kpis"))
        if "actual" not in df.columns:
            df["actual"] = float("nan")
        df = df[["metric", "period", "target", "actual"]].copy()
        df["metric"] = df["metric"].astype("string").str.strip()
        df["period"] = df["period"].astype("string").str.strip().map(norm_label).astype("string")
    pack.__dict__["_opsnb_kpis_frame"] = df
    return df


def norm_label(s: Any) -> str:
    try:
        return Period.parse(str(s)).label
    except ValueError:
        return str(s)


def target_table(pack: Pack, extra_targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """All explicit targets: kpis-table rows first, then ``extra_targets`` where the table has none.

    ``extra_targets`` has columns metric, period, target, source (e.g. the plan section's
    ``plan_targets.csv`` with source ``"plan 2026-09"``). Returns metric, period (label), target, source.
    """
    k = kpis_frame(pack)
    base = pd.DataFrame({"metric": k["metric"], "period": k["period"], "target": k["target"].astype("float64"),
                         "source": SOURCE_TABLE})
    base = base[base["target"].notna()]
    if extra_targets is not None and len(extra_targets):
        e = extra_targets.copy()
        if "source" not in e.columns:
            e["source"] = "extra"
        e = pd.DataFrame({"metric": e["metric"].astype("string").str.strip(),
                          "period": e["period"].astype("string").str.strip().map(norm_label).astype("string"),
                          "target": pd.to_numeric(e["target"]).astype("float64"),
                          "source": e["source"].astype("string")})
        e = e[e["target"].notna()]
        have = set(zip(base["metric"], base["period"], strict=True))
        e = e[[(m, p) not in have for m, p in zip(e["metric"], e["period"], strict=True)]]
        base = pd.concat([base, e], ignore_index=True)
    return base.drop_duplicates(["metric", "period"], keep="first").reset_index(drop=True)


def resolve_target(targets: pd.DataFrame, kpi: KPI, period: Period) -> Target:
    """The target of ``kpi`` for ``period`` (label of the full period).

    Order: an explicit row (kpis table, then extra targets); for a quarter or year of an
    additive KPI, the sum of its months (all must be present), else — for a year — of its
    quarters. Ratios and averages are never summed.
    """
    full = period.full
    hit = targets[(targets["metric"] == kpi.key) & (targets["period"] == full.label)]
    if len(hit):
        return Target(float(hit["target"].iloc[0]), str(hit["source"].iloc[0]))
    if full.kind == "month" or not is_additive(kpi):
        return Target(None, None, "no_target")
    months = [resolve_target(targets, kpi, m) for m in full.month_periods()]
    if all(m.value is not None for m in months):
        return Target(float(sum(m.value for m in months if m.value is not None)), SOURCE_SUM_MONTHS)
    if full.kind == "year":
        qs = [resolve_target(targets, kpi, q) for q in full.quarter_periods()]
        if all(q.value is not None for q in qs):
            return Target(float(sum(q.value for q in qs if q.value is not None)), SOURCE_SUM_QUARTERS)
    return Target(None, None, "no_target")



def is_nan(x: Any) -> bool:
    """NaN/NA-safe test for any value (False for non-numbers)."""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def attainment_ratio(actual: float | None, target: float | None, direction: str) -> tuple[float | None, str | None]:
    """Attainment: actual ÷ target (higher is better) or target ÷ actual (lower is better).

    ``None`` with a reason when a value is missing or the divisor is zero (never inf/NaN):
    ``no_actual``, ``no_target``, ``zero_target``, ``zero_actual``. A zero actual with higher is
    better is a defined 0 % (missed); a negative divisor is ``negative_value``.
    """
    if actual is None or is_nan(actual):
        return None, "no_actual"
    if target is None or is_nan(target):
        return None, "no_target"
    num, den = (actual, target) if direction == "higher" else (target, actual)
    if den == 0:
        return None, "zero_target" if direction == "higher" else "zero_actual"
    if den < 0 or num < 0:
        return None, "negative_value"
    return float(num) / float(den), None


def status_of(att: float | None, bands: StatusBands) -> str:
    """``exceeded`` (≥ bands.exceeded), ``nearly`` (≥ bands.nearly), ``missed``, or ``n/a``."""
    if att is None:
        return "n/a"
    if att >= bands.exceeded - 1e-12:
        return "exceeded"
    if att >= bands.nearly - 1e-12:
        return "nearly"
    return "missed"


@dataclass(frozen=True)
class ToDate:
    """The one pro-rating rule, as applied: which target a review compares with when it covers only the
    first days of a period (a quarter or year under way, a month whose data end early).

    Made by :func:`to_date_target` and nowhere else; the goals page generates its footnotes from it,
    so a footnote always says the rule that was applied.

    ``method``:

    * ``full`` — the period is covered whole: its target as is.
    * ``not_prorated`` — a ratio, an average or a distinct count that does not add up over months:
      its target as is (it does not grow with the days).
    * ``months`` — an additive KPI with a target for every month touched: the targets of the whole
      months covered (``months``), plus — for the month covered in part (``part``, ``part_days`` of
      ``part_period_days``) — that month's target × ``part_share``.
    * ``period`` — otherwise: the period's own target × ``share``.
    * ``none`` — no target to pro-rate.

    ``basis`` of a part share: ``last_year_shape`` (last year's value over the same first days ÷ its
    whole value) or ``days`` (covered days ÷ days); None when nothing is pro-rated. ``share`` is the
    target to date ÷ the period's target (1 when nothing is pro-rated; None without a period target).
    """

    period: str
    first: date
    as_of: date
    covered_days: int
    period_days: int
    method: str
    months: tuple[str, ...] = ()
    part: str | None = None
    part_days: int = 0
    part_period_days: int = 0
    part_share: float | None = None
    basis: str | None = None
    share: float | None = 1.0

    @property
    def partial(self) -> bool:
        """Whether the review covers only the first days of the period."""
        return self.covered_days < self.period_days


#: ``shape(whole, first_days)``: last year's value over ``first_days`` ÷ its value over ``whole``
#: (both periods of last year), or None when there is no usable history.
Shape = Callable[[Period, Period], "float | None"]


def _part_share(shape: Shape | None, whole: Period, covered: Period) -> tuple[float, str]:
    """Share of ``whole``'s target expected by the end of ``covered`` (its first days): last year's
    shape over the same days when it is known and in (0, 1], else the share of days."""
    if shape is not None:
        ly = whole.last_year()
        got = shape(ly, Period(ly.start, min(ly.end, ly.start + (covered.end - covered.start)), ly.kind))
        if got is not None and 0 < got <= 1:
            return float(got), "last_year_shape"
    return covered.days / whole.days, "days"


def to_date_target(targets: pd.DataFrame, kpi: KPI, full: Period, covered: Period,
                   shape: Shape | None = None) -> tuple[Target, ToDate]:
    """The target of ``full`` to the last day of ``covered`` (its first days), and the rule applied.

    Parameters
    ----------
    targets
        :func:`target_table`.
    kpi
        The KPI.
    full
        The whole period (a month, quarter or year).
    covered
        Its first days up to the review's as-of day (``full`` itself when complete).
    shape
        Last year's daily shape (see :data:`Shape`); None: pro-rate by days.

    Returns
    -------
    (Target, ToDate)
        The target to date (``source`` as for :func:`resolve_target`; ``"sum of months"`` for
        several months) and the :class:`ToDate` rule that made it. The rule: a complete period →
        its target; a KPI that does not grow through the period → its target; an additive KPI
        with every touched month's target → the whole months' targets plus the part month's
        target × its expected share; else the period's target × its expected share. The share is
        last year's shape over the same days, else the share of days.
    """
    as_of = covered.last_day
    base = ToDate(period=full.label, first=full.start, as_of=as_of, covered_days=covered.days,
                  period_days=full.days, method="full")
    whole_target = resolve_target(targets, kpi, full)
    if covered.end >= full.end:
        return whole_target, replace(base, method="full" if whole_target.value is not None else "none")
    if not is_cumulative(kpi):
        return whole_target, replace(base, method="not_prorated" if whole_target.value is not None else "none")
    if is_additive(kpi) and full.kind != "month":
        touched = [m for m in full.month_periods() if m.start < covered.end]
        tm = [resolve_target(targets, kpi, m) for m in touched]
        if all(x.value is not None for x in tm):
            whole = [(m, x) for m, x in zip(touched, tm, strict=True) if m.end <= covered.end]
            value = float(sum(x.value for _, x in whole if x.value is not None))
            part = part_share = basis = None
            part_days = part_period_days = 0
            last_m, last_t = touched[-1], tm[-1]
            if last_m.end > covered.end and last_t.value is not None:
                part_cov = Period(last_m.start, covered.end, "month")
                part_share, basis = _part_share(shape, last_m, part_cov)
                value += last_t.value * part_share
                part, part_days, part_period_days = last_m.label, part_cov.days, last_m.days
            source = tm[0].source if len(tm) == 1 else SOURCE_SUM_MONTHS
            share = value / whole_target.value if whole_target.value else None
            return Target(value, source), replace(base, method="months", months=tuple(m.label for m, _ in whole),
                                                 part=part, part_days=part_days, part_period_days=part_period_days,
                                                 part_share=part_share, basis=basis, share=share)
    if whole_target.value is None:
        return whole_target, replace(base, method="none", share=None)
    share, basis = _part_share(shape, full, covered)
    return (Target(whole_target.value * share, whole_target.source),
            replace(base, method="period", basis=basis, share=share))
