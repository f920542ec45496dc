"""Problem detectors, merge/rank and narrative on tiny hand-made packs, exact numbers."""

from __future__ import annotations

from datetime import date

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
    assert text.startswith("【高】GMV未达成目标，完成率75.0%：实际¥750.00，目标¥1,000.00。\n建议：")
    assert text.endswith("（建议负责人：运营团队）")


def spend_pack() -> from_frames:
    spend = pd.DataFrame({"date": ["2026-10-01", "2026-10-02", "2026-10-01", "2026-10-03", "2026-09-01", "2026-10-04"],
                          "channel": ["A", "A", "B", "B", "A", "C"], "cost": [600.0, 400.0, 1000.0, 0.0, 1000.0, 0.0]})
    orders = pd.DataFrame({"order_id": [str(i) for i in range(6)], "user_id": "u",
                           "ts": ["2026-10-02", "2026-10-03", "2026-10-05", "2026-10-06", "2026-10-07", "2026-09-30"],
                           "amount": [300.0, 200.0, 3000.0, 10000.0, -50.0, 999.0],
                           "status": ["paid", None, "paid", "paid", "refunded", "paid"],
                           "channel": ["A", "A", "B", "organic", "B", "B"]})
    # channel A: 60 sign-ups in September, 30 in October (both bases ≥ min_base 30)
    su = [f"2026-09-{d % 30 + 1:02d}" for d in range(60)] + [f"2026-10-{d % 30 + 1:02d}" for d in range(30)]
    users = pd.DataFrame({"user_id": [f"n{i}" for i in range(90)], "signup_at": su, "channel": "A"})
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
    assert en.startswith('[High] Channel "A" gets more budget than it returns: it takes 50.0% of the budget but '
                         'returns only 14.3% of GMV, 35.7 pp more')


def test_cac_rise(settings: Settings) -> None:
    df = pm.cac_problems(spend_pack(), OCT, settings)
    r = df.iloc[0]
    assert r["key"] == "channel:A" and len(df) == 1
    ev = r["evidence"]
    assert (ev["cac_prev"], ev["cac"], ev["rise"]) == pytest.approx((1000 / 60, 1000 / 30, 1.0))
    assert (ev["new_users_prev"], ev["new_users"]) == (60, 30)
    assert r["score"] == 2.5 and r["severity"] == "high"
    zh = narrative(df, "zh")[0]
    assert zh.startswith("【高】渠道“A”获客成本上升100.0%：从上期¥16.67升至¥33.33（花费¥1,000.00→¥1,000.00，新增用户60→30人）")


def test_cac_rise_needs_bases_of_min_base_and_a_rise_beyond_chance(settings: Settings) -> None:
    pack = spend_pack()
    settings.min_base = 61  # September's 60 new users are now a small base: no verdict
    assert pm.cac_problems(pack, OCT, settings).empty
    # 31 → 24 new users on the same spend: CAC +29 %, above the 20 % alert level but within chance
    # (24 of the 55 in October: the Wilson interval of 31/55, 0.43–0.69, holds the spend share 0.5)
    su = [f"2026-09-{d % 30 + 1:02d}" for d in range(31)] + [f"2026-10-{d % 24 + 1:02d}" for d in range(24)]
    users = pd.DataFrame({"user_id": [f"n{i}" for i in range(55)], "signup_at": su, "channel": "A"})
    settings.min_base = 20
    small = from_frames({"channel_spend": spend_pack().table("channel_spend").execute(), "users": users})
    assert pm.cac_problems(small, OCT, settings).empty


def test_cac_before_the_data_covers_the_previous_period_is_the_warm_up(settings: Settings) -> None:
    spend = pd.DataFrame({"date": ["2026-09-15", "2026-10-01"], "channel": "A", "cost": [100.0, 1000.0]})
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_at": ["2026-09-15", "2026-10-02"], "channel": "A"})
    df = pm.cac_problems(from_frames({"channel_spend": spend, "users": users}), OCT, settings)
    assert df.empty and df.attrs["notes"] == [{"detector": "cac", "key": "", "reason": "warm_up_previous",
                                               "previous": "2026-09"}]


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
    assert zh.startswith("【中】行动“上线会员日”逾期21天：截止2026-10-10，至本期末仍未完成。\n建议：")
    assert zh.endswith("（建议负责人：王五）")


