"""Chart axes in the report's number format, translated legend titles, month ticks (issue 18)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from opsnb.render import charts, ui

RAW_HUE_IDS = {"metric", "window", "group", "kind", "model", "when"}


@pytest.fixture(autouse=True)
def _theme():
    import matplotlib

    matplotlib.use("Agg")
    from opsnb.render import theme

    theme.apply()  # svg.fonttype none: the SVG keeps its texts as <text>


def svg_texts(ax) -> list[str]:
    """Every visible text of the chart, as the HTML page holds it."""
    from bs4 import BeautifulSoup

    html = ui.figure(ax, alt="chart")._repr_html_()
    return [t.get_text(" ", strip=True) for t in BeautifulSoup(html, "html.parser").find_all("text")]


@pytest.mark.parametrize(
    ("unit", "lang", "currency", "ticks", "labels"),
    [
        ("currency", "zh", "¥", [0, 5e5, 1e6, 1.5e6], ["¥0", "¥50万", "¥100万", "¥150万"]),
        ("currency", "en", "¥", [0, 5e5, 1e6, 1.5e6], ["¥0", "¥0.5M", "¥1.0M", "¥1.5M"]),
        ("currency", "en", "£", [0, 2.5e5, 5e5], ["£0", "£250K", "£500K"]),
        ("currency", "zh", "£", [0, 2.5e5, 5e5], ["£0", "£25万", "£50万"]),
        ("currency", "zh", "¥", [0, 20000, 40000], ["¥0", "¥20,000", "¥40,000"]),  # below 10万: no 万, as fmt
        ("currency", "zh", "¥", [295, 300, 305], ["¥295", "¥300", "¥305"]),
        ("currency", "zh", "¥", [-2e5, 0, 2e5], ["-¥20万", "¥0", "¥20万"]),
        ("currency", "zh", "¥", [0, 1e8, 2e8], ["¥0", "¥1亿", "¥2亿"]),
        ("count", "zh", None, [0, 2000, 4000], ["0", "2,000", "4,000"]),
        ("count", "zh", None, [0, 50000, 100000, 150000], ["0", "5万", "10万", "15万"]),
        ("count", "en", None, [0, 50000, 100000, 150000], ["0", "50K", "100K", "150K"]),
        ("count", "en", None, [0, 1e6, 2e6], ["0", "1M", "2M"]),
        ("ratio", "zh", None, [0, 0.2, 0.4], ["0%", "20%", "40%"]),
        ("ratio", "zh", None, [0, 0.025, 0.05], ["0.0%", "2.5%", "5.0%"]),
        ("ratio", "en", None, [0.0725, 0.075], ["7.25%", "7.50%"]),
        ("hours", "zh", None, [22, 23.5], ["22.0小时", "23.5小时"]),
        ("hours", "en", None, [22, 24], ["22 h", "24 h"]),
        ("score", "en", None, [4.2, 4.225], ["4.200", "4.225"]),
        ("roi", "zh", None, [0, 0.5, 1], ["1:0.0", "1:0.5", "1:1.0"]),
        ("number", "en", None, [0, 1e6, 2e6], ["0", "1,000,000", "2,000,000"]),
    ],
)
def test_axis_formatter_labels(unit, lang, currency, ticks, labels):
    assert charts.axis_formatter(unit, lang, currency=currency).format_ticks(ticks) == labels


def test_axis_formatter_single_value_and_errors():
    f = charts.axis_formatter("currency", "zh", currency="¥")
    assert f(2e6) == "¥200万" and f(2e6, 3) == "¥200万"
    assert charts.axis_formatter("ratio", "en")(0.153) == "15.3%"
    with pytest.raises(ValueError, match="unknown axis unit 'money'; known: count, currency"):
        charts.axis_formatter("money", "zh")
    with pytest.raises(ValueError, match="needs lang"):
        charts.format_axis(charts.new_ax(), "y", "currency")


def test_format_axis_on_a_drawn_axis():
    import matplotlib.pyplot as plt

    ax = charts.new_ax()
    ax.bar(["a", "b"], [1.2e6, 2.0e6])
    charts.format_axis(ax, "y", "currency", "en", currency="£")
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert labels[:3] == ["£0", "£0.25M", "£0.50M"] and "£2.00M" in labels
    plt.close(ax.figure)
    ax = charts.new_ax()
    ax.barh(["a", "b"], [1, 2])
    charts.format_axis(ax, "x", "count", "zh")  # counts: whole-number ticks only
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[:3] == ["0", "1", "2"] and not any("." in s for s in labels)  # not 0.0, 0.5, 1.0 …
    plt.close(ax.figure)


def test_zh_chart_svg_has_no_offset_and_no_raw_legend_title():
    from opsnb.sections import campaigns

    up = pd.DataFrame({"name": ["双十一", "618"], "gmv": [1.8e6, 1.2e6], "gmv_baseline": [1.1e6, 0.9e6]})
    texts = svg_texts(campaigns.uplift_chart(up, labels=("活动期", "基线期"), lang="zh", currency="¥", title="GMV"))
    assert not [s for s in texts if re.search(r"1e|e\+0", s)]
    assert not RAW_HUE_IDS & set(texts)
    assert {"活动期", "基线期", "¥0", "¥150万"} <= set(texts)


def test_legend_title_translated_or_none():
    long = pd.DataFrame({"channel": ["抖音", "微博"] * 2, "budget": [3e5, 2e5, 2.5e5, 2.5e5],
                         "when": ["调整前"] * 2 + ["调整后"] * 2})
    texts = svg_texts(charts.bar(long, x="channel", y="budget", hue="when", unit="currency", lang="zh"))
    assert "when" not in texts and {"调整前", "调整后", "¥30万"} <= set(texts)
    texts = svg_texts(charts.bar(long, x="channel", y="budget", hue="when", unit="currency", lang="zh",
                                 legend_title="时点"))
    assert "时点" in texts and "when" not in texts


def test_long_legend_goes_outside_the_plot():
    n = 6
    long = pd.DataFrame({"channel": ["A"] * n, "credit": list(range(1, n + 1)), "model": [f"模型{i}" for i in range(n)]})
    ax = charts.bar(long, x="channel", y="credit", hue="model", unit="count", lang="zh")
    leg = ax.get_legend()
    assert leg.get_title().get_text() == "" and len(leg.get_texts()) == n
    ax.figure.canvas.draw()
    assert leg.get_window_extent().x0 > ax.get_window_extent().x1  # right of the axes, over no bar


def test_line_with_target_keeps_series_and_target_in_the_legend():
    d = pd.DataFrame({"month": ["2026-09", "2026-10"], "actual": [0.2, 0.25], "target": [0.22, 0.22]})
    ax = charts.line(d, x="month", y="actual", target="target", target_label="目标", label="实际", unit="ratio")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["实际", "目标"]
    assert "22.0%" in svg_texts(ax) or "22%" in svg_texts(ax)


def test_month_axis_labels_months():
    ax = charts.new_ax()
    x = pd.to_datetime([f"{p}-01" for p in pd.period_range("2025-11", periods=12, freq="M").astype(str)])
    ax.plot(x, range(12))
    charts.month_axis(ax, max_ticks=4)
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-04", "2026-07", "2026-10"]


def test_goals_trends_panels_by_unit_and_month():
    from opsnb.sections import goals

    months = [str(p) for p in pd.period_range("2025-11", periods=12, freq="M")]
    gmv = pd.DataFrame({"month": months, "actual": [1.0e6 + 5e4 * i for i in range(12)], "target": [1.1e6] * 12})
    gmv.attrs.update(unit="currency", label="GMV")
    conv = pd.DataFrame({"month": months, "actual": [0.2 + 0.01 * i for i in range(12)], "target": [None] * 12})
    conv.attrs.update(unit="ratio", label="付费转化率")
    texts = svg_texts(goals.trends_chart({"gmv": gmv, "conversion_rate": conv}, lang="zh", currency="£"))
    assert not [s for s in texts if re.search(r"1e|e\+0", s)]
    assert {"2026-01", "2026-10", "£110万", "20%"} <= set(texts)
    assert not [s for s in texts if re.fullmatch(r"\d\d-\d\d", s)]  # no "25-11"


def test_currency_defaults_to_the_units():
    from opsnb.render import fmt

    fmt.use_currency("£")  # what nb.setup does with settings.currency
    try:
        assert charts.axis_formatter("currency", "en").format_ticks([0, 1e6]) == ["£0", "£1M"]
    finally:
        fmt.use_currency("¥")


def test_a_legend_covering_data_is_moved_off_it():
    import matplotlib.pyplot as plt

    from opsnb.render import charts, ui

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2, 3], [10, 10, 10, 10], label="flat")  # a line along the top, where loc='upper right' sits
    ax.plot([0, 1, 2, 3], [0, 3, 6, 9.8], label="rising")
    ax.legend(loc="upper right")
    fig.canvas.draw()
    assert charts.legend_overlaps(ax)
    assert charts.keep_legends_off_data(fig) == 0 and not charts.legend_overlaps(ax)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 10], label="a")
    ax.legend(loc="upper left")
    html = ui.figure(ax)._repr_html_()  # the same check runs on every chart of the report
    assert "data-legend-covers-data" not in html


# ---------------------------------------------------------------- no chart text over another (issue 32)


def _stacked_panels(titles: list[str]):
    """Panels of monthly ticks drawn as the problems page's anomaly chart was: each title prints over the date
    ticks of the panel above."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(titles), 1, figsize=(8.0, 2.6 * len(titles)))  # as that chart was drawn
    x = pd.date_range("2025-11-01", periods=60, freq="W")
    for a, title in zip(axes, titles, strict=True):
        a.plot(x, range(60))
        a.set_title(title)
    return fig


