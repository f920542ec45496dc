"""The goals engine: built-in KPI definitions, targets, attainment, MoM/YoY, partial periods."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from opsnb.metrics import kpi_targets as kt
from opsnb.metrics import kpis as K
from opsnb.params import Settings, StatusBands
from opsnb.periods import Period
from tests.unit.goals_packs import pack_a, pack_partial

OCT = Period.parse("2026-10")


@pytest.fixture(scope="module")
def pa():
    return pack_a()


@pytest.fixture(scope="module")
def settings():
    return Settings()


@pytest.fixture(scope="module")
def att(pa, settings):
    return K.attainment(pa, OCT, settings).set_index("key")


# ---------------------------------------------------------------- definitions

@pytest.mark.parametrize(("key", "expected"), [
    ("gmv", 180.0), ("orders", 3.0), ("aov", 60.0), ("new_users", 2.0), ("active_users", 6 / 31), ("mau", 5.0),
    ("paying_users", 2.0), ("conversion_rate", 0.4), ("repurchase_rate", 0.5), ("retention_d30", 0.5),
    ("churn_rate", 1 / 3), ("cac", 40.0), ("roi", 130 / 80), ("resolution_rate", 1 / 3),
    ("resolution_hours", 6.0), ("satisfaction", 4.5), ("nps", 42.0),
])
def test_builtin_values_october(pa, settings, key, expected):
    v = K.kpi_value(pa, settings.kpi(key), OCT)
    assert v.reason is None
    assert v.value == pytest.approx(expected, rel=1e-12)


def test_values_for_quarter_year_and_to_date(pa):
    s = K.kpi_series(pa, "gmv", [Period.parse("2026-Q3"), Period.parse("2026-Q4"), Period.parse("2026"),
                                 Period.parse("2026").clip(Period.parse("2026-09").last_day), Period.parse("2025")])
    assert list(s["value"]) == [100.0, 180.0, 280.0, 100.0, 120.0]
    mau = K.kpi_series(pa, "mau", [Period.parse("2026-Q3"), Period.parse("2026-Q4"), Period.parse("2026")])
    assert list(mau["value"]) == [3.0, 5.0, 6.0]  # distinct users, not a sum of months


def test_series_matches_single_values(pa, settings):
    months = [Period.parse(f"2026-{m:02d}") for m in range(8, 11)]
    for key in ("conversion_rate", "churn_rate", "retention_d30"):
        s = K.kpi_series(pa, settings.kpi(key), months)
        single = [K.kpi_value(pa, settings.kpi(key), m) for m in months]
        assert [v.value for v in single] == list(s["value"])


def test_undefined_values_have_reasons(pa, settings):
    aug = Period.parse("2026-08")
    assert K.kpi_value(pa, settings.kpi("aov"), aug) == K.KPIValue(None, "no_orders")
    assert K.kpi_value(pa, settings.kpi("conversion_rate"), aug) == K.KPIValue(None, "no_active_users")
    assert K.kpi_value(pa, settings.kpi("cac"), Period.parse("2026-07")) == K.KPIValue(None, "no_new_users")
    assert K.kpi_value(pa, settings.kpi("gmv"), Period.parse("2024-12")) == K.KPIValue(None, "not_covered")
    assert K.kpi_value(pa, settings.kpi("nps"), aug) == K.KPIValue(None, "no_table_value")
    assert K.kpi_value(pack_partial(), settings.kpi("mau"), OCT) == K.KPIValue(None, "missing_table:events")


# ---------------------------------------------------------------- attainment

def test_attainment_higher_is_better(att):
    r = att.loc["gmv"]
    assert (r["actual"], r["target"], r["target_source"]) == (180.0, 150.0, "kpis table")
    assert r["attainment"] == pytest.approx(1.2)
    assert r["status"] == "exceeded"
    assert r["mom"] == pytest.approx(0.8) and r["mom_kind"] == "relative"
    assert r["yoy"] == pytest.approx(1.0) and r["yoy_kind"] == "relative"
    assert not r["partial"] and r["covered_days"] == 31


def test_attainment_lower_is_better(att):
    cac = att.loc["cac"]  # target 50 ÷ actual 40
    assert cac["attainment"] == pytest.approx(1.25) and cac["status"] == "exceeded"
    churn = att.loc["churn_rate"]  # target 0.25 ÷ actual 1/3
    assert churn["attainment"] == pytest.approx(0.75) and churn["status"] == "missed"


def test_ratio_changes_are_points_and_nearly_band(att):
    r = att.loc["conversion_rate"]
    assert r["attainment"] == pytest.approx(0.4 / 0.42) and r["status"] == "nearly"
    assert r["mom_kind"] == "pp" and r["mom"] == pytest.approx(0.4 - 2 / 3)
    assert r["yoy"] == pytest.approx(0.4 - 1 / 2)  # 2025-10: 1 payer of 2 active users


def test_zero_and_missing_targets_are_na_with_reason(att):
    o = att.loc["orders"]
    assert o["attainment"] is None and o["status"] == "n/a" and o["reason"] == "zero_target"
    m = att.loc["mau"]
    assert m["target"] is None and m["status"] == "n/a" and m["reason"] == "no_target"
    assert not any(isinstance(x, float) and (math.isnan(x) or math.isinf(x))
                   for x in att[["actual", "target", "attainment", "mom", "yoy"]].to_numpy().ravel())


def test_table_sourced_kpi(att):
    r = att.loc["nps"]
    assert (r["actual"], r["target"]) == (42.0, 40.0)
    assert r["attainment"] == pytest.approx(1.05) and r["status"] == "exceeded"
    assert r["mom"] is None and r["mom_reason"] == "no_base"


def test_no_previous_year(pa, settings):
    df = K.attainment(pa, Period.parse("2025-10"), settings, kpis=[settings.kpi("gmv")]).set_index("key")
    assert df.loc["gmv", "actual"] == 90.0
    assert df.loc["gmv", "yoy"] is None and df.loc["gmv", "yoy_reason"] == "no_previous_year"
    assert df.loc["gmv", "attainment"] == pytest.approx(0.9) and df.loc["gmv", "status"] == "missed"


def test_zero_base_mom(pa, settings):
    df = K.attainment(pa, Period.parse("2026-09"), settings, kpis=[settings.kpi("gmv")]).set_index("key")
    assert df.loc["gmv", "previous"] == 0.0
    assert df.loc["gmv", "mom"] is None and df.loc["gmv", "mom_reason"] == "zero_base"


def test_status_bands_from_settings(pa):
    s = Settings()
    s.goals.bands = StatusBands(exceeded=1.3, nearly=0.9)
    df = K.attainment(pa, OCT, s).set_index("key")
    assert df.loc["gmv", "status"] == "nearly"  # 1.2 < 1.3
    assert df.loc["conversion_rate", "status"] == "nearly"


def test_extra_targets_fill_gaps_only(pa, settings):
    extra = pd.DataFrame({"metric": ["new_users", "gmv"], "period": ["2026-10", "2026-10"],
                          "target": [4.0, 999.0], "source": ["plan 2026-09", "plan 2026-09"]})
    df = K.attainment(pa, OCT, settings, extra_targets=extra).set_index("key")
    assert df.loc["new_users", "target"] == 4.0 and df.loc["new_users", "target_source"] == "plan 2026-09"
    assert df.loc["new_users", "attainment"] == pytest.approx(0.5)
    assert df.loc["gmv", "target"] == 150.0 and df.loc["gmv", "target_source"] == "kpis table"


def test_quarter_target_sums_months_for_volumes_never_ratios(pa, settings):
    t = K.target_table(pa)
    q4 = Period.parse("2026-Q4")
    assert K.resolve_target(t, settings.kpi("gmv"), q4) == K.Target(450.0, "sum of months")
    assert K.resolve_target(t, settings.kpi("conversion_rate"), q4) == K.Target(None, None, "no_target")
    assert K.resolve_target(t, settings.kpi("gmv"), Period.parse("2026")) == K.Target(1000.0, "kpis table")


def test_partial_quarter_of_whole_months_takes_their_targets(pa, settings):
    """Q4 to 31 October covers exactly October: its target is October's, so it attains what October does."""
    df = K.attainment(pa, Period.parse("2026-Q4"), settings, kpis=[settings.kpi("gmv")]).set_index("key")
    r = df.loc["gmv"]
    assert r["partial"] and r["covered_days"] == 31 and r["period_days"] == 92
    assert r["prorate"] == "months" and r["prorate_share"] == pytest.approx(150 / 450)
    assert r["rule"].months == ("2026-10",) and r["rule"].part is None and r["target_source"] == "kpis table"
    assert r["target_full"] == 450.0 and r["target"] == pytest.approx(150.0)
    assert r["attainment"] == pytest.approx(180 / 150)
    october = K.attainment(pa, Period.parse("2026-10"), settings, kpis=[settings.kpi("gmv")]).set_index("key")
    assert october.loc["gmv", "attainment"] == pytest.approx(r["attainment"])
    assert df.attrs["partial"]["partial"] is True


