import math

import pandas as pd
import pytest

from opsnb.render import fmt, ui


@pytest.mark.parametrize(
    ("x", "unit", "lang", "text"),
    [
        (1234, "count", "zh", "1,234"),
        (99999, "count", "zh", "99,999"),
        (123456, "count", "zh", "12.3万"),
        (234567890, "count", "zh", "2.35亿"),
        (123456, "count", "en", "123.5K"),
        (2345678, "count", "en", "2.35M"),
        (235.4, "currency", "zh", "¥235.40"),
        (1204567, "currency", "zh", "¥120.5万"),
        (1204567, "currency", "en", "¥1.20M"),
        (-50.5, "currency", "en", "-¥50.50"),
        (0.153, "ratio", "zh", "15.3%"),
        (12.25, "hours", "zh", "12.2小时"),
        (12.25, "hours", "en", "12.2 h"),
        (4.24, "score", "en", "4.2"),
        (None, "count", "zh", "不适用"),
        (math.inf, "ratio", "en", "n/a"),
        (float("nan"), "currency", "en", "n/a"),
    ],
)
def test_value_formats(x, unit, lang, text):
    assert fmt.value(x, unit, lang) == text


def test_change_uses_points_for_ratios_and_relative_for_volumes():
    assert fmt.change(0.18, 0.15, "ratio", "zh") == "+3.0个百分点"
    assert fmt.change(0.12, 0.15, "ratio", "en") == "-3.0 pp"
    assert fmt.change(120, 100, "count", "en") == "+20.0%"
    assert fmt.change(5, 0, "count", "en") == "n/a (base is 0)"
    assert fmt.change(None, 3, "count", "zh") == "不适用"
    assert fmt.ratio_x(8.26, "zh") == "1:8.3"


EVIL = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '</td>', '{{7*7}}']


@pytest.mark.parametrize("evil", EVIL)
def test_table_escapes_values_labels_and_index(evil):
    df = pd.DataFrame({evil: [evil, "ok"], "n": [1.0, 2.0]}, index=pd.Index([evil, "b"], name=evil))
    import html as h

    out = ui.table(df, "en", formats={"n": "count"}, index=True)._repr_html_()
    assert out.count(h.escape(evil)) >= 3  # value, column label and index label, all as text
    assert "<script>" not in out and "<img" not in out
    assert out.count("<td") == out.count("</td>")


@pytest.mark.parametrize("evil", EVIL)
def test_bullets_headings_notes_escape(evil):
    for obj in (ui.bullets([evil]), ui.heading(evil), ui.note(evil), ui.paragraph(evil),
                ui.cards([{"label": evil, "value": evil, "status": evil}]), ui.link_list([(evil, evil, evil)])):
        html = obj._repr_html_()
        assert "<script>" not in html and "<img" not in html and "</td>" not in html


def test_figure_is_inline_svg_with_text():
    import matplotlib

    matplotlib.use("Agg")
    from opsnb.render import charts, theme

    theme.apply()
    ax = charts.bar(pd.DataFrame({"渠道": ["抖音", "微博"], "v": [1, 2]}), x="渠道", y="v", title="渠道分布")
    html = ui.figure(ax, alt="x")._repr_html_()
    assert html.startswith('<figure class="opsnb-figure"') and "<svg" in html and "<?xml" not in html
    assert "渠道分布" in html  # text kept as text (svg.fonttype = none)


@pytest.mark.parametrize(
    ("p", "lang", "text"),
    [(3e-6, "zh", "< 0.0001"), (3e-6, "en", "< 0.0001"), (0.0, "en", "< 0.0001"), (0.0001, "zh", "0.0001"),
     (0.00326, "en", "0.0033"), (0.04999, "zh", "0.0500"), (1.0, "en", "1.0000"), (None, "zh", "不适用"),
     (float("nan"), "en", "n/a")],
)
def test_p_value(p, lang, text):
    assert fmt.p_value(p, lang) == text


def test_toc_does_not_number_headings_that_carry_their_own_numbers():
    from opsnb.export.exporter import _toc

    numbered = '<h2 class="opsnb-h" id="a">1. 关键指标</h2><h2 class="opsnb-h" id="b">2. 趋势</h2>'
    plain = '<h2 class="opsnb-h" id="a">行动计划</h2><h2 class="opsnb-h" id="b">甘特图</h2>'
    assert "<ul>" in _toc(numbered, "目录") and "<ol>" not in _toc(numbered, "目录")  # not "1. 1. 关键指标"
    assert "<ol>" in _toc(plain, "目录")


