"""KPI values, targets and attainment — the numbers of the goals section (01 目标达成).

Everything here is pure compute: Ibis expressions on the pack, small pandas results, nothing
rendered. Use it outside a notebook::

    >>> from opsnb.pack import open_pack
    >>> from opsnb.params import load_params
    >>> from opsnb.periods import Period
    >>> from opsnb.metrics.kpis import attainment, kpi_value
    >>> pack, settings = open_pack("data/sample"), load_params()
    >>> kpi_value(pack, settings.kpi("gmv"), Period.parse("2026-10"))
    KPIValue(value=..., reason=None)
    >>> attainment(pack, Period.parse("2026-10"), settings)        # one row per KPI

Built-in definitions (period ``P`` = ``[start, end)`` in local days; "paid": :mod:`opsnb.metrics.orders`)
-----------------------------------------------------------------------------------------------
* ``new_users``       users with ``signup_at`` in P.
* ``active_users``    average DAU: Σ over the days of P of distinct users with an event that day,
                      divided by the number of *open* days of P (``business_days``: every day by
                      default; days without events count as 0; the Online Retail import's target
                      rule divides the same way).
* ``mau``             distinct users with any event in P.
* ``gmv``/``orders``  Σ amount / count of paid orders in P. ``aov`` = gmv ÷ orders.
* ``paying_users``    distinct users with a paid order in P.
* ``conversion_rate`` paying users ÷ mau.
* ``repurchase_rate`` paying users with ≥ 2 paid orders in P ÷ paying users.
* ``retention_d30``   classic "day-30" (第30日) retention measured in P: the cohort is every user
                      whose signup day ``d`` satisfies ``d + 30 ∈ P`` (so day 30 falls in P; signup day
                      is day 0); retained = the user has an event on exactly day ``d + 30``.
                      Value = retained ÷ cohort.
* ``churn_rate``      distinct users active in the previous period of the same kind (``P.previous()``,
                      always the full period) who have no event in P ÷ those previous active users.
* ``cac``             channel_spend cost in P ÷ new users in P.
* ``roi``             GMV of paid orders in P with a non-empty ``channel`` ÷ channel_spend cost in P.
* ``resolution_rate`` tickets created in P and resolved before the end of P ÷ tickets created in P
                      (so a published month never changes when late tickets are closed).
* ``resolution_hours`` mean hours from ``created_at`` to ``resolved_at`` of those resolved tickets.
* ``satisfaction``    mean ``satisfaction`` of tickets created in P (ratings present).
* ``source: table``   the ``actual`` column of the kpis table row (metric = key, period = P's label).

A value is ``None`` with a reason code (``KPIValue.reason``; the view translates it with the
i18n key ``goals.reason.<code>``) when it is undefined: a zero denominator, a missing table
(``missing_table:<name>``), or a period the pack does not cover (before its first day:
``not_covered``; data starting inside the period: ``partly_covered``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import user_days_between
from opsnb.metrics.kpi_targets import (
    Shape,
    Target,
    ToDate,
    attainment_ratio,
    is_additive,
    is_cumulative,
    is_nan,
    kpis_frame,
    resolve_target,
    status_of,
    target_table,
    to_date_target,
)
from opsnb.metrics.orders import paid
from opsnb.pack.core import Pack
from opsnb.pack.expr import flag, money_sum
from opsnb.params import KPI, Label, Settings, StatusBands
from opsnb.periods import Period

__all__ = [
    "BUILTINS",
    "KPIValue",
    "Target",
    "ToDate",
    "as_of_day",
    "attainment",
    "attainment_ratio",
    "by_quarter",
    "change",
    "is_additive",
    "kpi_series",
    "kpi_value",
    "resolve_target",
    "status_of",
    "target_table",
    "trend",
    "ytd",
]

@dataclass(frozen=True)
class KPIValue:
    """A KPI value for one period: ``value`` is ``None`` when undefined, ``reason`` says why."""

    value: float | None
    reason: str | None = None


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _periods_table(periods: Sequence[Period]) -> ibis.Table:
    return ibis.memtable(pd.DataFrame({
        "pi": list(range(len(periods))),
        "p_start": pd.to_datetime([p.start for p in periods]).astype("datetime64[us]"),
        "p_end": pd.to_datetime([p.end for p in periods]).astype("datetime64[us]"),
    }))


def _bucket(t: ibis.Table, col: str, periods: Sequence[Period]) -> ibis.Table:
    """Rows of ``t`` tagged with ``pi``, the index of each period whose range holds ``t[col]``.

    A range join against a tiny period table: overlapping periods (a month and its quarter)
    are fine, a row lands in each period holding it. One query covers many periods.
    """
    lo = _ts(min(p.start for p in periods))
    hi = _ts(max(p.end for p in periods))
    t = t.filter((t[col] >= lo) & (t[col] < hi))
    pt = _periods_table(periods)
    return t.join(pt, [t[col] >= pt.p_start, t[col] < pt.p_end]).select(t, pt.pi)


def _run(pack: Pack, expr: ibis.Table, n: int, cols: Sequence[str]) -> pd.DataFrame:
    """Execute a grouped-by-``pi`` expression; every period index 0..n-1 present, missing → 0."""
    df = pack.con.execute(expr)
    out = pd.DataFrame({"pi": range(n)}).merge(df, on="pi", how="left")
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="raise").astype("float64").fillna(0.0)
    return out.set_index("pi")


def _memo(pack: Pack, key: tuple[Any, ...], fn: Callable[[], Any]) -> Any:
    """Cache a small component result on the pack object (a pack is read-only once opened).

    Several KPIs share one component (GMV, orders, AOV, payers and conversion all come from one
    orders aggregate), so an attainment table runs each component query once.
    """
    memo = pack.__dict__.setdefault("_opsnb_memo", {})
    if key not in memo:
        memo[key] = fn()
    return memo[key]


def _table(pack: Pack, name: str) -> ibis.Table:
    return pack.table(name)


def _data_range(pack: Pack) -> tuple[date | None, date | None]:
    """The pack's day range, cached on the pack object (it costs two queries)."""
    cached = pack.__dict__.get("_opsnb_day_range")
    if cached is None:
        cached = pack.day_range()
        pack.__dict__["_opsnb_day_range"] = cached
    return cached


