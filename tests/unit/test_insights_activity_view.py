"""The insights view, part A: written-review bullets, masked heatmap, tables and the render path."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from opsnb.metrics import retention as rm  # noqa: E402
from opsnb.nb import Context, render  # noqa: E402
from opsnb.pack import from_frames  # noqa: E402
from opsnb.params import Settings  # noqa: E402
from opsnb.periods import Period  # noqa: E402
from opsnb.render import ui  # noqa: E402
from opsnb.sections import insights_activity as view  # noqa: E402

MAR = Period.parse("2026-03")


def _pack():
    rows = []
    # 20 users active in January; 10 of them in February, 12 in March (a 5-point rise on the cohort)
    for i in range(20):
        rows.append((f"u{i}", "2026-01-10 09:00", "visit", "ios" if i % 2 else "web"))
        if i < 10:
            rows.append((f"u{i}", "2026-02-10 09:00", "visit", "ios"))
        if i < 12:
            rows.append((f"u{i}", "2026-03-10 09:00", "visit", "ios"))
    # February cohort: 10 users, 6 back in March
    for i in range(20, 30):
        rows.append((f"u{i}", "2026-02-05 09:00", "visit", "web"))
        rows.append((f"u{i}", "2026-02-05 09:05", "register", "web"))
        if i < 26:
            rows.append((f"u{i}", "2026-03-11 09:00", "visit", "web"))
    rows.append(("u0", "2026-03-20 22:00", "register", "ios"))
    rows.append(("u1", "2026-03-31 10:00", "visit", "ios"))  # data through 31 March: March is complete
    ev = pd.DataFrame(rows, columns=["user_id", "ts", "event", "platform"])
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(30)], "signup_at": "2026-01-01",
                          "channel": ["seo" if i % 3 else "ads" for i in range(30)]})
    return from_frames({"events": ev, "users": users}, tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def pack():
    return _pack()


def _ctx(pack, lang: str = "zh") -> Context:
    s = Settings(lang=lang)
    s.insights.retention_cohorts = 3
    s.insights.lifecycle_interval = "month"
    s.insights.lifecycle_periods = 3
    s.insights.funnel_steps = ["visit", "register"]
    return Context(s, pack, MAR, "insights", *pack.day_range())


def test_retention_bullet_written_review_style(pack) -> None:
    long = rm.retention(pack, MAR, interval="month", cohorts=3)
    v = view.RetentionView(long, rm.retention_average(long), "month", "first_time")
    zh = view.retention_bullets(v, "zh")
    # Jan cohort: 10/20 = 50.0% next month; Feb cohort: 6/10 = 60.0% → 10 points higher
    assert zh[0] == "最新完整同期群（2026-02）次月留存率60.0%，较上一同期群高10.0个百分点。"
    assert zh[1] == "第1月加权平均留存率53.3%（2个同期群）。"
    en = view.retention_bullets(v, "en")
    assert en[0] == "The latest complete cohort (2026-02) has next-month retention of 60.0%, up 10.0 pp on the cohort before."


def test_heatmap_masks_incomplete_cells(pack) -> None:
    ev = pd.DataFrame({"user_id": ["a", "a"], "ts": ["2026-03-02", "2026-03-10"], "event": "visit"})
    p = from_frames({"events": ev})
    long = rm.retention(p, MAR, interval="week", cohorts=2)
    rates, mask = view.retention_matrix(long)
    assert mask.values.tolist() == [[False, True], [True, True]]
    ax = view.retention_chart(view.RetentionView(long, rm.retention_average(long), "week", "first_time"))
    texts = [tx.get_text() for tx in ax.texts]
    assert texts == ["100%"]  # the incomplete cells are blank, not "0%"
    plt.close(ax.figure)
    table = view.retention_table(view.RetentionView(long, rm.retention_average(long), "week", "first_time"), "zh")
    assert "未满周期" in table.data.values.tolist()[0]


def test_every_subsection_renders_in_both_languages(pack) -> None:
    ctx = _ctx(pack, "zh")
    for sub in view.SUBSECTIONS:  # the full render path (charts included) in zh
        result, objs = render(ctx, sub.key)
        assert result is not None, sub.key
        kinds = [type(o).__name__ for o in objs]
        assert kinds[:2] == ["Html", "Html"] and "Table" in kinds, (sub.key, kinds)
        html = "".join(o._repr_html_() for o in objs)
        assert "nan" not in html and "inf%" not in html
    plt.close("all")
    en = _ctx(pack, "en")
    for sub in view.SUBSECTIONS:  # tables and bullets in en (charts are language-neutral code)
        result = sub.compute(en)
        assert sub.table is not None and sub.bullets is not None
        assert "nan" not in sub.table(result, en)._repr_html_()
        lines = sub.bullets(result, en)
        assert lines and not any("\u4e00" <= ch <= "\u9fff" for line in lines for ch in line), lines


def test_activity_and_funnel_bullets(pack) -> None:
    ctx = _ctx(pack)
    res = view.SUBSECTIONS[0].compute(ctx)
    lines = view.activity_bullets(res, "zh")
    # March: 12 + 6 users on one day each, u1 again on 03-31 → 19 user-days / 31 days; MAU 18
    assert lines[0].startswith("日均活跃用户0.6，环比")
    assert lines[1] == "月活跃用户18，环比-10.0%。"  # February MAU 20
    f = view.SUBSECTIONS[5].compute(ctx)
    fl = view.funnel_bullets(f, "zh")
    assert fl[0] == "漏斗整体转化率5.6%：18名用户完成“访问”，其中1人在14天内完成“注册”。"  # events by display name
    assert f.by == "channel"


def test_nodata_note_when_events_missing() -> None:
    p = from_frames({"users": pd.DataFrame({"user_id": ["a"], "signup_at": ["2026-03-01"]})})
    ctx = Context(Settings(), p, MAR, "insights")
    result, objs = render(ctx, "insights.funnel")
    assert result is None and isinstance(objs[-1], ui.Html)


def _one_of_each_pack():
    """Three users on Web only, every visitor purchases the same minute, nobody has a channel."""
    ev = pd.DataFrame([(f"w{i}", f"2026-03-0{i + 1} 10:00", e, "Web") for i in range(3) for e in ("visit", "purchase")],
                      columns=["user_id", "ts", "event", "platform"])
    users = pd.DataFrame({"user_id": ["w0", "w1", "w2"], "signup_at": "2026-03-01", "channel": [None, None, None]})
    return from_frames({"events": ev, "users": users}, tz="Asia/Shanghai")


def test_nothing_to_compare_is_a_sentence_not_a_chart() -> None:
    """One platform, a 100% → 100% funnel and a single unknown channel: sentences, no one-bar charts."""
    pk = _one_of_each_pack()
    s = Settings(lang="zh")
    s.insights.funnel_steps = ["visit", "purchase"]
    ctx = Context(s, pk, MAR, "insights", *pk.day_range())
    _, objs = render(ctx, "insights.platforms")
    html = "".join(o._repr_html_() for o in objs)
    assert "<svg" not in html and "所有活跃用户都在Web上（3人）" in html
    fv = view._funnel(ctx)
    assert fv.flat and fv.split is None  # one (unknown) channel is not a split
    assert view.funnel_chart(fv) is None and view.funnel_table(fv, "zh") is None
    assert view.funnel_bullets(fv, "zh") == [
        "每位完成“访问”的用户都完成了“购买”（3人，100%）：该数据中各步骤由第一步决定，漏斗不提供转化信息。"]
    _, objs = render(ctx, "insights.channels")
    text = "".join(o._repr_html_() for o in objs)
    assert "<svg" not in text and "没有用户的获客渠道" in text and "未知" not in text