# ---------------------------------------------------------------- one format per column (issue 32)


@pytest.mark.parametrize(
    ("values", "unit", "lang", "shown"),
    [
        # the channel spend column of the sample: cents below 1万, none above, in one column
        ([5481.63, 14984.0, 84156.2], "currency", "zh", ["¥5,482", "¥14,984", "¥84,156"]),
        ([5481.63, 305.7], "currency", "zh", ["¥5,481.63", "¥305.70"]),
        # RFM: 万 only when every amount reaches 1万
        ([2551234.0, 3070.79, 13198.4], "currency", "zh", ["¥2,551,234", "¥3,071", "¥13,198"]),
        ([2551234.0, 823512.0, 13198.4], "currency", "zh", ["¥255.1万", "¥82.4万", "¥1.3万"]),
        # en: M only when every amount reaches 1M, else K
        ([1070312.0, 943012.0], "currency", "en", ["¥1,070.3K", "¥943.0K"]),
        ([1070312.0, 2943012.0], "currency", "en", ["¥1.07M", "¥2.94M"]),
        ([234567890.0, 123456789.0], "count", "zh", ["2.35亿", "1.23亿"]),
        ([123456, 9999, None], "count", "zh", ["123,456", "9,999", "不适用"]),
        ([123456, 19999, 0], "count", "zh", ["12.3万", "2.0万", "0.0万"]),
        ([0, 0], "currency", "en", ["¥0.00", "¥0.00"]),
        ([0.153, None], "ratio", "en", ["15.3%", "n/a"]),
    ],
)
def test_a_column_has_one_scale_and_one_precision(values, unit, lang, shown):
    assert fmt.column(values, unit, lang, currency="¥") == shown


def test_a_column_of_changes_is_signed_in_one_scale():
    assert fmt.column([35824.0, 147612.0, -2159.89], "currency", "zh", currency="¥", signed=True) == \
        ["+¥35,824", "+¥147,612", "-¥2,160"]
    assert fmt.column([-0.4, 0.4], "currency", "en", currency="£", signed=True) == ["-£0.40", "+£0.40"]
    assert fmt.column_scale([1.2e5, 3.4e4], "count", "zh") == fmt.Scale(1e4, "万", 1)
    with pytest.raises(ValueError, match="count or currency"):
        fmt.column_scale([1.0], "ratio", "zh")


def test_table_formats_each_column_in_one_scale():
    df = pd.DataFrame({"渠道": ["自然搜索", "微信私域"], "投放费用": [5481.63, 14984.0], "GMV": [196000.0, 135000.0],
                       "贡献": [35824.0, -2159.89]})
    out = ui.table(df, "zh", formats={"投放费用": "currency", "GMV": "currency", "贡献": "+currency"},
                   currency="¥").formatted()
    assert out["投放费用"].tolist() == ["¥5,482", "¥14,984"]
    assert out["GMV"].tolist() == ["¥19.6万", "¥13.5万"]
    assert out["贡献"].tolist() == ["+¥35,824", "-¥2,160"]


def test_table_shows_values_by_their_display_names():
    from opsnb.render import i18n

    i18n.use_labels({"小程序": {"en": "Mini program"}, "华东": {"en": "East China", "zh": "华东"}}, "en")
    try:
        df = pd.DataFrame({"平台": ["小程序", "App", ""], "华东": [1, 2, 3]})
        out = ui.table(df, "en", formats={"华东": "int"}).formatted()
        assert out.columns.tolist() == ["平台", "East China"]  # a column named by a value is named too
        assert out["平台"].tolist() == ["Mini program", "App", ""]  # unnamed values as they are, blanks blank
        assert out["East China"].tolist() == ["1", "2", "3"]
        assert ui.table(df, "zh").formatted()["平台"].tolist() == ["小程序", "App", ""]  # no zh name: the value
    finally:
        i18n.use_labels({}, "zh")


# ---------------------------------------------------------------- no table scrolls at 1280 px (issue 32)


def test_text_width_estimate_follows_the_table_font():
    assert ui.text_px("同期群") == pytest.approx(3 * 12.5)
    assert ui.text_px("2,345") == pytest.approx((4 * 0.56 + 0.3) * 12.5)
    assert ui.column_px("人数", ["2,345"], wrapped=False) == pytest.approx(4.5 * 12.5)  # the header's min-width
    assert ui.column_px("Month 10", ["55.3% (1,296)"], wrapped=False) > \
        ui.column_px("Month 10", ["55.3% (1,296)"], wrapped=False, stacked=True)


