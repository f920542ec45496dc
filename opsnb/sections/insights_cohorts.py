"""The insights section, cohorts (03 数据分析与洞察): cohort retention, D1/D7/D30 on one matured base, lifecycle.

The numbers come from :mod:`opsnb.metrics.retention`, :mod:`~opsnb.metrics.new_users` and
:mod:`~opsnb.metrics.lifecycle`; shared helpers from :mod:`opsnb.sections.insights_activity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import lifecycle as lm
from opsnb.metrics import new_users as nm
from opsnb.metrics import retention as rm
from opsnb.metrics.rates import Rate
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection
from opsnb.sections.insights_activity import date_text, goals_fact, goals_labels, lang_subsection, span_text

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


# ---------------------------------------------------------------- retention


@dataclass(frozen=True)
class RetentionView:
    """A retention table with its weighted average and the settings that made it.

    ``new_users``: the period's new users counted three ways (None when the pack cannot say), and
    ``labels`` the goals page's names of ``new_users`` / ``paying_users`` (by built-in definition).
    """

    long: pd.DataFrame
    average: pd.DataFrame
    interval: str
    mode: str
    min_base: int = 30
    new_users: nm.NewUsers | None = None
    labels: dict[str, str] = field(default_factory=dict)
    period_label: str = ""


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
    """Cohorts × periods, each cell "rate (users)" on the cohort's own size; cells not yet over say so.

    No average row: its columns would average different cohorts (a later column only the oldest
    ones), a curve on changing bases that can rise with the period.
    """
    inc = t("insights.retention.incomplete", lang)
    rows = []
    for label, g in view.long.groupby("cohort_label", sort=False):
        row: dict[str, Any] = {t("insights.retention.col.cohort", lang): label,
                               t("insights.retention.col.size", lang): fmt.number(g["cohort_size"].iloc[0], lang,
                                                                                  compact=False)}
        for r in g.itertuples():
            if not r.complete:
                cell = inc
            elif fmt.is_missing(r.rate):
                cell = fmt.na(lang)
            else:
                cell = f"{fmt.pct(r.rate, lang)} ({fmt.number(r.users, lang, compact=False)})"
            row[_period_label(r.period, view.interval, lang)] = cell
        rows.append(row)
    return ui.table(pd.DataFrame(rows).fillna(""), lang)


def _period_label(k: Any, interval: str, lang: str) -> str:
    return t(f"insights.retention.period.{interval}", lang, k=int(k))


def _rises(long: pd.DataFrame) -> tuple[str, int, int, pd.Series | None]:
    """In the latest calendar period every cohort has complete, how many cohorts (seen twice) rose.

    Returns ``(calendar label, compared, rose, the largest riser's row with ``prev``)``: a cohort's
    rate in that period against its rate in the period before (both complete, k ≥ 2).
    """
    order = list(dict.fromkeys(long["cohort_label"]))
    pos = {c: i for i, c in enumerate(order)}
    d = long[long["complete"] & long["rate"].notna() & (long["period"] >= 1)].copy()
    if d.empty:
        return "", 0, 0, None
    d["cal"] = [pos[c] + int(k) for c, k in zip(d["cohort_label"], d["period"], strict=True)]
    m = int(d["cal"].max())
    now = d[(d["cal"] == m) & (d["period"] >= 2)].set_index("cohort_label")
    before = d[d["cal"] == m - 1].set_index("cohort_label")["rate"]
    now = now[now.index.isin(before.index)]
    if now.empty or m >= len(order):
        return "", 0, 0, None
    now = now.assign(prev=before.reindex(now.index).astype(float), rate=now["rate"].astype(float))
    up = now[now["rate"] > now["prev"]]
    best = None if up.empty else up.assign(gain=up["rate"] - up["prev"]).sort_values("gain").iloc[-1]
    return order[m], len(now), len(up), best


def retention_bullets(view: RetentionView, lang: str) -> list[str]:
    """Conclusion first: the latest complete cohort against the earlier ones (Newcombe decides whether
    it differs), cohorts that came back against the usual decay, and how the period's new users
    relate to the goals page's and the funnel's."""
    k = "insights.retention.bullet"
    name = t(f"insights.retention.next.{view.interval}", lang)
    out = []
    long = view.long
    latest = _latest(view)
    if latest is not None:
        last, r, pooled, verdict = latest
        kw = {"cohort": last["cohort_label"], "size": fmt.number(r.base, lang), "name": name,
              "rate": fmt.pct(r.value, lang)}
        if r.small(view.min_base):
            out.append(t(f"{k}.latest_small", lang, **kw, min=view.min_base))
        elif pooled is None:
            out.append(t(f"{k}.latest", lang, **kw))
        else:
            cohorts = int(((long["period"] == 1) & long["complete"] & (long["cohort_size"] > 0)).sum()) - 1
            out.append(t(f"{k}.latest_{verdict}", lang, **kw, avg=fmt.pct(pooled.value, lang), cohorts=cohorts,
                         gap=fmt.pp(abs(fmt.shown_ratio_change(r.value, pooled.value)), lang, signed=False)))
    cal, compared, rose, best = _rises(long)
    if best is not None and compared >= 3 and rose * 3 >= compared * 2:
        out.append(t(f"{k}.rise", lang, period=cal, rose=rose, compared=compared, cohort=best.name,
                     prev=fmt.pct(best["prev"], lang), rate=fmt.pct(best["rate"], lang)))
    if not out:
        out.append(t(f"{k}.none", lang))
    line = new_users_line(view.new_users, view.labels, view.period_label, lang)
    if line:
        out.append(line)
    return out


def new_users_line(nu: nm.NewUsers | None, labels: dict[str, str], period_label: str, lang: str) -> str:
    """One line relating the period's new users as the goals page, the cohort table and the funnel count them
    (nothing when the three agree)."""
    if nu is None:
        return ""
    counts = {nu.signed_up, nu.first_active} | ({nu.registered} if nu.registered is not None else set())
    if len(counts) == 1:
        return ""
    k = "insights.new_users"
    num = lambda v: fmt.number(v, lang)  # noqa: E731  (as the goals page shows a count)
    goal = t(f"{k}.goals_label", lang, label=labels["new_users"]) if labels.get("new_users") else ""
    parts = [t(f"{k}.signed_up", lang, n=num(nu.signed_up), goals=goal),
             t(f"{k}.first_active", lang, n=num(nu.first_active),
               cohort=t(f"{k}.cohort", lang, cohort=period_label) if period_label else "")]
    if nu.registered is not None:
        parts.append(t(f"{k}.registered", lang, n=num(nu.registered)))
    sep = "；" if lang == "zh" else "; "
    gaps = [t(f"{k}.gap.{g}", lang, n=num(v), as_of=date_text(nu.as_of, lang))
            for g, v in (("signed_up_never_active", nu.signed_up_never_active),
                         ("signed_up_active_elsewhere", nu.signed_up_active_elsewhere),
                         ("active_not_signed_up", nu.active_not_signed_up),
                         ("active_not_registered", nu.active_not_registered),
                         ("registered_not_active", nu.registered_not_active)) if v]
    day = ""
    if nu.day is not None and nu.day_users * 2 >= nu.differing:
        which = "one" if nu.differing == 1 else "all" if nu.day_users == nu.differing else "most"
        day = t(f"{k}.day_{which}", lang, n=num(nu.differing), k=num(nu.day_users), day=date_text(nu.day, lang))
    return t(f"{k}.line", lang, parts=sep.join(parts), gaps=("，" if lang == "zh" else ", ").join(gaps), day=day)


# ---------------------------------------------------------------- new vs returning (D-N)


@dataclass(frozen=True)
class DayNView:
    """D-N retention on the matured cohort, and the previous review's (None when it has none)."""

    current: rm.DayNRetention
    previous: rm.DayNRetention | None
    kind: str = "month"  # the review period's kind
    min_base: int = 30
    labels: dict[str, str] = field(default_factory=dict)


def _rate(res: rm.DayNRetention, group: str, n: int) -> Rate:
    row = res.table[(res.table["group"] == group) & (res.table["day_n"] == n)].iloc[0]
    return Rate(int(row["retained"]), int(row["users"]))


def day_n_chart(view: DayNView, *, lang: str, ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars: D-N retention of new and returning users (one base per group: bars fall with N)."""
    tab = view.current.table
    d = tab[(tab["group"] != "all") & tab["rate"].notna()].copy()
    d["day"] = [f"D{n}" for n in d["day_n"]]
    d["group"] = [t(f"insights.new_vs_returning.group.{g}", lang) for g in d["group"]]
    d["rate"] = d["rate"].astype(float)
    return charts.bar(d, x="day", y="rate", hue="group", ax=ax, title=title, unit="ratio")


def day_n_table(view: DayNView, lang: str) -> ui.Table:
    """One row per group: its base (users), then "rate (retained)" for each N; the caption names the base."""
    c = "insights.new_vs_returning.col"
    cur = view.current
    tab = cur.table
    rows = []
    for g in ("new", "returning", "all"):
        gd = tab[tab["group"] == g]
        row: dict[str, Any] = {t(f"{c}.group", lang): t(f"insights.new_vs_returning.group.{g}", lang),
                               t(f"{c}.users", lang): int(gd["users"].iloc[0])}
        for r in gd.itertuples():
            row[f"D{r.day_n}"] = fmt.na(lang) if fmt.is_missing(r.rate) else \
                f"{fmt.pct(r.rate, lang)} ({fmt.number(r.retained, lang, compact=False)})"
        rows.append(row)
    d30 = view.labels.get("retention_d30")
    cap = t("insights.new_vs_returning.caption", lang, span=span_text(cur.cohort, lang), as_of=date_text(cur.as_of, lang),
            n=cur.max_n, goals=t("insights.new_vs_returning.goals_d30", lang, label=d30) if d30 else "")
    return ui.table(pd.DataFrame(rows), lang, formats={t(f"{c}.users", lang): "int"}, caption=cap)


def day_n_bullets(view: DayNView, lang: str) -> list[str]:
    """Conclusion first: new users' longest-N retention against the previous review's (Newcombe), against
    returning users, and the share of new users never seen again after their first day."""
    k = "insights.new_vs_returning.bullet"
    cur, prev = view.current, view.previous
    n = cur.max_n
    out = []
    new, ret = _rate(cur, "new", n), _rate(cur, "returning", n)
    span = span_text(cur.cohort, lang)
    if new.base == 0:
        out.append(t(f"{k}.no_new", lang, span=span))
    elif new.small(view.min_base):
        out.append(t(f"{k}.small", lang, span=span, users=fmt.number(new.base, lang), min=view.min_base,
                     n=n, rate=fmt.pct(new.value, lang)))
    else:
        kw = {"span": span, "users": fmt.number(new.base, lang), "n": n, "rate": fmt.pct(new.value, lang)}
        old = _rate(prev, "new", n) if prev is not None else None
        if old is None or old.small(view.min_base):
            out.append(t(f"{k}.new", lang, **kw))
        else:
            kw |= {"prev_span": span_text(prev.cohort, lang) if prev else "", "prev": fmt.pct(old.value, lang),
                   "gap": fmt.pp(abs(fmt.shown_ratio_change(new.value, old.value)), lang, signed=False)}
            verdict = ("up" if (new.value or 0) > (old.value or 0) else "down") if new.differs_from(old) else "same"
            out.append(t(f"{k}.new_{verdict}", lang, **kw))
        if not ret.small(view.min_base):
            kw2 = {"n": n, "new": fmt.pct(new.value, lang), "returning": fmt.pct(ret.value, lang),
                   "gap": fmt.pp(abs(fmt.shown_ratio_change(new.value, ret.value)), lang, signed=False)}
            if new.differs_from(ret):
                out.append(t(f"{k}.vs_returning_{'higher' if (new.value or 0) > (ret.value or 0) else 'lower'}", lang,
                             **kw2))
            else:
                out.append(t(f"{k}.vs_returning_same", lang, **kw2))
        first = min(int(x) for x in cur.table["day_n"])
        d1 = _rate(cur, "new", first)
        out.append(t(f"{k}.never_back", lang, share=fmt.pct(1 - (d1.value or 0), lang),
                     users=fmt.number(d1.base - d1.num, lang), n=first, as_of=date_text(cur.as_of, lang)))
    return out


def day_n_facts(view: DayNView, ctx: Context) -> list[Fact]:
    """D-N retention of each group on its matured base, keyed by the base's first-active days."""
    cur = view.current
    where = facts.span(cur.cohort)
    out = []
    for r in cur.table.itertuples():
        out.append(facts.make(facts.key(f"retention.{r.group}", f"d{r.day_n}", where), None if fmt.is_missing(r.rate)
                              else float(r.rate), "ratio", fmt.pct(r.rate, ctx.lang), period=ctx.period.label,
                              source="insights.new_vs_returning",
                              definition=f"{r.group} users first active {where}: active on day {r.day_n} or later "
                                         f"by {cur.as_of}",
                              curve=f"retention.{r.group}@{where}", x=int(r.day_n), base=int(r.users),
                              last_day=cur.as_of))
    out += _day_n_verdicts(view, ctx)
    for g in ("new", "returning", "all"):
        base = int(cur.table.loc[cur.table["group"] == g, "users"].iloc[0])
        out.append(facts.make(facts.key(f"retention.{g}", "base", where), base, "count", fmt.number(base, ctx.lang),
                              period=ctx.period.label, source="insights.new_vs_returning",
                              definition=f"{g} users first active {where} (the D-N base)"))
    return out


def _day_n_verdicts(view: DayNView, ctx: Context) -> list[Fact]:
    """The sentences' comparisons: new users' longest-N retention against the previous review's and against
    returning users', each with its base (the smaller group) and the verdict given (None: shown with its n)."""
    cur, prev = view.current, view.previous
    n = cur.max_n
    new, ret = _rate(cur, "new", n), _rate(cur, "returning", n)
    if new.base == 0 or new.small(view.min_base):
        return []
    out = []
    where = facts.span(cur.cohort)
    old = _rate(prev, "new", n) if prev is not None else None
    pairs = [("vs_previous", old, "up", "down")] if old is not None and not old.small(view.min_base) else []
    if not ret.small(view.min_base):
        pairs.append(("vs_returning", ret, "higher", "lower"))
    for name, other, hi, lo in pairs:
        assert other is not None
        key = facts.key("retention.new", f"d{n}_{name}", where)
        definition = f"new users' D{n} retention against {name.removeprefix('vs_')}"
        kw: dict[str, Any] = {"period": ctx.period.label, "source": "insights.new_vs_returning", "base": min(new.base, other.base)}
        if not new.differs_from(other):  # "no significant difference": the sentence gives the two rates, no gap
            out.append(facts.make(key, other.value, "ratio", fmt.pct(other.value, ctx.lang), verdict="same",
                                  definition=definition, **kw))
            continue
        gap = fmt.shown_ratio_change(new.value, other.value)  # the sentence gives it unsigned ("低29.6个百分点")
        out.append(facts.change(key, gap, fmt.pp(abs(gap), ctx.lang, signed=False), now=new.value, before=other.value,
                                kind="pp", unit="ratio", verdict=hi if (new.value or 0) > (other.value or 0) else lo,
                                definition=definition, **kw))
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
        t(f"{c}.quick_ratio", lang): [fmt.na(lang) if fmt.is_missing(v) else f"{float(v):.2f}" for v in s["quick_ratio"]],
    })
    ints = {t(f"insights.lifecycle.status.{k}", lang): "int" for k in lm.STATUSES}
    ints[t(f"{c}.active", lang)] = "int"
    return ui.table(out, lang, formats=ints)


