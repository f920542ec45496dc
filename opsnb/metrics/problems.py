"""Problem detectors (04 问题与挑战): find, score, merge and rank problems from the data.

Every detector is ``fn(pack, period, settings) -> DataFrame`` with the columns of
:data:`COLUMNS`:

* ``detector`` — which detector found it (``kpi``, ``anomaly``, ``roi_channel``, ``roi_campaign``,
  ``cac``, ``budget``, ``action_overdue``, ``action_late``, ``action_slipped``, ``service_*``,
  ``data_*``, ``manual``); its text templates are ``problems.bullet.<detector>`` and
  ``problems.suggest.<detector>``;
* ``key`` — a stable id used to merge duplicates (``kpi:new_users``, ``action:A7``);
* ``score`` — how bad, on one scale for all detectors: 1.0 = clearly serious. ``severity`` is
  ``high`` at ``score ≥ settings.problems.severity_high``, ``medium`` at ``≥ severity_medium``,
  else ``low``;
* ``area`` — growth, revenue, engagement, marketing, execution, service, data, manual;
* ``owner`` — from the data when it exists (campaign or action owner), else ``None`` and the
  area's role is shown (:func:`owner_text`);
* ``evidence`` — a dict of the numbers the text is generated from.

Notes (a detector skipped because its table is missing, a series too short to decompose…) are
in ``df.attrs["notes"]``: a list of ``{"detector", "key", "reason"}`` dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics import anomalies as an
from opsnb.metrics.calendar import business_calendar
from opsnb.metrics.orders import paid_orders
from opsnb.pack import Pack
from opsnb.pack.expr import flag, money_sum
from opsnb.periods import Period

COLUMNS = ["detector", "key", "severity", "score", "area", "owner", "evidence"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

#: Built-in KPI definitions → the area (and so the suggested owner role) that answers for them.
KPI_AREAS = {
    "new_users": "growth", "cac": "growth",
    "gmv": "revenue", "orders": "revenue", "aov": "revenue", "paying_users": "revenue",
    "conversion_rate": "revenue", "repurchase_rate": "revenue",
    "active_users": "engagement", "mau": "engagement", "retention_d30": "engagement", "churn_rate": "engagement",
    "roi": "marketing",
    "resolution_rate": "service", "resolution_hours": "service", "satisfaction": "service", "nps": "service",
}
SERIES_AREAS = {"dau": "engagement", "new_users": "growth", "gmv": "revenue", "conversion": "revenue",
                "churn": "engagement"}
#: Which way a series moving is bad (only these moves are problems unless ``anomaly_both_directions``).
ADVERSE = {"dau": "down", "new_users": "down", "gmv": "down", "conversion": "down", "churn": "up"}
DONE_STATUSES = ("done", "completed", "complete", "closed", "完成", "已完成")
CANCELLED_STATUSES = ("cancelled", "canceled", "dropped", "取消", "已取消")
POSTPONED_STATUSES = ("postponed", "delayed", "deferred", "推迟", "延期", "已推迟", "已延期")
NO_CHANNEL = "(none)"


def _ps(settings: Any) -> Any:
    """Accept the whole :class:`~opsnb.params.Settings` or its ``problems`` part."""
    return getattr(settings, "problems", settings)


def severity_of(score: float, settings: Any) -> str:
    """``high``/``medium``/``low`` for a score, by the cuts in the problems settings."""
    ps = _ps(settings)
    if score >= ps.severity_high:
        return "high"
    if score >= ps.severity_medium:
        return "medium"
    return "low"


def _row(detector: str, key: str, score: float, area: str, evidence: dict[str, Any], settings: Any,
         owner: str | None = None) -> dict[str, Any]:
    score = round(float(score), 6)
    return {"detector": detector, "key": key, "severity": severity_of(score, settings), "score": score,
            "area": area, "owner": owner if owner else None, "evidence": evidence}


def _frame(rows: list[dict[str, Any]], notes: list[dict[str, str]] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["score"] = df["score"].astype("float64")
    df.attrs["notes"] = list(notes or [])
    return df


def _note(detector: str, reason: str, key: str = "") -> dict[str, str]:
    return {"detector": detector, "key": key, "reason": reason}


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _in(t: ibis.Table, col: str, start: date, end: date) -> Any:
    return (t[col] >= _ts(start)) & (t[col] < _ts(end))


def _num(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


# ---------------------------------------------------------------- KPIs


def kpi_rows(att: pd.DataFrame, settings: Any) -> pd.DataFrame:
    """Problems from a goals-engine attainment frame: one per KPI with status ``missed``.

    Score = (1 − attainment) ÷ ``kpi_gap_high`` (attainment is direction-aware in the goals engine).
    """
    ps = _ps(settings)
    rows = []
    for r in att.to_dict("records"):
        if r.get("status") != "missed" or _num(r.get("attainment")) is None:
            continue
        gap = 1.0 - float(r["attainment"])
        label = r.get("label_zh") or r.get("label")
        ev = {"kpi": r["key"], "label": label, "label_en": r.get("label_en") or label, "unit": r.get("unit", "count"),
              "direction": r.get("direction", "higher"), "actual": _num(r.get("actual")),
              "target": _num(r.get("target")), "attainment": float(r["attainment"]), "gap": gap}
        rows.append(_row("kpi", f"kpi:{r['key']}", gap / ps.kpi_gap_high,
                         KPI_AREAS.get(str(r["key"]), "revenue"), ev, settings))
    return _frame(rows)


def kpi_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Missed KPIs from the goals engine (:func:`opsnb.metrics.kpis.attainment`), by size of the gap."""
    try:
        from opsnb.metrics.kpis import attainment
    except ImportError:
        return _frame([], [_note("kpi", "goals_engine_missing")])
    att = attainment(pack, period, settings)
    df = kpi_rows(att, settings)
    return df


