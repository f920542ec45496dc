"""The insights section, part A (03 数据分析与洞察): activity and platforms, and the helpers every insights view shares.

Every function takes a metrics result first and returns an Axes, a table or bullets; the numbers
come from :mod:`opsnb.metrics.activity`. Retention and lifecycle are in
:mod:`opsnb.sections.insights_cohorts`, the funnel in :mod:`opsnb.sections.insights_funnel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import activity as am
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


def _col(key: str, lang: str) -> str:
    return t(f"insights.activity.col.{key}", lang)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or fmt.is_missing(v)


def event_name(e: Any, lang: str) -> str:
    """An event as readers name it: the catalogue's name for the common events (``add_to_cart`` → 加入购物车),
    otherwise the event as the data has it."""
    from opsnb.render.i18n import has

    key = f"common.event.{e}"
    return t(key, lang) if has(key, lang) else fmt.label(e, lang)


def _platform(v: Any, lang: str) -> str:
    """A platform or channel as the data names it ("未知" only when the data has no value)."""
    return fmt.label(v, lang)

# ---------------------------------------------------------------- activity


def activity_chart(res: am.ActivityResult, *, ax: Any = None, title: str | None = None,
                   labels: dict[str, str] | None = None, lang: str = "zh") -> Any:
    """Daily DAU with trailing WAU and MAU lines (labels maps dau/wau/mau to translated names)."""
    labels = labels or {"dau": "DAU", "wau": "WAU", "mau": "MAU"}
    d = res.daily.melt(id_vars="date", value_vars=["dau", "wau", "mau"], var_name="metric", value_name="users")
    d["metric"] = d["metric"].map(labels)
    ax = charts.line(d, x="date", y="users", hue="metric", ax=ax, title=title, unit="count", lang=lang)
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def _kind_key(key: str, kind: str) -> str:
    """``mau`` / ``stickiness`` of a month; ``mau_quarter`` … of longer periods (their actives are not monthly)."""
    return key if kind == "month" or key == "avg_dau" else f"{key}_{kind}"


def activity_table(res: am.ActivityResult, lang: str) -> ui.Table:
    """Average DAU, the period's active users and stickiness: this period, previous, last year, MoM and YoY."""
    cur, prev, ly = res.summary, res.previous, res.last_year
    kind = cur.period.kind
    # said as the goals table says it for the same KPI (one label, one value: opsnb.facts.cells)
    no_prev, no_ly = fmt.na(lang, t("goals.reason.not_covered", lang)), fmt.na(lang, t("goals.reason.no_previous_year", lang))
    rows = []
    for key, unit in (("avg_dau", "count"), ("mau", "count"), ("stickiness", "ratio")):
        c = getattr(cur, key)
        p = getattr(prev, key) if prev else None
        y = getattr(ly, key) if ly else None
        rows.append({
            _col("metric", lang): _col(_kind_key(key, kind), lang),
            _col("current", lang): fmt.value(c, unit, lang),
            _col("previous", lang): fmt.value(p, unit, lang) if prev else no_prev,
            _col("mom", lang): fmt.change(c, p, unit, lang) if prev else no_prev,
            _col("last_year", lang): fmt.value(y, unit, lang) if ly else no_ly,
            _col("yoy", lang): fmt.change(c, y, unit, lang) if ly else no_ly,
        })
    return ui.table(pd.DataFrame(rows), lang)


def _sign(x: float) -> int:
    return 0 if abs(x) < 1e-12 else (1 if x > 0 else -1)


def _shown_ratio_move(new: Any, old: Any, lang: str, key: str) -> str:
    """"由12.9%降至11.8%" / "持平于11.8%" between two ratios as shown (``key``: the catalogue prefix)."""
    d = fmt.shown_ratio_change(new, old)
    word = "flat" if abs(d) < 5e-4 else "up" if d > 0 else "down"
    return t(f"{key}.move_{word}", lang, old=fmt.pct(old, lang), new=fmt.pct(new, lang))


#: Days at the start of the data's history that no finding rests on (the user base is still being built).
WARM_UP_DAYS = 28


