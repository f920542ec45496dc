"""Turn a :class:`~opsnb.sample.behaviour.Simulation` into the pack's tables.

Big tables become ``pyarrow.Table`` (ids as strings, naive ``timestamp[us]``); small tables
become pandas frames whose cells are already text or numbers, ready for a UTF-8 CSV.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from opsnb.sample import brand
from opsnb.sample.behaviour import EVENTS, STATUSES, Simulation
from opsnb.sample.calendar import DAY, N_DAYS, START, Calendar, month_of_day, month_starts, sec

_T0_US = int((np.datetime64(START.isoformat(), "us") - np.datetime64(0, "us")).astype(np.int64))
REVIEW = (2026, 10)


def _ts(seconds: np.ndarray) -> pa.Array:
    us = seconds.astype(np.int64)  # a copy: scaled in place
    us *= 1_000_000
    us += _T0_US
    return pa.array(us, type=pa.timestamp("us"))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _labels(names: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Dictionary-encoded text (written to Parquet as plain UTF-8 strings); negative codes are null."""
    codes = codes.astype(np.int32)
    missing = codes < 0
    idx = pa.array(np.where(missing, 0, codes), mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(names), pa.string()))


def _text_ts(seconds: np.ndarray) -> list[str]:
    stamps = np.datetime64(START.isoformat(), "s") + seconds.astype("timedelta64[s]")
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="s")]


def _text_day(days: np.ndarray) -> list[str]:
    return list(np.datetime_as_string(np.datetime64(START.isoformat(), "D") + days.astype("timedelta64[D]"), unit="D"))


def big_tables(sim: Simulation, id_prefix: str = "") -> dict[str, pa.Table]:
    """users, events, orders, touchpoints, experiments as Arrow tables.

    ``id_prefix`` goes before every id (users, sessions, orders, campaigns): a multi-unit pack
    (:mod:`opsnb.sample.units`) keeps each unit's ids apart with it.
    """
    n = len(sim.signup)
    width = max(7, len(str(n)))
    uid = _ids(f"{id_prefix}U", np.arange(1, n + 1), width)
    users = pa.table({
        "user_id": uid,
        "signup_at": _ts(sim.signup),
        "channel": _labels(brand.CHANNELS, sim.channel),
        "region": _labels(brand.REGIONS, sim.region),
        "platform": _labels(brand.PLATFORMS, sim.platform),
        "is_member": pa.array(sim.is_member, pa.bool_()),
    })
    sess_ids = _ids(f"{id_prefix}S", np.arange(1, sim.n_sessions + 1), max(8, len(str(sim.n_sessions))))
    events = pa.table({
        "user_id": uid.take(pa.array(sim.ev_user)),
        "ts": _ts(sim.ev_ts),
        "event": _labels(EVENTS, sim.ev_event),
        "platform": _labels(brand.PLATFORMS, sim.platform[sim.ev_user]),
        "channel": _labels(brand.CHANNELS, sim.channel[sim.ev_user]),
        "session_id": sess_ids.take(pa.array(sim.ev_session)),
    })
    refund = sim.or_status == 1
    prefix_width = max(8, len(str(int(sim.or_number.max()) if len(sim.or_number) else 0)))
    oid = pc.if_else(pa.array(refund), _ids(f"{id_prefix}R", sim.or_number, prefix_width),
                    _ids(f"{id_prefix}O", sim.or_number, prefix_width))
    camp_names = [f"{id_prefix}{c.campaign_id}" for c in brand.CAMPAIGNS]
    orders = pa.table({
        "order_id": oid,
        "user_id": uid.take(pa.array(sim.or_user)),
        "ts": _ts(sim.or_ts),
        "amount": pa.array(sim.or_amount, pa.float64()),
        "status": _labels(STATUSES, sim.or_status),
        "channel": _labels(brand.CHANNELS, sim.channel[sim.or_user]),
        "campaign_id": _labels(camp_names, sim.or_campaign),
    })
    touchpoints = pa.table({
        "user_id": uid.take(pa.array(sim.tp_user)),
        "ts": _ts(sim.tp_ts),
        "channel": _labels(brand.CHANNELS, sim.tp_channel),
        "campaign_id": _labels(camp_names, sim.tp_campaign),
    })
    eo = np.lexsort((sim.ex_user, sim.ex_ts))
    experiments = pa.table({
        "experiment": _labels([sim.info["experiment"]], np.zeros(len(eo), np.int32)),
        "variant": _labels(("A", "B"), sim.ex_variant[eo]),
        "user_id": uid.take(pa.array(sim.ex_user[eo])),
        "ts": _ts(sim.ex_ts[eo]),
    })
    return {"users": users, "events": events, "orders": orders, "touchpoints": touchpoints,
            "experiments": experiments}