# ---------------------------------------------------------------- anomalies


def anomaly_scan(pack: Pack, period: Period, settings: Any) -> dict[str, pd.DataFrame]:
    """The scored series (``robust_anomalies`` frames) of every monitored series, by key.

    A series whose table is missing is absent from the result; its frame's ``attrs["status"]``
    says when it could not be scored (``too_short``, ``not_computable``).
    """
    ps = _ps(settings)
    out = {}
    for key in ps.anomaly_series:
        spec = an.SERIES[key]
        if not pack.has(spec.table) or (key == "conversion" and not pack.has("orders")):
            continue
        try:
            s = an.series_for(pack, key, period, ps)
        except NoData:
            continue
        season = 7 if spec.grain == "day" else ps.anomaly_weekly_period
        r = an.robust_anomalies(s, season, ps.anomaly_z, ps.anomaly_consecutive, min_seasons=ps.anomaly_min_seasons,
                                seasonal=ps.anomaly_stl_seasonal)
        r["in_period"] = an.in_period(r.index, period, spec.grain)
        out[key] = r
    return out


def anomaly_rows(scans: dict[str, pd.DataFrame], settings: Any) -> pd.DataFrame:
    """One problem per series with flagged (adverse) points inside the period; notes for the rest."""
    ps = _ps(settings)
    rows, notes = [], []
    for key, r in scans.items():
        status = r.attrs.get("status", "ok")
        if status != "ok":
            notes.append(_note("anomaly", status, key))
            continue
        hits = r[r["flagged"] & r["in_period"]].copy()
        if not ps.anomaly_both_directions:
            sign = 1 if ADVERSE[key] == "up" else -1
            hits = hits[(hits["resid"] * sign) > 0]
        if hits.empty:
            continue
        z = hits["z"].astype("float64")
        worst = z.abs().idxmax()
        w = hits.loc[worst]
        spec = an.SERIES[key]
        ev = {"series": key, "grain": spec.grain, "unit": spec.unit, "date": worst.date().isoformat(),
              "value": float(w["value"]), "expected": float(w["expected"]), "z": float(w["z"]),
              "direction": "up" if w["resid"] > 0 else "down", "n_flagged": int(len(hits)),
              "dates": [d.date().isoformat() for d in hits.index]}
        rows.append(_row("anomaly", f"anomaly:{key}", abs(float(w["z"])) / (2 * ps.anomaly_z),
                         SERIES_AREAS[key], ev, settings))
    return _frame(rows, notes)


