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
