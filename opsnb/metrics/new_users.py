"""New users three ways: signed up, first active, registered in the funnel — and why they differ.

A monthly review shows "new users" in three places, each right by its own definition:

* **signed up** — users with ``users.signup_at`` in the period (the goals section's ``new_users``);
* **first active** — users whose first ever event (any event) falls in the period (the cohort
  retention table's newest cohort, ``retention(..., mode="first_time")``);
* **registered in the funnel** — users of the funnel's entry population who reached its
  ``register`` step (:func:`opsnb.metrics.funnel.funnel`).

:func:`new_users` counts the three and the users behind each difference, and finds the day on
which most of those users signed up (a tracking outage shows as one day).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import reference_end, ts_literal, user_days_between
from opsnb.metrics.funnel import Entry, reached_users
from opsnb.pack import Pack
from opsnb.pack.expr import flag
from opsnb.periods import Period

REGISTER = "register"


@dataclass(frozen=True)
class NewUsers:
    """The three counts and their differences (see the module docstring).

    ``registered`` is None when the funnel has no ``register`` step (or no events). The differences:
    ``signed_up_never_active`` — signed up in the period, no event at all by the as-of day;
    ``signed_up_active_elsewhere`` — signed up in the period, first active before or after it;
    ``active_not_signed_up`` — first active in the period, signed up outside it (or not in
    the users table); ``active_not_registered`` — first active in the period, not counted at the
    funnel's ``register`` step; ``registered_not_active`` — counted there, first active before the
    period. ``differing``: the users behind any difference (each once). ``day`` / ``day_users``: the
    signup day shared by most of them (those with a signup day), and how many signed up that day.
    """

    signed_up: int
    first_active: int
    registered: int | None
    signed_up_never_active: int
    signed_up_active_elsewhere: int
    active_not_signed_up: int
    active_not_registered: int
    registered_not_active: int
    differing: int
    day: date | None
    day_users: int
    as_of: date


def new_users(pack: Pack, period: Period, *, steps: Sequence[str], window_days: int,
              entry: Entry = "new") -> NewUsers:
    """Count the period's new users three ways (see :class:`NewUsers`).

    Raises
    ------
    NoData
        No users or events table.
    """
    ref_end = reference_end(pack, period)
    start, end = ts_literal(period.start), ts_literal(ref_end)
    u = pack.table("users")
    one, zero = ibis.literal(1, type="int64"), ibis.literal(0, type="int64")
    signed = u.filter(u.signup_at >= start, u.signup_at < end)
    days = user_days_between(pack, None, ref_end)
    first = days.group_by("user_id").aggregate(t0=days.ts.min())
    active = first.filter(first.t0 >= start)
    sets = [signed.select("user_id", s=one, a=zero, r=zero, e=zero), active.select("user_id", s=zero, a=one, r=zero, e=zero),
            first.select("user_id", s=zero, a=zero, r=zero, e=one)]
    steps = list(steps)
    has_reg = REGISTER in steps[1:]
    if has_reg:
        reg = reached_users(pack, period, steps=steps, window_days=window_days, entry=entry,
                            upto=steps.index(REGISTER, 1))
        sets.append(reg.select("user_id", s=zero, a=zero, r=one, e=zero))
    flags = ibis.union(*sets)
    flags = flags.group_by("user_id").aggregate(s=flags.s.max(), a=flags.a.max(), r=flags.r.max(), e=flags.e.max())
    flags = flags.filter((flags.s + flags.a + flags.r) > 0)
    su = pack.table("users").select(uid="user_id", day=ibis._.signup_at.date())
    j = flags.left_join(su, flags.user_id == su.uid)
    j = j.select("s", "a", "r", "day", sa=(j.s == 1) & (j.a == 0), never=(j.s == 1) & (j.e == 0),
                 as_=(j.a == 1) & (j.s == 0),
                 ar=(j.a == 1) & (j.r == 0), ra=(j.r == 1) & (j.a == 0))
    odd = j.sa | j.as_ | ((j.ar | j.ra) if has_reg else ibis.literal(False))
    j = j.mutate(odd=odd)
    totals = j.aggregate(
        signed_up=j.s.sum(), first_active=j.a.sum(), registered=j.r.sum(),
        sa=flag(j.sa).sum(), never=flag(j.never).sum(), as_=flag(j.as_).sum(), ar=flag(j.ar).sum(), ra=flag(j.ra).sum(), odd=flag(j.odd).sum(),
    ).execute()
    o = j.filter(j.odd, j.day.notnull())
    odd_days = o.group_by("day").aggregate(n=o.count())
    top = odd_days.order_by([ibis.desc("n"), "day"]).limit(1).execute()
    t = totals.iloc[0]
    day, day_users = (None, 0) if top.empty else (pd.Timestamp(top["day"].iloc[0]).date(), int(top["n"].iloc[0]))
    if int(t["signed_up"] or 0) == 0 and int(t["first_active"] or 0) == 0:
        raise NoData("users", f"no new user in {period.label}")
    return NewUsers(
        signed_up=int(t["signed_up"] or 0), first_active=int(t["first_active"] or 0),
        registered=int(t["registered"] or 0) if has_reg else None,
        signed_up_never_active=int(t["never"] or 0),
        signed_up_active_elsewhere=int(t["sa"] or 0) - int(t["never"] or 0),
        active_not_signed_up=int(t["as_"] or 0),
        active_not_registered=int(t["ar"] or 0) if has_reg else 0,
        registered_not_active=int(t["ra"] or 0) if has_reg else 0,
        differing=int(t["odd"] or 0), day=day, day_users=day_users, as_of=ref_end - timedelta(days=1),
    )