def _outlier(s: pd.DataFrame, min_base: int) -> list[tuple[str, Any, float, float]]:
    """The one period whose state stands out most from the other periods' median (``[(state, row, median,
    deviation)]``, or none): at least 20 % and three Poisson standard deviations (3·√median) away, on a median of
    at least ``min_base`` users; ``s`` the complete periods of :func:`~opsnb.metrics.lifecycle.lifecycle_summary`."""
    if len(s) < 4:
        return []
    best: tuple[float, str, int, float] | None = None
    for st in lm.STATUSES:
        v = s[st].abs().astype(float)
        for i in range(len(s)):
            med = float(v.drop(index=i).median())
            if med < min_base or abs(v[i] - med) < 3 * med ** 0.5:
                continue
            dev = fmt.relative_change(v[i], med)
            if best is None or abs(dev) > abs(best[0]):
                best = (dev, st, i, med)
    if best is None or abs(best[0]) < 0.2:
        return []
    dev, st, i, med = best
    return [(st, s.iloc[i], med, dev)]


def lifecycle_bullets(df: pd.DataFrame, lang: str, *, min_base: int = 30) -> list[str]:
    """Conclusion first: how the active base moved over the complete periods shown (and the median quick
    ratio), then the one period whose state stands out most from the others' median.

    A period stands out when its count is at least 20 % and three Poisson standard deviations (3·√median)
    away from the median of the other periods, on a median of at least ``min_base`` users.
    """
    s = lm.lifecycle_summary(df)
    s = s[s["complete"]].reset_index(drop=True)
    k = "insights.lifecycle.bullet"
    if s.empty:
        return [t(f"{k}.none", lang)]
    interval = "week" if str(s["label"].iloc[0]).count("-W") else "month"
    unit = t(f"insights.lifecycle.unit.{interval}", lang)
    num = lambda v: fmt.number(abs(int(v)), lang, compact=False)  # noqa: E731
    q = s["quick_ratio"].dropna().astype(float)
    out = []
    if len(s) > 1 and len(q):
        med_q = float(q.median())
        shown = round(med_q, 2)
        word = "grow" if shown > 1 else "shrink" if shown < 1 else "even"
        out.append(t(f"{k}.trend_{word}", lang, n=len(s), unit=unit, first=num(s["active"].iloc[0]),
                     last=num(s["active"].iloc[-1]),
                     change=fmt.change(s["active"].iloc[-1], s["active"].iloc[0], "count", lang),
                     q=f"{med_q:.2f}", first_label=s["label"].iloc[0], last_label=s["label"].iloc[-1]))
    elif len(q):
        cur = s.iloc[-1]
        out.append(t(f"{k}.one", lang, period=cur["label"], q=f"{float(cur['quick_ratio']):.2f}",
                     gain=num(cur["new"] + cur["resurrecting"]), loss=num(cur["dormant"])))
    for st, row, med, dev in _outlier(s, min_base):  # one period at most
        qr = row["quick_ratio"]
        out.append(t(f"{k}.outlier_{'high' if dev > 0 else 'low'}", lang, period=row["label"],
                     status=t(f"insights.lifecycle.status.{st}", lang), users=num(row[st]), unit=unit,
                     median=num(med), gap=fmt.pct(abs(dev), lang),
                     q=fmt.na(lang) if fmt.is_missing(qr) else f"{float(qr):.2f}"))
    return out or [t(f"{k}.none", lang)]


