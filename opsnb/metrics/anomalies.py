"""Anomalies in daily and weekly series: STL decomposition plus a robust score on the residuals.

Method (one series):

1. The series is put on a regular calendar (its own step: daily or weekly); a step with no value
   is *missing* (NaN). Callers decide what a missing day means: :func:`daily_series` fills count
   series with 0 on days the source table has rows but none matched (a real zero), and leaves days
   on which the source table has no rows at all as missing (a data gap, reported by the data-gap
   detector, not a behaviour change).
2. Missing values are linearly interpolated **only to fit** the decomposition; they are never
   scored or flagged.
3. ``statsmodels.tsa.seasonal.STL(period=..., robust=True)`` splits the series into trend, seasonal
   and residual; the *expected* value ("常态") at a point is trend + seasonal.
4. Modified z-score of the residuals: ``0.6745 · (r − median(r)) / MAD``; a point is flagged when
   ``|z| > z`` (and, optionally, only inside a run of at least ``consecutive`` breaches).

Undefined cases are reported, never divided through: fewer than ``min_seasons`` seasons of
history → status ``too_short``; MAD = 0 (e.g. a flat series) → status ``not_computable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import user_days_between
from opsnb.metrics.orders import paid
from opsnb.pack import Pack
from opsnb.pack.expr import money_sum
from opsnb.periods import Period

#: The constant of the modified z-score (Iglewicz & Hoaglin): 0.6745 = Φ⁻¹(0.75).
MODIFIED_Z_K = 0.6745
#: MAD at or below this fraction of the series' typical magnitude counts as zero.
_MAD_EPS = 1e-9

RESULT_COLUMNS = ["value", "expected", "resid", "z", "flagged", "reason"]


def modified_z(resid: pd.Series) -> tuple[pd.Series | None, float, float]:
    """Modified z-scores ``0.6745·(r − median)/MAD`` of ``resid`` (NaN ignored).

    Returns
    -------
    (z, median, mad)
        ``z`` is ``None`` when MAD is zero (the score is not computable).
    """
    r = pd.to_numeric(resid, errors="raise").astype("float64")
    valid = r.dropna()
    if valid.empty:
        return None, float("nan"), float("nan")
    med = float(valid.median())
    mad = float((valid - med).abs().median())
    scale = max(1.0, float(valid.abs().median()))
    if mad <= _MAD_EPS * scale:
        return None, med, mad
    return MODIFIED_Z_K * (r - med) / mad, med, mad


def _regular(series: pd.Series) -> pd.Series:
    """Put a date-indexed series on its regular step (min gap), inserting NaN for missing steps."""
    s = pd.to_numeric(series, errors="raise").astype("float64").sort_index()
    if not isinstance(s.index, pd.DatetimeIndex) or len(s) < 2:
        return s
    s = s[~s.index.duplicated(keep="last")]
    step = s.index.to_series().diff().dropna().min()
    full = pd.date_range(s.index[0], s.index[-1], freq=step)
    return s.reindex(full)


def _runs_at_least(mask: np.ndarray, n: int) -> np.ndarray:
    """True where ``mask`` is inside a run of at least ``n`` consecutive True values."""
    if n <= 1:
        return mask.copy()
    out = np.zeros_like(mask)
    i = 0
    while i < len(mask):  # a loop over a small series (hundreds of points), not over table rows
        if mask[i]:
            j = i
            while j < len(mask) and mask[j]:
                j += 1
            if j - i >= n:
                out[i:j] = True
            i = j
        else:
            i += 1
    return out


def robust_anomalies(
    series: pd.Series,
    period: int,
    z: float = 3.5,
    consecutive: int = 1,
    *,
    min_seasons: int = 2,
    seasonal: int = 35,
    trend: int | None = None,
) -> pd.DataFrame:
    """Flag anomalous points of ``series`` against an STL (robust) seasonal-trend baseline.

    Parameters
    ----------
    series
        Values indexed by date (daily or weekly). Missing steps are inserted as NaN; NaN values are
        interpolated only to fit the decomposition and are never flagged.
    period
        Season length in steps (7 for daily data with a weekly cycle).
    z
        Threshold on the absolute modified z-score of the residuals.
    consecutive
        Flag only points inside a run of at least this many consecutive breaches (same sign).
    min_seasons
        Minimum history, in seasons, to decompose; shorter series get status ``too_short``.
    seasonal, trend
        STL smoother lengths (odd). STL's defaults (seasonal 7, trend ≈ 1.5 periods) follow the
        noise so closely that the residual MAD shrinks and ~7 % of pure-noise days score
        |z| > 3.5; seasonal 35 and trend ``4·period + 1`` (29 days) bring that to ~0.5 % on half a
        year of daily data while a spike of 8 noise s.d. is still always found.

    Returns
    -------
    DataFrame
        Indexed like the (regularised) series, columns ``value, expected, resid, z, flagged,
        reason``. ``expected`` = trend + seasonal ("常态"). ``z`` is NA and ``reason`` says why
        when a point cannot be scored. ``attrs["status"]`` is ``"ok"``, ``"too_short"``,
        ``"not_computable"`` (MAD = 0) or ``"empty"``; ``attrs["mad"]``/``attrs["median"]`` hold
        the residual scale.
    """
    if period < 2:
        raise ValueError(f"period must be >= 2 steps, got {period}")
    s = _regular(series)
    out = pd.DataFrame(index=s.index)
    out["value"] = s
    out["expected"] = np.nan
    out["resid"] = np.nan
    out["z"] = pd.Series(pd.NA, index=s.index, dtype="Float64")
    out["flagged"] = False
    out["reason"] = pd.Series(pd.NA, index=s.index, dtype="string")
    missing = s.isna()
    out.loc[missing, "reason"] = "missing"
    n_valid = int((~missing).sum())
    out.attrs.update(status="ok", period=period, z=z, consecutive=consecutive, mad=None, median=None)
    if n_valid == 0:
        out.attrs["status"] = "empty"
        out["reason"] = "empty"
        return out
    # Trim leading/trailing missing steps: they carry no information for the fit.
    first, last = s.first_valid_index(), s.last_valid_index()
    core = s.loc[first:last]
    if n_valid < min_seasons * period or len(core) < min_seasons * period:
        out.attrs["status"] = "too_short"
        out.loc[~missing, "reason"] = "too_short"
        return out
    from statsmodels.tsa.seasonal import STL  # heavy import: only when a series is decomposed

    filled = core.interpolate(method="linear", limit_direction="both")
    trend = trend if trend is not None else 4 * period + 1
    fit = STL(filled.to_numpy(), period=period, robust=True, seasonal=seasonal, trend=trend).fit()
    expected = pd.Series(fit.trend + fit.seasonal, index=core.index)
    resid = (core - expected).where(core.notna())
    out.loc[core.index, "expected"] = expected
    out.loc[core.index, "resid"] = resid
    zs, med, mad = modified_z(resid)
    out.attrs.update(median=med, mad=mad)
    if zs is None:
        out.attrs["status"] = "not_computable"
        out.loc[~missing, "reason"] = "mad_zero"
        return out
    out.loc[core.index, "z"] = zs.astype("Float64")
    zz = out["z"].astype("float64").to_numpy(na_value=np.nan)
    up = np.nan_to_num(zz, nan=0.0) > z
    down = np.nan_to_num(zz, nan=0.0) < -z
    out["flagged"] = _runs_at_least(up, consecutive) | _runs_at_least(down, consecutive)
    return out


# ---------------------------------------------------------------- series from a pack


@dataclass(frozen=True)
class SeriesSpec:
    """A monitored series: key, grain (``day``/``week``), unit (``count``/``currency``/``ratio``)."""

    key: str
    grain: str
    unit: str
    table: str


SERIES: dict[str, SeriesSpec] = {s.key: s for s in [
    SeriesSpec("dau", "day", "count", "events"),
    SeriesSpec("new_users", "day", "count", "users"),
    SeriesSpec("gmv", "day", "currency", "orders"),
    SeriesSpec("conversion", "day", "ratio", "events"),
    SeriesSpec("churn", "week", "ratio", "events"),
]}


def _day_frame(expr: ibis.Table) -> pd.Series:
    df = expr.execute()
    if df.empty:
        return pd.Series(dtype="float64")
    idx = pd.to_datetime(df["day"])
    return pd.Series(df["v"].astype("float64").to_numpy(), index=idx).sort_index()


def _history_start(period: Period, days: int) -> date:
    return period.end - timedelta(days=days)


def daily_series(pack: Pack, key: str, period: Period, *, history_days: int = 182) -> pd.Series:
    """The daily series ``key`` (dau, new_users, gmv, conversion) up to the period's last day.

    Count and money series are filled with 0 on days without matching rows (a real zero); days
    on which the *events* table has no rows at all are left missing (NaN) for event-based series
    (dau, conversion), because they are data gaps, not behaviour. Conversion is paying users ÷
    DAU of the day (NaN when DAU is 0). Raises :class:`NoData` when a needed table is absent.
    """
    lo = _history_start(period, history_days)
    hi = period.end
    days = pd.date_range(lo, period.last_day, freq="D")

    def clip(t: ibis.Table, col: str) -> ibis.Table:
        return t.filter((t[col] >= lo) & (t[col] < hi))

    def events_days() -> tuple[pd.Series, pd.DatetimeIndex]:
        e = user_days_between(pack, lo, hi)
        dau = _day_frame(e.group_by(day=e.ts.date()).aggregate(v=e.count()))
        return dau, dau.index

    if key == "dau":
        dau, present = events_days()
        if dau.empty:
            raise NoData("events", "no events in the history window")
        s = dau.reindex(days)
        return _within_span(s, present)
    if key == "new_users":
        u = clip(pack.table("users"), "signup_at")
        s = _day_frame(u.group_by(day=u.signup_at.date()).aggregate(v=u.user_id.nunique()))
        if s.empty:
            raise NoData("users", "no sign-ups in the history window")
        return _within_span(s.reindex(days).fillna(0.0), s.index)
    if key == "gmv":
        o = paid(clip(pack.table("orders"), "ts"))
        s = _day_frame(o.group_by(day=o.ts.date()).aggregate(v=money_sum(o.amount)))
        if s.empty:
            raise NoData("orders", "no paid orders in the history window")
        return _within_span(s.reindex(days).fillna(0.0), s.index)
    if key == "conversion":
        dau, present = events_days()
        if dau.empty:
            raise NoData("events", "no events in the history window")
        o = paid(clip(pack.table("orders"), "ts"))
        pay = _day_frame(o.group_by(day=o.ts.date()).aggregate(v=o.user_id.nunique()))
        d = dau.reindex(days)
        p = pay.reindex(days).fillna(0.0).where(d.notna())
        s = (p / d).where(d > 0)
        return _within_span(s, present)
    raise KeyError(f"unknown daily series {key!r}; known: {[k for k, v in SERIES.items() if v.grain == 'day']}")


def _within_span(s: pd.Series, present: pd.Index) -> pd.Series:
    """Cut ``s`` to the span between the first day with source rows and the window's end."""
    if len(present) == 0:
        return s.iloc[0:0]
    return s.loc[s.index >= present.min()]


