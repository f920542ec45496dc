"""Plan metrics: actions, weeks, budget reallocation, risks, plan targets round trip."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from opsnb import runfolder as rf
from opsnb.errors import NoData, ParamsError
from opsnb.metrics.plan import (
    actions,
    plan_targets,
    reallocation,
    risk_matrix,
    risks,
    week_plan,
)
from opsnb.pack import from_frames
from opsnb.params import Settings, validate
from opsnb.periods import Period

P = Period.parse("2026-10")
ACTIONS = pd.DataFrame(dict(
    action_id=["a1", "a2", "a3", "a4", "a5", "a6"],
    title=["会员召回", "渠道优化", "用户调研", "年度改版", "里程碑: 上线", "旧活动"],
    owner=["张三", "李四", "王五", "赵六", "张三", "李四"],
    start=["2026-10-01", "2026-09-01", "2026-11-03", "2026-11-01", "2026-11-20", "2026-08-01"],
    due=["2026-11-15", "2026-10-20", "2027-02-15", "2027-06-30", "2026-11-20", "2026-09-01"],
    status=["进行中", "in_progress", "planned", None, "planned", "done"],
    done_at=[None, None, None, None, None, "2026-09-01"],
))


def _root(tmp_path):
    (tmp_path / "params").mkdir()
    return tmp_path


def test_actions_status_overdue_horizon(tmp_path):
    df = actions(from_frames({"actions": ACTIONS}), P, Settings(), root=_root(tmp_path)).set_index("action_id")
    assert "a6" not in df.index  # done before the period
    assert df.loc["a2", "state"] == "overdue" and df.loc["a2", "days_late"] == 11  # due 10-20, as of 10-31
    assert df.loc["a1", "state"] == "in_progress" and not df.loc["a1", "overdue"]
    assert df.loc["a1", "horizon"] == "short" and df.loc["a3", "horizon"] == "mid" and df.loc["a4", "horizon"] == "long"
    assert df.loc["a4", "status"] == "planned"
    assert bool(df.loc["a5", "milestone"]) and not bool(df.loc["a1", "milestone"])
    assert list(df.index) == ["a2", "a1", "a5", "a3", "a4"]


def test_actions_as_of_is_passed_in_not_the_clock(tmp_path):
    df = actions(from_frames({"actions": ACTIONS}), P, Settings(), as_of=date(2026, 10, 15), root=_root(tmp_path))
    assert not df.set_index("action_id").loc["a2", "overdue"]


def test_actions_from_params_and_file(tmp_path):
    root = _root(tmp_path)
    (root / "params" / "actions").mkdir()
    (root / "params" / "actions" / "shop.yaml").write_text(
        "actions:\n  - {action_id: f1, title: 文件里的行动, owner: 钱七, start: 2026-11-01, due: 2026-11-30}\n"
        "  - {action_id: a1, title: 覆盖, owner: 张三, start: 2026-10-01, due: 2026-12-01, status: delayed}\n",
        encoding="utf-8")
    s = validate({"unit": "shop", "plan": {"actions": [
        {"action_id": "p1", "title": "params action", "owner": "Ann", "start": "2026-11-02", "due": "2026-11-02"}]}})
    df = actions(from_frames({"actions": ACTIONS}), P, s, root=root).set_index("action_id")
    assert df.loc["f1", "source"] == "file" and df.loc["p1", "source"] == "params"
    assert df.loc["a1", "title"] == "覆盖" and df.loc["a1", "status"] == "delayed"
    only = actions(from_frames({}), P, s, root=root)
    assert set(only.action_id) == {"f1", "a1", "p1"}
    (root / "params" / "actions" / "shop.yaml").write_text("- {action_id: x, title: t, owner: o, start: 2026-11-05, "
                                                          "due: 2026-11-01}\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="action 1"):
        actions(from_frames({}), P, s, root=root)


def test_empty_actions_is_nodata(tmp_path):
    with pytest.raises(NoData) as exc:
        actions(from_frames({}), P, Settings(), root=_root(tmp_path))
    assert exc.value.table == "actions"


def test_week_plan_next_month(tmp_path):
    acts = actions(from_frames({"actions": ACTIONS}), P, Settings(), root=_root(tmp_path))
    wp = week_plan(acts, P)
    assert wp.month.label == "2026-11"
    assert wp.weeks[0] == (date(2026, 11, 1), date(2026, 11, 7)) and wp.weeks[3] == (date(2026, 11, 22), date(2026, 11, 30))
    t = wp.table.set_index("action_id")
    assert "a2" not in t.index  # overdue in October, not active in November
    assert list(t.loc["a1", ["w1", "w2", "w3", "w4"]]) == [True, True, True, False]
    assert list(t.loc["a5", ["w1", "w2", "w3", "w4"]]) == [False, False, True, False]


def test_week_bullets_say_what_ends_and_starts_not_the_columns(tmp_path):
    from opsnb.nb import Context
    from opsnb.sections import plan as V

    pack = from_frames({"actions": ACTIONS})
    ctx = Context(Settings(lang="zh", unit="u"), pack, P, "plan", None, None, _root(tmp_path))
    wp = week_plan(actions(pack, P, Settings(), root=ctx.root), P)
    assert V.weeks_bullets(wp, ctx) == ["2026-11截止：会员召回（张三，11-15）、里程碑: 上线（张三，11-20）。",
                                        "2026-11启动：年度改版（赵六，11-01）、用户调研（王五，11-03）、里程碑: 上线（张三，11-20）。"]


def test_calendar_goal_is_the_quarters_target_and_the_rest_is_labelled(tmp_path):
    """An October review's calendar starts in November: Q4's goal is Q4's target (October + November +
    December), and what is left of it (November + December) is labelled as the rest."""
    from opsnb.metrics.calendar import marketing_calendar
    from opsnb.metrics.targets import annual_plan
    from opsnb.nb import Context
    from opsnb.sections import plan as V

    months = [f"2026-{m:02d}" for m in range(1, 11)] + [f"2025-{m:02d}" for m in range(1, 13)]
    orders = pd.DataFrame({"order_id": [str(i) for i in range(len(months))], "user_id": "u",
                           "ts": [f"{m}-10" for m in months], "amount": 100.0})
    kpis = pd.DataFrame({"metric": "gmv", "period": ["2026-10", "2026-11", "2026-12"], "target": [100.0, 200.0, 150.0]})
    pack = from_frames({"orders": orders, "kpis": kpis})
    s = Settings(lang="zh", unit="u")
    plan = annual_plan(pack, P, s)
    cal = marketing_calendar(pack, P, s, plan=plan)
    q4 = cal.themes.set_index("quarter").loc["2026-Q4"]
    assert q4["target"] == 450.0 and q4["rest_target"] == 350.0 and q4["rest_months"] == "2026-11–2026-12"
    ctx = Context(s, pack, P, "plan", None, None, _root(tmp_path))
    assert V.calendar_bullets(cal, ctx)[0] == "2026-Q4主题：召回，目标指标GMV：季度目标¥450.00（其中2026-11–2026-12剩余月份¥350.00）。"


SPEND = pd.DataFrame(dict(date=["2026-10-01", "2026-10-02", "2026-10-01", "2026-09-30"], channel=["A", "B", "C", "A"],
                          cost=[1000.0, 1000.0, 500.0, 777.0]))
ORDERS = pd.DataFrame(dict(order_id=["1", "2", "3", "4", "5", "6"], user_id="u",
                           ts=["2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08"],
                           amount=[5000.0, 1000.0, 1500.0, 200.0, 999.0, -30.0], channel=["A", "B", "C", "D", "A", "A"],
                           status=["paid", "paid", None, "paid", "cancelled", "refunded"]))


def test_reallocation_moves_share_and_preserves_total():
    r = reallocation(from_frames({"channel_spend": SPEND, "orders": ORDERS}), P, Settings())
    t = r.table.set_index("channel")
    assert t.loc["A", "roi"] == 5.0 and t.loc["B", "roi"] == 1.0 and t.loc["C", "roi"] == 3.0
    assert pd.isna(t.loc["D", "roi"]) and t.loc["D", "roi_reason"] == "no_cost" and t.loc["D", "role"] == "excluded"
    assert (t.loc["A", "role"], t.loc["B", "role"], t.loc["C", "role"]) == ("receiver", "donor", "keep")
    assert list(t.loc[["A", "B", "C"], "new_budget"]) == [1100.0, 900.0, 500.0]
    assert r.moved == 100.0 and r.total_before == r.total_after == 2500.0
    assert r.gmv_before == 7500.0 and r.expected_after == 7900.0
    assert t["change"].sum() == 0


def test_reallocation_total_exact_with_awkward_cents():
    spend = pd.DataFrame(dict(date="2026-10-01", channel=list("ABCDEFG"),
                              cost=[333.33, 0.07, 1000.01, 12.34, 99.99, 45.67, 0.01]))
    orders = pd.DataFrame(dict(order_id=list("1234567"), user_id="u", ts="2026-10-02", channel=list("ABCDEFG"),
                               amount=[1000.0, 1.0, 50.0, 7.0, 300.0, 10.0, 5.0]))
    r = reallocation(from_frames({"channel_spend": spend, "orders": orders}),
                     P, validate({"plan": {"reallocation_share": 0.37}}))
    assert round(sum(r.table["new_budget"]) * 100) == round(sum(spend.cost) * 100)
    assert round(r.total_after * 100) == round(r.total_before * 100)


def test_reallocation_needs_spend():
    with pytest.raises(NoData):
        reallocation(from_frames({"orders": ORDERS}), P, Settings())


def test_risk_register_and_matrix():
    pack = from_frames({"risks": pd.DataFrame(dict(risk=["人手不足", "预算削减", "系统故障", "竞品"],
                                                   likelihood=["3", "2", "1", ""], impact=["5", "3", "1", ""],
                                                   mitigation=["招聘", "", "演练", ""], owner=["HR", "", "IT", ""]))})
    s = validate({"plan": {"risks": [{"risk": "政策变化", "likelihood": 4, "impact": 4, "owner": "法务"}]}})
    reg = risks(pack, s)
    assert list(reg.risk) == ["政策变化", "人手不足", "预算削减", "系统故障", "竞品"]
    assert list(reg.level[:4]) == ["high", "high", "medium", "low"] and pd.isna(reg.level[4])
    m = risk_matrix(reg)
    assert m.shape == (5, 5) and int(m.to_numpy().sum()) == 4
    assert m.loc[3, 5] == 1 and m.loc[4, 4] == 1 and m.loc[1, 1] == 1


def test_plan_targets_round_trip(tmp_path):
    months = [p.strftime("%Y-%m") for p in pd.period_range("2025-01", periods=22, freq="M")]
    orders = pd.DataFrame(dict(order_id=[f"o{i}" for i in range(22)], user_id="u",
                               ts=[f"{m}-10" for m in months], amount=100.0))
    pack = from_frames({"orders": orders, "kpis": pd.DataFrame(dict(metric=["aov"], period=["2026-10"], target=[99.5]))})
    df = plan_targets(pack, P, Settings())
    assert list(df.columns) == ["metric", "period", "target", "source"]
    got = df.set_index("metric")
    assert got.loc["gmv", "target"] == 160.0 and got.loc["orders", "target"] == 2.0
    assert got.loc["aov", "target"] == 99.5
    assert set(df.period) == {"2026-11"} and set(df.source) == {"plan 2026-10"}
    unit_dir = tmp_path / "outputs" / "shop"
    path = rf.write_plan_targets(unit_dir / "2026-10", df)
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["plan_targets.csv"]  # no temp file left
    back = rf.previous_plan_targets(unit_dir, "2026-11", "2026-10")
    pd.testing.assert_frame_equal(back.astype(object), df.astype(object))
    assert rf.previous_plan_targets(unit_dir, "2026-12", "2026-11").empty  # that review published none


def _ctx(tmp_path, frames, lang="en"):
    from opsnb.nb import Context

    s = validate({"lang": lang, "unit": "shop"})
    return Context(s, from_frames(frames), P, section="plan", data_last_day=date(2026, 10, 31), root=_root(tmp_path))


def test_view_renders_every_subsection(tmp_path):
    from opsnb import nb
    from opsnb.sections.plan import SUBSECTIONS, next_actions

    acts = ACTIONS.assign(title=["Recall", "Channels", "Survey", "Revamp", "Launch", "Old"])
    months = [p.strftime("%Y-%m") for p in pd.period_range("2025-01", periods=22, freq="M")]
    orders = pd.concat([ORDERS, pd.DataFrame(dict(order_id=[f"h{i}" for i in range(22)], user_id="u", channel="A",
                                                  ts=[f"{m}-10" for m in months], amount=100.0))])
    frames = {"actions": acts, "orders": orders, "channel_spend": SPEND,
              "risks": pd.DataFrame(dict(risk=["<script>x</script>"], likelihood=[4], impact=[4]))}
    ctx = _ctx(tmp_path, frames)
    assert [s.key for s in SUBSECTIONS] == ["plan.actions", "plan.gantt", "plan.weeks", "plan.targets",
                                            "plan.calendar", "plan.budget", "plan.risks"]
    for sub in SUBSECTIONS:
        result, objs = nb.render(ctx, sub.key)
        assert result is not None, sub.key
        html = "".join(o._repr_html_() for o in objs if hasattr(o, "_repr_html_"))
        assert "<script>x" not in html
    assert next_actions(ctx, n=2) == ["Channels (李四, due 2026-10-20, Overdue)",
                                      "Recall (张三, due 2026-11-15, In progress)"]


def test_view_empty_actions_shows_a_note(tmp_path):
    from opsnb import nb
    from opsnb.sections.plan import next_actions

    ctx = _ctx(tmp_path, {}, lang="zh")
    result, objs = nb.render(ctx, "plan.actions")
    assert result is None
    note = objs[2]._repr_html_()
    assert "数据包中没有行动表" in note  # said like a missing table, by its display name…
    assert nb.render(ctx, "plan.gantt")[1] == []  # …once: the subsections that need it are left out
    assert next_actions(ctx) == []


# ---------------------------------------------------------------- action targets in their metric's unit (issue 18)


@pytest.mark.parametrize(
    ("metric", "value", "lang", "currency", "text"),
    [
        ("归因覆盖率", 0.95, "zh", "¥", "95.0%"),  # a ratio by its name
        ("会员复购率", 0.35, "zh", "¥", "35.0%"),
        ("GMV增长率", 0.2, "zh", "¥", "20.0%"),  # a rate of GMV is a ratio, not an amount
        ("GMV", 2e6, "zh", "¥", "¥200.0万"),  # the KPI's zh/en label
        ("GMV", 2e6, "en", "£", "£2.00M"),
        ("gmv", 2e6, "en", "£", "£2.00M"),  # the KPI's key
        ("Average order value", 350, "en", "£", "£350.00"),
        ("渠道ROI", 3.0, "zh", "¥", "1:3.0"),  # ROI-like
        ("roi", 3, "en", "¥", "1:3.0"),
        ("新增用户", 3000.0, "zh", "¥", "3,000"),  # a count
        ("Orders", 250000, "en", "¥", "250.0K"),
        ("转化率", 0.06, "zh", "¥", "6.0%"),  # part of the KPI label 付费转化率
        ("平均处理时长", 24.0, "zh", "¥", "24.0小时"),  # by keyword
        ("满意度", 4.5, "zh", "¥", "4.5"),
        ("获客成本", 85, "zh", "¥", "¥85.00"),
        ("某个自定义指标", 2e6, "zh", "¥", "2,000,000"),  # unknown: grouped, never 2e+06
        ("某个自定义指标", 0.5, "en", "¥", "0.5"),
        (None, 1234.5, "en", "¥", "1,234.5"),
        ("GMV", float("nan"), "zh", "¥", ""),
        ("GMV", None, "zh", "¥", ""),
    ],
)
def test_action_target_by_metric_unit(metric, value, lang, currency, text):
    from opsnb.sections.plan import action_target

    assert action_target(value, metric, Settings().goals.kpis, lang, currency=currency) == text


def test_action_target_declared_unit_wins():
    from opsnb.sections.plan import action_target, target_unit

    kpis = Settings().goals.kpis
    assert action_target(0.35, "某个自定义指标", kpis, "zh", unit="ratio") == "35.0%"
    assert action_target(3.0, "渠道ROI", kpis, "en", unit="ratio") == "300.0%"
    assert action_target(2e6, "GMV", kpis, "zh", currency="¥", unit="count") == "200.0万"
    assert target_unit("GMV", kpis, unit=float("nan")) == "currency"  # an empty unit cell: inferred
    assert target_unit("某个自定义指标", kpis) is None
    with pytest.raises(ValueError, match="unknown target unit 'percent' for metric 'x'; known: count, currency"):
        target_unit("x", kpis, unit="percent")


def test_actions_table_formats_targets(tmp_path):
    from opsnb.sections.plan import actions_table

    acts = ACTIONS.assign(metric=["归因覆盖率", "GMV", "渠道ROI", "新增用户", None, "复购率"],
                          target=["95%", "2000000", "3", "3000", None, "0.3"])
    ctx = _ctx(tmp_path, {"actions": acts}, lang="zh")
    df = actions(ctx.pack, P, ctx.settings, root=ctx.root)
    tab = actions_table(df, ctx).data.set_index("行动")
    assert tab["目标值"].to_dict() == {"渠道优化": "¥200.0万", "会员召回": "95.0%", "里程碑: 上线": "",
                                     "用户调研": "1:3.0", "年度改版": "3,000"}


def test_risk_matrix_marks_risks_by_number_as_in_the_table():
    from opsnb.render import ui
    from opsnb.sections.plan import risk_heatmap, risk_ids

    reg = pd.DataFrame({"risk": ["原材料（木材）成本上涨压缩毛利", "数据合规与个人信息保护要求趋严", "平台规则变化"],
                        "likelihood": [2, 2, 3], "impact": [4, 4, 3]})
    assert list(risk_ids(reg).values()) == ["R1", "R2", "R3"]
    svg = ui.figure(risk_heatmap(reg))._repr_html_()
    assert "R1 R2" in svg and "R3" in svg and "原材料" not in svg  # whole names are in the table, not cut in cells


def test_one_month_left_is_a_table_not_a_one_bar_chart():
    from opsnb.metrics.targets import AnnualPlan
    from opsnb.sections.plan import targets_chart

    one = pd.DataFrame({"metric": ["gmv"], "unit": ["currency"], "level": ["month"], "period": ["2011-12"],
                        "share": [0.09], "target": [759000.0], "actual": [None], "basis": ["kpis"],
                        "method": ["shares"]})
    assert targets_chart(AnnualPlan(2011, "rest_of_year", one, {}), None) is None


def test_status_is_judged_as_of_the_review_day_not_today(tmp_path):
    """The 2025 annual review run with data to 2026-10-31: the table's statuses describe 2026-10-31, so
    only dated facts count as of 2025-12-31 — nothing due or started in 2026 is delayed or done."""
    acts = pd.DataFrame(dict(
        action_id=["x", "y", "z", "w", "v"], title=["知识库", "老带新", "埋点", "召回", "积分"], owner="o",
        start=["2025-10-01", "2026-02-01", "2026-08-15", "2025-06-01", "2025-05-01"],
        due=["2026-03-31", "2026-04-30", "2026-10-15", "2025-11-30", "2025-09-30"],
        status=["done", "done", "delayed", "delayed", "done"],
        done_at=["2026-03-25", "2026-04-22", None, None, None]))
    events = pd.DataFrame({"user_id": ["u", "u"], "ts": ["2025-01-01 10:00", "2026-10-31 10:00"], "event": "visit"})
    pack = from_frames({"actions": acts, "events": events})
    year, root = Period.parse("2025"), _root(tmp_path)
    df = actions(pack, year, Settings(), as_of=date(2025, 12, 31), snapshot=date(2026, 10, 31),
                 root=root).set_index("action_id")
    assert df.loc["x", "state"] == "in_progress" and df.loc["x", "done_at"] is None  # done only in 2026
    assert df.loc["y", "state"] == "planned" and df.loc["z", "state"] == "planned"  # not started by 2025-12-31
    assert df.loc["w", "state"] == "overdue" and df.loc["w", "days_late"] == 31
    assert df.loc["v", "state"] == "done"  # undated done, due before the as-of day
    from opsnb.metrics import problems as pm

    probs = pm.action_problems(pack, year, Settings().problems)
    assert set(probs["key"]) == {"action:w"}
    assert probs.set_index("detector").loc["action_overdue", "evidence"]["days"] == 31
    # the same table on a current review (as of the snapshot) takes the statuses as they are
    now = actions(pack, Period.parse("2026-10"), Settings(), snapshot=date(2026, 10, 31), root=root)
    assert now.set_index("action_id").loc["z", "state"] == "overdue"
