"""The problems section (04 问题与挑战): detected problems, their evidence and suggested owners.

Each problem reads as a written review does (结论先行): a one-line conclusion (:func:`problem_head`,
the overview table's row), then the evidence (:func:`problem_text`), then the suggestion and owner
(:func:`narrative`). A subsection details at most ``problems.max_bullets`` problems, most severe
first, and names the rest in one line; the notes of skipped checks follow, one per missing table.
:func:`top_problems` feeds the summary page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import anomalies as an
from opsnb.metrics import problems as pm
from opsnb.render import fmt
from opsnb.render.i18n import t
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


#: Which detectors (problem rows, and the registry names their notes carry) each subsection shows.
SUBSECTION_DETECTORS: dict[str, tuple[str, ...]] = {
    "problems.anomalies": ("anomaly",),
    "problems.kpis": ("kpi",),
    "problems.budget": ("roi", "roi_channel", "roi_campaign", "cac", "budget"),
    "problems.actions": ("actions", "action_overdue", "action_late", "action_slipped"),
    "problems.service": ("service", "service_compare", "service_resolution", "service_slow", "service_satisfaction", "service_volume",
                         "service_backlog"),
    "problems.data_gaps": ("data_gaps", "data_unattributed", "data_missing_days", "data_tracking", "data_duplicates"),
}


# ---------------------------------------------------------------- text


def owner_text(owner: Any, area: str, lang: str) -> str:
    """The owner from the data, else the area's role (``problems.owner.<area>``)."""
    if isinstance(owner, str) and owner.strip():
        return owner
    return t(f"problems.owner.{area}", lang)


def _when(iso: str, grain: str, lang: str) -> str:
    d = date.fromisoformat(iso)
    return t(f"problems.when.{grain}", lang, y=d.year, m=d.month, d=d.day, date=d)


def _day(d: date, lang: str) -> str:
    return t("problems.day", lang, m=d.month, d=d.day, date=d)


def _series_label(key: str, lang: str) -> str:
    return t(f"problems.series.{key}", lang)


def _runs(days: list[str], step: int) -> list[tuple[date, date]]:
    """Consecutive days (or weeks, ``step`` 7) as (first, last) runs."""
    out: list[tuple[date, date]] = []
    for d in sorted(date.fromisoformat(x) for x in days):
        if out and d - out[-1][1] == timedelta(days=step):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _dates(days: list[str], lang: str, *, step: int = 1, limit: int = 4) -> str:
    """Days as text, consecutive ones as one range (10月28日至10月31日), at most ``limit`` pieces."""
    runs = _runs(days, step)
    parts = [_day(a, lang) if a == b else t("problems.range", lang, a=_day(a, lang), b=_day(b, lang))
             for a, b in runs[:limit]]
    text = t("problems.list_sep", lang).join(parts)
    return text + (t("problems.list_more", lang) if len(runs) > limit else "")


def _hours(x: Any, lang: str) -> str:
    return fmt.value(x, "hours", lang)


def _diff(v: float, e: float, unit: str, lang: str, currency: str) -> str:
    """How far a value is from its usual level: points for a rate, percent for a volume."""
    if unit == "ratio":  # between the two ratios as shown beside it
        return fmt.pp(abs(fmt.shown_ratio_change(v, e)), lang, signed=False)
    if e:
        return fmt.pct(abs(v / e - 1), lang)
    return fmt.value(abs(v - e), unit, lang, currency=currency)


def _point_kw(ev: dict[str, Any], lang: str, currency: str) -> dict[str, Any]:
    unit, v, e = ev["unit"], ev["value"], ev["expected"]
    return {"label": _series_label(ev["series"], lang), "when": _when(ev["date"], ev["grain"], lang),
            "day": _day(date.fromisoformat(ev["date"]), lang),
            "value": fmt.value(v, unit, lang, currency=currency), "expected": fmt.value(e, unit, lang, currency=currency),
            "diff": _diff(v, e, unit, lang, currency)}


def _anomaly_body(ev: dict[str, Any], lang: str, currency: str) -> str:
    kw = _point_kw(ev, lang, currency)
    base = ""
    if ev.get("base") is not None:
        base = t(f"problems.base.{ev['series']}", lang, num=fmt.number(ev["num"], lang, compact=False),
                 base=fmt.number(ev["base"], lang, compact=False))
    text = t(f"problems.text.anomaly_{ev['direction']}", lang, base=base, **kw)
    if ev.get("n_flagged", 1) > 1:
        grain = ev["grain"]
        text += t(f"problems.more_points.{grain}", lang, n=ev["n_flagged"],
                  dates=_dates(ev["dates"], lang, step=an.SERIES[ev["series"]].step_days))
    for w in ev.get("with", []):
        text += t(f"problems.with.{w['direction']}", lang, **_point_kw(w, lang, currency))
    if ev.get("context"):
        text += t("problems.context", lang, items=events_text(ev["context"], lang))
    return text


def _event_name(e: dict[str, Any], lang: str) -> str:
    if e["kind"] == "festival":
        return t(f"plan.festival.{e['key']}", lang)
    return fmt.label(e["name_en"] if lang == "en" else e["name_zh"], lang)


