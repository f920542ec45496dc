"""Semantic invariants: each rule finds its planted violation and passes the same facts made right."""

from __future__ import annotations

from datetime import date

import pytest

from opsnb import invariants as inv
from opsnb.facts import make
from opsnb.periods import Period

OCT = Period.parse("2026-10")
SCOPE = inv.Scope(OCT, date(2026, 10, 31), min_base=30)


def _f(key: str, value, text: str = "", source: str = "test.sub", unit: str = "ratio", **meta):
    return make(key, value, unit, text or str(value), period="2026-10", source=source, **meta)


def _rules(facts, scope=SCOPE) -> list[str]:
    return [v.rule for v in inv.check(facts, scope)]


def test_every_rule_is_registered_once():
    assert set(inv.RULES) == {"curve_on_fixed_base", "nothing_after_as_of", "shares_make_a_whole",
                              "quarter_between_months", "change_is_the_difference", "days_counted_to_as_of",
                              "parts_add_to_total", "plan_is_the_next_reviews_target", "no_verdict_on_a_small_base",
                              "no_finding_on_an_incident_day"}
    with pytest.raises(ValueError, match="registered already"):
        inv.register("shares_make_a_whole")(lambda facts, scope: [])


def test_a_retention_curve_that_rises_with_n():
    ok = [_f(f"retention.d{n}@cohort:2026-09", v, curve="new:2026-09", x=n, base=83)
          for n, v in ((1, 0.30), (7, 0.20), (30, 0.10))]
    assert _rules(ok) == []
    rising = [_f(f"retention.d{n}@cohort:2026-09", v, curve="new:2026-09", x=n, base=83)
              for n, v in ((1, 0.091), (7, 0.095), (30, 0.096))]
    found = inv.check(rising, SCOPE)
    assert [v.rule for v in found] == ["curve_on_fixed_base"] * 2
    assert "rises from" in found[0].message
    mixed = [_f("r.d1", 0.3, curve="c", x=1, base=83), _f("r.d7", 0.2, curve="c", x=7, base=2939)]
    assert _rules(mixed) == ["curve_on_fixed_base"]  # a curve on two bases


def test_a_figure_that_reads_after_the_as_of_day():
    q4 = inv.Scope(Period.parse("2011-11"), date(2011, 11, 30))
    ok = [_f("kpi.gmv.attainment@2011-10-01..2011-11-30", 1.0),
          _f("kpi.gmv.target@2011-12-01..2011-12-31", 1.0)]  # a target looks ahead: not a reading
    assert _rules(ok, q4) == []
    late = [_f("kpi.gmv.attainment@2011-10-01..2011-12-09", 1.264)]
    assert _rules(late, q4) == ["nothing_after_as_of"]
    declared = [_f("content.views", 5.0, last_day="2011-12-09")]
    assert _rules(declared, q4) == ["nothing_after_as_of"]
    # read past the as-of day and said so on the page (lifetime counters as exported): not a violation
    disclosed = [_f("content.views", 5.0, last_day="2011-12-09", disclosed="as_exported")]
    assert _rules(disclosed, q4) == []
    ahead = [_f("kpi.gmv.remaining@2011-12-01..2011-12-31", 5.0, ahead=True)]  # what the rest of the year needs
    assert _rules(ahead, q4) == []


def test_shares_that_do_not_make_a_whole():
    ok = [_f(f"share.{c}", v, whole="traffic") for c, v in (("a", 0.5), ("b", 0.3), ("other", 0.2))]
    assert _rules(ok) == []
    assert _rules(ok[:2]) == ["shares_make_a_whole"]  # "other" left out
    # one share shown on a second page (with or without the whole named) is still one share
    again = [_f("share.a", 0.5, source="other.page", whole="traffic"), _f("share.a", 0.5, source="third.page")]
    assert _rules(ok + again) == []


def test_a_quarter_outside_its_months():
    def q(att_q: float, t_q: float = 300.0):
        return [_f("kpi.gmv.attainment@2011-10-01..2011-10-31", 0.971), _f("kpi.gmv.target@2011-10-01..2011-10-31", 100.0),
                _f("kpi.gmv.attainment@2011-11-01..2011-11-30", 1.031), _f("kpi.gmv.target@2011-11-01..2011-11-30", 200.0),
                _f("kpi.gmv.attainment@2011-10-01..2011-11-30", att_q), _f("kpi.gmv.target@2011-10-01..2011-11-30", t_q)]
    nov = inv.Scope(Period.parse("2011-11"), date(2011, 11, 30))
    assert _rules(q(1.011), nov) == []
    assert _rules(q(1.264), nov) == ["quarter_between_months"]
    assert _rules(q(1.264, t_q=220.0), nov) == []  # a quarter target not the sum of the months': no rule