def test_year_period(pa, settings):
    r = K.attainment(pa, Period.parse("2026"), settings, kpis=[settings.kpi("gmv")]).set_index("key").loc["gmv"]
    # 2025 to day 304: 90 of 120 → target 1000 × 0.75; actual 280 to date
    assert r["covered_days"] == 304 and r["target"] == pytest.approx(750.0)
    assert r["actual"] == 280.0 and r["attainment"] == pytest.approx(280 / 750)
    assert r["yoy"] == pytest.approx(280 / 90 - 1)


def test_partial_month():
    p = pack_partial()
    s = Settings()
    df = K.attainment(p, OCT, s, kpis=[s.kpi("gmv"), s.kpi("new_users"), s.kpi("aov")]).set_index("key")
    g = df.loc["gmv"]
    assert g["partial"] and g["covered_days"] == 10
    assert g["actual"] == 80.0 and g["target"] == pytest.approx(120.0)  # 300 × 40/100
    assert g["attainment"] == pytest.approx(80 / 120)
    assert g["previous"] == 40.0 and g["mom"] == pytest.approx(1.0)  # Sep 1–10 only
    assert g["last_year"] == 40.0 and g["yoy"] == pytest.approx(1.0)
    n = df.loc["new_users"]  # no signups last year → even split 10/31
    assert (n["prorate"], n["prorate_basis"]) == ("period", "days")
    assert n["target"] == pytest.approx(10.0) and n["attainment"] == pytest.approx(0.5)
    assert (g["prorate"], g["prorate_basis"], g["prorate_share"]) == ("period", "last_year_shape", pytest.approx(0.4))
    a = df.loc["aov"]  # an average is compared with its full target
    assert a["prorate"] == "not_prorated" and a["target"] == 50.0 and a["actual"] == 40.0