def events_text(events: list[dict[str, Any]], lang: str) -> str:
    """Events a run of anomalous days coincides with (:func:`opsnb.metrics.problems.coinciding`), as text."""
    parts = []
    for e in events:
        a, b = date.fromisoformat(e["start"]), date.fromisoformat(e["end"])
        name = _event_name(e, lang)
        if e["edge"] == "span":
            when = _day(a, lang) if a == b else t("problems.range", lang, a=_day(a, lang), b=_day(b, lang))
            parts.append(t("problems.event.span", lang, name=name, when=when))
        else:
            day = a if e["edge"] == "start" else b
            parts.append(t(f"problems.event.{e['kind']}_{e['edge']}", lang, name=name, day=_day(day, lang)))
    return t("problems.event_sep", lang).join(dict.fromkeys(parts))


def _echo_text(ev: dict[str, Any], lang: str, currency: str) -> str:
    """What an incident did to the series that read its days (its echoes), and to the period's averages."""
    out = ""
    echoes = ev.get("echoes") or []
    if echoes:
        item = "problems.echo_item" if len(ev.get("days") or []) <= 1 else "problems.echo_item_day"
        items = t("problems.list_sep", lang).join(t(item, lang, **_point_kw(e, lang, currency)) for e in echoes)
        out += t("problems.echoes", lang, items=items)
    for imp in ev.get("impacts") or []:
        per_day = fmt.value(imp["per_day"], imp["unit"], lang, currency=currency)
        if per_day == fmt.value(0, imp["unit"], lang, currency=currency):
            continue  # less than the figure's precision: not worth a sentence
        out += t("problems.impact", lang, label=_series_label(imp["series"], lang), per_day=per_day,
                 share=fmt.pct(imp["share"], lang))
    return out


def _kw(d: str, ev: dict[str, Any], lang: str, currency: str) -> dict[str, Any]:
    """The formatted fields of one problem's evidence, for its head and body templates."""
    money = lambda x: fmt.money(x, lang, currency=currency)  # noqa: E731
    count = lambda x: fmt.number(x, lang, compact=False)  # noqa: E731
    kw = dict(ev)
    for k in ("channel", "to_channel", "platform", "category", "campaign", "title"):
        if k in kw:  # values from the data, shown by their display names
            kw[k] = fmt.label(kw[k], lang)
    if d == "kpi":
        unit = ev["unit"]
        kw.update(label=ev["label_en"] if lang == "en" and ev.get("label_en") else ev["label"],
                  actual=fmt.value(ev["actual"], unit, lang, currency=currency),
                  target=fmt.value(ev["target"], unit, lang, currency=currency),
                  attainment=fmt.pct(ev["attainment"], lang))
    elif d == "anomaly":
        kw.update(label=_series_label(ev["series"], lang))
    elif d in ("roi_channel", "roi_campaign"):
        kw.update(roi=fmt.ratio_x(ev["roi"], lang), gmv=money(ev["gmv"]), cost=money(ev["cost"]),
                  threshold=fmt.ratio_x(ev["threshold"], lang))
    elif d == "cac":
        kw.update(cac=money(ev["cac"]), cac_prev=money(ev["cac_prev"]), rise=fmt.pct(ev["rise"], lang),
                  threshold=fmt.pct(ev["threshold"], lang), cost=money(ev["cost"]), cost_prev=money(ev["cost_prev"]),
                  new_users=count(ev["new_users"]), new_users_prev=count(ev["new_users_prev"]))
    elif d == "budget":
        kw.update(spend_share=fmt.pct(ev["spend_share"], lang), return_share=fmt.pct(ev["return_share"], lang),
                  gap=fmt.pp(fmt.shown_ratio_change(ev["spend_share"], ev["return_share"]), lang, signed=False))
    elif d.startswith("service_"):
        for k in ("rate", "min", "rise", "share", "growth"):
            if kw.get(k) is not None and d != "service_satisfaction":
                kw[k] = fmt.pct(kw[k], lang)
        for k in ("tickets", "tickets_prev", "resolved", "rated", "start", "end"):
            if k in kw:
                kw[k] = count(kw[k])
        if d == "service_satisfaction":
            kw.update(satisfaction=fmt.value(ev["satisfaction"], "score", lang), min=fmt.value(ev["min"], "score", lang))
        if d == "service_slow":
            kw.update(p90=_hours(ev["p90_hours"], lang), median=_hours(ev["median_hours"], lang),
                      limit=_hours(ev["limit"], lang))
    elif d.startswith("data_"):
        for k in ("share", "max"):
            if k in kw:
                kw[k] = fmt.pct(kw[k], lang)
        for k in ("orders", "unattributed", "duplicates", "rows"):
            if k in kw:
                kw[k] = count(kw[k])
        if isinstance(kw.get("days"), list):
            kw["n"] = len(ev["days"])
            kw["days"] = _dates(ev["days"], lang)
        for k in ("normal", "count"):
            if k in kw:
                kw[k] = fmt.number(kw[k], lang)
        if "table" in kw:
            kw["table"] = fmt.table_name(ev["table"], lang)
    return kw


def problem_head(row: dict[str, Any], lang: str, currency: str = "¥") -> str:
    """The problem's conclusion in one line (the overview table's row; the bullet's lead)."""
    d, ev = row["detector"], dict(row["evidence"])
    if d == "manual":
        return str(ev["title"][lang])
    kw = _kw(d, ev, lang, currency)
    key = d
    if d == "service_volume" and ev.get("rise") is None:
        key = "service_volume_counts"  # growth on a small base: the counts, no percentage
    if d == "anomaly":
        key = f"anomaly_{ev['direction']}" + ("_many" if ev.get("n_flagged", 1) > 1 else "")
        kw.update(value=fmt.value(ev["value"], ev["unit"], lang, currency=currency), n=ev.get("n_flagged", 1),
                  unit=t(f"problems.unit.{ev['grain']}", lang))
    return t(f"problems.head.{key}", lang, **kw)


