"""Activity: DAU, WAU, MAU, stickiness, platform split, MoM and YoY.

Definitions (shared with the goals section, see ``docs/architecture.md``):

* an *active user* on a day is a user with at least one event of any kind that local day;
* ``avg_dau`` = user-days ÷ the *open* days of the period (``pack.days_open``: the unit's
  ``business_days``, every day by default; an open day without any event counts as 0), as for
  the ``active_users`` KPI;
* ``mau`` = distinct active users in the (calendar) period;
* ``stickiness`` = ``avg_dau ÷ mau`` (None with a reason when ``mau`` is 0).

The daily series also carries trailing WAU and MAU, as PostHog and most product-analytics
tools draw them: WAU on day *d* = distinct users active in ``[d-6, d]``, MAU on day *d* =
distinct users active in ``[d-29, d]`` (a 30-day trailing window; our choice of 30 rather than
28 days). They are computed without a self-join: for each user-day *d* with the user's
previous active day *p*, the user's coverage gains the disjoint piece
``[max(d, p + W), d + W)``; the count on a day is the running sum of piece starts minus ends.

Helpers for the calendar indexes used by the other activity-based analyses (retention,
lifecycle, funnels) live here too.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from opsnb.errors import NoData
from opsnb.pack import Pack
from opsnb.periods import Period

Interval = Literal["day", "week", "month"]
EPOCH = date(1970, 1, 1)
#: 1970-01-01 was a Thursday; adding 3 puts the Monday 1969-12-29 at the start of week 0.
_WEEK_SHIFT = 3


# ---------------------------------------------------------------- shared calendar helpers


def ts_literal(d: date) -> ir.Value:
    """A timestamp literal at local midnight of day ``d`` (for ``start <= ts < end`` filters)."""
    return ibis.literal(datetime(d.year, d.month, d.day), type="timestamp")


def day_index(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Days since 1970-01-01 of a naive local timestamp (the local day as an integer)."""
    return (ts.epoch_seconds() // 86400).cast("int64")


def interval_index(ts: ir.TimestampValue, interval: Interval) -> ir.IntegerValue:
    """Calendar interval number of a timestamp: days, ISO weeks (Monday start) or months since 1970."""
    if interval == "day":
        return day_index(ts)
    if interval == "week":
        return ((day_index(ts) + _WEEK_SHIFT) // 7).cast("int64")
    if interval == "month":
        return ((ts.year() - 1970) * 12 + ts.month() - 1).cast("int64")
    raise ValueError(f"unknown interval {interval!r}; known: day, week, month")


def index_of(d: date, interval: Interval) -> int:
    """The interval number (as :func:`interval_index`) of a Python date."""
    days = (d - EPOCH).days
    if interval == "day":
        return days
    if interval == "week":
        return (days + _WEEK_SHIFT) // 7
    if interval == "month":
        return (d.year - 1970) * 12 + d.month - 1
    raise ValueError(f"unknown interval {interval!r}; known: day, week, month")


def index_start(i: int, interval: Interval) -> date:
    """First day of interval number ``i``."""
    if interval == "day":
        return EPOCH + timedelta(days=int(i))
    if interval == "week":
        return EPOCH + timedelta(days=7 * int(i) - _WEEK_SHIFT)
    if interval == "month":
        return date(1970 + int(i) // 12, int(i) % 12 + 1, 1)
    raise ValueError(f"unknown interval {interval!r}; known: day, week, month")


def index_label(i: int, interval: Interval) -> str:
    """Display label of interval ``i``: ``2026-10-05``, ``2026-W41`` (ISO) or ``2026-10``."""
    start = index_start(i, interval)
    if interval == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if interval == "month":
        return f"{start.year}-{start.month:02d}"
    return start.isoformat()


_LAST_DAY: dict[int, tuple[weakref.ref[Pack], date | None]] = {}


def last_day(pack: Pack) -> date | None:
    """``pack.last_day``, remembered per pack object (it scans events and orders; packs do not change)."""
    hit = _LAST_DAY.get(id(pack))
    if hit is not None and hit[0]() is pack:
        return hit[1]
    value = pack.last_day
    key = id(pack)

    def forget(_ref: weakref.ref[Pack], k: int = key) -> None:
        _LAST_DAY.pop(k, None)

    _LAST_DAY[key] = (weakref.ref(pack, forget), value)
    return value


def reference_end(pack: Pack, period: Period) -> date:
    """Exclusive end of the data an analysis of ``period`` may see.

    The earlier of the period's end and the day after the pack's last day, so a review of
    October never uses November's events and a partial month is marked as such.

    Raises
    ------
    NoData
        When the pack has no dated activity or its data ends before the period starts.
    """
    last = last_day(pack)
    if last is None:
        raise NoData("events", "the pack has no dated activity")
    if last < period.start:
        raise NoData("events", f"the data ends on {last}, before {period.label}")
    return min(period.end, last + timedelta(days=1))


def _ts_range(t: ir.Table, start: date | None, end: date | None) -> list[ir.BooleanValue]:
    """Predicates ``start <= t.ts < end`` (either bound optional)."""
    preds = []
    if start is not None:
        preds.append(t.ts >= ts_literal(start))
    if end is not None:
        preds.append(t.ts < ts_literal(end))
    return preds


def events_between(pack: Pack, start: date | None, end: date | None, event: str | None = None, *,
                   keyed: bool = False) -> ir.Table:
    """The events table filtered to ``start <= ts < end`` (either bound optional) and one event name.

    ``keyed``: with the pack's user key column (:meth:`opsnb.pack.Pack.keyed`).
    """
    t = pack.keyed("events") if keyed else pack.table("events")
    preds = _ts_range(t, start, end)
    if event is not None:
        preds.append(t.event == event)
    return t.filter(*preds) if preds else t


def user_days_between(pack: Pack, start: date | None, end: date | None, event: str | None = None) -> ir.Table:
    """Active (user, local day) pairs with ``start <= day < end``: columns ``user_id``, ``ts`` (the day at
    midnight) and ``n`` (events that day).

    Without ``event`` this reads the pack's derived ``user_days`` table (built once per pack, far
    smaller than ``events``); with one it aggregates that event's rows. Anything that only needs
    which users were active on which day — counts, first days, day/week/month indices — gives the
    same answer on it as on the events.
    """
    if event is not None:
        e = events_between(pack, start, end, event)
        return e.group_by(e.user_id, ts=e.ts.truncate("D")).aggregate(n=e.count())
    t = pack.derived("user_days")
    preds = _ts_range(t, start, end)
    return t.filter(*preds) if preds else t


# ---------------------------------------------------------------- activity


@dataclass(frozen=True)
class ActivitySummary:
    """Activity of one period (clipped to the data)."""

    period: Period
    days: int
    events: int
    avg_dau: float
    mau: int
    stickiness: float | None
    reason: str = ""  # why stickiness is None


@dataclass(frozen=True)
class ActivityResult:
    """``daily``: columns ``date, dau, wau, mau, open`` for each day of the period (clipped to the data).

    ``previous`` (MoM/QoQ) and ``last_year`` (YoY) are None when those periods have no events;
    ``previous_reason`` / ``last_year_reason`` say why.
    """

    daily: pd.DataFrame
    summary: ActivitySummary
    previous: ActivitySummary | None
    last_year: ActivitySummary | None
    previous_reason: str = ""
    last_year_reason: str = ""


def _clip(pack: Pack, period: Period) -> Period:
    return period.clip(last_day(pack))


def activity_summary(pack: Pack, period: Period) -> ActivitySummary:
    """Average DAU, MAU and stickiness of ``period`` (clipped to the pack's last day).

    Raises
    ------
    NoData
        When the pack has no events table or no event falls in the period.
    """
    p = _clip(pack, period)
    ud = user_days_between(pack, p.start, p.end)
    r = ud.aggregate(user_days=ud.count(), mau=ud.user_id.nunique(), events=ud.n.sum()).execute()
    n_events = 0 if pd.isna(r["events"][0]) else int(r["events"][0])
    if n_events == 0:
        raise NoData("events", f"no events in {period.label}")
    user_days, mau = int(r["user_days"][0]), int(r["mau"][0])
    open_days = pack.days_open(p.start, p.end)
    avg = user_days / open_days if open_days else 0.0
    return ActivitySummary(p, p.days, n_events, avg, mau, avg / mau if mau else None,
                           "" if mau else "no active users")


def _daily(pack: Pack, p: Period) -> pd.DataFrame:
    # One scan: count user-days by (day, the user's previous active day in the window). At most
    # days² / 2 pairs come back; the trailing-window pieces are then derived from them in pandas.
    lookback = p.start - timedelta(days=29)
    e = user_days_between(pack, lookback, p.end)
    ud = e.select(e.user_id, d=day_index(e.ts))
    ud = ud.mutate(prev=ud.d.lag().over(ibis.window(group_by=ud.user_id, order_by=ud.d)))
    pairs = ud.group_by("d", "prev").aggregate(n=ud.count()).execute()
    first, end = (lookback - EPOCH).days, (p.end - EPOCH).days
    days = pd.RangeIndex(first, end)
    d = pairs["d"].astype("int64")
    n = pairs["n"].astype("int64")
    prev = pairs["prev"].astype("Float64")
    dau = n.groupby(d).sum().reindex(days, fill_value=0)
    out = pd.DataFrame({"date": [EPOCH + timedelta(days=int(i)) for i in days], "dau": dau.to_numpy()})
    for w, col in ((7, "wau"), (30, "mau")):
        # a user-day covers [d, d + w); the part not already covered by the previous day is
        # [max(d, prev + w), d + w): starts counted at that day, ends at d + w (= dau shifted by w)
        start = (prev + w).fillna(d).astype("int64").clip(lower=d)
        starts = n.groupby(start.to_numpy()).sum().reindex(days, fill_value=0)
        ends = dau.shift(w, fill_value=0)
        out[col] = (starts - ends).cumsum().astype("int64").to_numpy()
    out["dau"] = out["dau"].astype("int64")
    out = out[out["date"] >= p.start].reset_index(drop=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def activity(pack: Pack, period: Period) -> ActivityResult:
    """Daily DAU/WAU/MAU series of ``period`` plus its summary, the previous period and last year.

    Parameters
    ----------
    pack
        The data pack (needs ``events``).
    period
        The review period; clipped to the pack's last day when the data ends inside it.

    Returns
    -------
    ActivityResult
        ``daily`` has one row per day of the (clipped) period, zero-activity days included; ``open`` says
    whether the unit trades that day (``pack.business``; every day without business days).

    Raises
    ------
    NoData
        No events table, or no event in the period.
    """
    summary = activity_summary(pack, period)
    daily = _daily(pack, summary.period)
    p = summary.period
    if pack.business is not None:
        open_days = set(pack.business.open_days(p.start, p.end))
        daily["open"] = [d.date() in open_days for d in daily["date"]]
    else:
        daily["open"] = True
    others: list[tuple[ActivitySummary | None, str]] = []
    for other in (period.previous(), period.last_year()):
        try:
            others.append((activity_summary(pack, other), ""))
        except NoData as exc:
            others.append((None, exc.reason))
    return ActivityResult(daily, summary, others[0][0], others[1][0], others[0][1], others[1][1])


def platform_split(pack: Pack, period: Period) -> pd.DataFrame:
    """Active users and events by platform in ``period``.

    The platform is the event's own ``events.platform`` when the pack has it, otherwise the
    user's ``users.platform``. A user active on two platforms counts on both, so
    ``user_share`` (users ÷ MAU) may sum to more than 1; ``event_share`` sums to 1.
    A missing platform is reported as ``None`` (last row).

    Returns
    -------
    pandas.DataFrame
        ``platform, users, events, user_share, event_share``, most users first.

    Raises
    ------
    NoData
        No events in the period, or no platform column in ``events`` or ``users``.
    """
    e = events_between(pack, period.start, period.end)
    if "platform" in e.columns:
        src = e.select(e.user_id, e.platform)
    elif pack.has("users") and "platform" in pack.table("users").columns:
        u = pack.table("users").select("user_id", "platform")
        src = e.select(e.user_id).left_join(u, "user_id").select("user_id", "platform")
    else:
        raise NoData("events", "no platform column in events or users")
    by = src.group_by(src.platform).aggregate(users=src.user_id.nunique(), events=src.count())
    totals = src.aggregate(mau=src.user_id.nunique(), events=src.count()).execute()
    mau, n = int(totals["mau"][0]), int(totals["events"][0])
    if n == 0:
        raise NoData("events", f"no events in {period.label}")
    df = by.execute()
    df["platform"] = df["platform"].astype(object).where(df["platform"].notna(), None)
    df["users"] = df["users"].astype("int64")
    df["events"] = df["events"].astype("int64")
    df["user_share"] = df["users"] / mau
    df["event_share"] = df["events"] / n
    df["_missing"] = df["platform"].isna()
    df = df.sort_values(["_missing", "users", "events", "platform"], ascending=[True, False, False, True],
                        kind="stable", na_position="last")
    return df.drop(columns="_missing").reset_index(drop=True)