def test_service(settings: Settings) -> None:
    rows = []
    for i in range(40):  # logistics: 40 tickets in October, 32 resolved after 10 h, satisfaction 3.0
        rows.append({"ticket_id": f"L{i}", "created_at": "2026-10-02 10:00", "category": "物流",
                     "resolved_at": "2026-10-02 20:00" if i < 32 else None, "satisfaction": 3.0})
    for i in range(30):  # September: 30 logistics tickets, all resolved in September
        rows.append({"ticket_id": f"S{i}", "created_at": "2026-09-01 10:00", "category": "物流",
                     "resolved_at": "2026-09-03 10:00", "satisfaction": 4.0})
    for i in range(21):  # payments: 21 tickets (15 last month), slow: resolved after 100 h
        rows.append({"ticket_id": f"P{i}", "created_at": "2026-10-05 00:00", "category": "支付",
                     "resolved_at": "2026-10-09 04:00", "satisfaction": 4.5})
    for i in range(5):  # too few tickets to be judged
        rows.append({"ticket_id": f"X{i}", "created_at": "2026-10-05 00:00", "category": "其他",
                     "resolved_at": None, "satisfaction": 1.0})
    df = pm.service_problems(from_frames({"feedback": pd.DataFrame(rows)}), OCT, settings)
    # one category's troubles share one key: they read as one finding once merged; payments' slow p90 rests on 21
    # resolved tickets, under min_base (30): no verdict on it
    assert sorted(df["key"]) == ["service:物流", "service:物流"]
    got = {(r["key"], r["detector"]): r for r in df.to_dict("records")}
    r = got[("service:物流", "service_resolution")]
    assert r["evidence"]["rate"] == 0.8 and r["evidence"]["resolved"] == 32 and r["score"] == pytest.approx(0.5)
    assert got[("service:物流", "service_satisfaction")]["score"] == 0.5
    assert got[("service:物流", "service_satisfaction")]["evidence"]["rated"] == 40
    settings.min_base = 20  # a team that judges on 20: the 21 resolved payment tickets are slow
    slow = pm.service_problems(from_frames({"feedback": pd.DataFrame(rows)}), OCT, settings)
    s = slow[slow["detector"] == "service_slow"].iloc[0]
    assert s["key"] == "service:支付" and s["evidence"]["resolved"] == 21
    assert s["evidence"]["p90_hours"] == 100.0 and s["score"] == pytest.approx(100 / 144)
    settings.min_base = 30
    merged = pm.merge_problems([df])
    logistics = merged[merged["key"] == "service:物流"].iloc[0]
    assert logistics["evidence"]["also"] == ["service_satisfaction"]
    assert narrative(merged[merged["key"] == "service:物流"], "zh")[0].startswith(
        "【中】“物流”类工单解决率仅80.0%：本期40张中解决32张，低于90.0%的要求。同时：“物流”类工单满意度仅3.0（40张评分的均值，低于3.5）。")
    # 21 payment tickets: under min_base for the rate verdicts; 25 logistics tickets would be too
    settings.min_base = 41
    assert not set(pm.service_problems(from_frames({"feedback": pd.DataFrame(rows)}), OCT, settings)["detector"]) & {
        "service_resolution", "service_satisfaction"}