def _body(d: str, ev: dict[str, Any], lang: str, currency: str, *, main: bool = False) -> str:
    """The evidence of a finding (``main``: its first sentence only, as quoted beside another finding)."""
    if d == "manual":
        return ""
    if d == "anomaly":
        return _anomaly_body(ev, lang, currency)
    kw = _kw(d, ev, lang, currency)
    key = "service_volume_counts" if d == "service_volume" and ev.get("rise") is None else d
    text = t(f"problems.text.{key}", lang, **kw)
    if main:
        return text
    if d == "budget" and ev.get("to_channel"):
        text += t("problems.text.budget_to", lang, channel=ev["to_channel"],
                  spend_share=fmt.pct(ev["to_spend_share"], lang), return_share=fmt.pct(ev["to_return_share"], lang))
    if d in pm.INCIDENT_DETECTORS:
        text += _echo_text(ev, lang, currency)
    return text


def problem_text(row: dict[str, Any], lang: str, currency: str = "¥") -> tuple[str, str]:
    """The finding (conclusion, then evidence) and the suggestion of one problem row.

    A row that merged other detectors' findings on the same subject (``evidence["also_rows"]``)
    says them too, after its own evidence.
    """
    d, ev = row["detector"], dict(row["evidence"])
    head, body = problem_head(row, lang, currency), _body(d, ev, lang, currency)
    text = t("problems.lead", lang, head=head, body=body) if body else head
    also = [t("problems.also_item", lang, head=problem_head(a, lang, currency),
              body=_body(a["detector"], a["evidence"], lang, currency, main=True).rstrip("。."))
            for a in ev.get("also_rows", [])]
    if also:
        text += t("problems.also", lang, items=t("problems.also_sep", lang).join(also))
    return text, _suggestion(d, ev, lang, currency)


def _suggestion(d: str, ev: dict[str, Any], lang: str, currency: str) -> str:
    if d == "manual":
        sug = ev.get("suggestion")
        return str(sug[lang]) if sug else t("problems.suggest.manual", lang)
    kw = _kw(d, ev, lang, currency)
    if d == "anomaly":  # with events around its days, start there
        return t("problems.suggest.anomaly_context" if ev.get("context") else "problems.suggest.anomaly", lang, **kw)
    if d == "budget":
        key = "budget" if ev.get("to_channel") else "budget_plain"
        return t(f"problems.suggest.{key}", lang, **{**kw, "to_channel": ev.get("to_channel")})
    return t(f"problems.suggest.{d}", lang, **kw)


def narrative(problems: pd.DataFrame, lang: str, *, currency: str = "¥") -> list[str]:
    """One written-review bullet per problem: severity, conclusion and evidence, and a 建议 / Suggested line."""
    out = []
    for row in problems.to_dict("records"):
        text, sug = problem_text(row, lang, currency)
        out.append(t("problems.bullet", lang, severity=t(f"problems.severity.{row['severity']}", lang), text=text,
                     suggestion=sug, owner=owner_text(row["owner"], row["area"], lang)))
    return out


def notes_text(notes: list[dict[str, Any]], lang: str, *, min_base: int = 30, currency: str = "¥") -> list[str]:
    """Translate detector notes: checks skipped for a missing table (one line per table), series not
    scored, points of the period in the warm-up or on a small base."""
    out: list[str] = []
    missing: dict[str, list[str]] = {}
    warm: dict[tuple[str, str, str], list[str]] = {}  # (first, grain, need) → series: one line for the same warm-up
    for n in notes:
        det, reason, key = n["detector"], n["reason"], n.get("key", "")
        if reason.startswith(("no_table:", "no_data:")):
            label = t(f"problems.detector.{det}", lang)
            missing.setdefault(reason.split(":", 1)[1], [])
            if label not in missing[reason.split(":", 1)[1]]:
                missing[reason.split(":", 1)[1]].append(label)
            continue
        if reason in ("too_short", "not_computable", "empty"):
            out.append(t(f"problems.note.{reason}", lang, series=_series_label(key, lang), seasons=2))
        elif reason == "warm_up":
            need = t(f"problems.warmup_need.{key}", lang, steps=n["steps"])
            warm.setdefault((n.get("first", ""), n["grain"], need), []).append(
                t("problems.quoted", lang, name=_series_label(key, lang)))
        elif reason == "small_base":
            out.append(t("problems.note.small_base", lang, series=_series_label(key, lang), n=n["n"],
                         unit=t(f"problems.unit.{n['grain']}", lang), min_base=min_base,
                         base=t(f"problems.base_label.{key}", lang)))
        elif reason == "holiday":
            ev = n["evidence"]
            holidays = [e for e in ev["context"] if e["kind"] == "holiday"]
            out.append(t(f"problems.note.holiday_{ev['direction']}", lang, **_point_kw(ev, lang, currency),
                         holidays=events_text(holidays, lang)))
        elif reason == "incident_before":
            out.append(t("problems.note.incident_before", lang, series=_series_label(key, lang),
                         when=_day(date.fromisoformat(n["date"]), lang)))
        elif reason == "warm_up_touchpoints":
            out.append(t("problems.note.warm_up_touchpoints", lang, first=n["first"], days=n["days"],
                         since=n["since"]))
        elif reason == "warm_up_previous":
            out.append(t("problems.note.warm_up_previous", lang, detector=t(f"problems.detector.{det}", lang),
                         previous=n["previous"]))
        else:
            out.append(t("problems.note.other", lang, detector=t(f"problems.detector.{det}", lang), reason=reason))
    for (first, grain, need), names in warm.items():
        series = t("problems.list_sep", lang).join(names)
        if first:
            d = date.fromisoformat(first)
            out.append(t("problems.note.warm_up", lang, series=series, need=need,
                         first=t(f"problems.since.{grain}", lang, y=d.year, m=d.month, d=d.day, date=d)))
        else:
            out.append(t("problems.note.warm_up_all", lang, series=series, need=need))
    for table, labels in missing.items():
        out.append(t("problems.note.no_table", lang, table=fmt.table_name(table, lang),
                     detectors=t("problems.list_sep", lang).join(labels)))
    return [x[:1].upper() + x[1:] for x in out]  # a sentence may open with a series' name


