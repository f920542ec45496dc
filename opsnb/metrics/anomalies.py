"""Anomalies in daily and weekly series: STL decomposition plus a robust score on the residuals.

Method (one series):

1. The series is put on a regular calendar (its own step: daily or weekly); a step with no value
   is *missing* (NaN). Callers decide what a missing day means: :func:`daily_series` fills count
   series with 0 on days the source table has rows but none matched (a real zero), and leaves days
   on which the source table has no rows at all as missing (a data gap, reported by the data-gap
   detector, not a behaviour change).
2. Missing values — and points the caller *excludes* (days a data incident covers) — are linearly
   interpolated **only to fit** the decomposition; they are never flagged.
3. ``statsmodels.tsa.seasonal.STL(period=..., robust=True)`` splits the series into trend, seasonal
   and residual; the *expected* value ("常态") at a point is trend + seasonal.
4. Modified z-score of the residuals: ``0.6745 · (r − median(r)) / MAD``; a point is flagged when
   ``|z| > z`` (and, optionally, only inside a run of at least ``consecutive`` breaches).

Warm-up: a point is judged only once the series has ``min_seasons`` full seasons of values before
it (a baseline needs that much history); the first points of a series — the first weeks of the
data's history — are never findings (reason ``warm_up``). Weekly churn needs, besides, a complete
previous week of activity: its first value is the week after the first complete week of events.

Rates (conversion, churn) carry their numerator and base (:func:`series_frame`); :func:`judge_rates`
takes the verdict away from a point whose base is under ``min_base`` and from one whose Wilson
interval still contains the expected value (:mod:`opsnb.metrics.rates`); :func:`judge_counts` from a
count point whose usual level is under ``min_base``.

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
from opsnb.metrics.rates import Rate
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
    warmup: int | None = None,
    exclude: pd.Series | None = None,
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
    warmup
        Steps from the series' first value that are never judged (reason ``warm_up``), nor counted
        in the residual scale; default ``min_seasons × period``: a point needs that much history
        before it to have a baseline.
    exclude
        Boolean, indexed like ``series``: points to leave out of the fit and the residual scale
        (days a data incident covers). They keep their value and get ``expected``, ``resid`` and
        ``z`` for the record, with reason ``excluded``; they are never flagged.

    Returns
    -------
    DataFrame
        Indexed like the (regularised) series, columns ``value, expected, resid, z, flagged,
        reason``. ``expected`` = trend + seasonal ("常态"). ``z`` is NA and ``reason`` says why
        when a point cannot be scored. ``attrs["status"]`` is ``"ok"``, ``"too_short"``,
        ``"warm_up"`` (every point still in the warm-up), ``"not_computable"`` (MAD = 0) or
        ``"empty"``; ``attrs["mad"]``/``attrs["median"]`` hold the residual scale,
        ``attrs["warmup"]`` the warm-up in steps and ``attrs["first_judged"]`` the first point
        that can be judged (None: none).
    """
    if period < 2:
        raise ValueError(f"period must be >= 2 steps, got {period}")
    warmup = min_seasons * period if warmup is None else warmup
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
    out.attrs.update(status="ok", period=period, z=z, consecutive=consecutive, mad=None, median=None,
                     warmup=warmup, first_judged=None)
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
    excluded = pd.Series(False, index=core.index)
    if exclude is not None:
        excluded = exclude.reindex(core.index, fill_value=False).astype(bool) & core.notna()
    warm = pd.Series(np.arange(len(core)) < warmup, index=core.index)
    from statsmodels.tsa.seasonal import STL  # heavy import: only when a series is decomposed

    fit_values = core.where(~excluded)
    filled = fit_values.interpolate(method="linear", limit_direction="both")
    trend = trend if trend is not None else 4 * period + 1
    fit = STL(filled.to_numpy(), period=period, robust=True, seasonal=seasonal, trend=trend).fit()
    expected = pd.Series(fit.trend + fit.seasonal, index=core.index)
    resid = (core - expected).where(core.notna())
    out.loc[core.index, "expected"] = expected
    out.loc[core.index, "resid"] = resid
    judged = core.notna() & ~excluded & ~warm
    out.loc[core.index[(warm & core.notna()).to_numpy()], "reason"] = "warm_up"
    out.loc[core.index[excluded.to_numpy()], "reason"] = "excluded"
    if not judged.any():
        out.attrs["status"] = "warm_up"
        return out
    out.attrs["first_judged"] = core.index[~warm.to_numpy()][0] if (~warm).any() else None
    zs, med, mad = modified_z(resid.where(judged))
    out.attrs.update(median=med, mad=mad)
    if zs is None:
        out.attrs["status"] = "not_computable"
        out.loc[core.index[judged.to_numpy()], "reason"] = "mad_zero"
        return out
    scored = core.notna() & ~warm  # excluded points are scored for the record, never flagged
    out.loc[core.index, "z"] = (MODIFIED_Z_K * (resid - med) / mad).where(scored).astype("Float64")
    zz = out["z"].astype("float64").to_numpy(na_value=np.nan)
    can = ~out["reason"].isin(["excluded"]).fillna(False).to_numpy()
    up = (np.nan_to_num(zz, nan=0.0) > z) & can
    down = (np.nan_to_num(zz, nan=0.0) < -z) & can
    out["flagged"] = _runs_at_least(up, consecutive) | _runs_at_least(down, consecutive)
    return out