# ---------------------------------------------------------------------------------------------
# actual numbers the small tables are calibrated against


def monthly_actuals(sim: Simulation) -> pd.DataFrame:
    """gmv, orders, new_users, active_users (average DAU) per month of the data (index 'YYYY-MM')."""
    mod = month_of_day()
    n_months = int(mod[-1]) + 1
    paid = sim.or_status == 0
    o_m = mod[sim.or_ts[paid] // DAY]
    gmv = np.bincount(o_m, weights=sim.or_amount[paid], minlength=n_months)
    orders = np.bincount(o_m, minlength=n_months)
    new = np.bincount(mod[sim.signup // DAY], minlength=n_months)
    n = len(sim.signup)
    pairs = pd.unique((sim.ev_ts // DAY) * n + sim.ev_user)
    dau = np.bincount(pairs // n, minlength=N_DAYS)
    days = np.bincount(mod, minlength=n_months)
    active = np.bincount(mod, weights=dau, minlength=n_months) / days
    labels = [m.strftime("%Y-%m") for m in month_starts()]
    return pd.DataFrame({"gmv": gmv, "orders": orders, "new_users": new, "active_users": active}, index=labels)


def campaign_actuals(sim: Simulation) -> pd.DataFrame:
    """Attributed GMV (paid orders with the campaign id), touched users and attributed new users per campaign.

    ``new`` follows the campaigns page's attribution (:mod:`opsnb.metrics.campaigns`): participants — a
    touchpoint or an order (any status) carrying the campaign id in its window — who signed up in the
    window. A campaign's ``target_new_users`` is set against it, so the page compares like with like.
    """
    k = len(brand.CAMPAIGNS)
    n_users = len(sim.signup)
    paid = (sim.or_status == 0) & (sim.or_campaign >= 0)
    gmv = np.bincount(sim.or_campaign[paid], weights=sim.or_amount[paid], minlength=k)
    tagged = sim.tp_campaign >= 0
    pairs = np.unique(sim.tp_campaign[tagged].astype(np.int64) * n_users + sim.tp_user[tagged])
    touched = np.bincount(pairs // n_users, minlength=k)
    lo = np.array([sec(c.start) for c in brand.CAMPAIGNS], dtype=np.int64)
    hi = lo + np.array([(c.end - c.start).days + 1 for c in brand.CAMPAIGNS], dtype=np.int64) * DAY
    part = []
    for camp, user, at in ((sim.tp_campaign, sim.tp_user, sim.tp_ts), (sim.or_campaign, sim.or_user, sim.or_ts)):
        c = camp.astype(np.int64)
        ok = c >= 0
        c, u, t = c[ok], user[ok].astype(np.int64), at[ok]
        inside = (t >= lo[c]) & (t < hi[c])
        part.append(c[inside] * n_users + u[inside])
    uniq = np.unique(np.concatenate(part))
    p_camp, p_user = uniq // n_users, uniq % n_users
    new_pairs = (sim.signup[p_user] >= lo[p_camp]) & (sim.signup[p_user] < hi[p_camp])
    new = np.bincount(p_camp[new_pairs], minlength=k)
    return pd.DataFrame({"gmv": gmv, "touched": touched, "new": new})


def _nice(x: float) -> float:
    """Round a money amount the way a plan would write it."""
    if x >= 20_000:
        return float(round(x, -2))
    if x >= 1_000:
        return float(round(x, -1))
    return float(round(x, 0))


def campaigns(sim: Simulation, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """campaigns.csv: costs calibrated to each campaign's aimed ROI on its attributed GMV."""
    act = campaign_actuals(sim)
    rows: list[dict[str, Any]] = []
    costs: list[float] = []
    past_11 = brand.CAMPAIGNS.index(next(c for c in brand.CAMPAIGNS if c.campaign_id == "CP2506"))
    for i, c in enumerate(brand.CAMPAIGNS):
        gmv, touched, new = float(act.gmv[i]), int(act.touched[i]), int(act.new[i])
        planned = sec(c.start) >= N_DAYS * DAY
        if planned:  # next 双十一: budget and targets grow on last year's
            cost = _nice(costs[past_11] * 1.2)
            reach, t_new, t_gmv = None, int(round(act.new[past_11] * 1.25)), _nice(float(act.gmv[past_11]) * 1.3)
        else:
            cost = _nice(gmv / c.roi)
            reach = int(touched * rng.integers(18, 40))
            t_new = int(round(new * rng.uniform(0.9, 1.12)))
            t_gmv = _nice(gmv * rng.uniform(0.9, 1.12))
        costs.append(cost)
        rows.append({"campaign_id": c.campaign_id, "name": c.name, "type": c.type,
                     "start": c.start.isoformat(), "end": c.end.isoformat(), "cost": cost, "channel": c.channel,
                     "reach": reach, "target_new_users": t_new, "target_gmv": t_gmv, "owner": c.owner})
    df = pd.DataFrame(rows)
    df["reach"] = df["reach"].astype("Int64")
    low = brand.CAMPAIGNS.index(next(c for c in brand.CAMPAIGNS if c.campaign_id == brand.LOW_ROI_CAMPAIGN))
    fact = {"kind": "low_roi_campaign", "campaign_id": brand.LOW_ROI_CAMPAIGN, "name": brand.CAMPAIGNS[low].name,
            "roi": round(float(act.gmv[low]) / float(df.loc[low, "cost"]), 3)}
    return df, fact


def channel_spend(sim: Simulation, cal: Calendar, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Daily spend per channel, ~22% of GMV, split by GMV share × channel tilt; KOL inflated from 2026-09."""
    mod = month_of_day()
    act = monthly_actuals_gmv(sim)
    days_in = np.bincount(mod)
    total = 0.22 * act[mod] / days_in[mod] * rng.lognormal(0.0, 0.06, N_DAYS) * np.where(cal.weekday >= 5, 1.08, 0.97)
    paid = sim.or_status == 0
    ch = sim.channel[sim.or_user[paid]]
    k = len(brand.CHANNELS)
    g_all = np.bincount(ch, weights=sim.or_amount[paid], minlength=k)
    oct_ = sim.or_ts[paid] >= sec(date(*REVIEW, 1))
    g_oct = np.bincount(ch[oct_], weights=sim.or_amount[paid][oct_], minlength=k)
    kol = brand.CHANNELS.index("KOL")
    tilt = np.array([brand.SPEND_TILT[c] for c in brand.CHANNELS])
    base = g_all / g_all.sum() * tilt
    base = base / base.sum()
    g_share = g_oct[kol] / g_oct.sum()
    target = min(g_share + 0.30, 0.65)
    boost = target * (1 - base[kol]) / (base[kol] * (1 - target))
    kol_mult = np.ones(N_DAYS)
    kol_mult[mod == mod[sec(date(2026, 9, 1)) // DAY]] = (1 + boost) / 2
    kol_mult[mod == mod[-1]] = boost
    w = np.tile(base, (N_DAYS, 1))
    w[:, kol] *= kol_mult
    w = w / w.sum(axis=1, keepdims=True)
    cost = np.round(total[:, None] * w * rng.lognormal(0.0, 0.08, (N_DAYS, k)), 2)
    cpm = np.array([brand.CPM[c] for c in brand.CHANNELS])
    ctr = np.clip(np.array([brand.CTR[c] for c in brand.CHANNELS]) * rng.lognormal(0.0, 0.08, (N_DAYS, k)),
                  0.005, 0.03)
    impressions = np.round(cost / cpm * 1000 * rng.lognormal(0.0, 0.05, (N_DAYS, k))).astype(np.int64)
    clicks = np.round(impressions * ctr).astype(np.int64)
    days = np.repeat(np.arange(N_DAYS), k)
    df = pd.DataFrame({"date": _text_day(days), "channel": np.tile(np.array(brand.CHANNELS), N_DAYS),
                       "cost": cost.ravel(), "impressions": impressions.ravel(), "clicks": clicks.ravel()})
    oct_days = mod == mod[-1]
    spend_share = float(cost[oct_days, kol].sum() / cost[oct_days].sum())
    fact = {"kind": "budget_imbalance", "channel": "KOL", "spend_share": round(spend_share, 3),
            "gmv_share": round(float(g_share), 3)}
    return df, fact


def monthly_actuals_gmv(sim: Simulation) -> np.ndarray:
    """Paid GMV per month (index 0 = 2025-01)."""
    mod = month_of_day()
    paid = sim.or_status == 0
    return np.bincount(mod[sim.or_ts[paid] // DAY], weights=sim.or_amount[paid], minlength=int(mod[-1]) + 1)


_TOPICS = ("实木餐桌", "北欧风沙发", "收纳神器", "床品四件套", "香薰蜡烛", "小户型改造", "原木书架", "懒人沙发",
           "乳胶枕", "厨房置物架", "玄关柜", "落地灯", "儿童房布置", "阳台花园")
_ANGLES = ("开箱测评", "搭配灵感", "好物推荐", "避坑指南", "新品首发", "限时福利", "真实买家秀", "设计师说")
_CONTENT_TYPES = {"小红书": (("图文", 0.65), ("短视频", 0.35)), "抖音": (("短视频", 0.75), ("直播", 0.25)),
                  "微博": (("图文", 0.6), ("短视频", 0.4)), "微信私域": (("图文", 0.8), ("直播", 0.2)),
                  "KOL": (("短视频", 0.5), ("直播", 0.3), ("图文", 0.2))}
_VIEWS = {"图文": 2500.0, "短视频": 9000.0, "直播": 15000.0}
_COST = {"图文": 1200.0, "短视频": 4500.0, "直播": 12000.0}


def content(cal: Calendar, rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    """≈300 posts, videos and live streams with long-tailed views and engagement."""
    chans = tuple(_CONTENT_TYPES)
    ch = rng.choice(len(chans), size=n, p=[0.3, 0.28, 0.14, 0.14, 0.14])
    u = rng.random(n)
    types = []
    for c, x in zip(ch, u, strict=True):  # 300 rows: a plain loop is the clearest
        acc = 0.0
        for name, p in _CONTENT_TYPES[chans[c]]:
            acc += p
            if x < acc:
                types.append(name)
                break
        else:
            types.append(_CONTENT_TYPES[chans[c]][-1][0])
    t = np.array(types)
    days = np.sort(rng.choice(N_DAYS, size=n, p=cal.signup / cal.signup.sum()))
    published = days * DAY + 9 * 3600 + rng.integers(0, 12 * 3600, n)
    base_views = np.array([_VIEWS[x] for x in t]) * np.where(np.array(chans)[ch] == "KOL", 2.5, 1.0)
    views = np.round(base_views * rng.lognormal(-0.8, 1.3, n)).astype(np.int64) + 50
    likes = rng.binomial(views, rng.uniform(0.02, 0.07, n))
    comments = rng.binomial(views, rng.uniform(0.002, 0.008, n))
    shares = rng.binomial(views, rng.uniform(0.001, 0.01, n))
    followers = rng.binomial(views, rng.uniform(0.001, 0.006, n))
    leads = rng.binomial(views, rng.uniform(0.001, 0.004, n))
    conversions = rng.binomial(leads, rng.uniform(0.1, 0.3, n))
    cost = np.round(np.array([_COST[x] for x in t]) * rng.uniform(0.6, 1.6, n)
                    * np.where(np.array(chans)[ch] == "KOL", 2.2, 1.0), -1)
    titles = [f"{_TOPICS[a]}｜{_ANGLES[b]}" for a, b in zip(rng.integers(0, len(_TOPICS), n),
                                                           rng.integers(0, len(_ANGLES), n), strict=True)]
    return pd.DataFrame({"content_id": [f"CT{i:04d}" for i in range(1, n + 1)], "published_at": _text_ts(published),
                         "channel": np.array(chans)[ch], "type": t, "title": titles, "views": views, "likes": likes,
                         "comments": comments, "shares": shares, "followers_gained": followers, "leads": leads,
                         "conversions": conversions, "cost": cost})


_CATEGORIES = ("物流", "质量", "售后", "支付", "咨询")
_CAT_SHARE = (0.35, 0.2, 0.25, 0.08, 0.12)
_CAT_HOURS = (20.0, 40.0, 30.0, 6.0, 3.0)
_PRIORITIES = ("高", "中", "低")


def feedback(sim: Simulation, rng: np.random.Generator) -> pd.DataFrame:
    """Service tickets, about 6 per 100 orders, a few days after the order."""
    src = np.flatnonzero(sim.or_status != 1)
    n = max(int(round(len(src) * 0.06)), 50)
    pick = np.sort(rng.choice(src, size=min(n, len(src)), replace=False))
    created = sim.or_ts[pick] + np.clip(rng.exponential(3 * DAY, len(pick)), 600, 20 * DAY).astype(np.int64)
    created = np.sort(created[created < N_DAYS * DAY])
    m = len(created)
    cat = rng.choice(len(_CATEGORIES), size=m, p=_CAT_SHARE)
    prio = rng.choice(3, size=m, p=[0.15, 0.5, 0.35])
    hours = np.asarray(_CAT_HOURS)[cat] * np.array([0.5, 1.0, 1.4])[prio] * rng.lognormal(-0.1, 0.6, m)
    resolved = created + (hours * 3600).astype(np.int64)
    open_ = (rng.random(m) < 0.03) | (resolved >= N_DAYS * DAY)
    sat = np.clip(np.round(4.6 - 0.45 * np.log1p(hours / 24) + rng.normal(0, 0.6, m)), 1, 5)
    res_txt = np.array(_text_ts(resolved), dtype=object)
    res_txt[open_] = ""
    sat_col = pd.Series(sat, dtype="Float64").mask(open_)
    return pd.DataFrame({"ticket_id": [f"T{i:06d}" for i in range(1, m + 1)], "created_at": _text_ts(created),
                         "category": np.array(_CATEGORIES)[cat], "resolved_at": res_txt,
                         "priority": np.array(_PRIORITIES)[prio], "satisfaction": sat_col})


def kpis(sim: Simulation, rng: np.random.Generator,
         planted: dict[str, float] | None = None) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
    """Monthly targets 2025-01..2026-12 (+ yearly 2026 for gmv/new_users); planted attainments.

    ``planted``: metric → attainment of the review month (default: new users missed at 85 %, GMV
    exceeded at 108 %); the other metrics land at 100–102.5 %. One fact per planted metric.
    """
    act = monthly_actuals(sim)
    n_months = len(act)
    t = np.arange(n_months) / max(n_months - 1, 1)
    nps = np.round(41 + 6 * t + rng.normal(0, 1.0, n_months), 1)
    act["nps"] = nps
    review = f"{REVIEW[0]}-{REVIEW[1]:02d}"
    planted = {"new_users": 0.85, "gmv": 1.08} if planted is None else planted
    rows = []
    for metric in ("gmv", "orders", "new_users", "active_users", "nps"):
        att = rng.uniform(0.975, 1.03, n_months)
        for i, label in enumerate(act.index):
            a = float(act[metric].iloc[i])
            if label == review:
                att_i = planted.get(metric, float(rng.uniform(1.0, 1.025)))
            else:
                att_i = float(att[i])
            target = _round_target(metric, a / att_i)
            if label != review and not 0.97 <= a / target <= 1.03:  # rounding a small target
                target = _round_target(metric, a)
            rows.append({"metric": metric, "period": label, "target": target,
                         "actual": float(a) if metric == "nps" else None})
        # the plan for the rest of the year: last year's month × this year's growth
        this = act[metric].iloc[12:n_months].sum()
        last = act[metric].iloc[: n_months - 12].sum()
        growth = this / last if metric != "nps" else 1.0
        for month in (11, 12):
            prev = float(act[metric].loc[f"2025-{month:02d}"])
            target = _round_target(metric, prev * growth + (0.5 if metric == "nps" else 0.0))
            rows.append({"metric": metric, "period": f"2026-{month:02d}", "target": target, "actual": None})
    df = pd.DataFrame(rows)
    for metric in ("gmv", "new_users"):
        year = df[(df.metric == metric) & df.period.str.startswith("2026-")]["target"].sum()
        df.loc[len(df)] = {"metric": metric, "period": "2026", "target": _round_target(metric, year), "actual": None}
    facts = []
    for metric, att_p in planted.items():
        kind = "exceeded_kpi" if att_p >= 1 else "missed_kpi"
        target = float(df[(df.metric == metric) & (df.period == review)]["target"].iloc[0])
        facts.append({"kind": kind, "metric": metric, "period": review,
                      "actual": round(float(act[metric].loc[review]), 2), "target": target,
                      "attainment": round(float(act[metric].loc[review]) / target, 4)})
    return df, facts, act


def _round_target(metric: str, x: float) -> float:
    if metric == "gmv":
        return float(round(x, -2)) if x >= 100_000 else float(round(x))
    if metric == "nps":
        return float(round(x, 1))
    return float(round(x))


def actions() -> tuple[pd.DataFrame, dict]:
    """≈15 improvement actions; exactly one is overdue (due before the period ends, not done)."""
    d = date.fromisoformat
    rows = [
        ("A01", "搭建会员积分体系", "刘子涵", "2025-03-01", "2025-05-31", "done", "2025-05-26", "会员渗透率", 0.2, 120000, "复购率偏低"),
        ("A02", "小程序下单流程改版", "张思远", "2025-04-10", "2025-06-10", "done", "2025-06-05", "转化率", 0.05, 80000, "下单流程转化低"),
        ("A03", "物流服务商切换与时效提升", "周博文", "2025-05-01", "2025-08-31", "done", "2025-08-20", "平均处理时长", 24, 60000, "物流投诉多"),
        ("A04", "小红书种草内容矩阵", "赵可欣", "2025-07-01", "2025-12-31", "done", "2025-12-28", "新增用户", 3000, 150000, "新客获取成本高"),
        ("A05", "双十一大促备货与客服扩容", "王晓雯", "2025-09-15", "2025-11-15", "done", "2025-11-12", "GMV", 1500000, 300000, "大促履约压力"),
        ("A06", "客服知识库与智能应答", "周博文", "2025-10-01", "2026-03-31", "done", "2026-03-25", "满意度", 4.5, 90000, "咨询响应慢"),
        ("A07", "老带新奖励机制升级", "杨帆", "2026-02-01", "2026-04-30", "done", "2026-04-22", "新增用户", 2000, 70000, "拉新渠道单一"),
        ("A08", "618会场与搜索优化", "李明轩", "2026-04-15", "2026-06-15", "done", "2026-06-12", "GMV", 1200000, 200000, "大促流量承接不足"),
        ("A09", "抖音投放归因埋点补齐", "张思远", "2026-08-15", "2026-10-15", "delayed", "", "归因覆盖率", 0.95, 30000, "订单无法归因到渠道"),
        ("A10", "会员专享日活动复盘与SOP", "刘子涵", "2026-09-01", "2026-10-20", "done", "2026-10-18", "会员复购率", 0.35, 20000, "会员活动效果不稳定"),
        ("A11", "流失用户召回计划", "陈佳怡", "2026-10-15", "2026-12-31", "in_progress", "", "周流失率", 0.3, 80000, "用户流失上升"),
        ("A12", "KOL投放预算重新分配", "赵可欣", "2026-10-20", "2026-12-15", "in_progress", "", "渠道ROI", 3.0, 0, "KOL投放回报偏低"),
        ("A13", "双十一大促筹备", "王晓雯", "2026-09-20", "2026-11-15", "in_progress", "", "GMV", 2000000, 350000, "大促履约压力"),
        ("A14", "会员体系2.0（等级与权益）", "刘子涵", "2026-11-01", "2027-06-30", "planned", "", "会员渗透率", 0.3, 250000, "复购率偏低"),
        ("A15", "自有商城Web端重构", "李明轩", "2026-12-01", "2027-08-31", "planned", "", "转化率", 0.06, 400000, "Web端体验落后"),
        ("A16", "私域社群精细化运营", "杨帆", "2027-01-01", "2027-06-30", "planned", "", "复购率", 0.3, 100000, "社群活跃度低"),
    ]
    df = pd.DataFrame(rows, columns=["action_id", "title", "owner", "start", "due", "status", "done_at", "metric",
                                     "target", "budget", "problem"])
    long = [(d(b) - d(a)).days > 120 for a, b in zip(df.start, df.due, strict=True)]
    df.insert(7, "horizon", ["long" if x else "short" for x in long])
    return df, {"kind": "overdue_action", "action_id": "A09", "due": "2026-10-15", "status": "delayed"}


def risks() -> pd.DataFrame:
    """A six-line risk register."""
    rows = [
        ("双十一物流爆仓导致履约延迟", 3, 4, "提前锁定仓配产能，分批预售发货", "周博文"),
        ("核心KOL合作价格上涨、效果下滑", 4, 3, "建立中腰部达人矩阵，按ROI动态分配预算", "赵可欣"),
        ("抖音平台规则变化影响投放与归因", 3, 3, "补齐服务端埋点，接入平台归因接口", "张思远"),
        ("原材料（木材）成本上涨压缩毛利", 2, 4, "与供应商签订年度框架协议，优化产品结构", "王晓雯"),
        ("用户流失上升、老客活跃度下降", 3, 4, "上线流失预警与分层召回，强化会员权益", "陈佳怡"),
        ("数据合规与个人信息保护要求趋严", 2, 5, "完善隐私协议与数据分级，定期合规审计", "李明轩"),
    ]
    return pd.DataFrame(rows, columns=["risk", "likelihood", "impact", "mitigation", "owner"])

