"""View of section 05 改进建议与后续计划: actions, Gantt, weeks, targets, calendar, budget, risks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import calendar as cal
from opsnb.metrics import plan as m
from opsnb.metrics import targets as tg
from opsnb.periods import Period
from opsnb.render import fmt, ui
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context
    from opsnb.params import KPI

STATE_COLOURS = {"planned": "#90a4ae", "in_progress": "#1565c0", "done": "#2e7d32", "delayed": "#f9a825",
                 "overdue": "#c62828"}


def as_of(ctx: Context) -> date:
    """The report's "today": the period's last day, or the data's last day when the pack ends earlier."""
    last = ctx.period.last_day
    return min(last, ctx.data_last_day) if ctx.data_last_day is not None else last


def _label(ctx: Context, metric: str | None) -> str:
    if not metric:
        return ""
    # an action may name a metric that is not a declared KPI: show it as written
    return ctx.settings.kpi(metric).label(ctx.lang) if _known(ctx, metric) else metric


def _actions(ctx: Context) -> pd.DataFrame:
    return ctx.memo("plan.actions", lambda: m.actions(ctx.pack, ctx.period, ctx.settings, as_of=as_of(ctx),
                                                      root=ctx.root, snapshot=ctx.data_last_day))


def _plan(ctx: Context) -> tg.AnnualPlan:
    plan = ctx.memo("plan.annual", lambda: tg.annual_plan(ctx.pack, ctx.period, ctx.settings,
                                                          extra_targets=_extra_targets(ctx)))
    return plan


def published_targets(ctx: Context) -> pd.DataFrame:
    """The next period's targets of the plan this page shows: closing the loop, the next review's goals read them
    where its kpis table has none (the batch's hand-off cell writes them: :func:`opsnb.sections.summary.produce`)."""
    return m.plan_targets(ctx.pack, ctx.period, ctx.settings, plan=_plan(ctx))


def _extra_targets(ctx: Context) -> pd.DataFrame | None:
    """The previous review's published plan targets, exactly as the goals page reads them."""
    from opsnb.sections.goals import previous_plan_targets

    return previous_plan_targets(ctx)


def _d(d: Any) -> str:
    return d.isoformat() if isinstance(d, date) else ""


# ---------------------------------------------------------------- actions


def actions_table(df: pd.DataFrame, ctx: Context) -> ui.Table:
    """The action list, short term first, with translated labels."""
    t = ctx.t
    units = df["unit"] if "unit" in df.columns else [None] * len(df)  # a unit column, where the source has one
    out = pd.DataFrame({
        t("plan.col.horizon"): [t(f"plan.horizon.{h}") for h in df["horizon"]],
        t("plan.col.title"): df["title"], t("plan.col.owner"): df["owner"],
        t("plan.col.start"): [_d(x) for x in df["start"]], t("plan.col.due"): [_d(x) for x in df["due"]],
        t("plan.col.state"): [t(f"plan.state.{s}") for s in df["state"]],
        t("plan.col.metric"): [_label(ctx, x) for x in df["metric"]],
        t("plan.col.target"): [action_target(v, k, ctx.settings.goals.kpis, ctx.lang, currency=ctx.settings.currency,
                                             unit=u) for k, v, u in zip(df["metric"], df["target"], units, strict=True)],
        t("plan.col.problem"): df["problem"].fillna(""),
    })
    return ui.table(out, ctx.lang, currency=ctx.settings.currency)


#: Units an action target can be shown in: the KPI units and ROI ("1:3.0").
TARGET_UNITS = ("count", "currency", "ratio", "hours", "score", "roi")
_ROI_WORDS = ("roi", "投资回报", "投入产出", "return on")
#: A metric named like this is a ratio whatever else its name holds ("GMV增长率", "growth rate").
_RATIO_ENDINGS = ("率", "占比", "比例", "比重", "rate", "ratio", "share", "%")
_UNIT_WORDS = (
    ("ratio", ("率", "占比", "比例", "渗透", "percent", "penetration", "conversion", "retention", "churn")),
    ("currency", ("gmv", "金额", "收入", "营收", "销售额", "成本", "费用", "预算", "客单价", "revenue", "sales", "cost",
                  "spend", "budget", "aov", "cac", "amount")),
    ("hours", ("时长", "小时", "耗时", "hours", "hour", "duration")),
    ("score", ("满意度", "评分", "得分", "score", "rating", "nps", "satisfaction")),
    ("count", ("人数", "用户", "客户", "订单", "次数", "数量", "users", "customers", "orders", "count", "visits")),
)


