"""Targets of KPIs: which target a KPI has for a period, and how actual against target becomes a status.

Beside :mod:`opsnb.metrics.targets` (which *makes* next targets: the annual plan and its split), this
module *resolves* the targets a review compares against, so the goals page, the plan and the year to
date use one rule each:

* :func:`target_table` — every explicit target: the kpis table, then the previous review's plan.
* :func:`resolve_target` — the target of a KPI for a period: an explicit row, else (additive KPIs)
  the sum of its months, else of its quarters.
* :func:`months_target` — a partial quarter or year covering whole months takes those months' targets.
* :func:`target_to_date` — the monthly targets from January to a day (the last month pro-rated).
* :func:`attainment_ratio` and :func:`status_of` — the attainment rules (direction-aware, never inf/NaN).
* :func:`is_additive` / :func:`is_cumulative` — which KPIs add up over months and grow through a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from opsnb.pack.core import Pack
from opsnb.params import KPI, StatusBands
from opsnb.periods import Period

__all__ = ["ADDITIVE_BUILTINS", "CUMULATIVE_BUILTINS", "SOURCE_SUM_MONTHS", "SOURCE_SUM_QUARTERS", "SOURCE_TABLE",
           "Target", "attainment_ratio", "is_additive", "is_cumulative", "is_nan", "kpis_frame", "months_target",
           "norm_label", "resolve_target", "status_of", "target_table", "target_to_date"]

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


def months_target(targets: pd.DataFrame, kpi: KPI, full: Period, covered: Period) -> float | None:
    """For a partial quarter or year of an additive KPI whose covered days are whole months: the sum of
    those months' targets (None otherwise, or when one of them has no target).

    This is the rule that keeps one figure one value: a quarter whose only covered month is October
    has October's target, so its attainment to date equals October's.
    """
    if covered.end >= full.end or full.kind == "month" or not is_additive(kpi):
        return None
    months = [m for m in full.month_periods() if m.start < covered.end]
    if not months or months[-1].end != covered.end:
        return None
    values = [resolve_target(targets, kpi, m).value for m in months]
    if any(x is None for x in values):
        return None
    return float(sum(x for x in values if x is not None))


def target_to_date(targets: pd.DataFrame, kpi: KPI, span: Period) -> float | None:
    """Σ monthly targets from January to the end of ``span`` (the last month pro-rated by days)."""
    total = 0.0
    for m in span.year().month_periods():
        if m.start >= span.end:
            break
        tg = resolve_target(targets, kpi, m)
        if tg.value is None:
            return None
        covered = (min(m.end, span.end) - m.start).days
        total += tg.value * covered / m.days
    return total
