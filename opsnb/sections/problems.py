"""The problems section (04 问题与挑战): detected problems, their evidence and suggested owners.

:func:`narrative` turns a problems frame (:func:`opsnb.metrics.problems.detect_problems`) into
written-review bullets with a 建议 / Suggested line; :func:`top_problems` feeds the summary page.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import problems as pm
from opsnb.render import fmt
from opsnb.render.i18n import t
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


# ---------------------------------------------------------------- text


def owner_text(owner: Any, area: str, lang: str) -> str:
    """The owner from the data, else the area's role (``problems.owner.<area>``)."""
    if isinstance(owner, str) and owner.strip():
        return owner
    return t(f"problems.owner.{area}", lang)


def _when(iso: str, grain: str, lang: str) -> str:
    d = date.fromisoformat(iso)
    return t(f"problems.when.{grain}", lang, y=d.year, m=d.month, d=d.day, date=d.strftime("%d %b %Y"))


def _series_label(key: str, lang: str) -> str:
    return t(f"problems.series.{key}", lang)


def _dates(days: list[str], lang: str, limit: int = 5) -> str:
    shown = [date.fromisoformat(d) for d in days[:limit]]
    parts = [f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b") for d in shown]
    more = "" if len(days) <= limit else ("等" if lang == "zh" else ", …")
    return ("、" if lang == "zh" else ", ").join(parts) + more


def _hours(x: Any, lang: str) -> str:
    return fmt.value(x, "hours", lang)


def problem_text(row: dict[str, Any], lang: str, currency: str = "¥") -> tuple[str, str]:
    """The evidence sentence and the suggestion of one problem row."""
    d, ev = row["detector"], dict(row["evidence"])
    money = lambda x: fmt.money(x, lang, currency=currency)  # noqa: E731
    if d == "kpi":
        label = ev["label_en"] if lang == "en" and ev.get("label_en") else ev["label"]
        unit = ev["unit"]
        text = t("problems.text.kpi", lang, label=label, actual=fmt.value(ev["actual"], unit, lang, currency=currency),
                 target=fmt.value(ev["target"], unit, lang, currency=currency), attainment=fmt.pct(ev["attainment"], lang))
        return text, t("problems.suggest.kpi", lang, label=label)
    if d == "anomaly":
        label = _series_label(ev["series"], lang)
        unit, v, e = ev["unit"], ev["value"], ev["expected"]
        if unit == "ratio":
            diff = fmt.pp(abs(v - e), lang, signed=False)
        elif e:
            diff = fmt.pct(abs(v / e - 1), lang)
        else:
            diff = fmt.value(abs(v - e), unit, lang, currency=currency)
        text = t(f"problems.text.anomaly_{ev['direction']}", lang, when=_when(ev["date"], ev["grain"], lang),
                 label=label, value=fmt.value(v, unit, lang, currency=currency),
                 expected=fmt.value(e, unit, lang, currency=currency), diff=diff, z=f"{ev['z']:.1f}")
        if ev.get("n_flagged", 1) > 1:
            text += t("problems.more_points", lang, n=ev["n_flagged"], dates=_dates(ev["dates"], lang))
        return text, t("problems.suggest.anomaly", lang, label=label)
    if d in ("roi_channel", "roi_campaign"):
        kw = {"roi": fmt.ratio_x(ev["roi"], lang), "gmv": money(ev["gmv"]), "cost": money(ev["cost"]),
              "threshold": fmt.ratio_x(ev["threshold"], lang), "channel": ev.get("channel"),
              "campaign": ev.get("campaign")}
        return t(f"problems.text.{d}", lang, **kw), t(f"problems.suggest.{d}", lang, **kw)
    if d == "cac":
        kw = {"channel": ev["channel"], "cac": money(ev["cac"]), "cac_prev": money(ev["cac_prev"]),
              "rise": fmt.pct(ev["rise"], lang), "threshold": fmt.pct(ev["threshold"], lang)}
        return t("problems.text.cac", lang, **kw), t("problems.suggest.cac", lang, **kw)
    if d == "budget":
        text = t("problems.text.budget", lang, channel=ev["channel"], spend_share=fmt.pct(ev["spend_share"], lang),
                 return_share=fmt.pct(ev["return_share"], lang), gap=fmt.pp(ev["gap_pp"] / 100, lang, signed=False))
        if ev.get("to_channel"):
            text += t("problems.text.budget_to", lang, channel=ev["to_channel"],
                      spend_share=fmt.pct(ev["to_spend_share"], lang), return_share=fmt.pct(ev["to_return_share"], lang))
            return text, t("problems.suggest.budget", lang, channel=ev["channel"], to_channel=ev["to_channel"])
        return text, t("problems.suggest.budget_plain", lang, channel=ev["channel"])
    if d.startswith("action_"):
        return t(f"problems.text.{d}", lang, **ev), t(f"problems.suggest.{d}", lang)
    if d.startswith("service_"):
        kw = dict(ev)
        for k in ("rate", "min", "rise", "share", "growth"):
            if k in kw and d != "service_satisfaction":
                kw[k] = fmt.pct(kw[k], lang)
        if d == "service_satisfaction":
            kw["satisfaction"] = fmt.value(ev["satisfaction"], "score", lang)
            kw["min"] = fmt.value(ev["min"], "score", lang)
        if d == "service_slow":
            kw.update(p90=_hours(ev["p90_hours"], lang), median=_hours(ev["median_hours"], lang),
                      limit=_hours(ev["limit"], lang))
        return t(f"problems.text.{d}", lang, **kw), t(f"problems.suggest.{d}", lang, **kw)
    if d.startswith("data_"):
        kw = dict(ev)
        if "share" in kw:
            kw["share"] = fmt.pct(kw["share"], lang)
        if "max" in kw:
            kw["max"] = fmt.pct(kw["max"], lang)
        if "days" in kw and isinstance(kw["days"], list):
            kw["n"] = len(kw["days"])
            kw["days"] = _dates(kw["days"], lang)
        for k in ("normal", "count"):
            if k in kw:
                kw[k] = fmt.number(kw[k], lang)
        return t(f"problems.text.{d}", lang, **kw), t(f"problems.suggest.{d}", lang, **kw)
    if d == "manual":
        title = ev["title"][lang]
        sug = ev.get("suggestion")
        return title, (sug[lang] if sug else t("problems.suggest.manual", lang))
    raise KeyError(f"no text for detector {d!r}")


def narrative(problems: pd.DataFrame, lang: str, *, currency: str = "¥") -> list[str]:
    """One written-review bullet per problem: severity, evidence, and a 建议 / Suggested line."""
    out = []
    for row in problems.to_dict("records"):
        text, sug = problem_text(row, lang, currency)
        also = row["evidence"].get("also")
        if also:
            text += t("problems.also", lang, detectors="、".join(t(f"problems.detector.{a}", lang) for a in also)
                      if lang == "zh" else ", ".join(t(f"problems.detector.{a}", lang) for a in also))
        out.append(t("problems.bullet", lang, severity=t(f"problems.severity.{row['severity']}", lang), text=text,
                     suggestion=sug, owner=owner_text(row["owner"], row["area"], lang)))
    return out


def notes_text(notes: list[dict[str, str]], lang: str) -> list[str]:
    """Translate detector notes (skipped detectors, series too short or not computable)."""
    out = []
    for n in notes:
        det, reason, key = n["detector"], n["reason"], n.get("key", "")
        det_label = t(f"problems.detector.{det}", lang) if det else det
        if reason in ("too_short", "not_computable", "empty", "data_gap"):
            out.append(t(f"problems.note.{reason}", lang, series=_series_label(key, lang), seasons=2))
        elif reason.startswith(("no_table:", "no_data:")):
            out.append(t("problems.note.no_table", lang, table=fmt.table_name(reason.split(":", 1)[1], lang),
                         detector=det_label))
        else:
            out.append(t("problems.note.other", lang, detector=det_label, reason=reason))
    return out


# ---------------------------------------------------------------- compute and views


def _all(ctx: Context) -> pd.DataFrame:
    return ctx.memo("problems", lambda: pm.detect_problems(ctx.pack, ctx.effective_period, ctx.settings))


def _subset(ctx: Context, detectors: tuple[str, ...]) -> pd.DataFrame:
    df = _all(ctx)
    sub = df[df["detector"].isin(detectors)].reset_index(drop=True)
    sub.attrs["notes"] = [n for n in df.attrs.get("notes", []) if n["detector"] in detectors or
                          n["detector"] in {d.split("_")[0] for d in detectors}]
    return sub


def _table(df: pd.DataFrame, ctx: Context) -> Any:
    if df.empty:
        return None
    from opsnb.render import ui

    lang = ctx.lang
    texts = [problem_text(r, lang, ctx.settings.currency)[0] for r in df.to_dict("records")]
    out = pd.DataFrame({
        t("problems.col.severity", lang): [t(f"problems.severity.{s}", lang) for s in df["severity"]],
        t("problems.col.problem", lang): texts,
        t("problems.col.area", lang): [t(f"problems.area.{a}", lang) for a in df["area"]],
        t("problems.col.owner", lang): [owner_text(o, a, lang) for o, a in zip(df["owner"], df["area"], strict=True)],
    })
    return ui.table(out, lang)


def _bullets(df: pd.DataFrame, ctx: Context, *, notes: bool = True) -> list[str]:
    lang = ctx.lang
    out = narrative(df, lang, currency=ctx.settings.currency)
    if notes:  # the overview leaves skipped checks to their own subsections
        out += notes_text(df.attrs.get("notes", []), lang)
    if df.attrs.get("dropped"):
        out.append(t("problems.dropped", lang, n=df.attrs["dropped"], max=ctx.settings.problems.max_problems))
    if df.empty and not out:
        out.append(t("problems.none", lang))
    return out


def _counts(df: pd.DataFrame, ctx: Context) -> list[str]:
    """The overview's one sentence: how many problems of each severity (each is detailed once, below)."""
    if df.empty:
        return [t("problems.none", ctx.lang)]
    n = df["severity"].value_counts()
    return [t("problems.overview_count", ctx.lang, n=len(df), high=int(n.get("high", 0)),
              medium=int(n.get("medium", 0)), low=int(n.get("low", 0)))]


def overdue_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Days overdue of each late action (the plan page shows the same key)."""
    out = []
    for r in df[df["detector"] == "action_overdue"].to_dict("records"):
        ev = r["evidence"]
        days = int(ev["days"])
        out.append(facts.make(facts.key(f"action.{ev['action_id']}", "days_overdue", ctx.period.last_day.isoformat()),
                              days, "days", str(days), period=ctx.period.label, source="problems.actions",
                              definition="days from the due day to the report's as-of day"))
    return out


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


def anomaly_chart(scans: dict[str, pd.DataFrame], keys: list[str], lang: str, *, ax: Any = None,
                  currency: str | None = None) -> Any:
    """The flagged series: actual line, expected (常态) line with its band, flagged points marked.

    The band is expected ± z·MAD/0.6745 (the values whose robust z stays within the threshold).
    """
    import matplotlib.pyplot as plt

    from opsnb.metrics.anomalies import MODIFIED_Z_K
    from opsnb.render import charts

    keys = [k for k in keys if k in scans]
    if not keys:
        return None
    if ax is None:
        _, grid = plt.subplots(len(keys), 1, figsize=(8.0, 2.6 * len(keys)), squeeze=False)
        axes = list(grid[:, 0])
    else:
        axes = [ax]
        keys = keys[:1]
    for a, key in zip(axes, keys, strict=False):
        r = scans[key]
        half = r.attrs["z"] * (r.attrs["mad"] or 0.0) / MODIFIED_Z_K
        x = r.index
        a.fill_between(x, r["expected"] - half + r.attrs["median"], r["expected"] + half + r.attrs["median"],
                       alpha=0.2, label=t("problems.chart.band", lang))
        a.plot(x, r["expected"], linestyle="--", linewidth=1, label=t("problems.chart.expected", lang))
        a.plot(x, r["value"], linewidth=1.2, label=t("problems.chart.actual", lang))
        hit = r[r["flagged"] & r["in_period"]]
        a.scatter(hit.index, hit["value"], color="#d62728", zorder=3, label=t("problems.chart.flagged", lang))
        a.set_title(_series_label(key, lang))
        charts.format_axis(a, "y", pm.an.SERIES[key].unit, lang, currency=currency)
        a.legend(loc="best", fontsize=7)
    return axes[0]


def _compute_anomalies(ctx: Context) -> dict[str, Any]:
    df = _subset(ctx, ("anomaly",))
    scans = ctx.memo("problems_scans", lambda: pm.anomaly_scan(ctx.pack, ctx.effective_period, ctx.settings))
    if not scans:
        raise NoData("events", "no series to scan")
    return {"problems": df, "scans": scans}


def _anomaly_chart(res: dict[str, Any], ctx: Context) -> Any:
    keys = [e["series"] for e in res["problems"]["evidence"]]
    return anomaly_chart(res["scans"], keys, ctx.lang, currency=ctx.settings.currency)


def _anomaly_bullets(res: dict[str, Any], ctx: Context) -> list[str]:
    """The problems among the flagged points; favourable ones are said to be listed but not problems."""
    favourable = 0
    for key, r in res["scans"].items():
        hit = r[r["flagged"] & r["in_period"]]
        favourable += int(((hit["resid"] > 0) != (pm.ADVERSE[key] == "up")).sum())
    out = _bullets(res["problems"], ctx)
    if favourable:
        out.append(t("problems.anomaly_favourable", ctx.lang, n=favourable))
    return out


def _anomaly_table(res: dict[str, Any], ctx: Context) -> Any:
    from opsnb.render import ui

    lang, rows = ctx.lang, []
    for key, r in res["scans"].items():
        hit = r[r["flagged"] & r["in_period"]]
        for ts, h in hit.iterrows():
            adverse = (h["resid"] > 0) == (pm.ADVERSE[key] == "up")
            # actual and usual in one format (never "¥10,984" beside "¥5,845.23")
            value, expected = fmt.column([h["value"], h["expected"]], pm.an.SERIES[key].unit, lang)
            rows.append({t("problems.col.series", lang): _series_label(key, lang),
                         t("problems.col.date", lang): ts.date().isoformat(),
                         t("problems.col.direction", lang): t(f"problems.direction.{'adverse' if adverse else 'favourable'}",
                                                             lang),
                         t("problems.col.value", lang): value,
                         t("problems.col.expected", lang): expected,
                         t("problems.col.z", lang): f"{float(h['z']):.1f}"})
    return ui.table(pd.DataFrame(rows), lang) if rows else None


def _section(detectors: tuple[str, ...]) -> Any:
    return lambda ctx: _subset(ctx, detectors)


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
               bullets=lambda r, ctx: _anomaly_bullets(r, ctx)),
    Subsection("problems.kpis", _section(("kpi",)), bullets=_bullets),
    Subsection("problems.budget", _section(("roi_channel", "roi_campaign", "cac", "budget")), bullets=_bullets),
    Subsection("problems.actions", _section(("action_overdue", "action_late", "action_slipped")), bullets=_bullets,
               facts=overdue_facts),
    Subsection("problems.service", _section(("service_resolution", "service_slow", "service_satisfaction",
                                             "service_volume", "service_backlog")), bullets=_bullets),
    Subsection("problems.data_gaps", _section(("data_unattributed", "data_missing_days", "data_tracking",
                                               "data_duplicates")), bullets=_bullets),
]