def _norm(name: Any) -> str:
    """Lower case without spaces or a bracketed unit: "平均解决时长(小时)" → "平均解决时长"."""
    s = re.sub(r"[(（][^)）]*[)）]", "", str(name)).lower()
    return re.sub(r"\s+", "", s)


def target_unit(metric: Any, kpis: Sequence[KPI], unit: Any = None) -> str | None:
    """The unit an action's target is shown in, or None (a plain number).

    The declared ``unit`` wins. Otherwise the metric's name decides: ROI-like names ("渠道ROI") →
    ``roi``; names ending like a ratio ("周流失率", "share") → ``ratio``; a KPI of the catalogue
    (key, zh or en label, exactly, else one name containing the other: "转化率" ↔ "付费转化率") →
    that KPI's unit; else keywords (金额/成本/revenue → currency, 时长/hours → hours, 满意度/score →
    score, 用户/orders → count).
    """
    if unit is not None and not (isinstance(unit, float) and pd.isna(unit)) and str(unit).strip():
        u = str(unit).strip().lower()
        if u not in TARGET_UNITS:
            raise ValueError(f"unknown target unit {unit!r} for metric {metric!r}; known: {', '.join(TARGET_UNITS)}")
        return u
    if not isinstance(metric, str) or not metric.strip():
        return None
    name = _norm(metric)
    if any(w in name for w in _ROI_WORDS):
        return "roi"
    if name.endswith(_RATIO_ENDINGS):
        return "ratio"
    names = [(k, [n for n in (_norm(k.key), _norm(k.label.zh), _norm(k.label.en)) if n]) for k in kpis]
    for k, ns in names:
        if name in ns:
            return "roi" if k.key == "roi" else k.unit
    for k, ns in names:
        if any(len(n) >= 2 and len(name) >= 2 and (n in name or name in n) for n in ns):
            return k.unit
    return next((u for u, words in _UNIT_WORDS if any(w in name for w in words)), None)


def action_target(value: Any, metric: Any, kpis: Sequence[KPI], lang: str, *, currency: str | None = None,
                  unit: Any = None) -> str:
    """An action's target value in its metric's unit (see :func:`target_unit`); "" when there is none.

    ``0.95`` of a ratio → ``95.0%``; ``2e6`` of an amount → ``¥200.0万`` / ``£2.00M``; a count →
    ``3,000``; ROI ``3`` → ``1:3.0``; an unknown metric → the number with grouping, never ``2e+06``.
    """
    if fmt.is_missing(value):
        return ""
    u = target_unit(metric, kpis, unit)
    if u == "roi":
        return fmt.ratio_x(value, lang)
    if u == "currency":
        return fmt.money(value, lang, currency=currency)
    if u is not None:
        return fmt.value(value, u, lang)
    v = float(value)
    digits = next((d for d in range(3) if abs(v * 10 ** d - round(v * 10 ** d)) < 1e-9), 3)
    return fmt.number(v, lang, digits=digits, compact=False)


def _known(ctx: Context, key: Any) -> bool:
    return isinstance(key, str) and any(k.key == key for k in ctx.settings.goals.kpis)


def actions_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    """Counts by horizon and state, then every overdue action."""
    n = df["horizon"].value_counts()
    out = [ctx.t("plan.bullet.counts", total=len(df), short=int(n.get("short", 0)), mid=int(n.get("mid", 0)),
                 long=int(n.get("long", 0)), done=int((df["state"] == "done").sum()),
                 overdue=int(df["overdue"].sum()))]
    for r in df[df["overdue"]].itertuples():
        out.append(ctx.t("plan.bullet.overdue", title=r.title, owner=r.owner, due=_d(r.due), days=int(r.days_late)))
    return out


def next_actions(ctx: Context, n: int = 3) -> list[str]:
    """The next ``n`` open actions for the summary page: overdue first, then by due day."""
    return [r["text"] for r in action_records(ctx)[:n]]


def action_records(ctx: Context) -> list[dict[str, Any]]:
    """Every open action, overdue first then by due day, for delivery (``text`` as the summary page words it)."""
    try:
        df = _actions(ctx)
    except NoData:
        return []
    open_ = df[df["status"] != "done"].sort_values(["overdue", "days_late", "due"], ascending=[False, False, True])
    return [{"action_id": str(r.action_id), "title": r.title, "owner": r.owner, "due": _d(r.due), "state": r.state,
             "overdue": bool(r.overdue), "days_late": int(r.days_late) if pd.notna(r.days_late) else 0,
             "text": ctx.t("plan.next_action", title=r.title, owner=r.owner, due=_d(r.due),
                           state=ctx.t(f"plan.state.{r.state}"))}
            for r in open_.itertuples()]


# ---------------------------------------------------------------- Gantt and weeks