def activity_bullets(res: am.ActivityResult, lang: str, *, first_day: Any = None,
                     incident_days: Sequence[date] = ()) -> list[str]:
    """What moved and why, conclusion first: DAU against MAU (so stickiness), then the day range.

    Never one table row in words: the first line reads the three rows together (more users but
    fewer visits each, or both moving one way), the second the daily extremes against the median, over
    open days after the first :data:`WARM_UP_DAYS` days of the data (``first_day``: the data's first day)
    and off the days of a data incident (``incident_days``: a tracking break's low is not the users').
    """
    cur, prev, ly = res.summary, res.previous, res.last_year
    k = "insights.activity.bullet"
    mau_name = _col(_kind_key("mau", cur.period.kind), lang)
    digits = 1 if cur.avg_dau < 100 else 0
    yoy = t(f"{k}.yoy", lang, yoy=fmt.change(cur.avg_dau, ly.avg_dau, "count", lang)) if ly and ly.avg_dau else ""
    out = []
    if prev is None or not prev.avg_dau or not prev.mau:
        out.append(t(f"{k}.no_previous", lang, dau=fmt.number(cur.avg_dau, lang, digits=digits),
                     mau=fmt.number(cur.mau, lang), stickiness=fmt.pct(cur.stickiness, lang), yoy=yoy,
                     mau_name=mau_name))
    else:
        dau_s = _sign(cur.avg_dau / prev.avg_dau - 1)
        mau_s = _sign(cur.mau / prev.mau - 1)
        case = "apart_sparser" if mau_s > 0 > dau_s else "apart_denser" if dau_s > 0 > mau_s else \
            "up" if dau_s + mau_s > 0 else "down" if dau_s + mau_s < 0 else "flat"
        out.append(t(f"{k}.{case}", lang, dau_mom=fmt.change(cur.avg_dau, prev.avg_dau, "count", lang),
                     mau_mom=fmt.change(cur.mau, prev.mau, "count", lang), yoy=yoy, mau_name=mau_name,
                     stickiness=_shown_ratio_move(cur.stickiness, prev.stickiness, lang, k)))
    d = day_range_days(res, first_day=first_day, incident_days=incident_days)
    warm = ""
    if first_day is not None and len(d) < len(day_range_days(res, incident_days=incident_days)):
        warm = t(f"{k}.warm_up", lang, days=WARM_UP_DAYS)
    hit = sorted(x for x in incident_days if (res.daily["date"] == pd.Timestamp(x)).any())
    if hit:
        warm += t(f"{k}.incident", lang, days=("、" if lang == "zh" else ", ").join(day_text(x, lang) for x in hit))
    if len(d) > 1 and d["dau"].max() > 0:
        hi = d.iloc[int(d["dau"].to_numpy().argmax())]
        lo = d.iloc[int(d["dau"].to_numpy().argmin())]
        med = float(d["dau"].median())
        out.append(t(f"{k}.range" if med > 0 else f"{k}.peak", lang, peak_day=day_text(hi["date"], lang), peak=fmt.number(hi["dau"], lang),
                     low_day=day_text(lo["date"], lang), low=fmt.number(lo["dau"], lang),
                     median=fmt.number(med, lang), gap=fmt.pct(1 - float(lo["dau"]) / med, lang) if med else fmt.na(lang),
                     warm=warm))
    return out


def day_range_days(res: am.ActivityResult, *, first_day: Any = None, incident_days: Sequence[date] = ()) -> pd.DataFrame:
    """The days the day-range sentence reads: open days, after the warm-up, off a data incident's days."""
    d = res.daily[res.daily["open"]] if "open" in res.daily else res.daily  # a closed day is not a low day
    if first_day is not None:
        d = d[d["date"] >= pd.Timestamp(first_day) + pd.Timedelta(days=WARM_UP_DAYS)]
    if incident_days:
        d = d[~d["date"].isin([pd.Timestamp(x) for x in incident_days])]
    return d


def day_text(ts: Any, lang: str) -> str:
    d = pd.Timestamp(ts)
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b")


def date_text(ts: Any, lang: str) -> str:
    """A day with its year: "2026年10月31日" / "31 Oct 2026"."""
    d = pd.Timestamp(ts)
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b %Y")


