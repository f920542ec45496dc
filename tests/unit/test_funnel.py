"""Ordered funnels with a conversion window and an entry population: exact numbers, breakdowns, the as-of
cut and property tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.funnel import funnel, funnel_payers
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
    ("c", "2026-02-10", "visit", "ios"), ("c", "2026-02-24 00:00:01", "register", "ios"),
    # d: 2026-01-31T20:00Z = 02-01 04:00 local → enters in February; registers 05:00, same day
    ("d", "2026-01-31T20:00:00Z", "visit", "android"), ("d", "2026-02-01 05:00", "register", "android"),
    # e: entered in January → not in February's funnel
    ("e", "2026-01-20", "visit", "web"), ("e", "2026-02-02", "register", "web"),
    # z: not a visitor; the data run to the end of February
    ("z", "2026-02-28 12:00", "view_item", "web"),
]
USERS = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e", "z"], "signup_at": "2026-01-01",
                      "channel": ["seo", "seo", "ads", None, "ads", "ads"]})


@pytest.fixture(scope="module")
def pack():
    ev = pd.DataFrame(ROWS, columns=["user_id", "ts", "event", "platform"])
    return from_frames({"events": ev, "users": USERS}, tz="Asia/Shanghai")


def test_overall_funnel(pack) -> None:
    df = funnel(pack, FEB, steps=STEPS, window_days=14, entry="all")
    assert df["users"].tolist() == [4, 2, 1]
    assert df["overall"].tolist() == [1.0, 0.5, 0.25]
    assert df["step_rate"].tolist() == [1.0, 0.5, 0.5]
    assert df["drop_off"].tolist() == [0, 2, 1]
    assert df["drop_rate"].tolist() == [0.0, 0.5, 0.5]
    assert df["event"].tolist() == STEPS


def test_window_is_inclusive_and_adjustable(pack) -> None:
    assert funnel(pack, FEB, steps=STEPS, window_days=13, entry="all")["users"].tolist() == [4, 2, 0]
    assert funnel(pack, FEB, steps=STEPS, window_days=15, entry="all")["users"].tolist() == [4, 3, 1]


def test_entry_population_leaves_out_users_who_did_a_later_step_before(pack) -> None:
    """b registered on 2 February and visited on the 3rd: not a sign-up drop-off of the 注册 step."""
    df = funnel(pack, FEB, steps=STEPS, window_days=14)  # entry="new", the default
    assert df["users"].tolist() == [3, 2, 1]
    assert df["drop_off"].tolist() == [0, 1, 1]
    assert (df.attrs["entry"], df.attrs["seen"], df.attrs["excluded"]) == ("new", 4, 1)
    assert df.attrs["as_of"] == datetime(2026, 2, 28).date()
    # a later step at the very instant of entry is not "before" it (visit and sign-up logged together)
    ev = pd.DataFrame({"user_id": ["a", "a"], "ts": ["2026-02-03 10:00", "2026-02-03 10:00"],
                       "event": ["visit", "register"]})
    assert funnel(from_frames({"events": ev}), FEB, steps=["visit", "register"])["users"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="unknown funnel entry 'old'; known"):
        funnel(pack, FEB, steps=STEPS, entry="old")  # type: ignore[arg-type]


def test_nothing_after_the_as_of_day_and_open_windows_counted() -> None:
    """A review of February reads no March event; entrants of the window's last days are counted as open."""
    ev = pd.DataFrame([
        ("a", "2026-02-05 10:00", "visit"), ("a", "2026-02-06 10:00", "register"),
        ("f", "2026-02-27 10:00", "visit"), ("f", "2026-03-02 10:00", "register"),  # inside f's window, after Feb
        ("g", "2026-02-20 10:00", "visit"),
    ], columns=["user_id", "ts", "event"])
    df = funnel(from_frames({"events": ev}), FEB, steps=["visit", "register"], window_days=14)
    assert df["users"].tolist() == [3, 1]
    # window cut by 28 February for entrants from 15 February on: f and g; a converted with a full window
    assert (df.attrs["open_window"], df.attrs["full_window_converted"]) == (2, 1)


