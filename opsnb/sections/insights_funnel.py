"""The insights section, funnel (03 数据分析与洞察): an ordered funnel on its entry population.

The numbers come from :mod:`opsnb.metrics.funnel`; shared helpers from :mod:`opsnb.sections.insights_activity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import funnel as fm
from opsnb.metrics.rates import Rate
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection
from opsnb.sections.insights_activity import date_text, day_text, event_name, goals_fact, goals_labels, lang_subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context

#: The event a funnel's buyers do (the shared event vocabulary, ``opsnb.pack.schemas.EVENT_NAMES``).
PURCHASE = "purchase"


# ---------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelView:
    """The overall funnel, its split by a breakdown column (when available) and how its buyers meet the
    period's paying users (``payers``; None when the funnel does not end in a purchase)."""

    overall: pd.DataFrame
    split: pd.DataFrame | None
    by: str | None
    window_days: int
    payers: fm.FunnelPayers | None = None
    min_base: int = 30
    labels: dict[str, str] = field(default_factory=dict)

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


def _entry_words(view: FunnelView, lang: str) -> str:
    """Who enters: "本期首次“访问”时尚未完成“注册”及之后步骤的用户" / every user of step 1."""
    d = view.overall
    first, second = event_name(d.iloc[0]["event"], lang), event_name(d.iloc[1]["event"], lang)
    return t(f"insights.funnel.entry.{d.attrs.get('entry', 'all')}", lang, first=first, second=second)


def funnel_table(view: FunnelView, lang: str) -> ui.Table | None:
    """Steps with users, overall and step conversion and drop-off; the caption names the entry population.

    The split by group is the explorer's table below (one row per group, with its own base).
    """
    if view.flat:
        return None
    c = "insights.funnel.col"
    d = view.overall
    out = pd.DataFrame({
        t(f"{c}.step", lang): [f"{s}. {event_name(e, lang)}" for s, e in zip(d["step"], d["event"], strict=True)],
        t(f"{c}.users", lang): d["users"].astype(int).tolist(),
        t(f"{c}.overall", lang): d["overall"].astype(float).tolist(),
        t(f"{c}.step_rate", lang): [None if fmt.is_missing(v) else float(v) for v in d["step_rate"]],
        t(f"{c}.drop_off", lang): d["drop_off"].astype(int).tolist(),
    })
    formats = {t(f"{c}.users", lang): "int", t(f"{c}.overall", lang): "ratio", t(f"{c}.step_rate", lang): "ratio",
               t(f"{c}.drop_off", lang): "int"}
    cap = t("insights.funnel.caption", lang, entry=_entry_words(view, lang), days=view.window_days,
            as_of=date_text(d.attrs["as_of"], lang)) if "as_of" in d.attrs else None
    return ui.table(out, lang, formats=formats, caption=cap)


def funnel_bullets(view: FunnelView, lang: str) -> list[str]:
    """Ranked: who entered and how many converted; the weakest step; entrants whose window is not over;
    whether groups differ (Newcombe); how the funnel's buyers relate to the period's paying users."""
    k = "insights.funnel.bullet"
    d = view.overall
    a = d.attrs
    last = d.iloc[-1]
    first_name, last_name = event_name(d.iloc[0]["event"], lang), event_name(last["event"], lang)
    n1 = int(d.iloc[0]["users"])
    if view.flat:  # 100% → 100%: the data make every step follow from the first (a sentence, not a funnel)
        return [t(f"{k}.flat", lang, first=first_name, last=last_name, users=fmt.number(n1, lang))]
    excluded = int(a.get("excluded", 0))
    out = [t(f"{k}.overall", lang, entry=_entry_words(view, lang), users=fmt.number(n1, lang),
             converted=fmt.number(last["users"], lang), last=last_name, days=view.window_days,
             rate=fmt.pct(last["overall"], lang),
             excluded=t(f"{k}.excluded", lang, n=fmt.number(excluded, lang), first=first_name,
                        second=event_name(d.iloc[1]["event"], lang)) if excluded else "")]
    out += _weakest_step(view, lang)
    open_n = int(a.get("open_window", 0))
    if open_n and "as_of" in a:
        full = n1 - open_n
        cut = a["as_of"] - timedelta(days=view.window_days - 1)
        out.append(t(f"{k}.open_window", lang, n=fmt.number(open_n, lang), day=day_text(cut, lang),
                     as_of=day_text(a["as_of"], lang), days=view.window_days, full=fmt.number(full, lang),
                     rate=fmt.pct(a["full_window_converted"] / full, lang) if full else fmt.na(lang)))
    if view.split is not None:
        out += _group_bullets(view, lang)
    if view.payers is not None and view.payers.payers:
        p = view.payers
        label = t(f"{k}.goals_label", lang, label=view.labels["paying_users"]) if view.labels.get("paying_users") \
            else ""
        out.append(t(f"{k}.payers" if p.others else f"{k}.payers_all", lang, payers=fmt.number(p.payers, lang),
                     goals=label,
                     entrants=fmt.number(p.entrants, lang), others=fmt.number(p.others, lang), last=last_name,
                     converted=fmt.number(last["users"], lang), days=view.window_days))
    return out


