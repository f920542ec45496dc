"""Regions: users, GMV, growth and concentration on a hand-made pack."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.regions import regions
from opsnb.pack import from_frames
from opsnb.periods import Period

OCT = Period.parse("2026-10")


def _frames() -> dict[str, pd.DataFrame]:
    users = pd.DataFrame({
        "user_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
        "signup_at": ["2026-09-05 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00",
                      "2026-09-10 10:00", "2026-11-02 10:00"],
        "region": ["bj", "bj", "sh", "sh", None, "gz"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5"], "user_id": ["u2", "u3", "u1", "zz", "u4"],
        "ts": ["2026-10-06 10:00", "2026-10-07 10:00", "2026-09-01 10:00", "2026-10-01 10:00", "2026-10-09 10:00"],
        "amount": [100.0, 50.0, 10.0, 5.0, -50.0], "status": ["paid", "paid", "paid", "paid", "refunded"],
    })
    events = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u5"], "event": ["visit"] * 4,
                           "ts": ["2026-09-20 10:00", "2026-10-20 10:00", "2026-10-20 11:00", "2026-09-21 10:00"]})
    return {"users": users, "orders": orders, "events": events}


def test_regions_exact() -> None:
    r = regions(from_frames(_frames()), OCT)
    df = r.table.set_index("region")
    assert list(df.index) == ["bj", "sh", "(unknown)"]  # gz registers only in November: no row
    assert df["users"].to_dict() == {"bj": 2, "sh": 2, "(unknown)": 1}
    assert df["new_users"].to_dict() == {"bj": 1, "sh": 2, "(unknown)": 0}
    assert df["active_users"].to_dict() == {"bj": 2, "sh": 0, "(unknown)": 0}
    assert df["gmv"].to_dict() == {"bj": 100.0, "sh": 50.0, "(unknown)": 5.0}  # zz has no user row; refund not netted
    assert df["gmv_prev"].to_dict() == {"bj": 10.0, "sh": 0.0, "(unknown)": 0.0}
    assert df.loc["bj", "gmv_growth"] == pytest.approx(9.0)
    assert df.loc["sh", "gmv_growth"] is None and df.loc["sh", "na"]["gmv_growth"] == "no_base"
    assert df.loc["bj", "users_growth"] == pytest.approx(1.0)
    assert df.loc["bj", "active_users_prev"] == 1 and df.loc["bj", "active_users_growth"] == pytest.approx(1.0)
    assert df.loc["(unknown)", "active_users_growth"] == pytest.approx(-1.0)
    assert r.basis == "gmv"
    assert r.top_region == "bj"
    assert r.top_share == pytest.approx(100 / 155)
    assert r.hhi == pytest.approx((100 / 155) ** 2 + (50 / 155) ** 2 + (5 / 155) ** 2)


def test_regions_without_orders_use_users() -> None:
    f = _frames()
    r = regions(from_frames({"users": f["users"]}), OCT)
    assert r.basis == "users"
    assert r.table["active_users"].isna().all() and r.table["gmv"].isna().all()
    assert r.top_region == "bj" and r.top_share == pytest.approx(0.4)  # bj 2, sh 2 (tie → name), unknown 1
    assert r.hhi == pytest.approx(0.16 + 0.16 + 0.04)


def test_empty_and_missing() -> None:
    with pytest.raises(NoData):
        regions(from_frames(_frames()), Period.parse("2020-01"))
    users = _frames()["users"].drop(columns="region")
    with pytest.raises(NoData, match="region"):
        regions(from_frames({"users": users}), OCT)


def _many_regions() -> dict[str, pd.DataFrame]:
    """bj and sh: 3 buyers both months; gz and sz: one buyer each (gz only in September); xa: a registered user
    and nothing else."""
    ids = [f"b{i}" for i in range(3)] + [f"s{i}" for i in range(3)] + ["g0", "z0", "x0"]
    region = ["bj"] * 3 + ["sh"] * 3 + ["gz", "sz", "xa"]
    users = pd.DataFrame({"user_id": ids, "signup_at": "2026-01-01", "region": region})
    rows = [(u, "2026-09-10", 10.0) for u in ids[:6] + ["g0"]]
    rows += [(u, "2026-10-10", 20.0) for u in ids[:3] + ["z0"]] + [(u, "2026-10-10", 15.0) for u in ids[3:6]]
    orders = pd.DataFrame({"order_id": [str(i) for i in range(len(rows))], "user_id": [r[0] for r in rows],
                           "ts": [r[1] for r in rows], "amount": [r[2] for r in rows]})
    return {"users": users, "orders": orders}


def test_small_regions_fold_into_other_and_growth_needs_a_base() -> None:
    r = regions(from_frames(_many_regions()), OCT, min_base=3)
    df = r.table.set_index("region")
    # xa has nothing in either month: left out; gz (September only) and sz (one buyer) fold into (other)
    assert list(df.index) == ["bj", "sh", "(other)"] and r.folded == 2
    assert df.loc["bj", "gmv_growth"] == pytest.approx(1.0)  # 30 → 60 on 3 buyers
    assert df.loc["sh", "gmv"] == 45.0 and df.loc["sh", "gmv_growth"] == pytest.approx(0.5)
    other = df.loc["(other)"]
    assert (other["gmv"], other["gmv_prev"], other["buyers"], other["buyers_prev"]) == (20.0, 10.0, 1, 1)
    assert other["gmv_growth"] is None and other["na"]["gmv_growth"] == "small_base"
    # concentration over every region before folding: bj 60, sh 45, sz 20 of 125
    assert r.regions == 3 and r.top_region == "bj" and r.hhi == pytest.approx((60 ** 2 + 45 ** 2 + 20 ** 2) / 125 ** 2)
    assert abs(float(r.table["share"].sum()) - 1.0) < 1e-12  # shares of the folded table still add to 100 %
    # without a minimum: no folding, every growth on a non-zero base (gz: -100 % on one buyer)
    plain = regions(from_frames(_many_regions()), OCT).table.set_index("region")
    assert list(plain.index) == ["bj", "sh", "sz", "gz"] and plain.loc["gz", "gmv_growth"] == pytest.approx(-1.0)
