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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics import anomalies as an
from opsnb.metrics.calendar import business_calendar
from opsnb.metrics.orders import paid_orders
from opsnb.metrics.rates import Rate
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


def _frame(rows: list[dict[str, Any]], notes: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["score"] = df["score"].astype("float64")
    df.attrs["notes"] = list(notes or [])
    return df


def _note(detector: str, reason: str, key: str = "") -> dict[str, Any]:
    return {"detector": detector, "key": key, "reason": reason}


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _in(t: ibis.Table, col: str, start: date, end: date) -> Any:
    return (t[col] >= _ts(start)) & (t[col] < _ts(end))


def _min_base(settings: Any) -> int:
    """``settings.min_base`` (the whole settings), else its default (only the problems part was given)."""
    from opsnb.params import Settings

    return int(getattr(settings, "min_base", Settings.model_fields["min_base"].default))


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
    """Missed KPIs from the goals engine (:func:`opsnb.metrics.kpis.attainment`), by size of the gap.

    Warm-up: none of its own — the period's actual against its target (the goals engine's rules).
    """
    try:
        from opsnb.metrics.kpis import attainment
    except ImportError:
        return _frame([], [_note("kpi", "goals_engine_missing")])
    att = attainment(pack, period, settings)
    df = kpi_rows(att, settings)
    return df


# ---------------------------------------------------------------- anomalies


@dataclass(frozen=True)
class Incident:
    """A data incident: days on which a table's data is incomplete (a tracking break, missing days).

    ``key`` is the data-gap problem that reports it (``data:tracking:Web``); anomalies of series that
    read ``table`` on those days are its consequences, not findings (:func:`anomaly_scan`).
    """

    key: str
    table: str
    days: frozenset[str]


#: Data-gap detectors whose rows are incidents (their evidence has ``table`` and ``days``).
INCIDENT_DETECTORS = ("data_tracking", "data_missing_days")


def incidents_of(rows: pd.DataFrame) -> list[Incident]:
    """The incidents among data-gap problem rows."""
    return [Incident(r["key"], r["evidence"]["table"], frozenset(r["evidence"]["days"]))
            for r in rows.to_dict("records") if r["detector"] in INCIDENT_DETECTORS]


def _incident_of_points(index: pd.Index, spec: an.SeriesSpec, incidents: list[Incident]) -> pd.Series:
    """For each point of a series, the key of the incident whose days its value reads (NA: none)."""
    out = pd.Series(pd.NA, index=index, dtype="string")
    for inc in incidents:
        if inc.table not in spec.reads:
            continue
        days = sorted(inc.days)
        for ts in index:  # a small series (≤ a few hundred points)
            lo, hi = spec.days_read(ts)
            if pd.isna(out[ts]) and any(lo.isoformat() <= d <= hi.isoformat() for d in days):
                out[ts] = inc.key
    return out


def _history_first(period: Period, settings: Any) -> date:
    """The earliest day any monitored series reads (its history window, see :func:`an.series_frame`)."""
    ps = _ps(settings)
    days = max(ps.anomaly_history_days, period.days + an.warmup_steps("dau", ps))
    weeks = max(ps.anomaly_history_weeks, -(-period.days // 7) + an.warmup_steps("churn", ps) + 2)
    return min(period.end - timedelta(days=days), period.end - timedelta(weeks=weeks + 2))


def anomaly_scan(pack: Pack, period: Period, settings: Any, *,
                 incidents: list[Incident] | None = None) -> dict[str, pd.DataFrame]:
    """The scored series (``robust_anomalies`` frames) of every monitored series, by key.

    Closed days of the unit's business calendar are missing values of the daily series (a shop shut
    on a bank holiday has no sales: no anomaly). Days a data incident covers (``incidents``; by
    default the tracking breaks and missing days of events over the whole history,
    :func:`event_gaps`) are left out of the fit and never flagged: column ``incident`` names the incident a point's value reads. Rates go through
    :func:`anomalies.judge_rates` (``settings.min_base``, Wilson interval), counts through
    :func:`anomalies.judge_counts` (usual level ≥ ``min_base``). Column ``in_period``
    marks the points of the period. A series whose table is missing is absent from the result;
    its frame's ``attrs["status"]`` says when it could not be scored (``too_short``, ``warm_up``,
    ``not_computable``).
    """
    ps = _ps(settings)
    min_base = _min_base(settings)
    out = {}
    for key in ps.anomaly_series:
        spec = an.SERIES[key]
        if not all(pack.has(t) for t in spec.reads):
            continue
        try:
            f = an.series_frame(pack, key, period, ps)
        except NoData:  # too little data to build the series at all: said as "no data" in a note
            f = pd.DataFrame({c: pd.Series(dtype="float64", index=pd.DatetimeIndex([])) for c in an.FRAME_COLUMNS})
        if incidents is None:
            incidents = incidents_of(_frame(event_gaps(pack, _history_first(period, settings), period.end,
                                                       settings))) if pack.has("events") else []
        if spec.grain == "day" and len(f):  # a closed day (weekday off, holiday) is no day of trade: not judged
            shut = business_calendar(settings).closed(f.index[0].date(), f.index[-1].date() + timedelta(days=1))
            f.loc[f.index.isin(pd.to_datetime(sorted(shut))), ["value", "num", "base"]] = np.nan
        hit = _incident_of_points(f.index, spec, incidents)
        r = an.robust_anomalies(f["value"], an.season_of(key, ps), ps.anomaly_z, ps.anomaly_consecutive,
                                min_seasons=ps.anomaly_min_seasons, seasonal=ps.anomaly_stl_seasonal,
                                warmup=an.warmup_steps(key, ps), exclude=hit.notna())
        if spec.unit == "ratio":
            r = an.judge_rates(r, f["num"], f["base"], min_base=min_base)
        elif spec.unit == "count":
            r = an.judge_counts(r, min_base=min_base)
        r["incident"] = hit.reindex(r.index)
        r["in_period"] = an.in_period(r.index, period, spec.grain)
        out[key] = r
    return out


def _adverse(key: str, resid: Any) -> bool:
    return (float(resid) > 0) == (ADVERSE[key] == "up")


def _point(key: str, ts: pd.Timestamp, p: pd.Series) -> dict[str, Any]:
    """One scored point as evidence: series, day, value, expected, z, direction, and for a rate its n."""
    spec = an.SERIES[key]
    ev = {"series": key, "grain": spec.grain, "unit": spec.unit, "date": ts.date().isoformat(),
          "value": float(p["value"]), "expected": float(p["expected"]), "z": float(p["z"]),
          "direction": "up" if p["resid"] > 0 else "down"}
    if "base" in p and not pd.isna(p["base"]):
        ev.update(num=int(p["num"]), base=int(p["base"]))
    return ev


def _spans_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two findings' flagged points share a day (a day, or the days of a week)."""
    def spans(ev: dict[str, Any]) -> list[tuple[date, date]]:
        step = an.SERIES[ev["series"]].step_days
        return [(date.fromisoformat(d), date.fromisoformat(d) + timedelta(days=step - 1)) for d in ev["dates"]]
    return all(any(lo <= hi2 and lo2 <= hi for lo2, hi2 in spans(b)) for lo, hi in spans(a))


def anomaly_rows(scans: dict[str, pd.DataFrame], settings: Any, *, events: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """One problem per series with flagged (adverse) points inside the period; notes for the rest.

    * A series whose flagged points all fall within the flagged days or weeks of a more severe
      finding of the same area (daily active users low in the week churn spiked) is folded under it
      as corroborating evidence (``evidence["with"]``), not counted again.
    * Points a data incident covers are never findings: those that breach the threshold are
      listed in ``attrs["echoes"]`` (incident key, series, day, value, expected, z) for the
      incident's problem to show as its consequences (:func:`fold_incidents`); for count series,
      ``attrs["impacts"]`` says how much the period's total (and so its daily average) lost on
      the incident's days (Σ expected − value, per day of the period and as a share).
    * ``events`` (:func:`context_events`): what the finding's days coincide with
      (``evidence["context"]``: festivals, holidays, campaigns or experiments starting or ending). A
      finding whose every run of days falls on a public holiday is a holiday effect (the weekly
      baseline does not know holidays): a note (``holiday``, with its evidence), not a problem.
    * Notes (``attrs["notes"]``): series not scored (``too_short``, ``not_computable``, ``empty``),
      points of the period in the warm-up (``warm_up``: the first judged point and how many were
      not judged) and rate points on a base under ``min_base`` (``small_base``).
    """
    ps = _ps(settings)
    rows: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    echoes: list[dict[str, Any]] = []
    impacts: list[dict[str, Any]] = []
    for key, r in scans.items():
        status = r.attrs.get("status", "ok")
        inside = r[r["in_period"]]
        warm = inside[inside["reason"] == "warm_up"]
        if len(warm):
            first = r.attrs.get("first_judged")
            notes.append({**_note("anomaly", "warm_up", key), "n": str(len(warm)),
                          "first": first.date().isoformat() if first is not None else "",
                          "steps": str(r.attrs.get("warmup", 0)), "grain": an.SERIES[key].grain})
        if status != "ok":
            if status != "warm_up":
                notes.append(_note("anomaly", status, key))
            continue
        small = inside[inside["reason"] == "small_base"]
        if len(small):
            notes.append({**_note("anomaly", "small_base", key), "n": str(len(small)),
                          "grain": an.SERIES[key].grain})
        for ts, p in inside[(inside["reason"] == "excluded") & (inside["z"].abs() > ps.anomaly_z).fillna(False)
                            ].iterrows():
            echoes.append({**_point(key, ts, p), "incident": str(p["incident"])})
        if an.SERIES[key].unit != "ratio":
            impacts += _impacts(key, inside)
        hits = inside[inside["flagged"]]
        if not ps.anomaly_both_directions:
            hits = hits[[_adverse(key, x) for x in hits["resid"]]]
        if hits.empty:
            continue
        worst = hits["z"].astype("float64").abs().idxmax()
        ev = {**_point(key, worst, hits.loc[worst]), "n_flagged": int(len(hits)),
              "dates": [d.date().isoformat() for d in hits.index]}
        if events is not None:  # per run of consecutive flagged points, not across the gaps between runs
            runs = [coinciding(events, lo, hi) for lo, hi in _runs(hits.index, an.SERIES[key].step_days)]
            ev["context"] = [e for run in runs for e in run]
            if runs and all(any(e["kind"] == "holiday" for e in run) for run in runs):
                # every run falls on a public holiday: a holiday effect the weekly baseline does not know
                notes.append({**_note("anomaly", "holiday", key), "evidence": ev})
                continue
        rows.append(_row("anomaly", f"anomaly:{key}", abs(ev["z"]) / (2 * ps.anomaly_z), SERIES_AREAS[key], ev,
                         settings))
    rows = _fold_related(rows)
    out = _frame(rows, notes)
    out.attrs["echoes"] = echoes
    out.attrs["impacts"] = impacts
    return out


def _impacts(key: str, inside: pd.DataFrame) -> list[dict[str, Any]]:
    """What a count series' period total lost on each incident's days: Σ(expected − value), and its share
    of the period's total as recorded (so the share by which the period's average is understated)."""
    out = []
    total = float(inside["value"].fillna(0.0).sum())
    for inc, g in inside[inside["incident"].notna()].groupby("incident"):
        short = float((g["expected"] - g["value"]).sum())
        if short > 0 and total > 0:
            out.append({"incident": str(inc), "series": key, "unit": an.SERIES[key].unit,
                        "per_day": short / len(inside), "share": short / total})
    return out


def _runs(index: pd.Index, step: int) -> list[tuple[date, date]]:
    """Consecutive points (``step`` days apart) as (first day, last day covered) runs."""
    out: list[tuple[date, date]] = []
    for ts in index:
        d = pd.Timestamp(ts).date()
        if out and (d - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], d + timedelta(days=step - 1))
        else:
            out.append((d, d + timedelta(days=step - 1)))
    return out


def _fold_related(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold a finding under a more severe one of the same area whose flagged days cover its own."""
    rows = sorted(rows, key=lambda r: -r["score"])
    kept: list[dict[str, Any]] = []
    for r in rows:
        lead = next((k for k in kept if k["area"] == r["area"] and _spans_overlap(r["evidence"], k["evidence"])),
                    None)
        if lead is None:
            kept.append(r)
        else:
            lead["evidence"] = {**lead["evidence"], "with": [*lead["evidence"].get("with", []), r["evidence"]]}
    return kept


#: Columns of :func:`context_events`.
EVENT_COLUMNS = ["kind", "key", "name_zh", "name_en", "start", "end", "edge"]


def context_events(pack: Pack, period: Period, settings: Any, start: date) -> pd.DataFrame:
    """What else happened between ``start`` and the period's end that a run of anomalous days may
    coincide with: shopping festivals and public holidays of the unit's region (``settings.region``),
    the pack's campaigns (declared start and end) and A/B experiments (first and last assignment;
    one still assigning on the as-of day or the day before has not ended).

    Columns :data:`EVENT_COLUMNS`; ``edge`` is ``span`` for festivals and holidays (they coincide by
    overlapping) and ``start``/``end`` for campaigns and experiments (they coincide when they begin or
    end next to the run). Reads nothing after the period's last day but the campaigns' plan.
    """
    from opsnb.metrics.calendar import festivals, public_holidays

    rows: list[dict[str, Any]] = []
    region = getattr(settings, "region", None)
    if region:
        fest, _ = festivals(start, period.end, region=region)
        for r in fest.to_dict("records"):
            rows.append({"kind": "festival", "key": r["key"], "name_zh": None, "name_en": None, "start": r["start"],
                         "end": r["end"], "edge": "span"})
        for r in public_holidays(start, period.end, region=region).to_dict("records"):
            rows.append({"kind": "holiday", "key": r["key"], "name_zh": r["name_zh"], "name_en": r["name_en"],
                         "start": r["start"], "end": r["end"], "edge": "span"})
    if pack.has("campaigns"):
        c = pack.table("campaigns")
        c = c.filter((c.start < _ts(period.end)) & (c.end >= _ts(start))).select("name", "start", "end").execute()
        for r in c.to_dict("records"):
            for edge in ("start", "end"):
                rows.append({"kind": "campaign", "key": r["name"], "name_zh": r["name"], "name_en": r["name"],
                             "start": pd.Timestamp(r["start"]).date(), "end": pd.Timestamp(r["end"]).date(),
                             "edge": edge})
    if pack.has("experiments"):
        x = pack.table("experiments")
        x = x.filter(x.ts < _ts(period.end))
        x = x.group_by("experiment").aggregate(first=x.ts.min(), last=x.ts.max()).execute()
        for r in x.to_dict("records"):
            first, last = pd.Timestamp(r["first"]).date(), pd.Timestamp(r["last"]).date()
            if last < start:
                continue
            edges = ["start"] + (["end"] if last < period.last_day - timedelta(days=1) else [])
            for edge in edges:
                rows.append({"kind": "experiment", "key": r["experiment"], "name_zh": r["experiment"],
                             "name_en": r["experiment"], "start": first, "end": last, "edge": edge})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def coinciding(events: pd.DataFrame, first: date, last: date) -> list[dict[str, Any]]:
    """The events (:func:`context_events`) that coincide with the days ``first``..``last``: festivals and
    holidays overlapping them, campaigns and experiments starting or ending within a day of them."""
    out = []
    lo, hi = first - timedelta(days=1), last + timedelta(days=1)
    for r in events.to_dict("records"):
        if r["edge"] == "span":
            hit = r["start"] <= last and r["end"] >= first
        else:
            hit = lo <= r[r["edge"]] <= hi
        if hit:
            out.append({**r, "start": r["start"].isoformat(), "end": r["end"].isoformat()})
    return out


def anomaly_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Anomalies in daily DAU, new users, GMV, conversion and weekly churn (see :mod:`anomalies`).

    Score = |z| ÷ (2 × ``anomaly_z``): a flagged point is at least medium, twice the threshold high.
    Warm-up: a day is judged once its series has ``anomaly_min_seasons`` weeks of history before
    it; a week's churn once there is a complete previous week and ``anomaly_min_seasons`` ×
    ``anomaly_weekly_period`` weeks of churn before it (notes say what the period lost to it).
    """
    scans = anomaly_scan(pack, period, settings)
    events = context_events(pack, period, settings, period.start - timedelta(days=7))
    return anomaly_rows(scans, settings, events=events)


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
    Warm-up: none — the period's own spend and GMV.
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


def _rose(n_now: float, n_before: float, days_now: float, days_before: float) -> bool:
    """Whether a count's rate per unit of exposure (days, spend …) rose beyond chance.

    Given both counts, the current one is binomial out of their sum with the share of exposure
    ``days_now / (days_now + days_before)`` when the rate did not change (the conditional test for
    two Poisson counts); the rise is established when the Wilson interval of the current share lies
    above that share.
    """
    share = days_now / (days_now + days_before)
    r = Rate(int(n_now), int(n_now + n_before))
    ci = r.interval()
    return ci is not None and ci[0] > share


def _covers(pack: Pack, table: str, col: str, day: date) -> bool:
    """Whether ``table``'s history starts on or before ``day`` (a comparison with it is out of the warm-up)."""
    first = _first_day(pack, table, col)
    return first is not None and first <= day


def cac_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Channels whose CAC (spend ÷ new users with ``users.channel``) rose by more than ``cac_rise_threshold``.

    Compared with the previous period of the same kind. Score = rise ÷ (2 × threshold). A channel
    with no new users in either period has no CAC and is skipped; one with fewer than ``min_base``
    new users in either period gets no verdict; and the rise must be beyond chance: with the spend
    as exposure, fewer new users per yuan than before (:func:`_rose` on new users, by spend).
    Warm-up: the spend and sign-up history must cover the previous period (a note otherwise).
    """
    ps = _ps(settings)
    for t in ("channel_spend", "users"):
        if not pack.has(t):
            return _frame([], [_note("cac", f"no_table:{t}")])
    if "channel" not in pack.table("users").columns:
        return _frame([], [_note("cac", "no_column:users.channel")])
    prev = period.previous()
    if not (_covers(pack, "channel_spend", "date", prev.start) and _covers(pack, "users", "signup_at", prev.start)):
        return _frame([], [{**_note("cac", "warm_up_previous"), "previous": prev.label}])
    min_base = _min_base(settings)
    now = _cac_by_channel(pack, period)
    before = _cac_by_channel(pack, prev)
    df = now.merge(before, on="channel", suffixes=("", "_prev"))
    df = df[df["cac"].notna() & df["cac_prev"].notna() & (df["cac_prev"] > 0)]
    total = now["cost"].sum()
    rows = []
    for r in df.to_dict("records"):
        rise = r["cac"] / r["cac_prev"] - 1
        if rise <= ps.cac_rise_threshold or (total > 0 and r["cost"] / total < ps.min_spend_share):
            continue
        if min(r["new_users"], r["new_users_prev"]) < min_base:
            continue
        # a higher CAC is fewer new users per yuan: the previous period's new users are the "rise"
        if not _rose(r["new_users_prev"], r["new_users"], r["cost_prev"], r["cost"]):
            continue
        ev = {"channel": r["channel"], "cac": float(r["cac"]), "cac_prev": float(r["cac_prev"]), "rise": float(rise),
              "threshold": ps.cac_rise_threshold, "new_users": int(r["new_users"]),
              "new_users_prev": int(r["new_users_prev"]), "cost": float(r["cost"]), "cost_prev": float(r["cost_prev"])}
        score = rise / (2 * ps.cac_rise_threshold) if ps.cac_rise_threshold > 0 else 1.0
        rows.append(_row("cac", f"channel:{r['channel']}", score, "growth", ev, settings))
    return _frame(rows)


def budget_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Channels whose budget share exceeds their return (GMV) share by more than ``budget_gap_pp`` points.

    Shares are within the channels with spend (:func:`channel_economics`). The channel whose
    return share most exceeds its budget share is named as where budget could go. Score = gap ÷
    (2 × ``budget_gap_pp``). Warm-up: none — the period's own shares.
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
    resolution rate, median and p90 hours to resolve (resolved tickets), mean satisfaction and the
    number of rated tickets (``rated``), and tickets in the previous period."""
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
        aggs["rated"] = cur.satisfaction.count()
    df = cur.group_by("category").aggregate(**aggs).execute()
    prev_p = period.previous()
    prev = f.filter(_in(f, "created_at", prev_p.start, prev_p.end))
    pv = prev.group_by("category").aggregate(tickets_prev=prev.count()).execute()
    df = df.merge(pv, on="category", how="left")
    df["tickets_prev"] = df["tickets_prev"].fillna(0).astype("int64")
    df["resolution_rate"] = df["resolved"] / df["tickets"]
    if "satisfaction" not in df:
        df["satisfaction"] = np.nan
        df["rated"] = 0
    return df.sort_values("tickets", ascending=False).reset_index(drop=True)


def backlog(pack: Pack, at: date) -> int:
    """Open tickets at the start of day ``at``: created before and not resolved before it."""
    f = pack.table("feedback")
    t = _ts(at)
    return int(f.filter((f.created_at < t) & (f.resolved_at.isnull() | (f.resolved_at >= t))).count().execute())


def service_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Feedback problems per category (categories with at least ``service_min_tickets`` tickets), all
    under the key ``service:<category>`` so that one category's troubles read as one finding:

    * low resolution rate — a rate on the category's tickets: no verdict under ``min_base`` tickets;
    * slow p90 resolution — a quantile of the resolved tickets' hours: no verdict under ``min_base`` resolved;
    * low satisfaction — a mean of the ratings: no verdict under ``min_base`` rated tickets;
    * rising complaints — at least ``min_base`` tickets, more per day than last period by over
      ``complaint_rise_max`` and beyond chance (:func:`_rose`); the rise in percent is given only when
      last period had ``min_base`` tickets or more (``rise`` None: the counts speak for themselves);
    * backlog growth over the period — growth on the open tickets at its start (≥ ``min_base``).

    Warm-up: comparisons with the previous period (rising complaints, backlog growth) need the
    feedback history to cover it (a note otherwise): in the first weeks of the data, the backlog is
    small because the history is short, not because tickets were resolved.
    """
    ps = _ps(settings)
    if not pack.has("feedback"):
        return _frame([], [_note("service", "no_table:feedback")])
    min_base = _min_base(settings)
    prev_p = period.previous()
    warm = not _covers(pack, "feedback", "created_at", prev_p.start)
    st = service_stats(pack, period)
    rows = []
    notes = [{**_note("service_compare", "warm_up_previous"), "previous": prev_p.label}] if warm else []
    for r in st.to_dict("records"):
        if r["tickets"] < ps.service_min_tickets:
            continue
        cat = r["category"]
        base = {"category": cat, "tickets": int(r["tickets"])}
        rate = float(r["resolution_rate"])
        if rate < ps.resolution_rate_min and not Rate(int(r["resolved"]), int(r["tickets"])).small(min_base):
            rows.append(_row("service_resolution", f"service:{cat}", (ps.resolution_rate_min - rate) / 0.2,
                             "service", {**base, "rate": rate, "resolved": int(r["resolved"]),
                                         "min": ps.resolution_rate_min}, settings))
        p90 = _num(r["p90_hours"])
        if p90 is not None and p90 > ps.resolution_p90_hours and int(r["resolved"]) >= min_base:
            rows.append(_row("service_slow", f"service:{cat}", p90 / (2 * ps.resolution_p90_hours), "service",
                             {**base, "p90_hours": p90, "median_hours": _num(r["median_hours"]),
                              "resolved": int(r["resolved"]), "limit": ps.resolution_p90_hours}, settings))
        sat = _num(r["satisfaction"])
        if sat is not None and sat < ps.satisfaction_min and int(r["rated"]) >= min_base:
            rows.append(_row("service_satisfaction", f"service:{cat}", ps.satisfaction_min - sat,
                             "service", {**base, "satisfaction": sat, "rated": int(r["rated"]),
                                         "min": ps.satisfaction_min}, settings))
        prev = int(r["tickets_prev"])
        # more tickets per day than last period beyond chance; the rise in percent only on a base ≥ min_base
        per_day = (r["tickets"] / period.days) / max(prev / prev_p.days, 1 / prev_p.days)
        if (not warm and r["tickets"] >= min_base and per_day - 1 > ps.complaint_rise_max
                and _rose(r["tickets"], prev, period.days, prev_p.days)):
            rise = per_day - 1
            score = rise / (2 * ps.complaint_rise_max) if ps.complaint_rise_max > 0 else 1.0
            rows.append(_row("service_volume", f"service:{cat}", score, "service",
                             {**base, "tickets_prev": prev, "rise": float(rise) if prev >= min_base else None,
                              "share": float(r["tickets"] / st["tickets"].sum())}, settings))
    b0, b1 = backlog(pack, period.start), backlog(pack, period.end)
    if not warm and b0 >= min_base and b1 - b0 >= ps.service_min_tickets:
        growth = b1 / b0 - 1
        if growth > ps.backlog_growth_max:
            score = growth / (2 * ps.backlog_growth_max) if ps.backlog_growth_max > 0 else 1.0
            rows.append(_row("service_backlog", "service:backlog", score, "service",
                             {"start": b0, "end": b1, "growth": float(growth)}, settings))
    return _frame(rows, notes)


# ---------------------------------------------------------------- data gaps


def unattributed(pack: Pack, period: Period, *, since: date | None = None) -> pd.DataFrame:
    """Paid orders in ``period`` (from ``since``, when later) with no touchpoint of the same user at or
    before the order, by channel.

    Columns ``channel, orders, unattributed, share`` (``(none)`` for orders without a channel).
    """
    o = paid_orders(pack)
    o = o.filter(_in(o, "ts", max(period.start, since or period.start), period.end))
    tp = pack.table("touchpoints")
    tp = tp.filter(tp.ts < _ts(period.end))  # touches after the as-of day cannot attribute an order before it
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


def _first_day(pack: Pack, table: str, col: str) -> date | None:
    """The first day of ``table``'s history (by ``col``), None when it is empty."""
    t = pack.table(table)
    v = t.aggregate(d=t[col].min()).execute()["d"][0]
    return None if pd.isna(v) else pd.Timestamp(v).date()


def _lookback_days(settings: Any) -> int:
    """The attribution lookback (``settings.insights.attribution_lookback_days``, else its default)."""
    from opsnb.params import InsightsSettings

    ins = getattr(settings, "insights", None)
    return int(getattr(ins, "attribution_lookback_days", InsightsSettings.model_fields["attribution_lookback_days"]
                       .default))


#: Where each table's rows sit in time: duplicates are counted among the rows up to the as-of day.
ROW_DAY = {"users": "signup_at", "orders": "ts", "feedback": "created_at", "campaigns": "start", "actions": "start"}


def data_gap_problems(pack: Pack, period: Period, settings: Any) -> pd.DataFrame:
    """Data gaps: unattributed orders by channel, missing days in events, tracking breaks by
    platform, duplicate ids.

    * unattributed: per channel with ≥ ``unattributed_min_orders`` and ≥ ``min_base`` paid orders,
      share above ``unattributed_max``; score = share ÷ (2 × max). Warm-up: orders in the first
      attribution lookback (``insights.attribution_lookback_days``) of the touchpoints' history are
      not judged — their users' earlier touches would be before the data began (a note says so);
    * missing days and tracking breaks: :func:`event_gaps` (these are *incidents*: anomalies on
      their days are folded under them, :func:`fold_incidents`);
    * duplicate ids: rows up to the period's last day sharing a key id in users, orders, feedback,
      campaigns, actions; score 0.5 + 10 × duplicate share.
    """
    ps = _ps(settings)
    rows, notes = [], []
    if pack.has("orders") and pack.has("touchpoints"):
        first = _first_day(pack, "touchpoints", "ts")
        since = None if first is None else first + timedelta(days=_lookback_days(settings))
        if first is not None and since is not None and since > period.start:
            notes.append({**_note("data_unattributed", "warm_up_touchpoints"), "first": first.isoformat(),
                          "days": str(_lookback_days(settings)), "since": since.isoformat()})
        if since is not None and since < period.end:
            least = max(ps.unattributed_min_orders, _min_base(settings))
            for r in unattributed(pack, period, since=since).to_dict("records"):
                if r["orders"] < least or r["share"] <= ps.unattributed_max:
                    continue
                score = r["share"] / (2 * ps.unattributed_max) if ps.unattributed_max > 0 else 1.0
                rows.append(_row("data_unattributed", f"data:unattributed:{r['channel']}", score, "data",
                                 {"channel": r["channel"], "orders": int(r["orders"]),
                                  "unattributed": int(r["unattributed"]), "share": float(r["share"]),
                                  "max": ps.unattributed_max}, settings))
    else:
        notes.append(_note("data_unattributed", "no_table:touchpoints"))
    if pack.has("events"):
        rows += event_gaps(pack, period.start, period.end, settings)
    else:
        notes.append(_note("data_missing_days", "no_table:events"))
    from opsnb.pack.schemas import SCHEMAS

    for name, col in ROW_DAY.items():
        if not pack.has(name):
            continue
        key = SCHEMAS[name].key[0]
        t = pack.table(name)
        t = t.filter(t[col] < _ts(period.end))
        r = t.aggregate(n=t.count(), d=t[key].nunique()).execute()
        n, d = int(r["n"][0]), int(r["d"][0])
        if n > d:
            share = (n - d) / n
            rows.append(_row("data_duplicates", f"data:duplicates:{name}", 0.5 + 10 * share, "data",
                             {"table": name, "column": key, "rows": n, "duplicates": n - d, "share": share}, settings))
    return _frame(rows, notes)


#: Open days of a platform's own history before a tracking break can be judged (its normal day is the
#: median of up to 28 open days before; with fewer than this there is no normal to fall from).
TRACKING_WARMUP = 14


def event_gaps(pack: Pack, start: date, end: date, settings: Any) -> list[dict[str, Any]]:
    """Missing days and tracking breaks of the events on days ``start <= day < end`` (problem rows).

    * missing days: open days (see below) inside the events' own span with no event at all;
      score 0.5 for one day + 0.25 per further day;
    * tracking break: a platform with ≤ ``tracking_drop_share`` × its trailing median of 28 open
      days (median ≥ ``tracking_min_daily``) on an open day that has other events; score 1.0.
      Warm-up: the median needs :data:`TRACKING_WARMUP` open days of the events' history (days
      before the first event are not zeros of a platform's traffic).

    Open days are the unit's business days (``settings.business_days``, see
    :func:`opsnb.metrics.calendar.business_calendar`): a closed weekday, closed date or (when
    declared closed) public holiday with no events is not missing. With only the problems part of
    the settings, or by default, every day is open. Both are incidents (evidence ``table`` and
    ``days``).
    """
    ps = _ps(settings)
    e = pack.table("events")
    span = e.filter(e.ts < _ts(end)).aggregate(lo=e.ts.min(), hi=e.ts.max()).execute()
    if pd.isna(span["lo"][0]):
        return []
    lo, hi = pd.Timestamp(span["lo"][0]).date(), pd.Timestamp(span["hi"][0]).date()
    first = max(start, lo)
    last = min(end - timedelta(days=1), hi)
    rows: list[dict[str, Any]] = []
    if first > last:
        return rows
    look = max(first - timedelta(days=56), lo)  # room for 28 open days before the first day judged
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
    normal = wide[is_open].rolling(28, min_periods=TRACKING_WARMUP).median().shift(1).reindex(days).ffill()
    for plat in wide.columns:
        if plat == NO_CHANNEL:
            continue
        cnt, med = wide[plat], normal[plat]
        breaks = window & (total.to_numpy() > 0) & (med.to_numpy() >= ps.tracking_min_daily) & (
            cnt.to_numpy() <= ps.tracking_drop_share * med.to_numpy())
        if breaks.any():
            bdays = days[breaks]
            rows.append(_row("data_tracking", f"data:tracking:{plat}", 1.0, "data",
                             {"platform": plat, "table": "events", "days": [d.date().isoformat() for d in bdays],
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
    detectors are listed in ``evidence["also"]`` and their findings kept in ``evidence["also_rows"]``),
    sort by severity then score, cap the list.

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
        rest = [r for r in g.iloc[1:].to_dict("records") if r["detector"] != top["detector"]]
        if rest:
            top["evidence"] = {**top["evidence"], "also": [r["detector"] for r in rest],
                               "also_rows": [{"detector": r["detector"], "evidence": r["evidence"]} for r in rest]}
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
    """Run every detector, merge analysts' problems, fold incidents' echoes, merge duplicates by key,
    rank and cap.

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
    frames = fold_incidents(frames)
    return merge_problems(frames, ps.max_problems)


def fold_incidents(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Show anomalies a data incident caused as the incident's consequences, never as findings.

    The anomaly frame's ``attrs["echoes"]`` (points on an incident's days that breached the
    threshold) and ``attrs["impacts"]`` (what a count series' period lost on those days) go into
    the evidence of the incident's problem (``echoes``, ``impacts``). An echo whose incident is not a
    problem of this period (a tracking break in the last days of the previous month, read by the
    first week's churn) becomes a note.
    """
    echoes = [e for f in frames for e in f.attrs.get("echoes", [])]
    impacts = [e for f in frames for e in f.attrs.get("impacts", [])]
    if not echoes and not impacts:
        return frames
    out, placed = [], set()
    for f in frames:
        if f.empty or not set(f["detector"]) & set(INCIDENT_DETECTORS):
            out.append(f)
            continue
        rows = []
        for r in f.to_dict("records"):
            mine = [e for e in echoes if e["incident"] == r["key"]]
            hurt = [e for e in impacts if e["incident"] == r["key"]]
            if mine or hurt:
                r["evidence"] = {**r["evidence"], "echoes": sorted(mine, key=lambda e: -abs(e["z"])),
                                 "impacts": hurt}
                placed.add(r["key"])
            rows.append(r)
        g = _frame(rows, f.attrs.get("notes", []))
        out.append(g)
    stray = [e for e in echoes if e["incident"] not in placed]
    if stray:
        out.append(_frame([], [{**_note("anomaly", "incident_before", e["series"]), "date": e["date"]}
                               for e in stray]))
    return out
