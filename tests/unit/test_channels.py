"""Channel table and S/A/B/C grades: exact numbers on a hand-made pack."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.channels import channels
from opsnb.pack import from_frames
from opsnb.params import InsightsSettings
from opsnb.periods import Period

OCT = Period.parse("2026-10")
S = InsightsSettings()


def _frames() -> dict[str, pd.DataFrame]:
    users = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
        "signup_at": ["2026-09-05 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00",
                      "2026-09-10 10:00", "2026-09-11 10:00"],
        "channel": ["ads", "ads", "seo", "seo", None, "ads"],
    })
    events = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u5", "u2", "u1"],
        "ts": ["2026-10-01 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-05 10:00", "2026-10-06 10:00",
               "2026-11-01 10:00"],
        "event": ["visit", "visit", "visit", "visit", "purchase", "visit"],
        "channel": ["ads", "ads", "seo", None, "ads", "ads"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"], "user_id": ["u2", "u3", "u2", "u4"],
        "ts": ["2026-10-06 10:00", "2026-10-07 10:00", "2026-09-01 10:00", "2026-10-08 10:00"],
        "amount": [100.0, 50.0, 10.0, 70.0], "channel": ["ads", "seo", "ads", "seo"],
        "status": ["paid", "paid", "paid", "cancelled"],
    })
    spend = pd.DataFrame({
        "date": ["2026-10-01", "2026-10-02", "2026-10-01", "2026-10-03", "2026-09-30"],
        "channel": ["ads", "ads", "kol", "seo", "ads"],
        "cost": [30.0, 20.0, 40.0, 10.0, 999.0], "impressions": [1000, 0, 0, 500, 5], "clicks": [10, 5, 0, 5, 5],
    })
    return {"users": users, "events": events, "orders": orders, "channel_spend": spend}


def test_channel_table_exact() -> None:
    df = channels(from_frames(_frames()), OCT, S).set_index("channel")
    assert df.attrs["traffic_basis"] == "visits"
    assert list(df.index) == ["ads", "seo", "kol", "(unknown)"]  # by GMV, then cost
    ads, seo, kol, unk = (df.loc[c] for c in df.index)
    assert ads["visits"] == 2 and seo["visits"] == 1 and unk["visits"] == 1 and kol["visits"] == 0
    assert ads["traffic_share"] == pytest.approx(0.5)
    assert ads["active_users"] == 2 and seo["active_users"] == 1 and unk["active_users"] == 1
    assert ads["new_users"] == 1 and seo["new_users"] == 2
    assert ads["paying_users"] == 1 and ads["conversion_rate"] == pytest.approx(0.5)
    assert seo["conversion_rate"] == pytest.approx(1.0)  # u3 paid; u4's order was cancelled
    assert kol["conversion_rate"] is None and kol["na"]["conversion_rate"] == "no_active_users"
    assert ads["cost"] == 50.0 and ads["impressions"] == 1000 and ads["clicks"] == 15
    assert ads["ctr"] == pytest.approx(0.015) and ads["cpc"] == pytest.approx(50 / 15)
    assert ads["cac"] == pytest.approx(50.0) and seo["cac"] == pytest.approx(5.0)
    assert kol["cac"] is None and kol["na"]["cac"] == "no_new_users"
    assert unk["cac"] is None and unk["na"]["cac"] == "no_cost"
    assert kol["ctr"] is None and kol["na"]["ctr"] == "no_impressions"
    assert ads["gmv"] == 100.0 and seo["gmv"] == 50.0
    assert ads["roi"] == pytest.approx(2.0) and seo["roi"] == pytest.approx(5.0) and kol["roi"] == 0.0
    assert unk["roi"] is None and unk["na"]["roi"] == "no_cost"
    # September cohorts: ads u1 (active in Oct), u6 (not) → 0.5; (unknown) u5 active → 1.0; seo none
    assert ads["retention"] == pytest.approx(0.5) and unk["retention"] == pytest.approx(1.0)
    assert seo["retention"] is None and seo["na"]["retention"] == "no_cohort"
    assert ads["budget_share"] == pytest.approx(0.5) and kol["budget_share"] == pytest.approx(0.4)
    assert ads["return_share"] == pytest.approx(2 / 3)
    # grades among paid channels: roi ads 2 → 0.4, seo 5 → 1, kol 0 → 0; cac ads 50 → 0, seo 5 → 1;
    # retention only ads → 0.5 (all defined values equal)
    assert ads["score"] == pytest.approx((0.5 * 0.4 + 0.3 * 0 + 0.2 * 0.5) / 1.0)
    assert seo["score"] == pytest.approx((0.5 * 1 + 0.3 * 1) / 0.8)
    assert kol["score"] == pytest.approx(0.0)
    assert (ads["grade"], seo["grade"], kol["grade"]) == ("B", "S", "C")
    assert unk["grade"] is None and unk["na"]["grade"] == "no_cost"


def test_custom_weights_and_cuts() -> None:
    s = InsightsSettings(channel_grade_weights={"roi": 1.0}, channel_grade_cuts=(0.9, 0.3, 0.1))
    df = channels(from_frames(_frames()), OCT, s).set_index("channel")
    assert df["score"].to_dict() == {"ads": pytest.approx(0.4), "seo": 1.0, "kol": 0.0, "(unknown)": None}
    assert df["grade"].to_dict() == {"ads": "A", "seo": "S", "kol": "C", "(unknown)": None}


def test_without_events_or_spend() -> None:
    f = _frames()
    df = channels(from_frames({"users": f["users"], "orders": f["orders"]}), OCT, S).set_index("channel")
    assert df.attrs["traffic_basis"] == "active_users"
    assert df.loc["ads", "cost"] is None and df.loc["ads", "roi"] is None
    assert df.loc["ads", "retention"] is None and df.loc["ads", "na"]["retention"] == "no_events"
    assert df.loc["ads", "grade"] is None
    assert df.loc["ads", "gmv"] == 100.0


def test_orders_without_channel_use_buyer_channel() -> None:
    f = _frames()
    orders = f["orders"].drop(columns="channel")
    df = channels(from_frames({"users": f["users"], "orders": orders}), OCT, S).set_index("channel")
    assert df.loc["ads", "gmv"] == 100.0 and df.loc["seo", "gmv"] == 50.0


def test_empty_period_and_no_channel_data() -> None:
    with pytest.raises(NoData, match="2027-03"):
        channels(from_frames(_frames()), Period.parse("2027-03"), S)
    with pytest.raises(NoData):
        channels(from_frames({"kpis": pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [1.0]})}),
                 OCT, S)


def test_small_bases_give_no_ratio_and_no_grade() -> None:
    """With min_base 2: a per-user ratio on one user is left out with its reason (shown with its n), and a
    channel whose graded metric is left out gets no grade (a grade is a verdict)."""
    df = channels(from_frames(_frames()), OCT, S, min_base=2).set_index("channel")
    ads, seo = df.loc["ads"], df.loc["seo"]
    assert ads["conversion_rate"] == pytest.approx(0.5) and ads["retention"] == pytest.approx(0.5)
    assert ads["cohort"] == 2  # the retention's base is in the table
    assert ads["cac"] is None and ads["na"]["cac"] == "small_base"  # one new user
    assert ads["grade"] is None and ads["na"]["grade"] == "small_base"
    assert seo["conversion_rate"] is None and seo["na"]["conversion_rate"] == "small_base"  # one active user
    assert seo["cac"] == pytest.approx(5.0) and seo["grade"] == "S"  # conversion is not graded
    # without a minimum the same channel is graded
    assert channels(from_frames(_frames()), OCT, S).set_index("channel").loc["ads", "grade"] == "B"