# ---------------------------------------------------------------- compute and views


def _all(ctx: Context) -> pd.DataFrame:
    return ctx.memo("problems", lambda: pm.detect_problems(ctx.pack, ctx.effective_period, ctx.settings))


def _subset(ctx: Context, key: str) -> pd.DataFrame:
    detectors = SUBSECTION_DETECTORS[key]
    df = _all(ctx)
    sub = df[df["detector"].isin(detectors)].reset_index(drop=True)
    sub.attrs["notes"] = [n for n in df.attrs.get("notes", []) if n["detector"] in detectors]
    return sub


def _table(df: pd.DataFrame, ctx: Context) -> Any:
    if df.empty:
        return None
    from opsnb.render import ui

    lang, cur = ctx.lang, ctx.settings.currency
    out = pd.DataFrame({
        t("problems.col.severity", lang): [t(f"problems.severity.{s}", lang) for s in df["severity"]],
        t("problems.col.problem", lang): [problem_head(r, lang, cur) for r in df.to_dict("records")],
        t("problems.col.area", lang): [t(f"problems.area.{a}", lang) for a in df["area"]],
        t("problems.col.section", lang): [t(f"{_section_of(d)}.title", lang) for d in df["detector"]],
        t("problems.col.owner", lang): [owner_text(o, a, lang) for o, a in zip(df["owner"], df["area"], strict=True)],
    })
    return ui.table(out, lang)


def _section_of(detector: str) -> str:
    return next((k for k, v in SUBSECTION_DETECTORS.items() if detector in v), "problems.overview")


def _bullets(df: pd.DataFrame, ctx: Context, *, notes: bool = True) -> list[str]:
    """At most ``max_bullets`` problems in full, most severe first; the rest named in one line; then notes."""
    lang, ps = ctx.lang, ctx.settings.problems
    shown = df.head(ps.max_bullets)
    out = narrative(shown, lang, currency=ctx.settings.currency)
    rest = df.iloc[len(shown):]
    if len(rest):
        out.append(t("problems.more", lang, n=len(rest), items=t("problems.list_sep", lang).join(
            problem_head(r, lang, ctx.settings.currency) for r in rest.to_dict("records"))))
    if notes:  # the overview leaves skipped checks to their own subsections
        out += notes_text(df.attrs.get("notes", []), lang, min_base=ctx.settings.min_base,
                          currency=ctx.settings.currency)
    if df.attrs.get("dropped"):
        out.append(t("problems.dropped", lang, n=df.attrs["dropped"], max=ps.max_problems))
    if df.empty and not out:
        out.append(t("problems.none", lang))
    return out


def _counts(df: pd.DataFrame, ctx: Context) -> list[str]:
    """The overview's one sentence: how many problems of each severity (each is detailed once, below)."""
    if df.empty:
        return [t("problems.none", ctx.lang)]
    n = df["severity"].value_counts()
    out = [t("problems.overview_count", ctx.lang, n=len(df), high=int(n.get("high", 0)),
             medium=int(n.get("medium", 0)), low=int(n.get("low", 0)))]
    if df.attrs.get("dropped"):
        out.append(t("problems.dropped", ctx.lang, n=df.attrs["dropped"], max=ctx.settings.problems.max_problems))
    return out


def problem_facts(df: pd.DataFrame, ctx: Context, source: str) -> list[Fact]:
    """The figures each problem of ``df`` rests on, for the rules of :mod:`opsnb.invariants`: its verdict with
    the base a rate rests on, a change beside the two values it is between, the days overdue with the due day
    they count from, a data incident with the days it covers; findings merged into a problem count too."""
    out: list[Fact] = []
    for r in df.to_dict("records"):
        ev = r["evidence"]
        out += _evidence_facts(r["detector"], ev, ctx, source, r["severity"])
        for also in ev.get("also_rows", []):
            out += _evidence_facts(also["detector"], also["evidence"], ctx, source, r["severity"])
        out += [_echo_fact(p, ctx, source, r["key"]) for p in ev.get("echoes") or []]
    return out


