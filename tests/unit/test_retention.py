"""Cohort retention and D-N retention: exact numbers on tiny packs, plus a property test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.retention import day_n_retention, retention, retention_average
from opsnb.pack import from_frames
from opsnb.periods import Period

MAR = Period.parse("2026-03")
EVENTS = pd.DataFrame({
    "user_id": ["a", "a", "a", "b", "b", "c", "d", "a", "e"],
    "ts": ["2026-01-05", "2026-02-03", "2026-03-01", "2026-01-20", "2026-03-10", "2026-02-15",
           "2026-01-31T20:00:00Z",  # 2026-02-01 04:00 in Shanghai: d belongs to February
           "2026-03-31 23:00", "2026-03-31"],
    "event": ["visit", "visit", "visit", "visit", "purchase", "visit", "visit", "visit", "visit"],
})
USERS = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e", "z"],
                      "signup_at": ["2026-01-01", "2026-01-02", "2026-02-01", "2026-01-30", "2026-03-31", "2026-02-01"]})


@pytest.fixture(scope="module")
def pack():
    return from_frames({"events": EVENTS, "users": USERS}, tz="Asia/Shanghai")


def _cells(df: pd.DataFrame) -> dict[tuple[str, int], tuple[int, float | None, bool]]:
    return {(r.cohort_label, r.period): (r.users, None if pd.isna(r.rate) else r.rate, r.complete)
            for r in df.itertuples()}


def test_first_time_monthly(pack) -> None:
    df = retention(pack, MAR, interval="month", cohorts=3)
    assert list(df.columns) == ["cohort", "cohort_label", "period", "cohort_size", "users", "rate", "complete", "reason"]
    cells = _cells(df)
    # Jan cohort {a, b}; Feb cohort {c, d (timezone)}; Mar cohort {e}
    assert cells == {
        ("2026-01", 0): (2, 1.0, True), ("2026-01", 1): (1, 0.5, True), ("2026-01", 2): (2, 1.0, True),
        ("2026-02", 0): (2, 1.0, True), ("2026-02", 1): (0, 0.0, True),
        ("2026-03", 0): (1, 1.0, True),
    }
    avg = retention_average(df).set_index("period")
    assert avg.loc[1, "users"] == 1 and avg.loc[1, "cohort_size"] == 4 and avg.loc[1, "rate"] == 0.25
    assert avg.loc[2, "cohorts"] == 1 and avg.loc[2, "rate"] == 1.0


def test_return_event_and_start_event(pack) -> None:
    df = retention(pack, MAR, cohorts=3, return_event="purchase")
    assert _cells(df)[("2026-01", 2)] == (1, 0.5, True)  # only b purchased in March
    df = retention(pack, MAR, cohorts=3, start_event="purchase")
    assert df.loc[df["period"] == 0, "cohort_size"].tolist() == [0, 0, 1]  # b's first purchase is March
    assert df["reason"].tolist()[:3] == ["empty cohort"] * 3


def test_signup_anchor_counts_users_without_events(pack) -> None:
    df = retention(pack, MAR, cohorts=3, anchor="signup")
    cells = _cells(df)
    # Jan signups {a, b, d}: d's 2026-01-31T20:00Z event is a February day → retained in period 1
    assert cells[("2026-01", 1)] == (2, pytest.approx(2 / 3), True)
    # Feb signups {c, z}: z never had an event but is in the cohort size
    assert df.loc[(df["cohort_label"] == "2026-02") & (df["period"] == 0), "cohort_size"].item() == 2
    assert cells[("2026-02", 1)] == (0, 0.0, True)


def test_recurring_mode(pack) -> None:
    df = retention(pack, MAR, cohorts=3, mode="recurring")
    sizes = df[df["period"] == 0].set_index("cohort_label")["cohort_size"].to_dict()
    assert sizes == {"2026-01": 2, "2026-02": 3, "2026-03": 3}  # a in every month
    cells = _cells(df)
    assert cells[("2026-02", 1)] == (1, pytest.approx(1 / 3), True)  # a again in March
    assert cells[("2026-01", 1)] == (1, 0.5, True)


def test_incomplete_cells_are_missing_not_zero() -> None:
    ev = pd.DataFrame({"user_id": ["a", "b", "a"], "ts": ["2026-03-02", "2026-03-03", "2026-03-10"], "event": "visit"})
    p = from_frames({"events": ev})
    # weeks: 03-02 is a Monday; data ends 03-10 (a Tuesday) → the week of 03-09 is incomplete
    df = retention(p, MAR, interval="week", cohorts=2)
    cells = _cells(df)
    assert cells[("2026-W10", 0)] == (2, 1.0, True)
    assert cells[("2026-W10", 1)] == (1, None, False)
    assert cells[("2026-W11", 0)] == (0, None, False)
    assert df.loc[~df["complete"], "reason"].unique().tolist() == ["incomplete period"]
    wide = retention(p, MAR, interval="week", cohorts=2, shape="wide")
    assert list(wide.index) == ["2026-W10", "2026-W11", "average"]
    assert wide.loc["2026-W10", 0] == 1.0 and pd.isna(wide.loc["2026-W10", 1])
    assert pd.isna(wide.loc["average", 1])


def test_daily_interval_uses_local_days() -> None:
    ev = pd.DataFrame({"user_id": ["a", "a"], "ts": ["2026-01-31T15:59:00Z", "2026-01-31T16:00:00Z"], "event": "visit"})
    p = from_frames({"events": ev}, tz="Asia/Shanghai")
    df = retention(p, Period.parse("2026-02"), interval="day", cohorts=2)
    # 23:59 on 01-31 local, then 00:00 on 02-01 local: day-1 retention 100 %
    assert _cells(df)[("2026-01-31", 1)] == (1, 1.0, True)


def test_no_cohort_users_raises() -> None:
    p = from_frames({"events": pd.DataFrame({"user_id": ["a"], "ts": ["2025-01-01"], "event": "visit"})})
    with pytest.raises(NoData):
        retention(p, MAR, cohorts=2, interval="month")


def test_day_n_new_vs_returning(pack) -> None:
    df = day_n_retention(pack, Period.parse("2026-02"), days=(1, 7, 26))
    got = {(r.group, r.day_n): (r.users, r.eligible, r.retained, None if pd.isna(r.rate) else r.rate)
           for r in df.itertuples()}
    # Feb users: a (returning, first day 02-03), c (new, 02-15), d (new, 02-01 local). Last day 03-31.
    # Day 26: a → 03-01 (active), c → 03-13, d → 02-27 (inactive)
    assert got[("returning", 26)] == (1, 1, 1, 1.0)
    assert got[("new", 26)] == (2, 2, 0, 0.0)
    assert got[("all", 1)] == (3, 3, 0, 0.0)


def test_day_n_eligibility_and_missing() -> None:
    ev = pd.DataFrame({"user_id": ["a", "a", "b"], "ts": ["2026-02-20", "2026-02-21", "2026-02-27"], "event": "visit"})
    df = day_n_retention(from_frames({"events": ev}), Period.parse("2026-02"), days=(1, 7))
    got = {(r.group, r.day_n): (r.eligible, r.retained, None if pd.isna(r.rate) else r.rate, r.reason)
           for r in df.itertuples()}
    # last day 02-27: a's day 7 (02-27) is in the data, b's day 1 (02-28) is not
    assert got[("new", 1)] == (1, 1, 1.0, "")
    assert got[("new", 7)] == (1, 0, 0.0, "")
    assert got[("returning", 1)] == (0, 0, None, "no users")
    with pytest.raises(NoData):
        day_n_retention(from_frames({"events": ev}), Period.parse("2026-01"))


_event = st.tuples(st.sampled_from(["u1", "u2", "u3", "u4", "u5"]), st.integers(0, 120), st.sampled_from(["visit", "buy"]))


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, min_size=1, max_size=25),
       interval=st.sampled_from(["day", "week", "month"]),
       mode=st.sampled_from(["first_time", "recurring"]),
       start=st.sampled_from([None, "visit"]))
def test_period_zero_is_cohort_size(rows, interval, mode, start) -> None:
    base = datetime(2026, 1, 1)
    ev = pd.DataFrame({"user_id": [r[0] for r in rows],
                       "ts": [(base + timedelta(days=r[1], hours=r[1] % 24)).isoformat() for r in rows],
                       "event": [r[2] for r in rows]})
    p = from_frames({"events": ev})
    try:
        df = retention(p, Period.parse("2026-04"), interval=interval, mode=mode, cohorts=6, start_event=start)
    except NoData:
        return
    zero = df[df["period"] == 0]
    assert (zero["users"] == zero["cohort_size"]).all()
    assert (df["users"] <= df["cohort_size"]).all()
    done = df[df["complete"] & (df["cohort_size"] > 0)]
    assert ((done["rate"] >= 0) & (done["rate"] <= 1)).all()
