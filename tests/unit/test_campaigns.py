"""Campaign results, uplift, after-effect and timeline on hand-made packs (exact numbers)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.campaigns import (
    after_effect,
    campaign_results,
    cost_cents,
    shift,
    spend_reconciliation,
    timeline,
    uplift,
)
from opsnb.pack import from_frames
from opsnb.periods import Period

sys.path.insert(0, str(Path(__file__).parent))
from campaign_packs import (  # noqa: E402
    campaign_pack,
    campaigns_frame,
    follow_pack,
    orders_frame,
    spend_pack,
    users_frame,
)

OCT = Period.parse("2026-10")


def _row(df: pd.DataFrame, cid: str) -> dict:
    return df.set_index("campaign_id").loc[cid].to_dict()


def test_results_exact_numbers_and_attribution():
    r = campaign_results(campaign_pack(), OCT, roi_threshold=3.0)
    assert list(r["campaign_id"]) == ["A", "C", "B"]  # D (November) is not in the period; B (n/a ROI) last
    a = _row(r, "A")
    # participants u1 (touch + order), u2 (touch + order); o3 is a day after the end, o4 is a refund row
    assert (a["reach"], a["reach_source"], a["participants"], a["new_users"]) == (1000, "table", 2, 1)
    assert (a["buyers"], a["orders"], a["gmv"], a["cost"]) == (2, 2, 500.0, 100.0)
    assert (a["roi"], a["cac"], a["conversion"]) == (5.0, 100.0, 1.0)
    assert (a["days_read"], a["running"], a["cost_total"]) == (3, False, 100.0)
    assert (a["new_users_attainment"], a["gmv_attainment"], a["roi_rank"], a["low_roi"]) == (0.5, 1.0, 1, False)
    c = _row(r, "C")  # starts in September, overlaps the period's first day
    assert (c["reach"], c["reach_source"], c["participants"], c["new_users"]) == (1, "touchpoints", 1, 1)
    assert (c["gmv"], c["roi"], c["cac"], c["roi_rank"], c["low_roi"]) == (1000.0, 2.5, 400.0, 2, True)
    assert pd.isna(c["new_users_attainment"]) and c["new_users_attainment_reason"] == "no_target"


def test_zero_cost_campaign_roi_is_na_not_inf():
    b = _row(campaign_results(campaign_pack(), OCT), "B")
    # u1 and u3 touched it (u2's touch is after the end); u5's cancelled order makes u5 a participant
    assert (b["reach"], b["participants"], b["new_users"], b["buyers"], b["gmv"]) == (2, 3, 2, 1, 80.0)
    assert pd.isna(b["roi"]) and b["roi_reason"] == "zero_cost"
    assert pd.isna(b["roi_rank"]) and b["low_roi"] is False or b["low_roi"] == False  # noqa: E712
    assert b["cac"] == 0.0 and b["conversion"] == pytest.approx(1 / 3, abs=1e-12)


def test_overlapping_campaigns_do_not_share_orders():
    r = campaign_results(campaign_pack(), OCT)
    # A (1-3 Oct) and B (2-5 Oct) overlap; u1 takes part in both, orders go by campaign_id only
    assert _row(r, "A")["gmv"] + _row(r, "B")["gmv"] == 580.0
    assert _row(r, "A")["participants"] == 2 and _row(r, "B")["participants"] == 3


def test_missing_or_empty_campaigns_is_nodata():
    no_table = from_frames({"orders": orders_frame()})
    with pytest.raises(NoData) as e:
        campaign_results(no_table, OCT)
    assert e.value.table == "campaigns"
    empty = from_frames({"orders": orders_frame(), "campaigns": campaigns_frame().iloc[0:0]})
    with pytest.raises(NoData):
        campaign_results(empty, OCT)
    with pytest.raises(NoData, match="2026-12"):
        campaign_results(campaign_pack(), Period.parse("2026-12"))


def test_without_users_new_users_are_na():
    p = from_frames({"campaigns": campaigns_frame(), "orders": orders_frame()})
    a = _row(campaign_results(p, OCT), "A")
    assert pd.isna(a["new_users"]) and a["cac_reason"] == "no_users_table" and a["participants"] == 2


def _uplift_pack():
    camps = pd.DataFrame({"campaign_id": ["X", "Y"], "name": ["X", "Y"], "type": ["promo", "promo"],
                          "start": ["2026-10-10", "2026-10-05"], "end": ["2026-10-12", "2026-10-08"],
                          "cost": ["10", "10"]})
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(9)],
        "user_id": ["u"] * 9,
        "ts": ["2025-10-01", "2025-10-11", "2026-10-07", "2026-10-08", "2026-10-09", "2026-10-10",
               "2026-10-11 23:00", "2026-10-13", "2026-10-11"],
        "amount": ["50", "200", "100", "100", "100", "300", "300", "999", "-300"],
        "status": ["paid"] * 8 + ["refunded"],
    })
    users = pd.DataFrame({"user_id": ["a", "b", "c", "d"],
                          "signup_at": ["2026-10-10", "2026-10-12 22:00", "2026-10-08", "2026-10-13"]})
    return from_frames({"campaigns": camps, "orders": orders, "users": users})


def test_uplift_against_baseline_and_last_year():
    u = uplift(_uplift_pack(), OCT).set_index("campaign_id")
    x = u.loc["X"].to_dict()
    assert (x["baseline_start"], x["baseline_end"], x["days"]) == (date(2026, 10, 7), date(2026, 10, 9), 3)
    assert (x["gmv"], x["gmv_baseline"], x["gmv_uplift"]) == (600.0, 300.0, 1.0)
    assert (x["gmv_ly"], x["gmv_yoy"]) == (200.0, 2.0)
    assert (x["new_users"], x["new_users_baseline"], x["new_users_uplift"]) == (2.0, 1.0, 1.0)
    assert x["new_users_ly"] == 0.0 and pd.isna(x["new_users_yoy"]) and x["new_users_yoy_reason"] == "no_baseline"
    # Y (5-8 Oct) runs in X's baseline; 7 Oct 2026 is a day off in lieu of the National Day holiday
    assert x["baseline_overlaps"] == ["Y"] and x["baseline_holidays"] == [date(2026, 10, 7)] and x["caveat"]
    y = u.loc["Y"].to_dict()
    assert (y["gmv"], y["gmv_baseline"], y["gmv_uplift_reason"]) == (200.0, 0.0, "no_baseline")
    assert pd.isna(y["gmv_uplift"])
    assert y["baseline_overlaps"] == [] and y["baseline_holidays"] == [date(2026, 10, d) for d in (1, 2, 3)]


def test_uplift_baseline_holidays_follow_the_units_calendar():
    """A GB unit's baseline in early October has no public holiday; China's National Day is not its caveat."""
    u = uplift(_uplift_pack(), OCT, region="GB").set_index("campaign_id")
    assert u.loc["Y", "baseline_holidays"] == [] and u.loc["X", "baseline_holidays"] == []
    assert bool(u.loc["X", "caveat"]) and not bool(u.loc["Y", "caveat"])  # X still has an overlapping campaign
    assert uplift(_uplift_pack(), OCT, region=None).loc[0, "baseline_holidays"] == []


def test_uplift_baseline_before_data_is_na():
    a = uplift(campaign_pack(), OCT).set_index("campaign_id").loc["A"]
    assert pd.isna(a["gmv_baseline"]) and a["gmv_uplift_reason"] == "before_data"
    assert a["gmv"] == 560.0  # all paid GMV on 1-3 Oct, attributed or not; the refund row is not netted


def test_after_effect_without_events_compares_cohort_matched_non_participants():
    users = pd.concat([users_frame(), pd.DataFrame({
        "user_id": ["u6", "u7", "u8", "u9", "u10"],
        "signup_at": ["2026-09-10", "2026-10-01", "2026-08-15", "2026-10-20", "2026-09-05"]})])
    orders = pd.concat([orders_frame(), pd.DataFrame({
        "order_id": ["o9", "o10"], "user_id": ["u6", "u7"], "ts": ["2026-10-10", "2026-11-02"], "amount": ["30", "5"],
        "status": ["paid", "paid"], "campaign_id": ["", ""]})])
    r = after_effect(campaign_pack(users=users, orders=orders), OCT, days=30).set_index("campaign_id")
    a = r.loc["A"].to_dict()
    # the follow-up (4 Oct – 2 Nov) is read up to the period's last day only: 28 of its 30 days
    assert (a["follow_start"], a["follow_end"], a["observed_days"], a["complete"]) == (
        date(2026, 10, 4), date(2026, 10, 31), 28, False)
    # comparison: u6, u10 (Sep) and u7 (Oct); u8's cohort has no participant; u9 signed up after 4 Oct
    assert (a["participants"], a["comparison"], a["comparison_basis"]) == (2, 3, "cohort")
    # participants: u2 buys on 4 Oct → 1/2; comparison: Sep 1/2, Oct 0/1 (u7's order is after the as-of day),
    # weighted ½·½ + ½·0
    assert (a["repurchase_participants"], a["repurchase_comparison"], a["repurchase_diff"]) == (0.5, 0.25, 0.25)
    assert a["retention_participants_reason"] == "no_events_table" and pd.isna(a["retention_diff"])


def test_after_effect_compares_users_active_during_the_campaign():
    from opsnb.metrics.rates import newcombe

    r = after_effect(follow_pack(), OCT, days=30).set_index("campaign_id")
    k = r.loc["K"].to_dict()
    assert (k["follow_start"], k["follow_end"], k["observed_days"]) == (date(2026, 10, 13), date(2026, 10, 31), 19)
    # c1-c4 were active on K's days and took part in nothing; d1 was not active then, so is not comparable
    assert (k["participants"], k["comparison"], k["comparison_basis"]) == (4, 4, "active")
    # p1, p2 (31 Oct, 23:00) and p4 (J's order) buy in the follow-up, p3's order is after the as-of day; c1 buys
    assert (k["repurchase_buyers"], k["repurchase_participants"], k["repurchase_comparison"]) == (3, 0.75, 0.25)
    assert (k["retention_participants"], k["retention_comparison"]) == (0.75, 0.5)
    # one cohort: the comparison's effective size is its size, and the interval is Newcombe's on the counts
    assert k["repurchase_comparison_size"] == pytest.approx(4.0)
    assert (k["repurchase_ci_low"], k["repurchase_ci_high"]) == pytest.approx(newcombe(3, 4, 1, 4))
    j = r.loc["J"].to_dict()  # ends after the period: no follow-up day observed yet
    assert j["observed_days"] == 0 and pd.isna(j["repurchase_participants"])
    assert j["repurchase_participants_reason"] == "not_observed" and pd.isna(j["follow_end"])


def test_results_stop_at_the_as_of_day():
    r = campaign_results(follow_pack(), OCT).set_index("campaign_id")
    j = r.loc["J"].to_dict()
    # J runs 28 Oct - 3 Nov: 4 of its 7 days are read; o6 (2 Nov) is not; the cost is the 4 days' share
    assert (j["days"], j["days_read"], j["running"], j["orders"], j["gmv"]) == (7, 4, True, 1, 20.0)
    assert (j["cost_total"], j["cost"], j["roi"]) == (70.0, 40.0, 0.5)
    assert pd.isna(j["gmv_attainment"]) and j["gmv_attainment_reason"] == "running"
    k = r.loc["K"].to_dict()
    assert (k["running"], k["cost"]) == (False, 100.0) and pd.isna(k["gmv_attainment_reason"])


def test_cost_is_spread_over_the_days_to_the_cent():
    # 100.00 over 3 days: 33.34 + 33.33 + 33.33; any split of the days adds up to the cost
    sep, oct_ = date(2026, 9, 1), date(2026, 10, 1)
    start, end = date(2026, 9, 29), date(2026, 10, 1)
    assert [cost_cents(100, start, end, start + timedelta(days=i), start + timedelta(days=i + 1))
            for i in range(3)] == [3334, 3333, 3333]
    assert cost_cents(100, start, end, sep, oct_) + cost_cents(100, start, end, oct_, date(2026, 11, 1)) == 10000
    assert cost_cents(0.07, start, end, oct_, date(2026, 11, 1)) == 2  # 7 cents: 3 + 2 + 2
    assert cost_cents(100, start, end, date(2026, 11, 1), date(2026, 12, 1)) == 0


def test_spend_reconciles_to_the_cent():
    rec = spend_reconciliation(spend_pack(), OCT)
    c = rec.campaigns.set_index("campaign_id")
    # K in full; J 4 of 7 days (70.00 → 10.00 a day); L 1 of 3 days (33.34 + 33.33 + 33.33 → the last)
    assert c["days_in"].to_dict() == {"K": 3, "J": 4, "L": 1}
    assert c["cost_in_cents"].to_dict() == {"K": 10000, "J": 4000, "L": 3333}
    assert rec.channels.set_index("channel")["cost_cents"].to_dict() == {"ads": 1235, "seo": 10010}
    assert (rec.campaign_cents, rec.channel_cents, rec.total_cents, rec.other_cents) == (17333, 11245, 28578, None)
    inside = spend_reconciliation(spend_pack(), OCT, inside=True)
    # campaign costs said to be inside channel spend, yet larger than it: a negative remainder to report
    assert (inside.total_cents, inside.other_cents) == (11245, 11245 - 17333)
    no_spend = spend_reconciliation(from_frames({"campaigns": spend_pack().table("campaigns").execute()}), OCT)
    assert (no_spend.channel_cents, no_spend.total_cents, no_spend.campaign_cents) == (None, None, 17333)


def test_shift_of_counts_between_equal_windows():
    assert shift(60, 40, min_base=30) == "up" and shift(40, 60, min_base=30) == "down"
    assert shift(52, 48, min_base=30) == "flat"
    assert shift(90, 29, min_base=30) == "small"  # the baseline is under min_base: no verdict however large
    assert shift(90, 29, min_base=29) == "up"


def test_uplift_window_stops_at_the_as_of_day():
    u = uplift(follow_pack(), OCT).set_index("campaign_id")
    j = u.loc["J"].to_dict()
    # J's 4 days to 31 Oct against the 4 days before; 2 Nov (o4, o6) is not read
    assert (j["days"], j["running"], j["baseline_start"], j["gmv"], j["orders"]) == (4, True, date(2026, 10, 24),
                                                                                      30.0, 2)
    assert (j["gmv_baseline"], j["orders_baseline"], j["gmv_uplift_reason"]) == (0.0, 0, "no_baseline")


def test_after_effect_without_comparison_group():
    r = after_effect(campaign_pack(), OCT).set_index("campaign_id")
    assert r.loc["A", "comparison"] == 0 and r.loc["A", "repurchase_comparison_reason"] == "no_comparison"
    assert r.loc["A", "retention_participants_reason"] == "no_events_table"


def test_timeline_daily_gmv_and_bars():
    tl = timeline(campaign_pack(), OCT)
    assert len(tl.daily) == 31 and tl.daily[date(2026, 10, 2)] == 260.0 and tl.daily.sum() == 690.0
    assert list(tl.campaigns["campaign_id"]) == ["C", "A", "B"]