def test_overlapping_texts_are_found_by_their_outlines():
    fig = _stacked_panels(["weekly churn", "DAU", "daily paying conversion"])
    found = charts.text_overlaps(fig)
    assert any("'DAU' (title)" in f and "(x tick)" in f for f in found)
    assert all(" × " in f for f in found)
    # a rotated label is a slanted box, not its bounding box: two slanted neighbours that do not touch are apart
    assert not charts.outlines_overlap(((0, 0), (10, 10), (8, 12), (-2, 2)), ((14, 0), (24, 10), (22, 12), (12, 2)))
    assert charts.outlines_overlap(((0, 0), (10, 0), (10, 10), (0, 10)), ((5, 5), (15, 5), (15, 15), (5, 15)))
    assert not charts.outlines_overlap(((0, 0), (10, 0), (10, 10), (0, 10)), ((10.5, 0), (20, 0), (20, 10), (10.5, 10)))


def test_subplot_titles_are_spaced_off_the_ticks_above():
    fig = _stacked_panels(["weekly churn", "DAU", "daily paying conversion"])
    assert charts.text_overlaps(fig)
    assert charts.keep_text_apart(fig) == [] and charts.text_overlaps(fig) == []


def test_crowded_x_tick_labels_are_slanted():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    names = ["Organic search", "In-feed ads", "WeChat private traffic", "Referrals", "Xiaohongshu", "Douyin"]
    ax.bar(names, range(6))
    assert any("(x tick) × " in f for f in charts.text_overlaps(fig))
    assert charts.keep_text_apart(fig) == []
    assert ax.get_xticklabels()[0].get_rotation() in charts.TICK_ANGLES


