"""Ordered funnels with a conversion window: exact numbers, breakdowns and a property test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.funnel import funnel
from opsnb.pack import from_frames
from opsnb.periods import Period

FEB = Period.parse("2026-02")
STEPS = ["visit", "register", "add_to_cart"]
ROWS = [
    # a: full funnel; add_to_cart exactly 14 days after entry (inclusive window)
    ("a", "2026-02-01 10:00", "visit", "ios"), ("a", "2026-02-02", "register", "ios"),
    ("a", "2026-02-15 10:00", "add_to_cart", "ios"),
    # b: registered before visiting → order broken, stays at step 1
    ("b", "2026-02-03", "visit", "web"), ("b", "2026-02-02", "register", "web"),
    # c: registers 14 days + 1 s after entry → outside the window
    ("c", "2026-02-20", "visit", "ios"), ("c", "2026-03-06 00:00:01", "register", "ios"),
    # d: 2026-01-31T20:00Z = 02-01 04:00 local → enters in February; registers 05:00, same day
    ("d", "2026-01-31T20:00:00Z", "visit", "android"), ("d", "2026-02-01 05:00", "register", "android"),
    # e: entered in January → not in February's funnel
    ("e", "2026-01-20", "visit", "web"), ("e", "2026-02-02", "register", "web"),
]
USERS = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e", "z"], "signup_at": "2026-01-01",
                      "channel": ["seo", "seo", "ads", None, "ads", "ads"]})


@pytest.fixture(scope="module")
def pack():
    ev = pd.DataFrame(ROWS, columns=["user_id", "ts", "event", "platform"])
    return from_frames({"events": ev, "users": USERS}, tz="Asia/Shanghai")


def test_overall_funnel(pack) -> None:
    df = funnel(pack, FEB, steps=STEPS, window_days=14)
    assert df["users"].tolist() == [4, 2, 1]
    assert df["overall"].tolist() == [1.0, 0.5, 0.25]
    assert df["step_rate"].tolist() == [1.0, 0.5, 0.5]
    assert df["drop_off"].tolist() == [0, 2, 1]
    assert df["drop_rate"].tolist() == [0.0, 0.5, 0.5]
    assert df["event"].tolist() == STEPS


def test_window_is_inclusive_and_adjustable(pack) -> None:
    assert funnel(pack, FEB, steps=STEPS, window_days=13)["users"].tolist() == [4, 2, 0]
    assert funnel(pack, FEB, steps=STEPS, window_days=15)["users"].tolist() == [4, 3, 1]


def test_breakdown_by_channel_and_platform(pack) -> None:
    df = funnel(pack, FEB, steps=STEPS, by="channel")
    got = {(g, s): n for g, s, n in zip(df["group"], df["step"], df["users"], strict=True)}
    assert got == {("seo", 1): 2, ("seo", 2): 1, ("seo", 3): 1,
                   ("ads", 1): 1, ("ads", 2): 0, ("ads", 3): 0,
                   (None, 1): 1, (None, 2): 1, (None, 3): 0}
    ads = df[df["group"] == "ads"]
    assert pd.isna(ads["step_rate"].iloc[2]) and ads["reason"].iloc[2] == "no users at the previous step"
    df = funnel(pack, FEB, steps=STEPS, by="platform")
    got = {(g, s): n for g, s, n in zip(df["group"], df["step"], df["users"], strict=True)}
    assert got[("ios", 1)] == 2 and got[("ios", 3)] == 1 and got[("android", 2)] == 1 and got[("web", 2)] == 0


def test_repeated_step_needs_a_later_event() -> None:
    ev = pd.DataFrame({"user_id": ["a", "a", "b"], "ts": ["2026-02-01", "2026-02-02", "2026-02-01"], "event": "visit"})
    df = funnel(from_frames({"events": ev}), FEB, steps=["visit", "visit"])
    assert df["users"].tolist() == [2, 1]


def test_empty_period_raises(pack) -> None:
    with pytest.raises(NoData, match="no user did 'visit' in 2026-04"):
        funnel(pack, Period.parse("2026-04"), steps=STEPS)
    ev = pd.DataFrame({"user_id": ["a"], "ts": ["2026-02-01"], "event": "visit"})
    with pytest.raises(NoData, match="no platform column"):
        funnel(from_frames({"events": ev}), FEB, steps=STEPS, by="platform")


_row = st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.integers(0, 40 * 24),
                 st.sampled_from(["visit", "register", "add_to_cart", "purchase"]))


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=25), window=st.integers(0, 20))
def test_counts_never_increase(rows, window) -> None:
    base = datetime(2026, 1, 25)
    ev = pd.DataFrame({"user_id": [r[0] for r in rows],
                       "ts": [(base + timedelta(hours=r[1])).isoformat() for r in rows],
                       "event": [r[2] for r in rows]})
    try:
        df = funnel(from_frames({"events": ev}), FEB, steps=["visit", "register", "add_to_cart", "purchase"],
                    window_days=window)
    except NoData:
        return
    users = df["users"].tolist()
    assert all(a >= b for a, b in zip(users, users[1:], strict=False))
    assert users[0] == len({r[0] for r in rows if r[2] == "visit" and 7 * 24 <= r[1] < 35 * 24})
