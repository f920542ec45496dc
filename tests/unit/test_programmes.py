"""Points and membership programme rates from events (exact numbers)."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.programmes import programmes
from opsnb.pack import from_frames
from opsnb.periods import Period

OCT = Period.parse("2026-10")


def _events() -> pd.DataFrame:
    rows = [("u1", "2026-10-01", "visit"), ("u1", "2026-10-02", "points_earn"), ("u1", "2026-10-03", "points_redeem"),
            ("u2", "2026-10-05", "points_earn"), ("u3", "2026-10-06", "member_join"), ("u4", "2026-10-07", "visit"),
            ("u5", "2025-10-15", "member_join"), ("u5", "2026-10-20", "member_renew"),
            ("u6", "2025-10-03", "member_renew"), ("u7", "2025-09-30", "member_join"),
            ("u2", "2026-11-01", "points_redeem")]
    return pd.DataFrame(rows, columns=["user_id", "ts", "event"])


def test_participation_redemption_renewal():
    r = programmes(from_frames({"events": _events()}), OCT).set_index("metric")
    # active: u1..u5; joined the programme: u1, u2 (points) and u3 (membership)
    assert (r.loc["participation", "numerator"], r.loc["participation", "denominator"]) == (3, 5)
    assert r.loc["participation", "value"] == 0.6
    assert (r.loc["redemption", "numerator"], r.loc["redemption", "denominator"], r.loc["redemption", "value"]) \
        == (1, 2, 0.5)
    # due: u5 (joined Oct 2025) and u6 (renewed Oct 2025); u7 joined in September 2025
    assert (r.loc["renewal", "numerator"], r.loc["renewal", "denominator"], r.loc["renewal", "value"]) == (1, 2, 0.5)


def test_no_due_members_is_na():
    ev = _events()
    ev = ev[~ev["user_id"].isin(["u5", "u6"])]
    r = programmes(from_frames({"events": ev}), OCT).set_index("metric")
    assert pd.isna(r.loc["renewal", "value"]) and r.loc["renewal", "reason"] == "no_due_members"


def test_no_programme_events_is_nodata():
    ev = pd.DataFrame({"user_id": ["u1"], "ts": ["2026-10-01"], "event": ["visit"]})
    with pytest.raises(NoData):
        programmes(from_frames({"events": ev}), OCT)
    with pytest.raises(NoData):
        programmes(from_frames({"events": ev}), Period.parse("2026-12"))
