"""The insights section, part A (03 数据分析与洞察): activity, platforms, retention, lifecycle, funnels.

Every function takes a metrics result first and returns an Axes, a table or bullets; the numbers
come from :mod:`opsnb.metrics.activity`, :mod:`~opsnb.metrics.retention`,
:mod:`~opsnb.metrics.lifecycle` and :mod:`~opsnb.metrics.funnel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics import activity as am
from opsnb.metrics import funnel as fm
from opsnb.metrics import lifecycle as lm
from opsnb.metrics import retention as rm
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


def _col(key: str, lang: str) -> str:
    return t(f"insights.activity.col.{key}", lang)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or fmt.is_missing(v)


def _direction(delta: float, lang: str) -> str:
    """"高"/"低"/"持平" for comparisons in bullets."""
    key = "flat" if abs(delta) < 1e-12 else ("higher" if delta > 0 else "lower")
    return t(f"insights.activity.word.{key}", lang)


def _pp_phrase(new: Any, old: Any, lang: str) -> str | None:
    """"较上月高5.0个百分点"-style tail without the prefix; None when undefined."""
    if _missing(new) or _missing(old):
        return None
    d = float(new) - float(old)
    if abs(d) < 5e-4:  # rounds to 0.0 points
        return t("insights.activity.word.flat", lang)
    return t("insights.activity.word.pp_change", lang, dir=_direction(d, lang), pp=fmt.pp(abs(d), lang, signed=False))


def _prev_word(kind: str, lang: str) -> str:
    """"上月" / "上季度" / "上年" (the previous period of the review's kind)."""
    return t(f"insights.activity.word.prev_{kind}", lang)


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


def activity_table(res: am.ActivityResult, lang: str) -> ui.Table:
    """Average DAU, MAU and stickiness: this period, previous, last year, MoM and YoY."""
    cur, prev, ly = res.summary, res.previous, res.last_year
    rows = []
    for key, unit in (("avg_dau", "count"), ("mau", "count"), ("stickiness", "ratio")):
        c = getattr(cur, key)
        p = getattr(prev, key) if prev else None
        y = getattr(ly, key) if ly else None
        rows.append({
            _col("metric", lang): _col(key, lang),
            _col("current", lang): fmt.value(c, unit, lang),
            _col("previous", lang): fmt.value(p, unit, lang) if prev else fmt.na(lang),
            _col("mom", lang): fmt.change(c, p, unit, lang) if prev else fmt.na(lang),
            _col("last_year", lang): fmt.value(y, unit, lang) if ly else fmt.na(lang),
            _col("yoy", lang): fmt.change(c, y, unit, lang) if ly else fmt.na(lang),
        })
    return ui.table(pd.DataFrame(rows), lang)


def activity_bullets(res: am.ActivityResult, lang: str) -> list[str]:
    """Written-review lines: average DAU with MoM/YoY, MAU, stickiness and the peak day."""
    cur, prev, ly = res.summary, res.previous, res.last_year
    k = "insights.activity.bullet"
    no_data = t("insights.activity.word.no_data", lang)
    out = [t(f"{k}.dau", lang, dau=fmt.number(cur.avg_dau, lang, digits=1 if cur.avg_dau < 100 else 0),
             mom=fmt.change(cur.avg_dau, prev.avg_dau, "count", lang) if prev else fmt.na(lang, no_data),
             yoy=fmt.change(cur.avg_dau, ly.avg_dau, "count", lang) if ly else fmt.na(lang, no_data))]
    out.append(t(f"{k}.mau", lang, mau=fmt.number(cur.mau, lang),
                 mom=fmt.change(cur.mau, prev.mau, "count", lang) if prev else fmt.na(lang)))
    stick = fmt.pct(cur.stickiness, lang) if cur.stickiness is not None else fmt.na(lang)
    tail = _pp_phrase(cur.stickiness, prev.stickiness if prev else None, lang)
    out.append(t(f"{k}.stickiness", lang, stickiness=stick,
                 change=t(f"{k}.vs_previous", lang, prev=_prev_word(cur.period.kind, lang), change=tail) if tail else ""))
    if len(res.daily) and res.daily["dau"].max() > 0:
        peak = res.daily.iloc[int(res.daily["dau"].to_numpy().argmax())]
        out.append(t(f"{k}.peak", lang, day=_day(peak["date"], lang), dau=fmt.number(peak["dau"], lang)))
    return out


def _day(ts: Any, lang: str) -> str:
    d = pd.Timestamp(ts)
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b")


# ---------------------------------------------------------------- platforms


def platforms_chart(df: pd.DataFrame, *, lang: str, ax: Any = None, title: str | None = None) -> Any:
    """Active users by platform (bars); None for a single platform (a one-bar chart says nothing: the bullet does)."""
    if len(df) <= 1:
        return None
    d = df.assign(platform=[_platform(v, lang) for v in df["platform"]])
    return charts.bar(d, x="platform", y="users", ax=ax, title=title, unit="count", lang=lang)


def platforms_table(df: pd.DataFrame, lang: str) -> ui.Table:
    """Users, events and their shares by platform."""
    out = pd.DataFrame({
        _col("platform", lang): [_platform(v, lang) for v in df["platform"]],
        _col("users", lang): df["users"].astype(int).tolist(),
        _col("user_share", lang): df["user_share"].tolist(),
        _col("events", lang): df["events"].astype(int).tolist(),
        _col("event_share", lang): df["event_share"].tolist(),
    })
    fm_ = {_col("users", lang): "int", _col("events", lang): "int",
           _col("user_share", lang): "ratio", _col("event_share", lang): "ratio"}
    return ui.table(out, lang, formats=fm_)


def platforms_bullets(df: pd.DataFrame, lang: str) -> list[str]:
    """The leading platform and each platform's share of active users."""
    if df.empty:
        return []
    top = df.iloc[0]
    if len(df) == 1:
        return [t("insights.platforms.bullet.single", lang, platform=_platform(top["platform"], lang),
                  users=fmt.number(top["users"], lang))]
    parts = [t("insights.platforms.bullet.part", lang, platform=_platform(p, lang), share=fmt.pct(s, lang))
             for p, s in zip(df["platform"], df["user_share"], strict=True)]
    sep = "，" if lang == "zh" else ", "
    return [t("insights.platforms.bullet.top", lang, platform=_platform(top["platform"], lang),
              share=fmt.pct(top["user_share"], lang)),
            t("insights.platforms.bullet.all", lang, parts=sep.join(parts))]


# ---------------------------------------------------------------- retention


@dataclass(frozen=True)
class RetentionView:
    """A retention table with its weighted average and the settings that made it."""

    long: pd.DataFrame
    average: pd.DataFrame
    interval: str
    mode: str


def retention_matrix(long: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rate matrix (cohort × period) and the mask of cells to hide (incomplete, absent or empty)."""
    rates = long.pivot(index="cohort_label", columns="period", values="rate")
    order = long.drop_duplicates("cohort_label")["cohort_label"]
    rates = rates.reindex(order).astype("float64")
    done = long.pivot(index="cohort_label", columns="period", values="complete").reindex(order)
    mask = ~(done.fillna(False).astype(bool)) | rates.isna()
    return rates, mask


def retention_chart(view: RetentionView, *, ax: Any = None, title: str | None = None,
                    xlabel: str | None = None, ylabel: str | None = None) -> Any:
    """Cohort heatmap of retention rates; incomplete cells masked (blank, not 0 %)."""
    rates, mask = retention_matrix(view.long)
    return charts.heatmap(rates, ax=ax, title=title, xlabel=xlabel, ylabel=ylabel, mask=mask, fmt=".0%")


def retention_table(view: RetentionView, lang: str) -> ui.Table:
    """Cohorts × periods, each cell "rate (users)"; incomplete cells say so; a weighted average row."""
    inc = t("insights.retention.incomplete", lang)
    rows = []
    for label, g in view.long.groupby("cohort_label", sort=False):
        row: dict[str, Any] = {t("insights.retention.col.cohort", lang): label,
                               t("insights.retention.col.size", lang): fmt.number(g["cohort_size"].iloc[0], lang,
                                                                                  compact=False)}
        for r in g.itertuples():
            if not r.complete:
                cell = inc
            elif _missing(r.rate):
                cell = fmt.na(lang)
            else:
                cell = f"{fmt.pct(r.rate, lang)} ({fmt.number(r.users, lang, compact=False)})"
            row[_period_label(r.period, view.interval, lang)] = cell
        rows.append(row)
    avg = {t("insights.retention.col.cohort", lang): t("insights.retention.average", lang),
           t("insights.retention.col.size", lang): fmt.number(view.average["cohort_size"].iloc[0]
                                                              if len(view.average) else 0, lang, compact=False)}
    for r in view.average.itertuples():
        avg[_period_label(r.period, view.interval, lang)] = fmt.na(lang) if _missing(r.rate) else fmt.pct(r.rate, lang)
    rows.append(avg)
    return ui.table(pd.DataFrame(rows).fillna(""), lang)


def _period_label(k: Any, interval: str, lang: str) -> str:
    return t(f"insights.retention.period.{interval}", lang, k=int(k))


def retention_bullets(view: RetentionView, lang: str) -> list[str]:
    """Period-1 retention of the latest complete cohort against the one before, and the averages."""
    k = "insights.retention.bullet"
    name = t(f"insights.retention.next.{view.interval}", lang)
    out = []
    p1 = view.long[(view.long["period"] == 1) & view.long["complete"] & view.long["rate"].notna()]
    if len(p1):
        last = p1.iloc[-1]
        tail = _pp_phrase(last["rate"], p1.iloc[-2]["rate"], lang) if len(p1) > 1 else None
        out.append(t(f"{k}.latest", lang, cohort=last["cohort_label"], name=name, rate=fmt.pct(last["rate"], lang),
                     change=t(f"{k}.vs_cohort", lang, change=tail) if tail else ""))
    avg = view.average[view.average["period"] > 0].dropna(subset=["rate"])
    for r in avg.head(3).itertuples():
        out.append(t(f"{k}.average", lang, period=_period_label(r.period, view.interval, lang),
                     rate=fmt.pct(r.rate, lang), cohorts=r.cohorts))
    if not out:
        out.append(t(f"{k}.none", lang))
    return out


# ---------------------------------------------------------------- new vs returning (D-N)


@dataclass(frozen=True)
class DayNView:
    """D-N retention of the period and of the previous period (None when it has no events)."""

    current: pd.DataFrame
    previous: pd.DataFrame | None
    kind: str = "month"  # the review period's kind, for "较上月" / "较上季度"


def day_n_chart(view: DayNView, *, lang: str, ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars: D-N retention of new and returning users."""
    d = view.current[(view.current["group"] != "all") & view.current["rate"].notna()].copy()
    d["day"] = [f"D{n}" for n in d["day_n"]]
    d["group"] = [t(f"insights.new_vs_returning.group.{g}", lang) for g in d["group"]]
    d["rate"] = d["rate"].astype(float)
    return charts.bar(d, x="day", y="rate", hue="group", ax=ax, title=title, unit="ratio")


def day_n_table(view: DayNView, lang: str) -> ui.Table:
    """Per group and day N: users, eligible, retained, rate."""
    c = "insights.new_vs_returning.col"
    df = view.current
    out = pd.DataFrame({
        t(f"{c}.group", lang): [t(f"insights.new_vs_returning.group.{g}", lang) for g in df["group"]],
        t(f"{c}.day_n", lang): [f"D{n}" for n in df["day_n"]],
        t(f"{c}.users", lang): df["users"].astype(int).tolist(),
        t(f"{c}.eligible", lang): df["eligible"].astype(int).tolist(),
        t(f"{c}.retained", lang): df["retained"].astype(int).tolist(),
        t(f"{c}.rate", lang): [fmt.na(lang) if _missing(r) else fmt.pct(r, lang) for r in df["rate"]],
    })
    ints = {t(f"{c}.{k}", lang): "int" for k in ("users", "eligible", "retained")}
    return ui.table(out, lang, formats=ints)


def day_n_bullets(view: DayNView, lang: str) -> list[str]:
    """"30日留存率65.0%，较上月高5.0个百分点" for each N; then new against returning users."""
    k = "insights.new_vs_returning.bullet"
    cur = view.current.set_index(["group", "day_n"])
    prev = view.previous.set_index(["group", "day_n"]) if view.previous is not None else None
    out = []
    for n in sorted(view.current["day_n"].unique()):
        r = cur.loc[("all", n), "rate"]
        if _missing(r):
            out.append(t(f"{k}.pending", lang, n=n))
            continue
        old = prev.loc[("all", n), "rate"] if prev is not None and ("all", n) in prev.index else None
        tail = _pp_phrase(r, old, lang)
        out.append(t(f"{k}.all", lang, n=n, rate=fmt.pct(r, lang),
                     change=t(f"{k}.vs_previous", lang, prev=_prev_word(view.kind, lang), change=tail) if tail else ""))
    for n in sorted(view.current["day_n"].unique()):
        new, ret = cur.loc[("new", n), "rate"], cur.loc[("returning", n), "rate"]
        if not _missing(new) and not _missing(ret):
            out.append(t(f"{k}.compare", lang, n=n, new=fmt.pct(new, lang), returning=fmt.pct(ret, lang),
                         change=_pp_phrase(new, ret, lang)))
            break
    return out


# ---------------------------------------------------------------- lifecycle


def lifecycle_chart(df: pd.DataFrame, *, labels: dict[str, str], ax: Any = None, title: str | None = None,
                    lang: str = "zh") -> Any:
    """Stacked bars per period: new, returning, resurrecting above zero, dormant below; hatched if incomplete."""
    ax = charts.new_ax(ax, figsize=(9.0, 3.8))
    wide = df.pivot(index="label", columns="status", values="users").reindex(df["label"].unique())
    done = df.groupby("label", sort=False)["complete"].first()
    colours = {"new": PALETTE["accent"], "returning": PALETTE["good"], "resurrecting": PALETTE["warn"],
               "dormant": PALETTE["bad"]}
    x = list(range(len(wide)))
    bottom = [0.0] * len(wide)
    for s in ("new", "returning", "resurrecting"):
        vals = [float(v) for v in wide[s]]
        ax.bar(x, vals, bottom=bottom, color=colours[s], label=labels[s],
               hatch=None, alpha=1.0)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.bar(x, [float(v) for v in wide["dormant"]], color=colours["dormant"], label=labels["dormant"])
    for i, ok in enumerate(done.reindex(wide.index)):
        if not ok:
            ax.bar([i], [bottom[i]], fill=False, hatch="//", edgecolor="#333333", linewidth=0)
    ax.axhline(0, color="#333333", linewidth=0.8)
    charts.format_axis(ax, "y", "count", lang)
    ax.set_xticks(x, list(wide.index), rotation=30)
    ax.legend(loc="best", fontsize=8, ncols=4)
    if title:
        ax.set_title(title)
    return ax


def lifecycle_table(df: pd.DataFrame, lang: str) -> ui.Table:
    """One row per period: the four states, active users and the quick ratio."""
    s = lm.lifecycle_summary(df)
    c = "insights.lifecycle.col"
    out = pd.DataFrame({
        t(f"{c}.period", lang): [lab if ok else f"{lab} {t('insights.lifecycle.partial', lang)}"
                                 for lab, ok in zip(s["label"], s["complete"], strict=True)],
        **{t(f"insights.lifecycle.status.{k}", lang): s[k].astype(int).tolist() for k in lm.STATUSES},
        t(f"{c}.active", lang): s["active"].astype(int).tolist(),
        t(f"{c}.quick_ratio", lang): [fmt.na(lang) if _missing(v) else f"{float(v):.2f}" for v in s["quick_ratio"]],
    })
    ints = {t(f"insights.lifecycle.status.{k}", lang): "int" for k in lm.STATUSES}
    ints[t(f"{c}.active", lang)] = "int"
    return ui.table(out, lang, formats=ints)


def lifecycle_bullets(df: pd.DataFrame, lang: str) -> list[str]:
    """The latest complete period's states, against the period before, and its quick ratio."""
    s = lm.lifecycle_summary(df)
    s = s[s["complete"]].reset_index(drop=True)
    k = "insights.lifecycle.bullet"
    if s.empty:
        return [t(f"{k}.none", lang)]
    cur = s.iloc[-1]
    prev = s.iloc[-2] if len(s) > 1 else None
    num = lambda v: fmt.number(abs(int(v)), lang, compact=False)  # noqa: E731
    out = [t(f"{k}.states", lang, period=cur["label"], new=num(cur["new"]), returning=num(cur["returning"]),
             resurrecting=num(cur["resurrecting"]), dormant=num(cur["dormant"]))]
    if prev is not None:
        out.append(t(f"{k}.active", lang, active=num(cur["active"]),
                     change=fmt.change(cur["active"], prev["active"], "count", lang),
                     dormant_change=fmt.change(-cur["dormant"], -prev["dormant"], "count", lang)))
    q = cur["quick_ratio"]
    if not _missing(q):
        out.append(t(f"{k}.quick_ratio_{'grow' if q >= 1 else 'shrink'}", lang, q=f"{float(q):.2f}"))
    return out


# ---------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelView:
    """The overall funnel and, when available, its split by a breakdown column."""

    overall: pd.DataFrame
    split: pd.DataFrame | None
    by: str | None
    window_days: int

    @property
    def flat(self) -> bool:
        """Whether every user of the first step reached the last (no drop-off anywhere)."""
        return bool((self.overall["drop_off"].astype(int) == 0).all())


def funnel_chart(view: FunnelView, *, ax: Any = None, title: str | None = None, lang: str = "zh") -> Any:
    """Horizontal funnel bars (users per step) labelled with overall and step conversion (None when no one drops)."""
    if view.flat:
        return None
    d = view.overall
    ax = charts.new_ax(ax, figsize=(8.0, max(2.2, 0.6 * len(d) + 0.8)))
    y = list(range(len(d)))
    ax.barh(y, [float(v) for v in d["users"]], color=PALETTE["accent"])
    top = float(d["users"].max()) or 1.0
    for i, (users, overall) in enumerate(zip(d["users"].astype(int), d["overall"], strict=True)):
        ax.text(float(users) + top * 0.01, i, f"{users:,}  {fmt.pct(overall, 'en')}", va="center", fontsize=8)
    ax.set_yticks(y, [event_name(e, lang) for e in d["event"]])
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.25)
    charts.format_axis(ax, "x", "count", lang)
    if title:
        ax.set_title(title)
    return ax


def funnel_table(view: FunnelView, lang: str) -> ui.Table | None:
    """Steps with users, overall and step conversion, drop-off; then overall conversion per group."""
    if view.flat:
        return None
    c = "insights.funnel.col"
    d = view.overall
    out = pd.DataFrame({
        t(f"{c}.step", lang): [f"{s}. {event_name(e, lang)}" for s, e in zip(d["step"], d["event"], strict=True)],
        t(f"{c}.users", lang): d["users"].astype(int).tolist(),
        t(f"{c}.overall", lang): d["overall"].astype(float).tolist(),
        t(f"{c}.step_rate", lang): [None if _missing(v) else float(v) for v in d["step_rate"]],
        t(f"{c}.drop_off", lang): d["drop_off"].astype(int).tolist(),
    })
    formats = {t(f"{c}.users", lang): "int", t(f"{c}.overall", lang): "ratio", t(f"{c}.step_rate", lang): "ratio",
               t(f"{c}.drop_off", lang): "int"}
    if view.split is not None:
        for g, gd in view.split.groupby("group", sort=False, dropna=False):
            name = t(f"{c}.group_overall", lang, group=_platform(g, lang))
            out[name] = [None if _missing(v) else float(v) for v in gd["overall"]]
            formats[name] = "ratio"
    return ui.table(out, lang, formats=formats)


def funnel_bullets(view: FunnelView, lang: str) -> list[str]:
    """Overall conversion, the biggest drop-off and the best and worst groups."""
    k = "insights.funnel.bullet"
    d = view.overall
    last = d.iloc[-1]
    if view.flat:  # 100% → 100%: the data make every step follow from the first (a sentence, not a funnel)
        return [t(f"{k}.flat", lang, first=event_name(d.iloc[0]["event"], lang), last=event_name(last["event"], lang),
                  users=fmt.number(d.iloc[0]["users"], lang))]
    out = [t(f"{k}.overall", lang, first=event_name(d.iloc[0]["event"], lang), last=event_name(last["event"], lang), rate=fmt.pct(last["overall"], lang),
             users=fmt.number(d.iloc[0]["users"], lang), converted=fmt.number(last["users"], lang),
             days=view.window_days)]
    steps = d.iloc[1:]
    steps = steps[steps["step_rate"].notna()]
    if len(steps) and int(steps["drop_off"].max()) > 0:
        worst = steps.iloc[int(steps["step_rate"].astype(float).to_numpy().argmin())]
        prev_event = d.loc[d["step"] == worst["step"] - 1, "event"].iloc[0]
        out.append(t(f"{k}.drop", lang, src=event_name(prev_event, lang), dst=event_name(worst["event"], lang), rate=fmt.pct(worst["step_rate"], lang),
                     lost=fmt.number(worst["drop_off"], lang)))
    if view.split is not None:
        fin = view.split[(view.split["step"] == len(d)) & view.split["overall"].notna()]
        if len(fin) > 1:
            fin = fin.sort_values("overall", ascending=False, kind="stable")
            best, worst_g = fin.iloc[0], fin.iloc[-1]
            out.append(t(f"{k}.groups", lang, best=_platform(best["group"], lang), best_rate=fmt.pct(best["overall"], lang),
                         worst=_platform(worst_g["group"], lang), worst_rate=fmt.pct(worst_g["overall"], lang),
                         gap=fmt.pp(float(best["overall"]) - float(worst_g["overall"]), lang, signed=False)))
    return out


# ---------------------------------------------------------------- subsections


def _activity(ctx: Context) -> am.ActivityResult:
    return ctx.memo("insights.activity", lambda: am.activity(ctx.pack, ctx.period))


def _retention(ctx: Context) -> RetentionView:
    s = ctx.settings.insights
    long = rm.retention(ctx.pack, ctx.period, interval=s.retention_period, mode=s.retention_mode,
                        cohorts=s.retention_cohorts, start_event=s.retention_start_event,
                        return_event=s.retention_return_event)
    return RetentionView(long, rm.retention_average(long), s.retention_period, s.retention_mode)


def _day_n(ctx: Context) -> DayNView:
    days = ctx.settings.insights.day_n
    cur = rm.day_n_retention(ctx.pack, ctx.period, days=days)
    try:
        prev = rm.day_n_retention(ctx.pack, ctx.period.previous(), days=days)
    except NoData:
        prev = None
    return DayNView(cur, prev, ctx.period.kind)


def _lifecycle(ctx: Context) -> pd.DataFrame:
    s = ctx.settings.insights
    return lm.lifecycle(ctx.pack, ctx.period, interval=s.lifecycle_interval, periods=s.lifecycle_periods)


def _funnel(ctx: Context) -> FunnelView:
    s = ctx.settings.insights
    overall = fm.funnel(ctx.pack, ctx.period, steps=s.funnel_steps, window_days=s.funnel_window_days)
    split = None
    if s.funnel_breakdown is not None:
        try:
            split = fm.funnel(ctx.pack, ctx.period, steps=s.funnel_steps, window_days=s.funnel_window_days,
                              by=s.funnel_breakdown)
        except NoData:  # no users table or no breakdown column: show the overall funnel only
            split = None
        if split is not None and split["group"].nunique(dropna=False) <= 1:
            split = None  # one group (e.g. every user's channel unknown) is the overall funnel again
    return FunnelView(overall, split, s.funnel_breakdown if split is not None else None, s.funnel_window_days)


def _activity_labels(lang: str) -> dict[str, str]:
    return {k: t(f"insights.activity.series.{k}", lang) for k in ("dau", "wau", "mau")}


def _subsection(key: str, compute: Callable[[Context], Any], chart: Callable[[Any, Context], Any],
                table: Callable[[Any, str], ui.Table | None], bullets: Callable[[Any, str], list[str]]) -> Subsection:
    """A :class:`Subsection` whose table and bullets are rendered from ``(result, lang)``."""
    return Subsection(key, compute=compute, chart=chart,
                      table=lambda r, ctx: table(r, ctx.lang), bullets=lambda r, ctx: bullets(r, ctx.lang))


SUBSECTIONS: list[Subsection] = [
    _subsection(
        "insights.activity", _activity,
        lambda r, ctx: activity_chart(r, title=ctx.t("insights.activity.chart_title"),
                                      labels=_activity_labels(ctx.lang), lang=ctx.lang),
        activity_table, activity_bullets),
    _subsection(
        "insights.platforms", lambda ctx: am.platform_split(ctx.pack, ctx.period),
        lambda r, ctx: platforms_chart(r, lang=ctx.lang, title=ctx.t("insights.platforms.chart_title")),
        platforms_table, platforms_bullets),
    _subsection(
        "insights.retention", _retention,
        lambda r, ctx: retention_chart(
            r, title=ctx.t("insights.retention.chart_title", mode=ctx.t(f"insights.retention.mode.{r.mode}")),
            xlabel=ctx.t(f"insights.retention.axis.{r.interval}"), ylabel=ctx.t("insights.retention.col.cohort")),
        retention_table, retention_bullets),
    _subsection(
        "insights.new_vs_returning", _day_n,
        lambda r, ctx: day_n_chart(r, lang=ctx.lang, title=ctx.t("insights.new_vs_returning.chart_title")),
        day_n_table, day_n_bullets),
    _subsection(
        "insights.lifecycle", _lifecycle,
        lambda r, ctx: lifecycle_chart(
            r, labels={k: ctx.t(f"insights.lifecycle.status.{k}") for k in lm.STATUSES},
            title=ctx.t("insights.lifecycle.chart_title"), lang=ctx.lang),
        lifecycle_table, lifecycle_bullets),
    _subsection(
        "insights.funnel", _funnel,
        lambda r, ctx: funnel_chart(r, title=ctx.t("insights.funnel.chart_title", days=r.window_days), lang=ctx.lang),
        funnel_table, funnel_bullets),
]