def anomaly_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Anomalies in daily DAU, new users, GMV, conversion and weekly churn (see :mod:`anomalies`).

    Score = |z| ÷ (2 × ``anomaly_z``): a flagged point is at least medium, twice the threshold high.
    """
    return anomaly_rows(anomaly_scan(pack, period, settings), settings)


# ---------------------------------------------------------------- channels and campaigns


def channel_economics(pack: Pack, period: Period) -> pd.DataFrame:
    """Per channel with spend in ``period``: cost, GMV (paid orders by ``orders.channel``), ROI, shares.

    Columns ``channel, cost, gmv, roi, spend_share, return_share`` — shares are within the channels
    that have spend, so organic traffic does not distort the budget comparison. ROI is None when
    cost is 0 (such channels are not listed).
    """
    cs = pack.table("channel_spend")
    cs = cs.filter(_in(cs, "date", period.start, period.end))
    spend = cs.group_by("channel").aggregate(cost=money_sum(cs.cost)).execute()
    spend = spend[spend["cost"] > 0]
    if spend.empty:
        raise NoData("channel_spend", f"no spend in {period.label}")
    gmv = pd.DataFrame({"channel": pd.Series(dtype="string"), "gmv": pd.Series(dtype="float64")})
    if pack.has("orders") and "channel" in pack.table("orders").columns:
        o = paid_orders(pack)
        o = o.filter(_in(o, "ts", period.start, period.end))
        gmv = o.group_by("channel").aggregate(gmv=money_sum(o.amount)).execute()
    df = spend.merge(gmv, on="channel", how="left")
    df["gmv"] = df["gmv"].astype("float64").fillna(0.0)
    df["cost"] = df["cost"].astype("float64")
    df["roi"] = df["gmv"] / df["cost"]
    df["spend_share"] = df["cost"] / df["cost"].sum()
    total = df["gmv"].sum()
    df["return_share"] = df["gmv"] / total if total > 0 else 0.0
    return df.sort_values("cost", ascending=False).reset_index(drop=True)


def roi_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Channels and campaigns with ROI below ``roi_threshold``.

    Channels: GMV by ``orders.channel`` ÷ spend in the period (channels below ``min_spend_share``
    of the budget are ignored). Campaigns: :func:`opsnb.metrics.campaigns.campaign_results` for
    campaigns that ended inside the period (a running campaign is not judged yet).
    Score = (threshold − ROI) ÷ threshold: ROI 0 → 1 (high), half the threshold → 0.5 (medium).
    """
    ps = _ps(settings)
    thr = ps.roi_threshold
    rows, notes = [], []
    if thr <= 0:
        return _frame([], [_note("roi", "threshold_zero")])
    if pack.has("channel_spend"):
        try:
            ch = channel_economics(pack, period)
        except NoData as exc:
            notes.append(_note("roi_channel", exc.reason))
            ch = pd.DataFrame()
        for r in ch.to_dict("records"):
            if r["spend_share"] < ps.min_spend_share or r["roi"] >= thr:
                continue
            ev = {"channel": r["channel"], "roi": float(r["roi"]), "cost": float(r["cost"]), "gmv": float(r["gmv"]),
                  "threshold": thr}
            rows.append(_row("roi_channel", f"channel:{r['channel']}", (thr - r["roi"]) / thr, "marketing",
                             ev, settings))
    else:
        notes.append(_note("roi_channel", "no_table:channel_spend"))
    if pack.has("campaigns") and pack.has("orders"):
        try:
            from opsnb.metrics.campaigns import campaign_results

            cr = campaign_results(pack, period, roi_threshold=thr)
        except NoData as exc:
            notes.append(_note("roi_campaign", exc.reason))
            cr = pd.DataFrame()
        for r in cr.to_dict("records"):
            end = pd.Timestamp(r["end"]).date()
            roi = _num(r.get("roi"))
            if roi is None or roi >= thr or not period.contains(end):
                continue
            ev = {"campaign": r["name"], "campaign_id": r["campaign_id"], "roi": roi, "cost": _num(r.get("cost")),
                  "gmv": _num(r.get("gmv")), "threshold": thr}
            rows.append(_row("roi_campaign", f"roi:campaign:{r['campaign_id']}", (thr - roi) / thr, "marketing",
                             ev, settings, owner=r.get("owner") if isinstance(r.get("owner"), str) else None))
    else:
        notes.append(_note("roi_campaign", "no_table:campaigns"))
    return _frame(rows, notes)


def _cac_by_channel(pack: Pack, p: Period) -> pd.DataFrame:
    cs = pack.table("channel_spend")
    cs = cs.filter(_in(cs, "date", p.start, p.end))
    cost = cs.group_by("channel").aggregate(cost=money_sum(cs.cost))
    u = pack.table("users")
    u = u.filter(_in(u, "signup_at", p.start, p.end) & u.channel.notnull())
    new = u.group_by("channel").aggregate(new_users=u.user_id.nunique())
    j = cost.left_join(new, "channel").select(cost.channel, cost.cost, new_users=new.new_users.fill_null(0))
    df = j.execute()
    df["cac"] = np.where(df["new_users"] > 0, df["cost"] / df["new_users"].where(df["new_users"] > 0, 1), np.nan)
    return df


