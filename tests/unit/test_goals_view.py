"""The goals section's view: every subsection renders in zh and en; cards and bullets read right."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.metrics import kpis as K
from opsnb.metrics.drivers import drivers
from opsnb.metrics.ledger import append_ledger
from opsnb.nb import Context, render
from opsnb.params import Settings
from opsnb.periods import Period
from opsnb.render import fmt
from opsnb.sections import goals as G
from tests.unit.goals_packs import pack_a

OCT = Period.parse("2026-10")


@pytest.fixture(scope="module")
def pa():
    return pack_a()


def _ctx(pack, lang, root):
    s = Settings(lang=lang, unit="u")
    first, last = pack.day_range()
    return Context(s, pack, OCT, "goals", first, last, root)


def test_attainment_bullets_written_review_style(pa):
    s = Settings()
    att = K.attainment(pa, OCT, s, kpis=[s.kpi("gmv"), s.kpi("cac"), s.kpi("orders")])
    zh = G.attainment_bullets(att, "zh")
    assert "GMV：实际¥180.00，目标¥150.00，完成率120.0%，超额完成。" in zh
    assert "GMV环比+80.0%，同比+100.0%。" in zh
    assert "订单数：实际3，完成率不适用（目标为0）。" in zh
    assert zh[0] == "2项有目标的指标中，2项超额完成，0项基本达成，0项未达成。"
    en = G.attainment_bullets(att, "en")
    assert "GMV: ¥180.00 against a ¥150.00 target (120.0% attained), exceeded." in en


def test_ratio_change_in_points(pa):
    s = Settings()
    att = K.attainment(pa, OCT, s, kpis=[s.kpi("conversion_rate")])
    assert "付费转化率环比-26.7个百分点，同比-10.0个百分点。" in G.attainment_bullets(att, "zh")


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
    assert zh[0] == "GMV由¥100.00（2026-09）变为¥180.00（2026-10），变化+¥80.00。"
    assert zh[1].startswith("变化主要来自活跃用户数：3→5（+66.7%）")


def test_every_subsection_renders(pa, tmp_path):
    ctx = _ctx(pa, "zh", tmp_path)
    append_ledger(ctx.outputs / "ledger.parquet", "u", "2026-09",
                  pd.DataFrame({"key": ["gmv"], "actual": [90.0], "target": [100.0], "attainment": [0.9],
                                "status": ["missed"]}), "r0", "2026-10-02")
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
    assert "GMV by quarter: Q3 125.0%, Q4 120.0%." in q  # Q4 to date = October, by its own target


def test_a_change_of_ratios_is_between_the_ratios_as_shown():
    r = {"mom": 0.2536 - 0.2164, "mom_kind": "pp", "actual": 0.2536, "previous": 0.2164, "last_year": None,
         "yoy": None, "yoy_kind": "pp"}
    assert (fmt.pct(r["actual"], "zh"), fmt.pct(r["previous"], "zh")) == ("25.4%", "21.6%")
    # the raw difference (0.0372) would read +3.7 points beside 25.4 % and 21.6 %: the reader expects +3.8
    assert G.change_text(r["mom"], "pp", "zh", None) == "+3.7个百分点"
    assert G.change_text(G.shown_change(r, "mom"), "pp", "zh", None) == "+3.8个百分点"
    assert G.shown_change({**r, "mom_kind": "relative"}, "mom") == r["mom"]
    assert fmt.change(0.2536, 0.2164, "ratio", "zh") == "+3.8个百分点"  # the bullets' formatter, same rule