def _evidence_facts(d: str, ev: dict[str, Any], ctx: Context, source: str, severity: str) -> list[Fact]:
    lang, period = ctx.lang, ctx.period.label
    where = facts.span(ctx.effective_period)
    kw = {"period": period, "source": source}
    if d == "anomaly":
        return [_point_fact(p, ctx, source, verdict=p["direction"]) for p in [ev, *ev.get("with", [])]]
    if d == "kpi":
        return [facts.make(facts.key(f"kpi.{ev['kpi']}", "attainment", facts.span(ctx.period, ctx.data_last_day)),
                           ev["attainment"], "ratio", fmt.pct(ev["attainment"], lang), **kw,
                           definition="the KPI's attainment")]
    if d == "cac":
        return [facts.change(facts.key(f"channel.{ev['channel']}", "cac_rise", where), ev["rise"],
                             fmt.pct(ev["rise"], lang), now=ev["cac"], before=ev["cac_prev"], kind="relative",
                             unit="currency", **kw, base=min(ev["new_users"], ev["new_users_prev"]), verdict=severity,
                             definition="CAC against the previous period's")]
    if d == "budget":
        gap = fmt.shown_ratio_change(ev["spend_share"], ev["return_share"])
        return [facts.change(facts.key(f"channel.{ev['channel']}", "budget_gap", where), gap,
                             fmt.pp(gap, lang, signed=False), now=ev["spend_share"], before=ev["return_share"],
                             kind="pp", unit="ratio", **kw, definition="budget share less return share"),
                *(facts.make(f"channels.{what}_share|{ev['channel']}@{where}",  # the channels table's key
                             ev[f"{what_ev}_share"], "ratio", fmt.pct(ev[f"{what_ev}_share"], lang), **kw,
                             definition=f"the channel's share of all channels' {what}")
                  for what, what_ev in (("budget", "spend"), ("return", "return")))]
    if d == "service_resolution":
        return [facts.make(facts.key(f"service.{ev['category']}", "resolution_rate", where), ev["rate"], "ratio",
                           fmt.pct(ev["rate"], lang), **kw, base=ev["tickets"], verdict=severity,
                           definition="resolved ÷ tickets of the category")]
    if d == "service_slow":
        return [facts.make(facts.key(f"service.{ev['category']}", "p90_hours", where), ev["p90_hours"], "hours",
                           fmt.value(ev["p90_hours"], "hours", lang), **kw, base=ev["resolved"], verdict=severity,
                           definition="90th percentile of the resolved tickets' hours")]
    if d == "service_satisfaction":
        return [facts.make(facts.key(f"service.{ev['category']}", "satisfaction", where), ev["satisfaction"], "score",
                           fmt.value(ev["satisfaction"], "score", lang), **kw, base=ev["rated"], verdict=severity,
                           definition="mean rating of the category's rated tickets")]
    if d == "service_volume" and ev.get("rise") is not None:
        return [facts.make(facts.key(f"service.{ev['category']}", "tickets_rise", where), ev["rise"], "change",
                           fmt.pct(ev["rise"], lang), **kw, base=ev["tickets_prev"], verdict=severity,
                           definition="tickets per day against the previous period's")]
    if d == "service_backlog":
        return [facts.change(facts.key("service.backlog", "growth", where), ev["growth"], fmt.pct(ev["growth"], lang),
                             now=ev["end"], before=ev["start"], kind="relative", unit="count", **kw, base=ev["start"],
                             verdict=severity, definition="open tickets at the period's end against its start")]
    if d == "data_unattributed":
        return [facts.make(facts.key(f"channel.{ev['channel']}", "unattributed_share", where), ev["share"], "ratio",
                           fmt.pct(ev["share"], lang), **kw, base=ev["orders"], verdict=severity,
                           definition="paid orders without a touchpoint before them")]
    if d in pm.INCIDENT_DETECTORS:
        return [facts.make(facts.key(f"incident.{ev.get('platform', ev['table'])}", "days", where), len(ev["days"]),
                           "days", str(len(ev["days"])), **kw, incident_days=list(ev["days"]), table=ev["table"],
                           definition="days a data incident covers")]
    if d == "action_overdue":
        return [facts.make(facts.key(f"action.{ev['action_id']}", "days_overdue", _as_of(ctx).isoformat()),
                           int(ev["days"]), "days", str(int(ev["days"])), **kw,
                           definition="days from the due day to the report's as-of day", **{"from": ev["due"]})]
    return []


def _as_of(ctx: Context) -> date:
    """The review's as-of day: the period's last day, or the data's when earlier."""
    return ctx.effective_period.last_day


def _point_fact(p: dict[str, Any], ctx: Context, source: str, *, verdict: str | None = None) -> Fact:
    """One anomalous point (or run of points) as the finding shows it: its value against the usual one, the days
    it reads (nothing after the as-of day), its verdict and base."""
    spec = an.SERIES[p["series"]]
    first, last = spec.days_read(pd.Timestamp(p["date"]))
    kind = "pp" if p["unit"] == "ratio" else "relative"
    v, e = p["value"], p["expected"]
    chg = fmt.shown_ratio_change(v, e) if kind == "pp" else (None if not e else v / e - 1)
    return facts.change(facts.key(f"anomaly.{p['series']}", "vs_usual", f"{first.isoformat()}..{last.isoformat()}"),
                        chg, _diff(v, e, p["unit"], ctx.lang, ctx.settings.currency), now=v, before=e, kind=kind,
                        unit=p["unit"], period=ctx.period.label, source=source, base=p.get("base"),
                        verdict=verdict, day=first, until=last, table=spec.table,
                        definition="the point's value against its usual level")


