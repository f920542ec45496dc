"""Hand-made packs shared by the campaigns-section tests (test_campaigns, test_content, …)."""

from __future__ import annotations

import pandas as pd

from opsnb.pack import Pack, from_frames


def campaigns_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "campaign_id": ["A", "B", "C", "D"],
        "name": ["国庆大促", "<b>B</b>", "Autumn", "Nov"],
        "type": ["promo", "kol", "promo", "promo"],
        "start": ["2026-10-01", "2026-10-02", "2026-09-20", "2026-11-01"],
        "end": ["2026-10-03", "2026-10-05", "2026-10-01", "2026-11-05"],
        "cost": ["100", "0", "400", "10"],
        "reach": ["1000", "", "", ""],
        "target_new_users": ["2", "", "", ""],
        "target_gmv": ["500", "", "", ""],
    })


def users_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5"],
        "signup_at": ["2026-10-02 08:00", "2026-09-01", "2026-10-04", "2026-09-25", "2026-08-01"],
    })


def touchpoints_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": ["u1", "u2", "u1", "u3", "u2", "u4", "u5"],
        "ts": ["2026-10-01 09:00", "2026-10-02", "2026-10-02", "2026-10-04", "2026-10-06", "2026-09-26", "2026-10-02"],
        "channel": ["app"] * 7,
        "campaign_id": ["A", "A", "B", "B", "B", "C", ""],
    })


def orders_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"],
        "user_id": ["u1", "u2", "u2", "u1", "u3", "u5", "u4", "u2"],
        "ts": ["2026-10-02 10:00", "2026-10-03 23:59", "2026-10-04 00:00", "2026-10-03", "2026-10-05",
               "2026-10-04", "2026-09-30", "2026-10-02"],
        "amount": ["200", "300", "50", "-200", "80", "40", "1000", "60"],
        "status": ["paid", "paid", "paid", "refunded", "", "cancelled", "paid", "paid"],
        "campaign_id": ["A", "A", "A", "A", "B", "B", "C", ""],
    })


def campaign_pack(**extra: pd.DataFrame) -> Pack:
    frames = {"campaigns": campaigns_frame(), "users": users_frame(), "touchpoints": touchpoints_frame(),
              "orders": orders_frame()}
    frames.update(extra)
    return from_frames(frames)


def follow_pack(with_events: bool = True) -> Pack:
    """K (10-12 Oct): participants p1-p4 (Sep sign-ups); c1-c4 active during K and in no campaign; d1 never
    active during it. J (28 Oct - 3 Nov) runs past the period's end."""
    camps = pd.DataFrame({"campaign_id": ["K", "J"], "name": ["K", "J"], "type": ["promo"] * 2,
                          "start": ["2026-10-10", "2026-10-28"], "end": ["2026-10-12", "2026-11-03"],
                          "cost": ["100", "70"], "target_gmv": ["50", "50"]})
    people = ["p1", "p2", "p3", "p4", "c1", "c2", "c3", "c4", "d1"]
    users = pd.DataFrame({"user_id": people, "signup_at": ["2026-09-05"] * 9})
    touch = pd.DataFrame({"user_id": ["p1", "p2", "p3", "p4", "p4"], "channel": ["app"] * 5,
                          "ts": ["2026-10-10", "2026-10-11", "2026-10-12 23:00", "2026-10-12", "2026-10-29"],
                          "campaign_id": ["K", "K", "K", "K", "J"]})
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "user_id": ["p1", "p2", "c1", "p3", "p4", "p4"],
        "ts": ["2026-10-14", "2026-10-31 23:00", "2026-10-20", "2026-11-02", "2026-10-30", "2026-11-02"],
        "amount": ["10", "10", "10", "10", "20", "99"], "status": ["paid"] * 6,
        "campaign_id": ["", "", "", "", "J", "J"]})
    frames = {"campaigns": camps, "users": users, "touchpoints": touch, "orders": orders}
    if with_events:
        frames["events"] = pd.DataFrame({
            "user_id": ["c1", "c2", "c3", "c4", "p1", "p2", "p3", "c1", "c2", "d1"],
            "ts": ["2026-10-10", "2026-10-11", "2026-10-12", "2026-10-12 08:00", "2026-10-15", "2026-10-16",
                   "2026-10-17", "2026-10-18", "2026-10-19", "2026-10-31"],
            "event": ["visit"] * 10})
    return from_frames(frames)


def spend_pack() -> Pack:
    camps = pd.DataFrame({"campaign_id": ["K", "J", "L"], "name": ["K", "J", "L"], "type": ["promo"] * 3,
                          "start": ["2026-10-10", "2026-10-28", "2026-09-29"],
                          "end": ["2026-10-12", "2026-11-03", "2026-10-01"], "cost": ["100", "70", "100"]})
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-15", "2026-10-31", "2026-09-30", "2026-11-01"],
                          "channel": ["ads", "ads", "seo", "ads", "seo"],
                          "cost": ["12.34", "0.01", "100.10", "999", "5"]})
    orders = pd.DataFrame({"order_id": ["o1"], "user_id": ["u"], "ts": ["2026-10-05"], "amount": ["1"]})
    return from_frames({"campaigns": camps, "channel_spend": spend, "orders": orders})
