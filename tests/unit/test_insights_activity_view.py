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
from opsnb.sections import insights_cohorts as cohorts  # noqa: E402
from opsnb.sections import insights_funnel as funnel  # noqa: E402

MAR = Period.parse("2026-03")
#: Activity, platforms, cohorts (retention, D-N, lifecycle) and the funnel: the insights views of part A.
PART_A = [*view.SUBSECTIONS, *cohorts.SUBSECTIONS, *funnel.SUBSECTIONS]


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
    """The latest complete cohort against the cohorts before it: a gap is claimed only when Newcombe's
    interval excludes 0, and a cohort under min_base is shown with its n and no verdict."""
    long = rm.retention(pack, MAR, interval="month", cohorts=3)
    v = cohorts.RetentionView(long, rm.retention_average(long), "month", "first_time")  # min_base 30
    # Jan cohort: 10/20 = 50.0% next month; Feb cohort: 6/10 = 60.0%, on 10 users
    assert cohorts.retention_bullets(v, "zh") == ["最新完整同期群（2026-02）仅10人，不足30人，次月留存率60.0%仅供参考，不作比较。"]
    v = cohorts.RetentionView(long, rm.retention_average(long), "month", "first_time", min_base=5)
    assert cohorts.retention_bullets(v, "zh")[0] == \
        "最新完整同期群（2026-02，10人）次月留存率60.0%，与此前1个同期群的平均50.0%无显著差异。"
    en = cohorts.retention_bullets(v, "en")
    assert en[0] == ("The latest complete cohort (2026-02, 10 users) has next-month retention of 60.0%, "
                     "no different from the 50.0% of the 1 earlier cohort(s).")
    # 60 of 100 against 500 of 1,000: a real gap (Newcombe's interval excludes 0)
    big = long.copy()
    big["cohort_size"] = big["cohort_size"] * 100
    big["users"] = big["users"] * 100
    big.loc[(big["cohort_label"] == "2026-02") & (big["period"] == 1), "users"] = 600
    big.loc[(big["cohort_label"] == "2026-01") & (big["period"] == 1), "users"] = 500
    vb = cohorts.RetentionView(big, rm.retention_average(big), "month", "first_time")
    assert cohorts.retention_bullets(vb, "zh")[0] == ("最新完整同期群（2026-02，1,000人）次月留存率60.0%，高于此前1个同期群的平均"
                                                    "25.0%（高35.0个百分点，差异显著）。")


def test_heatmap_masks_incomplete_cells(pack) -> None:
    ev = pd.DataFrame({"user_id": ["a", "a"], "ts": ["2026-03-02", "2026-03-10"], "event": "visit"})
    p = from_frames({"events": ev})
    long = rm.retention(p, MAR, interval="week", cohorts=2)
    rates, mask = cohorts.retention_matrix(long)
    assert mask.values.tolist() == [[False, True], [True, True]]
    ax = cohorts.retention_chart(cohorts.RetentionView(long, rm.retention_average(long), "week", "first_time"))
    texts = [tx.get_text() for tx in ax.texts]
    assert texts == ["100%"]  # the incomplete cells are blank, not "0%"
    plt.close(ax.figure)
    table = cohorts.retention_table(cohorts.RetentionView(long, rm.retention_average(long), "week", "first_time"), "zh")
    assert "未满周期" in table.data.values.tolist()[0]


def test_every_subsection_renders_in_both_languages(pack) -> None:
    ctx = _ctx(pack, "zh")
    for sub in PART_A:  # the full render path (charts included) in zh
        result, objs = render(ctx, sub.key)
        assert result is not None, sub.key
        kinds = [type(o).__name__ for o in objs]
        assert kinds[:2] == ["Html", "Html"] and "Table" in kinds, (sub.key, kinds)
        html = "".join(o._repr_html_() for o in objs)
        assert "nan" not in html and "inf%" not in html
    plt.close("all")
    en = _ctx(pack, "en")
    for sub in PART_A:  # tables and bullets in en (charts are language-neutral code)
        result = sub.compute(en)
        assert sub.table is not None and sub.bullets is not None
        assert "nan" not in sub.table(result, en)._repr_html_()
        lines = sub.bullets(result, en)
        assert lines and not any("\u4e00" <= ch <= "\u9fff" for line in lines for ch in line), lines


