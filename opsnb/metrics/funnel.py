"""Ordered conversion funnels with a conversion window, optionally split by a breakdown.

Definition (close to PostHog's ordered funnel; where it differs the choice is ours):

* a user *enters* at their **first** step-1 event with ``ts`` in the review period (PostHog
  tries every step-1 attempt and keeps the furthest; anchoring on the first keeps the query a
  chain of joins and the number stable — our choice);
* step k (k ≥ 2) is reached at the user's first step-k event with ``ts`` ≥ the time step k-1
  was reached (non-decreasing order; strictly later when two consecutive steps name the same
  event, so one event cannot count twice) and ``ts`` ≤ entry time + ``window_days`` days
  (inclusive). Later steps may fall after the period's end, inside the window;
* each user counts once, at their furthest step; ``users`` of step k = users who reached at
  least step k, so counts never increase along the steps.

The breakdown ``by`` is ``"channel"`` (``users.channel``, the user's acquisition channel) or
``"platform"`` (``events.platform`` of the entry event). A missing value is its own group, None.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import events_between
from opsnb.pack import USER_KEY, Pack
from opsnb.periods import Period

Breakdown = Literal["channel", "platform"]


def funnel(
    pack: Pack,
    period: Period,
    *,
    steps: Sequence[str] = ("visit", "register", "add_to_cart", "purchase"),
    window_days: int = 14,
    by: Breakdown | None = None,
) -> pd.DataFrame:
    """Users reaching each step of an ordered funnel entered in ``period``.

    Parameters
    ----------
    pack
        The data pack (needs ``events``; ``users`` with ``channel`` for ``by="channel"``).
    period
        Users enter the funnel at their first step-1 event in this period.
    steps
        Event names, in order (at least two).
    window_days
        Conversion window from the entry event, in days, inclusive.
    by
        Optional breakdown: ``"channel"`` or ``"platform"``.

    Returns
    -------
    pandas.DataFrame
        One row per (group,) step, groups by entered users descending, ties by name, a missing
        group last: ``group`` (only with ``by``), ``step`` (1-based), ``event``,
        ``users``, ``overall`` (users ÷ step-1 users), ``step_rate`` (users ÷ previous step's
        users; 1.0 at step 1), ``drop_off`` (previous step's users − users; 0 at step 1),
        ``drop_rate`` (1 − step_rate) and ``reason`` (why a rate is missing). Rates are Float64.

    Raises
    ------
    NoData
        No events table, no user entered the funnel in the period, or the breakdown column
        is missing.
    """
    steps = list(steps)
    if len(steps) < 2:
        raise ValueError("a funnel needs at least two steps")
    if window_days < 0:
        raise ValueError("window_days must be >= 0")
    events = pack.table("events")
    window = ibis.interval(days=window_days)
    horizon = period.end + timedelta(days=window_days + 1)
    uk = USER_KEY  # users are joined and grouped by the pack's integer user key (same answer, faster)

    first = events_between(pack, period.start, period.end, steps[0], keyed=True)
    if by == "platform":
        if "platform" not in events.columns:
            raise NoData("events", "no platform column in events")
        cur = first.group_by(first[uk]).aggregate(t1=first.ts.min(), grp=first.platform.argmin(first.ts))
    else:
        cur = first.group_by(first[uk]).aggregate(t1=first.ts.min())
        if by == "channel":
            users = pack.keyed("users")
            if "channel" not in users.columns:
                raise NoData("users", "no channel column in users")
            u = users.select(users[uk], grp=users.channel)
            cur = cur.left_join(u, uk).select(uk, "t1", "grp")
        elif by is not None:
            raise ValueError(f"unknown funnel breakdown {by!r}; known: channel, platform")
    cur = cur.mutate(t=cur.t1)
    reached = [cur]
    for k in range(1, len(steps)):
        ev = events_between(pack, period.start, horizon, steps[k], keyed=True).select(uk, ts2="ts")
        j = reached[-1].join(ev, uk)
        after = j.ts2 > j.t if steps[k] == steps[k - 1] else j.ts2 >= j.t
        j = j.filter(after, j.ts2 <= j.t1 + window)
        keys = [uk, "t1", "grp"] if by else [uk, "t1"]
        nxt = j.group_by(keys).aggregate(t=j.ts2.min())
        reached.append(nxt)
    parts = []
    for k, r in enumerate(reached, start=1):
        g = r.group_by("grp") if by else r
        agg = g.aggregate(users=r.count()) if by else r.aggregate(users=r.count())
        parts.append(agg.mutate(step=ibis.literal(k, type="int64")))
    res = ibis.union(*parts).execute()
    if by:
        res["grp"] = res["grp"].astype(object).where(res["grp"].notna(), None)
        step1 = res["step"] == 1
        entered = {g: int(n) for g, n in zip(res.loc[step1, "grp"], res.loc[step1, "users"], strict=True)}
        # most users first; ties by name, a missing group last (the query returns rows in any order)
        groups = sorted(entered, key=lambda g: (-entered[g], g is None, "" if g is None else str(g)))
    else:
        groups = [None]
    if not groups or int(res.loc[res["step"] == 1, "users"].sum()) == 0:
        raise NoData("events", f"no user did '{steps[0]}' in {period.label}")
    rows = []
    for grp in groups:
        sel = res if not by else res[res["grp"].map(lambda v, g=grp: v == g if g is not None else v is None)]
        by_step = {int(s): int(n) for s, n in zip(sel["step"], sel["users"], strict=True)}
        n1 = by_step.get(1, 0)
        prev = n1
        for k, name in enumerate(steps, start=1):
            n = by_step.get(k, 0)
            step_rate = n / prev if prev else None
            rows.append({
                **({"group": grp} if by else {}),
                "step": k, "event": name, "users": n,
                "overall": n / n1 if n1 else None,
                "step_rate": step_rate,
                "drop_off": prev - n,
                "drop_rate": 1 - step_rate if step_rate is not None else None,
                "reason": "" if prev else "no users at the previous step",
            })
            prev = n
    out = pd.DataFrame(rows)
    if by:  # keep a missing group as None (pandas would infer a str column with NaN)
        out["group"] = pd.Series([r["group"] for r in rows], dtype=object)
    return out.astype({"step": "int64", "users": "int64", "drop_off": "int64", "overall": "Float64",
                       "step_rate": "Float64", "drop_rate": "Float64"})
