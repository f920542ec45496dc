"""The goals section (01 目标达成): attainment, trends, year to date, quarters, driver tree, ledger.

Numbers come from :mod:`opsnb.metrics.kpis`, :mod:`opsnb.metrics.drivers` and
:mod:`opsnb.metrics.ledger`; this module only turns them into charts, tables and sentences
(zh and en). Functions take a result first; ``SUBSECTIONS`` wires them to a :class:`Context`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import drivers as dm
from opsnb.metrics import kpis as km
from opsnb.metrics import ledger as lm
from opsnb.periods import Period
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import has, t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context

__all__ = [
    "SUBSECTIONS", "attainment_bullets", "attainment_chart", "attainment_table", "change_text", "drivers_bullets",
    "drivers_chart", "drivers_table", "kpi_cards", "ledger_bullets", "ledger_table", "quarters_bullets",
    "quarters_table", "reason_text", "trends_chart", "wins", "ytd_bullets", "ytd_chart", "ytd_table",
]


# ---------------------------------------------------------------- small text helpers


def _missing(x: Any) -> bool:
    return x is None or fmt.is_missing(x)


def shown_change(r: Any, which: str) -> Any:
    """The MoM (``which="mom"``) or YoY change as the reader can check it against the values shown.

    A change of a ratio is the difference of the two ratios rounded as they are shown (0.1 %):
    21.6 % → 25.4 % reads +3.8 points, not the +3.7 of the unrounded values. Relative changes of
    volumes are left as computed (their values are shown with enough digits).
    """
    delta = r[which]
    base = r["previous"] if which == "mom" else r["last_year"]
    if r[f"{which}_kind"] == "relative" or _missing(delta) or _missing(r["actual"]) or _missing(base):
        return delta
    return fmt.shown_difference(r["actual"], base, "roi" if r[f"{which}_kind"] == "diff" else "ratio")


def reason_text(code: Any, lang: str) -> str | None:
    """A reason code from the metrics (``no_orders``, ``missing_table:events``…) as text."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return None
    code = str(code)
    if code.startswith("missing_table:"):
        return t("goals.reason.missing_table", lang, table=fmt.table_name(code.split(":", 1)[1], lang))
    key = f"goals.reason.{code}"
    return t(key, lang) if has(key, lang) else code


def _val(x: Any, unit: str, lang: str, currency: str = "¥", reason: Any = None) -> str:
    if _missing(x):
        return fmt.na(lang, reason_text(reason, lang))
    return fmt.value(x, unit, lang, currency=currency)


def _pct(x: Any, lang: str, reason: Any = None) -> str:
    return fmt.na(lang, reason_text(reason, lang)) if _missing(x) else fmt.pct(x, lang)


def change_text(value: Any, kind: str, lang: str, reason: Any = None) -> str:
    """A MoM/YoY change: ``+15.0%`` for volumes, ``+3.0个百分点`` / ``+3.0 pp`` for ratios, or n/a."""
    if _missing(value):
        return fmt.na(lang, reason_text(reason, lang))
    return fmt.delta(value, kind, lang)


def _source(src: Any, lang: str) -> str:
    if not isinstance(src, str):
        return fmt.na(lang)
    key = f"goals.source.{src}"
    return t(key, lang) if has(key, lang) else str(src)


def _status(s: Any, lang: str) -> str:
    return t(f"common.status.{s}", lang)


def _label(row: Any, lang: str) -> str:
    return str(row["label_zh"] if lang == "zh" else row["label_en"])


def _good(mom: Any, direction: str) -> bool | None:
    """Whether a change is good news: up for higher-is-better, down for lower-is-better (a falling CAC)."""
    if _missing(mom) or float(mom) == 0:
        return None
    return (float(mom) > 0) == (direction == "higher")


def _sep(lang: str) -> str:
    return t("goals.sep", lang)


def _months_text(labels: tuple[str, ...] | list[str], lang: str) -> str:
    if len(labels) <= 2:
        return _sep(lang).join(labels)
    return t("goals.rule.month_range", lang, first=labels[0], last=labels[-1])


def rule_text(rule: km.ToDate, lang: str) -> str | None:
    """How the target to date was made, in words, from the :class:`~opsnb.metrics.kpi_targets.ToDate`
    rule that was applied (the footnotes' one source); None when the period is covered whole."""
    if not rule.partial or rule.method == "none":
        return None
    if rule.method == "not_prorated":
        return t("goals.rule.not_prorated", lang)
    if rule.method == "period":
        basis = t(f"goals.rule.basis.{rule.basis}", lang, covered=rule.covered_days, days=rule.period_days)
        return t("goals.rule.period", lang, share=fmt.pct(rule.share, lang), basis=basis)
    if rule.part is None:
        key = "goals.rule.months" if len(rule.months) > 1 else "goals.rule.month_one"
        return t(key, lang, months=_months_text(rule.months, lang))
    basis = t(f"goals.rule.basis.{rule.basis}", lang, covered=rule.part_days, days=rule.part_period_days)
    key = "goals.rule.months_part" if rule.months else "goals.rule.part_only"
    return t(key, lang, months=_months_text(rule.months, lang), part=rule.part,
             part_share=fmt.pct(rule.part_share, lang), basis=basis)


def rule_note(rows: pd.DataFrame, lang: str, *, rule_col: str = "rule") -> str | None:
    """One footnote for the KPIs of ``rows`` whose period is covered in part: the span, then each
    rule applied with the KPIs it applied to (generated from the rule objects, never hand-written)."""
    groups: dict[str, list[str]] = {}
    span: km.ToDate | None = None
    for _, r in rows.iterrows():
        rule = r.get(rule_col)
        if not isinstance(rule, km.ToDate):
            continue
        text = rule_text(rule, lang)
        if text is None:
            continue
        span = span or rule
        groups.setdefault(text, []).append(_label(r, lang))
    if span is None:
        return None
    parts = [t("goals.rule.group", lang, labels=_sep(lang).join(labels), text=text) for text, labels in groups.items()]
    return t("goals.rule.note", lang, period=_period_name(span.period, lang), as_of=span.as_of.isoformat(),
             covered=span.covered_days, days=span.period_days, rules=t("goals.rule.join", lang).join(parts))


def _period_name(label: str, lang: str) -> str:
    if "-Q" in label:
        return _quarter_name(label)
    return t("goals.rule.year", lang, year=label) if label.isdigit() else label


# ---------------------------------------------------------------- compute (shared through ctx.memo)


