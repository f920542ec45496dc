"""The reader checks find what they are for: each is shown a page with one planted defect, and a clean one."""

from __future__ import annotations

from pathlib import Path

from opsnb import facts
from tests.browser import reader as R


def _page(tmp_path: Path, body: str, name: str = "p.html") -> R.Page:
    p = tmp_path / name
    p.write_text(f"<html><head><style>.x{{}}</style></head><body>{body}</body></html>", encoding="utf-8")
    return R.read_page(p)


def test_direction_word_against_its_sign(tmp_path):
    bad = _page(tmp_path, "<ul><li>增长最快的地区为西南（GMV环比+46.2%），下滑最多的为华东（+14.7%）。</li></ul>")
    assert len(R.find_direction_mismatch(bad)) == 1
    ok = _page(tmp_path, "<p>增长最快的地区为西南（+46.2%），所有地区均增长。</p><p>GMV fell 3.0% (-3.0%).</p>")
    assert R.find_direction_mismatch(ok) == []


def test_code_names_table_names_and_paths(tmp_path):
    page = _page(tmp_path, "<p>观察期内（参数 after_effect_days）</p><p>剩余目标（kpis表年度目标）</p>"
                           "<table><tr><td>数据包</td><td>/work/main/data/sample</td></tr></table>"
                           "<p>goals.bullet.win</p>")
    found = " ".join(R.find_code_names(page))
    assert "after_effect_days" in found and "kpis表" in found and "/work/main/data/sample" in found
    assert "goals.bullet.win" in found
    assert R.find_code_names(_page(tmp_path, "<p>新增用户完成率85.0%（目标表）。</p>")) == []


def test_english_on_a_chinese_page_except_data_values(tmp_path):
    page = _page(tmp_path, '<p>漏斗：“visit”→“register”</p><svg><text>when</text><text>GMV</text></svg>'
                           "<p>活动“Spring Sale”</p>")
    words = " ".join(R.find_english_in_zh(page, {"Spring Sale"}))
    assert "visit" in words and "register" in words and "when" in words
    assert "GMV" not in words and "Spring" not in words


def test_placeholder_foreign_currency_and_raw_numbers(tmp_path):
    page = _page(tmp_path, "<table><tr><td>未知</td><td>41.7%</td></tr></table><p>金额¥5,000</p>"
                           "<p>目标 2e+06</p><svg><text>1e6</text></svg>")
    assert len(R.find_placeholders(page, "未知")) == 1
    assert len(R.find_foreign_currency(page, "£")) == 1 and R.find_foreign_currency(page, "¥") == []
    assert {d.split("'")[1] for d in R.find_raw_numbers(page)} == {"2e+06", "1e6"}


def test_repeated_lines(tmp_path):
    line = "【中】新增用户未达成目标：实际2,950，目标3,471，完成率85.0%。"
    assert len(R.find_repeated_lines(_page(tmp_path, f"<ul><li>{line}</li><li>{line}</li></ul>"))) == 1


def test_fact_conflicts_one_key_two_values():
    a = facts.make("kpi.orders.target@2026", 34330, "count", "34,330", period="2026", source="goals.ytd")
    b = facts.make("kpi.orders.target@2026", 19686, "count", "19,686", period="2026", source="plan.targets")
    same = facts.make("kpi.orders.target@2026", 34330, "count", "34,330", period="2026", source="plan.targets")
    assert list(facts.conflicts([a, b])) == ["kpi.orders.target@2026"]
    assert facts.describe(facts.conflicts([a, b])) == ["kpi.orders.target@2026: 34,330 (goals.ytd) ≠ 19,686 (plan.targets)"]
    assert facts.conflicts([a, same]) == {}
    na = facts.make("kpi.orders.target@2026", None, "count", "不适用", period="2026", source="x")
    assert list(facts.conflicts([a, na])) == ["kpi.orders.target@2026"]


def test_region_growth_sentence_follows_the_signs():
    from opsnb.sections.insights_customers import growth_case

    assert growth_case(0.462, 0.147) == "all_grew"  # "largest decline: +14.7%" was the defect
    assert growth_case(0.462, -0.05) == "growth"
    assert growth_case(-0.01, -0.30) == "all_declined"
    assert growth_case(0.10, 0.0) == "all_grew"