def test_a_surge_of_tickets_on_a_small_base_says_the_counts_not_a_percentage(settings: Settings) -> None:
    rows = [{"ticket_id": f"L{i}", "created_at": "2026-10-09 10:00", "category": "物流", "resolved_at": "2026-10-09 12:00"}
            for i in range(35)]
    rows += [{"ticket_id": f"S{i}", "created_at": "2026-09-01 10:00", "category": "物流",
              "resolved_at": "2026-09-01 12:00"} for i in range(3)]
    df = pm.service_problems(from_frames({"feedback": pd.DataFrame(rows)}), OCT, settings)
    r = df.iloc[0]
    assert r["detector"] == "service_volume" and r["evidence"]["rise"] is None and r["severity"] == "high"
    assert narrative(df, "zh")[0].startswith("【高】“物流”类工单激增至35张，上期仅3张：占本期全部工单的100.0%。")
    # 29 tickets this month: too few to call a surge
    df = pm.service_problems(from_frames({"feedback": pd.DataFrame(rows[6:])}), OCT, settings)
    assert df.empty


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
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(40)], "user_id": [f"c{i}" for i in range(40)],
                           "ts": "2026-10-15 12:00", "amount": 10.0, "channel": "A"})
    tp = pd.DataFrame({"user_id": [f"c{i}" for i in range(20)] + ["early"], "channel": "A",
                       "ts": ["2026-10-14"] * 16 + ["2026-10-16"] * 4 + ["2026-08-01"]})  # 4 touch only after buying
    pack = from_frames({"events": pd.DataFrame(ev), "orders": orders, "touchpoints": tp})
    # file packs reject duplicate keys at ingest; a warehouse (.duckdb) pack is read as it is
    users = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u3", "u3"],
                          "signup_at": pd.to_datetime(["2026-01-01"] * 3 + ["2026-11-02"] * 2)})
    pack.con.create_table("users", users)
    pack._names.append("users")
    df = by_key(pm.data_gap_problems(pack, OCT, settings))
    assert set(df) == {"data:unattributed:A", "data:missing_days:events", "data:tracking:android",
                       "data:duplicates:users"}
    u = df["data:unattributed:A"]["evidence"]
    assert (u["orders"], u["unattributed"], u["share"]) == (40, 24, 0.6)
    assert df["data:unattributed:A"]["score"] == pytest.approx(1.5)
    assert df["data:missing_days:events"]["evidence"]["days"] == ["2026-10-12"]
    tr = df["data:tracking:android"]["evidence"]
    assert tr["days"] == ["2026-10-10"] and tr["normal"] == 30.0 and tr["count"] == 0.0 and tr["table"] == "events"
    d = df["data:duplicates:users"]  # the duplicate signed up after the as-of day is not counted
    assert (d["evidence"]["rows"], d["evidence"]["duplicates"]) == (3, 1) and d["score"] == pytest.approx(0.5 + 10 / 3)
    zh = narrative(pm.merge_problems([pm.data_gap_problems(pack, OCT, settings)]), "zh")
    assert any(s.startswith("【高】平台“android”10月10日埋点中断：当天事件数为0，常态约每日30条。") for s in zh)


def test_unattributed_orders_wait_for_the_attribution_lookback(settings: Settings) -> None:
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(40)], "user_id": [f"c{i}" for i in range(40)],
                           "ts": "2026-10-15 12:00", "amount": 10.0, "channel": "A"})
    tp = pd.DataFrame({"user_id": ["c0"], "channel": "A", "ts": ["2026-10-01"]})  # touches start on 1 October
    df = pm.data_gap_problems(from_frames({"orders": orders, "touchpoints": tp}), OCT, settings)
    assert df.empty  # orders up to 30 October may have touches from before the data: not judged
    assert df.attrs["notes"] == [{"detector": "data_unattributed", "key": "", "reason": "warm_up_touchpoints",
                                  "first": "2026-10-01", "days": "30", "since": "2026-10-31"},
                                 {"detector": "data_missing_days", "key": "", "reason": "no_table:events"}]