def test_a_chart_with_its_own_layout_keeps_it_and_is_marked():
    fig = _stacked_panels(["weekly churn", "DAU"])
    ui.fixed_layout(fig)
    html = ui.figure(fig, alt="x")._repr_html_()
    assert "data-text-overlaps=" in html and "DAU" in html.split("data-text-overlaps=")[1].split('"')[1]
    html = ui.figure(_stacked_panels(["weekly churn", "DAU"]), alt="x")._repr_html_()
    assert "data-text-overlaps" not in html  # laid out again by ui.figure: nothing left to mark


def test_chart_values_show_by_their_display_names():
    import matplotlib.pyplot as plt

    from opsnb.render import i18n

    i18n.use_labels({"小程序": {"en": "Mini program"}, "华东": {"en": "East China"}}, "en")
    try:
        ax = charts.bar(pd.DataFrame({"p": ["App", "小程序", "Web"], "n": [3, 2, 1]}), x="p", y="n", unit="count",
                        lang="en")
        ax.plot([0, 2], [1, 1], label="华东")
        ax.legend()
        texts = svg_texts(ax)  # through ui.figure, as every chart of a page
        assert "Mini program" in texts and "East China" in texts and "小程序" not in texts and "华东" not in texts
    finally:
        i18n.use_labels({}, "zh")
        plt.close("all")
