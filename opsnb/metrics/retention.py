"""Cohort retention on calendar periods, and D1/D7/D30 retention of new vs returning users on one matured base.

Definitions follow PostHog's retention insight (posthog.com/docs/product-analytics/retention):

* **first_time** — a user's cohort is the period of their first ever *start event* (any event
  when ``start_event`` is None), or of their ``users.signup_at`` with ``anchor="signup"``;
* **recurring** — a user belongs to every cohort period in which they did the start event;
* cell (c, k) = users of cohort c who did the *return event* (any event when None) in period
  c + k. Period 0 is the cohort itself (its size, 100 %), as PostHog shows it.

Periods are calendar days, ISO weeks (Monday start) or months of local time (timestamps in a
pack are naive local time). Only data before :func:`~opsnb.metrics.activity.reference_end` is
used (the earlier of the review period's end and the day after the pack's last day), so a
review is reproducible when later data arrives; a cell whose period ends after that point is
*incomplete*: its ``users`` is what has been observed so far and its ``rate`` is missing
(never a misleading 0 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import (
    Interval,
    day_index,
    index_label,
    index_of,
    index_start,
    interval_index,
    reference_end,
    ts_literal,
    user_days_between,
)
from opsnb.pack import Pack
from opsnb.pack.expr import flag
from opsnb.periods import Period

Mode = Literal["first_time", "recurring"]
Anchor = Literal["event", "signup"]
INCOMPLETE = "incomplete period"
EMPTY_COHORT = "empty cohort"


def retention(
    pack: Pack,
    period: Period,
    *,
    interval: Interval = "month",
    mode: Mode = "first_time",
    cohorts: int = 12,
    start_event: str | None = None,
    return_event: str | None = None,
    anchor: Anchor = "event",
    shape: Literal["long", "wide"] = "long",
) -> pd.DataFrame:
    """Cohort retention table for the ``cohorts`` periods ending with the one holding ``period``'s end.

    Parameters
    ----------
    pack
        The data pack (needs ``events``; ``users`` too with ``anchor="signup"``).
    period
        The review period; its end (or the pack's last day, if earlier) closes the table.
    interval
        ``"day"``, ``"week"`` (ISO, Monday start) or ``"month"``.
    mode
        ``"first_time"`` or ``"recurring"`` (see the module docstring).
    cohorts
        How many cohort periods, the last one being the period that holds the reference end.
    start_event, return_event
        Event names that qualify for entering a cohort and for counting as retained;
        ``None`` means any event.
    anchor
        ``"event"``: cohort by first start event; ``"signup"`` (first_time mode only): by
        ``users.signup_at``, so users who signed up but never came back are in the cohort size.
    shape
        ``"long"`` (default) or ``"wide"``.

    Returns
    -------
    pandas.DataFrame
        *long*: one row per cell with columns ``cohort`` (first day of the cohort period,
        Timestamp), ``cohort_label`` (``2026-10``, ``2026-W41`` or ``2026-10-05``), ``period``
        (k, int), ``cohort_size``, ``users`` (Int64), ``rate`` (Float64: users ÷ cohort size;
        missing for incomplete cells and empty cohorts), ``complete`` (bool) and ``reason``.
        Only cells up to the reference end are present (a triangle).
        *wide*: index ``cohort_label`` plus a final row ``"average"`` (see
        :func:`retention_average`); column ``cohort_size`` then one column per k holding
        ``rate`` (missing where incomplete or absent).

    Raises
    ------
    NoData
        No events table (or users table with ``anchor="signup"``), or every cohort is empty.
    """
    if mode not in ("first_time", "recurring"):
        raise ValueError(f"unknown retention mode {mode!r}; known: first_time, recurring")
    if anchor == "signup" and mode != "first_time":
        raise ValueError("anchor='signup' only applies to mode='first_time'")
    if cohorts < 1:
        raise ValueError("cohorts must be at least 1")
    ref_end = reference_end(pack, period)
    last = index_of(ref_end - timedelta(days=1), interval)
    first = last - cohorts + 1
    first_day = index_start(first, interval)

    # cohort membership: (user_id, c)
    if anchor == "signup":
        u = pack.table("users")
        u = u.filter(u.signup_at.notnull(), u.signup_at < ts_literal(ref_end))
        members = u.select(u.user_id, c=interval_index(u.signup_at, interval)).distinct()
    elif mode == "first_time":
        s = user_days_between(pack, None, ref_end, start_event)
        s = s.group_by(s.user_id).aggregate(t0=s.ts.min())
        members = s.select(s.user_id, c=interval_index(s.t0, interval))
    else:
        s = user_days_between(pack, first_day, ref_end, start_event)
        members = s.select(s.user_id, c=interval_index(s.ts, interval)).distinct()
    members = members.filter(members.c >= first, members.c <= last)

    r = user_days_between(pack, first_day, ref_end, return_event)
    active = r.select(r.user_id, a=interval_index(r.ts, interval)).distinct()
    j = members.join(active, "user_id")
    j = j.filter(j.a > j.c)
    cells = j.group_by(j.c, k=j.a - j.c).aggregate(users=j.count())
    sizes = members.group_by(members.c).aggregate(users=members.count()).mutate(k=ibis.literal(0, type="int64"))
    # one round trip: k = 0 rows are the cohort sizes (period 0 is the cohort itself)
    cells_df = ibis.union(sizes.select("c", "k", "users"), cells.select("c", "k", "users")).execute()

    zero = cells_df[cells_df["k"] == 0]
    size_of = dict(zip(zero["c"].astype(int), zero["users"].astype(int), strict=True))
    if not any(size_of.values()):
        raise NoData("events", f"no users in any retention cohort up to {ref_end - timedelta(days=1)}")
    count_of = {(int(c), int(k)): int(n) for c, k, n in zip(cells_df["c"], cells_df["k"], cells_df["users"], strict=True)}
    rows = []
    for c in range(first, last + 1):
        size = size_of.get(c, 0)
        for k in range(0, last - c + 1):
            complete = index_start(c + k + 1, interval) <= ref_end
            users = size if k == 0 else count_of.get((c, k), 0)
            if not complete:
                rate, reason = None, INCOMPLETE
            elif size == 0:
                rate, reason = None, EMPTY_COHORT
            else:
                rate, reason = users / size, ""
            rows.append((pd.Timestamp(index_start(c, interval)), index_label(c, interval), k, size, users,
                         rate, complete, reason))
    long = pd.DataFrame(rows, columns=["cohort", "cohort_label", "period", "cohort_size", "users", "rate",
                                       "complete", "reason"])
    long = long.astype({"period": "int64", "cohort_size": "int64", "users": "Int64", "rate": "Float64",
                        "complete": "bool"})
    if shape == "long":
        return long
    if shape == "wide":
        return retention_wide(long)
    raise ValueError(f"unknown shape {shape!r}; known: long, wide")


def retention_average(long: pd.DataFrame) -> pd.DataFrame:
    """Weighted average retention per period k over the complete cells of non-empty cohorts.

    rate(k) = Σ users(c, k) ÷ Σ cohort_size(c), both over cohorts whose cell k is complete
    (so the average of a late period only uses the cohorts old enough to have it).

    Returns
    -------
    pandas.DataFrame
        ``period, cohorts, cohort_size, users, rate`` (rate missing where no cohort qualifies).
    """
    ok = long[long["complete"] & (long["cohort_size"] > 0)]
    g = ok.groupby("period").agg(cohorts=("cohort", "size"), cohort_size=("cohort_size", "sum"),
                                 users=("users", "sum"))
    g = g.reindex(sorted(long["period"].unique()), fill_value=0)
    g.index.name = "period"
    g = g.reset_index()
    g["rate"] = pd.array([u / s if s else None for u, s in zip(g["users"], g["cohort_size"], strict=True)],
                         dtype="Float64")
    return g.astype({"cohorts": "int64", "cohort_size": "int64", "users": "int64"})


def retention_wide(long: pd.DataFrame, values: Literal["rate", "users"] = "rate") -> pd.DataFrame:
    """Pivot a long retention table: one row per cohort plus ``"average"``; columns ``cohort_size``, 0..K."""
    wide = long.pivot(index="cohort_label", columns="period", values=values)
    order = long.drop_duplicates("cohort_label").set_index("cohort_label")
    wide = wide.reindex(order.index)
    wide.insert(0, "cohort_size", order["cohort_size"].astype("Int64"))
    avg = retention_average(long).set_index("period")[values]
    avg_row = {"cohort_size": int(order["cohort_size"].sum()), **avg.to_dict()}
    wide.loc["average"] = pd.Series(avg_row)
    wide.columns.name = None
    return wide


@dataclass(frozen=True)
class DayNRetention:
    """D-N retention of one matured cohort (see :func:`day_n_retention`).

    ``table``: ``group`` (``new``, ``returning``, ``all``), ``day_n``, ``users`` (the group's base,
    the same for every N), ``retained``, ``rate`` (Float64; missing with ``reason`` on an empty
    base). ``cohort``: the days whose first-active users form the base (a month, clipped to the
    last matured day); ``as_of``: the last day read.
    """

    table: pd.DataFrame
    cohort: Period
    as_of: date

    @property
    def max_n(self) -> int:
        return int(self.table["day_n"].max())


def matured_cohort(as_of: date, max_n: int) -> Period:
    """The days whose users have all had ``max_n`` days to return by ``as_of``.

    The calendar month before ``as_of``'s month, clipped to its days up to ``as_of − max_n``
    (e.g. September for an October review with D30: its last users reach day 30 on 30 October);
    when ``max_n`` is longer than that leaves nothing of it, the month holding ``as_of − max_n``,
    up to that day.
    """
    last_ok = as_of - timedelta(days=max_n)
    month = Period.containing(as_of, "month").previous()
    if last_ok < month.start:
        month = Period.containing(last_ok, "month")
    return month.clip(last_ok)


def day_n_retention(pack: Pack, period: Period, *, days: Sequence[int] = (1, 7, 30)) -> DayNRetention:
    """D1/D7/D30 retention on one matured cohort, new vs returning users, as of the review's last day.

    Definition (ours; "unbounded" retention as Amplitude names it, Mixpanel's "on or after"):

    * the **as-of day** is the review period's last day (or the pack's last day, if earlier):
      nothing after it is read;
    * the **base** is one set of users for every N: those first active on a day of
      :func:`matured_cohort` (the month before the as-of month, up to ``as-of − max(days)``), so each
      has had at least ``max(days)`` days to return. A user's *first day* is their first active
      day in that span; they are **new** when they had no event before it, **returning**
      otherwise;
    * a user is **retained on day N** when they were active on day ``first day + N`` *or any
      later day* up to the as-of day.

    So D1 ≥ D7 ≥ D30 for every group: one base, and a user retained on day N is retained on
    every earlier day. (Exact-day retention on a fixed base is not monotone: a user absent on day
    7 may come back on day 30.)

    Raises
    ------
    NoData
        No events table, no dated activity, or nobody first active in the matured span.
    """
    ns = sorted({int(n) for n in days})
    if not ns or ns[0] < 1:
        raise ValueError("days must be positive integers, e.g. (1, 7, 30)")
    ref_end = reference_end(pack, period)
    as_of = ref_end - timedelta(days=1)
    cohort = matured_cohort(as_of, ns[-1])
    # one scan of the history up to the as-of day: first day in the cohort span, last active day, any
    # activity before the span
    e = user_days_between(pack, None, ref_end)
    in_span = (e.ts >= ts_literal(cohort.start)) & (e.ts < ts_literal(cohort.end))
    d = day_index(e.ts)
    base = e.group_by(e.user_id).aggregate(f=d.min(where=in_span), last=d.max(),
                                           returning=(e.ts < ts_literal(cohort.start)).any())
    base = base.filter(base.f.notnull())
    aggs = {"users": base.count()}
    for n in ns:
        aggs[f"r{n}"] = flag(base.last - base.f >= n).sum()
    counts = base.group_by(base.returning).aggregate(**aggs).execute()
    if counts.empty or int(counts["users"].sum()) == 0:
        raise NoData("events", f"nobody first active from {cohort.start} to {cohort.last_day}")
    rows: list[tuple[str, int, int, int, float | None, str]] = []
    for group in ("new", "returning", "all"):
        sel = counts if group == "all" else counts[counts["returning"] == (group == "returning")]
        users = int(sel["users"].sum())
        for n in ns:
            retained = int(sel[f"r{n}"].fillna(0).sum())
            if users:
                rows.append((group, n, users, retained, retained / users, ""))
            else:
                rows.append((group, n, users, retained, None, "no users"))
    out = pd.DataFrame(rows, columns=["group", "day_n", "users", "retained", "rate", "reason"])
    out = out.astype({"day_n": "int64", "users": "int64", "retained": "int64", "rate": "Float64"})
    return DayNRetention(out, cohort, as_of)
