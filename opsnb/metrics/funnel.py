"""Ordered conversion funnels with a conversion window, an entry population, and an optional breakdown.

Definition (close to PostHog's ordered funnel; where it differs the choice is ours):

* a user *enters* at their **first** step-1 event with ``ts`` in the review period (PostHog
  tries every step-1 attempt and keeps the furthest; anchoring on the first keeps the query a
  chain of joins and the number stable — our choice);
* **entry population** (``entry``, ``settings.insights.funnel_entry``): ``"new"`` (default) keeps
  only users who had not done any later step of the funnel *before* that entry (an event of
  steps 2…n strictly earlier than the entry time): in visit → register → add_to_cart → purchase
  the 注册 step then counts only users not yet registered, and customers who signed up long ago
  are not counted as sign-up drop-offs. ``"all"`` keeps every user with a step-1 event in the
  period;
* step k (k ≥ 2) is reached at the user's first step-k event with ``ts`` ≥ the time step k-1
  was reached (non-decreasing order; strictly later when two consecutive steps name the same
  event, so one event cannot count twice) and ``ts`` ≤ entry time + ``window_days`` days
  (inclusive), and **before the as-of day ends** (:func:`~opsnb.metrics.activity.reference_end`:
  the period's end, or the day after the pack's last day when earlier). A review never reads
  data after its period; entrants of the last ``window_days`` days have a window cut short by the
  as-of day, and ``attrs["open_window"]`` counts them;
* each user counts once, at their furthest step; ``users`` of step k = users who reached at
  least step k, so counts never increase along the steps.

The breakdown ``by`` is ``"channel"`` (``users.channel``, the user's acquisition channel) or
``"platform"`` (``events.platform`` of the entry event). A missing value is its own group, None.

:func:`funnel_payers` relates the funnel's buyers to the period's paying users (the goals
section's ``paying_users``: distinct users with a paid order in the period).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import events_between, reference_end, ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import USER_KEY, Pack
from opsnb.periods import Period

Breakdown = Literal["channel", "platform"]
Entry = Literal["new", "all"]
ENTRIES: tuple[str, ...] = ("new", "all")
#: Pseudo-steps of the one round trip: users with a step-1 event before the entry filter, entrants
#: whose window the as-of day cuts short, and entrants with a full window who reached the last step.
_SEEN, _OPEN, _DONE_FULL = 0, -1, -2


def _entrants(pack: Pack, period: Period, steps: Sequence[str], entry: Entry, by: Breakdown | None,
              ref_end: date) -> tuple[ibis.Table, ibis.Table]:
    """``(seen, entrants)``: users with a step-1 event in the period (``uk, t1[, grp]``), and those of the
    entry population."""
    uk = USER_KEY
    events = pack.table("events")
    first = events_between(pack, period.start, ref_end, steps[0], keyed=True)
    if by == "platform":
        if "platform" not in events.columns:
            raise NoData("events", "no platform column in events")
        seen = first.group_by(first[uk]).aggregate(t1=first.ts.min(), grp=first.platform.argmin(first.ts))
    else:
        seen = first.group_by(first[uk]).aggregate(t1=first.ts.min())
        if by == "channel":
            users = pack.keyed("users")
            if "channel" not in users.columns:
                raise NoData("users", "no channel column in users")
            u = users.select(users[uk], grp=users.channel)
            seen = seen.left_join(u, uk).select(uk, "t1", "grp")
        elif by is not None:
            raise ValueError(f"unknown funnel breakdown {by!r}; known: channel, platform")
    if entry == "all":
        return seen, seen
    if entry != "new":
        raise ValueError(f"unknown funnel entry {entry!r}; known: {list(ENTRIES)}")
    later = pack.keyed("events")
    later = later.filter(later.event.isin(list(dict.fromkeys(steps[1:]))), later.ts < ts_literal(ref_end))
    before = later.group_by(later[uk]).aggregate(t0=later.ts.min())
    j = seen.left_join(before, uk)
    keep = j.filter(j.t0.isnull() | (j.t0 >= j.t1))  # a later step at the very entry instant is not "before"
    return seen, keep.select(*seen.columns)



def _chain(pack: Pack, period: Period, steps: Sequence[str], window_days: int, entry: Entry,
           by: Breakdown | None, ref_end: date) -> tuple[ibis.Table, list[ibis.Table]]:
    """``(seen, reached)``: users with a step-1 event, and per step the users reaching it (``uk, t1[, grp], t``)."""
    window = ibis.interval(days=window_days)
    uk = USER_KEY  # users are joined and grouped by the pack's integer user key (same answer, faster)
    seen, cur = _entrants(pack, period, steps, entry, by, ref_end)
    reached = [cur.mutate(t=cur.t1)]
    for k in range(1, len(steps)):
        ev = events_between(pack, period.start, ref_end, steps[k], keyed=True).select(uk, ts2="ts")
        j = reached[-1].join(ev, uk)
        after = j.ts2 > j.t if steps[k] == steps[k - 1] else j.ts2 >= j.t
        j = j.filter(after, j.ts2 <= j.t1 + window)
        keys = [uk, "t1", "grp"] if by else [uk, "t1"]
        reached.append(j.group_by(keys).aggregate(t=j.ts2.min()))
    return seen, reached


def reached_users(pack: Pack, period: Period, *, steps: Sequence[str], window_days: int, entry: Entry = "new",
                  upto: int) -> ibis.Table:
    """The users (``user_id``, lazily) of the entry population who reached step ``upto`` (0-based) of the funnel.

    Needs a ``users`` table (the user key is mapped back to ``user_id`` through it).
    """
    steps = list(steps)
    _, reached = _chain(pack, period, steps, window_days, entry, None, reference_end(pack, period))
    users = pack.keyed("users").select(USER_KEY, "user_id")
    return reached[upto].select(USER_KEY).join(users, USER_KEY).select("user_id")


def funnel(
    pack: Pack,
    period: Period,
    *,
    steps: Sequence[str] = ("visit", "register", "add_to_cart", "purchase"),
    window_days: int = 14,
    by: Breakdown | None = None,
    entry: Entry = "new",
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
        Conversion window from the entry event, in days, inclusive (cut at the as-of day).
    by
        Optional breakdown: ``"channel"`` or ``"platform"``.
    entry
        The entry population: ``"new"`` (users who had done no later step before entering) or
        ``"all"`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per (group,) step, groups by entered users descending, ties by name, a missing
        group last: ``group`` (only with ``by``), ``step`` (1-based), ``event``,
        ``users``, ``overall`` (users ÷ step-1 users), ``step_rate`` (users ÷ previous step's
        users; 1.0 at step 1), ``drop_off`` (previous step's users − users; 0 at step 1),
        ``drop_rate`` (1 − step_rate) and ``reason`` (why a rate is missing). Rates are Float64.
        ``attrs`` (of the whole funnel): ``entry``, ``seen`` (users with a step-1 event in the
        period, before the entry population is applied), ``excluded`` (seen − entered),
        ``open_window`` (entrants whose window ends after the as-of day), ``full_window_converted``
        (entrants with a full window who reached the last step: their conversion is
        ``full_window_converted ÷ (entered − open_window)``), ``as_of`` (the last day read) and
        ``window_days``.

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
    ref_end = reference_end(pack, period)
    seen, reached = _chain(pack, period, steps, window_days, entry, by, ref_end)
    cur = reached[0]
    # the window of an entrant after this instant ends after the as-of day
    cut = ts_literal(ref_end - timedelta(days=window_days))
    counted = [(k, r) for k, r in enumerate(reached, start=1)]
    counted += [(_SEEN, seen), (_OPEN, cur.filter(cur.t1 >= cut)), (_DONE_FULL, reached[-1].filter(reached[-1].t1 < cut))]
    parts = []
    for k, r in counted:
        agg = r.group_by("grp").aggregate(users=r.count()) if by else r.aggregate(users=r.count())
        parts.append(agg.mutate(step=ibis.literal(k, type="int64")))
    res = ibis.union(*parts).execute()
    extra = res[res["step"] <= 0]
    res = res[res["step"] > 0]
    attrs: dict[str, Any] = {"entry": entry, "seen": int(extra.loc[extra["step"] == _SEEN, "users"].sum()),
             "open_window": int(extra.loc[extra["step"] == _OPEN, "users"].sum()),
             "full_window_converted": int(extra.loc[extra["step"] == _DONE_FULL, "users"].sum()),
             "as_of": ref_end - timedelta(days=1), "window_days": window_days}
    if by:
        res = res.assign(grp=res["grp"].astype(object).where(res["grp"].notna(), None))
        step1 = res["step"] == 1
        entered = {g: int(n) for g, n in zip(res.loc[step1, "grp"], res.loc[step1, "users"], strict=True)}
        # most users first; ties by name, a missing group last (the query returns rows in any order)
        groups = sorted(entered, key=lambda g: (-entered[g], g is None, "" if g is None else str(g)))
    else:
        groups = [None]
    n_entered = int(res.loc[res["step"] == 1, "users"].sum())
    if not groups or n_entered == 0:
        why = "" if entry == "all" or not attrs["seen"] else " who had not done a later step before"
        raise NoData("events", f"no user did '{steps[0]}' in {period.label}{why}")
    attrs["excluded"] = attrs["seen"] - n_entered
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
    out = out.astype({"step": "int64", "users": "int64", "drop_off": "int64", "overall": "Float64",
                      "step_rate": "Float64", "drop_rate": "Float64"})
    out.attrs.update(attrs)
    return out


@dataclass(frozen=True)
class FunnelPayers:
    """How a funnel's entrants meet the period's paying users (distinct users with a paid order in it).

    ``payers`` = paying users of the period (the goals section's ``paying_users``); ``entrants`` =
    of them, users of the funnel's entry population; ``others`` = payers − entrants (users the
    funnel does not follow, e.g. customers registered before the period).
    """

    payers: int
    entrants: int

    @property
    def others(self) -> int:
        return self.payers - self.entrants


def funnel_payers(pack: Pack, period: Period, *, steps: Sequence[str] = ("visit", "register", "add_to_cart",
                                                                          "purchase"),
                  entry: Entry = "new") -> FunnelPayers:
    """The period's paying users, and how many of them are in the funnel's entry population.

    Raises
    ------
    NoData
        No orders or events table.
    """
    steps = list(steps)
    ref_end = reference_end(pack, period)
    _, ent = _entrants(pack, period, steps, entry, None, ref_end)
    o = paid_orders(pack, keyed=True)
    o = o.filter(o.ts >= ts_literal(period.start), o.ts < ts_literal(ref_end))
    payers = o.select(o[USER_KEY]).distinct()
    j = payers.left_join(ent.select(USER_KEY, hit=ibis.literal(1)), USER_KEY)
    r = j.aggregate(payers=j.count(), entrants=j.hit.count()).execute()
    return FunnelPayers(int(r["payers"][0]), int(r["entrants"][0]))