def test_attainment_ratio_rules():
    assert K.attainment_ratio(0.0, 10.0, "higher") == (0.0, None)
    assert K.attainment_ratio(0.0, 10.0, "lower") == (None, "zero_actual")
    assert K.attainment_ratio(5.0, 0.0, "higher") == (None, "zero_target")
    assert K.attainment_ratio(None, 1.0, "higher") == (None, "no_actual")
    assert K.status_of(0.95, StatusBands()) == "nearly"
    assert K.status_of(0.9499, StatusBands()) == "missed"
    assert K.change(0.2, 0.15, "ratio") == (pytest.approx(0.05), "pp", None)
    assert K.change(5.0, 0.0, "count") == (None, "relative", "zero_base")


def test_trend_ytd_by_quarter(pa, settings):
    tr = K.trend(pa, settings.kpi("gmv"), OCT, months=14)
    assert len(tr) == 14 and tr["month"].iloc[0] == "2025-09"
    assert tr.set_index("month").loc["2026-10", "target"] == 150.0
    assert tr.set_index("month").loc["2025-12", "actual"] == 30.0
    assert tr["actual"].iloc[0] == 0.0  # covered (data from 2025-01-01), no orders
    y = K.ytd(pa, OCT, settings, kpis=[settings.kpi("gmv")]).set_index("key").loc["gmv"]
    assert y["actual"] == 280.0 and y["annual_target"] == 1000.0 and y["progress"] == pytest.approx(0.28)
    # no monthly target for January–September: the annual target to date follows the one rule, last
    # year's shape (2025: 90 of 120 by 31 October → 750), as the attainment of the year does
    assert y["target_to_date"] == pytest.approx(750.0) and y["projection_method"] == "period/last_year_shape"
    assert y["projection"] == pytest.approx(280 / 750 * 1000)
    assert y["projected_attainment"] == pytest.approx(280 / 750) and y["status"] == "missed"
    year = K.attainment(pa, Period.parse("2026"), settings, kpis=[settings.kpi("gmv")]).set_index("key").loc["gmv"]
    assert year["target"] == pytest.approx(y["target_to_date"])  # one rule, one figure
    q = K.by_quarter(pa, OCT, settings, kpis=[settings.kpi("gmv")])
    g = q[q["key"] == "gmv"].set_index("period")
    assert list(g.index) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert g.loc["2026-Q3", "attainment"] == pytest.approx(1.25)
    assert g.loc["2026-Q4", "target_full"] == 450.0 and bool(g.loc["2026-Q4", "partial"])