def _weakest(view: FunnelView) -> list[tuple[Rate, str, str]]:
    """The step with the lowest step conversion (on a previous step of ``min_base`` users), with the next lowest
    when Newcombe's interval cannot tell them apart (the data do not rank them): ``[(rate, from, to)]``."""
    d = view.overall.reset_index(drop=True)
    cand = []
    for i in range(1, len(d)):
        prev, n = int(d.at[i - 1, "users"]), int(d.at[i, "users"])
        if prev >= view.min_base and prev > n:
            cand.append((Rate(n, prev), str(d.at[i - 1, "event"]), str(d.at[i, "event"])))
    if not cand:
        return []
    cand.sort(key=lambda c: c[0].value or 0)
    return cand[:2] if len(cand) > 1 and not cand[1][0].differs_from(cand[0][0]) else cand[:1]


def _weakest_step(view: FunnelView, lang: str) -> list[str]:
    """The weakest step (:func:`_weakest`): one sentence; two steps the data do not rank are named together."""
    k = "insights.funnel.bullet"
    weakest = _weakest(view)
    if not weakest:
        return []
    (r1, s1, d1) = weakest[0]
    lost1 = r1.base - r1.num
    if len(weakest) > 1:
        r2, s2, d2 = weakest[1]
        return [t(f"{k}.drop_tie", lang, src=event_name(s1, lang), dst=event_name(d1, lang), rate=fmt.pct(r1.value, lang),
                  src2=event_name(s2, lang), dst2=event_name(d2, lang), rate2=fmt.pct(r2.value, lang),
                  lost=fmt.number(lost1 + r2.base - r2.num, lang))]
    return [t(f"{k}.drop", lang, src=event_name(s1, lang), dst=event_name(d1, lang), rate=fmt.pct(r1.value, lang),
              lost=fmt.number(lost1, lang))]


def _group_rates(view: FunnelView) -> list[tuple[Any, Rate]]:
    """Each group's overall conversion on its entrants, groups with a base of ``min_base`` only, best first."""
    sp = view.split
    if sp is None:
        return []
    n = len(view.overall)
    firsts = sp[sp["step"] == 1]
    base = {g: int(u) for g, u in zip(firsts["group"], firsts["users"], strict=True)}
    fin = sp[(sp["step"] == n)]
    rates = [(g, Rate(int(u), base[g])) for g, u in zip(fin["group"], fin["users"], strict=True)
             if base[g] >= view.min_base]
    return sorted(rates, key=lambda x: -(x[1].value or 0))


def _group_extremes(view: FunnelView) -> list[tuple[Any, Rate, str]]:
    """The best and worst groups the sentence names, each with the verdict it gives (``best``/``worst`` when
    Newcombe's interval excludes 0, ``same`` otherwise)."""
    rates = _group_rates(view)
    if len(rates) < 2:
        return []
    (bg, br), (wg, wr) = rates[0], rates[-1]
    differ = br.differs_from(wr)
    return [(bg, br, "best" if differ else "same"), (wg, wr, "worst" if differ else "same")]


def _group_bullets(view: FunnelView, lang: str) -> list[str]:
    """The best and worst groups by overall conversion among those with a base of ``min_base`` entrants;
    a gap only when Newcombe's interval excludes 0."""
    k = "insights.funnel.bullet"
    rates = _group_rates(view)
    if len(rates) < 2:
        return []
    (bg, br), (wg, wr) = rates[0], rates[-1]
    by = t(f"insights.funnel.by.{view.by}", lang)
    kw = {"by": by, "best": fmt.label(bg, lang), "best_rate": fmt.pct(br.value, lang), "best_n": fmt.number(br.base, lang),
          "worst": fmt.label(wg, lang), "worst_rate": fmt.pct(wr.value, lang), "worst_n": fmt.number(wr.base, lang),
          "gap": fmt.pp(abs(fmt.shown_ratio_change(br.value, wr.value)), lang, signed=False), "groups": len(rates)}
    return [t(f"{k}.groups" if br.differs_from(wr) else f"{k}.groups_same", lang, **kw)]