def _echo_fact(p: dict[str, Any], ctx: Context, source: str, incident: str) -> Fact:
    """A point a data incident explains, as the incident's finding gives it ("显示为826"), naming the incident."""
    spec = an.SERIES[p["series"]]
    first, last = spec.days_read(pd.Timestamp(p["date"]))
    return facts.make(facts.key(f"anomaly.{p['series']}", "mean", f"{first.isoformat()}..{last.isoformat()}"),
                      p["value"], p["unit"], fmt.value(p["value"], p["unit"], ctx.lang, currency=ctx.settings.currency),
                      period=ctx.period.label, source=source, day=first, until=last, table=spec.table,
                      verdict="echo", incident=incident, definition="a point a data incident explains")


def overdue_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Days overdue of each late action (the plan page shows the same key), with the due day they count from."""
    return problem_facts(df, ctx, "problems.actions")


def overview_chart(problems: pd.DataFrame, lang: str, *, ax: Any = None) -> Any:
    """Bar chart: number of problems per area, stacked colours by severity."""
    from opsnb.render import charts

    if len(problems) <= 2:  # one or two problems: the list below says it better than a chart
        return None
    counts = problems.groupby(["area", "severity"]).size().rename("n").reset_index()
    counts["_o"] = counts["severity"].map(pm.SEVERITY_ORDER)
    counts = counts.sort_values(["_o", "area"])
    data = pd.DataFrame({
        t("problems.col.area", lang): [t(f"problems.area.{a}", lang) for a in counts["area"]],
        t("problems.col.severity", lang): [t(f"problems.severity.{s}", lang) for s in counts["severity"]],
        t("problems.col.count", lang): counts["n"].to_numpy(),
    })
    return charts.bar(data, x=t("problems.col.area", lang), y=t("problems.col.count", lang),
                      hue=t("problems.col.severity", lang), horizontal=True, ax=ax, unit="count", lang=lang,
                      legend_title=t("problems.col.severity", lang))


# ---------------------------------------------------------------- anomalies: chart, table, bullets

#: Days of history shown before the period in the anomaly chart: enough to see the usual level.
CHART_CONTEXT_DAYS = 61
#: Marker and colour of each kind of point (adverse finding, favourable, a data incident's echo).
POINT_STYLE = {"adverse": ("o", "#d62728"), "favourable": ("^", "#2ca02c"), "incident": ("X", "#7f7f7f")}


def point_kinds(key: str, r: pd.DataFrame) -> pd.Series:
    """The kind of each point of the period worth showing: ``adverse`` or ``favourable`` (flagged),
    ``incident`` (on a data incident's days and beyond the threshold); NA for the others."""
    inside = r["in_period"].astype(bool)
    z = r["z"].astype("float64").abs()
    out = pd.Series(pd.NA, index=r.index, dtype="string")
    flagged = inside & r["flagged"].astype(bool)
    adverse = pd.Series([pm._adverse(key, x) if pd.notna(x) else False for x in r["resid"]], index=r.index)
    out[flagged & adverse] = "adverse"
    out[flagged & ~adverse] = "favourable"
    out[inside & (r["reason"] == "excluded").fillna(False) & (z > r.attrs.get("z", 3.5)).fillna(False)] = "incident"
    return out


def episodes(scans: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Runs of consecutive points of one series and kind (:func:`point_kinds`): series, kind, first, last,
    n, the mean value and expected value over the run, and the largest |z|."""
    rows = []
    for key, r in scans.items():
        kinds = point_kinds(key, r)
        pts = r[kinds.notna()].assign(kind=kinds[kinds.notna()])
        step = np.timedelta64(an.SERIES[key].step_days, "D")
        k = pts["kind"].astype(object).to_numpy()
        starts = np.ones(len(pts), dtype=bool)
        starts[1:] = (k[1:] != k[:-1]) | (np.diff(pts.index.to_numpy()) != step)
        for _, g in pts.groupby(np.cumsum(starts)):
            z = g["z"].astype("float64")
            rows.append({"series": key, "kind": g["kind"].iloc[0], "first": g.index[0], "last": g.index[-1],
                         "n": len(g), "value": float(g["value"].mean()), "expected": float(g["expected"].mean()),
                         "z": float(z.loc[z.abs().idxmax()])})
    return pd.DataFrame(rows, columns=["series", "kind", "first", "last", "n", "value", "expected", "z"])


def anomaly_chart(scans: dict[str, pd.DataFrame], keys: list[str], lang: str, *, period_start: date | None = None,
                  incidents: list[pm.Incident] | None = None, currency: str | None = None) -> Any:
    """The series with findings or a data incident's echoes, one panel each on one date axis: actual
    line, expected (常态) line with its band, the period's points marked by kind, incident days shaded.

    The band is expected ± z·MAD/0.6745 (the values whose robust z stays within the threshold). The
    panels share the x axis (tick labels only under the last) from ``CHART_CONTEXT_DAYS`` before the
    period; one legend sits above them; constrained layout keeps every title off the panel above.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from opsnb.metrics.anomalies import MODIFIED_Z_K
    from opsnb.render import charts

    keys = [k for k in keys if k in scans]
    if not keys:
        return None
    fig = plt.figure(figsize=(8.0, 0.6 + 2.2 * len(keys)), layout="constrained")
    axes = list(fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0])
    lo = None
    if period_start is not None:
        lo = pd.Timestamp(period_start - timedelta(days=CHART_CONTEXT_DAYS))
    handles: dict[str, Any] = {}
    for a, key in zip(axes, keys, strict=True):
        r = scans[key]
        view = r[r.index >= lo] if lo is not None else r
        half = r.attrs["z"] * (r.attrs["mad"] or 0.0) / MODIFIED_Z_K
        med = r.attrs["median"] or 0.0
        x = view.index
        handles["band"] = a.fill_between(x, view["expected"] - half + med, view["expected"] + half + med, alpha=0.2,
                                         linewidth=0)
        handles["expected"] = a.plot(x, view["expected"], linestyle="--", linewidth=1)[0]
        handles["actual"] = a.plot(x, view["value"], linewidth=1.2)[0]
        kinds = point_kinds(key, view)
        for kind, (marker, colour) in POINT_STYLE.items():
            pts = view[kinds == kind]
            if len(pts):
                handles[kind] = a.scatter(pts.index, pts["value"], marker=marker, color=colour, zorder=3, s=28)
        for inc in incidents or []:
            if inc.table not in an.SERIES[key].reads:
                continue
            for d in sorted(inc.days):
                day = pd.Timestamp(d)
                if lo is None or day >= lo:
                    handles["incident_day"] = a.axvspan(day - pd.Timedelta(hours=12), day + pd.Timedelta(hours=12),
                                                        color="#7f7f7f", alpha=0.25, linewidth=0)
        label = _series_label(key, lang)
        a.set_title(label[:1].upper() + label[1:], loc="left", fontsize=10)
        charts.format_axis(a, "y", an.SERIES[key].unit, lang, currency=currency)
    span = (axes[0].get_xlim()[1] - axes[0].get_xlim()[0])
    axes[-1].xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8))
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%m-%d" if span <= 200 else "%Y-%m"))
    names = {"band": "problems.chart.band", "expected": "problems.chart.expected", "actual": "problems.chart.actual",
             "adverse": "problems.chart.adverse", "favourable": "problems.chart.favourable",
             "incident": "problems.chart.incident", "incident_day": "problems.chart.incident_day"}
    order = [k for k in names if k in handles]
    fig.legend([handles[k] for k in order], [t(names[k], lang) for k in order], loc="outside upper center",
               ncols=min(4, len(order)), fontsize=8, frameon=False)
    return axes[0]


