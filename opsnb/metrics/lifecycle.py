"""Lifecycle (growth accounting) per calendar period, with PostHog's four states.

For each week (ISO, Monday start) or month of local time and each user, from all the user's
events before :func:`~opsnb.metrics.activity.reference_end`:

* **new** — the user's first active period is this one (first event; PostHog uses the person's
  creation time, we use the first event so that packs without a users table work);
* **returning** — active this period and the previous one;
* **resurrecting** — active this period, not the previous one, but in some earlier one;
* **dormant** — active the previous period, not this one. Counted once per gap, in the period
  just after the last active period before it, and reported as a **negative** number.

The whole history before the window is used, so "new" and "resurrecting" are exact for the
first periods shown too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import index_label, index_of, index_start, interval_index, reference_end, user_days_between
from opsnb.pack import Pack
from opsnb.periods import Period

STATUSES = ("new", "returning", "resurrecting", "dormant")


def lifecycle(
    pack: Pack,
    period: Period,
    *,
    interval: Literal["week", "month"] = "week",
    periods: int = 12,
    event: str | None = None,
) -> pd.DataFrame:
    """Users in each lifecycle state for the ``periods`` periods ending with the one holding ``period``'s end.

    Parameters
    ----------
    pack
        The data pack (needs ``events``).
    period
        The review period; data up to its end (or the pack's last day, if earlier) is used.
    interval
        ``"week"`` or ``"month"``.
    periods
        How many periods to report.
    event
        Only this event counts as activity (None: any event).

    Returns
    -------
    pandas.DataFrame
        Long form, four rows per period in the order of :data:`STATUSES`: ``start``
        (Timestamp of the period's first day), ``label``, ``status``, ``users`` (int64;
        dormant ≤ 0), ``complete`` (False for a period cut by the reference end).

    Raises
    ------
    NoData
        No events table, or no activity at all in the reported periods.
    """
    if interval not in ("week", "month"):
        raise ValueError(f"unknown lifecycle interval {interval!r}; known: week, month")
    if periods < 1:
        raise ValueError("periods must be at least 1")
    ref_end = reference_end(pack, period)
    last = index_of(ref_end - timedelta(days=1), interval)
    first = last - periods + 1

    # Only the window (plus the period before it) needs user-intervals and lag/lead; the history
    # before it only matters through each user's first interval, which tells new from resurrecting.
    hist = user_days_between(pack, None, ref_end, event)
    firsts = hist.group_by(hist.user_id).aggregate(fi=interval_index(hist.ts.min(), interval))
    new = firsts.filter(firsts.fi >= first, firsts.fi <= last)
    new = new.group_by(i=new.fi).aggregate(users=new.count()).mutate(status=ibis.literal("new"))
    e = user_days_between(pack, index_start(first - 1, interval), ref_end, event)
    ui = e.select(e.user_id, i=interval_index(e.ts, interval)).distinct()
    w = ibis.window(group_by=ui.user_id, order_by=ui.i)
    ui = ui.mutate(prev=ui.i.lag().over(w), nxt=ui.i.lead().over(w))
    # not active the interval before: new (counted above) or resurrecting; "gap" = both together
    ui = ui.mutate(status=ibis.ifelse(ui.prev == ui.i - 1, "returning", "gap"))
    act = ui.filter(ui.i >= first)
    active = act.group_by("i", "status").aggregate(users=act.count())
    dorm = ui.filter(ui.nxt.isnull() | (ui.nxt > ui.i + 1))
    dorm = dorm.filter(dorm.i + 1 >= first, dorm.i + 1 <= last)
    dorm = dorm.group_by(i=dorm.i + 1).aggregate(users=-dorm.count()).mutate(status=ibis.literal("dormant"))
    res = ibis.union(new.select("i", "status", "users"), active.select("i", "status", "users"),
                     dorm.select("i", "status", "users")).execute()
    gap = res["status"] == "gap"
    resurrect = res[gap].merge(res[res["status"] == "new"], on="i", how="left", suffixes=("", "_new"))
    resurrect = resurrect.assign(status="resurrecting", users=resurrect["users"] - resurrect["users_new"].fillna(0))
    res = pd.concat([res[~gap], resurrect[["i", "status", "users"]]], ignore_index=True)
    if res.empty or not (res["status"] != "dormant").any():
        raise NoData("events", f"no activity in the {periods} {interval}s up to {ref_end - timedelta(days=1)}")
    counts = {(int(i), s): int(n) for i, s, n in zip(res["i"], res["status"], res["users"], strict=True)}
    rows = []
    for i in range(first, last + 1):
        complete = index_start(i + 1, interval) <= ref_end
        for s in STATUSES:
            rows.append((pd.Timestamp(index_start(i, interval)), index_label(i, interval), s,
                         counts.get((i, s), 0), complete))
    out = pd.DataFrame(rows, columns=["start", "label", "status", "users", "complete"])
    return out.astype({"users": "int64", "complete": "bool"})


def lifecycle_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per period: the four states side by side, active users and the quick ratio.

    ``active`` = new + returning + resurrecting; ``quick_ratio`` = (new + resurrecting) ÷
    |dormant| (growth accounting: above 1 the active base grows), missing with a reason when
    nobody went dormant.
    """
    wide = df.pivot(index=["start", "label", "complete"], columns="status", values="users")
    wide = wide.reindex(columns=list(STATUSES), fill_value=0).reset_index()
    wide.columns.name = None
    wide["active"] = wide["new"] + wide["returning"] + wide["resurrecting"]
    gain = wide["new"] + wide["resurrecting"]
    loss = -wide["dormant"]
    wide["quick_ratio"] = pd.array([g / d if d else None for g, d in zip(gain, loss, strict=True)], dtype="Float64")
    wide["reason"] = ["" if d else "no dormant users" for d in loss]
    return wide
