"""Target split: an annual target → quarters → months, exact to the cent.

The arithmetic is done in integers (cents for currency, whole units for counts) with
largest-remainder rounding, so the parts always add up to the whole exactly, at every level
(year = Σ quarters, quarter = Σ its months). Ratios, averages and other level metrics are not
split: their target is a per-period target and is copied to every month.

Seasonal shares come from the metric's own monthly history:

* ``shares`` (default): the average, over the complete calendar years of history, of each
  month's proportion of its year's total; with no complete year but ≥ 12 consecutive months,
  the proportions of the latest 12 months; with less than a year of history, an even split
  (and a note saying so).
* ``seasonal_indices``: multiplicative seasonal indices from statsmodels'
  ``seasonal_decompose(model="multiplicative", period=12)`` (needs ≥ 24 months of strictly
  positive values; indices normalised to sum to 12; shares = index ÷ 12). Falls back to
  ``shares`` with a note otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.kpi_targets import SOURCE_SUM_MONTHS, resolve_target, target_table
from opsnb.metrics.orders import paid, refunded
from opsnb.pack import Pack
from opsnb.pack.expr import money_sum
from opsnb.periods import Period

#: Integer scale of each splittable unit: currency in cents, counts in whole units.
SPLIT_SCALE: dict[str, int] = {"currency": 100, "count": 1}

#: Built-in metrics whose year total is the sum of their monthly values (so they can be split).
ADDITIVE_BUILTINS = frozenset({"gmv", "orders", "new_users", "refunds"})


@dataclass(frozen=True)
class Note:
    """A message for the reader: an i18n key plus its format arguments (the view translates it)."""

    key: str
    kwargs: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- pure arithmetic


def split_integer(total: int, shares: Sequence[float]) -> list[int]:
    """Split an integer ``total`` into parts proportional to ``shares`` (largest remainder).

    Parameters
    ----------
    total
        The whole, an integer (may be negative: the split of ``-total`` is negated).
    shares
        Non-negative weights (need not sum to 1). All zero → an even split.

    Returns
    -------
    list[int]
        Parts with ``sum(parts) == total`` exactly; ties in the remainders go to the earlier part.
    """
    if not shares:
        raise ValueError("shares is empty; give at least one share")
    ws = [Fraction(float(s)) for s in shares]  # exact rationals of the floats given
    if any(w < 0 for w in ws):
        raise ValueError(f"shares must be >= 0 (got {list(shares)!r})")
    if total < 0:
        return [-p for p in split_integer(-total, shares)]
    if sum(ws) == 0:
        ws = [Fraction(1)] * len(ws)
    whole = sum(ws)
    quotas = [total * w / whole for w in ws]
    parts = [q.numerator // q.denominator for q in quotas]
    left = total - sum(parts)
    order = sorted(range(len(ws)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def to_units(value: float, unit: str) -> int:
    """``value`` in integer units of ``unit`` (cents for currency, whole units for counts)."""
    if unit not in SPLIT_SCALE:
        raise ValueError(f"unit {unit!r} is not split (ratios and levels are copied per period); "
                         f"splittable units: {sorted(SPLIT_SCALE)}")
    return round(Fraction(str(float(value))) * SPLIT_SCALE[unit])


def split_target(total: float, shares: Sequence[float], unit: str) -> list[float]:
    """Split ``total`` by ``shares`` so the parts sum exactly to the total in cents/units.

    Parameters
    ----------
    total
        The whole target (rounded to the cent for currency, to a whole unit for counts).
    shares
        Non-negative weights, one per part.
    unit
        ``"currency"`` (cents) or ``"count"`` (whole units); ratios and levels raise ``ValueError``.

    Returns
    -------
    list[float]
        One value per share; ``sum(round(p * scale)) == round(total * scale)``.

    Examples
    --------
    >>> split_target(100, [1, 1, 1], "currency")
    [33.34, 33.33, 33.33]
    """
    scale = SPLIT_SCALE.get(unit)
    parts = split_integer(to_units(total, unit), shares)
    return [p / scale for p in parts]  # type: ignore[operator]


def split_year(total: float, month_shares: Sequence[float], unit: str) -> tuple[list[float], list[float]]:
    """Split an annual total into 4 quarters, then each quarter into its 3 months.

    Returns ``(quarters, months)``; Σ months of a quarter == the quarter, Σ quarters == total,
    all exactly in integer cents/units.
    """
    if len(month_shares) != 12:
        raise ValueError(f"need 12 monthly shares, got {len(month_shares)}")
    ms = [float(s) for s in month_shares]
    if sum(ms) <= 0:
        ms = [1.0] * 12
    q_shares = [sum(ms[3 * q:3 * q + 3]) for q in range(4)]
    scale = SPLIT_SCALE[unit]
    q_units = split_integer(to_units(total, unit), q_shares)
    m_units: list[int] = []
    for q in range(4):
        m_units += split_integer(q_units[q], ms[3 * q:3 * q + 3])
    return [u / scale for u in q_units], [u / scale for u in m_units]


# ---------------------------------------------------------------- seasonality


def _month_index(s: pd.Series) -> pd.Series:
    """Reindex a monthly series (index of month-start dates) to a continuous monthly range."""
    s = s.sort_index()
    idx = pd.date_range(s.index.min(), s.index.max(), freq="MS")
    return s.reindex(idx)


def seasonal_shares(history: pd.Series) -> tuple[list[float], str, list[Note]]:
    """Monthly shares (Jan..Dec, summing to 1) from a monthly history.

    Parameters
    ----------
    history
        Monthly actuals indexed by month-start timestamps (missing months allowed).

    Returns
    -------
    (shares, method, notes)
        ``method`` is ``"shares"`` (complete calendar years), ``"trailing12"`` (latest 12 months)
        or ``"even"`` (less than a year of history; a note says so).
    """
    s = history.dropna().astype("float64")
    if s.empty:
        return [1 / 12] * 12, "even", [Note("plan.note.even_split", {"months": 0})]
    s = _month_index(s)
    years = []
    for _, g in s.groupby(s.index.year):
        if len(g) == 12 and g.notna().all() and g.sum() > 0 and (g >= 0).all():
            years.append((g / g.sum()).to_numpy())
    if years:
        avg = sum(years) / len(years)
        return [float(x) for x in avg], "shares", []
    tail = s.iloc[-12:]
    if len(tail) == 12 and tail.notna().all() and tail.sum() > 0 and (tail >= 0).all():
        by_month = pd.Series(tail.to_numpy(), index=tail.index.month).sort_index()
        return [float(x) for x in by_month / by_month.sum()], "trailing12", []
    return [1 / 12] * 12, "even", [Note("plan.note.even_split", {"months": int(s.notna().sum())})]


def seasonal_indices(history: pd.Series) -> tuple[list[float], list[Note]] | None:
    """Multiplicative seasonal indices (Jan..Dec, normalised to sum to 12), or None if not possible.

    Needs ≥ 24 consecutive months of strictly positive values (statsmodels ``seasonal_decompose``,
    ``model="multiplicative"``, ``period=12``).
    """
    from statsmodels.tsa.seasonal import seasonal_decompose

    s = history.dropna().astype("float64")
    if s.empty:
        return None
    s = _month_index(s)
    if s.isna().any():  # keep the run of consecutive months after the last gap
        s = s[s.index > s.index[s.isna()].max()]
    if len(s) < 24 or (s <= 0).any():
        return None
    dec = seasonal_decompose(s, model="multiplicative", period=12)
    idx = pd.Series(dec.seasonal.to_numpy(), index=s.index.month).groupby(level=0).mean().sort_index()
    idx = idx * 12 / idx.sum()
    return [float(x) for x in idx], []


def month_shares(history: pd.Series, method: str) -> tuple[list[float], str, list[Note]]:
    """Shares (Jan..Dec, sum 1) by ``method`` (``shares`` or ``seasonal_indices``), with fallbacks."""
    if method == "seasonal_indices":
        got = seasonal_indices(history)
        if got is not None:
            idx, notes = got
            return [x / 12 for x in idx], "seasonal_indices", notes
        shares, used, notes = seasonal_shares(history)
        return shares, used, [Note("plan.note.indices_fallback", {}), *notes]
    return seasonal_shares(history)


# ---------------------------------------------------------------- monthly actuals (Ibis)


def _monthly(t: ibis.Table, ts: str, value: ibis.Value | None, start: date, end: date) -> pd.Series:
    col = t[ts]
    t = t.filter((col >= datetime(start.year, start.month, start.day)) & (col < datetime(end.year, end.month, end.day)))
    month = col.truncate("M").name("month")
    agg = t.group_by(month).aggregate(v=value if value is not None else t.count())
    df = agg.execute()
    if df.empty:
        return pd.Series(dtype="float64")
    return pd.Series(df["v"].astype("float64").to_numpy(), index=pd.to_datetime(df["month"])).sort_index()


def monthly_actuals(pack: Pack, metric: str, start: date, end: date) -> pd.Series:
    """Monthly actuals of an additive metric in ``[start, end)``, indexed by month start.

    Built-ins computed here in Ibis: ``gmv`` and ``orders`` (paid orders, :mod:`opsnb.metrics.orders`),
    ``refunds`` (Σ of refund rows), ``new_users`` (users by ``signup_at``). Any other metric
    comes from the ``actual`` column of the ``kpis`` table (monthly rows ``YYYY-MM``).
    Raises :class:`NoData` when the needed table is absent.
    """
    if metric in ("gmv", "orders", "refunds"):
        o = pack.table("orders")
        if metric == "refunds":
            o = refunded(o)
            return _monthly(o, "ts", money_sum(o.amount), start, end)
        o = paid(o)
        return _monthly(o, "ts", money_sum(o.amount) if metric == "gmv" else None, start, end)
    if metric == "new_users":
        return _monthly(pack.table("users"), "signup_at", None, start, end)
    k = pack.table("kpis")
    if "actual" not in k.columns:
        raise NoData("kpis", f"no 'actual' column for metric {metric!r}")
    df = k.filter((k.metric == metric) & k.actual.notnull()).select("period", "actual").execute()
    df = df[df["period"].astype(str).str.fullmatch(r"\d{4}-\d{2}")]
    if df.empty:
        return pd.Series(dtype="float64")
    s = pd.Series(df["actual"].astype("float64").to_numpy(), index=pd.to_datetime(df["period"] + "-01")).sort_index()
    return s[(s.index >= pd.Timestamp(start)) & (s.index < pd.Timestamp(end))]


# ---------------------------------------------------------------- annual plan


@dataclass(frozen=True)
class AnnualPlan:
    """Monthly, quarterly and annual targets of the plan year.

    ``targets`` columns: metric, unit, level (year / quarter / quarter_rest — the months of a
    quarter still to come — / month), period (label), share (of the year's target; None for
    copied metrics), target (the target the period's review judges by: the goals page's resolver,
    else the plan's proposal), source (the resolver's source, or ``"plan"``), proposed (the plan's
    own split; None where it proposes nothing), actual (year-to-date actual on the year row in
    ``rest_of_year`` mode), basis (growth/kpis/trailing12/run_rate/copied), method (shares,
    trailing12, seasonal_indices, even, copied), months. ``notes`` maps a metric to its reader notes.
    """

    year: int
    mode: str  # "next_year" (period ends at year end) or "rest_of_year"
    targets: pd.DataFrame
    notes: dict[str, list[Note]]

    def for_period(self, label: str) -> pd.DataFrame:
        """The targets of one period label (``2026-11``, ``2026-Q4``, ``2026``): the period's own
        target (a quarter's, not the rest of it)."""
        t = self.targets
        return t[(t["period"] == label) & (t["level"] != "quarter_rest")].reset_index(drop=True)

    def rest_of(self, label: str) -> pd.DataFrame:
        """The rows of quarter ``label`` that hold only its months still to come (empty when none)."""
        t = self.targets
        return t[(t["period"] == label) & (t["level"] == "quarter_rest")].reset_index(drop=True)


def plan_year(period: Period) -> tuple[int, str]:
    """The plan year of a review: next year when the period ends on 31 December, else this year."""
    y = period.start.year
    return (y + 1, "next_year") if period.end == date(y + 1, 1, 1) else (y, "rest_of_year")


def _kpis_target(pack: Pack, metric: str, label: str | None) -> float | None:
    """Target of ``metric`` for period ``label`` from the kpis table (None if absent)."""
    if not pack.has("kpis"):
        return None
    k = pack.table("kpis")
    df = k.filter((k.metric == metric) & k.target.notnull()).select("period", "target").execute()
    if label is not None:
        df = df[df["period"].astype(str) == label]
        return float(df["target"].iloc[0]) if len(df) else None
    monthly = df[df["period"].astype(str).str.fullmatch(r"\d{4}-\d{2}")].sort_values("period")
    return float(monthly["target"].iloc[-1]) if len(monthly) else None


def _year_sum(hist: pd.Series, year: int) -> tuple[float, int]:
    s = hist[hist.index.year == year].dropna()
    return float(s.sum()), int(len(s))


def _rows(metric: str, unit: str, year: int, months: list[int], m_targets: list[float], shares: list[float],
          basis: str, method: str) -> list[dict[str, Any]]:
    scale = SPLIT_SCALE[unit]
    out = []
    by_q: dict[int, list[int]] = {}
    for m, v in zip(months, m_targets, strict=True):
        by_q.setdefault((m - 1) // 3 + 1, []).append(round(v * scale))
        out.append(dict(metric=metric, unit=unit, level="month", period=f"{year}-{m:02d}", share=shares[m - 1],
                        target=v, actual=None, basis=basis, method=method, months=1))
    for q, units in by_q.items():
        in_q = [m for m in months if (m - 1) // 3 + 1 == q]
        out.append(dict(metric=metric, unit=unit, level="quarter", period=f"{year}-Q{q}",
                        share=sum(shares[m - 1] for m in in_q), target=sum(units) / scale, actual=None,
                        basis=basis, method=method, months=len(in_q)))
    return out


def annual_plan(pack: Pack, period: Period, settings: Any, *,
                extra_targets: pd.DataFrame | None = None) -> AnnualPlan:
    """Next year's (or the rest of this year's) targets per volume KPI, split by seasonality.

    * ``next_year`` (the review period ends on 31 December): annual target = this year's actual
      × (1 + ``plan.annual_growth``); with fewer than 12 months this year, the latest 12 months
      (``trailing12``) or the annualised run rate (``run_rate``) is the base, with a note. The
      year is split into quarters and months by seasonal shares (:func:`month_shares`).
    * ``rest_of_year``: annual target = the year's target as the goals page resolves it
      (:func:`opsnb.metrics.kpis.resolve_target` over the kpis table and ``extra_targets``: an
      explicit row, else the sum of its months or quarters) (``kpis``), else last year's actual × (1 + g) (``growth``), else the annualised run rate
      × (1 + g); the remaining target (annual − year-to-date actual, at least 0) is split over
      the remaining months by their seasonal shares.

    Metrics in ``plan.copy_kpis`` (ratios, averages) are not split: the kpis table's target for
    the year (or its latest monthly target) is copied to every period.
    Raises :class:`NoData` when no metric could be planned.
    """
    ps = settings.plan
    year, mode = plan_year(period)
    this = period.start.year
    hist_start = date(this - ps.history_years, 1, 1)
    g = ps.annual_growth
    rows: list[dict[str, Any]] = []
    notes: dict[str, list[Note]] = {}
    months = list(range(1, 13)) if mode == "next_year" else list(range(period.end.month, 13))
    reasons = []
    for key in ps.volume_kpis:
        kpi = settings.kpi(key)
        if kpi.unit not in SPLIT_SCALE:
            notes[key] = [Note("plan.note.not_splittable", {"metric": key})]
            continue
        try:
            hist = monthly_actuals(pack, kpi.definition if kpi.source == "builtin" else key, hist_start, period.end)
        except NoData as exc:
            reasons.append(f"{key}: {exc}")
            notes[key] = [Note("plan.note.no_history", {"metric": key})]
            continue
        if hist.empty:
            reasons.append(f"{key}: no monthly actuals")
            notes[key] = [Note("plan.note.no_history", {"metric": key})]
            continue
        shares, method, mnotes = month_shares(hist, ps.split_method)
        mnotes = list(mnotes)
        ytd, n_this = _year_sum(hist, this)
        annual: float | None = None
        basis = "growth"
        if mode == "rest_of_year":
            # the same annual target the goals page shows (kpis table, else the sum of its months or
            # quarters, else last review's plan): one figure, one value
            tgt = resolve_target(target_table(pack, extra_targets), kpi, period.year())
            annual = tgt.value
            basis = "kpis" if annual is not None else basis
            if annual is None:
                last, n_last = _year_sum(hist, this - 1)
                if n_last == 12:
                    annual = last * (1 + g)
        if annual is None:
            base, n_base = ytd, n_this
            if n_base < 12:
                tail = hist.loc[:pd.Timestamp(period.end) - pd.Timedelta(days=1)].dropna().iloc[-12:]
                if len(tail) == 12 and mode == "next_year":
                    base, basis = float(tail.sum()), "trailing12"
                elif n_base > 0:
                    base, basis = ytd * 12 / n_base, "run_rate"
                    mnotes.append(Note("plan.note.run_rate", {"months": n_base}))
                else:
                    notes[key] = [Note("plan.note.no_history", {"metric": key})]
                    continue
            annual = base * (1 + g)
        annual = to_units(annual, kpi.unit) / SPLIT_SCALE[kpi.unit]
        if mode == "next_year":
            _, m_targets = split_year(annual, shares, kpi.unit)
            rows.append(dict(metric=key, unit=kpi.unit, level="year", period=str(year), share=1.0, target=annual,
                             actual=None, basis=basis, method=method))
        else:
            ytd_units = to_units(ytd, kpi.unit)
            remaining = to_units(annual, kpi.unit) - ytd_units
            rem_shares = [shares[m - 1] for m in months]
            if remaining <= 0:
                mnotes.append(Note("plan.note.already_met", {"metric": key}))
                full_year = split_integer(to_units(annual, kpi.unit), shares)
                remaining = sum(full_year[m - 1] for m in months)
            m_targets = [u / SPLIT_SCALE[kpi.unit] for u in split_integer(remaining, rem_shares)]
            rows.append(dict(metric=key, unit=kpi.unit, level="year", period=str(year), share=1.0, target=annual,
                             actual=ytd_units / SPLIT_SCALE[kpi.unit], basis=basis, method=method))
        rows += _rows(key, kpi.unit, year, months, m_targets, shares, basis, method)
        notes[key] = mnotes
    for key in ps.copy_kpis:
        kpi = settings.kpi(key)
        value = _kpis_target(pack, key, str(year))
        if value is None:
            value = _kpis_target(pack, key, None)
        if value is None:
            notes[key] = [Note("plan.note.no_target", {"metric": key})]
            continue
        labels = [("year", str(year))]
        labels += [("quarter", f"{year}-Q{q}") for q in sorted({(m - 1) // 3 + 1 for m in months})]
        labels += [("month", f"{year}-{m:02d}") for m in months]
        rows += [dict(metric=key, unit=kpi.unit, level=lv, period=lb, share=None, target=value, actual=None,
                      basis="copied", method="copied") for lv, lb in labels]
        notes.setdefault(key, [])
    if not rows:
        raise NoData("orders", "no metric of plan.volume_kpis/copy_kpis has history or a target: " + "; ".join(reasons))
    df = _reconcile(pd.DataFrame(rows), target_table(pack, extra_targets), settings)
    return AnnualPlan(year, mode, df, notes)


def _reconcile(df: pd.DataFrame, targets: pd.DataFrame, settings: Any) -> pd.DataFrame:
    """One plan: each period's ``target`` is the one its review will judge by.

    The split above is the plan's *proposal* (``proposed``). Where the goals page's resolver
    (:func:`opsnb.metrics.kpi_targets.resolve_target`: the kpis table, the previous plan, sums of
    months or quarters) has a target for the period, that is the ``target`` (``source`` says where
    it comes from) and the proposal stands beside it; elsewhere the proposal is the target
    (``source`` ``"plan"``) and the plan publishes it for the next review. A quarter of which only
    some months are still to come gets two rows: the quarter's own target (``level`` quarter) and
    the months still to come (``level`` ``quarter_rest``). Ratios and averages (copied) have a
    quarter or year row only where the resolver has a target for that quarter or year: a year's
    row of a ratio is never a month's target.
    """
    out: list[dict[str, Any]] = []
    for r in df.to_dict("records"):
        kpi = settings.kpi(r["metric"])
        copied = r["basis"] == "copied"
        proposed = r["target"]
        per = Period.parse(str(r["period"]))
        n_months = r.get("months")
        if r["level"] == "quarter" and n_months is not None and not pd.isna(n_months) and int(n_months) < 3:
            rest = [m for m in per.month_periods() if f"{m.label}" in set(df.loc[df["metric"] == r["metric"], "period"])]
            got = [resolve_target(targets, kpi, m).value for m in rest]
            whole = resolve_target(targets, kpi, per)
            out.append({**r, "level": "quarter", "months": 3, "target": whole.value, "proposed": None,
                        "source": whole.source, "share": None})
            rest_target = None if any(v is None for v in got) else float(sum(v for v in got if v is not None))
            out.append({**r, "level": "quarter_rest", "target": rest_target if rest_target is not None else proposed,
                        "proposed": proposed, "source": SOURCE_SUM_MONTHS if rest_target is not None else "plan",
                        "share": None})
            continue
        tgt = resolve_target(targets, kpi, per)
        if copied and r["level"] != "month" and tgt.value is None:
            continue  # a ratio's quarter or year target is its own, never a month's copied
        out.append({**r, "target": tgt.value if tgt.value is not None else proposed,
                    "proposed": None if copied and r["level"] != "month" else proposed,
                    "source": tgt.source if tgt.value is not None else "plan", "share": None})
    res = pd.DataFrame(out)
    if res.empty:
        return res
    annual = {m: t for m, lv, t, b in zip(res["metric"], res["level"], res["target"], res["basis"], strict=True)
              if lv == "year" and b != "copied"}
    res["share"] = pd.array([None if b == "copied" or not annual.get(m) or t is None or pd.isna(t) else t / annual[m]
                             for m, t, b in zip(res["metric"], res["target"], res["basis"], strict=True)], dtype="Float64")
    res["actual"] = res["actual"].astype("Float64")
    res["target"] = res["target"].astype("float64")
    res["proposed"] = pd.array([None if v is None or pd.isna(v) else float(v) for v in res["proposed"]], dtype="Float64")
    order = {"year": 0, "quarter": 1, "quarter_rest": 2, "month": 3}
    return res.sort_values(["metric", "level", "period"], key=lambda c: c.map(order) if c.name == "level" else c,
                           kind="stable").reset_index(drop=True)