def span_text(period: Any, lang: str) -> str:
    """A span of days as readers name it: its label when it is a whole month, else first–last day."""
    if period.end == period.full.end and period.kind == "month":
        return str(period.label)
    return t("insights.word.span", lang, first=date_text(period.start, lang), last=date_text(period.last_day, lang))


# ---------------------------------------------------------------- platforms


@dataclass(frozen=True)
class PlatformView:
    """Active users by platform this period and the previous one (None when it has no events)."""

    current: pd.DataFrame
    previous: pd.DataFrame | None
    min_base: int = 30

    def change(self) -> pd.DataFrame:
        """``platform, users, prev, change`` (relative; None on a previous base under ``min_base``)."""
        cur = self.current[["platform", "users"]].copy()
        if self.previous is None:
            cur["prev"], cur["change"] = None, None
            return cur
        old = dict(zip(self.previous["platform"], self.previous["users"].astype(int), strict=True))
        cur["prev"] = [old.get(p) for p in cur["platform"]]
        cur["change"] = [None if o is None or o < self.min_base or u < self.min_base else u / o - 1
                         for u, o in zip(cur["users"].astype(int), cur["prev"], strict=True)]
        return cur


def platforms_chart(view: PlatformView, *, lang: str, ax: Any = None, title: str | None = None) -> Any:
    """Active users by platform (bars); None for a single platform (a one-bar chart says nothing: the bullet does)."""
    df = view.current
    if len(df) <= 1:
        return None
    d = df.assign(platform=[_platform(v, lang) for v in df["platform"]])
    return charts.bar(d, x="platform", y="users", ax=ax, title=title, unit="count", lang=lang)


def platforms_table(view: PlatformView, lang: str) -> ui.Table:
    """Users, their share and change on the previous period, and the share of events, by platform."""
    df = view.current
    ch = view.change()
    small = t("insights.word.small_base", lang, n="{n}")
    out = pd.DataFrame({
        _col("platform", lang): [_platform(v, lang) for v in df["platform"]],
        _col("users", lang): df["users"].astype(int).tolist(),
        _col("user_share", lang): df["user_share"].tolist(),
        _col("users_mom", lang): [fmt.na(lang) if p is None else small.format(n=fmt.number(min(p, u), lang))
                                  if c is None else fmt.pct(c, lang, signed=True)
                                  for p, u, c in zip(ch["prev"], ch["users"].astype(int), ch["change"], strict=True)],
        _col("event_share", lang): df["event_share"].tolist(),
    })
    fm_ = {_col("users", lang): "int", _col("user_share", lang): "ratio", _col("event_share", lang): "ratio"}
    return ui.table(out, lang, formats=fm_)


def platforms_bullets(view: PlatformView, lang: str) -> list[str]:
    """The platform that moved most on the previous period (or, without one, the largest platform)."""
    df = view.current
    if df.empty:
        return []
    top = df.iloc[0]
    k = "insights.platforms.bullet"
    if len(df) == 1:
        return [t(f"{k}.single", lang, platform=_platform(top["platform"], lang), users=fmt.number(top["users"], lang))]
    ch = view.change()
    moved = ch[ch["change"].notna()]
    if moved.empty:
        why = "no_previous" if view.previous is None else "small"
        return [t(f"{k}.top_{why}", lang, platform=_platform(top["platform"], lang),
                  share=fmt.pct(top["user_share"], lang), min=view.min_base)]
    vals = moved["change"].astype(float)
    big = moved.loc[vals.abs().idxmax()]
    others = moved.drop(index=big.name)
    sep = "，" if lang == "zh" else ", "
    rest = sep.join(t(f"{k}.part", lang, platform=_platform(p, lang), share=fmt.pct(c, lang, signed=True))
                    for p, c in zip(others["platform"], others["change"], strict=True))
    return [t(f"{k}.mover_{'up' if float(big['change']) >= 0 else 'down'}", lang,
              platform=_platform(big["platform"], lang), change=fmt.pct(big["change"], lang, signed=True),
              share=fmt.pct(df.loc[df["platform"] == big["platform"], "user_share"].iloc[0], lang),
              others=t(f"{k}.others", lang, parts=rest) if rest else "")]


