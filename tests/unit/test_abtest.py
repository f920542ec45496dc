"""A/B tests: the pooled two-proportion z-test and per-variant conversion (exact numbers)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportions_ztest

from opsnb.errors import NoData
from opsnb.metrics.abtest import ab_tests, two_proportion_ztest
from opsnb.pack import from_frames
from opsnb.periods import Period

OCT = Period.parse("2026-10")


@st.composite
def _counts(draw):
    n1 = draw(st.integers(1, 10**6))
    n2 = draw(st.integers(1, 10**6))
    x1 = draw(st.integers(0, n1))
    x2 = draw(st.integers(0, n2))
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        x1 = 1 if x1 == 0 else x1 - 1
    return x1, n1, x2, n2


@settings(max_examples=300, deadline=None)
@given(_counts())
def test_agrees_with_statsmodels(c):
    x1, n1, x2, n2 = c
    r = two_proportion_ztest(x1, n1, x2, n2, 0.05)
    z, p = proportions_ztest([x1, x2], [n1, n2])
    assert r.reason is None
    assert math.isclose(r.z, z, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(r.p_value, p, rel_tol=1e-9, abs_tol=1e-9)
    assert r.ci_low <= r.diff <= r.ci_high


def test_known_values():
    r = two_proportion_ztest(200, 1000, 150, 1000, 0.05)
    assert r.diff == pytest.approx(0.05, abs=1e-15)
    pooled = 350 / 2000
    assert r.z == pytest.approx(0.05 / math.sqrt(pooled * (1 - pooled) * 2 / 1000), rel=1e-12)
    half = 1.959963984540054 * math.sqrt(0.2 * 0.8 / 1000 + 0.15 * 0.85 / 1000)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.05 - half, 0.05 + half), rel=1e-12)
    assert r.significant is True and r.p_value == pytest.approx(math.erfc(r.z / math.sqrt(2)), rel=1e-12)
    assert round(r.z, 4) == 2.9424 and round(r.p_value, 5) == 0.00326


def test_undefined_cases_are_not_p_equal_one():
    for args, reason in (((0, 0, 3, 10), "no_traffic"), ((0, 10, 0, 10), "no_variation"),
                         ((10, 10, 5, 5), "no_variation")):
        r = two_proportion_ztest(*args)
        assert r.reason == reason and r.p_value is None and r.z is None and r.significant is None
    with pytest.raises(ValueError):
        two_proportion_ztest(5, 4, 1, 2)


def _pack():
    ex = pd.DataFrame({
        "experiment": ["btn"] * 9 + ["flat"] * 4,
        "variant": ["control"] * 4 + ["B"] * 4 + ["B", "control", "control", "t", "t"],
        "user_id": ["c1", "c2", "c3", "c4", "b1", "b2", "b3", "b4", "c1x", "f1", "f2", "f3", "f4"],
        "ts": ["2026-10-01"] * 8 + ["2026-10-05"] + ["2026-10-02"] * 4,
    })
    ex.loc[8, "user_id"] = "c1"  # c1 assigned again later to B: the first assignment (control) counts
    ex = ex.drop(index=8).reset_index(drop=True)
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "user_id": ["c1", "b1", "b2", "b3", "b4", "c2"],
        "ts": ["2026-10-02", "2026-10-03", "2026-10-30 23:00", "2026-10-31", "2026-09-30", "2026-10-05"],
        "amount": ["10"] * 6,
        "status": ["paid", "paid", "paid", "paid", "paid", "cancelled"],
    })
    return from_frames({"experiments": ex, "orders": orders})


def test_ab_tests_per_variant():
    r = ab_tests(_pack(), OCT, 0.05, window_days=30)
    btn = r[r["experiment"] == "btn"].set_index("variant")
    assert (btn.loc["control", "users"], btn.loc["control", "converters"], btn.loc["control", "reason"]) == (4, 1, "control")
    # b3's order is 30 days after assignment (outside), b4's is before it
    assert (btn.loc["B", "users"], btn.loc["B", "converters"], btn.loc["B", "conversion"]) == (4, 2, 0.5)
    z, p = proportions_ztest([2, 1], [4, 4])
    assert btn.loc["B", "diff"] == 0.25 and btn.loc["B", "z"] == pytest.approx(z, rel=1e-12)
    assert btn.loc["B", "p_value"] == pytest.approx(p, rel=1e-12) and not btn.loc["B", "significant"]
    flat = r[r["experiment"] == "flat"].set_index("variant")
    assert flat.loc["t", "reason"] == "no_variation" and pd.isna(flat.loc["t", "p_value"])


def test_ab_nodata():
    with pytest.raises(NoData):
        ab_tests(from_frames({}), OCT)
    with pytest.raises(NoData):
        ab_tests(_pack(), Period.parse("2026-12"))