def test_breakdown_by_channel_and_platform(pack) -> None:
    df = funnel(pack, FEB, steps=STEPS, by="channel", entry="all")
    got = {(g, s): n for g, s, n in zip(df["group"], df["step"], df["users"], strict=True)}
    assert got == {("seo", 1): 2, ("seo", 2): 1, ("seo", 3): 1,
                   ("ads", 1): 1, ("ads", 2): 0, ("ads", 3): 0,
                   (None, 1): 1, (None, 2): 1, (None, 3): 0}
    ads = df[df["group"] == "ads"]
    assert pd.isna(ads["step_rate"].iloc[2]) and ads["reason"].iloc[2] == "no users at the previous step"
    df = funnel(pack, FEB, steps=STEPS, by="platform", entry="all")
    got = {(g, s): n for g, s, n in zip(df["group"], df["step"], df["users"], strict=True)}
    assert got[("ios", 1)] == 2 and got[("ios", 3)] == 1 and got[("android", 2)] == 1 and got[("web", 2)] == 0
    df = funnel(pack, FEB, steps=STEPS, by="channel")  # the entry population applies within each group
    got = {(g, s): n for g, s, n in zip(df["group"], df["step"], df["users"], strict=True)}
    assert got[("seo", 1)] == 1 and got[("seo", 2)] == 1 and got[("ads", 1)] == 1 and got[(None, 1)] == 1


def test_repeated_step_needs_a_later_event() -> None:
    ev = pd.DataFrame({"user_id": ["a", "a", "b"], "ts": ["2026-02-01", "2026-02-02", "2026-02-01"], "event": "visit"})
    df = funnel(from_frames({"events": ev}), FEB, steps=["visit", "visit"])
    assert df["users"].tolist() == [2, 1]


def test_funnel_buyers_against_paying_users() -> None:
    """Paying users of the period (paid orders) split into the funnel's entrants and the others."""
    ev = pd.DataFrame([
        ("n1", "2026-02-03 10:00", "visit"), ("n1", "2026-02-03 10:00", "register"),
        ("n2", "2026-02-04 10:00", "visit"),
        ("old", "2025-12-01 10:00", "register"), ("old", "2026-02-05 10:00", "visit"),
        ("quiet", "2025-12-01 10:00", "register"),
    ], columns=["user_id", "ts", "event"])
    orders = pd.DataFrame({"order_id": ["1", "2", "3", "4", "5"], "user_id": ["n1", "old", "quiet", "n2", "n1"],
                           "ts": ["2026-02-03 11:00", "2026-02-06", "2026-02-07", "2026-01-30", "2026-02-08"],
                           "amount": [10.0, 20.0, 30.0, 40.0, 5.0],
                           "status": ["paid", "paid", "paid", "paid", "refunded"]})
    p = funnel_payers(from_frames({"events": ev, "orders": orders}), FEB, steps=["visit", "register", "purchase"])
    # payers: n1, old, quiet (n2 paid in January; a refund row is not a payment)
    assert (p.payers, p.entrants, p.others) == (3, 1, 2)


def test_empty_period_raises(pack) -> None:
    with pytest.raises(NoData, match="the data end on|no user did 'visit' in 2026-04|ends on"):
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
    steps = ["visit", "register", "add_to_cart", "purchase"]
    pk = from_frames({"events": ev})
    try:
        df = funnel(pk, FEB, steps=steps, window_days=window, entry="all")
    except NoData:
        return
    users = df["users"].tolist()
    assert all(a >= b for a, b in zip(users, users[1:], strict=False))
    visits = {r[0] for r in rows if r[2] == "visit" and 7 * 24 <= r[1] < 35 * 24}
    assert users[0] == len(visits)
    # the "new" population: visitors whose first February visit came before any later step (ties allowed)
    first = {u: min(r[1] for r in rows if r[0] == u and r[2] == "visit" and 7 * 24 <= r[1] < 35 * 24) for u in visits}
    fresh = {u for u in visits if not any(r[0] == u and r[2] in steps[1:] and r[1] < first[u] for r in rows)}
    try:
        new = funnel(pk, FEB, steps=steps, window_days=window)
    except NoData:
        assert not fresh
        return
    n = new["users"].tolist()
    assert n[0] == len(fresh) and all(a >= b for a, b in zip(n, n[1:], strict=False))
    assert all(a <= b for a, b in zip(n, users, strict=True))  # a subset of the entrants reaches each step