def _incidents(ctx: Context) -> list[pm.Incident]:
    return pm.incidents_of(_all(ctx))


def _compute_anomalies(ctx: Context) -> dict[str, Any]:
    df = _subset(ctx, "problems.anomalies")
    period = ctx.effective_period
    scans = ctx.memo("problems_scans", lambda: pm.anomaly_scan(ctx.pack, period, ctx.settings))
    if not scans:
        raise NoData("events", "no series to scan")
    events = pm.context_events(ctx.pack, period, ctx.settings, period.start - timedelta(days=7))
    return {"problems": df, "scans": scans, "events": events}


def _chart_keys(res: dict[str, Any]) -> list[str]:
    """Series with an adverse finding (or folded under one), then series with a data incident's echoes."""
    keys: list[str] = []
    for ev in res["problems"]["evidence"]:
        keys += [ev["series"]] + [w["series"] for w in ev.get("with", [])]
    for key, r in res["scans"].items():
        if (point_kinds(key, r) == "incident").any():
            keys.append(key)
    return [k for k in an.SERIES if k in keys]


def _anomaly_chart(res: dict[str, Any], ctx: Context) -> Any:
    return anomaly_chart(res["scans"], _chart_keys(res), ctx.lang, period_start=ctx.effective_period.start,
                         incidents=_incidents(ctx), currency=ctx.settings.currency)


def _anomaly_bullets(res: dict[str, Any], ctx: Context) -> list[str]:
    """The findings; then which points a data incident explains, and how many favourable runs are listed."""
    lang = ctx.lang
    out = _bullets(res["problems"], ctx)
    eps = episodes(res["scans"])
    heads = {r["key"]: problem_head(r, lang, ctx.settings.currency) for r in _all(ctx).to_dict("records")}
    for inc_key, g in _echo_groups(res["scans"]).items():
        out.append(t("problems.anomaly_incident", lang, incident=heads.get(inc_key, inc_key),
                     items=t("problems.list_sep", lang).join(_series_label(k, lang) for k in g),
                     section=t("problems.data_gaps.title", lang)))
    fav = eps[eps["kind"] == "favourable"]
    if len(fav):
        names: dict[str, None] = {}
        with_event = 0
        for e in fav.to_dict("records"):
            step = timedelta(days=an.SERIES[e["series"]].step_days - 1)
            near = [x for x in pm.coinciding(res["events"], e["first"].date(), e["last"].date() + step)
                    if x["kind"] in ("festival", "campaign")] if res.get("events") is not None else []
            with_event += bool(near)
            names.update(dict.fromkeys(_event_name(x, lang) for x in near))
        if with_event:
            out.append(t("problems.anomaly_favourable_events", lang, n=len(fav), k=with_event,
                         names=t("problems.list_sep", lang).join(names)))
        else:
            out.append(t("problems.anomaly_favourable", lang, n=len(fav)))
    return out