def judge_counts(result: pd.DataFrame, *, min_base: int) -> pd.DataFrame:
    """Take the verdict away from count points whose usual level is under ``min_base`` (a copy of
    ``result``): on a day that normally sees a handful of sign-ups, 2 instead of 11 is no finding
    (reason ``small_base``)."""
    out = result.copy()
    small = out["value"].notna() & (out["expected"] < min_base).fillna(False)
    out.loc[small, "flagged"] = False
    out.loc[small & out["reason"].isna(), "reason"] = "small_base"
    return out


def judge_rates(result: pd.DataFrame, num: pd.Series, base: pd.Series, *, min_base: int,
                confidence: float = 0.95) -> pd.DataFrame:
    """Take the verdict away from rate points the data cannot support (a copy of ``result``, with
    ``num`` and ``base`` columns).

    A point whose base is under ``min_base`` is never flagged (reason ``small_base``); a flagged
    point whose Wilson interval of ``num / base`` still contains the expected value is not flagged
    either (reason ``within_interval``): the move is within what chance gives on that base.
    """
    out = result.copy()
    out["num"] = num.reindex(out.index)
    out["base"] = base.reindex(out.index)
    for ts in out.index[out["value"].notna() & out["base"].notna()]:  # a small series, not table rows
        rate = Rate(int(out.at[ts, "num"]), int(out.at[ts, "base"]))
        if rate.small(min_base):
            out.at[ts, "flagged"] = False
            if pd.isna(out.at[ts, "reason"]):
                out.at[ts, "reason"] = "small_base"
        elif out.at[ts, "flagged"] and not rate.differs_from(float(out.at[ts, "expected"]), confidence=confidence):
            out.at[ts, "flagged"] = False
            out.at[ts, "reason"] = "within_interval"
    return out


# ---------------------------------------------------------------- series from a pack


@dataclass(frozen=True)
class SeriesSpec:
    """A monitored series: key, grain (``day``/``week``), unit (``count``/``currency``/``ratio``), the
    table it needs (``table``), every table its value is computed from (``reads``: a data incident in
    one of them touches the series) and how many days before a point's own day or week its value
    reads (``lookback_days``: weekly churn compares a week with the one before)."""

    key: str
    grain: str
    unit: str
    table: str
    reads: tuple[str, ...] = ()
    lookback_days: int = 0

    @property
    def step_days(self) -> int:
        return 7 if self.grain == "week" else 1

    def days_read(self, point: pd.Timestamp) -> tuple[date, date]:
        """First and last day whose data the value at ``point`` (a day, or a week's Monday) is made of."""
        d = pd.Timestamp(point).date()
        return d - timedelta(days=self.lookback_days), d + timedelta(days=self.step_days - 1)


SERIES: dict[str, SeriesSpec] = {s.key: s for s in [
    SeriesSpec("dau", "day", "count", "events", ("events",)),
    SeriesSpec("new_users", "day", "count", "users", ("users",)),
    SeriesSpec("gmv", "day", "currency", "orders", ("orders",)),
    SeriesSpec("conversion", "day", "ratio", "events", ("events", "orders")),
    SeriesSpec("churn", "week", "ratio", "events", ("events",), lookback_days=7),
]}

#: Columns of :func:`series_frame`: the value, and for a rate its numerator and base (NaN otherwise).
FRAME_COLUMNS = ["value", "num", "base"]


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
    return daily_frame(pack, key, period, history_days=history_days)["value"]


def daily_frame(pack: Pack, key: str, period: Period, *, history_days: int = 182) -> pd.DataFrame:
    """:func:`daily_series` with, for conversion, its numerator (paying users) and base (DAU) per day."""
    lo = _history_start(period, history_days)
    hi = period.end
    days = pd.date_range(lo, period.last_day, freq="D")

    def clip(t: ibis.Table, col: str) -> ibis.Table:
        return t.filter((t[col] >= lo) & (t[col] < hi))

    def events_days() -> tuple[pd.Series, pd.DatetimeIndex]:
        e = user_days_between(pack, lo, hi)
        dau = _day_frame(e.group_by(day=e.ts.date()).aggregate(v=e.count()))
        return dau, dau.index

    def frame(value: pd.Series, num: pd.Series | None = None, base: pd.Series | None = None) -> pd.DataFrame:
        nan = pd.Series(np.nan, index=value.index)
        return pd.DataFrame({"value": value, "num": nan if num is None else num.reindex(value.index),
                             "base": nan if base is None else base.reindex(value.index)})

    if key == "dau":
        dau, present = events_days()
        if dau.empty:
            raise NoData("events", "no events in the history window")
        s = dau.reindex(days)
        return frame(_within_span(s, present))
    if key == "new_users":
        u = clip(pack.table("users"), "signup_at")
        s = _day_frame(u.group_by(day=u.signup_at.date()).aggregate(v=u.user_id.nunique()))
        if s.empty:
            raise NoData("users", "no sign-ups in the history window")
        return frame(_within_span(s.reindex(days).fillna(0.0), s.index))
    if key == "gmv":
        o = paid(clip(pack.table("orders"), "ts"))
        s = _day_frame(o.group_by(day=o.ts.date()).aggregate(v=money_sum(o.amount)))
        if s.empty:
            raise NoData("orders", "no paid orders in the history window")
        return frame(_within_span(s.reindex(days).fillna(0.0), s.index))
    if key == "conversion":
        dau, present = events_days()
        if dau.empty:
            raise NoData("events", "no events in the history window")
        o = paid(clip(pack.table("orders"), "ts"))
        pay = _day_frame(o.group_by(day=o.ts.date()).aggregate(v=o.user_id.nunique()))
        d = dau.reindex(days)
        p = pay.reindex(days).fillna(0.0).where(d.notna())
        s = (p / d).where(d > 0)
        return frame(_within_span(s, present), p, d)
    raise KeyError(f"unknown daily series {key!r}; known: {[k for k, v in SERIES.items() if v.grain == 'day']}")