def cac_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Channels whose CAC (spend ÷ new users with ``users.channel``) rose by more than ``cac_rise_threshold``.

    Compared with the previous period of the same kind. Score = rise ÷ (2 × threshold). A channel
    with no new users in either period has no CAC and is skipped.
    """
    ps = _ps(settings)
    for t in ("channel_spend", "users"):
        if not pack.has(t):
            return _frame([], [_note("cac", f"no_table:{t}")])
    if "channel" not in pack.table("users").columns:
        return _frame([], [_note("cac", "no_column:users.channel")])
    now = _cac_by_channel(pack, period)
    before = _cac_by_channel(pack, period.previous())
    df = now.merge(before, on="channel", suffixes=("", "_prev"))
    df = df[df["cac"].notna() & df["cac_prev"].notna() & (df["cac_prev"] > 0)]
    total = now["cost"].sum()
    rows = []
    for r in df.to_dict("records"):
        rise = r["cac"] / r["cac_prev"] - 1
        if rise <= ps.cac_rise_threshold or (total > 0 and r["cost"] / total < ps.min_spend_share):
            continue
        ev = {"channel": r["channel"], "cac": float(r["cac"]), "cac_prev": float(r["cac_prev"]), "rise": float(rise),
              "threshold": ps.cac_rise_threshold}
        score = rise / (2 * ps.cac_rise_threshold) if ps.cac_rise_threshold > 0 else 1.0
        rows.append(_row("cac", f"channel:{r['channel']}", score, "growth", ev, settings))
    return _frame(rows)


def budget_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Channels whose budget share exceeds their return (GMV) share by more than ``budget_gap_pp`` points.

    Shares are within the channels with spend (:func:`channel_economics`). The channel whose
    return share most exceeds its budget share is named as where budget could go. Score = gap ÷
    (2 × ``budget_gap_pp``).
    """
    ps = _ps(settings)
    if not pack.has("channel_spend"):
        return _frame([], [_note("budget", "no_table:channel_spend")])
    try:
        ch = channel_economics(pack, period)
    except NoData as exc:
        return _frame([], [_note("budget", exc.reason)])
    ch["gap_pp"] = (ch["spend_share"] - ch["return_share"]) * 100
    under = ch.sort_values("gap_pp").iloc[0]
    rows = []
    for r in ch.to_dict("records"):
        if r["gap_pp"] <= ps.budget_gap_pp:
            continue
        ev = {"channel": r["channel"], "spend_share": float(r["spend_share"]),
              "return_share": float(r["return_share"]), "gap_pp": float(r["gap_pp"]),
              "to_channel": under["channel"] if under["gap_pp"] < 0 else None,
              "to_spend_share": float(under["spend_share"]), "to_return_share": float(under["return_share"])}
        score = r["gap_pp"] / (2 * ps.budget_gap_pp) if ps.budget_gap_pp > 0 else 1.0
        rows.append(_row("budget", f"channel:{r['channel']}", score, "marketing", ev, settings))
    return _frame(rows)


# ---------------------------------------------------------------- actions


def _quarter(d: date) -> str:
    return Period.containing(d, "quarter").label