def weekly_churn(pack: Pack, period: Period, *, history_weeks: int = 52) -> pd.Series:
    """Weekly churn: users active last week and not this week ÷ users active last week.

    Weeks run Monday–Sunday and are indexed by their Monday; only complete weeks ending on or
    before the period's last day are included. NaN when last week had no active users.
    """
    last_sunday = period.last_day - timedelta(days=(period.last_day.weekday() + 1) % 7)
    end = last_sunday + timedelta(days=1)  # exclusive: the Monday after the last complete week
    lo = end - timedelta(weeks=history_weeks + 1)
    e = user_days_between(pack, lo, end)
    wk = e.select(user_id=e.user_id, week=e.ts.truncate("W").cast("date")).distinct()
    prev = wk.mutate(week=(wk.week + ibis.interval(days=7)))
    j = prev.left_join(wk.mutate(here=ibis.literal(1)), ["user_id", "week"])
    agg = j.group_by("week").aggregate(base=j.user_id.count(), churned=j.here.isnull().sum())
    df = agg.execute()
    if df.empty:
        raise NoData("events", "not enough weeks of events for weekly churn")
    weeks = pd.to_datetime(df["week"])
    base = df["base"].astype("float64").to_numpy()
    churn = pd.Series(np.where(base > 0, df["churned"].astype("float64").to_numpy() / np.where(base > 0, base, 1),
                               np.nan), index=weeks).sort_index()
    churn = churn[(churn.index.date <= (end - timedelta(days=7))) & (churn.index.date > lo + timedelta(days=6))]
    full = pd.date_range(churn.index.min(), end - timedelta(days=7), freq="7D")
    return churn.reindex(full)


def series_for(pack: Pack, key: str, period: Period, settings: Any) -> pd.Series:
    """The monitored series ``key`` for ``period`` (history per the problems settings)."""
    spec = SERIES[key]
    if spec.grain == "week":
        return weekly_churn(pack, period, history_weeks=settings.anomaly_history_weeks)
    return daily_series(pack, key, period, history_days=settings.anomaly_history_days)


def in_period(index: pd.Index, period: Period, grain: str) -> np.ndarray:
    """Which points of a series belong to ``period``: days inside it; weeks whose Sunday is inside."""
    d = pd.DatetimeIndex(index)
    if grain == "week":
        d = d + pd.Timedelta(days=6)
    return np.asarray((d >= pd.Timestamp(period.start)) & (d < pd.Timestamp(period.end)))