def lifecycle_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """The change of active users over the complete periods the first sentence gives, and the period that stands
    out, with the median it is judged against as its base (never on fewer than ``min_base`` users)."""
    s = lm.lifecycle_summary(df)
    s = s[s["complete"]].reset_index(drop=True)
    out: list[Fact] = []
    if len(s) > 1 and s["quick_ratio"].notna().any():
        a, b = s.iloc[0], s.iloc[-1]
        v = None if not a["active"] else fmt.relative_change(b["active"], a["active"])
        out.append(facts.change(facts.key("lifecycle.active", "change", f"{a['label']}..{b['label']}"), v,
                                fmt.change(b["active"], a["active"], "count", ctx.lang), now=b["active"],
                                before=a["active"], kind="relative", unit="count", period=ctx.period.label,
                                source="insights.lifecycle", definition="active users, first to last complete period"))
    for st, row, med, dev in _outlier(s, ctx.settings.min_base):
        out.append(facts.change(facts.key(f"lifecycle.{st}", "vs_median", str(row["label"])), dev,
                                fmt.pct(abs(dev), ctx.lang), now=abs(float(row[st])), before=med, kind="relative",
                                unit="count", period=ctx.period.label, source="insights.lifecycle", base=med,
                                verdict="high" if dev > 0 else "low",
                                definition="the period's users in the state against the other periods' median"))
    return out