def action_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Overdue, done-late and slipped actions (``actions`` table; ``due`` is an inclusive day).

    Everything is judged as of the review's as-of day (the period's last day, or the data's last
    day when the pack ends earlier — the plan page's day): nothing dated after it counts. The
    table's undated statuses (done without ``done_at``, postponed) describe the data's last day, so
    they count only when the review is as of that day; a past period's review (the 2025 annual
    review run with data to 2026-10) judges by the dates alone.

    * overdue: due before the as-of day, not done by then (no ``done_at`` ≤ as-of day, and not
      marked done: on a current review, or by its due day), not cancelled; days overdue = as-of day − due (the plan
      page's figure); score = days ÷ ``overdue_days_high``, at least 0.5;
    * done late: ``done_at`` inside the period (up to the as-of day) and after ``due``; score =
      days late ÷ (2 × ``overdue_days_high``);
    * slipped: done (or, if open, still open at the as-of day) in a later quarter than the due
      quarter, or status postponed/延期 on a current review; score 0.75 (medium).
    One action gives one problem: they share the key ``action:<id>`` and are merged.
    """
    ps = _ps(settings)
    if not pack.has("actions"):
        return _frame([], [_note("actions", "no_table:actions")])
    from opsnb.metrics.kpis import as_of_day  # the goals page's as-of day (imported here: kpis is heavy)

    as_of = as_of_day(pack, period)
    current = as_of >= (pack.day_range()[1] or as_of)  # undated statuses describe the data's last day
    a = pack.table("actions")
    cols = ["action_id", "title", "owner", "start", "due"] + [c for c in ("status", "done_at") if c in a.columns]
    a = a.filter(a.start <= _ts(as_of)).select(*cols)
    df = a.execute()
    if df.empty:
        return _frame([])
    status = df["status"].astype("string").str.strip().str.lower() if "status" in df else pd.Series(
        pd.NA, index=df.index, dtype="string")
    done_at = pd.to_datetime(df["done_at"]) if "done_at" in df else pd.Series(pd.NaT, index=df.index)
    done_at = done_at.where(done_at <= _ts(as_of))  # a day after the as-of day is not known yet
    due = pd.to_datetime(df["due"])
    last = _ts(as_of)
    # undated "done": done by now on a current review, else taken as done by its due day
    marked_done = status.isin(DONE_STATUSES).fillna(False) & done_at.isna() & (current | (due <= last))
    done_by_end = done_at.notna() | marked_done
    cancelled = status.isin(CANCELLED_STATUSES).fillna(False)
    postponed = status.isin(POSTPONED_STATUSES).fillna(False) & current
    rows = []
    end_q = _quarter(as_of)
    for i in df.index:
        base = {"action_id": df.at[i, "action_id"], "title": df.at[i, "title"], "due": due[i].date().isoformat()}
        owner = df.at[i, "owner"] if isinstance(df.at[i, "owner"], str) else None
        key = f"action:{df.at[i, 'action_id']}"
        if cancelled[i]:
            continue
        due_q = _quarter(due[i].date())
        if not done_by_end[i] and due[i] < last:  # the plan's rule: late once its due day is before the as-of day
            days = int((last - due[i]).days)
            rows.append(_row("action_overdue", key, max(0.5, days / ps.overdue_days_high), "execution",
                             {**base, "days": days, "status": None if pd.isna(status[i]) else str(status[i])},
                             settings, owner))
            if end_q > due_q:
                rows.append(_row("action_slipped", key, 0.75, "execution",
                                 {**base, "from_quarter": due_q, "to_quarter": end_q}, settings, owner))
        elif postponed[i]:
            rows.append(_row("action_slipped", key, 0.75, "execution",
                             {**base, "from_quarter": due_q, "to_quarter": max(due_q, end_q)}, settings, owner))
        if pd.notna(done_at[i]) and period.contains(done_at[i].date()) and done_at[i] > due[i]:
            days = int((done_at[i] - due[i]).days)
            rows.append(_row("action_late", key, days / (2 * ps.overdue_days_high), "execution",
                             {**base, "days": days, "done_at": done_at[i].date().isoformat()}, settings, owner))
            done_q = _quarter(done_at[i].date())
            if done_q > due_q:
                rows.append(_row("action_slipped", key, 0.75, "execution",
                                 {**base, "from_quarter": due_q, "to_quarter": done_q}, settings, owner))
    return _frame(rows)


# ---------------------------------------------------------------- service


def service_stats(pack: Pack, period: Period) -> pd.DataFrame:
    """Per feedback category, tickets created in ``period``: tickets, resolved (by the period end),
    resolution rate, median and p90 hours to resolve (resolved tickets), mean satisfaction,
    and tickets in the previous period."""
    f = pack.table("feedback")
    end = _ts(period.end)
    cur = f.filter(_in(f, "created_at", period.start, period.end))
    resolved = cur.resolved_at.notnull() & (cur.resolved_at < end)
    hours = (cur.resolved_at.epoch_seconds() - cur.created_at.epoch_seconds()) / 3600.0
    cur = cur.mutate(is_res=flag(resolved), hours=ibis.ifelse(resolved, hours, ibis.null("float64")))
    aggs = {"tickets": cur.count(), "resolved": cur.is_res.sum(), "median_hours": cur.hours.median(),
            "p90_hours": cur.hours.quantile(0.9)}
    if "satisfaction" in f.columns:
        aggs["satisfaction"] = cur.satisfaction.mean()
    df = cur.group_by("category").aggregate(**aggs).execute()
    prev_p = period.previous()
    prev = f.filter(_in(f, "created_at", prev_p.start, prev_p.end))
    pv = prev.group_by("category").aggregate(tickets_prev=prev.count()).execute()
    df = df.merge(pv, on="category", how="left")
    df["tickets_prev"] = df["tickets_prev"].fillna(0).astype("int64")
    df["resolution_rate"] = df["resolved"] / df["tickets"]
    if "satisfaction" not in df:
        df["satisfaction"] = np.nan
    return df.sort_values("tickets", ascending=False).reset_index(drop=True)


def backlog(pack: Pack, at: date) -> int:
    """Open tickets at the start of day ``at``: created before and not resolved before it."""
    f = pack.table("feedback")
    t = _ts(at)
    return int(f.filter((f.created_at < t) & (f.resolved_at.isnull() | (f.resolved_at >= t))).count().execute())


def service_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Feedback problems: low resolution rate, slow p90 resolution, low satisfaction, rising
    complaints per category (categories with at least ``service_min_tickets`` tickets), and
    backlog growth over the period."""
    ps = _ps(settings)
    if not pack.has("feedback"):
        return _frame([], [_note("service", "no_table:feedback")])
    st = service_stats(pack, period)
    rows = []
    for r in st.to_dict("records"):
        if r["tickets"] < ps.service_min_tickets:
            continue
        cat = r["category"]
        base = {"category": cat, "tickets": int(r["tickets"])}
        rate = float(r["resolution_rate"])
        if rate < ps.resolution_rate_min:
            rows.append(_row("service_resolution", f"service:resolution:{cat}", (ps.resolution_rate_min - rate) / 0.2,
                             "service", {**base, "rate": rate, "min": ps.resolution_rate_min}, settings))
        p90 = _num(r["p90_hours"])
        if p90 is not None and p90 > ps.resolution_p90_hours:
            rows.append(_row("service_slow", f"service:slow:{cat}", p90 / (2 * ps.resolution_p90_hours), "service",
                             {**base, "p90_hours": p90, "median_hours": _num(r["median_hours"]),
                              "limit": ps.resolution_p90_hours}, settings))
        sat = _num(r["satisfaction"])
        if sat is not None and sat < ps.satisfaction_min:
            rows.append(_row("service_satisfaction", f"service:satisfaction:{cat}", ps.satisfaction_min - sat,
                             "service", {**base, "satisfaction": sat, "min": ps.satisfaction_min}, settings))
        prev = int(r["tickets_prev"])
        if prev >= ps.service_min_tickets:
            rise = r["tickets"] / prev - 1
            if rise > ps.complaint_rise_max:
                score = rise / (2 * ps.complaint_rise_max) if ps.complaint_rise_max > 0 else 1.0
                rows.append(_row("service_volume", f"service:volume:{cat}", score, "service",
                                 {**base, "tickets_prev": prev, "rise": float(rise),
                                  "share": float(r["tickets"] / st["tickets"].sum())}, settings))
    b0, b1 = backlog(pack, period.start), backlog(pack, period.end)
    if b0 > 0 and b1 - b0 >= ps.service_min_tickets:
        growth = b1 / b0 - 1
        if growth > ps.backlog_growth_max:
            score = growth / (2 * ps.backlog_growth_max) if ps.backlog_growth_max > 0 else 1.0
            rows.append(_row("service_backlog", "service:backlog", score, "service",
                             {"start": b0, "end": b1, "growth": float(growth)}, settings))
    return _frame(rows)


# ---------------------------------------------------------------- data gaps


def unattributed(pack: Pack, period: Period) -> pd.DataFrame:
    """Paid orders in ``period`` with no touchpoint of the same user at or before the order, by channel.

    Columns ``channel, orders, unattributed, share`` (``(none)`` for orders without a channel).
    """
    o = paid_orders(pack)
    o = o.filter(_in(o, "ts", period.start, period.end))
    tp = pack.table("touchpoints")
    first = tp.group_by("user_id").aggregate(first_tp=tp.ts.min())
    ch = o.channel.fill_null(NO_CHANNEL) if "channel" in o.columns else ibis.literal(NO_CHANNEL)
    j = o.left_join(first, "user_id").select(channel=ch, none=(first.first_tp.isnull() | (first.first_tp > o.ts)))
    df = j.group_by("channel").aggregate(orders=j.count(), unattributed=flag(j.none).sum()).execute()
    df["share"] = df["unattributed"] / df["orders"]
    return df.sort_values("orders", ascending=False).reset_index(drop=True)


def _platform_days(pack: Pack, start: date, end: date) -> pd.DataFrame:
    e = pack.table("events")
    e = e.filter(_in(e, "ts", start, end))
    plat = e.platform.fill_null(NO_CHANNEL) if "platform" in e.columns else ibis.literal(NO_CHANNEL)
    df = e.group_by(day=e.ts.date(), platform=plat).aggregate(n=e.count()).execute()
    return df


def data_gap_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Data gaps: unattributed orders by channel, missing days in events, tracking breaks by
    platform, duplicate ids.

    * unattributed: per channel with ≥ ``unattributed_min_orders`` paid orders, share above
      ``unattributed_max``; score = share ÷ (2 × max);
    * missing days: open days (see below) inside the period and inside the events' own span with
      no event at all; score 0.5 for one day + 0.25 per further day;
    * tracking break: a platform with ≤ ``tracking_drop_share`` × its trailing median of 28 open
      days (median ≥ ``tracking_min_daily``) on an open day that has other events; score 1.0;
    * duplicate ids: rows sharing a key id in users, orders, feedback, campaigns, actions;
      score 0.5 + 10 × duplicate share.

    Open days are the unit's business days (``settings.business_days``, see
    :func:`opsnb.metrics.calendar.business_calendar`): a closed weekday, closed date or (when
    declared closed) public holiday with no events is not missing. With only the problems part of
    the settings, or by default, every day is open.
    """
    ps = _ps(settings)
    rows, notes = [], []
    if pack.has("orders") and pack.has("touchpoints"):
        for r in unattributed(pack, period).to_dict("records"):
            if r["orders"] < ps.unattributed_min_orders or r["share"] <= ps.unattributed_max:
                continue
            score = r["share"] / (2 * ps.unattributed_max) if ps.unattributed_max > 0 else 1.0
            rows.append(_row("data_unattributed", f"data:unattributed:{r['channel']}", score, "data",
                             {"channel": r["channel"], "orders": int(r["orders"]),
                              "unattributed": int(r["unattributed"]), "share": float(r["share"]),
                              "max": ps.unattributed_max}, settings))
    else:
        notes.append(_note("data_unattributed", "no_table:touchpoints"))
    if pack.has("events"):
        rows += _event_gaps(pack, period, settings)
    else:
        notes.append(_note("data_missing_days", "no_table:events"))
    from opsnb.pack.schemas import SCHEMAS

    for name in ("users", "orders", "feedback", "campaigns", "actions"):
        if not pack.has(name):
            continue
        key = SCHEMAS[name].key[0]
        t = pack.table(name)
        r = t.aggregate(n=t.count(), d=t[key].nunique()).execute()
        n, d = int(r["n"][0]), int(r["d"][0])
        if n > d:
            share = (n - d) / n
            rows.append(_row("data_duplicates", f"data:duplicates:{name}", 0.5 + 10 * share, "data",
                             {"table": name, "column": key, "rows": n, "duplicates": n - d, "share": share}, settings))
    return _frame(rows, notes)


def _event_gaps(pack: Pack, period: Period, settings: Any) -> list[dict[str, Any]]:
    ps = _ps(settings)
    e = pack.table("events")
    span = e.aggregate(lo=e.ts.min(), hi=e.ts.max()).execute()
    lo, hi = pd.Timestamp(span["lo"][0]).date(), pd.Timestamp(span["hi"][0]).date()
    first = max(period.start, lo)
    last = min(period.last_day, hi)
    rows: list[dict[str, Any]] = []
    if first > last:
        return rows
    look = first - timedelta(days=28)
    pdays = _platform_days(pack, look, last + timedelta(days=1))
    days = pd.date_range(look, last, freq="D")
    closed = business_calendar(settings).closed(look, last + timedelta(days=1))
    is_open = np.array([d.date() not in closed for d in days], dtype=bool)
    total = pdays.groupby("day")["n"].sum()
    total.index = pd.to_datetime(total.index)
    total = total.reindex(days, fill_value=0)
    window = (days >= _ts(first))
    missing = [d.date().isoformat() for d in days[window & is_open & (total.to_numpy() == 0)]]
    if missing:
        rows.append(_row("data_missing_days", "data:missing_days:events", 0.5 + 0.25 * (len(missing) - 1), "data",
                         {"table": "events", "days": missing, "n_days": len(missing)}, settings))
    if "platform" not in e.columns:
        return rows
    wide = pdays.pivot_table(index="day", columns="platform", values="n", aggfunc="sum")
    wide.index = pd.to_datetime(wide.index)
    wide = wide.reindex(days).fillna(0.0)
    window &= is_open
    # a platform's normal day is judged on open days only: closed days are not zeros of its traffic
    normal = wide[is_open].rolling(28, min_periods=14).median().shift(1).reindex(days).ffill()
    for plat in wide.columns:
        if plat == NO_CHANNEL:
            continue
        cnt, med = wide[plat], normal[plat]
        breaks = window & (total.to_numpy() > 0) & (med.to_numpy() >= ps.tracking_min_daily) & (
            cnt.to_numpy() <= ps.tracking_drop_share * med.to_numpy())
        if breaks.any():
            bdays = days[breaks]
            rows.append(_row("data_tracking", f"data:tracking:{plat}", 1.0, "data",
                             {"platform": plat, "days": [d.date().isoformat() for d in bdays],
                              "n_days": int(breaks.sum()), "normal": float(med[bdays].median()),
                              "count": float(cnt[bdays].min())}, settings))
    return rows


# ---------------------------------------------------------------- manual, merge, rank


def manual_problems(settings: Any) -> pd.DataFrame:
    """Analysts' own problems from ``settings.problems.manual`` (score = the severity's cut)."""
    ps = _ps(settings)
    cut = {"high": ps.severity_high, "medium": ps.severity_medium, "low": ps.severity_medium / 2}
    rows = []
    for i, m in enumerate(ps.manual, start=1):
        ev = {"title": m.title.model_dump(), "suggestion": m.suggestion.model_dump() if m.suggestion else None}
        r = _row("manual", f"manual:{i}", cut[m.severity], "manual", ev, settings, m.owner or None)
        r["severity"] = m.severity
        rows.append(r)
    return _frame(rows)


DETECTORS: dict[str, Callable[[Pack, Period, Any], pd.DataFrame]] = {
    "kpi": kpi_problems,
    "anomaly": anomaly_problems,
    "roi": roi_problems,
    "cac": cac_problems,
    "budget": budget_problems,
    "actions": action_problems,
    "service": service_problems,
    "data_gaps": data_gap_problems,
}


def merge_problems(frames: list[pd.DataFrame], max_problems: int | None = None) -> pd.DataFrame:
    """Concatenate detector frames, merge rows sharing a key (the highest score wins; the other
    detectors are listed in ``evidence["also"]``), sort by severity then score, cap the list.

    ``attrs["notes"]`` gathers the inputs' notes; ``attrs["dropped"]`` counts rows cut by the cap.
    """
    notes = [n for f in frames for n in f.attrs.get("notes", [])]
    frames = [f for f in frames if not f.empty]
    if not frames:
        out = _frame([], notes)
        out.attrs["dropped"] = 0
        return out
    df = pd.concat(frames, ignore_index=True)
    df["_rank"] = df["severity"].map(SEVERITY_ORDER)
    df = df.sort_values(["_rank", "score", "key"], ascending=[True, False, True], kind="stable")
    merged = []
    for _key, g in df.groupby("key", sort=False):
        top = g.iloc[0].to_dict()
        others = [d for d in g["detector"].tolist()[1:] if d != top["detector"]]
        if others:
            top["evidence"] = {**top["evidence"], "also": others}
        merged.append(top)
    out = pd.DataFrame(merged)
    out = out.sort_values(["_rank", "score", "key"], ascending=[True, False, True], kind="stable")
    out = out.drop(columns="_rank").reset_index(drop=True)
    dropped = 0
    if max_problems is not None and len(out) > max_problems:
        dropped = len(out) - max_problems
        out = out.iloc[:max_problems]
    out = _frame(out[COLUMNS].to_dict("records"), notes)
    out.attrs["dropped"] = dropped
    return out


def detect_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Run every detector, merge analysts' problems, merge duplicates by key, rank and cap.

    A detector whose table is missing is skipped with a note (``attrs["notes"]``).
    """
    ps = _ps(settings)
    frames = []
    for name, fn in DETECTORS.items():
        try:
            frames.append(fn(pack, period, settings))
        except NoData as exc:
            frames.append(_frame([], [_note(name, f"no_data:{exc.table}")]))
    frames.append(manual_problems(settings))
    frames = _explained_by_gaps(frames)
    return merge_problems(frames, ps.max_problems)


#: Series computed from events: a tracking break or a missing day shows in them as a drop.
EVENT_SERIES = ("dau", "conversion")


def _explained_by_gaps(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Drop anomalies of event-based series whose every flagged day is a tracking break or a
    missing day: the data gap is the problem, the drop is its echo (a note says so)."""
    gap_days: set[str] = set()
    for f in frames:
        for r in f.to_dict("records"):
            if r["detector"] in ("data_tracking", "data_missing_days"):
                gap_days |= set(r["evidence"].get("days", []))
    if not gap_days:
        return frames
    out = []
    for f in frames:
        if f.empty or "anomaly" not in set(f["detector"]):
            out.append(f)
            continue
        keep, notes = [], list(f.attrs.get("notes", []))
        for r in f.to_dict("records"):
            ev = r["evidence"]
            if r["detector"] == "anomaly" and ev["series"] in EVENT_SERIES and set(ev["dates"]) <= gap_days:
                notes.append(_note("anomaly", "data_gap", ev["series"]))
            else:
                keep.append(r)
        out.append(_frame(keep, notes))
    return out