def test_activity_and_funnel_bullets(pack) -> None:
    ctx = _ctx(pack)
    res = view.SUBSECTIONS[0].compute(ctx)
    lines = view.activity_bullets(res, "zh")
    # March: 20 user-days / 31 days over MAU 18; February: 20 / 28 over MAU 20 → both 3.6% as shown
    assert lines[0] == "活跃下滑：日均活跃用户环比-9.7%，月活跃用户环比-10.0%，粘性持平于3.6%。"
    assert lines[1] == "单日活跃在3月10日最高（12）；本期多数日子无人活跃。"  # the median day has nobody
    f = funnel.SUBSECTIONS[0].compute(ctx)
    fl = funnel.funnel_bullets(f, "zh")
    # entrants: March visitors not registered before (u20-u25 registered in February); u0 registers 03-20
    assert fl[0] == ("漏斗整体转化率8.3%：入口人群为本期首次“访问”时尚未完成“注册”及之后步骤的用户，共12人"
                     "（另有6名本期“访问”用户此前已完成“注册”等后续步骤，不计入）；其中1人在14天内完成“注册”。")
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
    fv = funnel._funnel(ctx)
    assert fv.flat and fv.split is None  # one (unknown) channel is not a split
    assert funnel.funnel_chart(fv) is None and funnel.funnel_table(fv, "zh") is None
    assert funnel.funnel_bullets(fv, "zh") == [
        "每位完成“访问”的用户都完成了“购买”（3人，100%）：该数据中各步骤由第一步决定，漏斗不提供转化信息。"]
    _, objs = render(ctx, "insights.channels")
    text = "".join(o._repr_html_() for o in objs)
    assert "<svg" not in text and "没有用户的获客渠道" in text and "未知" not in text


def test_platform_changes_need_a_base_and_d_n_facts_fall_with_n(pack) -> None:
    ctx = _ctx(pack)
    pv = view._platforms(ctx)  # March: ios 12, web 6; February: 10 each
    assert view.platforms_bullets(pv, "zh") == [
        "ios是活跃用户最多的平台，覆盖66.7%的月活用户；各平台用户数不足30人，环比不作比较。"]
    assert view.platforms_table(pv, "zh").formatted()["活跃用户环比"].tolist() == ["基数仅10", "基数仅6"]
    pv5 = view.PlatformView(pv.current, pv.previous, min_base=5)
    assert view.platforms_bullets(pv5, "zh") == [
        "web活跃用户环比-40.0%，降幅最大（现占月活33.3%）；其他平台：ios+20.0%。"]
    # D-N facts: keyed by the base's first-active days, one base per group, never rising with N
    s = Settings(lang="zh")
    s.insights.day_n = [1, 7, 30]
    ctx = Context(s, pack, MAR, "insights", *pack.day_range())
    fs = cohorts.day_n_facts(cohorts._day_n(ctx), ctx)
    new = [f for f in fs if f.key.startswith("retention.new.d")]
    assert [f.key for f in new] == [f"retention.new.d{n}@2026-02-01..2026-02-28" for n in (1, 7, 30)]
    assert all(a.value >= b.value for a, b in zip(new, new[1:], strict=False))
    assert {f.key: f.value for f in fs}["retention.new.base@2026-02-01..2026-02-28"] == 10


def test_activity_range_skips_closed_days_and_the_warm_up() -> None:
    """The lowest day is an open day after the first 28 days of the data (the user base is still being built)."""
    from datetime import date

    from opsnb.metrics.activity import ActivityResult, ActivitySummary

    days = pd.date_range("2026-01-01", "2026-02-28")
    dau = [5 if d.day == 1 and d.month == 1 else 0 if d == pd.Timestamp("2026-02-14") else 100 + (d.day % 7)
           for d in days]
    dau[days.get_loc(pd.Timestamp("2026-02-20"))] = 60
    daily = pd.DataFrame({"date": days, "dau": dau, "wau": 0, "mau": 0, "open": days != pd.Timestamp("2026-02-14")})
    p = Period(date(2026, 1, 1), date(2026, 3, 1), "quarter")
    res = ActivityResult(daily, ActivitySummary(p, 59, 1000, 100.0, 500, 0.2), None, None)
    lines = view.activity_bullets(res, "zh", first_day=date(2026, 1, 1))
    assert lines[0] == "日均活跃用户100，季度活跃用户500，粘性20.0%；上期无数据，无法比较。"
    assert lines[1] == ("单日活跃在2月20日最低（60，比本期日中位数103低41.7%），在2月6日最高（106）；"
                        "数据开始后的前28天不计入比较。")
    assert view.activity_bullets(res, "zh")[1].startswith("单日活跃在1月1日最低（5，")  # no first day given
