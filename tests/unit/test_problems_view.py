"""The problems page: the anomaly chart's text boxes, the anomaly table and bullets, ranked and capped bullets."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from opsnb.context import Context  # noqa: E402
from opsnb.metrics import problems as pm  # noqa: E402
from opsnb.params import Settings  # noqa: E402
from opsnb.periods import Period  # noqa: E402
from opsnb.sections import problems as view  # noqa: E402
from tests.unit.test_problems import dau_pack  # noqa: E402

OCT = Period.parse("2026-10")


def _ctx(pack, lang: str = "zh") -> Context:
    s = Settings()
    s.lang = lang
    return Context(s, pack, OCT, "problems")


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_anomaly_chart_titles_never_print_over_the_ticks_of_the_panel_above(lang: str) -> None:
    from opsnb.render import theme

    theme.apply()
    ctx = _ctx(dau_pack(drop_day=None, web_break="2026-10-20"), lang)
    res = view._compute_anomalies(ctx)
    keys = ["dau", "churn"]  # two panels: DAU (with the break's echo) above weekly churn
    ax = view.anomaly_chart(res["scans"], keys, lang, period_start=OCT.start, incidents=view._incidents(ctx))
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axes = fig.get_axes()
    assert len(axes) == 2
    texts = []
    for a in axes:
        texts += [a.title, a._left_title] + a.get_xticklabels() + a.get_yticklabels()
    texts += [t for leg in fig.legends for t in leg.get_texts()]
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts if t.get_visible() and t.get_text()]
    for i, (ta, ba) in enumerate(boxes):
        for tb, bb in boxes[i + 1:]:
            assert not _boxes_overlap(ba, bb), f"{ta!r} overlaps {tb!r}"
    # the lower panel's title sits below the upper panel's plot
    assert axes[1]._left_title.get_window_extent(r).y1 <= axes[0].get_window_extent(r).y0


def test_the_anomaly_table_marks_an_incident_s_echo_and_never_calls_it_favourable() -> None:
    ctx = _ctx(dau_pack(drop_day=None, web_break="2026-10-20"))
    res = view._compute_anomalies(ctx)
    table = view._anomaly_table(res, ctx).data
    row = table[(table["指标"] == "日活跃用户") & (table["日期"] == "2026-10-20")].iloc[0]
    assert row["方向"] == "数据事故所致"
    assert "有利" not in set(table["方向"]) and "不利" not in set(table["方向"])
    bullets = view._anomaly_bullets(res, ctx)
    assert bullets[0] == "按当前阈值，本期未发现需要关注的问题。"
    assert ("表中标为“数据事故所致”的日活跃用户、周流失率异常由平台“Web”10月20日埋点中断造成，已并入“数据缺口”小节的该问题，"
            "不计为指标异常。") in bullets


def test_episodes_run_over_consecutive_days_of_one_kind() -> None:
    idx = pd.date_range("2026-10-01", periods=8, freq="D")
    r = pd.DataFrame({"value": [10.0, 30, 32, 31, 10, 2, 10, 35], "expected": 10.0,
                      "resid": [0.0, 20, 22, 21, 0, -8, 0, 25], "z": [0.0, 5, 6, 5.5, 0, -4, 0, 7],
                      "flagged": [False, True, True, True, False, True, False, True], "reason": pd.NA,
                      "in_period": True}, index=idx)
    r.attrs["z"] = 3.5
    eps = view.episodes({"dau": r})
    assert eps[["kind", "n"]].values.tolist() == [["favourable", 3], ["adverse", 1], ["favourable", 1]]
    assert eps.iloc[0]["value"] == 31.0 and eps.iloc[0]["z"] == 6.0


def test_a_subsection_details_at_most_max_bullets_and_names_the_rest(monkeypatch) -> None:
    s = Settings()
    s.problems.max_bullets = 2
    rows = [pm._row("kpi", f"kpi:k{i}", 1.0 - i / 10, "revenue",
                    {"kpi": f"k{i}", "label": f"指标{i}", "label_en": f"KPI {i}", "unit": "count", "actual": 80.0,
                     "target": 100.0, "attainment": 0.8, "gap": 0.2}, s) for i in range(4)]
    df = pm.merge_problems([pm._frame(rows)])
    ctx = Context(s, None, OCT, "problems")  # type: ignore[arg-type]
    out = view._bullets(df, ctx)
    assert len(out) == 3 and out[0].startswith("【高】指标0未达成目标") and out[1].startswith("【中】指标1")
    assert out[2] == "另有2个较轻的问题：指标2未达成目标，完成率80.0%、指标3未达成目标，完成率80.0%（见问题总览表）。"


def test_skipped_checks_read_one_line_per_missing_table() -> None:
    notes = [{"detector": "roi_channel", "key": "", "reason": "no_table:channel_spend"},
             {"detector": "cac", "key": "", "reason": "no_table:channel_spend"},
             {"detector": "roi_campaign", "key": "", "reason": "no_table:campaigns"}]
    assert view.notes_text(notes, "en") == [
        "The pack has no channel spend table; skipped: Low channel ROI, Rising CAC.",
        "The pack has no campaign table; skipped: Low campaign ROI."]
