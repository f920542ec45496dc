"""Lifecycle states (new, returning, resurrecting, dormant): exact numbers on tiny packs."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.lifecycle import STATUSES, lifecycle, lifecycle_summary
from opsnb.pack import from_frames
from opsnb.periods import Period

# a: Jan, Feb, Apr · b: Jan, Mar · c: Feb · d: Feb (its 2026-01-31T20:00Z event is Feb 1 in Shanghai)
EVENTS = pd.DataFrame({
    "user_id": ["a", "a", "a", "b", "b", "c", "d", "a"],
    "ts": ["2026-01-05", "2026-02-03", "2026-04-01", "2026-01-20", "2026-03-10", "2026-02-15",
           "2026-01-31T20:00:00Z", "2026-04-30"],
    "event": "visit",
})


def _grid(df: pd.DataFrame) -> dict[str, list[int]]:
    wide = df.pivot(index="label", columns="status", values="users")
    return {s: wide[s].tolist() for s in STATUSES}


def test_monthly_states_with_timezone() -> None:
    users = pd.DataFrame({"user_id": ["z"], "signup_at": ["2026-02-01"]})  # never active: in no state
    p = from_frames({"events": EVENTS, "users": users}, tz="Asia/Shanghai")
    df = lifecycle(p, Period.parse("2026-04"), interval="month", periods=4)
    assert df["label"].unique().tolist() == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert _grid(df) == {
        "new": [2, 2, 0, 0],
        "returning": [0, 1, 0, 0],
        "resurrecting": [0, 0, 1, 1],
        "dormant": [0, -1, -3, -1],  # b after Jan; a, c, d after Feb; b after Mar
    }
    assert df["complete"].all()
    s = lifecycle_summary(df).set_index("label")
    assert s.loc["2026-03", "active"] == 1
    assert s.loc["2026-02", "quick_ratio"] == 2.0  # (2 new + 0 resurrecting) / 1 dormant
    assert pd.isna(s.loc["2026-01", "quick_ratio"]) and s.loc["2026-01", "reason"] == "no dormant users"


def test_history_before_window_makes_resurrecting_not_new() -> None:
    p = from_frames({"events": EVENTS}, tz="Asia/Shanghai")
    df = lifecycle(p, Period.parse("2026-04"), interval="month", periods=2)
    assert _grid(df) == {"new": [0, 0], "returning": [0, 0], "resurrecting": [1, 1], "dormant": [-3, -1]}


def test_dormant_counted_once_per_gap_and_weekly_incomplete() -> None:
    # a active in the weeks of 03-02 and 03-23 only; data ends Wednesday 03-25
    ev = pd.DataFrame({"user_id": ["a", "a", "b"], "ts": ["2026-03-02", "2026-03-23", "2026-03-25"], "event": "visit"})
    df = lifecycle(from_frames({"events": ev}), Period.parse("2026-03"), interval="week", periods=4)
    assert df["label"].unique().tolist() == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert _grid(df) == {"new": [1, 0, 0, 1], "returning": [0, 0, 0, 0], "resurrecting": [0, 0, 0, 1],
                         "dormant": [0, -1, 0, 0]}
    assert df.groupby("label")["complete"].first().tolist() == [True, True, True, False]


def test_event_filter_and_empty() -> None:
    ev = pd.DataFrame({"user_id": ["a", "b"], "ts": ["2026-03-02", "2026-03-03"], "event": ["visit", "purchase"]})
    p = from_frames({"events": ev})
    df = lifecycle(p, Period.parse("2026-03"), interval="month", periods=1, event="purchase")
    assert _grid(df)["new"] == [1]
    with pytest.raises(NoData):
        lifecycle(p, Period.parse("2026-03"), interval="month", periods=1, event="share")
    with pytest.raises(NoData, match="before 2026-05"):
        lifecycle(p, Period.parse("2026-05"), interval="month")


_ev = st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 150))


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(_ev, min_size=1, max_size=30))
def test_states_match_brute_force(rows) -> None:
    base = date(2026, 1, 1)
    ev = pd.DataFrame({"user_id": [u for u, _ in rows],
                       "ts": [(base + timedelta(days=k)).isoformat() for _, k in rows], "event": "visit"})
    p = from_frames({"events": ev})
    period = Period.parse("2026-05")
    try:
        df = lifecycle(p, period, interval="week", periods=6)
    except NoData:
        return
    weeks = sorted(df["start"].dt.date.unique())
    # brute force on Monday-start week numbers
    wk = {(u, (base + timedelta(days=k) - date(2025, 12, 29)).days // 7) for u, k in rows
          if base + timedelta(days=k) <= period.last_day}
    w0 = (weeks[0] - date(2025, 12, 29)).days // 7
    for n, start in enumerate(weeks):
        i = w0 + n
        got = df[df["start"].dt.date == start].set_index("status")["users"].to_dict()
        active = {u for u, j in wk if j == i}
        before = {u for u, j in wk if j == i - 1}
        earlier = {u for u, j in wk if j < i}
        assert got["new"] == len(active - earlier)
        assert got["returning"] == len(active & before)
        assert got["resurrecting"] == len((active & earlier) - before)
        assert got["dormant"] == -len(before - active)