def _coverage_reason(pack: Pack, p: Period) -> str | None:
    first, last = _data_range(pack)
    if first is None or last is None:
        return None
    if p.end <= first or p.start > last:
        return "not_covered"
    if p.start < first:
        return "partly_covered"
    return None


def _ratio(num: float, den: float, reason: str) -> KPIValue:
    if den == 0 or pd.isna(den):
        return KPIValue(None, reason)
    return KPIValue(float(num) / float(den))


# ---------------------------------------------------------------- built-in definitions
# Each takes (pack, periods) and returns one KPIValue per period, from one grouped query per
# table involved (never one query per period).


def _new_users_counts(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    return _memo(pack, ("_new_users_counts", tuple(periods)), lambda: _new_users_counts_q(pack, periods))


def _new_users_counts_q(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    u = _bucket(_table(pack, "users"), "signup_at", periods)
    return _run(pack, u.group_by("pi").aggregate(n=u.user_id.nunique()), len(periods), ["n"])["n"]


def _orders_stats(pack: Pack, periods: Sequence[Period], *, channel_only: bool = False) -> pd.DataFrame:
    return _memo(pack, ("_orders_stats", tuple(periods), channel_only),
                 lambda: _orders_stats_q(pack, periods, channel_only=channel_only))


def _orders_stats_q(pack: Pack, periods: Sequence[Period], *, channel_only: bool = False) -> pd.DataFrame:
    o = paid(_table(pack, "orders"))
    if channel_only:
        if "channel" not in o.columns:
            return pd.DataFrame({"gmv": 0.0, "orders": 0.0, "payers": 0.0}, index=pd.RangeIndex(len(periods), name="pi"))
        ch = o.channel.strip()
        o = o.filter(ch.notnull() & (ch != ""))
    b = _bucket(o, "ts", periods)
    expr = b.group_by("pi").aggregate(gmv=money_sum(b.amount), orders=b.order_id.count(), payers=b.user_id.nunique())
    return _run(pack, expr, len(periods), ["gmv", "orders", "payers"])


def _mau_counts(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    return _memo(pack, ("_mau_counts", tuple(periods)), lambda: _mau_counts_q(pack, periods))


def _mau_counts_q(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    e = _bucket(_user_days(pack, periods), "day", periods)
    return _run(pack, e.group_by("pi").aggregate(n=e.user_id.nunique()), len(periods), ["n"])["n"]


def _user_days(pack: Pack, periods: Sequence[Period]) -> ibis.Table:
    """Distinct (user_id, day) of events within the periods' span: far fewer rows than events."""
    e = user_days_between(pack, min(p.start for p in periods), max(p.end for p in periods))
    return e.select(user_id=e.user_id, day=e.ts)


def _spend(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    return _memo(pack, ("_spend", tuple(periods)), lambda: _spend_q(pack, periods))


def _spend_q(pack: Pack, periods: Sequence[Period]) -> pd.Series:
    s = _bucket(_table(pack, "channel_spend"), "date", periods)
    return _run(pack, s.group_by("pi").aggregate(cost=money_sum(s.cost)), len(periods), ["cost"])["cost"]


def _d_new_users(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    return [KPIValue(float(v)) for v in _new_users_counts(pack, periods)]


def _d_active_users(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    # Σ daily distinct users = number of distinct (user, day) pairs in the period, over its open days
    e = _bucket(_user_days(pack, periods), "day", periods)
    r = _run(pack, e.group_by("pi").aggregate(s=e.count()), len(periods), ["s"])["s"]
    days = [pack.days_open(p.start, p.end) for p in periods]
    return [KPIValue(float(r[i]) / n) if n else KPIValue(None, "no_open_days") for i, n in enumerate(days)]


def _d_mau(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    return [KPIValue(float(v)) for v in _mau_counts(pack, periods)]


def _d_gmv(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    return [KPIValue(float(v)) for v in _orders_stats(pack, periods)["gmv"]]


def _d_orders(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    return [KPIValue(float(v)) for v in _orders_stats(pack, periods)["orders"]]


def _d_aov(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    s = _orders_stats(pack, periods)
    return [_ratio(g, n, "no_orders") for g, n in zip(s["gmv"], s["orders"], strict=True)]


def _d_paying_users(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    return [KPIValue(float(v)) for v in _orders_stats(pack, periods)["payers"]]


def _d_conversion_rate(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    payers = _orders_stats(pack, periods)["payers"]
    mau = _mau_counts(pack, periods)
    return [_ratio(p, a, "no_active_users") for p, a in zip(payers, mau, strict=True)]


def _d_repurchase_rate(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    b = _bucket(paid(_table(pack, "orders")), "ts", periods)
    per_user = b.group_by(["pi", "user_id"]).aggregate(k=b.order_id.count())
    expr = per_user.group_by("pi").aggregate(payers=per_user.count(), repeat=(per_user.k >= 2).sum())
    r = _run(pack, expr, len(periods), ["payers", "repeat"])
    return [_ratio(a, b_, "no_paying_users") for a, b_ in zip(r["repeat"], r["payers"], strict=True)]


def _d_retention_d30(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    users = _table(pack, "users")
    # day 30 of each user (signup day + 30), bucketed into the periods it falls in
    u = users.select(user_id=users.user_id, d30=(users.signup_at.date() + ibis.interval(days=30)).cast("timestamp"))
    cohort = _bucket(u.filter(u.user_id.notnull()), "d30", periods)
    active = _user_days(pack, periods)
    j = cohort.left_join(active, [cohort.user_id == active.user_id, cohort.d30 == active.day])
    expr = j.group_by("pi").aggregate(cohort=j.user_id.count(), kept=j.day.notnull().sum())
    r = _run(pack, expr, len(periods), ["cohort", "kept"])
    return [_ratio(k, c, "no_cohort") for k, c in zip(r["kept"], r["cohort"], strict=True)]


def _d_churn_rate(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    # the previous period is always the full one before the (possibly clipped) period
    prevs = [p.full.previous() for p in periods]
    days = _user_days(pack, list(periods) + prevs)
    cur = _bucket(days, "day", periods).select("pi", "user_id").distinct()
    before = _bucket(days, "day", prevs).select("pi", "user_id").distinct()
    j = before.left_join(cur, [before.pi == cur.pi, before.user_id == cur.user_id])
    expr = j.group_by(j.pi).aggregate(base=j.count(), lost=j.user_id_right.isnull().sum())
    r = _run(pack, expr, len(periods), ["base", "lost"])
    out = []
    for i, pv in enumerate(prevs):
        cov = _coverage_reason(pack, pv)
        if cov is not None:
            out.append(KPIValue(None, "no_previous_period"))
        else:
            out.append(_ratio(r["lost"][i], r["base"][i], "no_previous_active"))
    return out


def _d_cac(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    cost = _spend(pack, periods)
    new = _new_users_counts(pack, periods)
    return [_ratio(c, n, "no_new_users") for c, n in zip(cost, new, strict=True)]


def _d_roi(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    cost = _spend(pack, periods)
    gmv = _orders_stats(pack, periods, channel_only=True)["gmv"]
    return [_ratio(g, c, "no_spend") for g, c in zip(gmv, cost, strict=True)]


def _bucket_keep_end(t: ibis.Table, col: str, periods: Sequence[Period]) -> ibis.Table:
    lo = _ts(min(p.start for p in periods))
    hi = _ts(max(p.end for p in periods))
    t = t.filter((t[col] >= lo) & (t[col] < hi))
    pt = _periods_table(periods)
    return t.join(pt, [t[col] >= pt.p_start, t[col] < pt.p_end]).select(t, pt.pi, pt.p_end)


def _tickets_stats(pack: Pack, periods: Sequence[Period]) -> pd.DataFrame:
    return _memo(pack, ("_tickets_stats", tuple(periods)), lambda: _tickets_stats_q(pack, periods))


def _tickets_stats_q(pack: Pack, periods: Sequence[Period]) -> pd.DataFrame:
    f = _table(pack, "feedback")
    b = _bucket_keep_end(f, "created_at", periods)
    if "resolved_at" in b.columns:
        done = b.resolved_at.notnull() & (b.resolved_at < b.p_end)
        hours = (b.resolved_at.epoch_seconds() - b.created_at.epoch_seconds()).cast("float64") / 3600.0
        done_n = flag(done).sum()
        hours_sum = hours.sum(where=done)
    else:
        done_n = ibis.literal(0)
        hours_sum = ibis.literal(0.0)
    if "satisfaction" in b.columns:
        rated, sat = b.satisfaction.count(), b.satisfaction.sum()
    else:
        rated, sat = ibis.literal(0), ibis.literal(0.0)
    expr = b.group_by("pi").aggregate(n=b.count(), done=done_n, hours=hours_sum, rated=rated, sat=sat)
    return _run(pack, expr, len(periods), ["n", "done", "hours", "rated", "sat"])


def _d_resolution_rate(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    r = _tickets_stats(pack, periods)
    return [_ratio(d, n, "no_tickets") for d, n in zip(r["done"], r["n"], strict=True)]


def _d_resolution_hours(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    r = _tickets_stats(pack, periods)
    return [_ratio(h, d, "no_resolved") for h, d in zip(r["hours"], r["done"], strict=True)]


def _d_satisfaction(pack: Pack, periods: Sequence[Period]) -> list[KPIValue]:
    r = _tickets_stats(pack, periods)
    return [_ratio(s, n, "no_ratings") for s, n in zip(r["sat"], r["rated"], strict=True)]


@dataclass(frozen=True)
class Builtin:
    """A built-in KPI definition: how to compute it and the tables it reads.

    Which definitions add up over months and grow through a period is said once, in
    :data:`opsnb.metrics.kpi_targets.ADDITIVE_BUILTINS` and ``CUMULATIVE_BUILTINS``.
    """

    compute: Callable[[Pack, Sequence[Period]], list[KPIValue]]
    tables: tuple[str, ...]


BUILTINS: dict[str, Builtin] = {
    "new_users": Builtin(_d_new_users, ("users",)),
    "active_users": Builtin(_d_active_users, ("events",)),
    "mau": Builtin(_d_mau, ("events",)),
    "gmv": Builtin(_d_gmv, ("orders",)),
    "orders": Builtin(_d_orders, ("orders",)),
    "aov": Builtin(_d_aov, ("orders",)),
    "paying_users": Builtin(_d_paying_users, ("orders",)),
    "conversion_rate": Builtin(_d_conversion_rate, ("orders", "events")),
    "repurchase_rate": Builtin(_d_repurchase_rate, ("orders",)),
    "retention_d30": Builtin(_d_retention_d30, ("users", "events")),
    "churn_rate": Builtin(_d_churn_rate, ("events",)),
    "cac": Builtin(_d_cac, ("channel_spend", "users")),
    "roi": Builtin(_d_roi, ("channel_spend", "orders")),
    "resolution_rate": Builtin(_d_resolution_rate, ("feedback",)),
    "resolution_hours": Builtin(_d_resolution_hours, ("feedback",)),
    "satisfaction": Builtin(_d_satisfaction, ("feedback",)),
}


# ---------------------------------------------------------------- public: values


def _as_kpi(kpi: KPI | str) -> KPI:
    if isinstance(kpi, KPI):
        return kpi
    for k in Settings().goals.kpis:
        if k.key == kpi:
            return k
    return KPI(key=kpi, label=Label(zh=kpi, en=kpi), unit="count")


def kpi_series(pack: Pack, kpi: KPI | str, periods: Sequence[Period]) -> pd.DataFrame:
    """Values of one KPI over many periods, from one grouped query per table involved.

    Parameters
    ----------
    pack : Pack
    kpi : KPI or str
        A KPI of the registry (or the key of a built-in definition).
    periods : sequence of Period
        Any periods (months, quarters, years, clipped to-date periods; they may overlap).

    Returns
    -------
    pandas.DataFrame
        One row per period, in order: ``period`` (label), ``start``, ``end`` (exclusive dates),
        ``value`` (float or ``None``), ``reason`` (code or ``None``).
    """
    vals = _values(pack, _as_kpi(kpi), list(periods))
    return pd.DataFrame({
        "period": [p.label for p in periods],
        "start": [p.start for p in periods],
        "end": [p.end for p in periods],
        "value": pd.Series([v.value for v in vals], dtype="object"),
        "reason": pd.Series([v.reason for v in vals], dtype="object"),
    })


def kpi_value(pack: Pack, kpi: KPI | str, period: Period) -> KPIValue:
    """The value of ``kpi`` for one period (see the module docstring for every definition)."""
    return _values(pack, _as_kpi(kpi), [period])[0]


def _values(pack: Pack, kpi: KPI, periods: list[Period]) -> list[KPIValue]:
    if not periods:
        return []
    if kpi.source == "table":
        df = kpis_frame(pack)
        rows = df[df["metric"] == kpi.key]
        out = []
        for p in periods:
            hit = rows[rows["period"] == p.label]["actual"].dropna()
            out.append(KPIValue(float(hit.iloc[-1])) if len(hit) else KPIValue(None, "no_table_value"))
        return out
    b = BUILTINS.get(kpi.definition)
    if b is None:
        return [KPIValue(None, "unknown_definition")] * len(periods)
    missing = [t for t in b.tables if not pack.has(t)]
    if missing:
        return [KPIValue(None, f"missing_table:{missing[0]}")] * len(periods)
    # dedupe so repeated periods cost nothing; covered periods only go to the database
    uniq: list[Period] = []
    for p in periods:
        if p not in uniq:
            uniq.append(p)
    cov = {p: _coverage_reason(pack, p) for p in uniq}
    todo = [p for p in uniq if cov[p] is None]
    got = dict(zip(todo, b.compute(pack, todo), strict=True)) if todo else {}
    return [got[p] if cov[p] is None else KPIValue(None, cov[p]) for p in periods]


# ---------------------------------------------------------------- public: targets


# ---------------------------------------------------------------- public: attainment


def change(new: float | None, old: float | None, unit: str) -> tuple[float | None, str, str | None]:
    """Change from ``old`` to ``new``: relative (volumes), percentage points as a fraction (ratios) or the
    difference of the ``x`` of ``1:x`` (ROI).

    Returns ``(value, kind, reason)``; kind is ``"pp"`` for ratio units, ``"diff"`` for ROI, else
    ``"relative"`` (shown by ``fmt.delta``). ``None`` with ``no_base`` / ``zero_base`` / ``no_actual`` when undefined.
    """
    kind = {"ratio": "pp", "roi": "diff"}.get(unit, "relative")
    if new is None or is_nan(new):
        return None, kind, "no_actual"
    if old is None or is_nan(old):
        return None, kind, "no_base"
    if kind != "relative":
        return float(new) - float(old), kind, None
    if old == 0:
        return None, kind, "zero_base"
    return (float(new) - float(old)) / abs(float(old)), kind, None


def _same_days(p: Period, n: int) -> Period:
    """The first ``n`` days of ``p`` (like-for-like comparison of a to-date period)."""
    return Period(p.start, min(p.end, p.start + timedelta(days=n)), p.kind)


def _last_day(pack: Pack) -> date | None:
    return _data_range(pack)[1]


def as_of_day(pack: Pack, period: Period) -> date:
    """The review's as-of day: the period's last day, or the data's last day when the pack ends earlier.

    No figure of a review reads a day after it (a quarter or year under way stops there, whatever
    later days the pack holds), and every status is judged as of it.
    """
    last = _last_day(pack)
    return period.last_day if last is None else min(period.last_day, last)


def _shape(pack: Pack, kpi: KPI) -> Shape:
    """Last year's daily shape of ``kpi``: its value over the first days ÷ over the whole period."""
    def share(whole: Period, first: Period) -> float | None:
        part, total = _values(pack, kpi, [first, whole])
        if part.value is None or total.value is None or not total.value:
            return None
        return float(part.value) / float(total.value)

    return share


@dataclass(frozen=True)
class _Plan:
    """The periods one assessment needs, so a single kpi_series call covers them all."""

    full: Period
    cur: Period
    partial: bool
    prev: Period
    ly: Period


def _plan(full: Period, as_of: date) -> _Plan:
    cur = full.clip(as_of)
    partial = cur.end < full.end
    n = cur.days
    prev = full.previous()
    ly_full = full.last_year()
    return _Plan(full, cur, partial, _same_days(prev, n) if partial else prev,
                 _same_days(ly_full, n) if partial else ly_full)


def _assess(pack: Pack, kpi: KPI, fulls: list[Period], targets: pd.DataFrame, bands: StatusBands,
            as_of: date, lang: str = "zh") -> list[dict[str, Any]]:
    plans = [_plan(f, as_of) for f in fulls]
    need: list[Period] = []
    for pl in plans:
        need += [pl.cur, pl.prev, pl.ly]
    vals = _values(pack, kpi, need)
    v = dict(zip(need, vals, strict=True))
    shape = _shape(pack, kpi)
    rows = []
    for pl in plans:
        actual = v[pl.cur]
        whole = resolve_target(targets, kpi, pl.full)
        tgt, rule = to_date_target(targets, kpi, pl.full, pl.cur, shape)
        att, why = attainment_ratio(actual.value, tgt.value, kpi.direction)
        if actual.value is None:
            why = actual.reason
        elif tgt.value is None:
            why = tgt.reason or "no_target"
        mom, mom_kind, mom_why = change(actual.value, v[pl.prev].value, kpi.unit)
        yoy, yoy_kind, yoy_why = change(actual.value, v[pl.ly].value, kpi.unit)
        if v[pl.prev].value is None and actual.value is not None:
            mom_why = v[pl.prev].reason if v[pl.prev].reason in ("not_covered", "partly_covered") else "no_base"
        if v[pl.ly].value is None and actual.value is not None:
            yoy_why = "no_previous_year" if v[pl.ly].reason in ("not_covered", "partly_covered") else "no_base"
        rows.append({
            "key": kpi.key, "label": kpi.label(lang), "label_zh": kpi.label.zh, "label_en": kpi.label.en,
            "unit": kpi.unit, "direction": kpi.direction, "period": pl.full.label,
            "actual": actual.value, "target": tgt.value, "target_full": whole.value, "target_source": tgt.source,
            "target_previous": resolve_target(targets, kpi, pl.full.previous()).value,
            "attainment": att, "status": status_of(att, bands), "reason": why,
            "previous": v[pl.prev].value, "last_year": v[pl.ly].value,
            "mom": mom, "mom_kind": mom_kind, "mom_reason": mom_why,
            "yoy": yoy, "yoy_kind": yoy_kind, "yoy_reason": yoy_why,
            "partial": pl.partial, "covered_days": pl.cur.days, "period_days": pl.full.days,
            "first_day": pl.cur.start, "as_of": pl.cur.last_day,
            "prorate": rule.method, "prorate_basis": rule.basis, "prorate_share": rule.share, "rule": rule,
            "headline": kpi.headline,
        })
    return rows


_OBJ_COLS = ("actual", "target", "target_full", "target_previous", "attainment", "previous", "last_year", "mom", "yoy",
             "annual_target", "progress", "projection", "projected_attainment", "target_to_date",
             "expected_share", "pace", "prorate_share", "prorate_basis", "rule", "projection_method",
             "target_source", "reason", "mom_reason", "yoy_reason")


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in _OBJ_COLS:  # undefined stays None (never NaN) so it renders as n/a with its reason
        if c in df.columns:
            df[c] = pd.Series([None if is_nan(x) else x for x in df[c]], dtype="object", index=df.index)
    return df


def attainment(pack: Pack, period: Period, settings: Settings, *,
               extra_targets: pd.DataFrame | None = None, kpis: Sequence[KPI] | None = None) -> pd.DataFrame:
    """Actual against target for every KPI of the registry, with MoM and YoY.

    When the pack's last day falls inside ``period``, the actual is to date, cumulative KPIs'
    targets are pro-rated by last year's daily shape (even split without history) and MoM/YoY
    compare the same first days of the previous / last year's period (``partial`` is True and
    ``covered_days`` says how many days; also in ``df.attrs["partial"]``).

    Returns
    -------
    pandas.DataFrame
        One row per KPI: key, label (zh), label_en, unit, direction, period, actual, target
        (pro-rated when partial), target_full, target_source, attainment, status
        (exceeded/nearly/missed/n/a), reason, previous, last_year, mom, mom_kind
        ('relative'|'pp'|'diff'), mom_reason, yoy, yoy_kind, yoy_reason, partial, covered_days,
        period_days, prorate, prorate_share, headline. Undefined numbers are ``None``.
    """
    targets = target_table(pack, extra_targets)
    as_of = as_of_day(pack, period)
    rows: list[dict[str, Any]] = []
    for k in (kpis if kpis is not None else settings.goals.kpis):
        rows += _assess(pack, k, [period], targets, settings.goals.bands, as_of, settings.lang)
    df = _frame(rows)
    cur = period.clip(as_of)
    df.attrs["partial"] = {"partial": cur.end < period.end, "covered_days": cur.days, "period_days": period.days,
                           "last_day": as_of}
    df.attrs["period"] = period.label
    return df


def by_quarter(pack: Pack, period: Period, settings: Settings, *,
               extra_targets: pd.DataFrame | None = None, kpis: Sequence[KPI] | None = None) -> pd.DataFrame:
    """Attainment by quarter for the year so far (the "Q1–Q3 关键目标达成率" table).

    Quarters from Q1 of ``period``'s year up to the one holding the review's as-of day
    (:func:`as_of_day`): a quarter under way is read to that day, never past it, and its target
    to date follows :func:`~opsnb.metrics.kpi_targets.to_date_target` (the ``rule`` column). Long
    format: the columns of :func:`attainment` with ``period`` the quarter label.
    """
    as_of = as_of_day(pack, period)
    quarters = [q for q in period.year().quarter_periods() if q.start <= as_of]
    targets = target_table(pack, extra_targets)
    rows: list[dict[str, Any]] = []
    for k in (kpis if kpis is not None else settings.goals.kpis):
        rows += _assess(pack, k, quarters, targets, settings.goals.bands, as_of, settings.lang)
    return _frame(rows)


def trend(pack: Pack, kpi: KPI | str, period: Period, months: int = 12, *,
          extra_targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly actuals and targets of one KPI for the ``months`` months ending with ``period``.

    Returns month (label), start, actual, target, target_source, partial (the last month is to
    date when the data ends inside it; its actual is then to date and its target is the full
    month's). One query for all months.
    """
    k = _as_kpi(kpi)
    last_month = Period.containing(period.last_day, "month")
    fulls = [last_month.shift(-i) for i in range(months - 1, -1, -1)]
    as_of = as_of_day(pack, period)
    fulls = [m for m in fulls if m.start <= as_of]
    cur = [m.clip(as_of) for m in fulls]
    vals = _values(pack, k, cur)
    targets = target_table(pack, extra_targets)
    tg = [resolve_target(targets, k, m) for m in fulls]
    return _frame([{
        "key": k.key, "month": m.label, "start": m.start, "actual": v.value, "reason": v.reason,
        "target": t.value, "target_source": t.source, "partial": c.end < m.end,
    } for m, c, v, t in zip(fulls, cur, vals, tg, strict=True)])


def ytd(pack: Pack, period: Period, settings: Settings, *,
        extra_targets: pd.DataFrame | None = None, kpis: Sequence[KPI] | None = None) -> pd.DataFrame:
    """Year-to-date progress toward each annual target, with a projection to year end.

    The year to date runs from 1 January to the review's as-of day (:func:`as_of_day`, never a day
    after the review period); ``elapsed_share`` = its days ÷ the year's days.

    * Additive KPIs (GMV, orders, new users; table KPIs in count/currency): ``progress`` =
      actual ÷ annual target; ``target_to_date`` is the annual target to the as-of day by the one
      pro-rating rule (:func:`~opsnb.metrics.kpi_targets.to_date_target`: the monthly targets to
      date when every month has one, else the annual target × last year's shape, else × the share
      of days; the ``rule`` column records which), ``expected_share`` = target_to_date ÷ annual
      target, ``pace`` = actual ÷ target_to_date, and the projection is ``pace × annual target``
      (with a share of days this is the linear run rate). ``projected_attainment`` is the
      projection's attainment (direction-aware) and ``status`` its band.
    * Ratios and averages: the year-to-date value is its own run rate, so projection = actual
      and progress = its attainment.
    * Distinct counts (mau, paying users): no run rate (``reason`` ``no_run_rate``).

    Returns key, label, label_zh, label_en, unit, direction, actual, annual_target,
    target_source, progress, elapsed_share, projection, projected_attainment, target_to_date,
    expected_share, pace, projection_method (the rule's method and basis, e.g. ``months``,
    ``period/days``; None without one), rule, status, reason, covered_days, as_of.
    """
    as_of = as_of_day(pack, period)
    year = period.year()
    span = year.clip(as_of)
    elapsed = span.days / year.days
    targets = target_table(pack, extra_targets)
    rows = []
    for k in (kpis if kpis is not None else settings.goals.kpis):
        v = _values(pack, k, [span])[0]
        tgt = resolve_target(targets, k, year)
        additive = is_additive(k)
        ttd = exp = pace = None
        rule: ToDate | None = None
        why_proj: str | None = None
        proj: float | None
        if v.value is None:
            proj = None
        elif additive:
            got, rule = to_date_target(targets, k, year, span, _shape(pack, k))
            ttd = got.value
            if ttd is not None and tgt.value:
                exp = ttd / tgt.value
                pace, _ = attainment_ratio(v.value, ttd, "higher")
            proj = None if pace is None or tgt.value is None else pace * tgt.value
        elif is_cumulative(k):
            proj, why_proj = None, "no_run_rate"
        else:
            proj = v.value
        method = None
        if rule is not None and proj is not None:
            method = rule.method if rule.basis is None else f"{rule.method}/{rule.basis}"
        progress, _ = attainment_ratio(v.value, tgt.value, "higher" if additive else k.direction)
        patt, why = attainment_ratio(proj, tgt.value, k.direction)
        if v.value is None:
            why = v.reason
        elif tgt.value is None:
            why = tgt.reason
        elif why_proj is not None:
            why = why_proj
        rows.append({
            "key": k.key, "label": k.label(settings.lang), "label_zh": k.label.zh, "label_en": k.label.en,
            "unit": k.unit, "direction": k.direction,
            "actual": v.value, "annual_target": tgt.value, "target_source": tgt.source, "progress": progress,
            "elapsed_share": elapsed, "projection": proj, "projected_attainment": patt,
            "target_to_date": ttd, "expected_share": exp, "pace": pace, "projection_method": method, "rule": rule,
            "status": status_of(patt, settings.goals.bands), "reason": why, "covered_days": span.days,
            "as_of": span.last_day,
        })
    df = _frame(rows)
    df.attrs["span"] = (span.start, span.end)
    return df


def require_rows(df: pd.DataFrame, table: str, reason: str) -> pd.DataFrame:
    """Raise :class:`NoData` when ``df`` is empty (sections show a note instead)."""
    if df.empty:
        raise NoData(table, reason)
    return df


def finite(x: Any) -> float | None:
    """``x`` as float, or ``None`` when missing or not finite."""
    if x is None or is_nan(x):
        return None
    f = float(x)
    return f if math.isfinite(f) else None