def dau_pack(drop_day: str | None = "2026-10-20", *, web_break: str | None = None) -> from_frames:
    """Daily visits June–October on two platforms (web users w*, app users a*), with a weekly cycle."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2026-06-01", "2026-10-31", freq="D")
    counts = np.resize([60, 62, 59, 61, 60, 75, 78], len(days)) + rng.integers(-3, 4, len(days))
    if drop_day:
        counts[days.get_loc(pd.Timestamp(drop_day))] = 20
    rows = []
    for d, c in zip(days, counts, strict=True):
        for k in range(c):
            plat = "Web" if k % 2 else "App"
            if plat == "Web" and web_break and d == pd.Timestamp(web_break):
                continue  # the web tracker lost the day
            rows.append((f"{plat}{k}", d + pd.Timedelta(hours=12), plat))
    ev = pd.DataFrame(rows, columns=["user_id", "ts", "platform"]).assign(event="visit")
    return from_frames({"events": ev})


def test_anomaly_problem_on_a_pack(settings: Settings) -> None:
    df = by_key(pm.anomaly_problems(dau_pack(), OCT, settings))
    r = df["anomaly:dau"]
    ev = r["evidence"]
    assert ev["date"] == "2026-10-20" and ev["value"] == 20.0 and ev["direction"] == "down"
    assert ev["expected"] == pytest.approx(60, abs=3) and ev["z"] < -7
    assert r["severity"] == "high"  # |z| > 2 × 3.5
    assert "anomaly:new_users" not in df and "anomaly:gmv" not in df  # no users/orders tables


def test_a_tracking_break_is_one_problem_and_its_echoes_are_its_evidence(settings: Settings) -> None:
    pack = dau_pack(drop_day=None, web_break="2026-10-20")
    df = pm.detect_problems(pack, OCT, settings)
    assert "anomaly:dau" not in set(df["key"])  # the drop of DAU is the break's echo, not a second finding
    row = df[df["key"] == "data:tracking:Web"].iloc[0]
    ev = row["evidence"]
    assert ev["days"] == ["2026-10-20"] and row["severity"] == "high"
    echo, week = ev["echoes"]  # the day's DAU, and the churn of the week holding the day
    assert (echo["series"], echo["date"], echo["value"], echo["direction"]) == ("dau", "2026-10-20", 32.0, "down")
    assert echo["expected"] == pytest.approx(61, abs=3)
    assert (week["series"], week["date"], week["base"]) == ("churn", "2026-10-19", 76)
    (impact,) = ev["impacts"]  # the October average DAU loses (expected − 32) ÷ 31 a day
    assert impact["per_day"] == pytest.approx((echo["expected"] - 32) / 31)
    zh = narrative(df[df["key"] == "data:tracking:Web"], "zh")[0]
    assert zh.startswith("【高】平台“Web”10月20日埋点中断：当天事件数为0，常态约每日31条。受其影响，日活跃用户显示为32（常态")
    assert "不计为指标异常" in zh and "本期日活跃用户的日均值因此少计约1（" in zh
    # in the scan the day is excluded from the fit, never flagged, and no churn week reading it is judged
    scans = pm.anomaly_scan(pack, OCT, settings)
    dau = scans["dau"]
    assert dau.loc["2026-10-20", "reason"] == "excluded" and not dau.loc["2026-10-20", "flagged"]
    assert dau.loc["2026-10-20", "incident"] == "data:tracking:Web"
    churn = scans["churn"]
    assert churn.loc["2026-10-19", "incident"] == "data:tracking:Web" and not churn["flagged"].any()


def test_an_echo_of_an_earlier_incident_becomes_a_note() -> None:
    anomaly = pm._frame([])
    anomaly.attrs["echoes"] = [{"incident": "data:tracking:Web", "series": "churn", "date": "2026-10-05", "z": 5.0}]
    out = pm.fold_incidents([anomaly, pm._frame([])])
    assert out[-1].attrs["notes"] == [{"detector": "anomaly", "key": "churn", "reason": "incident_before",
                                       "date": "2026-10-05"}]


def test_anomaly_notes_for_short_history(settings: Settings) -> None:
    ev = pd.DataFrame({"user_id": ["a", "b"], "ts": ["2026-10-01", "2026-10-02"], "event": "visit"})
    df = pm.anomaly_problems(from_frames({"events": ev}), OCT, settings)
    assert df.empty
    # two days: too short to decompose; no complete week before a week with activity: no churn at all
    assert {(n["key"], n["reason"]) for n in df.attrs["notes"]} == {("dau", "too_short"), ("churn", "empty")}


def churn_pack(first: str = "2025-01-01") -> from_frames:
    """Weekly activity from ``first`` (a Wednesday): the first weeks lose far more users than later ones."""
    rows = []
    rng = np.random.default_rng(1)
    days = pd.date_range(first, "2025-06-30", freq="D")
    for i, d in enumerate(days):
        n = 200 if i < 21 else 80  # a launch push: many one-off visitors in the first three weeks
        users = [f"x{i}_{k}" for k in range(n - 60)] + [f"core{k}" for k in rng.choice(120, 60, replace=False)]
        rows += [(u, d + pd.Timedelta(hours=10)) for u in users]
    return from_frames({"events": pd.DataFrame(rows, columns=["user_id", "ts"]).assign(event="visit")})


def test_nothing_is_judged_in_the_warm_up_at_the_start_of_the_data(settings: Settings) -> None:
    pack = churn_pack()
    h1 = Period.parse("2025-Q1")
    scans = pm.anomaly_scan(pack, h1, settings)
    churn = scans["churn"]
    # the first churn week is 13 Jan: 1 Jan is a Wednesday, so the first complete week is 6–12 Jan
    assert churn.index[0] == pd.Timestamp("2025-01-13")
    # then 2 seasons of 4 weeks of churn before a week is judged: from 10 March
    assert churn.attrs["first_judged"] == pd.Timestamp("2025-03-10")
    assert set(churn.loc[:"2025-03-03", "reason"].dropna()) == {"warm_up"} and not churn["flagged"].any()
    assert scans["dau"].attrs["first_judged"] == pd.Timestamp("2025-01-15")  # two weeks of days
    df = pm.anomaly_rows(scans, settings)
    assert "anomaly:churn" not in set(df["key"])
    notes = {n["key"]: n for n in df.attrs["notes"] if n["reason"] == "warm_up"}
    assert notes["churn"]["first"] == "2025-03-10" and notes["dau"]["first"] == "2025-01-15"
    from opsnb.sections.problems import notes_text

    zh = notes_text(df.attrs["notes"], "zh")
    assert "“日活跃用户”：数据起始的预热期内不判断异常（常态需先有14天的历史），本期从2025年1月15日开始判断。" in zh
    assert ("“周流失率”：数据起始的预热期内不判断异常（流失率需上一整周的活跃用户，常态需先有8周的流失率），"
            "本期从2025年3月10日起的一周开始判断。") in zh


def test_an_annual_review_judges_every_day_of_its_year(settings: Settings) -> None:
    scans = pm.anomaly_scan(dau_pack(), Period.parse("2026"), settings)
    dau = scans["dau"]
    assert dau.index[0] == pd.Timestamp("2026-06-01")  # the data's first day, inside the longer history
    assert dau.attrs["first_judged"] == pd.Timestamp("2026-06-15")


def test_a_closed_day_is_no_anomaly() -> None:
    s = Settings()
    s.business_days.closed_dates = ["2026-10-20"]  # the shop is shut: DAU 20 that day is not news
    assert "anomaly:dau" not in set(pm.anomaly_problems(dau_pack(), OCT, s)["key"])


def test_rates_on_a_small_base_carry_no_verdict() -> None:
    idx = pd.date_range("2026-09-01", periods=60, freq="D")
    rng = np.random.default_rng(3)
    base = pd.Series(1000.0, index=idx)
    num = pd.Series(rng.binomial(1000, 0.1, 60).astype(float), index=idx)
    num.iloc[50] = 160.0  # 16 % against ~10 %: far outside the Wilson interval on 1,000
    from opsnb.metrics import anomalies as an

    r = an.robust_anomalies(num / base, 7)
    assert r["flagged"].iloc[50]
    judged = an.judge_rates(r, num, base, min_base=30)
    assert judged["flagged"].iloc[50] and judged["base"].iloc[50] == 1000
    small = an.judge_rates(r, num / 100, base / 100, min_base=30)  # the same rates on 10 users a day
    assert not small["flagged"].any() and small["reason"].iloc[50] == "small_base"
    wide = an.judge_rates(r, num / 25, base / 25, min_base=30)  # 6.4 of 40: the interval holds the usual 10 %
    assert not wide["flagged"].iloc[50] and wide["reason"].iloc[50] == "within_interval"


def test_a_finding_folds_a_smaller_one_of_the_same_area_and_days(settings: Settings) -> None:
    churn = pm._row("anomaly", "anomaly:churn", 2.0, "engagement",
                    {"series": "churn", "dates": ["2026-10-12"], "z": 14.0}, settings)
    dau = pm._row("anomaly", "anomaly:dau", 0.6, "engagement", {"series": "dau", "dates": ["2026-10-18"], "z": -4.0},
                  settings)
    gmv = pm._row("anomaly", "anomaly:gmv", 0.6, "revenue", {"series": "gmv", "dates": ["2026-10-18"], "z": -4.0},
                  settings)
    late = pm._row("anomaly", "anomaly:dau", 0.6, "engagement", {"series": "dau", "dates": ["2026-10-19"], "z": -4.0},
                   settings)
    out = pm._fold_related([dau, churn, gmv])
    assert [r["key"] for r in out] == ["anomaly:churn", "anomaly:gmv"]
    assert out[0]["evidence"]["with"] == [dau["evidence"]]
    assert [r["key"] for r in pm._fold_related([late, churn])] == ["anomaly:churn", "anomaly:dau"]


def test_anomaly_narrative_churn() -> None:
    row = {"detector": "anomaly", "key": "anomaly:churn", "severity": "medium", "score": 0.74, "area": "engagement",
           "owner": None, "evidence": {"series": "churn", "grain": "week", "unit": "ratio", "date": "2026-10-05",
                                       "value": 0.08, "expected": 0.05, "z": 5.2, "direction": "up", "num": 80,
                                       "base": 1000, "n_flagged": 1, "dates": ["2026-10-05"]}}
    df = pd.DataFrame([row])
    assert narrative(df, "zh") == ["【中】周流失率异常升至8.0%：2026年10月5日起的一周，比常态5.0%高3.0个百分点"
                                   "（上周活跃的1,000人中80人本周未再活跃）。\n"
                                   "建议：排查周流失率异常的原因（活动、版本发布、埋点或外部事件），确认是否需要干预。"
                                   "（建议负责人：用户运营团队）"]
    assert narrative(df, "en")[0].startswith("[Medium] Unusual rise in weekly churn, to 8.0%: in the week of 05 Oct "
                                             "2026, 3.0 pp above the usual 5.0% (80 of the 1,000 users active the "
                                             "week before did not come back).\nSuggested: ")


def test_several_days_read_as_one_run_and_name_what_coincided() -> None:
    row = {"detector": "anomaly", "key": "anomaly:conversion", "severity": "medium", "score": 0.9, "area": "revenue",
           "owner": None, "evidence": {"series": "conversion", "grain": "day", "unit": "ratio", "date": "2026-10-30",
                                       "value": 0.063, "expected": 0.106, "z": -6.3, "direction": "down", "num": 80,
                                       "base": 1271, "n_flagged": 4,
                                       "dates": ["2026-10-28", "2026-10-29", "2026-10-30", "2026-10-31"],
                                       "context": [{"kind": "experiment", "key": "结算按钮改版", "name_zh": "结算按钮改版",
                                                    "name_en": "结算按钮改版", "start": "2026-10-08",
                                                    "end": "2026-10-28", "edge": "end"}]}}
    zh = narrative(pd.DataFrame([row]), "zh")[0]
    assert zh.startswith("【中】日付费转化率4天异常偏低，最严重时为6.3%：2026年10月30日，比常态10.6%低4.3个百分点"
                         "（当日1,271名活跃用户中80人付费）。本期共4天异常：10月28日至10月31日。"
                         "同期事件：A/B实验“结算按钮改版”10月28日结束。\n建议：")


def test_context_events_coincide_by_overlap_or_by_an_edge_next_to_the_run() -> None:
    events = pd.DataFrame([
        {"kind": "holiday", "key": "x", "name_zh": "国庆节", "name_en": "National Day", "start": date(2026, 10, 1),
         "end": date(2026, 10, 7), "edge": "span"},
        {"kind": "campaign", "key": "c", "name_zh": "c", "name_en": "c", "start": date(2026, 10, 13),
         "end": date(2026, 10, 25), "edge": "start"},
        {"kind": "campaign", "key": "c", "name_zh": "c", "name_en": "c", "start": date(2026, 10, 13),
         "end": date(2026, 10, 25), "edge": "end"}], columns=pm.EVENT_COLUMNS)
    assert [e["name_zh"] for e in pm.coinciding(events, date(2026, 10, 7), date(2026, 10, 7))] == ["国庆节"]
    assert [e["edge"] for e in pm.coinciding(events, date(2026, 10, 12), date(2026, 10, 18))] == ["start"]
    assert pm.coinciding(events, date(2026, 10, 16), date(2026, 10, 20)) == []  # inside the campaign, not at its edges


def test_detect_problems_merges_manual_skips_missing_and_caps() -> None:
    s = Settings()
    s.problems.manual = [ManualProblem(title={"zh": "客服人手不足", "en": "Too few agents"}, severity="high",
                                       owner="客服主管")]
    s.problems.max_problems = 1
    s.problems.anomaly_series = []  # the sign-ups' step down in October is not this test's subject
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
    en = narrative(df.iloc[:1], "en")[0]  # the merged findings are said, after the leading one's evidence
    assert 'Also: Channel "A" gets more budget than it returns (it takes 50.0% of the budget' in en
    assert 'Channel "A" returned an ROI of only 1:0.5 (GMV ¥500.00 on spend ¥1,000' in en


def test_kpi_problems_with_the_goals_engine(settings: Settings) -> None:
    orders = pd.DataFrame({"order_id": ["1", "2"], "user_id": "u", "ts": ["2026-10-01", "2026-10-31"],
                           "amount": [300.0, 200.0]})
    kpis = pd.DataFrame({"metric": ["gmv", "orders"], "period": ["2026-10", "2026-10"], "target": [1000.0, 2.0]})
    df = pm.kpi_problems(from_frames({"orders": orders, "kpis": kpis}), OCT, settings)
    assert df["key"].tolist() == ["kpi:gmv"]  # orders 2 of 2 is met; GMV 500 of 1000 is missed
    assert df.iloc[0]["score"] == 2.5 and df.iloc[0]["severity"] == "high"
    assert narrative(df, "en")[0].startswith("[High] GMV missed its target, 50.0% attained: actual ¥500.00 against "
                                             "¥1,000.00.")


def test_two_problems_need_no_overview_chart():
    from opsnb.sections.problems import overview_chart

    two = pd.DataFrame({"area": ["growth", "revenue"], "severity": ["medium", "medium"]})
    assert overview_chart(two, "zh") is None
    three = pd.DataFrame({"area": ["growth", "revenue", "growth"], "severity": ["medium", "medium", "high"]})
    assert overview_chart(three, "zh") is not None




def as_of_frames(cut: pd.Timestamp | None) -> dict[str, pd.DataFrame]:
    """A pack running to mid-November, with loud changes after October; ``cut``: as known at that instant."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2026-06-01", "2026-11-15", freq="D")
    ev, orders, users, tp, fb, spend = [], [], [], [], [], []
    for i, d in enumerate(days):
        nov = d >= pd.Timestamp("2026-11-01")
        n = 10 if nov else 60 + int(rng.integers(-3, 4))  # November: DAU collapses
        ev += [(f"u{(i * 7 + k) % 150}", d + pd.Timedelta(hours=9 + k % 10), "Web" if k % 2 else "App")
               for k in range(n)]
        m = 40 if nov else 6  # November: a burst of orders, sign-ups, tickets, spend
        orders += [(f"o{i}_{k}", f"u{(i + k) % 150}", d + pd.Timedelta(hours=12), 100.0, "A") for k in range(m)]
        users += [(f"s{i}_{k}", d + pd.Timedelta(hours=8), "A") for k in range(m // 2)]
        tp += [(f"u{(i + k) % 150}", d + pd.Timedelta(hours=7), "A") for k in range(3)]
        fb += [(f"t{i}_{k}", d + pd.Timedelta(hours=10), "物流", d + pd.Timedelta(days=5), 4.0) for k in range(m // 3)]
        spend.append((d, "A", 500.0 if nov else 100.0))
    frames = {
        "events": pd.DataFrame(ev, columns=["user_id", "ts", "platform"]).assign(event="visit"),
        "orders": pd.DataFrame(orders, columns=["order_id", "user_id", "ts", "amount", "channel"]),
        "users": pd.DataFrame(users, columns=["user_id", "signup_at", "channel"]),
        "touchpoints": pd.DataFrame(tp, columns=["user_id", "ts", "channel"]),
        "feedback": pd.DataFrame(fb, columns=["ticket_id", "created_at", "category", "resolved_at", "satisfaction"]),
        "channel_spend": pd.DataFrame(spend, columns=["date", "channel", "cost"]),
        "campaigns": pd.DataFrame({"campaign_id": ["C0", "C1"], "name": ["会员日", "双十一"], "type": "promo",
                                   "start": ["2026-10-05", "2026-11-01"], "end": ["2026-10-10", "2026-11-11"],
                                   "cost": [5000.0, 1000.0]}),
        "experiments": pd.DataFrame({"experiment": "x", "variant": ["A", "B", "A"], "user_id": ["u1", "u2", "u3"],
                                     "ts": ["2026-10-25", "2026-10-30", "2026-11-05"]}),
    }
    if cut is None:
        return frames
    at = {"events": "ts", "orders": "ts", "users": "signup_at", "touchpoints": "ts", "feedback": "created_at",
          "channel_spend": "date", "campaigns": "start", "experiments": "ts"}
    out = {k: f[pd.to_datetime(f[at[k]]) < cut].copy() for k, f in frames.items()}
    fbk = out["feedback"]
    fbk["resolved_at"] = fbk["resolved_at"].where(pd.to_datetime(fbk["resolved_at"]) < cut)  # not yet resolved then
    return out


def test_no_detector_reads_a_day_after_the_as_of_day() -> None:
    """The problems of October are the same whether the pack runs to mid-November or stops on 31 October."""
    s = Settings()
    full = pm.detect_problems(from_frames(as_of_frames(None)), OCT, s)
    known = pm.detect_problems(from_frames(as_of_frames(pd.Timestamp("2026-11-01"))), OCT, s)
    assert {"data:unattributed:A", "service:物流"} <= set(full["key"])  # the October findings are there
    assert full[["key", "detector", "score"]].equals(known[["key", "detector", "score"]])
    assert full["evidence"].tolist() == known["evidence"].tolist()
    assert full.attrs["notes"] == known.attrs["notes"]
    q3 = Period.parse("2026-Q3")  # and a quarter, the months after it unread
    a = pm.detect_problems(from_frames(as_of_frames(None)), q3, s)
    b = pm.detect_problems(from_frames(as_of_frames(pd.Timestamp("2026-10-01"))), q3, s)
    assert a["evidence"].tolist() == b["evidence"].tolist() and a["key"].tolist() == b["key"].tolist()


def test_a_drop_on_a_public_holiday_is_a_holiday_effect_not_a_problem(settings: Settings) -> None:
    df = pm.anomaly_problems(dau_pack(drop_day="2026-10-01"), OCT, settings)  # 国庆节 in the unit's region (CN)
    assert "anomaly:dau" not in set(df["key"])
    (note,) = [n for n in df.attrs["notes"] if n["reason"] == "holiday"]
    assert note["key"] == "dau" and note["evidence"]["date"] == "2026-10-01"
    from opsnb.sections.problems import notes_text

    (text,) = notes_text([note], "zh")
    assert text.startswith("“日活跃用户”2026年10月1日降至20（常态") and text.endswith("节假日效应，不计为问题。")
    assert "国庆节" in text
