"""The campaigns view: bullets in the written-review style, tables, charts, NoData notes, the sample pack."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from opsnb.metrics import abtest, content, programmes
from opsnb.metrics import campaigns as cm
from opsnb.nb import Context, render
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period
from opsnb.sections import campaigns as view

sys.path.insert(0, str(Path(__file__).parent))
from campaign_packs import campaign_pack, follow_pack, orders_frame, spend_pack  # noqa: E402

OCT = Period.parse("2026-10")


def _one_campaign(cost: str, reach: str = "") -> pd.DataFrame:
    return pd.DataFrame({"campaign_id": ["S"], "name": ["双十一"], "type": ["promo"], "start": ["2026-10-01"],
                         "end": ["2026-10-31"], "cost": [cost], "target_new_users": ["3000"], "reach": [reach]})


def test_results_bullet_written_review_style():
    n = 3200
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "signup_at": ["2026-10-02"] * n})
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "user_id": [f"u{i}" for i in range(n)],
                           "ts": ["2026-10-05"] * n, "amount": [1205000 / n] * n, "campaign_id": ["S"] * n})
    pack = from_frames({"campaigns": _one_campaign("150000"), "users": users, "orders": orders})
    res = cm.campaign_results(pack, OCT)
    assert view.results_bullets(res, "zh") == [
        "本期1场活动带来活动归因GMV ¥120.5万，活动成本¥15.0万，ROI 1:8.0。", "目标达成：拉新目标1场中1场达成。"]
    assert view.results_bullets(res, "en") == [
        "The 1 campaign brought attributed GMV of ¥1.21M for campaign costs of ¥150.0K, ROI 1:8.0.",
        "Targets: 1 of 1 met their new-user target."]


def test_results_bullets_lead_with_the_whole_then_the_exceptions():
    res = cm.campaign_results(campaign_pack(), OCT, roi_threshold=3.0)
    zh = view.results_bullets(res, "zh", threshold=3.0)
    # conclusion first; the low-ROI campaign with its share of the cost and what to do; the targets; no line per row
    assert zh == [
        "本期3场活动合计带来活动归因GMV ¥1,580.00，活动成本¥500.00，整体ROI 1:3.2；ROI最高的是国庆大促（1:5.0）。",
        "Autumn的ROI仅1:2.5，低于1:3.0的门槛：成本¥400.00占本期活动成本的80.0%，归因GMV只有¥1,000.00；"
        "建议复盘其成本构成（奖品、优惠券）与转化环节，再决定是否续做。",
        "目标达成：GMV目标1场中1场达成、拉新目标1场中0场达成；差距最大的是国庆大促的拉新目标（完成率50.0%）。"]
    tabs = view.results_tables(res, "zh")
    html = view.results_table(res, "zh")._repr_html_()
    assert "&lt;b&gt;B&lt;/b&gt;" in html and "<b>B</b>" not in html
    assert list(tabs[0].data["提示"]) == ["", "ROI偏低", "成本为0"]
    assert len(tabs) == 2 and "拉新目标" in tabs[1].data.columns and "拉新目标" not in tabs[0].data.columns
    # the attributed figures carry their own names: never the goals page's 新增用户 / GMV / 获客成本
    assert {"活动归因新增用户", "活动归因GMV", "活动获客成本", "参与者购买率", "活动ROI"} <= set(tabs[0].data.columns)


def test_running_campaign_is_flagged_and_not_judged():
    res = cm.campaign_results(follow_pack(), OCT)
    tab = view.results_tables(res, "zh")[0].formatted().set_index("活动")
    assert tab.loc["J", "提示"] == "ROI偏低、进行中（已4/7天）" and tab.loc["J", "活动成本"] == "¥40.00"
    lines = view.results_bullets(res, "zh", as_of=date(2026, 10, 31))
    assert lines[-1] == ("J在报告期末仍在进行（数据截至2026-10-31）：成本按已进行天数分摊，ROI为阶段值，"
                         "目标待活动结束后评估。")
    assert "目标达成：GMV目标1场中0场达成；差距最大的是K的GMV目标（完成率0.0%）。" in lines  # J is not judged


def test_spend_reconciliation_view_adds_up_to_the_cent():
    rec = cm.spend_reconciliation(spend_pack(), OCT)
    tab = view.spend_table(rec, "zh").formatted()
    assert tab["金额"].tolist() == ["¥33.33", "¥100.00", "¥40.00", "¥173.33", "¥112.45", "¥285.78"]
    assert tab["项目"].tolist()[3:] == ["活动成本合计（3场，本期分摊）", "渠道投放花费（2个渠道）", "本期营销总投入"]
    assert tab["口径"].iloc[0] == "全期¥100.00，本期1/3天"
    assert view.spend_bullets(rec, "zh") == [
        "本期营销总投入¥285.78，由两部分相加：渠道投放花费¥112.45（各渠道的媒体花费）与活动成本¥173.33"
        "（奖品、优惠券、礼品、活动执行等，不在渠道花费之内）。",
        "因此活动ROI（活动归因GMV ÷ 活动成本）与投放ROI（渠道GMV ÷ 渠道花费）的分母不同，两者不能相加或直接比较；"
        "计划页“预算调整建议”的渠道投放总预算即这部分的¥112.45，不含活动成本。",
        "跨期活动的成本按天数平均分摊：L本期1/3天，计¥33.33、J本期4/7天，计¥40.00。"]
    inside = view.spend_bullets(cm.spend_reconciliation(spend_pack(), OCT, inside=True), "zh")
    assert inside[0] == "本期营销总投入即渠道投放花费¥112.45；按参数设置，其中¥173.33是活动成本，其余-¥60.88为非活动的渠道投放。"
    assert inside[1].startswith("活动成本¥173.33超过同期渠道花费¥112.45，不可能含在渠道花费之内")
    facts_ = view.spend_facts(rec, _ctx(spend_pack()))
    total = "spend.marketing_total@2026-10-01..2026-10-31"
    assert [(f.key, f.value, f.text, f.meta.get("part_of")) for f in facts_][:3] == [
        ("spend.campaign_costs@2026-10-01..2026-10-31", 173.33, "¥173.33", total),
        ("spend.channel_spend@2026-10-01..2026-10-31", 112.45, "¥112.45", total),
        (total, 285.78, "¥285.78", None)]
    # each campaign's share of the period is a part of the campaign costs, to the cent (the rules check the sums)
    assert sorted(f.text for f in facts_[3:]) == ["¥100.00", "¥33.33", "¥40.00"]
    assert {f.meta["part_of"] for f in facts_[3:]} == {"spend.campaign_costs@2026-10-01..2026-10-31"}
    from opsnb import invariants as inv

    scope = inv.Scope(OCT, date(2026, 10, 31))
    assert inv.check(facts_, scope) == []


def _uplift_frame(**over) -> pd.DataFrame:
    row = {"campaign_id": "X", "name": "X", "start": date(2026, 10, 10), "end": date(2026, 10, 12), "days": 3,
           "running": False, "gmv": 600.0, "gmv_baseline": 300.0, "gmv_uplift": 1.0, "gmv_uplift_reason": None,
           "gmv_yoy": None, "gmv_yoy_reason": "before_data", "orders": 80, "orders_baseline": 40,
           "new_users": 412.0, "new_users_baseline": 400.0, "new_users_uplift": 0.03, "new_users_uplift_reason": None,
           "baseline_overlaps": [], "baseline_holidays": [], "caveat": False}
    row.update(over)
    return pd.DataFrame([row])


def test_uplift_claims_only_what_the_counts_support():
    attributed = pd.DataFrame({"campaign_id": ["X"], "new_users": [144]})
    lines = view.uplift_bullets(_uplift_frame(), "zh", min_base=30, attributed=attributed)
    assert lines == [
        "增量最明显的是X：活动3天全站GMV ¥600.00，较前3天基线¥300.00变化+100.0%，订单80单对40单。",
        "表中“全站新增用户”是活动期间全站的全部注册；其中参与了该活动的，才计为上表的“活动归因新增用户”："
        "X412人中144人（35.0%）。",
        "各活动期间全站新增用户与基线相比均无显著变化。"]
    # other campaigns share one line, and a disturbed baseline is said before the reader acts on it
    two = pd.concat([_uplift_frame(), _uplift_frame(campaign_id="Y", name="Y", orders=44,
                                                    baseline_holidays=[date(2026, 10, 1)])], ignore_index=True)
    assert view.uplift_bullets(two, "en", min_base=30)[1:3] == [
        "Site-wide orders during Y did not differ from the baseline beyond chance, so no uplift can be confirmed.",
        "Disturbed baselines, read the uplift with care — baselines with public holidays: Y (1 Oct)."]
    # the same +100% on a baseline of 20 orders: no verdict; 44 vs 40 orders: no uplift claimed
    small = view.uplift_bullets(_uplift_frame(orders=40, orders_baseline=20), "zh", min_base=30)
    assert small[0] == "X的基线订单不足30单，不作增量判断。"
    flat = view.uplift_bullets(_uplift_frame(orders=44), "zh", min_base=30)
    assert flat[0] == "X期间全站订单与基线相比无显著差异，不能确认带来增量。"
    tab = view.uplift_table(_uplift_frame(), "zh").formatted()
    assert {"全站GMV（活动期间）", "全站新增用户（活动期间）"} <= set(tab.columns) and "活动归因新增用户" not in tab.columns
    assert tab["订单（活动期/基线）"].tolist() == ["80/40"]  # the n a verdict rests on, beside the growth


def _after_frame(**over) -> pd.DataFrame:
    row = {"campaign_id": "K", "name": "K", "days": 30, "observed_days": 19, "complete": False, "participants": 400,
           "comparison": 900, "comparison_basis": "active", "repurchase_participants": 0.30,
           "repurchase_comparison": 0.20, "repurchase_diff": 0.10, "repurchase_ci_low": 0.05, "repurchase_ci_high": 0.15,
           "repurchase_comparison_size": 800.0, "retention_participants": 0.6, "retention_comparison": 0.5}
    row.update(over)
    return pd.DataFrame([row])


def test_after_effect_bullets_rest_on_the_interval():
    lines = view.after_bullets(_after_frame(), "zh", as_of=date(2026, 10, 31))
    assert lines == [
        "活动结束后的观察期内（至多30天），参与者购买率显著高于对照组：K（30.0%对20.0%，+10.0个百分点）。",
        "对照组是活动期间同样活跃、但未参加任何活动的用户，已排除“参与者本来就更活跃”的大部分差异；"
        "剩余差异仍可能含自选择，不全是活动效果。",
        "观察期未满（数据截至2026-10-31），结果为阶段性数据：K19/30天。"]
    flat = view.after_bullets(_after_frame(repurchase_ci_low=-0.01), "zh")
    assert flat[0] == "K的参与者与对照组购买率差异不显著，不能说明活动带来了后续购买。"
    small = view.after_bullets(_after_frame(participants=12), "zh")
    assert small[0] == "参与用户或对照组不足30人，不作判断：K（n=12）。"
    assert view.after_table(_after_frame(participants=12), "zh").formatted()["判断"].tolist() == ["样本不足"]


def test_programmes_changes_against_the_previous_period():
    users_now = [f"a{i}" for i in range(100)]
    users_then = [f"b{i}" for i in range(100)]
    rows = [(u, "2026-10-03", "visit") for u in users_now] + [(u, "2026-10-04", "points_earn") for u in users_now[:60]]
    rows += [(u, "2026-10-05", "points_redeem") for u in users_now[:30]]
    rows += [(u, "2026-09-03", "visit") for u in users_then] + [(u, "2026-09-04", "points_earn") for u in users_then[:30]]
    rows += [(u, "2026-09-05", "points_redeem") for u in users_then[:15]]
    rows += [(f"m{i}", "2025-10-05", "member_join") for i in range(5)] + [("m0", "2026-10-06", "member_renew"),
                                                                          ("m1", "2026-10-06", "member_renew")]
    rows += [(f"n{i}", "2025-09-05", "member_join") for i in range(4)] + [("n0", "2026-09-06", "member_renew")]
    ev = pd.DataFrame(rows, columns=["user_id", "ts", "event"])
    pg = programmes.programmes(from_frames({"events": ev}), OCT)
    assert view.programmes_bullets(pg, "zh") == [
        "参与率升至58.8%（102人中60人；上期29.7%，+29.1个百分点），变化超出随机波动。",
        "积分兑换率与上期相比无显著变化。",
        "以下指标的分母不足30人，不作判断：会员续费率（n=5）。"]
    assert view.programmes_table(pg, "zh").formatted()["上期"].tolist() == ["29.7%", "50.0%", "25.0%"]


def _ab_frame(**over) -> pd.DataFrame:
    b = {"experiment": "e", "variant": "B", "is_control": False, "control": "A", "users": 5000, "converters": 700,
         "conversion": 0.14, "diff": 0.04, "ci_low": 0.027, "ci_high": 0.053, "p_value": 3e-9, "significant": True,
         "reason": None, "control_conversion": 0.10, "control_users": 5000}
    b.update(over)
    a = {**b, "variant": "A", "is_control": True, "converters": 500, "conversion": 0.10, "diff": None,
         "ci_low": None, "ci_high": None, "p_value": None, "significant": None, "reason": "control"}
    return pd.DataFrame([a, b])


def test_ab_verdicts_and_what_to_do():
    better = view.ab_bullets(_ab_frame(), "zh")[0]
    assert better.endswith("差异成立，可考虑全量上线B。") and "高4.0个百分点" in better
    worse = view.ab_bullets(_ab_frame(diff=-0.04, ci_low=-0.053, ci_high=-0.027, conversion=0.06), "zh")[0]
    assert worse.endswith("B不宜上线。") and "低4.0个百分点" in worse
    open_ = view.ab_bullets(_ab_frame(ci_low=-0.001, significant=False, p_value=0.06), "zh")[0]
    assert open_.endswith("尚不能下结论，建议继续积累样本。")
    small = _ab_frame(users=20)
    assert view.ab_bullets(small, "zh") == ["e：B组或对照组A不足30人（20人、5,000人），不作判断。"]
    assert view.ab_table(small, "zh").formatted()["差异成立"].tolist() == ["", "样本不足"]


def test_other_bullets():
    ab = abtest.ab_tests(from_frames({
        "experiments": pd.DataFrame({"experiment": ["e"] * 4, "variant": ["A", "A", "B", "B"],
                                     "user_id": ["a1", "a2", "b1", "b2"], "ts": ["2026-10-01"] * 4}),
        "orders": orders_frame()}), OCT)
    assert view.ab_bullets(ab, "zh") == ["e：B与对照组A无法检验（两组转化率同为0%或100%）。"]
    ev = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "ts": ["2026-10-01"] * 3,
                       "event": ["points_earn", "points_redeem", "visit"]})
    pg = programmes.programmes(from_frames({"events": ev}), OCT)
    assert view.programmes_bullets(pg, "zh") == ["上期无事件数据，暂无法对比。"]
    tl = cm.timeline(campaign_pack(), OCT)
    assert view.timeline_bullets(tl, "zh") == [
        "有活动的5天日均全站GMV ¥138.00，无活动的26天日均¥0.00（两者天数与节假日构成不同，仅作参考）。",
        "本期有2组活动时间重叠：Autumn & 国庆大促、国庆大促 & <b>B</b>。"]
    ct = content.content_performance(from_frames({"content": pd.DataFrame({
        "content_id": ["c1", "c2"], "published_at": ["2026-10-01"] * 2, "channel": ["douyin"] * 2,
        "type": ["kol"] * 2, "views": ["900", "100"], "likes": ["90", "0"]})}), OCT, top_n=1)
    assert view.content_bullets(ct, "zh")[-1] == "前1篇之外的长尾内容贡献了10.0%的曝光。"
    # counters exported after a past period's last day: said first, with both days; not said when they match
    late = view.content_bullets(ct, "en", exported=date(2026, 12, 9), as_of=date(2026, 10, 31))
    assert late[0] == ("This subsection's counts are lifetime totals as exported on 2026-12-09, after this period's "
                       "last day (2026-10-31): they include views and engagement since, so they differ from the review "
                       "made at the time.")
    assert view.content_bullets(ct, "en", exported=date(2026, 10, 31), as_of=date(2026, 10, 31)) == \
        view.content_bullets(ct, "en")


def test_content_engagement_exceptions_need_a_base():
    ct = content.content_performance(from_frames({"content": pd.DataFrame({
        "content_id": ["c1", "c2", "c3"], "published_at": ["2026-10-01"] * 3, "channel": ["a", "b", "c"],
        "type": ["t"] * 3, "views": ["1000", "1000", "20"], "likes": ["100", "20", "10"]})}), OCT)
    lines = view.content_bullets(ct, "zh")
    # overall 130/2020 = 6.4%; t·c's 50% rests on 20 views (under 30): no verdict on it
    assert lines[2:] == ["互动率显著高于整体6.4%的组合：t·a（10.0%），可加大这类内容的产出。",
                         "互动率显著低于整体6.4%的组合：t·b（2.0%），建议调整选题或投放渠道。"]


def _ctx(pack, lang="zh"):
    return Context(settings=Settings(lang=lang), pack=pack, period=OCT)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_subsection_renders(lang):
    import matplotlib

    matplotlib.use("Agg")
    events = pd.DataFrame({"user_id": ["u1", "u2"], "ts": ["2026-10-05", "2026-10-06"],
                           "event": ["points_earn", "member_join"]})
    pack = campaign_pack(events=events)
    keys = [s.key for s in view.SUBSECTIONS]
    assert keys == ["campaigns.results", "campaigns.spend", "campaigns.uplift", "campaigns.after_effect",
                    "campaigns.content", "campaigns.programmes", "campaigns.ab", "campaigns.timeline"]
    ctx = _ctx(pack, lang)
    for key in keys:
        result, objs = render(ctx, key)
        if key in ("campaigns.content", "campaigns.ab"):  # no content / experiments table → a note
            assert result is None and len(objs) == 3
        else:
            assert result is not None and len(objs) >= 3


def test_missing_campaigns_table_shows_a_note():
    ctx = _ctx(from_frames({"orders": orders_frame()}))
    result, objs = render(ctx, "campaigns.results")
    assert result is None and "活动表" in objs[-1]._repr_html_()  # the table by its display name


def test_sample_low_roi_campaign_ranked_last_and_flagged(tmp_path):
    sample = pytest.importorskip("opsnb.sample")
    scenario = sample.generate(tmp_path / "pack", scale=0.1)
    fact = next(p for p in scenario["planted"] if p["kind"] == "low_roi_campaign")
    from opsnb.pack import open_pack

    pack = open_pack(tmp_path / "pack", use_cache=False)
    res = cm.campaign_results(pack, Period.parse(scenario["review_period"]),
                              roi_threshold=Settings().problems.roi_threshold)
    ranked = res[res["roi_rank"].notna()]
    last = ranked.iloc[-1]
    assert last["campaign_id"] == fact["campaign_id"] and bool(last["low_roi"])
    assert float(last["roi"]) == pytest.approx(fact["roi"], abs=1e-3)
    assert int(res["low_roi"].sum()) == 1
    print(json.dumps({"low_roi": fact, "rois": [None if pd.isna(v) else round(float(v), 3) for v in res["roi"]]}))


def test_p_values_below_one_in_ten_thousand():
    ab = _ab_frame()
    assert view.ab_table(ab, "zh").data["p值"].iloc[1] == "< 0.0001"
    zh, en = view.ab_bullets(ab, "zh")[0], view.ab_bullets(ab, "en")[0]
    assert "p < 0.0001）" in zh and "p=" not in zh and "0.0000" not in zh
    assert "p < 0.0001);" in en
    assert view.ab_bullets(ab.assign(p_value=[None, 0.01234]), "en")[0].count("p=0.0123)") == 1


def test_results_facts_are_what_the_table_shows():
    pack = campaign_pack()
    res = cm.campaign_results(pack, OCT)
    shown = {f.key: (f.value, f.text) for f in view.results_facts(res, _ctx(pack))}
    assert shown["campaign.A.roi@2026-10-01..2026-10-03"] == (5.0, "1:5.0")
    assert shown["campaign.A.gmv@2026-10-01..2026-10-03"] == (500.0, "¥500.00")
    assert shown["campaign.C.new_users@2026-09-20..2026-10-01"] == (1.0, "1")
    assert shown["campaign.B.roi@2026-10-02..2026-10-05"] == (None, "不适用")
    table = view.results_tables(res, "zh")[0].formatted()
    assert set(table["活动归因GMV"]) == {v[1] for k, v in shown.items() if k.startswith("campaign.") and ".gmv@" in k}
    assert shown["campaigns.gmv@2026-10-01..2026-10-31"][0] == sum(v[0] for k, v in shown.items()
                                                                   if k.startswith("campaign.") and ".gmv@" in k)