def _extra_targets(ctx: Context) -> pd.DataFrame | None:
    """Targets the previous review's plan published for this period, if any (:func:`previous_plan_targets`)."""
    return ctx.memo("goals.extra_targets", lambda: previous_plan_targets(ctx))


def previous_plan_targets(ctx: Context) -> pd.DataFrame | None:
    """The targets for this period that the previous review's plan published (None: it published none), read
    from the unit's folder through :mod:`opsnb.runfolder` and handed to the metrics as an argument."""
    from opsnb import runfolder as rf

    df = rf.previous_plan_targets(ctx.outputs, ctx.period.label, ctx.period.previous().label)
    return df if len(df) else None


def _attainment(ctx: Context) -> pd.DataFrame:
    def run() -> pd.DataFrame:
        df = km.attainment(ctx.pack, ctx.period, ctx.settings, extra_targets=_extra_targets(ctx))
        if df.empty:
            raise NoData("kpis", t("goals.reason.no_kpis", ctx.lang))
        return df

    return ctx.memo("goals.attainment", run)


def ledger_values(ctx: Context) -> pd.DataFrame:
    """The KPI values the page shows, as the ledger and the group roll-up keep them (the batch's hand-off cell
    writes them to the run folder: :func:`opsnb.sections.summary.produce`)."""
    plain = _attainment(ctx).drop(columns=["rule"])
    plain.attrs = {}  # attrs hold dates and notes for the page, not for the ledger
    return plain


def _trends(ctx: Context) -> dict[str, pd.DataFrame]:
    att = _attainment(ctx)
    months = ctx.settings.goals.trend_months
    out = {}
    extra = _extra_targets(ctx)
    for k in ctx.settings.goals.kpis:
        tr = km.trend(ctx.pack, k, ctx.period, months, extra_targets=extra)
        if tr["actual"].map(lambda v: not _missing(v)).any():
            tr.attrs["unit"] = k.unit
            tr.attrs["label"] = k.label(ctx.lang)
            out[k.key] = tr
    if not out:
        raise NoData("orders", reason_text(att["reason"].iloc[0], ctx.lang) or "")
    return out


def _ytd(ctx: Context) -> pd.DataFrame:
    return km.ytd(ctx.pack, ctx.period, ctx.settings, extra_targets=_extra_targets(ctx))


def _quarters(ctx: Context) -> pd.DataFrame:
    return km.by_quarter(ctx.pack, ctx.period, ctx.settings, extra_targets=_extra_targets(ctx))


def _drivers(ctx: Context) -> dm.DriverResult:
    try:
        return dm.drivers(ctx.pack, ctx.period)
    except NoData as exc:
        if exc.reason in ("", "table not in pack"):
            raise
        # the metrics speak English; the page gets the translated reason
        raise NoData(exc.table, t("goals.reason.not_covered", ctx.lang)) from None


def _ledger(ctx: Context) -> pd.DataFrame:
    att = _attainment(ctx)
    # recomputed values of the previous period (comparable only when this period is complete)
    current = None
    if not bool(att["partial"].any()):
        current = pd.DataFrame({"metric": att["key"], "value": att["previous"]})
    from opsnb import runfolder as rf

    return lm.previous_publications(rf.read_ledger(ctx.outputs), ctx.period, current=current)


# ---------------------------------------------------------------- attainment


def attainment_chart(att: pd.DataFrame, *, lang: str, ax: Any = None) -> Any:
    """Bullet-style bars of attainment for every KPI with a defined attainment (coloured by status)."""
    d = att[att["attainment"].map(lambda v: not _missing(v))]
    if d.empty:
        return None
    d = pd.DataFrame({"label": [_label(r, lang) for _, r in d.iterrows()],
                      "attainment": d["attainment"].astype("float64"), "status": d["status"]})
    return charts.attainment_bars(d, ax=ax, title=t("goals.attainment.chart_title", lang),
                                  xlabel=t("goals.attainment.xlabel", lang))


def attainment_table(att: pd.DataFrame, lang: str, currency: str = "¥") -> ui.Table:
    """The KPI table: actual, target (with source), attainment, status, MoM, YoY — as display text."""
    rows = []
    for _, r in att.iterrows():
        rows.append({
            t("goals.col.kpi", lang): _label(r, lang),
            t("goals.col.actual", lang): _val(r["actual"], r["unit"], lang, currency, r["reason"]),
            t("goals.col.target", lang): _val(r["target"], r["unit"], lang, currency),
            t("goals.col.source", lang): _source(r["target_source"], lang) if not _missing(r["target"]) else "",
            t("goals.col.attainment", lang): _pct(r["attainment"], lang,
                                                  None if _missing(r["actual"]) or _missing(r["target"]) else r["reason"]),
            t("goals.col.status", lang): _status(r["status"], lang),
            t("goals.col.mom", lang): change_text(shown_change(r, "mom"), r["mom_kind"], lang, r["mom_reason"]),
            t("goals.col.yoy", lang): change_text(shown_change(r, "yoy"), r["yoy_kind"], lang, r["yoy_reason"]),
        })
    return ui.table(pd.DataFrame(rows), lang, currency=currency)


def _num(x: Any) -> float | None:
    return None if _missing(x) else float(x)


def _gap(r: Any) -> float | None:
    """How far a KPI is from its target, in its own unit (positive: short of it)."""
    a, g = _num(r["actual"]), _num(r["target"])
    if a is None or g is None:
        return None
    return g - a if r["direction"] == "higher" else a - g


def _gap_text(r: Any, lang: str, currency: str) -> str:
    gap = _gap(r)
    if gap is None:
        return fmt.na(lang)
    if r["unit"] == "ratio":  # between two ratios as shown, in points
        a, g = float(r["actual"]), float(r["target"])
        return fmt.pp(abs(fmt.shown_ratio_change(a, g)), lang, signed=False)
    return _val(gap, r["unit"], lang, currency)


def _adverse(r: Any) -> float | None:
    """The MoM change as bad news (positive: moved the wrong way), relative for every unit so
    KPIs of different units can be ranked; None without a change."""
    mom, prev, cur = _num(r["mom"]), _num(r["previous"]), _num(r["actual"])
    if mom is None:
        return None
    rel = mom if r["mom_kind"] != "pp" else (None if not prev else (cur - prev) / abs(prev))  # type: ignore[operator]
    if rel is None:
        return None
    return -rel if r["direction"] == "higher" else rel