def test_a_change_that_is_not_the_difference():
    ok = [_f("kpi.gmv.change@2026-10-01..2026-10-31", 0.284, now=128.4, before=100.0, change="relative"),
          _f("kpi.cvr.change@2026-10-01..2026-10-31", 0.038, now=0.254, before=0.216, change="pp"),
          _f("kpi.roi.change@2026-10-01..2026-10-31", 0.6, unit="roi", now=4.5, before=3.9, change="diff"),
          _f("plan.budget.x.change@2026-10-01..2026-10-31", 3207.23, unit="currency", now=8689.0, before=5481.77,
             change="diff")]
    assert _rules(ok) == []
    wrong = [_f("kpi.roi.change@2026-10-01..2026-10-31", 0.2, unit="roi", now=4.5, before=3.9, change="diff")]
    assert _rules(wrong) == ["change_is_the_difference"]
    zero = [_f("kpi.x.change@2026-10-01..2026-10-31", None, now=5.0, before=0.0, change="relative")]
    assert _rules(zero) == []  # undefined on a zero base: shown as n/a, no rule broken


def test_a_change_reads_as_the_difference_of_the_values_as_shown():
    """Points between two ratios are checked as the reader computes them, from the ratios as shown."""
    # A/B: 21.0 % → 29.3 %, the raw difference 0.08324 shows +8.3 points: what the reader computes
    ab = [_f("ab.b.diff@2026-10-01..2026-10-31", 0.08324, now=0.29346, before=0.21022, change="pp")]
    assert _rules(ab) == []
    # after-effect: 16.5 % beside 4.6 % with +12.0 points (the raw 0.11957): the reader computes 11.9
    after = [_f("campaign.x.after.diff@2026-10-26..2026-10-31", 0.11957, now=0.16510, before=0.04553, change="pp")]
    assert _rules(after) == ["change_is_the_difference"]
    # the problems page's budget gap: 36.2 % and 6.4 % "29.9 points apart" (raw 0.29883)
    gap = [_f("channel.kol.budget_gap@2026-10-01..2026-10-31", 0.29883, now=0.36243, before=0.06360, change="pp")]
    assert _rules(gap) == ["change_is_the_difference"]


def test_a_day_count_not_to_the_as_of_day():
    assert _rules([_f("action.a1.days_overdue@2026-10-31", 16, **{"from": "2026-10-15"})]) == []
    today = [_f("action.a1.days_overdue@2026-10-31", 53, **{"from": "2026-10-15"})]  # counted to 2026-12-07
    assert _rules(today) == ["days_counted_to_as_of"]
    assert _rules([_f("kpi.x.days_left@2026-11-01..2026-12-31", 61, to="2026-12-31", ahead=True)]) == []
    assert _rules([_f("kpi.x.days_left@2026-11-01..2026-12-31", 62, to="2026-12-31", ahead=True)]) == ["days_counted_to_as_of"]


def test_parts_that_do_not_add_to_their_total():
    total = _f("spend.marketing_total@2026-10-01..2026-10-31", 492_300.83, unit="currency")
    parts = [_f("spend.channel_spend@2026-10-01..2026-10-31", 232_200.83, unit="currency",
                part_of="spend.marketing_total@2026-10-01..2026-10-31"),
             _f("spend.campaign_costs@2026-10-01..2026-10-31", 260_100.00, unit="currency",
                part_of="spend.marketing_total@2026-10-01..2026-10-31")]
    assert _rules([total, *parts]) == []
    short = [total, parts[0], _f("spend.campaign_costs@2026-10-01..2026-10-31", 260_099.99, unit="currency",
                                 part_of="spend.marketing_total@2026-10-01..2026-10-31")]
    assert _rules(short) == ["parts_add_to_total"]  # a cent out
    assert _rules(parts) == ["parts_add_to_total"]  # parts of a total no page shows