def gantt(df: pd.DataFrame, *, today: date, labels: dict[str, str], today_label: str, ax: Any = None,
          title: str | None = None) -> Any:
    """Gantt chart: one bar per action coloured by state, diamonds for milestones, a dashed today line.

    ``today`` is passed in (the period end / data as-of day), never the wall clock.
    """
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    from opsnb.render.charts import new_ax

    ax = new_ax(ax, figsize=(9.0, max(2.4, 0.4 * len(df) + 1.2)))
    for i, r in enumerate(df.itertuples()):
        colour = STATE_COLOURS[r.state]
        if r.milestone:
            ax.scatter([mdates.date2num(r.start)], [i], marker="D", s=60, color=colour, zorder=3)
        else:
            end = r.due + timedelta(days=1)  # due is inclusive
            ax.barh(i, (end - r.start).days, left=mdates.date2num(r.start), height=0.5, color=colour)
    ax.axvline(mdates.date2num(today), color="#c62828", linestyle="--", linewidth=1)
    ax.text(mdates.date2num(today), -0.8, today_label, color="#c62828", fontsize=8, ha="center")
    ax.set_yticks(range(len(df)), [str(x) for x in df["title"]])
    ax.set_ylim(len(df) - 0.5, -1.2)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    states = [s for s in m.STATES if s in set(df["state"])]
    # outside the plot: inside, the legend hid the end of the longest bars
    ax.legend(handles=[Patch(color=STATE_COLOURS[s], label=labels[s]) for s in states], fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def gantt_chart(df: pd.DataFrame, ctx: Context) -> Any:
    return gantt(df, today=as_of(ctx), labels={s: ctx.t(f"plan.state.{s}") for s in m.STATES},
                 today_label=ctx.t("plan.today", day=as_of(ctx).isoformat()))


def gantt_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    ms = df[df["milestone"]]
    out = [ctx.t("plan.bullet.milestone", title=r.title, day=_d(r.due)) for r in ms.itertuples()]
    return out or [ctx.t("plan.bullet.no_milestone")]


def weeks_table(wp: m.WeekPlan, ctx: Context) -> ui.Table:
    """Which open actions are active in week 1 … 4 of next month (✓)."""
    out = pd.DataFrame({ctx.t("plan.col.title"): wp.table["title"], ctx.t("plan.col.owner"): wp.table["owner"]})
    for i, (a, b) in enumerate(wp.weeks, start=1):
        head = ctx.t(f"plan.week.w{i}") + f" ({a:%m-%d}–{b:%m-%d})"
        out[head] = ["✓" if v else "" for v in wp.table[f"w{i}"]]
    return ui.table(out, ctx.lang)


def weeks_bullets(wp: m.WeekPlan, ctx: Context) -> list[str]:
    """What changes next month (the table shows who is busy each week): the actions that end and the
    ones that start in it, by day; or that every action simply carries on."""
    sep = "、" if ctx.lang == "zh" else ", "
    t = wp.table
    first, last = wp.month.start, wp.month.last_day
    ends = t[t["due"].map(lambda d: first <= d <= last)].sort_values("due")
    starts = t[t["start"].map(lambda d: first <= d <= last)].sort_values("start")

    def items(d: pd.DataFrame, col: str) -> str:
        return sep.join(ctx.t("plan.bullet.week_item", title=r.title, owner=r.owner, day=f"{getattr(r, col):%m-%d}")
                        for r in d.itertuples())

    out = []
    if len(ends):
        out.append(ctx.t("plan.bullet.week_ends", month=wp.month.label, items=items(ends, "due")))
    if len(starts):
        out.append(ctx.t("plan.bullet.week_starts", month=wp.month.label, items=items(starts, "start")))
    return out or [ctx.t("plan.bullet.week_carry_on", month=wp.month.label, n=len(t))]


# ---------------------------------------------------------------- targets


def targets_chart(plan: tg.AnnualPlan, ctx: Context) -> Any:
    """Monthly targets of the first volume KPI as bars (the targets the reviews will judge by)."""
    from opsnb.render import charts

    months = plan.targets[(plan.targets["level"] == "month") & (plan.targets["basis"] != "copied")]
    if months.empty:
        return None
    key = months["metric"].iloc[0]
    data = months[months["metric"] == key]
    if len(data) <= 1:  # one month left: the table says it; a one-bar chart does not
        return None
    return charts.bar(data.assign(month=data["period"]), x="month", y="target",
                      title=ctx.t("plan.targets.chart", metric=_label(ctx, key), year=plan.year),
                      unit=str(data["unit"].iloc[0]), lang=ctx.lang, currency=ctx.settings.currency)


def _source_text(src: Any, ctx: Context) -> str:
    if not isinstance(src, str) or not src:
        return ""
    key = f"goals.source.{src}" if not src.startswith("plan") else "plan.source.plan"
    from opsnb.render.i18n import has

    if src.startswith("plan "):  # the previous review's plan
        return ctx.t("plan.source.previous", period=src.split(" ", 1)[1])
    return ctx.t(key) if has(key, ctx.lang) else src


def _rest_label(metric: str, plan: tg.AnnualPlan, period: str) -> str:
    months = plan.targets[(plan.targets["metric"] == metric) & (plan.targets["level"] == "month")
                          & plan.targets["period"].map(lambda p: str(p).startswith(period[:4]))]["period"]
    q = Period.parse(period)
    inside = [m for m in months if q.contains(Period.parse(str(m)).start)]
    return f"{inside[0]}–{inside[-1]}" if len(inside) > 1 else (inside[0] if inside else period)


def targets_table(plan: tg.AnnualPlan, ctx: Context) -> ui.Table:
    """Per metric and period: the target the period's review will judge by (and where it comes from),
    the plan's own proposal beside it where it differs, the share of the year and the split method."""
    df = plan.targets

    def period_text(r: Any) -> str:
        if r.level == "quarter_rest":
            return ctx.t("plan.rest_period", quarter=r.period, months=_rest_label(r.metric, plan, r.period))
        return str(r.period)

    def proposed_text(r: Any) -> str:
        if r.proposed is None or pd.isna(r.proposed) or r.source == "plan":
            return ""
        if abs(float(r.proposed) - float(r.target)) < (0.005 if r.unit == "currency" else 1e-9):
            return ctx.t("plan.same")
        return ctx.fmt(r.proposed, r.unit)

    out = pd.DataFrame({
        ctx.t("plan.col.metric"): [_label(ctx, k) for k in df["metric"]],
        ctx.t("plan.col.level"): [ctx.t(f"plan.level.{x}") for x in df["level"]],
        ctx.t("plan.col.period"): [period_text(r) for r in df.itertuples()],
        ctx.t("plan.col.share"): [None if pd.isna(s) else float(s) for s in df["share"]],
        ctx.t("plan.col.review_target"): [ctx.fmt(v, u) if pd.notna(v) else ctx.t("plan.goal_open")
                                          for v, u in zip(df["target"], df["unit"], strict=True)],
        ctx.t("plan.col.source"): [_source_text(x, ctx) for x in df["source"]],
        ctx.t("plan.col.proposed"): [proposed_text(r) for r in df.itertuples()],
        ctx.t("plan.col.method"): [ctx.t(f"plan.method.{x}") for x in df["method"]],
    })
    return ui.table(out, ctx.lang, formats={ctx.t("plan.col.share"): "ratio"})


def targets_bullets(plan: tg.AnnualPlan, ctx: Context) -> list[str]:
    """Per volume metric, conclusion first: does following the targets table meet the year's target,
    and where the plan proposes other targets, by how much and why; then the notes."""
    out = []
    df = plan.targets
    for r in df[(df["level"] == "year") & (df["basis"] != "copied")].itertuples():
        label = _label(ctx, r.metric)
        months = df[(df["metric"] == r.metric) & (df["level"] == "month")]
        table_sum = float(months["target"].sum())
        plan_sum = float(months["proposed"].astype("float64").sum())
        from_plan = months[months["source"] == "plan"]
        if plan.mode == "rest_of_year":
            need = max(0.0, float(r.target) - float(r.actual)) if pd.notna(r.actual) else plan_sum
            target = ctx.fmt(r.target, r.unit)
            if r.source == "plan":  # no annual target in the targets table: the plan's own, say how it was set
                target = ctx.t("plan.plan_target", target=target, basis=ctx.t(f"plan.basis.{r.basis}"),
                               growth=ctx.fmt(ctx.settings.plan.annual_growth, "ratio"))
            kw = dict(metric=label, year=plan.year, target=target, actual=ctx.fmt(r.actual, r.unit),
                      months=len(months), table=ctx.fmt(table_sum, r.unit), need=ctx.fmt(need, r.unit))
            if len(from_plan) == len(months):
                out.append(ctx.t("plan.bullet.rest_plan_only", **kw))
            elif table_sum + 1e-6 >= need:
                out.append(ctx.t("plan.bullet.rest_enough", slack=ctx.fmt(table_sum - need, r.unit), **kw))
            else:
                out.append(ctx.t("plan.bullet.rest_short", short=ctx.fmt(need - table_sum, r.unit), **kw))
        else:
            proposed = r.proposed if r.proposed is not None and pd.notna(r.proposed) else r.target
            kw = dict(metric=label, year=plan.year, target=ctx.fmt(r.target, r.unit), proposed=ctx.fmt(proposed, r.unit),
                      basis=ctx.t(f"plan.basis.{r.basis}"), growth=ctx.fmt(ctx.settings.plan.annual_growth, "ratio"),
                      source=_source_text(r.source, ctx))
            if r.source == "plan":
                out.append(ctx.t("plan.bullet.next_plan_only", **kw))
            else:
                diff = float(proposed) / float(r.target) - 1 if r.target else None
                out.append(ctx.t("plan.bullet.next_both", change=ctx.fmt(diff, "ratio") if diff is not None else
                                 ctx.t("common.na"), **kw))
        if len(from_plan) and len(from_plan) < len(months):
            out.append(ctx.t("plan.bullet.plan_fills", metric=label, periods="、".join(from_plan["period"])
                             if ctx.lang == "zh" else ", ".join(from_plan["period"])))
    out += _grouped_notes(plan, ctx)
    return out


def _grouped_notes(plan: tg.AnnualPlan, ctx: Context) -> list[str]:
    """The plan's notes; one sentence for a note that several metrics share (same key, same figures)."""
    sep = "、" if ctx.lang == "zh" else ", "
    groups: dict[tuple[str, tuple[tuple[str, Any], ...]], list[str]] = {}
    for key, notes in plan.notes.items():
        for n in notes:
            rest = tuple(sorted((k, v) for k, v in n.kwargs.items() if k != "metric"))
            groups.setdefault((n.key, rest), []).append(_label(ctx, n.kwargs.get("metric", key)))
    return [ctx.t(k, **dict(rest), metric=sep.join(dict.fromkeys(labels))) for (k, rest), labels in groups.items()]


# ---------------------------------------------------------------- calendar


def _calendar(ctx: Context) -> cal.MarketingCalendar:
    try:
        plan = _plan(ctx)
    except NoData:
        plan = None
    return cal.marketing_calendar(ctx.pack, ctx.period, ctx.settings, plan=plan)


def region_name(code: str, lang: str) -> str:
    """A calendar region as readers name it: ``GB-ENG`` → "英国（英格兰）" / "United Kingdom (England)"."""
    from opsnb.render.i18n import has, t

    country, _, sub = code.partition("-")
    name = t(f"plan.region.{country}", lang) if has(f"plan.region.{country}", lang) else country
    if sub:
        part = t(f"plan.region.{code}", lang) if has(f"plan.region.{code}", lang) else sub
        name = f"{name}（{part}）" if lang == "zh" else f"{name} ({part})"
    return name


def calendar_table(c: cal.MarketingCalendar, ctx: Context) -> ui.Table:
    ev = c.events
    names = [ctx.t(f"plan.festival.{k}") if kind in ("festival", "retail") else (zh if ctx.lang == "zh" else en)
             for kind, k, zh, en in zip(ev["kind"], ev["key"], ev["name_zh"], ev["name_en"], strict=True)]
    out = pd.DataFrame({
        ctx.t("plan.col.start"): [_d(x) for x in ev["start"]], ctx.t("plan.col.due"): [_d(x) for x in ev["end"]],
        ctx.t("plan.col.kind"): [ctx.t(f"plan.kind.{k}") for k in ev["kind"]], ctx.t("plan.col.name"): names,
        ctx.t("plan.col.quarter"): ev["quarter"], ctx.t("plan.col.theme"): [ctx.t(f"plan.theme.{x}") for x in ev["theme"]],
    })
    return ui.table(out, ctx.lang)


def calendar_bullets(c: cal.MarketingCalendar, ctx: Context) -> list[str]:
    out = []
    for r in c.themes.itertuples():
        unit = ctx.settings.kpi(r.metric).unit if _known(ctx, r.metric) else "count"
        goal = ctx.fmt(r.target, unit) if r.target is not None and pd.notna(r.target) else ctx.t("plan.goal_open")
        rest = getattr(r, "rest_target", None)
        if rest is not None and pd.notna(rest):  # the quarter is under way: its goal, and what is left of it
            goal = ctx.t("plan.goal_with_rest", goal=goal, months=r.rest_months, rest=ctx.fmt(rest, unit))
        out.append(ctx.t("plan.bullet.theme", quarter=r.quarter, theme=ctx.t(f"plan.theme.{r.theme}"),
                         metric=_label(ctx, r.metric), goal=goal))
    out += [ctx.t(n.key, **{**n.kwargs, **({"region": region_name(n.kwargs["region"], ctx.lang)}
                                          if "region" in n.kwargs else {})}) for n in c.notes]
    return out


# ---------------------------------------------------------------- budget


def budget_chart(r: m.Reallocation, ctx: Context) -> Any:
    from opsnb.render import charts

    t = r.table[r.table["role"] != "excluded"]
    before, after = ctx.t("plan.budget.before"), ctx.t("plan.budget.after")
    long = pd.concat([pd.DataFrame({"channel": t["channel"], "budget": t["cost"], "when": before}),
                      pd.DataFrame({"channel": t["channel"], "budget": t["new_budget"], "when": after})])
    return charts.bar(long, x="channel", y="budget", hue="when", title=ctx.t("plan.budget.chart"), unit="currency",
                      lang=ctx.lang, currency=ctx.settings.currency)


def budget_table(r: m.Reallocation, ctx: Context) -> ui.Table:
    t = r.table
    c = ctx.t
    out = pd.DataFrame({c("plan.col.channel"): t["channel"], c("plan.col.cost"): t["cost"], c("plan.col.gmv"): t["gmv"],
                        c("plan.col.roi"): [None if pd.isna(x) else float(x) for x in t["roi"]],
                        c("plan.col.role"): [c(f"plan.role.{x}") for x in t["role"]],
                        c("plan.col.new_budget"): t["new_budget"], c("plan.col.change"): t["change"],
                        c("plan.col.expected_gmv"): [None if pd.isna(x) else float(x) for x in t["expected_gmv"]]})
    money = {k: "currency" for k in (c("plan.col.cost"), c("plan.col.gmv"), c("plan.col.new_budget"),
                                     c("plan.col.change"), c("plan.col.expected_gmv"))}
    return ui.table(out, ctx.lang, formats={**money, c("plan.col.change"): "+currency", c("plan.col.roi"): "roi"},
                    currency=ctx.settings.currency)  # a change is signed: "+¥3,207.23", "-¥1,480.50"


def budget_bullets(r: m.Reallocation, ctx: Context) -> list[str]:
    t = r.table
    donors = "、".join(t[t["role"] == "donor"]["channel"]) if ctx.lang == "zh" else ", ".join(t[t["role"] == "donor"]["channel"])
    recv = "、".join(t[t["role"] == "receiver"]["channel"]) if ctx.lang == "zh" else ", ".join(t[t["role"] == "receiver"]["channel"])
    return [ctx.t("plan.bullet.move", share=ctx.fmt(r.share, "ratio"), donors=donors, receivers=recv,
                  moved=ctx.fmt(r.moved, "currency"), total=ctx.fmt(r.total_after, "currency")),
            ctx.t("plan.bullet.expected", before=ctx.fmt(r.gmv_before, "currency"),
                  after=ctx.fmt(r.expected_after, "currency"),
                  change=fmt.pct((r.expected_after - r.gmv_before) / r.gmv_before, ctx.lang, signed=True)
                  if r.gmv_before else ctx.t("common.na"))]


# ---------------------------------------------------------------- risks


def risk_ids(reg: pd.DataFrame) -> dict[Any, str]:
    """``R1``, ``R2`` … by the register's row order (keyed by the frame's index)."""
    return {i: f"R{n + 1}" for n, i in enumerate(reg.index)}


def risk_heatmap(reg: pd.DataFrame, *, ax: Any = None, title: str | None = None, xlabel: str = "",
                 ylabel: str = "") -> Any:
    """5×5 likelihood × impact grid coloured by score, each rated risk marked in its cell by its number
    (R1, R2 … in the register's order, the same numbers as the table: whole names do not fit a cell)."""
    import seaborn as sns

    from opsnb.render.charts import new_ax

    ax = new_ax(ax, figsize=(6.5, 5.0))
    score = pd.DataFrame([[li * im for im in range(1, 6)] for li in range(5, 0, -1)], index=[5, 4, 3, 2, 1],
                         columns=[1, 2, 3, 4, 5])
    sns.heatmap(score, ax=ax, cmap="RdYlGn_r", vmin=1, vmax=25, cbar=False, linewidths=0.5, annot=False)
    rated = reg.dropna(subset=["likelihood", "impact"])
    ids = risk_ids(reg)
    for (li, im), g in rated.groupby([rated["likelihood"].astype(int), rated["impact"].astype(int)]):
        marks = [ids[i] for i in g.index]
        rows = [" ".join(marks[k:k + 3]) for k in range(0, len(marks), 3)]
        ax.text(im - 1 + 0.5, 5 - li + 0.5, "\n".join(rows), ha="center", va="center", fontsize=10,
                fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def risks_chart(reg: pd.DataFrame, ctx: Context) -> Any:
    return risk_heatmap(reg, xlabel=ctx.t("plan.col.impact"), ylabel=ctx.t("plan.col.likelihood"))


def risks_table(reg: pd.DataFrame, ctx: Context) -> ui.Table:
    c = ctx.t
    out = pd.DataFrame({c("plan.col.risk_id"): list(risk_ids(reg).values()), c("plan.col.risk"): reg["risk"],
                        c("plan.col.likelihood"): [None if pd.isna(x) else int(x) for x in reg["likelihood"]],
                        c("plan.col.impact"): [None if pd.isna(x) else int(x) for x in reg["impact"]],
                        c("plan.col.score"): [None if pd.isna(x) else int(x) for x in reg["score"]],
                        c("plan.col.level"): [c("plan.risk_level.unrated") if pd.isna(x) else c(f"plan.risk_level.{x}")
                                              for x in reg["level"]],
                        c("plan.col.mitigation"): reg["mitigation"], c("plan.col.owner"): reg["owner"]})
    return ui.table(out, ctx.lang)


def risks_bullets(reg: pd.DataFrame, ctx: Context) -> list[str]:
    out = [ctx.t("plan.bullet.risk", risk=r.risk, level=ctx.t(f"plan.risk_level.{r.level}"), score=int(r.score),
                 mitigation=r.mitigation or ctx.t("plan.none"), owner=r.owner or ctx.t("plan.none"))
           for r in reg[reg["level"] == "high"].itertuples()]
    return out or [ctx.t("plan.bullet.no_high_risk")]


# ---------------------------------------------------------------- facts (one figure, one value)


def _rest_span(plan: tg.AnnualPlan, metric: str, quarter: str) -> str:
    """The days of a quarter's months still to come (the months the plan lists for it)."""
    first, last = _rest_label(metric, plan, quarter).split("–") if "–" in _rest_label(metric, plan, quarter) \
        else (_rest_label(metric, plan, quarter),) * 2
    return f"{Period.parse(first).start.isoformat()}..{Period.parse(last).last_day.isoformat()}"


def targets_facts(plan: tg.AnnualPlan, ctx: Context) -> list[Fact]:
    """Annual, quarter and month targets as the target table shows them (the goals page shares the annual key; the
    next reviews will judge by them: :mod:`opsnb.invariants` checks it); the plan's own proposal where it differs,
    shown beside the table's; the months still to come of a quarter, the parts of its rest; and, in a mid-year
    plan, what the rest of the year needs (the goals page's year-to-date sentence shares the key)."""
    out = []
    df = plan.targets
    for r in df.itertuples():
        if r.basis == "copied" or pd.isna(r.target):
            continue
        if r.level == "quarter_rest":  # the months still to come of a quarter are not the quarter's target
            out.append(facts.make(facts.key(f"kpi.{r.metric}", "target_rest", _rest_span(plan, r.metric, r.period)),
                                  r.target, r.unit, ctx.fmt(r.target, r.unit), period=str(r.period), ahead=True,
                                  source="plan.targets", definition=f"{r.metric}: the quarter's months still to come"))
            continue
        where = str(r.period) if r.level == "year" else facts.span(Period.parse(str(r.period)))
        rest = df[(df["metric"] == r.metric) & (df["level"] == "quarter_rest")]
        part_of = None
        if r.level == "month" and len(rest):
            q = Period.containing(Period.parse(str(r.period)).start, "quarter").label
            if q in set(rest["period"]):
                part_of = facts.key(f"kpi.{r.metric}", "target_rest", _rest_span(plan, r.metric, q))
        out.append(facts.make(facts.key(f"kpi.{r.metric}", "target", where), r.target, r.unit, ctx.fmt(r.target, r.unit),
                              period=str(r.period), source="plan.targets", definition=f"{r.metric}: {r.level} target",
                              part_of=part_of))
        if (r.proposed is not None and pd.notna(r.proposed) and r.source != "plan"
                and abs(float(r.proposed) - float(r.target)) >= (0.005 if r.unit == "currency" else 1e-9)):
            out.append(facts.make(facts.key(f"kpi.{r.metric}", "proposed", where), r.proposed, r.unit,
                                  ctx.fmt(r.proposed, r.unit), period=str(r.period), source="plan.targets",
                                  beside=True, definition=f"{r.metric}: the plan's own {r.level} split"))
        if r.level == "year" and plan.mode == "rest_of_year" and pd.notna(r.actual) and float(r.target) > float(r.actual):
            rest_days = f"{(as_of(ctx) + timedelta(days=1)).isoformat()}..{date(plan.year, 12, 31).isoformat()}"
            need = float(r.target) - float(r.actual)
            out.append(facts.change(facts.key(f"kpi.{r.metric}", "remaining", rest_days), need, ctx.fmt(need, r.unit),
                                    now=r.target, before=r.actual, kind="diff", unit=r.unit, period=str(r.period),
                                    source="plan.targets", ahead=True,
                                    definition=f"{r.metric}: the annual target less the year to date"))
    return out


def calendar_facts(c: cal.MarketingCalendar, ctx: Context) -> list[Fact]:
    """Each quarter theme's goal as the sentence gives it: the quarter's own target (the targets table's key) and,
    for a quarter under way, the target of its months still to come."""
    out = []
    for r in c.themes.itertuples():
        if r.target is None or pd.isna(r.target) or not _known(ctx, r.metric):
            continue
        unit = ctx.settings.kpi(r.metric).unit
        q = Period.parse(r.quarter)
        out.append(facts.make(facts.key(f"kpi.{r.metric}", "target", facts.span(q)), r.target, unit,
                              ctx.fmt(r.target, unit), period=r.quarter, source="plan.calendar",
                              definition=f"{r.metric}: the quarter's target"))
        rest = getattr(r, "rest_target", None)
        if rest is not None and pd.notna(rest):
            first, _, last = str(r.rest_months).partition("–")
            where = f"{Period.parse(first).start.isoformat()}..{Period.parse(last or first).last_day.isoformat()}"
            out.append(facts.make(facts.key(f"kpi.{r.metric}", "target_rest", where), rest, unit, ctx.fmt(rest, unit),
                                  period=r.quarter, source="plan.calendar", ahead=True,
                                  definition=f"{r.metric}: the quarter's months still to come"))
    return out


def budget_facts(r: m.Reallocation, ctx: Context) -> list[Fact]:
    """Each channel's budget change beside its spend and proposed budget; the proposed budgets, the parts of the
    unchanged total; the estimated GMV's change."""
    where = facts.span(ctx.effective_period)
    total = facts.key("plan.budget", "total_after", where)
    out = [facts.make(total, r.total_after, "currency", ctx.fmt(r.total_after, "currency"), period=ctx.period.label,
                      source="plan.budget", definition="channel budget after the move (unchanged)")]
    for x in r.table.to_dict("records"):
        if fmt.is_missing(x["new_budget"]):
            continue
        out.append(facts.make(facts.key(f"plan.budget.{x['channel']}", "new_budget", where), x["new_budget"], "currency",
                              ctx.fmt(x["new_budget"], "currency"), period=ctx.period.label, source="plan.budget",
                              part_of=total, definition="the channel's proposed budget"))
        out.append(facts.change(facts.key(f"plan.budget.{x['channel']}", "change", where), x["change"],
                                ctx.fmt(x["change"], "currency"), now=x["new_budget"], before=x["cost"], kind="diff",
                                unit="currency", period=ctx.period.label, source="plan.budget",
                                definition="proposed budget less this period's spend"))
    if r.gmv_before:
        v = (r.expected_after - r.gmv_before) / r.gmv_before
        out.append(facts.change(facts.key("plan.budget.gmv", "expected_change", where), v, fmt.pct(v, ctx.lang,
                                                                                                   signed=True),
                                now=r.expected_after, before=r.gmv_before, kind="relative", unit="currency",
                                period=ctx.period.label, source="plan.budget",
                                definition="estimated GMV at constant ROI against this period's"))
    return out


def overdue_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Days overdue of each late action (the problems page shows the same key), with the due day they count from."""
    return [facts.make(facts.key(f"action.{r.action_id}", "days_overdue", as_of(ctx).isoformat()), int(r.days_late),
                       "days", str(int(r.days_late)), period=ctx.period.label, source="plan.actions",
                       definition="days from the due day to the report's as-of day", **{"from": r.due})
            for r in df[df["overdue"]].itertuples()]


SUBSECTIONS: list[Subsection] = [
    Subsection("plan.actions", _actions, table=actions_table, bullets=actions_bullets, facts=overdue_facts),
    Subsection("plan.gantt", _actions, chart=gantt_chart, bullets=gantt_bullets),
    Subsection("plan.weeks", lambda ctx: m.week_plan(_actions(ctx), ctx.period), table=weeks_table,
               bullets=weeks_bullets),
    Subsection("plan.targets", _plan, chart=targets_chart, table=targets_table, bullets=targets_bullets,
               facts=targets_facts),
    Subsection("plan.calendar", _calendar, table=calendar_table, bullets=calendar_bullets, facts=calendar_facts),
    Subsection("plan.budget", lambda ctx: m.reallocation(ctx.pack, ctx.effective_period, ctx.settings),
               chart=budget_chart, table=budget_table, bullets=budget_bullets, facts=budget_facts),
    Subsection("plan.risks", lambda ctx: m.risks(ctx.pack, ctx.settings), chart=risks_chart, table=risks_table,
               bullets=risks_bullets),
]