def _cause(r: Any) -> tuple[str, float, float] | None:
    """Why a KPI missed: ``(cause_actual | cause_target, target change, actual change)``, both changes in the
    KPI's own kind (the table's MoM: relative for volumes, points between the ratios as shown); None when
    the month is under way or a value is missing."""
    prev_t, prev_a = _num(r.get("target_previous")), _num(r["previous"])
    cur_t, cur_a = _num(r["target"]), _num(r["actual"])
    if bool(r["partial"]) or prev_t is None or prev_a is None or cur_t is None or cur_a is None or not prev_t \
            or not prev_a:
        return None
    kind = r["mom_kind"]
    if kind == "relative":
        t_chg, a_chg = cur_t / prev_t - 1, cur_a / prev_a - 1
    else:
        unit = "roi" if kind == "diff" else "ratio"
        t_chg, a_chg = fmt.shown_difference(cur_t, prev_t, unit), fmt.shown_difference(cur_a, prev_a, unit)
    moved_wrong = (a_chg < 0) == (r["direction"] == "higher") and a_chg != 0
    return ("cause_actual" if moved_wrong else "cause_target"), t_chg, a_chg


def _item(r: Any, lang: str, currency: str, key: str, **kw: Any) -> str:
    return t(f"goals.bullet.{key}", lang, label=_label(r, lang), attainment=_pct(r["attainment"], lang),
             mom=change_text(shown_change(r, "mom"), r["mom_kind"], lang, r["mom_reason"]), **kw)


def attainment_bullets(att: pd.DataFrame, lang: str, currency: str = "¥") -> list[str]:
    """What the reader must know from the KPI table, conclusion first, at most about five sentences.

    1. The verdict: how many KPIs met their target, and every one that missed (with its gap).
    2. Why a missed KPI missed: its actual fell, or its target rose faster than the actual.
    3. KPIs that met their target but would miss it if this month's fall repeated.
    4. The largest moves of KPIs not named yet (good and bad, direction-aware).
    5. For a period under way: how targets were pro-rated (generated from the rule applied).
    A sentence never restates one row of the table.
    """
    out: list[str] = []
    sep = _sep(lang)
    scored = att[att["status"] != "n/a"]
    named: set[str] = set()
    if len(scored):
        missed = scored[scored["status"] == "missed"].assign(_a=lambda d: d["attainment"].astype("float64"))
        missed = missed.sort_values("_a")
        met = int((scored["status"] != "missed").sum())
        if len(missed):
            items = sep.join(_item(r, lang, currency, "missed_item", gap=_gap_text(r, lang, currency))
                             for _, r in missed.iterrows())
            out.append(t("goals.bullet.verdict_missed", lang, n=len(scored), met=met, items=items))
        else:
            nearly = scored[scored["status"] == "nearly"]
            extra = "" if nearly.empty else t("goals.bullet.verdict_nearly", lang, items=sep.join(
                _item(r, lang, currency, "nearly_item") for _, r in nearly.iterrows()))
            exceeded = int((scored["status"] == "exceeded").sum())
            key = "goals.bullet.verdict_all_exceeded" if exceeded == len(scored) else "goals.bullet.verdict_met"
            out.append(t(key, lang, n=len(scored), exceeded=exceeded, nearly=extra))
            named |= set(nearly["key"])
        named |= set(missed["key"])
        for _, r in missed.iterrows():  # the likely cause of each miss
            cause = _cause(r)
            if cause is None:
                continue
            key, t_chg, a_chg = cause
            out.append(t(f"goals.bullet.{key}", lang, label=_label(r, lang),
                         target_change=change_text(t_chg, r["mom_kind"], lang),
                         actual_change=change_text(a_chg, r["mom_kind"], lang)))
        # met, but a repeat of this month's fall would miss
        risk = []
        for _, r in scored[scored["status"] != "missed"].iterrows():
            bad, a = _adverse(r), _num(r["attainment"])
            if bad is None or a is None or bad <= 0:
                continue
            # attainment if the same relative move happened again (actual × (1 − bad) when higher is
            # better; target ÷ (actual × (1 + bad)) when lower is better)
            again = a * (1 - bad) if r["direction"] == "higher" else a / (1 + bad)
            if again < 1:
                risk.append(r)
        if risk:
            named |= {r["key"] for r in risk}
            out.append(t("goals.bullet.at_risk", lang, items=sep.join(_item(r, lang, currency, "risk_item") for r in risk)))
    moves = [(b, r) for _, r in att[~att["key"].isin(named)].iterrows() if (b := _adverse(r)) is not None and b != 0]
    worse = [r for _, r in sorted((m for m in moves if m[0] > 0), key=lambda m: -m[0])[:2]]
    better = [r for _, r in sorted((m for m in moves if m[0] < 0), key=lambda m: m[0])[:2]]
    if worse or better:
        listing = {k: sep.join(_item(r, lang, currency, "move_item") for r in rows)
                   for k, rows in (("better", better), ("worse", worse)) if rows}
        out.append(t("goals.bullet.movers_" + "_".join(listing), lang, **listing))
    info = att.attrs.get("partial") or {}
    if info.get("partial"):
        last = info.get("last_day")
        out.append(t("goals.bullet.partial", lang, last_day=last.isoformat() if last else "",
                     covered=info.get("covered_days"), days=info.get("period_days")))
        note = rule_note(att, lang)
        if note:
            out.append(note)
    return out


def kpi_cards(ctx: Context, *, every: bool = False) -> list[dict[str, Any]]:
    """Headline KPI cards for the summary page (KPIs with ``headline: true``; all when none is flagged).

    Each card: key, label, value, target, attainment, status, status_text, change (MoM text with
    ▲/▼), arrow, good (True: good news — direction-aware, a falling CAC is good; None: no change).
    ``every``: a card for every KPI (delivery's alert rules may name any KPI), headline ones flagged.
    """
    att = _attainment(ctx)
    lang, cur = ctx.lang, ctx.settings.currency
    flagged = att["headline"].astype(bool)
    heads = att if every or not flagged.any() else att[flagged]
    cards = []
    for _, r in heads.iterrows():
        mom = shown_change(r, "mom")
        arrow = "" if _missing(mom) or float(mom) == 0 else t("goals.arrow." + ("up" if float(mom) > 0 else "down"), lang)
        chg = change_text(mom, r["mom_kind"], lang, r["mom_reason"])
        cards.append({
            "key": r["key"], "label": _label(r, lang),
            "value": _val(r["actual"], r["unit"], lang, cur, r["reason"]),
            "target": f'{t("goals.col.target", lang)} {_val(r["target"], r["unit"], lang, cur)}',
            "attainment": _pct(r["attainment"], lang), "status": r["status"],
            "status_text": _status(r["status"], lang),
            "change": f'{arrow} {t("goals.col.mom", lang)} {chg}'.strip(), "arrow": arrow,
            "good": _good(mom, r["direction"]), "headline": bool(r["headline"]),
            "facts": [asdict(f) for f in attainment_facts(heads.loc[[_]], ctx, source="summary.kpis", changes=("mom",))],
        })
    return cards