def platforms_facts(view: PlatformView, ctx: Context) -> list[Fact]:
    """The shares of events by platform (a whole: every platform), each platform's change of active users between
    the two periods (on a base of ``min_base`` users, else shown with its n), and the mover the sentence names.

    The user shares are not a whole: one user can be active on several platforms (the purpose says so)."""
    df = view.current
    where = facts.span(ctx.period, ctx.data_last_day)
    out = facts.shares("platforms.event_share", "platforms.events", [
        (p, v, fmt.pct(v, ctx.lang)) for p, v in zip(df["platform"], df["event_share"], strict=True)],
        where=where, period=ctx.period.label, source="insights.platforms", definition="share of the period's events")
    ch = view.change()
    moved = ch[ch["change"].notna()]
    big = None if moved.empty or len(df) <= 1 else moved.loc[moved["change"].astype(float).abs().idxmax(), "platform"]
    for r in ch.to_dict("records"):
        if r["change"] is None:
            continue
        out.append(facts.change(facts.key(f"platforms.{r['platform']}", "users_mom", where), r["change"],
                                fmt.pct(r["change"], ctx.lang, signed=True), now=r["users"], before=r["prev"],
                                kind="relative", unit="count", period=ctx.period.label, source="insights.platforms",
                                definition="active users on the platform against the previous period",
                                base=min(int(r["users"]), int(r["prev"])),
                                verdict="largest_move" if r["platform"] == big else None))
    return out


# ---------------------------------------------------------------- figures shared with the goals page


#: Built-in KPIs of the goals page whose figures the insights page relates its own to.
RELATED_KPIS = ("new_users", "paying_users", "retention_d30", "active_users", "mau")


def goals_kpis(ctx: Context) -> dict[str, Any]:
    """The goals page's KPIs (by built-in definition) among :data:`RELATED_KPIS`, when declared."""
    out: dict[str, Any] = {}
    for kpi in ctx.settings.goals.kpis:
        if kpi.source == "builtin" and kpi.definition in RELATED_KPIS:
            out.setdefault(kpi.definition, kpi)
    return out


def goals_labels(ctx: Context) -> dict[str, str]:
    """The goals page's names of :data:`RELATED_KPIS` (when declared)."""
    return {d: k.label(ctx.lang) for d, k in goals_kpis(ctx).items()}


def goals_fact(ctx: Context, definition: str, value: float, source: str) -> list[Fact]:
    """The goals page's fact for a KPI figure this page also shows (one figure, one value: checked by the batch)."""
    kpi = goals_kpis(ctx).get(definition)
    if kpi is None:
        return []
    where = facts.span(ctx.period, ctx.data_last_day)
    return [facts.make(facts.key(f"kpi.{kpi.key}", "actual", where), value, kpi.unit,
                       fmt.value(value, kpi.unit, ctx.lang), period=ctx.period.label, source=source,
                       definition=f"{kpi.label('en')}: actual")]


def _subject(ctx: Context, key: str) -> str:
    """The fact subject of an activity figure: the goals page's KPI when it declares one (the same figure under
    one key on both pages), else ``activity.<key>``."""
    kpi = goals_kpis(ctx).get({"avg_dau": "active_users", "mau": "mau"}.get(key, ""))
    return f"kpi.{kpi.key}" if kpi is not None and ctx.period.kind == "month" else f"activity.{key}"


def shown_change(new: Any, old: Any, unit: str) -> float | None:
    """The change :func:`opsnb.render.fmt.change` shows: relative for counts, points between the shown ratios."""
    if _missing(new) or _missing(old):
        return None
    if unit == "ratio":
        return fmt.shown_ratio_change(new, old)
    return None if float(old) == 0 else float(new) / float(old) - 1


