"""Target split: exact integer arithmetic, seasonality, annual plan."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsnb.errors import NoData
from opsnb.metrics.targets import (
    annual_plan,
    month_shares,
    monthly_actuals,
    plan_year,
    seasonal_indices,
    seasonal_shares,
    split_integer,
    split_target,
    split_year,
)
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period


def test_split_target_largest_remainder():
    assert split_target(100, [1, 1, 1], "currency") == [33.34, 33.33, 33.33]
    assert split_integer(10, [0.5, 0.25, 0.25]) == [5, 3, 2]
    assert split_integer(-7, [1, 1]) == [-4, -3]
    assert split_integer(5, [0, 0]) == [3, 2]
    assert split_target(7, [1, 1], "count") == [4.0, 3.0]


def test_split_target_rejects_ratios_and_bad_shares():
    with pytest.raises(ValueError, match="not split"):
        split_target(0.15, [1, 1], "ratio")
    with pytest.raises(ValueError, match=">= 0"):
        split_integer(10, [1, -1])
    with pytest.raises(ValueError, match="empty"):
        split_integer(10, [])


def test_split_year_two_levels():
    q, m = split_year(1000, [2] + [1] * 11, "count")
    assert q == [307, 231, 231, 231]
    assert m[:3] == [153, 77, 77]
    assert sum(m) == 1000
    for i in range(4):
        assert sum(m[3 * i:3 * i + 3]) == q[i]


cents = st.integers(min_value=-10**13, max_value=10**13)
share_lists = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
                       min_size=1, max_size=24)


@settings(max_examples=300, deadline=None)
@given(total=cents, shares=share_lists, unit=st.sampled_from(["currency", "count"]))
def test_split_always_sums_exactly(total, shares, unit):
    scale = 100 if unit == "currency" else 1
    value = total / 100 if unit == "currency" else total
    parts = split_target(value, shares, unit)
    assert len(parts) == len(shares)
    assert sum(round(p * scale) for p in parts) == round(value * scale)
    assert all(p == round(p * scale) / scale for p in parts)  # each part is a whole number of cents/units


@settings(max_examples=200, deadline=None)
@given(total=cents, shares=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=12, max_size=12))
def test_split_year_sums_at_every_level(total, shares):
    q, m = split_year(total / 100, shares, "currency")
    qu, mu = [round(x * 100) for x in q], [round(x * 100) for x in m]
    assert sum(qu) == total
    for i in range(4):
        assert sum(mu[3 * i:3 * i + 3]) == qu[i]


def _series(start: str, values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"), dtype="float64")


def test_seasonal_shares_average_complete_years():
    s = _series("2024-01-01", [200] + [100] * 11 + [100] * 12 + [50, 50])  # 2026 partial: ignored
    shares, method, notes = seasonal_shares(s)
    assert method == "shares" and notes == []
    assert shares[0] == pytest.approx((200 / 1300 + 1 / 12) / 2, abs=1e-15)
    assert shares[1] == pytest.approx((100 / 1300 + 1 / 12) / 2, abs=1e-15)
    assert sum(shares) == pytest.approx(1.0, abs=1e-12)


def test_seasonal_shares_trailing_and_even_fallbacks():
    s = _series("2025-03-01", [100] * 10 + [300, 100])  # Mar 2025 .. Feb 2026; Jan 2026 = 300
    shares, method, _ = seasonal_shares(s)
    assert method == "trailing12"
    assert shares[0] == pytest.approx(300 / 1400) and shares[2] == pytest.approx(100 / 1400)
    shares, method, notes = seasonal_shares(_series("2026-01-01", [10] * 6))
    assert method == "even" and shares == [1 / 12] * 12
    assert notes[0].key == "plan.note.even_split" and notes[0].kwargs == {"months": 6}


def test_seasonal_indices_multiplicative():
    f = [1.2, 0.8, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 0.5]
    idx, _ = seasonal_indices(_series("2023-01-01", [100 * x for x in f] * 3))
    assert sum(idx) == pytest.approx(12)
    assert idx == pytest.approx(f, abs=1e-9)
    assert seasonal_indices(_series("2025-01-01", [100] * 20)) is None  # < 24 months
    shares, method, notes = month_shares(_series("2025-01-01", [100] * 20), "seasonal_indices")
    assert method == "shares" and notes[0].key == "plan.note.indices_fallback"  # 2025 is complete


def _orders(months: list[str], amounts: list[float]) -> pd.DataFrame:
    rows = [dict(order_id=f"o{i}", user_id="u1", ts=f"{m}-15 10:00", amount=a, status="paid")
            for i, (m, a) in enumerate(zip(months, amounts, strict=True))]
    rows += [dict(order_id="r1", user_id="u1", ts=f"{months[0]}-16", amount=-50.0, status="refunded"),
             dict(order_id="c1", user_id="u1", ts=f"{months[0]}-16", amount=999.0, status="cancelled")]
    return pd.DataFrame(rows)


def _months(first: str, n: int) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(first, periods=n, freq="M")]


def test_monthly_actuals_counts_paid_orders_only():
    pack = from_frames({"orders": _orders(["2025-01", "2025-01", "2025-02"], [100, 20, 30])})
    g = monthly_actuals(pack, "gmv", Period.parse("2025").start, Period.parse("2025").end)
    assert list(g) == [120.0, 30.0]
    assert list(monthly_actuals(pack, "orders", Period.parse("2025").start, Period.parse("2025").end)) == [2.0, 1.0]
    with pytest.raises(NoData):
        monthly_actuals(pack, "new_users", Period.parse("2025").start, Period.parse("2025").end)


def test_annual_plan_next_year_by_last_years_shares():
    pack = from_frames({
        "orders": _orders(_months("2025-01", 12), [100] * 11 + [300]),
        "kpis": pd.DataFrame(dict(metric=["conversion_rate", "aov"], period=["2026", "2025-12"], target=[0.05, 120])),
    })
    plan = annual_plan(pack, Period.parse("2025-12"), Settings())
    assert (plan.year, plan.mode) == (2026, "next_year")
    gmv = plan.targets[plan.targets.metric == "gmv"].set_index("period")["target"]
    assert gmv["2026"] == 1540.0  # 1400 × 1.1
    assert [gmv[f"2026-Q{q}"] for q in range(1, 5)] == [330.0, 330.0, 330.0, 550.0]
    assert [gmv[f"2026-{m:02d}"] for m in (1, 10, 11, 12)] == [110.0, 110.0, 110.0, 330.0]
    orders = plan.targets[plan.targets.metric == "orders"].set_index("period")["target"]
    assert orders["2026"] == 13 and orders["2026-Q1"] == 4 and orders["2026-01"] == 2 and orders["2026-02"] == 1
    assert plan.notes["new_users"][0].key == "plan.note.no_history"
    conv = plan.targets[plan.targets.metric == "conversion_rate"]
    # a ratio's year row is its own annual target (0.05 for 2026); it has no quarter target, so no quarter rows
    assert len(conv) == 1 + 12 and set(conv["target"]) == {0.05} and set(conv["method"]) == {"copied"}
    aov = plan.targets[plan.targets.metric == "aov"]
    assert set(aov["level"]) == {"month"} and set(aov["source"]) == {"plan"}  # December's 120, never a "year" row
    assert set(plan.for_period("2026-01")["metric"]) == {"aov", "conversion_rate", "gmv", "orders"}


def test_annual_plan_rest_of_year():
    months = _months("2025-01", 22)  # 2025-01 .. 2026-10
    pack = from_frames({"orders": _orders(months, [100] * 22)})
    s = Settings()
    plan = annual_plan(pack, Period.parse("2026-10"), s)
    assert (plan.year, plan.mode) == (2026, "rest_of_year")
    gmv = plan.targets[plan.targets.metric == "gmv"].set_index("period")
    assert gmv.loc["2026", "target"] == 1320.0 and gmv.loc["2026", "actual"] == 1000.0
    assert gmv.loc["2026-11", "target"] == 160.0 and gmv.loc["2026-12", "target"] == 160.0
    rest = plan.rest_of("2026-Q4").set_index("metric")
    assert rest.loc["gmv", "target"] == 320.0 and rest.loc["gmv", "source"] == "plan"  # Nov + Dec, labelled as the rest
    assert pd.isna(plan.for_period("2026-Q4").set_index("metric").loc["gmv", "target"])  # October has no target
    assert "2026-10" not in gmv.index
    pack2 = from_frames({"orders": _orders(months, [100] * 22),
                         "kpis": pd.DataFrame(dict(metric=["gmv"], period=["2026"], target=[1500.0]))})
    g2 = annual_plan(pack2, Period.parse("2026-10"), s).targets.query("metric == 'gmv' and level != 'quarter_rest'")
    g2 = g2.set_index("period")
    assert g2.loc["2026-11", "target"] == 250.0 and g2.loc["2026", "basis"] == "kpis"


def test_one_plan_targets_are_the_ones_the_reviews_judge_by():
    """The kpis table has November and December targets (and monthly ratio targets): the plan's target
    for each coming month is the table's, its own split stands beside it as the proposal; the
    quarter's target is the quarter's (October + November + December), its rest is labelled; a
    ratio gets no year row from a month's target; the published targets are what November's review
    resolves."""
    from opsnb.metrics.kpi_targets import resolve_target, target_table
    from opsnb.metrics.plan import plan_targets

    months = _months("2025-01", 22)
    kpis = pd.DataFrame(dict(metric=["gmv"] * 4 + ["aov"] * 2,
                             period=["2026", "2026-10", "2026-11", "2026-12", "2026-11", "2026-12"],
                             target=[1500.0, 200.0, 210.0, 150.0, 55.0, 60.0]))
    pack = from_frames({"orders": _orders(months, [100] * 22), "kpis": kpis})
    s = Settings()
    plan = annual_plan(pack, Period.parse("2026-10"), s)
    gmv = plan.targets.query("metric == 'gmv'")
    by = {(r.level, r.period): r for r in gmv.itertuples()}
    assert by[("month", "2026-11")].target == 210.0 and by[("month", "2026-11")].source == "kpis table"
    assert by[("month", "2026-11")].proposed == 250.0  # (1500 − 1000) split evenly over 2 months
    assert by[("quarter", "2026-Q4")].target == 560.0 and by[("quarter", "2026-Q4")].source == "sum of months"
    assert by[("quarter_rest", "2026-Q4")].target == 360.0 and by[("quarter_rest", "2026-Q4")].proposed == 500.0
    aov = plan.targets.query("metric == 'aov'")
    assert set(aov["level"]) == {"month"} and list(aov["target"]) == [55.0, 60.0]
    published = plan_targets(pack, Period.parse("2026-10"), s, plan=plan).set_index("metric")
    table = target_table(pack, published.reset_index())
    for key in ("gmv", "aov"):  # what November's review resolves, with this plan published
        assert published.loc[key, "target"] == resolve_target(table, s.kpi(key), Period.parse("2026-11")).value


def test_plan_year():
    assert plan_year(Period.parse("2026-12")) == (2027, "next_year")
    assert plan_year(Period.parse("2026-Q4")) == (2027, "next_year")
    assert plan_year(Period.parse("2026")) == (2027, "next_year")
    assert plan_year(Period.parse("2026-10")) == (2026, "rest_of_year")


def test_annual_plan_without_any_data_is_nodata():
    with pytest.raises(NoData):
        annual_plan(from_frames({}), Period.parse("2026-10"), Settings())