# ---------------------------------------------------------------- subsections


def funnel_facts(view: FunnelView, ctx: Context) -> list[Fact]:
    """Each step's users and drop-off (a step's users and its drop-off make the step before: the table adds up),
    read to the as-of day; the weakest step and the groups the sentences judge, with their bases; the goals page's
    paying users, as the funnel's last line shows them, split into entrants and the others."""
    if view.flat:
        return []
    d = view.overall.reset_index(drop=True)
    lang, period = ctx.lang, ctx.period.label
    where = facts.span(ctx.period, ctx.data_last_day)
    last = d.attrs.get("as_of")
    keys = [facts.key(f"funnel.{int(r['step'])}_{r['event']}", "users", where) for r in d.to_dict("records")]
    out = []
    for i, r in enumerate(d.to_dict("records")):
        # a step's users and its drop-off are the parts of the step before's users
        out.append(facts.make(keys[i], r["users"], "count", fmt.number(r["users"], lang, compact=False), period=period,
                              source="insights.funnel", definition="users of the entry population at this step",
                              last_day=last, part_of=keys[i - 1] if i else None))
        if i:
            out.append(facts.make(facts.key(f"funnel.{int(r['step'])}_{r['event']}", "drop_off", where), r["drop_off"],
                                  "count", fmt.number(r["drop_off"], lang, compact=False), period=period,
                                  source="insights.funnel", definition="users of the step before who did not reach it",
                                  part_of=keys[i - 1]))
    for rate, src, dst in _weakest(view):
        out.append(facts.make(facts.key(f"funnel.{src}_to_{dst}", "step_rate", where), rate.value, "ratio",
                              fmt.pct(rate.value, lang), period=period, source="insights.funnel", base=rate.base,
                              verdict="weakest", definition="step conversion the sentence names the weakest"))
    for g, rate, word in _group_extremes(view):
        out.append(facts.make(facts.key(f"funnel.group.{g}", "overall", where), rate.value, "ratio",
                              fmt.pct(rate.value, lang), period=period, source="insights.funnel", base=rate.base,
                              verdict=word, definition=f"overall conversion of the group ({view.by})"))
    p = view.payers
    if p is not None and p.payers:
        payers = goals_fact(ctx, "paying_users", p.payers, "insights.funnel")
        total = payers[0].key if payers else facts.key("funnel.payers", "users", where)
        out += payers or [facts.make(total, p.payers, "count", fmt.number(p.payers, lang), period=period,
                                     source="insights.funnel", definition="paying users of the period")]
        if p.others:
            out += [facts.make(facts.key(f"funnel.payers.{part}", "users", where), v, "count", fmt.number(v, lang),
                               period=period, source="insights.funnel", part_of=total,
                               definition=f"paying users: {part}") for part, v in (("entrants", p.entrants),
                                                                                   ("others", p.others))]
    return out


def _funnel(ctx: Context) -> FunnelView:
    s = ctx.settings.insights
    overall = fm.funnel(ctx.pack, ctx.period, steps=s.funnel_steps, window_days=s.funnel_window_days,
                        entry=s.funnel_entry)
    split = None
    if s.funnel_breakdown is not None:
        try:
            split = fm.funnel(ctx.pack, ctx.period, steps=s.funnel_steps, window_days=s.funnel_window_days,
                              entry=s.funnel_entry, by=s.funnel_breakdown)
        except NoData:  # no users table or no breakdown column: show the overall funnel only
            split = None
        if split is not None and split["group"].nunique(dropna=False) <= 1:
            split = None  # one group (e.g. every user's channel unknown) is the overall funnel again
    payers = None
    if s.funnel_steps[-1] == PURCHASE and ctx.pack.has("orders"):
        payers = fm.funnel_payers(ctx.pack, ctx.period, steps=s.funnel_steps, entry=s.funnel_entry)
    return FunnelView(overall, split, s.funnel_breakdown if split is not None else None, s.funnel_window_days,
                      payers, ctx.settings.min_base, goals_labels(ctx))


SUBSECTIONS: list[Subsection] = [
    lang_subsection(
        "insights.funnel", _funnel,
        lambda r, ctx: funnel_chart(r, title=ctx.t("insights.funnel.chart_title", days=r.window_days), lang=ctx.lang),
        funnel_table, funnel_bullets, funnel_facts),
]
