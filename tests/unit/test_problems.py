"""Problem detectors, merge/rank and narrative on tiny hand-made packs, exact numbers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from opsnb.metrics import problems as pm
from opsnb.pack import from_frames
from opsnb.params import ManualProblem, Settings
from opsnb.periods import Period
from opsnb.sections.problems import narrative

OCT = Period.parse("2026-10")


@pytest.fixture
def settings() -> Settings:
    return Settings()


def by_key(df: pd.DataFrame) -> dict[str, dict]:
    return {r["key"]: r for r in df.to_dict("records")}


def test_kpi_rows_score_by_gap(settings: Settings) -> None:
    att = pd.DataFrame({"key": ["gmv", "new_users", "mau", "nps"], "label": ["GMV", "新增用户", "月活跃用户", "NPS"],
                        "label_en": ["GMV", "New users", "MAU", "NPS"], "unit": ["currency", "count", "count", "score"],
                        "direction": "higher", "actual": [750.0, 92.0, 120.0, None],
                        "target": [1000.0, 100.0, 100.0, 50.0], "attainment": [0.75, 0.92, 1.2, None],
                        "status": ["missed", "missed", "exceeded", "n/a"]})
    df = by_key(pm.kpi_rows(att, settings))
    assert list(df) == ["kpi:gmv", "kpi:new_users"]
    assert df["kpi:gmv"]["score"] == pytest.approx(1.25) and df["kpi:gmv"]["severity"] == "high"
    assert df["kpi:new_users"]["score"] == pytest.approx(0.4) and df["kpi:new_users"]["severity"] == "low"
    assert df["kpi:gmv"]["area"] == "revenue" and df["kpi:new_users"]["area"] == "growth"
    text = narrative(pm.kpi_rows(att, settings).iloc[:1], "zh")[0]
    assert text.startswith("【高】GMV未达成目标：实际¥750.00，目标¥1,000.00，完成率75.0%。\n建议：")
    assert text.endswith("（建议负责人：运营团队）")


def spend_pack() -> from_frames:
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-02", "2026-10-01", "2026-10-03", "2026-09-05", "2026-10-04"],
                          "channel": ["A", "A", "B", "B", "A", "C"], "cost": [600.0, 400.0, 1000.0, 0.0, 1000.0, 0.0]})
    orders = pd.DataFrame({"order_id": [str(i) for i in range(6)], "user_id": "u",
                           "ts": ["2026-10-02", "2026-10-03", "2026-10-05", "2026-10-06", "2026-10-07", "2026-09-30"],
                           "amount": [300.0, 200.0, 3000.0, 10000.0, -50.0, 999.0],
                           "status": ["paid", None, "paid", "paid", "refunded", "paid"],
                           "channel": ["A", "A", "B", "organic", "B", "B"]})
    su = [f"2026-09-{d:02d}" for d in range(1, 11)] + [f"2026-10-{d:02d}" for d in range(1, 6)]
    users = pd.DataFrame({"user_id": [f"n{i}" for i in range(15)], "signup_at": su, "channel": "A"})
    return from_frames({"channel_spend": spend, "orders": orders, "users": users})


def test_low_roi_channel(settings: Settings) -> None:
    df = by_key(pm.roi_problems(spend_pack(), OCT, settings))
    r = df["channel:A"]
    assert r["evidence"]["roi"] == 0.5 and r["evidence"]["cost"] == 1000.0 and r["evidence"]["gmv"] == 500.0
    assert r["score"] == 0.5 and r["severity"] == "medium" and r["area"] == "marketing"
    assert "channel:B" not in df  # ROI 3.0


def test_budget_imbalance(settings: Settings) -> None:
    df = pm.budget_problems(spend_pack(), OCT, settings)
    assert df["key"].tolist() == ["channel:A"]
    ev = df.iloc[0]["evidence"]
    # spend 1000 of 2000 = 50 %; return 500 of 3500 (channels with spend only; organic excluded) = 14.29 %
    assert ev["spend_share"] == 0.5 and ev["return_share"] == pytest.approx(1 / 7)
    assert ev["gap_pp"] == pytest.approx(35.714286, abs=1e-6) and ev["to_channel"] == "B"
    assert df.iloc[0]["score"] == pytest.approx(35.714286 / 30, abs=1e-6) and df.iloc[0]["severity"] == "high"
    en = narrative(df, "en")[0]
    assert en.startswith('[High] Channel "A" takes 50.0% of the budget but returns only 14.3% of GMV, 35.7 pp more')


def test_cac_rise(settings: Settings) -> None:
    df = pm.cac_problems(spend_pack(), OCT, settings)
    r = df.iloc[0]
    assert r["key"] == "channel:A" and len(df) == 1
    assert (r["evidence"]["cac_prev"], r["evidence"]["cac"], r["evidence"]["rise"]) == (100.0, 200.0, 1.0)
    assert r["score"] == 2.5 and r["severity"] == "high"


def test_actions(settings: Settings) -> None:
    actions = pd.DataFrame({
        "action_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "title": ["上线会员日", "用户调研", "优化落地页", "旧活动", "搭建BI", "未来计划"],
        "owner": ["王五", "李四", "张三", "赵六", "钱七", "孙八"],
        "start": ["2026-09-01", "2026-07-01", "2026-10-01", "2026-09-01", "2026-04-01", "2026-11-05"],
        "due": ["2026-10-10", "2026-09-20", "2026-10-20", "2026-10-01", "2026-06-30", "2026-11-30"],
        "status": ["in_progress", "done", "done", "cancelled", "planned", "planned"],
        "done_at": [None, "2026-10-05", "2026-10-15", None, None, None]})
    df = pm.action_problems(from_frames({"actions": actions}), OCT, settings)
    merged = by_key(pm.merge_problems([df]))
    assert list(merged) == ["action:A5", "action:A2", "action:A1"]
    a5 = merged["action:A5"]
    assert a5["detector"] == "action_overdue" and a5["evidence"]["days"] == 123 and a5["severity"] == "high"
    assert a5["evidence"]["also"] == ["action_slipped"] and a5["owner"] == "钱七"
    a2 = merged["action:A2"]  # done 15 days late, in the next quarter: slipped Q3 → Q4 wins (0.75 > 0.25)
    assert a2["detector"] == "action_slipped" and a2["score"] == 0.75 and a2["evidence"]["also"] == ["action_late"]
    assert (a2["evidence"]["from_quarter"], a2["evidence"]["to_quarter"]) == ("2026-Q3", "2026-Q4")
    a1 = merged["action:A1"]
    assert a1["detector"] == "action_overdue" and a1["evidence"]["days"] == 21
    assert a1["score"] == pytest.approx(21 / 30, abs=1e-6) and a1["severity"] == "medium"
    zh = narrative(pm.merge_problems([df]).iloc[[2]], "zh")[0]
    assert zh.startswith("【中】行动“上线会员日”截止2026-10-10，已逾期21天仍未完成。\n建议：")
    assert zh.endswith("（建议负责人：王五）")


def test_service(settings: Settings) -> None:
    rows = []
    for i in range(25):  # logistics: 25 tickets in October, 20 resolved after 10 h, satisfaction 3.0
        rows.append({"ticket_id": f"L{i}", "created_at": "2026-10-02 10:00", "category": "物流",
                     "resolved_at": "2026-10-02 20:00" if i < 20 else None, "satisfaction": 3.0})
    for i in range(20):  # September: 20 logistics tickets, all resolved in September
        rows.append({"ticket_id": f"S{i}", "created_at": "2026-09-02 10:00", "category": "物流",
                     "resolved_at": "2026-09-03 10:00", "satisfaction": 4.0})
    for i in range(21):  # payments: 21 tickets (15 last month → +40 %), slow: resolved after 100 h
        rows.append({"ticket_id": f"P{i}", "created_at": "2026-10-05 00:00", "category": "支付",
                     "resolved_at": "2026-10-09 04:00", "satisfaction": 4.5})
    for i in range(5):  # too few tickets to be judged
        rows.append({"ticket_id": f"X{i}", "created_at": "2026-10-05 00:00", "category": "其他",
                     "resolved_at": None, "satisfaction": 1.0})
    df = by_key(pm.service_problems(from_frames({"feedback": pd.DataFrame(rows)}), OCT, settings))
    assert set(df) == {"service:resolution:物流", "service:satisfaction:物流", "service:slow:支付"}
    r = df["service:resolution:物流"]
    assert r["evidence"]["rate"] == 0.8 and r["score"] == pytest.approx(0.5) and r["severity"] == "medium"
    assert df["service:satisfaction:物流"]["score"] == 0.5
    s = df["service:slow:支付"]
    assert s["evidence"]["p90_hours"] == 100.0 and s["score"] == pytest.approx(100 / 144)


def test_data_gaps(settings: Settings) -> None:
    days = pd.date_range("2026-09-01", "2026-10-31", freq="D")
    ev = []
    for d in days:
        if d == pd.Timestamp("2026-10-12"):
            continue  # no events at all: a missing day
        for plat in ("ios", "android"):
            if plat == "android" and d == pd.Timestamp("2026-10-10"):
                continue  # android tracking broken for a day
            ev += [{"user_id": f"{plat}{k}", "ts": d + pd.Timedelta(hours=k % 20), "event": "visit", "platform": plat}
                   for k in range(30)]
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(25)], "user_id": [f"c{i}" for i in range(25)],
                           "ts": "2026-10-15 12:00", "amount": 10.0, "channel": "A"})
    tp = pd.DataFrame({"user_id": [f"c{i}" for i in range(12)], "channel": "A",
                       "ts": ["2026-10-14"] * 10 + ["2026-10-16"] * 2})  # 2 touch only after buying
    pack = from_frames({"events": pd.DataFrame(ev), "orders": orders, "touchpoints": tp})
    # file packs reject duplicate keys at ingest; a warehouse (.duckdb) pack is read as it is
    users = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "signup_at": pd.to_datetime(["2026-01-01"] * 3)})
    pack.con.create_table("users", users)
    pack._names.append("users")
    df = by_key(pm.data_gap_problems(pack, OCT, settings))
    assert set(df) == {"data:unattributed:A", "data:missing_days:events", "data:tracking:android",
                       "data:duplicates:users"}
    u = df["data:unattributed:A"]["evidence"]
    assert (u["orders"], u["unattributed"], u["share"]) == (25, 15, 0.6)
    assert df["data:unattributed:A"]["score"] == pytest.approx(1.5)
    assert df["data:missing_days:events"]["evidence"]["days"] == ["2026-10-12"]
    tr = df["data:tracking:android"]["evidence"]
    assert tr["days"] == ["2026-10-10"] and tr["normal"] == 30.0 and tr["count"] == 0.0
    d = df["data:duplicates:users"]
    assert d["evidence"]["duplicates"] == 1 and d["score"] == pytest.approx(0.5 + 10 / 3)
    zh = narrative(pm.merge_problems([pm.data_gap_problems(pack, OCT, settings)]), "zh")
    assert any(s.startswith("【高】平台“android”在10月10日的事件数为0，而常态为每日约30条，疑似埋点中断。") for s in zh)


def dau_pack(drop_day: str | None = "2026-10-20") -> from_frames:
    rng = np.random.default_rng(0)
    days = pd.date_range("2026-06-01", "2026-10-31", freq="D")
    counts = np.resize([60, 62, 59, 61, 60, 75, 78], len(days)) + rng.integers(-3, 4, len(days))
    if drop_day:
        counts[days.get_loc(pd.Timestamp(drop_day))] = 20
    users = np.concatenate([np.arange(c) for c in counts])
    ts = np.repeat(days.to_numpy(), counts) + pd.Timedelta(hours=12)
    return from_frames({"events": pd.DataFrame({"user_id": users.astype(str), "ts": ts, "event": "visit"})})


def test_anomaly_problem_on_a_pack(settings: Settings) -> None:
    df = by_key(pm.anomaly_problems(dau_pack(), OCT, settings))
    r = df["anomaly:dau"]
    ev = r["evidence"]
    assert ev["date"] == "2026-10-20" and ev["value"] == 20.0 and ev["direction"] == "down"
    assert ev["expected"] == pytest.approx(60, abs=3) and ev["z"] < -7
    assert r["severity"] == "high"  # |z| > 2 × 3.5
    assert "anomaly:new_users" not in df and "anomaly:gmv" not in df  # no users/orders tables


def test_anomaly_notes_for_short_history(settings: Settings) -> None:
    ev = pd.DataFrame({"user_id": ["a", "b"], "ts": ["2026-10-01", "2026-10-02"], "event": "visit"})
    df = pm.anomaly_problems(from_frames({"events": ev}), OCT, settings)
    assert df.empty
    assert {(n["key"], n["reason"]) for n in df.attrs["notes"]} == {("dau", "too_short"), ("churn", "too_short")}


def test_anomaly_narrative_churn() -> None:
    row = {"detector": "anomaly", "key": "anomaly:churn", "severity": "medium", "score": 0.74, "area": "engagement",
           "owner": None, "evidence": {"series": "churn", "grain": "week", "unit": "ratio", "date": "2026-10-05",
                                       "value": 0.08, "expected": 0.05, "z": 5.2, "direction": "up",
                                       "n_flagged": 1, "dates": ["2026-10-05"]}}
    df = pd.DataFrame([row])
    assert narrative(df, "zh") == ["【中】2026年10月5日起的一周，周流失率升至8.0%，比常态5.0%高3.0个百分点（稳健z值5.2）。\n"
                                   "建议：排查周流失率异常的原因（活动、版本发布、埋点或外部事件），确认是否需要干预。"
                                   "（建议负责人：用户运营团队）"]
    assert narrative(df, "en")[0].startswith("[Medium] In the week of 05 Oct 2026, weekly churn rose to 8.0%, "
                                             "3.0 pp above the usual 5.0% (robust z 5.2).\nSuggested: ")


def test_anomaly_on_a_tracking_break_day_is_left_to_the_data_gap() -> None:
    anomaly = pm._frame([{"detector": "anomaly", "key": "anomaly:dau", "severity": "high", "score": 1.2,
                          "area": "engagement", "owner": None,
                          "evidence": {"series": "dau", "dates": ["2026-10-20"]}}])
    gap = pm._frame([{"detector": "data_tracking", "key": "data:tracking:Web", "severity": "high", "score": 1.0,
                      "area": "data", "owner": None, "evidence": {"platform": "Web", "days": ["2026-10-20"]}}])
    out = pm._explained_by_gaps([anomaly, gap])
    assert out[0].empty and out[0].attrs["notes"] == [{"detector": "anomaly", "key": "dau", "reason": "data_gap"}]
    assert len(out[1]) == 1


def test_detect_problems_merges_manual_skips_missing_and_caps() -> None:
    s = Settings()
    s.problems.manual = [ManualProblem(title={"zh": "客服人手不足", "en": "Too few agents"}, severity="high",
                                       owner="客服主管")]
    s.problems.max_problems = 1
    df = pm.detect_problems(spend_pack(), OCT, s)
    assert df["key"].tolist() == ["channel:A"] and df.attrs["dropped"] == 1
    s.problems.max_problems = 20
    df = pm.detect_problems(spend_pack(), OCT, s)
    # one problem per channel: CAC rise (score 2.5) wins over budget imbalance (1.19) and low ROI (0.5)
    assert df["key"].tolist() == ["channel:A", "manual:1"]
    assert df["detector"].tolist() == ["cac", "manual"] and df["severity"].tolist() == ["high", "high"]
    assert df.iloc[0]["evidence"]["also"] == ["budget", "roi_channel"]
    notes = {(n["detector"], n["reason"]) for n in df.attrs["notes"]}
    assert ("actions", "no_table:actions") in notes and ("service", "no_table:feedback") in notes
    assert narrative(df[df["key"] == "manual:1"], "en")[0] == (
        "[High] Too few agents\nSuggested: The owner follows up and reports progress at the next review. (owner: 客服主管)")


def test_kpi_problems_with_the_goals_engine(settings: Settings) -> None:
    orders = pd.DataFrame({"order_id": ["1", "2"], "user_id": "u", "ts": ["2026-10-01", "2026-10-31"],
                           "amount": [300.0, 200.0]})
    kpis = pd.DataFrame({"metric": ["gmv", "orders"], "period": ["2026-10", "2026-10"], "target": [1000.0, 2.0]})
    df = pm.kpi_problems(from_frames({"orders": orders, "kpis": kpis}), OCT, settings)
    assert df["key"].tolist() == ["kpi:gmv"]  # orders 2 of 2 is met; GMV 500 of 1000 is missed
    assert df.iloc[0]["score"] == 2.5 and df.iloc[0]["severity"] == "high"
    assert narrative(df, "en")[0].startswith("[High] GMV missed its target: actual ¥500.00 against ¥1,000.00, "
                                             "attainment 50.0%.")


def test_two_problems_need_no_overview_chart():
    from opsnb.sections.problems import overview_chart

    two = pd.DataFrame({"area": ["growth", "revenue"], "severity": ["medium", "medium"]})
    assert overview_chart(two, "zh") is None
    three = pd.DataFrame({"area": ["growth", "revenue", "growth"], "severity": ["medium", "medium", "high"]})
    assert overview_chart(three, "zh") is not None


def test_favourable_anomalies_are_listed_but_said_not_to_be_problems():
    from opsnb.sections.problems import _anomaly_bullets

    idx = pd.date_range("2011-11-05", periods=3, freq="D")
    scan = pd.DataFrame({"flagged": [False, True, False], "in_period": [True] * 3, "resid": [0.0, 36.0, 0.0]},
                        index=idx)  # DAU 36 above normal: good news
    empty = pm.merge_problems([])
    ctx = SimpleNamespace(lang="zh", settings=Settings())
    out = _anomaly_bullets({"scans": {"dau": scan}, "problems": empty}, ctx)
    assert out[-1] == "表中1个异常点方向有利（例如高于常态的日活或GMV），列出供参考，不计为问题。"
