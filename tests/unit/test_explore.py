"""Explorers: widget callbacks recompute with the new values; batch mode renders a static fallback.

The pack (March 2026 review, data 5 January – 31 March):

* users u1–u3 came from ``ads``, u4–u6 from ``seo``;
* everyone but u5/u6 is first active on 5 January; u5 and u6 on 10 February;
* paid orders: u1 ¥100 (Jan), u2 ¥200 (Feb, c3) and ¥300 (Mar, c1), u5 ¥150 (Mar, c1), u4 ¥50 (Mar, c2);
  a refund row of u6 in March never counts;
* campaigns: c1 (1–15 Mar, cost 100), c2 (14–16 Mar, cost 0), c3 (10–20 Feb, cost 50).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402

from opsnb import explore  # noqa: E402
from opsnb.nb import Context  # noqa: E402
from opsnb.pack import from_frames  # noqa: E402
from opsnb.params import Label, RFMRule, Settings  # noqa: E402
from opsnb.periods import Period  # noqa: E402

MAR = Period.parse("2026-03")


def _pack():
    ev = [
        *[(u, "2026-01-05 09:00", "visit", p) for u, p in (("u1", "ios"), ("u2", "web"), ("u3", "ios"), ("u4", "web"))],
        *[(u, "2026-02-03 09:00", "visit", "web") for u in ("u1", "u2", "u4")],
        ("u5", "2026-02-10 09:00", "visit", "ios"), ("u6", "2026-02-10 09:00", "visit", "ios"),
        ("u1", "2026-03-31 10:00", "visit", "ios"),
        ("u2", "2026-03-05 09:00", "visit", "web"), ("u2", "2026-03-05 09:30", "register", "web"),
        ("u2", "2026-03-06 12:00", "purchase", "web"),
        ("u5", "2026-03-04 09:00", "visit", "ios"), ("u5", "2026-03-04 10:00", "register", "ios"),
        ("u5", "2026-03-10 09:00", "purchase", "ios"),
        ("u4", "2026-03-06 09:00", "visit", "web"), ("u4", "2026-03-20 09:00", "register", "web"),
    ]
    events = pd.DataFrame(ev, columns=["user_id", "ts", "event", "platform"])
    users = pd.DataFrame({
        "user_id": [f"u{i}" for i in range(1, 7)],
        "signup_at": ["2026-01-01"] * 4 + ["2026-03-04", "2026-02-10"],
        "channel": ["ads"] * 3 + ["seo"] * 3,
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "user_id": ["u1", "u2", "u2", "u5", "u4", "u6"],
        "ts": ["2026-01-10 10:00", "2026-02-12 10:00", "2026-03-06 12:00", "2026-03-10 09:00", "2026-03-15 10:00",
               "2026-03-21 10:00"],
        "amount": [100.0, 200.0, 300.0, 150.0, 50.0, -40.0],
        "status": ["paid", "paid", "paid", "paid", None, "refunded"],
        "campaign_id": [None, "c3", "c1", "c1", "c2", None],
    })
    campaigns = pd.DataFrame({
        "campaign_id": ["c1", "c2", "c3"], "name": ["Spring", "Flash", "Feb promo"],
        "type": ["promo", "flash", "promo"], "start": ["2026-03-01", "2026-03-14", "2026-02-10"],
        "end": ["2026-03-15", "2026-03-16", "2026-02-20"], "cost": [100.0, 0.0, 50.0],
    })
    return from_frames({"events": events, "users": users, "orders": orders, "campaigns": campaigns},
                       tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def pack():
    return _pack()


@pytest.fixture
def ctx(pack, tmp_path):
    s = Settings(lang="en")
    s.insights.retention_cohorts = 3
    s.insights.funnel_steps = ["visit", "register", "purchase"]
    s.insights.rfm_segments = [
        RFMRule(segment="Big", label=Label(zh="大客户", en="Big"), m=(3, 5)),
        RFMRule(segment="Small", label=Label(zh="小客户", en="Small"), m=(1, 2)),
    ]
    return Context(s, pack, MAR, "insights", *pack.day_range(), root=tmp_path)


@pytest.fixture(autouse=True)
def _lab(monkeypatch):
    monkeypatch.delenv(explore.BATCH_ENV, raising=False)


def _bundles(objs):
    f = DisplayFormatter()
    return [f.format(o)[0] for o in objs]


def _html(outputs) -> str:
    return "".join(o["data"].get("text/html", "") for o in outputs)


def _vals(series):
    return [None if pd.isna(v) else v for v in series]


# ---------------------------------------------------------------- KPI trend


def test_kpi_trend_recomputes_on_kpi_months_and_period(ctx):
    ex = explore.KPITrend(ctx, kpi="gmv", months=3)
    r = ex.last_result
    assert r["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    # January starts before the data (5 Jan): undefined, with its reason, never a partial sum
    assert _vals(r["actual"]) == [None, 200.0, 500.0]
    assert r["reason"].tolist()[0] == "partly_covered"

    ex.kpi.value = "orders"
    assert _vals(ex.last_result["actual"]) == [None, 1.0, 3.0]
    ex.months.value = 2
    assert ex.last_result["month"].tolist() == ["2026-02", "2026-03"]
    ex.period.value = "2026-02"
    assert ex.last_result["month"].tolist() == ["2026-01", "2026-02"]
    assert _vals(ex.last_result["actual"]) == [None, 1.0]
    assert ex.ctx.period == Period.parse("2026-02")
    # the notebook's context is untouched
    assert ctx.period == MAR and set(ctx.cache) <= {"_missing_tables"}  # no results cached (page state only)
    html = _html(ex.out.outputs)
    assert "<svg" in html and "<table" in html and "Orders: actual and target, last 2 months" in html


def test_kpi_trend_ratio_kpi_and_unknown_option(ctx):
    ex = explore.KPITrend(ctx, kpi="conversion_rate", months=3, period="2026-03")
    # March: 4 active users (u1, u2, u4, u5), paying u2, u5, u4 → 3/4
    assert ex.last_result["actual"].tolist()[-1] == pytest.approx(0.75)
    assert "75.0%" in _html(ex.out.outputs)
    with pytest.raises(TypeError, match="unknown option"):
        explore.KPITrend(ctx, colour="red")


# ---------------------------------------------------------------- cohort heatmap


def _rates(long: pd.DataFrame) -> dict[tuple[str, int], float | None]:
    return {(c, int(k)): (None if pd.isna(r) else round(float(r), 4))
            for c, k, r in zip(long["cohort_label"], long["period"], long["rate"], strict=True)}


def test_cohort_heatmap_channel_interval_and_mode(ctx):
    ex = explore.CohortHeatmap(ctx)
    long = ex.last_result.long
    assert dict(zip(long["cohort_label"], long["cohort_size"], strict=False)) == {"2026-01": 4, "2026-02": 2,
                                                                                  "2026-03": 0}
    assert _rates(long) == {("2026-01", 0): 1.0, ("2026-01", 1): 0.75, ("2026-01", 2): 0.75,
                            ("2026-02", 0): 1.0, ("2026-02", 1): 0.5, ("2026-03", 0): None}
    assert ex.channel.options[0][1] == explore.ALL
    assert sorted(v for _, v in ex.channel.options[1:]) == ["ads", "seo"]

    ex.channel.value = "ads"
    r = _rates(ex.last_result.long)
    assert r[("2026-01", 1)] == pytest.approx(0.6667) and r[("2026-01", 2)] == pytest.approx(0.6667)
    assert r[("2026-02", 0)] is None  # nobody from ads first came in February
    ex.channel.value = "seo"
    r = _rates(ex.last_result.long)
    assert (r[("2026-01", 1)], r[("2026-01", 2)], r[("2026-02", 1)]) == (1.0, 1.0, 0.5)

    ex.interval.value = "week"  # nobody from seo is first active in the last three weeks: a note
    assert ex.last_result is None
    assert "no users in any retention cohort" in _html(ex.out.outputs)
    ex.mode.value = "recurring"  # recurring: u4 (week 12) and u5 (week 10 is outside) are back in
    res = ex.last_result
    assert (res.interval, res.mode) == ("week", "recurring")
    assert res.long["cohort_label"].drop_duplicates().tolist() == ["2026-W12", "2026-W13", "2026-W14"]
    assert res.long.groupby("cohort_label")["cohort_size"].first().tolist() == [1, 0, 0]
    assert "<svg" in _html(ex.out.outputs)


# ---------------------------------------------------------------- funnel


def _split(res) -> dict[tuple[str, int], int]:
    return {(g, int(s)): int(n) for g, s, n in zip(res.split["group"], res.split["step"], res.split["users"],
                                                   strict=True)}


def test_funnel_by_segment_breakdown_and_window(ctx):
    ex = explore.FunnelBySegment(ctx)
    assert ex.last_result.overall["users"].tolist() == [4, 3, 2]  # u4 registers exactly 14 days later
    assert _split(ex.last_result) == {("ads", 1): 2, ("ads", 2): 1, ("ads", 3): 1,
                                      ("seo", 1): 2, ("seo", 2): 2, ("seo", 3): 1}
    ex.window.value = 7
    assert ex.last_result.overall["users"].tolist() == [4, 2, 2]
    ex.window.value = 3  # u5 buys 6 days after the visit: outside a 3-day window
    assert ex.last_result.overall["users"].tolist() == [4, 2, 1]
    ex.by.value = "platform"
    assert ex.last_result.by == "platform"
    assert _split(ex.last_result) == {("ios", 1): 2, ("ios", 2): 1, ("ios", 3): 0,
                                      ("web", 1): 2, ("web", 2): 1, ("web", 3): 1}
    ex.period.value = "2026-02"  # February: five visitors, nobody registered
    assert ex.last_result.overall["users"].tolist() == [5, 0, 0]
    html = _html(ex.out.outputs)
    assert "<svg" in html and "<table" in html


# ---------------------------------------------------------------- campaigns


def test_campaign_comparer_picks_and_period(ctx):
    ex = explore.CampaignComparer(ctx)
    r = ex.last_result
    assert r["campaign_id"].tolist() == ["c1", "c2"]  # ranked by ROI; c2 has none (zero cost)
    assert r["gmv"].tolist() == [450.0, 50.0]
    assert r["orders"].tolist() == [2, 1]
    assert float(r["roi"].iloc[0]) == pytest.approx(4.5) and pd.isna(r["roi"].iloc[1])
    assert int(r["new_users"].iloc[0]) == 1 and float(r["cac"].iloc[0]) == pytest.approx(100.0)
    html = _html(ex.out.outputs)
    assert "1:4.5" in html and "n/a (zero cost)" in html

    ex.b.value = "c1"
    assert ex.last_result["campaign_id"].tolist() == ["c1", "c1"]
    ex.period.value = "2026-02"
    assert [v for _, v in ex.a.options] == ["c3"]
    r = ex.last_result
    assert r["campaign_id"].tolist() == ["c3", "c3"]
    assert r["gmv"].tolist() == [200.0, 200.0] and float(r["roi"].iloc[0]) == pytest.approx(4.0)
    ex.period.value = "2026-01"  # no campaign in January: a note, not an error
    assert ex.last_result is None
    assert "opsnb-note" in _html(ex.out.outputs)


# ---------------------------------------------------------------- RFM


def test_rfm_drilldown_segment_top_and_period(ctx):
    ex = explore.RFMDrilldown(ctx)
    r = ex.last_result
    # monetary scores over 4 customers: u4 1, u1 2, u5 3, u2 4 → Big = {u5, u2}
    assert (r.segment, r.customers, r.revenue) == ("Big", 2, 650.0)
    assert r.share == pytest.approx(0.5) and r.revenue_share == pytest.approx(650 / 800)
    assert r.top["user_id"].tolist() == ["u2", "u5"]
    assert r.top["frequency"].tolist() == [2, 1]
    assert r.top["recency"].tolist() == [26, 22]

    ex.segment.value = "Small"
    r = ex.last_result
    assert (r.customers, r.revenue) == (2, 150.0) and r.top["user_id"].tolist() == ["u1", "u4"]
    ex.top_n.value = 1
    assert ex.last_result.top["user_id"].tolist() == ["u1"]
    ex.period.value = "2026-02"  # end of February: u1 ¥100 and u2 ¥200, both scored 1–2 on M
    r = ex.last_result
    assert (r.customers, r.revenue, r.revenue_share) == (2, 300.0, 1.0)
    ex.segment.value = "Big"
    assert ex.last_result.customers == 0 and ex.last_result.top.empty
    assert "No customer in the Big segment." in _html(ex.out.outputs)


# ---------------------------------------------------------------- display modes


EXPLORERS = [explore.kpi_trend, explore.cohort_heatmap, explore.funnel_by_segment, explore.campaign_comparer,
             explore.rfm_drilldown]


@pytest.mark.parametrize("fn", EXPLORERS, ids=lambda f: f.__name__)
def test_batch_mode_static_fallback(fn, ctx, monkeypatch):
    monkeypatch.setenv(explore.BATCH_ENV, "1")
    shown: list = []
    monkeypatch.setattr(explore, "_display", lambda *objs: shown.extend(objs))
    ex = fn(ctx)
    assert ex.box is None and ex.controls == {}
    bundles = _bundles(shown)
    assert all(explore.WIDGET_MIME not in b for b in bundles)
    html = "".join(b.get("text/html", "") for b in bundles)
    if ex.same_as is not None:  # its default view is a subsection of the page: pointed to, not repeated
        assert "<svg" not in html and "<table" not in html and "subsection above" in html
    else:
        assert "<svg" in html or "<table" in html
        assert "Interactive exploration is available in JupyterLab" in html
    assert "Loading widget" not in html
    assert repr(ex) == "" and DisplayFormatter().format(ex)[0] == {}  # a notebook cell shows nothing extra


def test_lab_mode_displays_the_widget_box(ctx, monkeypatch):
    shown: list = []
    monkeypatch.setattr(explore, "_display", lambda *objs: shown.extend(objs))
    ex = explore.kpi_trend(ctx)
    assert shown == [ex.box]
    assert explore.WIDGET_MIME in _bundles(shown)[0]
    assert "<svg" in _html(ex.out.outputs)


def test_heading_and_period_options(ctx, monkeypatch):
    shown: list = []
    monkeypatch.setattr(explore, "_display", lambda *objs: shown.extend(objs))
    explore.heading(ctx)
    assert shown[0].html == '<h2 id="explore" class="opsnb-h">Explore</h2>'
    assert explore.period_options(ctx) == ["2026-03", "2026-02", "2026-01", "2026-Q1", "2026"]


def test_chinese_texts(pack, tmp_path, monkeypatch):
    monkeypatch.setenv(explore.BATCH_ENV, "1")
    zh = Context(Settings(lang="zh"), pack, MAR, "insights", *pack.day_range(), root=tmp_path)
    ex = explore.CampaignComparer(zh)
    html = "".join(b.get("text/html", "") for b in _bundles(ex.outputs()))
    assert "活动对比" in html and "交互探索仅在 JupyterLab 中可用" in html and "不适用（零成本" not in html


def test_rfm_drilldown_scores_and_segments_as_the_insights_section(ctx):
    """With R's scoring and segment map set, the explorer shows the section's segments and counts."""
    from opsnb.metrics.rfm import rfm_segments

    ctx.settings.insights.rfm_scoring = "quantile_breaks"
    ctx.settings.insights.rfm_segment_map = "r_rfm"
    ex = explore.rfm_drilldown(ctx, interactive=False)
    ins = ctx.settings.insights
    want = rfm_segments(ctx.pack, ctx.effective_period, ins.rfm_rules, scoring="quantile_breaks")
    assert [s for _, s in ex._segments(ex.ctx)][:-1] == [r.segment for r in ins.rfm_rules]
    got = ex._summary(ex.ctx)
    assert got[["segment", "customers"]].to_dict("records") == want[["segment", "customers"]].to_dict("records")
    assert ex.last_result.customers == int(want.set_index("segment").loc[ex.last_result.segment, "customers"])


def test_funnel_explorer_with_one_unknown_channel_shows_no_split(monkeypatch):
    """Everyone's channel unknown and no one drops: a note and a sentence, not a one-group "unknown" chart."""
    from tests.unit.test_insights_activity_view import _one_of_each_pack

    monkeypatch.setenv(explore.BATCH_ENV, "1")
    shown: list = []
    monkeypatch.setattr(explore, "_display", lambda *objs: shown.extend(objs))
    pk = _one_of_each_pack()
    s = Settings(lang="zh")
    s.insights.funnel_steps = ["visit", "purchase"]
    explore.funnel_by_segment(Context(s, pk, Period.parse("2026-03"), "insights", *pk.day_range()))
    html = "".join(b.get("text/html", "") for b in _bundles(shown))
    assert "未知" not in html and "<svg" not in html and "无法拆分；整体漏斗见上文" in html
