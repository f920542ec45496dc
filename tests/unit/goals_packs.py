"""Tiny hand-made packs for the goals engine tests (every number below is worked by hand)."""

from __future__ import annotations

import pandas as pd

from opsnb.pack import Pack, from_frames


def pack_a() -> Pack:
    """Data from 2025-01-01 to 2026-10-31; review month 2026-10 is complete.

    2026-10: active u1 u2 u3 u4 u7 (mau 5; DAU 10-01: 2, 10-02: 2, 10-14: 1, 10-31: 1 → 6 user-days);
    paid orders o1 100 (ads), o2 50 (no channel), o3 30 (seo) → GMV 180, 3 orders, 2 payers (u1 twice);
    o4 refund and o5 cancelled are not GMV. New users u3, u4. Spend 60 + 20.
    2026-09: active u1 u2 u6 (mau 3), paid o6 40 + o7 60 → GMV 100, 2 orders, 2 payers.
    2025-10: GMV 90 (o8); 2025-Q4 GMV 120 (o8 + o9 on 2025-12-01).
    D30 cohort for 2026-10 (signup day + 30 in October): u2 (09-01, active 10-01: kept) and
    u7 (09-15, active 10-14 = day 29: not kept) → 1/2.
    """
    users = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5", "u6", "u7"],
        "signup_at": ["2025-01-01 08:00", "2026-09-01 10:00", "2026-10-02 12:00", "2026-10-31 23:00",
                      "2025-10-15 09:00", "2026-08-20 09:00", "2026-09-15 09:00"],
    })
    events = pd.DataFrame({
        "user_id": ["u1", "u1", "u5", "u1", "u2", "u6", "u1", "u2", "u3", "u1", "u7", "u4"],
        "ts": ["2025-01-01 08:00", "2025-10-03 10:00", "2025-10-15 10:00", "2026-09-05 10:00", "2026-09-06 10:00",
               "2026-09-20 10:00", "2026-10-01 08:00", "2026-10-01 09:00", "2026-10-02 13:00", "2026-10-02 20:00",
               "2026-10-14 10:00", "2026-10-31 23:30"],
        "event": ["visit"] * 12,
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9"],
        "user_id": ["u1", "u1", "u2", "u3", "u3", "u1", "u2", "u5", "u5"],
        "ts": ["2026-10-01 10:00", "2026-10-02 11:00", "2026-10-03 12:00", "2026-10-04 12:00", "2026-10-05 12:00",
               "2026-09-10 12:00", "2026-09-11 12:00", "2025-10-16 12:00", "2025-12-01 12:00"],
        "amount": [100.0, 50.0, 30.0, -20.0, 70.0, 40.0, 60.0, 90.0, 30.0],
        "status": ["paid", None, "paid", "refunded", "cancelled", "paid", "paid", "paid", "paid"],
        "channel": ["ads", None, "seo", "ads", "ads", "ads", None, "ads", None],
    })
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-02", "2026-09-01"], "channel": ["ads", "seo", "ads"],
                          "cost": [60.0, 20.0, 10.0]})
    feedback = pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3"],
        "created_at": ["2026-10-01 00:00", "2026-10-02 00:00", "2026-10-30 00:00"],
        "category": ["app", "pay", "app"],
        "resolved_at": ["2026-10-01 06:00", None, "2026-11-02 00:00"],
        "satisfaction": [4.0, 5.0, None],
    })
    kpis = pd.DataFrame({
        "metric": ["gmv", "gmv", "gmv", "gmv", "gmv", "cac", "conversion_rate", "conversion_rate", "conversion_rate",
                   "churn_rate", "orders", "nps", "gmv"],
        "period": ["2026-10", "2026-11", "2026-12", "2026", "2026-Q3", "2026-10", "2026-10", "2026-11", "2026-12",
                   "2026-10", "2026-10", "2026-10", "2025-10"],
        "target": [150.0, 100.0, 200.0, 1000.0, 80.0, 50.0, 0.42, 0.42, 0.42, 0.25, 0.0, 40.0, 100.0],
        "actual": [None, None, None, None, None, None, None, None, None, None, None, 42.0, None],
    })
    return from_frames({"users": users, "events": events, "orders": orders, "channel_spend": spend,
                        "feedback": feedback, "kpis": kpis})


def pack_partial() -> Pack:
    """Data ends on 2026-10-10 (October is partial: 10 of 31 days).

    Last October: GMV 40 on 10-05 and 60 on 10-20 → shape share by day 10 = 0.4.
    This October to date: 50 + 30 = 80. September 1–10: 40 (and 500 on 09-25, outside the
    like-for-like window); 10 on 2025-09-01 starts the data. New users: 5 in the first 10 days, none last year (even split).
    """
    orders = pd.DataFrame({
        "order_id": ["a", "b", "c", "d", "e", "f", "g"],
        "user_id": ["x1", "x2", "x1", "x2", "x3", "x3", "x4"],
        "ts": ["2025-10-05 10:00", "2025-10-20 10:00", "2026-10-03 10:00", "2026-10-10 10:00",
               "2026-09-05 10:00", "2026-09-25 10:00", "2025-09-01 10:00"],
        "amount": [40.0, 60.0, 50.0, 30.0, 40.0, 500.0, 10.0],
    })
    users = pd.DataFrame({"user_id": [f"n{i}" for i in range(5)],
                          "signup_at": ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-09", "2026-10-10 22:00"]})
    kpis = pd.DataFrame({"metric": ["gmv", "new_users", "aov"], "period": ["2026-10", "2026-10", "2026-10"],
                         "target": [300.0, 31.0, 50.0]})
    return from_frames({"orders": orders, "users": users, "kpis": kpis})