def activity_facts(res: am.ActivityResult, ctx: Context) -> list[Fact]:
    """The goals page's average DAU and MAU of the period, as the activity table shows them; each row's MoM and
    YoY with the two values beside it; the day range's lowest and highest days (a day a data incident covers is
    never one of them)."""
    out = goals_fact(ctx, "active_users", res.summary.avg_dau, "insights.activity") + \
        goals_fact(ctx, "mau", res.summary.mau, "insights.activity")
    where = facts.span(ctx.period, ctx.data_last_day)
    cur = res.summary
    for which, other in (("mom", res.previous), ("yoy", res.last_year)):
        if other is None:
            continue
        for key, unit in (("avg_dau", "count"), ("mau", "count"), ("stickiness", "ratio")):
            c, p = getattr(cur, key), getattr(other, key)
            v = shown_change(c, p, unit)
            if v is None:
                continue
            out.append(facts.change(facts.key(_subject(ctx, key), which, where), v, fmt.change(c, p, unit, ctx.lang),
                                    now=c, before=p, kind="pp" if unit == "ratio" else "relative", unit=unit,
                                    period=ctx.period.label, source="insights.activity",
                                    definition=f"{key}: {which}"))
    d = day_range_days(res, first_day=ctx.data_first_day, incident_days=_incident_days(ctx))
    if len(d) > 1 and d["dau"].max() > 0:
        for word, i in (("lowest", int(d["dau"].to_numpy().argmin())), ("highest", int(d["dau"].to_numpy().argmax()))):
            row = d.iloc[i]
            day = pd.Timestamp(row["date"]).date()
            out.append(facts.make(facts.key("activity.dau", word, facts.span(ctx.period, ctx.data_last_day)),
                                  row["dau"], "count", fmt.number(row["dau"], ctx.lang), period=ctx.period.label,
                                  source="insights.activity", definition=f"the {word} day's active users",
                                  day=day, verdict=word, table="events"))
    return out


def _incident_days(ctx: Context) -> list[date]:
    """The days of the period a data incident covers (a tracking break, missing days: the problems page's
    data gaps), read once per notebook."""
    def read() -> list[date]:
        from opsnb.metrics import problems as pm

        p = ctx.effective_period
        rows = pm.event_gaps(ctx.pack, p.start, p.end, ctx.settings) if ctx.pack.has("events") else []
        return sorted({date.fromisoformat(d) for r in rows for d in r["evidence"]["days"]})

    return ctx.memo("insights.incident_days", read)


# ---------------------------------------------------------------- subsections


def _activity(ctx: Context) -> am.ActivityResult:
    return ctx.memo("insights.activity", lambda: am.activity(ctx.pack, ctx.period))


def _platforms(ctx: Context) -> PlatformView:
    cur = am.platform_split(ctx.pack, ctx.period)
    try:
        prev = am.platform_split(ctx.pack, ctx.period.previous())
    except NoData:
        prev = None
    return PlatformView(cur, prev, ctx.settings.min_base)


def _activity_labels(lang: str) -> dict[str, str]:
    return {k: t(f"insights.activity.series.{k}", lang) for k in ("dau", "wau", "mau")}


def lang_subsection(key: str, compute: Callable[[Context], Any], chart: Callable[[Any, Context], Any],
                table: Callable[[Any, str], ui.Table | None], bullets: Callable[[Any, str], list[str]],
                facts_: Callable[[Any, Context], list[Fact]] | None = None) -> Subsection:
    """A :class:`Subsection` whose table and bullets are rendered from ``(result, lang)``."""
    return Subsection(key, compute=compute, chart=chart,
                      table=lambda r, ctx: table(r, ctx.lang), bullets=lambda r, ctx: bullets(r, ctx.lang),
                      facts=facts_)


SUBSECTIONS: list[Subsection] = [
    Subsection(
        "insights.activity", _activity,
        chart=lambda r, ctx: activity_chart(r, title=ctx.t("insights.activity.chart_title"),
                                            labels=_activity_labels(ctx.lang), lang=ctx.lang),
        table=lambda r, ctx: activity_table(r, ctx.lang),
        bullets=lambda r, ctx: activity_bullets(r, ctx.lang, first_day=ctx.data_first_day,
                                                incident_days=_incident_days(ctx)),
        facts=activity_facts),
    lang_subsection(
        "insights.platforms", _platforms,
        lambda r, ctx: platforms_chart(r, lang=ctx.lang, title=ctx.t("insights.platforms.chart_title")),
        platforms_table, platforms_bullets, platforms_facts),
]
