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