# ---------------------------------------------------------------- subsections


def _latest(view: RetentionView) -> tuple[Any, Rate, Rate | None, str | None] | None:
    """The latest complete cohort's next-period retention, the earlier cohorts' pooled rate and the verdict the
    sentence gives (None on a base under ``min_base``: shown with its n), or None without a complete cohort."""
    long = view.long
    p1 = long[(long["period"] == 1) & long["complete"] & (long["cohort_size"] > 0)]
    if p1.empty:
        return None
    last, earlier = p1.iloc[-1], p1.iloc[:-1]
    r = Rate(int(last["users"]), int(last["cohort_size"]))
    if r.small(view.min_base) or earlier.empty:
        return last, r, None, None
    pooled = Rate(int(earlier["users"].sum()), int(earlier["cohort_size"].sum()))
    verdict = ("higher" if (r.value or 0) > (pooled.value or 0) else "lower") if r.differs_from(pooled) else "same"
    return last, r, pooled, verdict


def retention_facts(view: RetentionView, ctx: Context) -> list[Fact]:
    """The goals page's new users, as the line relating the three counts shows them; the latest complete cohort's
    next-period retention with its base and the verdict the sentence gives it."""
    out: list[Fact] = []
    latest = _latest(view)
    if latest is not None:
        last, r, pooled, verdict = latest
        out.append(facts.make(facts.key(f"retention.cohort.{last['cohort_label']}", f"next_{view.interval}",
                                        view.mode), r.value, "ratio", fmt.pct(r.value, ctx.lang),
                              period=ctx.period.label, source="insights.retention", base=r.base, verdict=verdict,
                              definition="the latest complete cohort's retention in its next period"))
    nu = view.new_users
    if nu is None or not new_users_line(nu, view.labels, view.period_label, ctx.lang):
        return out
    return out + goals_fact(ctx, "new_users", nu.signed_up, "insights.retention")


