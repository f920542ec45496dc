"""Activity metrics: exact numbers on tiny hand-made packs."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.activity import activity, activity_summary, index_label, index_of, index_start, platform_split
from opsnb.pack import from_frames
from opsnb.periods import Period

FEB = Period.parse("2026-02")


def _pack(rows: list[tuple[str, str, str, str | None]], **extra: pd.DataFrame):
    ev = pd.DataFrame(rows, columns=["user_id", "ts", "event", "platform"])
    return from_frames({"events": ev, **extra}, tz="Asia/Shanghai")


def test_timezone_day_boundary_counts_on_local_day() -> None:
    # 2026-01-31T20:00Z is 2026-02-01 04:00 in Asia/Shanghai: a February active day, not January.
    pack = _pack([("a", "2026-01-31T20:00:00Z", "visit", "ios"), ("b", "2026-02-01 10:00", "visit", "web"),
                  ("c", "2026-01-30 12:00", "visit", "ios"), ("a", "2026-02-03 09:00", "purchase", "ios"),
                  ("a", "2026-02-10 00:00", "visit", "web")])
    r = activity(pack, FEB)
    d = r.daily.set_index(r.daily["date"].dt.date)
    assert d.loc[date(2026, 2, 1), "dau"] == 2
    assert r.daily["dau"].tolist() == [2, 0, 1, 0, 0, 0, 0, 0, 0, 1]  # clipped to the last data day 02-10
    # trailing 7 days: c (01-30) drops out after 02-05, b (02-01) after 02-07, a's 02-03 after 02-09
    assert r.daily["wau"].tolist() == [3, 3, 3, 3, 3, 2, 2, 1, 1, 1]
    assert r.daily["mau"].tolist() == [3] * 10
    s = r.summary
    assert (s.days, s.events, s.mau) == (10, 4, 2)
    assert s.avg_dau == pytest.approx(0.4)
    assert s.stickiness == pytest.approx(0.2)
    # January holds only c's visit: 1 user-day over 31 days
    assert r.previous is not None and r.previous.mau == 1
    assert r.previous.avg_dau == pytest.approx(1 / 31)
    assert r.last_year is None and r.last_year_reason == "no events in 2025-02"


def test_year_over_year_summary() -> None:
    pack = _pack([("a", "2025-02-03", "visit", None), ("b", "2025-02-03", "visit", None),
                  ("a", "2026-02-01", "visit", None), ("a", "2026-02-28", "visit", None)])
    r = activity(pack, FEB)
    assert r.summary.mau == 1 and r.summary.avg_dau == pytest.approx(2 / 28)
    assert r.last_year is not None and r.last_year.mau == 2
    assert r.last_year.avg_dau == pytest.approx(2 / 28)
    assert r.previous is None and r.previous_reason == "no events in 2026-01"


def test_empty_period_raises_nodata() -> None:
    pack = _pack([("a", "2026-03-05", "visit", None)])
    with pytest.raises(NoData, match="no events in 2026-02"):
        activity_summary(pack, FEB)
    with pytest.raises(NoData, match="table not in pack"):
        activity(from_frames({"users": pd.DataFrame({"user_id": ["x"], "signup_at": ["2026-02-01"]})}), FEB)


def test_users_without_events_are_not_active() -> None:
    users = pd.DataFrame({"user_id": ["a", "z"], "signup_at": ["2026-02-01", "2026-02-01"]})
    pack = _pack([("a", "2026-02-02", "visit", None), ("a", "2026-02-28", "visit", None)], users=users)
    s = activity(pack, FEB).summary
    assert s.mau == 1 and s.stickiness == pytest.approx(2 / 28)


def test_platform_split_from_events_and_from_users() -> None:
    pack = _pack([("a", "2026-02-01", "visit", "ios"), ("a", "2026-02-02", "visit", "web"),
                  ("b", "2026-02-01", "visit", "ios"), ("c", "2026-02-05", "visit", None),
                  ("d", "2026-01-05", "visit", "web")])
    df = platform_split(pack, FEB)
    assert df["platform"].tolist() == ["ios", "web", None]
    assert df["users"].tolist() == [2, 1, 1]
    assert df["events"].tolist() == [2, 1, 1]
    assert df["user_share"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert df["event_share"].tolist() == pytest.approx([0.5, 0.25, 0.25])

    ev = pd.DataFrame({"user_id": ["a", "b", "b"], "ts": ["2026-02-01"] * 3, "event": "visit"})
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_at": "2026-01-01", "platform": ["android", "ios"]})
    df2 = platform_split(from_frames({"events": ev, "users": users}), FEB)
    assert df2[["platform", "users", "events"]].values.tolist() == [["ios", 1, 2], ["android", 1, 1]]

    with pytest.raises(NoData, match="no platform column"):
        platform_split(from_frames({"events": ev}), FEB)


def test_interval_calendar_helpers() -> None:
    # ISO weeks start on Monday: 2026-02-01 is a Sunday, so it belongs to the week of 2026-01-26 (W05)
    i = index_of(date(2026, 2, 1), "week")
    assert index_start(i, "week") == date(2026, 1, 26)
    assert index_label(i, "week") == "2026-W05"
    assert index_of(date(2026, 2, 2), "week") == i + 1
    assert index_start(index_of(date(2026, 2, 17), "month"), "month") == date(2026, 2, 1)
    assert index_label(index_of(date(2026, 2, 17), "day"), "day") == "2026-02-17"


_ev = st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(-40, 27), st.integers(0, 23))


@settings(max_examples=20, deadline=None)
@given(rows=st.lists(_ev, min_size=1, max_size=30))
def test_trailing_wau_mau_match_brute_force(rows) -> None:
    start = date(2026, 2, 1)
    ev = pd.DataFrame({"user_id": [r[0] for r in rows],
                       "ts": [f"{start + timedelta(days=r[1])} {r[2]:02d}:00" for r in rows], "event": "visit"})
    try:
        r = activity(from_frames({"events": ev}), FEB)
    except NoData:
        return
    days = {(u, start + timedelta(days=k)) for u, k, _ in rows}
    for row in r.daily.itertuples():
        day = row.date.date()
        for col, w in (("dau", 1), ("wau", 7), ("mau", 30)):
            expect = len({u for u, d in days if day - timedelta(days=w - 1) <= d <= day})
            assert getattr(row, col) == expect, (day, col)
