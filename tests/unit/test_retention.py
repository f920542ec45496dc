"""Cohort retention and D-N retention: exact numbers on tiny packs, plus a property test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.retention import day_n_retention, matured_cohort, retention, retention_average
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


def test_cells_after_the_as_of_day_are_not_read() -> None:
    """A review of February with data into April: no March column, and February's cells are all complete."""
    ev = pd.DataFrame({"user_id": ["a", "a", "a", "b"], "ts": ["2026-01-10", "2026-02-10", "2026-03-10", "2026-04-02"],
                       "event": "visit"})
    df = retention(from_frames({"events": ev}), Period.parse("2026-02"), interval="month", cohorts=2)
    assert sorted(set(df["cohort_label"])) == ["2026-01", "2026-02"] and int(df["period"].max()) == 1
    assert df["complete"].all()
    assert _cells(df)[("2026-01", 1)] == (1, 1.0, True)  # a's March visit is not read


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


def test_day_n_on_one_matured_base() -> None:
    """D1, D7 and D30 of one row are measured on the same users: February's, matured by 31 March.

    n3 comes back only on day 30: exact-day retention would read D1 0 %, D7 0 %, D30 100 % (a curve that
    rises); "on day N or later" counts n3 retained on every day, so the curve cannot rise with N.
    """
    rows = [
        ("n1", "2026-02-01"), ("n1", "2026-02-02"), ("n1", "2026-03-03"),  # days 1 and 30
        ("n2", "2026-02-10"), ("n2", "2026-02-17"),                          # day 7 only
        ("n3", "2026-02-20"), ("n3", "2026-03-22"),                          # day 30 only
        ("n4", "2026-02-28"),                                                # never back
        ("r1", "2026-01-05"), ("r1", "2026-02-03"), ("r1", "2026-04-10"),   # back only after the as-of day
        ("late", "2026-03-05"), ("late", "2026-03-31"),                      # March's user: not in the base
    ]
    ev = pd.DataFrame(rows, columns=["user_id", "ts"]).assign(event="visit")
    res = day_n_retention(from_frames({"events": ev}), MAR, days=(1, 7, 30))
    assert (res.cohort, res.as_of) == (Period.parse("2026-02"), datetime(2026, 3, 31).date())
    got = {(r.group, r.day_n): (r.users, r.retained) for r in res.table.itertuples()}
    assert got == {("new", 1): (4, 3), ("new", 7): (4, 3), ("new", 30): (4, 2),
                   ("returning", 1): (1, 0), ("returning", 7): (1, 0), ("returning", 30): (1, 0),
                   ("all", 1): (5, 3), ("all", 7): (5, 3), ("all", 30): (5, 2)}
    new = res.table[res.table["group"] == "new"]["rate"].tolist()
    assert new == [0.75, 0.75, 0.5]


def test_matured_cohort_is_the_month_before_clipped_to_the_last_matured_day() -> None:
    d = datetime(2026, 10, 31).date()
    assert matured_cohort(d, 30) == Period.parse("2026-09")
    feb = matured_cohort(datetime(2026, 2, 28).date(), 30)  # January's last users reach day 30 only on 2 March
    assert (feb.start, feb.last_day) == (datetime(2026, 1, 1).date(), datetime(2026, 1, 29).date())
    assert matured_cohort(datetime(2026, 3, 31).date(), 90) == Period.parse("2025-12")


def test_day_n_groups_without_users_and_no_matured_cohort() -> None:
    ev = pd.DataFrame({"user_id": ["a", "a", "b", "x"], "ts": ["2026-01-20", "2026-02-21", "2026-02-27", "2026-03-30"],
                       "event": "visit"})
    res = day_n_retention(from_frames({"events": ev}), MAR, days=(1, 7))  # base: February (matured by 24 March)
    got = {(r.group, r.day_n): (r.users, r.retained, None if pd.isna(r.rate) else r.rate, r.reason)
           for r in res.table.itertuples()}
    assert got[("new", 1)] == (1, 0, 0.0, "")  # b, never back
    assert got[("returning", 7)] == (1, 0, 0.0, "")  # a: first February day 02-21, nothing after
    march = ev.assign(ts=["2026-03-20", "2026-03-21", "2026-03-27", "2026-03-30"])
    with pytest.raises(NoData, match="nobody first active"):
        day_n_retention(from_frames({"events": march}), MAR)
    old = pd.DataFrame({"user_id": ["a", "a", "a"], "ts": ["2025-12-05", "2026-01-10", "2026-02-20"], "event": "visit"})
    res = day_n_retention(from_frames({"events": old}), Period.parse("2026-02"), days=(1,))
    assert res.table.set_index("group").loc["new", "reason"] == "no users"
    assert res.table.set_index("group").loc["returning", "retained"] == 1  # back on 02-20


_dn_event = st.tuples(st.sampled_from(["u1", "u2", "u3", "u4", "u5", "u6"]), st.integers(0, 150))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(_dn_event, min_size=1, max_size=30), days=st.sets(st.integers(1, 40), min_size=1, max_size=4))
def test_day_n_curve_never_rises_on_its_fixed_base(rows, days) -> None:
    base = datetime(2026, 1, 1)
    ev = pd.DataFrame({"user_id": [r[0] for r in rows], "ts": [(base + timedelta(days=r[1])).isoformat() for r in rows],
                       "event": "visit"})
    try:
        res = day_n_retention(from_frames({"events": ev}), Period.parse("2026-05"), days=sorted(days))
    except NoData:
        return
    for _, g in res.table.groupby("group"):
        g = g.sort_values("day_n")
        assert g["users"].nunique() == 1  # one base for every N
        r = g["retained"].tolist()
        assert all(a >= b for a, b in zip(r, r[1:], strict=False))


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