def _echo_groups(scans: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Incident key → the series whose points of the period it explains (beyond the threshold)."""
    out: dict[str, list[str]] = {}
    for key, r in scans.items():
        kinds = point_kinds(key, r)
        for inc in r.loc[kinds == "incident", "incident"].dropna().unique():
            out.setdefault(str(inc), []).append(key)
    return out


def _anomaly_table(res: dict[str, Any], ctx: Context) -> Any:
    from opsnb.render import ui

    lang, cur = ctx.lang, ctx.settings.currency
    eps = episodes(res["scans"])
    if eps.empty:
        return None
    eps = eps.assign(_o=eps["kind"].map({"adverse": 0, "incident": 1, "favourable": 2})).sort_values(
        ["_o", "first"], kind="stable")
    rows = []
    events = res.get("events")
    for e in eps.to_dict("records"):
        unit = an.SERIES[e["series"]].unit
        step = timedelta(days=an.SERIES[e["series"]].step_days - 1)
        near = []  # a data incident's echo has its cause already
        if events is not None and e["kind"] != "incident":
            near = pm.coinciding(events, e["first"].date(), e["last"].date() + step)
        first, last = e["first"].date().isoformat(), e["last"].date().isoformat()
        when = first if e["n"] == 1 else t(f"problems.span.{an.SERIES[e['series']].grain}", lang, a=first, b=last,
                                            n=e["n"])
        # actual and usual in one format (never "¥10,984" beside "¥5,845.23")
        value, expected = fmt.column([e["value"], e["expected"]], unit, lang, currency=cur)
        rows.append({t("problems.col.series", lang): _series_label(e["series"], lang),
                     t("problems.col.date", lang): when,
                     t("problems.col.direction", lang): t(f"problems.direction.{e['kind']}", lang),
                     t("problems.col.value", lang): value,
                     t("problems.col.expected", lang): expected,
                     t("problems.col.z", lang): f"{e['z']:.1f}",
                     t("problems.col.context", lang): events_text(near, lang)})
    table = pd.DataFrame(rows)
    if not table[t("problems.col.context", lang)].str.len().any():
        table = table.drop(columns=t("problems.col.context", lang))
    return ui.table(table, lang)


def _section(key: str) -> Any:
    return lambda ctx: _subset(ctx, key)


def _facts_of(key: str) -> Any:
    return lambda df, ctx: problem_facts(df, ctx, key)


def anomaly_facts(res: dict[str, Any], ctx: Context) -> list[Fact]:
    """The anomaly table's runs (what each reads, its verdict; a data incident's echo names its incident) and
    the findings of the anomaly problems."""
    out = problem_facts(res["problems"], ctx, "problems.anomalies")
    eps = episodes(res["scans"])
    for e in eps.to_dict("records"):
        spec = an.SERIES[e["series"]]
        first, _ = spec.days_read(e["first"])
        _, last = spec.days_read(e["last"])
        scan = res["scans"][e["series"]]
        incident = None
        if e["kind"] == "incident" and "incident" in scan:
            found = scan.loc[e["first"]:e["last"], "incident"].dropna()
            incident = str(found.iloc[0]) if len(found) else "incident"
        out.append(facts.make(facts.key(f"anomaly.{e['series']}", "mean", f"{first.isoformat()}..{last.isoformat()}"),
                              e["value"], spec.unit, fmt.value(e["value"], spec.unit, ctx.lang,
                                                                currency=ctx.settings.currency),
                              period=ctx.period.label, source="problems.anomalies", day=first, until=last,
                              table=spec.table, verdict=e["kind"], incident=incident,
                              definition="the run's mean value (the anomaly table)"))
    return out


def _overview_chart(df: pd.DataFrame, ctx: Context) -> Any:
    return overview_chart(df, ctx.lang)


def top_problems(ctx: Context, n: int = 3) -> list[str]:
    """The ``n`` most severe problems as bullets, for the summary page."""
    df = _all(ctx)
    return narrative(df.head(n), ctx.lang, currency=ctx.settings.currency) if not df.empty else [
        t("problems.none", ctx.lang)]


def problem_records(ctx: Context) -> list[dict[str, Any]]:
    """Every problem of the period as a record, most severe first, for delivery (alerts and the chat card).

    ``text`` is the finding as the page words it (without the suggestion), ``bullet`` the whole bullet;
    ``key`` identifies the finding across reruns (detector and subject), the rest says how to route it.
    """
    df = _all(ctx)
    lang, currency = ctx.lang, ctx.settings.currency
    out = []
    for row, bullet in zip(df.to_dict("records"), narrative(df, lang, currency=currency), strict=True):
        text, _ = problem_text(row, lang, currency)
        out.append({"key": row["key"], "detector": row["detector"], "severity": row["severity"],
                    "area": row["area"], "owner": owner_text(row["owner"], row["area"], lang),
                    "severity_text": t(f"problems.severity.{row['severity']}", lang), "text": text, "bullet": bullet})
    return out


SUBSECTIONS: list[Subsection] = [
    Subsection("problems.overview", _all, chart=_overview_chart, table=_table, bullets=_counts),
    Subsection("problems.anomalies", _compute_anomalies, chart=_anomaly_chart, table=_anomaly_table,
               bullets=_anomaly_bullets, facts=lambda r, ctx: anomaly_facts(r, ctx)),
    *[Subsection(key, _section(key), bullets=_bullets, facts=_facts_of(key))
      for key in ("problems.kpis", "problems.budget", "problems.actions", "problems.service", "problems.data_gaps")],
]