def test_direction_check_ignores_dates(tmp_path):
    page = _page(tmp_path, "<p>the follow-up window is not over yet (data up to 2026-10-31).</p>")
    assert R.find_direction_mismatch(page) == []


def test_ids_glued_to_chinese_text(tmp_path):
    page = _page(tmp_path, "<p>节假日按日历地区CN生成（参数calendar_region）。</p>")
    assert "calendar_region" in " ".join(R.find_code_names(page))


def test_direction_words_are_whole_words(tmp_path):
    page = _page(tmp_path, "<p>Sign-ups' day-30 retention: -1.6 pp month over month.</p><p>GMV up -3.0%.</p>")
    assert [d.split("'")[1] for d in R.find_direction_mismatch(page)] == ["up -3"]


def test_a_table_row_is_read_whole_even_with_wrapped_cells(tmp_path):
    page = _page(tmp_path, '<table><tr><td>GMV</td><td><div class="opsnb-wrap">Last year\'s monthly shares</div></td>'
                           "<td>¥190.0K</td></tr></table>")
    assert page.lines == ["GMV | Last year's monthly shares | ¥190.0K"]


def test_unnamed_category_values_on_an_english_page(tmp_path):
    labels = {"小程序": {"en": "Mini program"}, "华东": {"en": "East China"}, "App": {"en": "App"},
              "KOL": {"en": "KOL"}, "高": {"zh": "高"}}
    bad = _page(tmp_path, "<table><tr><td>小程序</td><td>41.7%</td></tr></table><svg><text>华东</text></svg>"
                          "<p>Share of active users by platform: App 41.7%, KOL 3.0%.</p>")
    found = R.find_unnamed_values(bad, labels, "en")
    assert len(found) == 2 and "'小程序' not named 'Mini program'" in found[0] and "East China" in found[1]
    ok = _page(tmp_path, "<table><tr><td>Mini program</td></tr></table><p>East China, App and KOL; 高</p>")
    assert R.find_unnamed_values(ok, labels, "en") == []  # 高 has no English name: shown as it is
    assert R.find_unnamed_values(bad, labels, "zh") == []  # a Chinese page shows Chinese values


def test_mixed_formats_in_a_column_or_a_metric_row(tmp_path):
    spend = ("<table><tr><th>渠道</th><th>投放费用</th><th>GMV</th><th>占比</th></tr>"
             "<tr><td>自然搜索</td><td>¥5,481.63</td><td>¥19.6万</td><td>19.9%</td></tr>"
             "<tr><td>微信私域</td><td>¥14,984</td><td>¥13.5万</td><td>11.5%</td></tr></table>")
    found = R.find_mixed_formats(_page(tmp_path, spend))
    assert len(found) == 1 and "column '投放费用'" in found[0]  # GMV in 万 beside spend in yuan: each column one format
    rfm = ("<table><tr><th>分层</th><th>累计消费额</th></tr><tr><td>重要价值客户</td><td>¥255.1万</td></tr>"
           "<tr><td>新客户</td><td>¥3,070.79</td></tr></table>")
    assert "column '累计消费额'" in R.find_mixed_formats(_page(tmp_path, rfm))[0]
    # a row per metric: its columns hold several kinds; a row of one kind keeps one format
    compare = ("<table><tr><th>指标</th><th>A</th><th>B</th><th>z</th></tr>"
               "<tr><td>GMV</td><td>¥10.9万</td><td>¥58,626</td><td>3.8</td></tr>"
               "<tr><td>参与人数</td><td>773</td><td>331</td><td>-3.7</td></tr>"
               "<tr><td>转化率</td><td>44.1%</td><td>52.9%</td><td>2.0</td></tr></table>")
    found = R.find_mixed_formats(_page(tmp_path, compare))
    assert len(found) == 1 and "row 'GMV'" in found[0]  # the z column (one kind) is not part of a metric's row
    fixed = compare.replace("¥58,626", "¥5.9万")
    assert R.find_mixed_formats(_page(tmp_path, fixed)) == []