def test_ytd_seasonal_pace_from_monthly_targets(pa, settings):
    extra = pd.DataFrame({"metric": "gmv", "period": [f"2026-{m:02d}" for m in range(1, 10)], "target": 10.0,
                          "source": "plan"})
    y = K.ytd(pa, OCT, settings, extra_targets=extra, kpis=[settings.kpi("gmv"), settings.kpi("mau")]).set_index("key")
    g = y.loc["gmv"]
    assert g["target_to_date"] == pytest.approx(240.0)  # 9 × 10 + October's 150 from the kpis table
    assert g["expected_share"] == pytest.approx(0.24) and g["pace"] == pytest.approx(280 / 240)
    assert g["projection"] == pytest.approx(1000 * 280 / 240) and g["projection_method"] == "months"
    assert y.loc["mau", "projection"] is None and y.loc["mau", "reason"] == "no_target"


def test_average_dau_divides_by_the_units_open_days(pa):
    """6 user-days in October 2026: over 31 calendar days, or over 26 when the unit closes on Saturdays."""
    import dataclasses

    from opsnb.metrics.calendar import BusinessCalendar

    oct_ = Period.parse("2026-10")
    assert K.kpi_value(pa, "active_users", oct_).value == pytest.approx(6 / 31)
    shut = dataclasses.replace(pa, business=BusinessCalendar(closed_weekdays=frozenset({5})))
    assert shut.days_open(oct_.start, oct_.end) == 26  # 3, 10, 17, 24, 31 October are Saturdays
    assert K.kpi_value(shut, "active_users", oct_).value == pytest.approx(6 / 26)


def _q4_pack(last_day: str = "2026-12-09"):
    """Orders: October 90, November 110, 1–9 December 500 (the data run past a November review).
    Monthly targets 100, 100, 100; last November 10 on the 1st (the data start) and 30 on the 25th (shape by day 15: 0.25)."""
    from opsnb.pack import from_frames

    orders = pd.DataFrame({"order_id": ["a", "b", "c", "d", "e"], "user_id": ["u"] * 5,
                           "ts": ["2026-10-10", "2026-11-10", last_day, "2025-11-01", "2025-11-25"],
                           "amount": [90.0, 110.0, 500.0, 10.0, 30.0]})
    kpis = pd.DataFrame({"metric": "gmv", "period": ["2026-10", "2026-11", "2026-12"], "target": 100.0})
    return from_frames({"orders": orders, "kpis": kpis})


def test_a_quarter_never_reads_past_the_review_period(settings):
    """A November review: Q4 runs 1 October – 30 November whatever later days the pack holds, its target
    is October's + November's, and its attainment lies between theirs (the sum of both over the sum)."""
    p = _q4_pack()
    nov = Period.parse("2026-11")
    assert K.as_of_day(p, nov) == date(2026, 11, 30)
    q = K.by_quarter(p, nov, settings, kpis=[settings.kpi("gmv")]).set_index("period").loc["2026-Q4"]
    assert q["actual"] == 200.0 and q["target"] == 200.0 and q["covered_days"] == 61
    assert q["as_of"] == date(2026, 11, 30) and q["rule"].months == ("2026-10", "2026-11")
    months = [K.attainment(p, Period.parse(m), settings, kpis=[settings.kpi("gmv")])["attainment"].iloc[0]
              for m in ("2026-10", "2026-11")]
    assert min(months) <= q["attainment"] <= max(months) and q["attainment"] == pytest.approx(1.0)
    y = K.ytd(p, nov, settings, kpis=[settings.kpi("gmv")]).iloc[0]
    assert y["actual"] == 200.0 and y["as_of"] == date(2026, 11, 30)  # December's 500 is not read
    tr = K.trend(p, settings.kpi("gmv"), nov, months=3)
    assert list(tr["month"]) == ["2026-09", "2026-10", "2026-11"]


def test_a_month_covered_in_part_is_prorated_by_one_rule(settings):
    """Data end on 15 November: Q4 to date = October's target + November's × last year's shape (0.25)."""
    p = _q4_pack(last_day="2026-11-15")
    got, rule = kt.to_date_target(K.target_table(p), settings.kpi("gmv"), Period.parse("2026-Q4"),
                                  Period.parse("2026-Q4").clip(date(2026, 11, 15)), K._shape(p, settings.kpi("gmv")))
    assert got.value == pytest.approx(125.0) and got.source == "sum of months"
    assert (rule.method, rule.months, rule.part, rule.part_days, rule.basis) == (
        "months", ("2026-10",), "2026-11", 15, "last_year_shape")
    assert rule.part_share == pytest.approx(0.25) and rule.share == pytest.approx(125 / 300)
    _, by_days = kt.to_date_target(K.target_table(p), settings.kpi("gmv"), Period.parse("2026-Q4"),
                                   Period.parse("2026-Q4").clip(date(2026, 11, 15)))
    assert by_days.basis == "days" and by_days.part_share == pytest.approx(15 / 30)