def wins(ctx: Context, n: int = 3) -> list[str]:
    """The KPIs that beat their target by most (for the summary page)."""
    att = _attainment(ctx)
    won = att[att["status"] == "exceeded"].copy()
    if won.empty:
        return []
    won["_a"] = won["attainment"].astype("float64")
    won = won.sort_values("_a", ascending=False).head(n)
    cur = ctx.settings.currency
    return [t("goals.bullet.win", ctx.lang, label=_label(r, ctx.lang), attainment=fmt.pct(r["attainment"], ctx.lang),
              actual=_val(r["actual"], r["unit"], ctx.lang, cur), target=_val(r["target"], r["unit"], ctx.lang, cur))
            for _, r in won.iterrows()]


# ---------------------------------------------------------------- trends


def trends_chart(trends: dict[str, pd.DataFrame], *, lang: str, currency: str | None = None, ncols: int = 3) -> Any:
    """Small multiples: one panel per KPI, monthly actual (solid) and target (dashed), axes by the KPI's unit."""
    import matplotlib.pyplot as plt

    keys = list(trends)
    nrows = (len(keys) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.4 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(keys):
            ax.set_visible(False)
            continue
        tr = trends[keys[i]]
        x = pd.to_datetime([f"{m}-01" for m in tr["month"]])
        y = [None if _missing(v) else float(v) for v in tr["actual"]]
        ax.plot(x, [float("nan") if v is None else v for v in y], marker="o", markersize=3,
                color=PALETTE["accent"], label=t("goals.trends.actual", lang))
        tg = [float("nan") if _missing(v) else float(v) for v in tr["target"]]
        if any(v == v for v in tg):
            ax.plot(x, tg, linestyle="--", color=PALETTE["neutral"], label=t("goals.trends.target", lang))
        ax.set_title(str(tr.attrs.get("label", keys[i])), fontsize=9)
        charts.month_axis(ax, max_ticks=4)  # a few month labels per panel keep the figure light
        ax.tick_params(axis="x", labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
        charts.format_axis(ax, "y", str(tr.attrs.get("unit") or "number"), lang, currency=currency)
        if i == 0:
            ax.legend(fontsize=7, loc="best")
    # fixed spacing (room for each panel's title and tick labels) instead of tight_layout and a tight
    # bounding box, which each measure every text of the 17 panels once more
    height = 2.4 * nrows
    fig.subplots_adjust(left=0.055, right=0.99, top=1 - 0.3 / height, bottom=0.3 / height, hspace=0.55, wspace=0.25)
    ui.fixed_layout(fig)
    return axes[0][0]


# ---------------------------------------------------------------- year to date


def ytd_chart(ytd: pd.DataFrame, *, lang: str, ax: Any = None) -> Any:
    """Progress toward each annual target, with the share of the year elapsed as a line."""
    d = ytd[ytd["progress"].map(lambda v: not _missing(v))]
    if d.empty:
        return None
    data = pd.DataFrame({"label": [_label(r, lang) for _, r in d.iterrows()],
                         "attainment": d["progress"].astype("float64"), "status": d["status"]})
    ax = charts.attainment_bars(data, ax=ax, title=t("goals.ytd.chart_title", lang), xlabel=t("goals.ytd.xlabel", lang))
    ax.axvline(float(d["elapsed_share"].iloc[0]), color=PALETTE["accent"], linestyle="--", linewidth=1)
    return ax


def ytd_table(ytd: pd.DataFrame, lang: str, currency: str = "¥") -> ui.Table | None:
    """Year to date, annual target, progress, share of the year elapsed, projection, projected attainment."""
    d = ytd[ytd["annual_target"].map(lambda v: not _missing(v))]
    if d.empty:
        return None
    rows = [{
        t("goals.col.kpi", lang): _label(r, lang),
        t("goals.col.ytd_actual", lang): _val(r["actual"], r["unit"], lang, currency, r["reason"]),
        t("goals.col.annual_target", lang): _val(r["annual_target"], r["unit"], lang, currency),
        t("goals.col.annual_source", lang): _source(r["target_source"], lang),
        t("goals.col.progress", lang): _pct(r["progress"], lang),
        t("goals.col.expected", lang): _pct(r["expected_share"], lang),
        t("goals.col.projection", lang): _val(r["projection"], r["unit"], lang, currency),
        t("goals.col.projected_attainment", lang): _pct(r["projected_attainment"], lang),
        t("goals.col.annual_status", lang): _status(r["status"], lang),
    } for _, r in d.iterrows()]
    return ui.table(pd.DataFrame(rows), lang, currency=currency)


def ytd_bullets(ytd: pd.DataFrame, lang: str, currency: str = "¥") -> list[str]:
    """The year so far, conclusion first: which annual targets the year is on course to miss (and
    what the rest of the year then needs per day), which it is on course to meet, and how the
    target to date was made (generated from the rule applied)."""
    d = ytd[ytd["annual_target"].map(lambda v: not _missing(v)) & ytd["actual"].map(lambda v: not _missing(v))]
    if d.empty:
        return [t("goals.bullet.ytd_none", lang)]
    out: list[str] = []
    sep = _sep(lang)
    rules = [r for r in d["rule"] if isinstance(r, km.ToDate)]
    done = bool(rules) and not rules[0].partial  # the year is over: the actual is the year's
    proj = d[d["projected_attainment"].map(lambda v: not _missing(v))]
    behind = proj[proj["status"] != "exceeded"].assign(_p=lambda x: x["projected_attainment"].astype("float64"))
    behind = behind.sort_values("_p")
    ahead = proj[proj["status"] == "exceeded"]

    def item(r: Any, key: str) -> str:
        return t(f"goals.bullet.{key}", lang, label=_label(r, lang), projected=_pct(r["projected_attainment"], lang),
                 projection=_val(r["projection"], r["unit"], lang, currency),
                 target=_val(r["annual_target"], r["unit"], lang, currency))

    if len(behind):
        out.append(t("goals.bullet.ytd_done_behind" if done else "goals.bullet.ytd_behind", lang,
                     items=sep.join(item(r, "ytd_item") for _, r in behind.iterrows())))
    if len(ahead):
        out.append(t("goals.bullet.ytd_done_ahead" if done else "goals.bullet.ytd_ahead", lang,
                     items=sep.join(item(r, "ytd_short_item") for _, r in ahead.iterrows())))
    if not done:  # what the rest of the year needs, against what its own targets expect (seasonality included)
        for _, r in behind.iterrows():
            rule = r["rule"]
            if not isinstance(rule, km.ToDate) or r["direction"] != "higher" or _missing(r["target_to_date"]):
                continue
            need = float(r["annual_target"]) - float(r["actual"])
            rest = float(r["annual_target"]) - float(r["target_to_date"])
            if need <= 0 or rest <= 0:
                continue
            out.append(t("goals.bullet.ytd_need", lang, label=_label(r, lang), need=_val(need, r["unit"], lang, currency),
                         days=rule.period_days - rule.covered_days, rest=_val(rest, r["unit"], lang, currency),
                         ratio=fmt.pct(need / rest, lang)))
    others = d[d["projected_attainment"].map(_missing)]
    if len(others):
        out.append(t("goals.bullet.ytd_rate", lang, items=sep.join(
            t("goals.bullet.ytd_rate_item", lang, label=_label(r, lang), progress=_pct(r["progress"], lang),
              reason=reason_text(r["reason"], lang) or fmt.na(lang)) for _, r in others.iterrows())))
    note = rule_note(d, lang)
    if note:
        out.append(note)
        out.append(t("goals.bullet.ytd_projection", lang))
    return out


# ---------------------------------------------------------------- quarters


def _quarter_name(label: str) -> str:
    return label.split("-", 1)[1] if "-" in label else label


def quarters_table(q: pd.DataFrame, lang: str) -> ui.Table | None:
    """KPI × quarter attainment (only KPIs with at least one quarter target)."""
    d = q[q["target"].map(lambda v: not _missing(v))]
    if d.empty:
        return None
    keys = list(dict.fromkeys(d["key"]))
    quarters = list(dict.fromkeys(q["period"]))
    rows = []
    for k in keys:
        sub = q[q["key"] == k].set_index("period")
        row = {t("goals.col.kpi", lang): _label(sub.iloc[0], lang)}
        for p in quarters:
            r = sub.loc[p]
            mark = "*" if bool(r["partial"]) else ""
            row[_quarter_name(p) + mark] = (f'{_pct(r["attainment"], lang)} · {_status(r["status"], lang)}'
                                            if not _missing(r["attainment"]) else fmt.na(lang, reason_text(r["reason"], lang)))
        rows.append(row)
    return ui.table(pd.DataFrame(rows), lang)


def quarters_bullets(q: pd.DataFrame, lang: str) -> list[str]:
    """This quarter against the earlier ones, largest move first, and how a quarter under way is
    counted (a footnote generated from the rule applied)."""
    out = []
    d = q[q["attainment"].map(lambda v: not _missing(v))]
    moves = []
    for k in dict.fromkeys(d["key"]):
        sub = d[d["key"] == k]
        if len(sub) < 2:
            continue
        now, before = float(sub["attainment"].iloc[-1]), sub["attainment"].iloc[:-1].astype("float64")
        chg = fmt.shown_ratio_change(now, float(sub["attainment"].iloc[-2]))
        rank = None  # the year's best or worst only says something against two quarters or more
        if len(before) >= 2:
            rank = "best" if now > before.max() else "worst" if now < before.min() else None
        moves.append((abs(chg), sub.iloc[-1], chg, rank))
    moves.sort(key=lambda m: -m[0])
    items = []
    for _, r, chg, rank in moves:
        mark = "" if rank is None else t(f"goals.bullet.quarter_{rank}", lang)
        items.append(t("goals.bullet.quarter_move", lang, label=_label(r, lang), now=fmt.pct(r["attainment"], lang),
                       change=fmt.pp(chg, lang), mark=mark))
    if items:
        cur = moves[0][1]
        out.append(t("goals.bullet.quarter_moves", lang, quarter=_quarter_name(cur["period"]), items=_sep(lang).join(items)))
    part = q[q["partial"].astype(bool)]
    if len(part):
        note = rule_note(part, lang)
        if note:
            out.append("* " + note)
    return out


# ---------------------------------------------------------------- drivers


def drivers_chart(r: dm.DriverResult, *, lang: str, currency: str = "¥", ax: Any = None) -> Any:
    """Waterfall: previous GMV, each driver's contribution, current GMV."""
    steps = pd.DataFrame({"label": [t(f"goals.driver.{d}", lang) for d in r.table["driver"]],
                          "value": r.table["contribution"].astype("float64")})
    ax = charts.waterfall(steps, start=r.gmv_base, start_label=t("goals.drivers.base", lang),
                          end_label=t("goals.drivers.current", lang), ax=ax,
                          title=t("goals.drivers.chart_title", lang), unit="currency", lang=lang, currency=currency)
    return ax


def _driver_value(driver: str, x: Any, lang: str, currency: str) -> str:
    unit = {"active_users": "count", "conversion": "ratio", "aov": "currency"}.get(driver)
    if unit is None:
        return fmt.na(lang) if _missing(x) else f"{float(x):.2f}"
    return _val(x, unit, lang, currency)


def drivers_table(r: dm.DriverResult, lang: str, currency: str = "¥") -> ui.Table:
    """Driver, previous, current, relative change, contribution to the GMV change, share of the change."""
    rows = [{
        t("goals.col.driver", lang): t(f"goals.driver.{x['driver']}", lang),
        t("goals.col.base", lang): _driver_value(x["driver"], x["base"], lang, currency),
        t("goals.col.current", lang): _driver_value(x["driver"], x["current"], lang, currency),
        t("goals.col.change", lang): _pct(x["change"], lang) if _missing(x["change"])
        else fmt.pct(x["change"], lang, signed=True),
        t("goals.col.contribution", lang): x["contribution"],
        t("goals.col.share", lang): _pct(x["share"], lang),
    } for _, x in r.table.iterrows()]
    # one scale for the column of contributions (never "+¥35,824" beside "+¥14.8万")
    return ui.table(pd.DataFrame(rows), lang, formats={t("goals.col.contribution", lang): "+currency"},
                    currency=currency)


def contribution_texts(r: dm.DriverResult, lang: str, currency: str = "¥") -> dict[str, str]:
    """Each driver's contribution as the table's column shows it (signed, one scale for the column)."""
    return dict(zip(r.table["driver"], fmt.column(list(r.table["contribution"]), "currency", lang, currency=currency,
                                                  signed=True), strict=True))


def drivers_bullets(r: dm.DriverResult, lang: str, currency: str = "¥") -> list[str]:
    """The GMV change and what moved it, in at most three sentences: the change with the driver that
    pushed it most in its direction (its share of the change), the others that pushed the same way,
    the ones that pushed against it, largest first (drivers that did not move are left out; the
    table lists every one)."""
    money = lambda x: fmt.money(x, lang, currency=currency)  # noqa: E731
    signed = lambda x: ("+" if x > 0 else "") + money(x)  # noqa: E731
    shown = contribution_texts(r, lang, currency)  # as the table's column shows them (one scale, one precision)
    if r.top is None:
        return [t("goals.bullet.drivers_total", lang, base=money(r.gmv_base), base_period=r.base_period,
                  current=money(r.gmv_current), period=r.period, change=signed(r.change)),
                t("goals.bullet.drivers_flat", lang)]
    tab = r.table.set_index("driver")

    def kw(d: str) -> dict[str, str]:
        x: Any = tab.loc[d]
        rel = fmt.na(lang) if _missing(x["change"]) else fmt.pct(x["change"], lang, signed=True)
        return {"driver": t(f"goals.driver.{d}", lang), "from_": _driver_value(d, x["base"], lang, currency),
                "to": _driver_value(d, x["current"], lang, currency), "rel": rel,
                "contrib": shown[d]}

    contrib = tab["contribution"].astype("float64")
    sign = 1 if r.change > 0 else -1 if r.change < 0 else (1 if float(contrib[r.top]) > 0 else -1)
    with_change = contrib[contrib * sign > 0]
    main = str(with_change.abs().idxmax()) if len(with_change) else r.top  # the largest push in the change's direction
    share = _num(tab.loc[main, "share"])
    # a share above 100 % (drivers that offset each other) says nothing a reader can use: name the push
    key = "goals.bullet.drivers_main" if share is not None and 0 < share <= 1 else "goals.bullet.drivers_main_offset"
    out = [t(key, lang, base=money(r.gmv_base), base_period=r.base_period, current=money(r.gmv_current),
             period=r.period, change=signed(r.change), share=_pct(share, lang), **kw(main))]
    rest = tab.drop(index=main)
    rest = rest[rest["contribution"].astype("float64").abs() >= 0.005]  # a driver that moved by less than a cent
    rest = rest.assign(_c=rest["contribution"].astype("float64")).sort_values("_c", key=lambda c: -c.abs())
    same = [d for d in rest.index if float(rest.loc[d, "_c"]) * sign > 0]
    against = [d for d in rest.index if float(rest.loc[d, "_c"]) * sign < 0]
    if same:
        out.append(t("goals.bullet.drivers_same", lang, items=_sep(lang).join(
            t("goals.bullet.driver_item", lang, **kw(d)) for d in same)))
    if against:
        out.append(t("goals.bullet.drivers_against", lang, items=_sep(lang).join(
            t("goals.bullet.driver_item", lang, **kw(d)) for d in against)))
    if r.method == "zero_fallback":
        out.append(t("goals.bullet.drivers_fallback", lang))
    return out


# ---------------------------------------------------------------- ledger


def ledger_table(prev: pd.DataFrame, lang: str, labels: dict[str, tuple[str, str, str]],
                 currency: str = "¥") -> ui.Table | None:
    """What the previous review published, restated values flagged."""
    if prev.empty:
        return None
    rows = [{
        t("goals.col.kpi", lang): _lab(labels, r["metric"], lang),
        t("goals.col.period", lang): r["period"],
        t("goals.col.value", lang): _val(r["value"], labels.get(r["metric"], ("", "", "count"))[2], lang, currency),
        t("goals.col.published_target", lang): _val(r["target"], labels.get(r["metric"], ("", "", "count"))[2], lang, currency),
        t("goals.col.published_status", lang): _status(r["status"], lang)
        if r["status"] in ("exceeded", "nearly", "missed", "n/a") else str(r["status"]),
        t("goals.col.first_value", lang): _val(r["first_value"], labels.get(r["metric"], ("", "", "count"))[2], lang, currency),
        t("goals.col.restated", lang): "✔" if _restated(r, labels, lang, currency) else "",
        t("goals.col.published_at", lang): pd.Timestamp(r["published_at"]).strftime("%Y-%m-%d %H:%M"),
    } for _, r in prev.iterrows()]
    return ui.table(pd.DataFrame(rows), lang)


def _lab(labels: dict[str, tuple[str, str, str]], key: str, lang: str) -> str:
    zh, en, _ = labels.get(key, (key, key, "count"))
    return zh if lang == "zh" else en


def ledger_bullets(prev: pd.DataFrame, lang: str, labels: dict[str, tuple[str, str, str]],
                   currency: str = "¥") -> list[str]:
    """One line per restated value (or "no changes"), or "nothing published before"."""
    if prev.empty:
        return [t("goals.bullet.ledger_none", lang)]
    out = []
    for _, r in prev.iterrows():
        if not _restated(r, labels, lang, currency):
            continue
        unit = labels.get(r["metric"], ("", "", "count"))[2]
        out.append(t("goals.bullet.restated", lang, label=_lab(labels, r["metric"], lang), period=r["period"],
                     first=_val(r["first_value"], unit, lang, currency), now=_val(_now(r), unit, lang, currency)))
    return out or [t("goals.bullet.ledger_ok", lang)]


def _now(r: Any) -> Any:
    return r["current"] if not _missing(r["current"]) else r["value"]


def _restated(r: Any, labels: dict[str, tuple[str, str, str]], lang: str, currency: str = "¥") -> bool:
    """Restated as readers can see it: the value first published and the one now differ as shown (a change in
    the tenth decimal is no restatement to a reader: "published as 1:4.5, now 1:4.5")."""
    unit = labels.get(r["metric"], ("", "", "count"))[2]
    return bool(r["restated"]) and _val(r["first_value"], unit, lang, currency) != _val(_now(r), unit, lang, currency)


def _labels(ctx: Context) -> dict[str, tuple[str, str, str]]:
    return {k.key: (k.label.zh, k.label.en, k.unit) for k in ctx.settings.goals.kpis}


# ---------------------------------------------------------------- registry



# ---------------------------------------------------------------- facts (one figure, one value)


def _where(ctx: Context, r: Any) -> str:
    as_of = r.get("as_of")  # the days the row covers: never past the review's as-of day
    return facts.span(Period.parse(r["period"]), as_of if as_of is not None else ctx.data_last_day)


def _fact(ctx: Context, r: Any, measure: str, value: Any, unit: str, text: str, label: str, source: str,
          **meta: Any) -> Fact:
    return facts.make(facts.key(f"kpi.{r['key']}", measure, _where(ctx, {**dict(r), "period": label})), value, unit,
                      text, period=label, source=source, definition=f"{r.get('label_en') or r['key']}: {measure}",
                      **meta)


def _change_fact(ctx: Context, r: Any, which: str, source: str) -> list[Fact]:
    """The MoM (``mom``) or YoY change of a KPI as shown, with the two values it is the change between."""
    value = shown_change(r, which)
    if _missing(value):
        return []
    before = r["previous"] if which == "mom" else r["last_year"]
    return [facts.change(facts.key(f"kpi.{r['key']}", which, _where(ctx, r)), value,
                         change_text(value, r[f"{which}_kind"], ctx.lang), now=r["actual"], before=before,
                         kind=r[f"{which}_kind"], unit=r["unit"], period=r["period"], source=source,
                         definition=f"{r.get('label_en') or r['key']}: {which}")]


def attainment_facts(att: pd.DataFrame, ctx: Context, source: str = "goals.attainment",
                     changes: tuple[str, ...] = ("mom", "yoy")) -> list[Fact]:
    """Actual, target and attainment of each KPI for the review period, and the ``changes`` shown beside them
    (the table shows MoM and YoY, a card MoM), as the KPI table shows them; the sentences' gaps and causes."""
    lang, cur, out = ctx.lang, ctx.settings.currency, []
    for _, r in att.iterrows():
        out.append(_fact(ctx, r, "actual", r["actual"], r["unit"], _val(r["actual"], r["unit"], lang, cur, r["reason"]),
                         r["period"], source))
        if not _missing(r["target"]):
            out.append(_fact(ctx, r, "target", r["target"], r["unit"], _val(r["target"], r["unit"], lang, cur),
                             r["period"], source))
            out.append(_fact(ctx, r, "attainment", r["attainment"], "ratio", _pct(r["attainment"], lang), r["period"],
                             source))
        for which in changes:
            out += _change_fact(ctx, r, which, source)
    if source == "goals.attainment":
        out += _sentence_facts(att, ctx)
    return out


def _sentence_facts(att: pd.DataFrame, ctx: Context) -> list[Fact]:
    """The figures the KPI table's sentences compute: a missed KPI's gap to its target and the MoM changes
    of its target and actual that explain the miss."""
    lang, cur, out = ctx.lang, ctx.settings.currency, []
    for _, r in att[att["status"] == "missed"].iterrows():
        gap = _gap(r)
        if gap is not None:
            a, g = float(r["actual"]), float(r["target"])
            now, before = (g, a) if r["direction"] == "higher" else (a, g)
            kind = "pp" if r["unit"] == "ratio" else "diff"
            value = fmt.shown_ratio_change(now, before) if kind == "pp" else gap
            out.append(facts.change(facts.key(f"kpi.{r['key']}", "gap", _where(ctx, r)), value,
                                    _gap_text(r, lang, cur), now=now, before=before, kind=kind, unit=r["unit"],
                                    period=r["period"], source="goals.attainment",
                                    definition=f"{r['label_en']}: how far the actual is from its target"))
        cause = _cause(r)
        if cause is None:
            continue
        _, t_chg, a_chg = cause
        out.append(facts.change(facts.key(f"kpi.{r['key']}", "target_mom", _where(ctx, r)), t_chg,
                                change_text(t_chg, r["mom_kind"], lang), now=r["target"], before=r["target_previous"],
                                kind=r["mom_kind"], unit=r["unit"], period=r["period"], source="goals.attainment",
                                definition=f"{r['label_en']}: the target's change on the previous period's"))
        out.append(facts.change(facts.key(f"kpi.{r['key']}", "mom", _where(ctx, r)), a_chg,
                                change_text(a_chg, r["mom_kind"], lang), now=r["actual"], before=r["previous"],
                                kind=r["mom_kind"], unit=r["unit"], period=r["period"], source="goals.attainment",
                                definition=f"{r['label_en']}: mom"))
    return out


def trends_facts(trends: dict[str, pd.DataFrame], ctx: Context) -> list[Fact]:
    """Each whole month's actual, target and attainment of the review's year, as the trend panels draw them (a
    quarter's attainment is judged against its months': :mod:`opsnb.invariants`); drawn, not printed."""
    lang, cur, out = ctx.lang, ctx.settings.currency, []
    kpis = {k.key: k for k in ctx.settings.goals.kpis}
    year = ctx.period.year()
    for key, tr in trends.items():
        kpi = kpis[key]
        for row in tr.to_dict("records"):
            month = Period.parse(str(row["month"]))
            if bool(row["partial"]) or not year.contains(month.start) or month.label == ctx.period.label:
                continue  # the review's own month is the KPI table's (its target pro-rated when under way)
            r = {"key": key, "label_en": kpi.label.en, "period": month.label, "as_of": month.last_day}
            out.append(_fact(ctx, r, "actual", row["actual"], kpi.unit, _val(row["actual"], kpi.unit, lang, cur),
                             month.label, "goals.trends", printed=False))
            if _missing(row["target"]):
                continue
            att, _ = km.attainment_ratio(row["actual"], row["target"], kpi.direction)
            out.append(_fact(ctx, r, "target", row["target"], kpi.unit, _val(row["target"], kpi.unit, lang, cur),
                             month.label, "goals.trends", printed=False))
            out.append(_fact(ctx, r, "attainment", att, "ratio", _pct(att, lang), month.label, "goals.trends", printed=False))
    return out


def quarters_facts(q: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each quarter's attainment and target, keyed by the days they cover (so "Q4 to date" meets "October"), and
    the change on the quarter before that the sentence gives."""
    lang, cur, out = ctx.lang, ctx.settings.currency, []
    for _, r in q.iterrows():
        if _missing(r["attainment"]):
            continue
        out.append(_fact(ctx, r, "attainment", r["attainment"], "ratio", _pct(r["attainment"], lang), r["period"],
                         "goals.quarters"))
        out.append(_fact(ctx, r, "target", r["target"], r["unit"], _val(r["target"], r["unit"], lang, cur), r["period"],
                         "goals.quarters", printed=False))  # what the attainment rests on (the footnote's rule)
    d = q[q["attainment"].map(lambda v: not _missing(v))]
    for k in dict.fromkeys(d["key"]):
        sub = d[d["key"] == k]
        if len(sub) < 2:
            continue
        now, before = sub.iloc[-1], sub.iloc[-2]
        chg = fmt.shown_ratio_change(float(now["attainment"]), float(before["attainment"]))
        out.append(facts.change(facts.key(f"kpi.{k}", "attainment_change", _where(ctx, now)), chg, fmt.pp(chg, lang),
                                now=now["attainment"], before=before["attainment"], kind="pp", unit="ratio",
                                period=now["period"], source="goals.quarters",
                                definition=f"{now['label_en']}: attainment against the quarter before's"))
    return out


def ytd_facts(ytd: pd.DataFrame, ctx: Context) -> list[Fact]:
    """The annual target of each KPI (the plan page shows the same key) and the year-to-date actual; what the
    rest of the year needs and the days left, as the sentence gives them."""
    lang, cur, out = ctx.lang, ctx.settings.currency, []
    year = ctx.period.year()
    for _, r in ytd.iterrows():
        if not _missing(r["annual_target"]):
            out.append(facts.make(facts.key(f"kpi.{r['key']}", "target", year.label), r["annual_target"], r["unit"],
                                  _val(r["annual_target"], r["unit"], lang, cur), period=year.label, source="goals.ytd",
                                  definition=f"{r['label_en']}: annual target"))
        if not _missing(r["actual"]) and not _missing(r["annual_target"]):  # the table shows only these rows
            where = facts.span(ctx.period.year_to_date(), r["as_of"])  # the days km.ytd covers
            out.append(facts.make(facts.key(f"kpi.{r['key']}", "actual", where), r["actual"], r["unit"],
                                  _val(r["actual"], r["unit"], lang, cur), period=year.label, source="goals.ytd",
                                  definition=f"{r['label_en']}: year to date"))
            rule = r["rule"]
            if (isinstance(rule, km.ToDate) and rule.partial and r["direction"] == "higher"
                    and float(r["annual_target"]) > float(r["actual"]) and r["status"] != "exceeded"):
                rest = f"{(r['as_of'] + timedelta(days=1)).isoformat()}..{year.last_day.isoformat()}"
                out.append(facts.change(facts.key(f"kpi.{r['key']}", "remaining", rest),
                                        float(r["annual_target"]) - float(r["actual"]),
                                        _val(float(r["annual_target"]) - float(r["actual"]), r["unit"], lang, cur),
                                        now=r["annual_target"], before=r["actual"], kind="diff", unit=r["unit"],
                                        period=year.label, source="goals.ytd", ahead=True,
                                        definition=f"{r['label_en']}: the annual target less the year to date"))
                out.append(facts.make(facts.key(f"kpi.{r['key']}", "days_left", rest), rule.period_days - rule.covered_days,
                                      "days", str(rule.period_days - rule.covered_days), period=year.label,
                                      source="goals.ytd", definition="days from the as-of day to the year's last",
                                      to=year.last_day, ahead=True))
    return out


def drivers_facts(r: dm.DriverResult, ctx: Context) -> list[Fact]:
    """The GMV change and the drivers' contributions that add up to it, their shares of it, each driver's change
    between the two values shown beside it (as the table and the sentences show them)."""
    lang, cur = ctx.lang, ctx.settings.currency
    where = f"{r.base_period}..{r.period}"
    total = facts.key("drivers.gmv", "change", where)
    out = [facts.change(total, r.change, ("+" if r.change > 0 else "") + fmt.money(r.change, lang, currency=cur),
                        now=r.gmv_current, before=r.gmv_base, kind="diff", unit="currency", period=ctx.period.label,
                        source="goals.drivers", definition="GMV change between the two periods")]
    shown = contribution_texts(r, lang, cur)
    for x in r.table.to_dict("records"):
        d = x["driver"]
        out.append(facts.make(facts.key(f"drivers.{d}", "contribution", where), x["contribution"], "currency", shown[d],
                              period=ctx.period.label, source="goals.drivers", part_of=total,
                              definition=f"{d}: contribution to the GMV change (LMDI)"))
        if not _missing(x["change"]):
            out.append(facts.change(facts.key(f"drivers.{d}", "change", where), x["change"],
                                    fmt.pct(x["change"], lang, signed=True), now=x["current"], before=x["base"],
                                    kind="relative", unit="count", period=ctx.period.label, source="goals.drivers",
                                    definition=f"{d}: relative change"))
    if r.change:
        out += facts.shares("drivers.share", "drivers.gmv_change", [
            (x["driver"], x["share"], _pct(x["share"], lang)) for x in r.table.to_dict("records")],
            where=where, period=ctx.period.label, source="goals.drivers",
            definition="share of the GMV change from each driver")
    return out


SUBSECTIONS: list[Subsection] = [
    Subsection(
        "goals.attainment", _attainment,
        chart=lambda r, ctx: attainment_chart(r, lang=ctx.lang),
        table=lambda r, ctx: attainment_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: attainment_bullets(r, ctx.lang, ctx.settings.currency),
        facts=attainment_facts,
    ),
    Subsection("goals.trends", _trends,
               chart=lambda r, ctx: trends_chart(r, lang=ctx.lang, currency=ctx.settings.currency), facts=trends_facts),
    Subsection(
        "goals.ytd", _ytd,
        chart=lambda r, ctx: ytd_chart(r, lang=ctx.lang),
        table=lambda r, ctx: ytd_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: ytd_bullets(r, ctx.lang, ctx.settings.currency),
        facts=ytd_facts,
    ),
    Subsection(
        "goals.quarters", _quarters,
        table=lambda r, ctx: quarters_table(r, ctx.lang),
        bullets=lambda r, ctx: quarters_bullets(r, ctx.lang),
        facts=quarters_facts,
    ),
    Subsection(
        "goals.drivers", _drivers,
        chart=lambda r, ctx: drivers_chart(r, lang=ctx.lang, currency=ctx.settings.currency),
        table=lambda r, ctx: drivers_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: drivers_bullets(r, ctx.lang, ctx.settings.currency),
        facts=drivers_facts,
    ),
    Subsection(
        "goals.ledger", _ledger,
        table=lambda r, ctx: ledger_table(r, ctx.lang, _labels(ctx), ctx.settings.currency),
        bullets=lambda r, ctx: ledger_bullets(r, ctx.lang, _labels(ctx), ctx.settings.currency),
    ),
]
