"""New users three ways (signed up, first active, registered in the funnel) and the line relating them."""

from __future__ import annotations

from datetime import date

import pandas as pd

from opsnb.metrics.new_users import new_users
from opsnb.pack import from_frames
from opsnb.periods import Period
from opsnb.sections.insights_cohorts import new_users_line

FEB = Period.parse("2026-02")
STEPS = ["visit", "register", "purchase"]


def _pack():
    users = pd.DataFrame({"user_id": ["a", "b", "c", "d", "e", "f"],
                          "signup_at": ["2026-02-03 09:00", "2026-02-05 10:00", "2026-02-05 11:00", "2026-01-20 08:00",
                                        "2026-01-10 08:00", "2026-02-10 08:00"]})
    ev = pd.DataFrame([
        ("a", "2026-02-03 09:00", "visit"), ("a", "2026-02-03 09:00", "register"),  # all three ways
        # b signed up on 5 February and left no event (a tracking outage that day)
        ("c", "2026-02-08 10:00", "visit"),  # c signed up on the 5th; the register event was lost
        ("d", "2026-02-02 10:00", "visit"), ("d", "2026-02-02 10:00", "register"),  # signed up in January
        ("e", "2026-01-10 08:00", "visit"), ("e", "2026-01-10 08:00", "register"), ("e", "2026-02-04", "visit"),
        ("e", "2026-02-28 20:00", "view_item"),
        ("f", "2026-01-15 10:00", "visit"),  # browsed in January, signed up in February

    ], columns=["user_id", "ts", "event"])
    return from_frames({"users": users, "events": ev})


def test_three_counts_and_the_users_behind_each_gap() -> None:
    nu = new_users(_pack(), FEB, steps=STEPS, window_days=14)
    assert (nu.signed_up, nu.first_active, nu.registered) == (4, 3, 2)
    assert (nu.signed_up_never_active, nu.signed_up_active_elsewhere, nu.active_not_signed_up,
            nu.active_not_registered, nu.registered_not_active) == (1, 1, 1, 1, 0)
    assert (nu.differing, nu.day, nu.day_users, nu.as_of) == (4, date(2026, 2, 5), 2, date(2026, 2, 28))
    assert new_users(_pack(), FEB, steps=["visit", "purchase"], window_days=14).registered is None


def test_one_generated_line_relates_them() -> None:
    nu = new_users(_pack(), FEB, steps=STEPS, window_days=14)
    assert new_users_line(nu, {"new_users": "新增用户"}, "2026-02", "zh") == (
        "本期新增用户的三个口径：按注册时间4人（目标页“新增用户”）；按首次活跃3人（同期群2026-02）；"
        "漏斗“注册”2人（入口人群中完成注册事件者）。差额：1人本期注册但截至2026年2月28日没有任何行为记录，"
        "1人本期注册但首次活跃不在本期，1人本期首次活跃但注册时间不在本期，1人本期首次活跃但没有注册事件；"
        "其中2人于2026年2月5日注册。")
    en = new_users_line(nu, {}, "2026-02", "en")
    assert en.startswith("New users of the period, three ways: 4 by sign-up date; 3 by first activity (cohort 2026-02)")
    same = nu.__class__(**{**nu.__dict__, "signed_up": 2, "first_active": 2})  # and registered 2
    assert new_users_line(same, {}, "2026-02", "zh") == ""  # the three agree: nothing to reconcile