def _cohort(months: int) -> pd.DataFrame:
    return pd.DataFrame({"Cohort": ["2025-11", "2025-12"], "Users": ["2,345", "2,124"],
                         **{f"Month {m}": ["55.3% (1,296)", "100.0% (2,124)"] for m in range(months)}})


def test_a_table_that_fits_is_left_as_it_is():
    assert ui.layout_columns(_cohort(3), set()) == (False, [["Users", "Month 0", "Month 1", "Month 2"]])
    html = ui.table(_cohort(3), "en")._repr_html_()
    assert html.count("<table") == 1 and "opsnb-stacked" not in html


def test_a_wide_table_stacks_figures_over_their_bases_then_splits():
    stacked, parts = ui.layout_columns(_cohort(12), set())  # the sample's cohort table: fits once stacked
    assert stacked and len(parts) == 1
    html = ui.table(_cohort(12), "en")._repr_html_()
    assert html.count("<table") == 1 and 'class="dataframe opsnb-table opsnb-stacked"' in html
    assert '55.3% <span class="opsnb-base">(1,296)</span>' in html
    wide = _cohort(30)  # too wide even stacked: as many parts as it takes, of about equal width, each fitting
    stacked, parts = ui.layout_columns(wide, set())
    assert stacked and len(parts) == 2 and [c for p in parts for c in p] == list(wide.columns[1:])
    assert abs(len(parts[0]) - len(parts[1])) <= 1
    for cols in parts:
        assert sum(ui.column_px(c, wide[c].tolist(), wrapped=False, stacked=True)
                   for c in ["Cohort", *cols]) <= ui.TABLE_BUDGET_PX
    html = ui.table(wide, "zh")._repr_html_()
    assert html.count("<table") == 2 and html.count(">Cohort</th>") == 2  # the row names repeat in each part
    assert html.count("续表") == 1  # the later part says it continues the table


def test_every_part_of_a_split_table_fits_the_page():
    wide = pd.DataFrame({"Step": ["1. Visit"], **{f"{c} overall conversion": ["100.0%"] for c in
                                                   ("Organic search", "In-feed ads", "Douyin", "Xiaohongshu",
                                                    "WeChat private traffic", "Referrals", "Weibo", "KOL", "A", "B",
                                                    "C", "D", "E")}})
    stacked, parts = ui.layout_columns(wide, set())
    assert not stacked and len(parts) == 2 and abs(len(parts[0]) - len(parts[1])) <= 2
    for cols in parts:
        assert sum(ui.column_px(c, wide[c].tolist(), wrapped=False) for c in ["Step", *cols]) <= ui.TABLE_BUDGET_PX


def test_columns_of_words_align_left_and_figures_right():
    assert ui.is_text_column(["exceeded", "missed", "n/a", "不适用"])
    assert not ui.is_text_column(["¥968.3K", "n/a", "n/a", "n/a（无目标）", "3,340"])  # n/a says nothing either way
    assert not ui.is_text_column(["-¥2,160", "+¥35,824", "2026-10-08"])
    df = pd.DataFrame({"KPI": ["GMV", "NPS"], "Target": ["¥968.3K", "n/a"], "Status": ["exceeded", "n/a"]})
    html = ui.table(df, "en")._repr_html_()
    assert '<div class="opsnb-left">Status</div>' in html and '<div class="opsnb-left">exceeded</div>' in html
    assert "<td>¥968.3K</td>" in html and '<div class="opsnb-left">Target</div>' not in html


def test_a_change_reads_as_the_reader_computes_it_from_the_two_values():
    from opsnb.render import fmt

    # 107 against 80 is +33.75 %: shown +33.8 %, as (107 − 80) ÷ 80; 107 ÷ 80 − 1 is 0.33749999… and showed 33.7 %
    assert fmt.relative_change(107, 80) == 0.3375 and fmt.change(107, 80, "count", "en") == "+33.8%"
    assert fmt.change(60, 80, "count", "zh") == "-25.0%" and fmt.relative_change(-5, -10) == 0.5


def test_a_card_without_a_target_says_not_applicable_once():
    from opsnb.render import ui

    html = ui.cards([{"label": "付费转化率", "value": "25.4%", "attainment": "不适用", "status_text": "不适用"},
                     {"label": "GMV", "value": "¥104.6万", "attainment": "108.0%", "status_text": "超额完成"}])._repr_html_()
    assert '<div class="opsnb-card-att">不适用</div>' in html
    assert '<div class="opsnb-card-att">108.0% · 超额完成</div>' in html