def test_a_finding_on_a_data_incident_day():
    incident = _f("incident.web.days@2026-10-01..2026-10-31", 1, incident_days=["2026-10-20"], table="events")
    low = _f("activity.dau.lowest@2026-10-01..2026-10-31", 826, day="2026-10-20", verdict="lowest", table="events")
    assert _rules([incident, low]) == ["no_finding_on_an_incident_day"]
    folded = _f("anomaly.cvr.mean@2026-10-20..2026-10-20", 0.133, day="2026-10-20", verdict="incident",
                incident="data:tracking:Web", table="events")
    assert _rules([incident, folded]) == []  # the incident's echo, named as such
    week = _f("anomaly.churn.vs_usual@2026-10-12..2026-10-25", 0.1, day="2026-10-12", until="2026-10-25",
              verdict="up", table="events")
    assert _rules([incident, week]) == ["no_finding_on_an_incident_day"]  # a week that reads the day
    other = _f("anomaly.gmv.mean@2026-10-20..2026-10-20", 4.8e4, day="2026-10-20", verdict="favourable", table="orders")
    assert _rules([incident, other]) == []  # a series the incident's table does not feed


def test_a_plan_target_the_next_review_will_not_use():
    table = {("gmv", "2026-11"): 1_877_200.0}
    scope = inv.Scope(OCT, date(2026, 10, 31), target_of=lambda k, p: table.get((k, p.label)))
    plan = [_f("kpi.gmv.target@2026-11-01..2026-11-30", 1_863_260.74, source="plan.targets")]
    assert _rules(plan, scope) == ["plan_is_the_next_reviews_target"]
    beside = [_f("kpi.gmv.target@2026-11-01..2026-11-30", 1_863_260.74, source="plan.targets", beside=True),
              _f("kpi.gmv.target@2026-11-01..2026-11-30", 1_877_200.0, source="plan.targets")]
    assert _rules(beside, scope) == []


def test_a_verdict_on_a_small_base():
    assert _rules([_f("region.dk.gmv_growth", 3.95, base=1, verdict=None)]) == []  # shown with its n, no verdict
    assert _rules([_f("region.dk.gmv_growth", 3.95, base=1, verdict="up")]) == ["no_verdict_on_a_small_base"]
    assert _rules([_f("region.gb.gmv_growth", 0.05, base=3_900, verdict="up")]) == []


def test_scope_of_a_review_ends_at_the_data_when_earlier():
    from opsnb.params import Settings

    s = inv.scope_of(Settings(min_base=12), Period.parse("2011-12"), date(2011, 12, 9))
    assert (s.as_of, s.min_base) == (date(2011, 12, 9), 12)
    assert inv.scope_of(Settings(), OCT, date(2026, 11, 30)).as_of == date(2026, 10, 31)


def test_table_cells_are_facts_and_one_label_shows_one_value():
    """The issue's own case: "活动归因新增用户" 144 in the results table, 412 in the uplift table."""
    import pandas as pd

    from opsnb import facts
    from opsnb.render import ui

    results = ui.table(pd.DataFrame({"活动": ["会员专享日"], "活动归因新增用户": [144]}), "zh",
                       formats={"活动归因新增用户": "int"})
    uplift = ui.table(pd.DataFrame({"活动": ["会员专享日"], "活动归因新增用户": [412]}), "zh",
                      formats={"活动归因新增用户": "int"})
    shown = facts.cells(results, source="campaigns.results", period="2026-10")
    assert [(f.key, f.value, f.text) for f in shown] == [("cell.活动归因新增用户|会员专享日@2026-10", 144.0, "144")]
    clash = facts.cells(ui.tables(results, uplift), source="campaigns.uplift", period="2026-10")
    assert facts.describe(facts.conflicts(clash)) == [
        "cell.活动归因新增用户|会员专享日@2026-10: 144 (campaigns.uplift) ≠ 412 (campaigns.uplift)"]
    renamed = ui.table(pd.DataFrame({"活动": ["会员专享日"], "全站新增用户（活动期间）": [412]}), "zh")
    assert facts.conflicts(shown + facts.cells(renamed, source="campaigns.uplift", period="2026-10")) == {}


def test_rows_are_named_by_as_few_leading_columns_as_tell_them_apart():
    import pandas as pd

    from opsnb import facts
    from opsnb.render import ui

    anomalies = ui.table(pd.DataFrame({"指标": ["日活", "日活", "GMV"], "日期": ["10-20", "10-21", "10-20"],
                                       "实际": ["826", "1,100", "¥3.1万"]}), "zh")
    keys = [f.key for f in facts.cells(anomalies, source="problems.anomalies", period="2026-10")]
    assert keys == ["cell.实际|日活 / 10-20@2026-10", "cell.实际|日活 / 10-21@2026-10", "cell.实际|GMV / 10-20@2026-10"]
    same = ui.table(pd.DataFrame({"a": ["x", "x"], "b": ["1", "1"]}), "zh")
    assert facts.cells(same, source="s", period="p") == []  # rows no column tells apart: not recorded
