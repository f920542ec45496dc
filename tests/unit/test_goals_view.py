"""The goals section's view: every subsection renders in zh and en; cards and bullets read right."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb import runfolder as rf
from opsnb.metrics import kpis as K
from opsnb.metrics.drivers import drivers
from opsnb.metrics.ledger import appended
from opsnb.nb import Context, render
from opsnb.params import Settings
from opsnb.periods import Period
from opsnb.render import fmt
from opsnb.sections import goals as G
from tests.unit.goals_packs import pack_a, pack_partial

OCT = Period.parse("2026-10")


@pytest.fixture(scope="module")
def pa():
    return pack_a()


def _ctx(pack, lang, root):
    s = Settings(lang=lang, unit="u")
    first, last = pack.day_range()
    return Context(s, pack, OCT, "goals", first, last, root)


def test_attainment_bullets_conclusion_first_never_a_row(pa):
    """The verdict names what missed (with its gap), then what met but weakens, then the largest moves;
    no sentence restates one row of the table (actual, target and attainment of one KPI)."""
    s = Settings()
    att = K.attainment(pa, OCT, s, kpis=[s.kpi(k) for k in ("gmv", "cac", "orders", "conversion_rate", "nps",
                                                              "churn_rate")])
    zh = G.attainment_bullets(att, "zh")
    assert zh == [
        "5项有目标的指标中4项达成或基本达成，未达成：流失率（完成75.0%，差8.3个百分点）。",
        "达标但在走弱（若下月再按本月幅度变化将低于目标）：获客成本（完成125.0%，环比+700.0%）、"
        "付费转化率（完成95.2%，环比-26.7个百分点）。",
        "其余指标中环比改善最多：GMV+80.0%、订单数+50.0%。",
    ]
    assert len(zh) <= 5 and not any("实际¥180.00" in b for b in zh)
    en = G.attainment_bullets(att, "en")
    assert en[0] == "Of 5 KPIs with a target, 4 met or nearly met it; missed: Churn rate (75.0% attained, 8.3 pp short)."


def test_a_miss_says_whether_the_actual_fell_or_the_target_rose(pa):
    s = Settings()
    extra = pd.DataFrame({"metric": ["gmv"], "period": ["2026-09"], "target": [50.0], "source": ["plan"]})
    k = s.kpi("gmv")
    att = K.attainment(pa, OCT, s, kpis=[k], extra_targets=extra)
    att.loc[0, ["target", "attainment", "status"]] = [400.0, 0.45, "missed"]  # October's target quadrupled
    att.loc[0, "target_previous"] = 50.0
    zh = G.attainment_bullets(att, "zh")
    assert zh[1] == "GMV未达成主要因目标上调：目标环比+700.0%，实际环比仅+80.0%。"
    att.loc[0, ["previous", "mom"]] = [200.0, -0.1]  # the actual fell 200 → 180
    assert G.attainment_bullets(att, "zh")[1] == "GMV未达成主要因实际下滑：实际环比-10.0%，目标环比+700.0%。"


def test_partial_period_footnote_is_generated_from_the_rules_applied():
    p, s = pack_partial(), Settings()
    att = K.attainment(p, OCT, s, kpis=[s.kpi("gmv"), s.kpi("new_users"), s.kpi("aov")])
    zh = G.attainment_bullets(att, "zh")
    assert zh[-1] == ("2026-10截至2026-10-10（10/31天）：GMV的目标为全期目标的40.0%（按去年同期的日分布折算）；"
                      "新增用户的目标为全期目标的32.3%（按天数10/31折算）；客单价为比率或均值类指标，不折算，对比全期目标。")


def test_kpi_cards_direction_aware(pa, tmp_path):
    ctx = _ctx(pa, "zh", tmp_path)
    s = ctx.settings
    ctx.cache["goals.attainment"] = K.attainment(pa, OCT, s, kpis=[s.kpi("gmv"), s.kpi("cac")])
    ctx.cache["goals.attainment"]["headline"] = True
    cards = {c["key"]: c for c in G.kpi_cards(ctx)}
    assert cards["gmv"]["arrow"] == "▲" and cards["gmv"]["good"] is True
    assert cards["gmv"]["attainment"] == "120.0%" and cards["gmv"]["status_text"] == "超额完成"
    # CAC: September 10 ÷ 1 new user (u2) = 10 → October 40: up, bad news for a lower-is-better KPI
    assert cards["cac"]["arrow"] == "▲" and cards["cac"]["good"] is False
    assert G._good(-0.1, "lower") is True


def test_driver_bullets(pa):
    zh = G.drivers_bullets(drivers(pa, OCT), "zh")
    assert zh == ["GMV由¥100.00（2026-09）变为¥180.00（2026-10），变化+¥80.00，86.9%来自活跃用户数（3→5，贡献+¥69.53）。",
                  "同向推动的还有：人均订单数1.00→1.50（贡献+¥55.19）、客单价¥50.00→¥60.00（贡献+¥24.81）。",
                  "反向拖累：付费转化率66.7%→40.0%（贡献-¥69.53）。"]


def test_every_subsection_renders(pa, tmp_path):
    ctx = _ctx(pa, "zh", tmp_path)
    rf.write_ledger(ctx.outputs, appended(rf.read_ledger(ctx.outputs), "u", "2026-09",
                    pd.DataFrame({"key": ["gmv"], "actual": [90.0], "target": [100.0], "attainment": [0.9],
                                  "status": ["missed"]}), "r0", "2026-10-02")[0])
    for sub in G.SUBSECTIONS:
        result, objs = render(ctx, sub.key)
        assert result is not None, sub.key
        assert len(objs) >= 3, sub.key
    restated = G.ledger_bullets(G._ledger(ctx), "zh", G._labels(ctx))
    assert restated == ["GMV（2026-09）已更正：发布时为¥90.00，现为¥100.00。"]


def test_english_tables_and_bullets(pa, tmp_path):
    """Charts are drawn once above; here every table and bullet list in English."""
    ctx = _ctx(pa, "en", tmp_path)
    for sub in G.SUBSECTIONS:
        r = sub.compute(ctx)
        if sub.table is not None:
            sub.table(r, ctx)
        if sub.bullets is not None:
            assert all(isinstance(b, str) and b for b in sub.bullets(r, ctx))
    q = G.quarters_bullets(G._quarters(ctx), "en")
    assert q[0].startswith("Q4 against the previous quarter: GMV 120.0% attained (-5.0 pp)")
    assert "* Q4 to 2026-10-31 (31/92 days): GMV, Orders compared with the 2026-10 monthly target." in q


def test_a_change_of_ratios_is_between_the_ratios_as_shown():
    r = {"mom": 0.2536 - 0.2164, "mom_kind": "pp", "actual": 0.2536, "previous": 0.2164, "last_year": None,
         "yoy": None, "yoy_kind": "pp"}
    assert (fmt.pct(r["actual"], "zh"), fmt.pct(r["previous"], "zh")) == ("25.4%", "21.6%")
    # the raw difference (0.0372) would read +3.7 points beside 25.4 % and 21.6 %: the reader expects +3.8
    assert G.change_text(r["mom"], "pp", "zh", None) == "+3.7个百分点"
    assert G.change_text(G.shown_change(r, "mom"), "pp", "zh", None) == "+3.8个百分点"
    assert G.shown_change({**r, "mom_kind": "relative"}, "mom") == r["mom"]
    assert fmt.change(0.2536, 0.2164, "ratio", "zh") == "+3.8个百分点"  # the bullets' formatter, same rule


def test_the_main_driver_pushes_the_way_gmv_moved():
    """GMV up while AOV fell most: the sentence leads with the largest push upward, AOV is the drag."""
    from opsnb.metrics.drivers import DriverResult

    table = pd.DataFrame({"driver": ["active_users", "conversion", "orders_per_payer", "aov"],
                          "base": [100.0, 1.0, 1.0, 10.0], "current": [150.0, 1.0, 1.2, 7.0],
                          "change": [0.5, 0.0, 0.2, -0.3], "contribution": [400.0, 0.0, 150.0, -450.0],
                          "share": [4.0, 0.0, 1.5, -4.5]})
    r = DriverResult("2026-10", "2026-09", 1000.0, 1100.0, table, "lmdi", "aov")
    zh = G.drivers_bullets(r, "zh")
    assert zh == ["GMV由¥1,000.00（2026-09）变为¥1,100.00（2026-10），变化+¥100.00；推动最多的是活跃用户数（100→150，贡献+¥400.00），"
                  "部分被反向因素抵消。",
                  "同向推动的还有：人均订单数1.00→1.20（贡献+¥150.00）。",
                  "反向拖累：客单价¥10.00→¥7.00（贡献-¥450.00）。"]


def test_ytd_bullets_lead_with_the_miss_and_what_the_rest_of_the_year_needs(pa):
    """GMV heads for 37.3 % of its annual target: the first sentence says so, the next what the rest of
    the year needs against what its targets expect for that time (1000 − 750 to date), then the rule."""
    s = Settings()
    y = K.ytd(pa, OCT, s, kpis=[s.kpi("gmv")])
    assert G.ytd_bullets(y, "zh") == [
        "按当前节奏，以下年度目标预计无法完成：GMV全年预计¥373.33，为目标¥1,000.00的37.3%。",
        "GMV要完成年度目标，剩余61天还需¥720.00，为剩余期间目标¥250.00的288.0%。",
        "2026年截至2026-10-31（304/365天）：GMV的目标为全期目标的75.0%（按去年同期的日分布折算）。",
        "全年预测 = 同期完成率（年初至今实际 ÷ 应完成目标）× 年度目标。",
    ]
