"""The campaigns view: bullets in the written-review style, tables, charts, NoData notes, the sample pack."""

from __future__ import annotations

import json
import sys
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
from campaign_packs import campaign_pack, orders_frame  # noqa: E402

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
    lines = view.results_bullets(res, "zh")
    assert "双十一：GMV ¥120.5万，成本¥15.0万，ROI 1:8.0，新增用户3,200人（目标3,000，完成率106.7%）。" in lines
    en = view.results_bullets(res, "en")
    assert "双十一: GMV ¥1.21M, cost ¥150.0K, ROI 1:8.0, 3,200 new users (target 3,000, 106.7% attained)." in en


def test_low_roi_flag_and_zero_cost_text():
    res = cm.campaign_results(campaign_pack(), OCT, roi_threshold=3.0)
    zh = view.results_bullets(res, "zh", threshold=3.0)
    assert any(s.startswith("Autumn的ROI为1:2.5，低于1:3.0的阈值") for s in zh)
    assert "<b>B</b>：GMV ¥80.00，成本¥0.00，ROI 不适用（成本为0），新增用户2人。" in zh
    tabs = view.results_tables(res, "zh")
    html = view.results_table(res, "zh")._repr_html_()
    assert "&lt;b&gt;B&lt;/b&gt;" in html and "<b>B</b>" not in html
    assert list(tabs[0].data["提示"]) == ["", "ROI偏低", "成本为0"]
    assert len(tabs) == 2 and "新增目标" in tabs[1].data.columns and "新增目标" not in tabs[0].data.columns


def test_other_bullets():
    ab = abtest.ab_tests(from_frames({
        "experiments": pd.DataFrame({"experiment": ["e"] * 4, "variant": ["A", "A", "B", "B"],
                                     "user_id": ["a1", "a2", "b1", "b2"], "ts": ["2026-10-01"] * 4}),
        "orders": orders_frame()}), OCT)
    assert view.ab_bullets(ab, "zh") == ["e：B与对照组A无法检验（两组转化率同为0%或100%）。"]
    ev = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "ts": ["2026-10-01"] * 3,
                       "event": ["points_earn", "points_redeem", "visit"]})
    pg = programmes.programmes(from_frames({"events": ev}), OCT)
    assert view.programmes_bullets(pg, "zh") == [
        "积分/会员项目参与率50.0%（活跃用户2人中1人参与）。", "积分兑换率100.0%（获得积分的1人中1人兑换）。",
        "会员续费率不适用（本期无到期会员）（本期到期会员0人中0人续费）。"]
    tl = cm.timeline(campaign_pack(), OCT)
    assert view.timeline_bullets(tl, "zh") == [
        "有活动的5天日均GMV ¥138.00，无活动的26天日均GMV ¥0.00。", "本期有2组活动时间重叠：Autumn & 国庆大促、国庆大促 & <b>B</b>。"]
    ct = content.content_performance(from_frames({"content": pd.DataFrame({
        "content_id": ["c1", "c2"], "published_at": ["2026-10-01"] * 2, "channel": ["douyin"] * 2,
        "type": ["kol"] * 2, "views": ["900", "100"], "likes": ["90", "0"]})}), OCT, top_n=1)
    assert view.content_bullets(ct, "zh")[-1] == "前1篇之外的长尾内容贡献了10.0%的曝光。"


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
    assert keys == ["campaigns.results", "campaigns.uplift", "campaigns.after_effect", "campaigns.content",
                    "campaigns.programmes", "campaigns.ab", "campaigns.timeline"]
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
    ab = pd.DataFrame({
        "experiment": ["e", "e"], "variant": ["A", "B"], "is_control": [True, False], "control": ["A", "A"],
        "users": [5000, 5000], "converters": [500, 700], "conversion": [0.10, 0.14], "diff": [None, 0.04],
        "ci_low": [None, 0.027], "ci_high": [None, 0.053], "p_value": [None, 3e-9], "significant": [None, True],
        "reason": [None, None], "control_conversion": [0.10, 0.10], "control_users": [5000, 5000]})
    assert view.ab_table(ab, "zh").data["p值"].iloc[1] == "< 0.0001"
    zh, en = view.ab_bullets(ab, "zh")[0], view.ab_bullets(ab, "en")[0]
    assert "p < 0.0001）" in zh and "p=" not in zh and "0.0000" not in zh
    assert "p < 0.0001);" in en
    assert view.ab_bullets(ab.assign(p_value=[None, 0.01234]), "en")[0].count("p=0.0123)") == 1
