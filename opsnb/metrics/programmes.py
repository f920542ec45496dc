"""Loyalty programmes (points, membership) measured from ``events``.

* participation rate = distinct users with ``points_earn`` or ``member_join`` in the period ÷
  active users (distinct users with any event in the period);
* redemption rate = distinct ``points_redeem`` users ÷ distinct ``points_earn`` users (period);
* renewal rate = members due who renewed ÷ members due. A member is **due** in the period when
  their membership started or was last renewed (``member_join``/``member_renew``) in the same
  days one term earlier (``term_months``, default 12); they renewed when they have a
  ``member_renew`` event in the period.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.campaigns import ratio, ts
from opsnb.pack import Pack
from opsnb.periods import Period


def _months_back(d: date, months: int) -> date:
    return (pd.Timestamp(d) - pd.DateOffset(months=months)).date()


def _counts(pack: Pack, period: Period, term_months: int) -> list[tuple[str, int, int, str]] | None:
    """(metric, numerator, denominator, reason when undefined) of each rate; None without any event in ``period``."""
    ev = pack.table("events")
    cur = ev.filter((ev.ts >= ts(period.start)) & (ev.ts < ts(period.end)))
    e = cur.event
    counts = cur.aggregate(
        active=cur.user_id.nunique(),
        participants=cur.user_id.nunique(where=e.isin(["points_earn", "member_join"])),
        earners=cur.user_id.nunique(where=e == "points_earn"),
        redeemers=cur.user_id.nunique(where=e == "points_redeem"),
        renew_events=(e == "member_renew").sum(),
    ).execute().iloc[0]
    if int(counts["active"]) == 0:
        return None
    ds, de = _months_back(period.start, term_months), _months_back(period.end, term_months)
    due = ev.filter(ev.event.isin(["member_join", "member_renew"]) & (ev.ts >= ts(ds)) & (ev.ts < ts(de)))
    due = due.select("user_id").distinct()
    renewed = cur.filter(e == "member_renew").select("user_id").distinct()
    due_n = int(due.count().execute())
    renewed_n = int(due.semi_join(renewed, "user_id").count().execute())
    if int(counts["participants"]) + int(counts["redeemers"]) + int(counts["renew_events"]) + due_n == 0:
        return []
    return [("participation", int(counts["participants"]), int(counts["active"]), "no_active_users"),
            ("redemption", int(counts["redeemers"]), int(counts["earners"]), "no_earners"),
            ("renewal", renewed_n, due_n, "no_due_members")]


def programmes(pack: Pack, period: Period, *, term_months: int = 12) -> pd.DataFrame:
    """Participation, redemption and renewal rates, one row per metric, beside the previous period's.

    Columns: ``metric`` (participation, redemption, renewal), ``numerator``, ``denominator``,
    ``value`` (fraction or None) and ``reason`` (why ``value`` is None); ``prev_numerator``,
    ``prev_denominator``, ``prev_value`` the same for the previous period (``Period.previous``; NA when
    it has no events), so a change can be tested on its counts.

    Raises
    ------
    NoData
        No events table, no events in the period, or no programme event at all in the period.
    """
    now = _counts(pack, period, term_months)
    if now is None:
        raise NoData("events", f"no events in {period.label}")
    if not now:
        raise NoData("events", "no points or membership events in the period")  # the event names: docs/data_pack.md
    before = {m: (num, den) for m, num, den, _ in (_counts(pack, period.previous(), term_months) or [])}
    rows = []
    for metric, num, den, why in now:
        v, reason = ratio(num, den, why)
        pn, pd_ = before.get(metric, (None, None))
        rows.append({"metric": metric, "numerator": num, "denominator": den, "value": v, "reason": reason,
                     "prev_numerator": pn, "prev_denominator": pd_,
                     "prev_value": ratio(pn, pd_, why)[0] if pn is not None else None})
    out = pd.DataFrame(rows)
    out["value"] = pd.array(out["value"].tolist(), dtype="Float64")
    out["prev_value"] = pd.array(out["prev_value"].tolist(), dtype="Float64")
    for c in ("prev_numerator", "prev_denominator"):
        out[c] = pd.array(out[c].tolist(), dtype="Int64")
    return out