def _new_users(ctx: Context) -> nm.NewUsers | None:
    s = ctx.settings.insights
    if not (ctx.pack.has("users") and ctx.pack.has("events")):
        return None
    try:
        return nm.new_users(ctx.pack, ctx.period, steps=s.funnel_steps, window_days=s.funnel_window_days,
                            entry=s.funnel_entry)
    except NoData:
        return None


def _retention(ctx: Context) -> RetentionView:
    s = ctx.settings.insights
    long = rm.retention(ctx.pack, ctx.period, interval=s.retention_period, mode=s.retention_mode,
                        cohorts=s.retention_cohorts, start_event=s.retention_start_event,
                        return_event=s.retention_return_event)
    # the cohort row holding the period's first-active users exists only for a monthly table and a month
    cohort = ctx.period.label if s.retention_period == "month" and ctx.period.kind == "month" else ""
    return RetentionView(long, rm.retention_average(long), s.retention_period, s.retention_mode,
                         ctx.settings.min_base, _new_users(ctx), goals_labels(ctx), cohort)


def _day_n(ctx: Context) -> DayNView:
    days = ctx.settings.insights.day_n
    cur = rm.day_n_retention(ctx.pack, ctx.period, days=days)
    try:
        prev = rm.day_n_retention(ctx.pack, ctx.period.previous(), days=days)
    except NoData:
        prev = None
    return DayNView(cur, prev, ctx.period.kind, ctx.settings.min_base, goals_labels(ctx))