def _within_span(s: pd.Series, present: pd.Index) -> pd.Series:
    """Cut ``s`` to the span between the first day with source rows and the window's end."""
    if len(present) == 0:
        return s.iloc[0:0]
    return s.loc[s.index >= present.min()]


def weekly_churn(pack: Pack, period: Period, *, history_weeks: int = 52) -> pd.Series:
    """Weekly churn: users active last week and not this week ÷ users active last week.

    Weeks run Monday–Sunday and are indexed by their Monday; only complete weeks ending on or
    before the period's last day are included, and only weeks whose previous week is complete in
    the data (a week that starts before the first day with events has a partial set of active
    users: the churn after it is an artefact of the start, not a leaving). NaN when last week had
    no active users.
    """
    return weekly_churn_frame(pack, period, history_weeks=history_weeks)["value"]


def weekly_churn_frame(pack: Pack, period: Period, *, history_weeks: int = 52) -> pd.DataFrame:
    """:func:`weekly_churn` with its numerator (users gone) and base (users active the week before)."""
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
    every = user_days_between(pack, None, end)
    first_day = pd.Timestamp(every.aggregate(d=every.ts.min()).execute()["d"][0]).date()
    weeks = pd.to_datetime(df["week"])
    base = df["base"].astype("float64").to_numpy()
    churned = df["churned"].astype("float64").to_numpy()
    out = pd.DataFrame({"value": np.where(base > 0, churned / np.where(base > 0, base, 1), np.nan),
                        "num": churned, "base": base}, index=weeks).sort_index()
    # the previous week must be complete in the data: its Monday on or after the first day with events
    first_week = max(first_day + timedelta(days=(7 - first_day.weekday()) % 7 + 7), lo + timedelta(days=7))
    out = out[(out.index.date <= (end - timedelta(days=7))) & (out.index.date >= first_week)]
    if out.empty:
        raise NoData("events", "not enough complete weeks of events for weekly churn")
    full = pd.date_range(out.index.min(), end - timedelta(days=7), freq="7D")
    return out.reindex(full)


def warmup_steps(key: str, settings: Any) -> int:
    """Steps of a series' own history before its first judged point: ``min_seasons`` seasons (a baseline)."""
    return settings.anomaly_min_seasons * season_of(key, settings)


def season_of(key: str, settings: Any) -> int:
    """The season length in steps: 7 days for daily series, ``anomaly_weekly_period`` weeks for weekly ones."""
    return 7 if SERIES[key].grain == "day" else settings.anomaly_weekly_period


def series_frame(pack: Pack, key: str, period: Period, settings: Any) -> pd.DataFrame:
    """The monitored series ``key`` for ``period`` with its numerator and base (:data:`FRAME_COLUMNS`).

    The history reaches back ``anomaly_history_days`` / ``anomaly_history_weeks`` and at least the
    warm-up before the period's first day, so every point of a long period (a year) can be judged.
    """
    spec = SERIES[key]
    steps = warmup_steps(key, settings)
    if spec.grain == "week":
        weeks = max(settings.anomaly_history_weeks, -(-period.days // 7) + steps + 2)
        return weekly_churn_frame(pack, period, history_weeks=weeks)
    days = max(settings.anomaly_history_days, period.days + steps)
    return daily_frame(pack, key, period, history_days=days)


def series_for(pack: Pack, key: str, period: Period, settings: Any) -> pd.Series:
    """The monitored series ``key`` for ``period`` (history per the problems settings)."""
    return series_frame(pack, key, period, settings)["value"]


def in_period(index: pd.Index, period: Period, grain: str) -> np.ndarray:
    """Which points of a series belong to ``period``: days inside it; weeks whose Sunday is inside."""
    d = pd.DatetimeIndex(index)
    if grain == "week":
        d = d + pd.Timedelta(days=6)
    return np.asarray((d >= pd.Timestamp(period.start)) & (d < pd.Timestamp(period.end)))
