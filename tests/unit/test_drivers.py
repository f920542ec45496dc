"""GMV driver tree: LMDI contributions add up exactly; zero fallback."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.drivers import DRIVERS, drivers, lmdi, log_mean
from opsnb.periods import Period
from tests.unit.goals_packs import pack_a, pack_partial


def test_drivers_exact_numbers():
    r = drivers(pack_a(), Period.parse("2026-10"))
    # September: 3 active, 2 payers, 2 orders, GMV 100 → factors 3, 2/3, 1, 50
    # October:   5 active, 2 payers, 3 orders, GMV 180 → factors 5, 2/5, 1.5, 60
    assert (r.gmv_base, r.gmv_current, r.base_period, r.method) == (100.0, 180.0, "2026-09", "lmdi")
    t = r.table.set_index("driver")
    assert list(t.index) == list(DRIVERS)
    assert t.loc["active_users", "base"] == 3.0 and t.loc["conversion", "current"] == pytest.approx(0.4)
    w = 80 / math.log(1.8)  # logarithmic mean of 180 and 100
    assert t.loc["active_users", "contribution"] == pytest.approx(w * math.log(5 / 3), rel=1e-12)
    assert t.loc["conversion", "contribution"] == pytest.approx(w * math.log(0.6), rel=1e-12)
    assert t.loc["orders_per_payer", "contribution"] == pytest.approx(w * math.log(1.5), rel=1e-12)
    assert t.loc["aov", "contribution"] == pytest.approx(24.814657, rel=1e-6)  # 80·ln1.2/ln1.8
    assert t["contribution"].sum() == pytest.approx(80.0, abs=1e-9)
    assert r.top == "active_users"  # +69.53 (conversion −69.53 is a tie in size; first wins)
    assert t.loc["aov", "change"] == pytest.approx(0.2)


def test_log_mean():
    assert log_mean(2.0, 2.0) == 2.0
    assert log_mean(math.e, 1.0) == pytest.approx(math.e - 1)


def test_zero_fallback_gives_whole_change_to_first_zero_driver():
    contrib, method = lmdi([3.0, 0.0, None, None], [5.0, 0.4, 1.5, 60.0])
    assert method == "zero_fallback" and contrib == [0.0, 180.0, 0.0, 0.0]
    contrib, method = lmdi([5.0, 0.4, 1.5, 60.0], [0.0, None, None, None])
    assert contrib == [-180.0, 0.0, 0.0, 0.0]
    assert lmdi([0.0, None, None, None], [0.0, None, None, None]) == ([0.0] * 4, "zero_fallback")


def test_no_events_is_no_data():
    with pytest.raises(NoData):
        drivers(pack_partial(), Period.parse("2026-10"))


pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(pos, min_size=4, max_size=4), st.lists(pos, min_size=4, max_size=4))
def test_contributions_sum_to_change(base, cur):
    contrib, method = lmdi(list(base), list(cur))
    v0, v1 = math.prod(base), math.prod(cur)
    assert method == "lmdi"
    assert sum(contrib) == pytest.approx(v1 - v0, rel=1e-9, abs=1e-9 * max(v0, v1))
