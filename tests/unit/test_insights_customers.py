"""The insights part-B view: every subsection renders in zh and en on a small pack."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from opsnb.nb import Context, render
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period

matplotlib.use("Agg")

KEYS = ["insights.channels", "insights.rfm", "insights.regions", "insights.attribution"]


def _pack() -> object:
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4"],
                          "signup_at": ["2026-09-05 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00"],
                          "channel": ["ads", "ads", "seo", "<b>kol</b>"], "region": ["bj", "sh", "sh", None]})
    events = pd.DataFrame({"user_id": ["u1", "u2", "u3", "u4"], "event": ["visit"] * 4,
                           "ts": ["2026-10-01 10:00", "2026-10-02 10:00", "2026-10-03 10:00", "2026-10-04 10:00"]})
    orders = pd.DataFrame({"order_id": ["1", "2", "3", "4"], "user_id": ["u1", "u2", "u3", "u1"],
                           "ts": ["2026-10-05 10:00", "2026-10-06 10:00", "2026-10-07 10:00", "2026-09-07 10:00"],
                           "amount": [100.0, 50.0, 30.0, 20.0], "channel": ["ads", "ads", "seo", "ads"]})
    tp = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u4"], "channel": ["seo", "ads", "ads", "<b>kol</b>"],
                       "ts": ["2026-10-01 10:00", "2026-10-04 10:00", "2026-10-05 10:00", "2026-10-05 10:00"]})
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-01", "2026-10-02"], "channel": ["ads", "seo", "<b>kol</b>"],
                          "cost": [50.0, 5.0, 80.0], "impressions": [1000, 100, 500], "clicks": [20, 4, 5]})
    return from_frames({"users": users, "events": events, "orders": orders, "touchpoints": tp,
                        "channel_spend": spend})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_subsection_renders(lang: str) -> None:
    ctx = Context(Settings(lang=lang), _pack(), Period.parse("2026-10"))
    for key in KEYS:
        result, objs = render(ctx, key)
        assert result is not None, key
        html = "".join(o._repr_html_() for o in objs if hasattr(o, "_repr_html_"))
        assert "<b>kol</b>" not in html  # data values are escaped
        bullets = objs[-1]
        assert "<li>" in bullets._repr_html_(), key


def test_channel_bullets_exact_zh() -> None:
    from opsnb.sections.insights_customers import channels_bullets

    ctx = Context(Settings(lang="zh"), _pack(), Period.parse("2026-10"))
    result, _ = render(ctx, "insights.channels")
    lines = channels_bullets(result, ctx)
    # ranked: the largest budget mismatch first (kol 80/135 = 59.3% of the budget, no return)
    assert lines[0] == "预算错配：<b>kol</b>预算占比59.3%，回报占比仅0.0%，预算占比明显高于回报。"
    assert len(lines) <= 5 and not any(line.startswith("流量来源") for line in lines)


def test_empty_period_shows_note() -> None:
    ctx = Context(Settings(lang="en"), _pack(), Period.parse("2025-01"))
    for key in KEYS:
        result, objs = render(ctx, key)
        assert result is None
        assert "No data" in objs[-1]._repr_html_() or "no data" in objs[-1]._repr_html_().lower(), key


def test_small_bases_show_their_n_and_empty_rows_are_left_out() -> None:
    """With min_base 30 every base of this pack is small: ratios show their n, no channel is graded, RFM rows
    without customers are left out, and regions are not all folded away (nothing would be left to compare)."""
    from opsnb.sections import insights_customers as view

    ctx = Context(Settings(lang="zh"), _pack(), Period.parse("2026-10"))
    ch = view._channels(ctx)
    tab = view.channels_table(ch, ctx).formatted()
    assert tab["付费转化率"].tolist() == ["基数仅2", "基数仅1", "基数仅1"]
    assert tab["评级"].tolist() == ["不适用"] * 3
    assert view.channels_bullets(ch, ctx)[-1] == \
        "3个渠道的部分比率基数不足30人（表中标“基数仅n”）：这些渠道不评级，其比率也不作比较。"
    rfm = view.rfm_table(view._rfm(ctx), ctx).formatted()
    assert rfm["客户分层"].tolist() == ["即将沉睡", "流失风险客户"]
    r = view._regions(ctx)
    reg = view.regions_table(r, ctx).formatted()
    assert reg["地区"].tolist() == ["bj", "sh", "未知"] and r.folded == 0
    assert reg["GMV环比"].tolist() == ["基数仅1", "不适用", "不适用"]  # bj: one buyer in September
    ctx1 = Context(Settings(lang="zh", min_base=1), _pack(), Period.parse("2026-10"))
    assert view.regions_table(view._regions(ctx1), ctx1).formatted()["GMV环比"].tolist()[0] == "+400.0%"


def test_a_c_grade_advises_cutting_only_under_the_roi_threshold() -> None:
    from opsnb.sections import insights_customers as view

    s = Settings(lang="zh", min_base=1)
    ctx = Context(s, _pack(), Period.parse("2026-10"))
    lines = view.channels_bullets(view._channels(ctx), ctx)
    assert "低效渠道（C级）：<b>kol</b>（ROI 1:0.0，获客成本¥80.00），ROI低于1:1.0，建议压缩预算或优化投放。" in lines
    s.problems.roi_threshold = 0.0
    ctx = Context(s, _pack(), Period.parse("2026-10"))
    lines = view.channels_bullets(view._channels(ctx), ctx)
    assert any(line.startswith("相对较弱（C级）：<b>kol</b>（ROI 1:0.0") for line in lines)