def _lifecycle(ctx: Context) -> pd.DataFrame:
    s = ctx.settings.insights
    return lm.lifecycle(ctx.pack, ctx.period, interval=s.lifecycle_interval, periods=s.lifecycle_periods)


SUBSECTIONS: list[Subsection] = [
    lang_subsection(
        "insights.retention", _retention,
        lambda r, ctx: retention_chart(
            r, title=ctx.t("insights.retention.chart_title", mode=ctx.t(f"insights.retention.mode.{r.mode}")),
            xlabel=ctx.t(f"insights.retention.axis.{r.interval}"), ylabel=ctx.t("insights.retention.col.cohort")),
        retention_table, retention_bullets, retention_facts),
    lang_subsection(
        "insights.new_vs_returning", _day_n,
        lambda r, ctx: day_n_chart(r, lang=ctx.lang, title=ctx.t("insights.new_vs_returning.chart_title")),
        day_n_table, day_n_bullets, day_n_facts),
    Subsection(
        "insights.lifecycle", _lifecycle,
        chart=lambda r, ctx: lifecycle_chart(
            r, labels={k: ctx.t(f"insights.lifecycle.status.{k}") for k in lm.STATUSES},
            title=ctx.t("insights.lifecycle.chart_title"), lang=ctx.lang),
        table=lambda r, ctx: lifecycle_table(r, ctx.lang),
        bullets=lambda r, ctx: lifecycle_bullets(r, ctx.lang, min_base=ctx.settings.min_base),
        facts=lifecycle_facts),
]
