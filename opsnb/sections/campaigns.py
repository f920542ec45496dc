"""The campaigns section (02 关键举措与成果): campaign results, spend, uplift, after-effect, content, programmes, A/B.

Every function takes a metrics result first and returns an Axes, a table or bullets; the numbers
come from :mod:`opsnb.metrics.campaigns`, :mod:`~opsnb.metrics.content`,
:mod:`~opsnb.metrics.programmes` and :mod:`~opsnb.metrics.abtest`.

Bullets follow the written review (结论先行): per subsection at most about five sentences, the
conclusion first, then the exceptions, the largest movers and what to do — never one sentence per
table row. A sentence claims a difference only when the interval says so (:mod:`opsnb.metrics.rates`)
and never on a base under ``settings.min_base`` (it gives the n instead).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.metrics import abtest as abm
from opsnb.metrics import campaigns as cm
from opsnb.metrics import content as ctm
from opsnb.metrics import programmes as pgm
from opsnb.metrics.rates import Rate, newcombe
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context
    from opsnb.facts import Fact

#: Sentences per subsection (the seeds' reviews: a few ranked lines, never one per row).
MAX_BULLETS = 5


def _money(x: Any, lang: str, currency: str | None = None) -> str:
    return fmt.money(x, lang, currency=currency)


def _cents(c: int, lang: str, currency: str | None = None) -> str:
    """An amount of whole cents, to the cent (a reconciliation adds up digit for digit)."""
    return fmt.money(c / 100, lang, currency=currency, compact=False, digits=2)


def _reason(code: Any, lang: str) -> str | None:
    return None if code is None or (isinstance(code, float) and pd.isna(code)) or pd.isna(code) \
        else t(f"campaigns.reason.{code}", lang)


def _na(v: Any, code: Any, lang: str, show: Any) -> str:
    """``show(v)``, or "n/a (reason)" when ``v`` is undefined."""
    return fmt.na(lang, _reason(code, lang)) if fmt.is_missing(v) else show(v)


def _day(d: date, lang: str) -> str:
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b").lstrip("0")


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _cols(df: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    """Select ``names`` (column → label key) and translate the labels."""
    return df[list(names)].rename(columns={c: t(f"campaigns.col.{k}", lang) for c, k in names.items()})


def _num(v: Any) -> float | None:
    return None if fmt.is_missing(v) else float(v)


# ---------------------------------------------------------------- results


def results_chart(res: pd.DataFrame, *, threshold: float = 1.0, ax: Any = None, title: str | None = None,
                  threshold_label: str | None = None) -> Any:
    """Horizontal ROI bars in ranking order; low-ROI bars in red, the threshold as a line."""
    d = res[res["roi"].notna()]
    ax = charts.new_ax(ax, figsize=(8.0, max(2.0, 0.45 * len(d) + 0.8)))
    vals = [float(v) for v in d["roi"]]
    colours = [PALETTE["bad"] if low else PALETTE["accent"] for low in d["low_roi"]]
    ax.barh([str(n) for n in d["name"]], vals, color=colours)
    ax.axvline(threshold, color="#333333", linewidth=1, linestyle="--", label=threshold_label)
    if threshold_label:
        ax.legend(loc="lower right", fontsize=8)
    ax.invert_yaxis()
    charts.format_axis(ax, "x", "roi")
    if title:
        ax.set_title(title)
    return ax


def _flag(r: dict[str, Any], lang: str) -> str:
    parts = []
    if r["low_roi"]:
        parts.append(t("campaigns.col.low_roi", lang))
    elif fmt.is_missing(r["roi"]):
        parts.append(_reason(r["roi_reason"], lang) or "")
    if r.get("running"):
        parts.append(t("campaigns.col.running", lang, days=r["days_read"], total=r["days"]))
    return _join([p for p in parts if p], lang)


def results_tables(res: pd.DataFrame, lang: str, currency: str | None = None) -> list[ui.Table]:
    """The ranking table with translated labels, low-ROI campaigns flagged; then targets, when any campaign has one."""
    df = res.copy()
    df["flag"] = [_flag(r, lang) for r in df.to_dict("records")]
    df["roi_rank"] = [None if pd.isna(v) else int(v) for v in df["roi_rank"]]
    for c in ("roi", "cac", "conversion", "new_users_attainment", "gmv_attainment", "target_gmv"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    for c in ("reach", "new_users", "target_new_users"):
        df[c] = [None if pd.isna(v) else int(v) for v in df[c]]
    # two tables, so each fits the page: results and return, then each campaign against its targets
    # (the dates are in the campaign calendar below)
    names = {"roi_rank": "rank", "name": "name", "reach": "reach", "participants": "participants",
             "new_users": "new_users", "orders": "orders", "gmv": "gmv", "cost": "cost", "roi": "roi",
             "cac": "cac", "conversion": "conversion", "flag": "flag"}
    targets = {"name": "name", "new_users": "new_users", "target_new_users": "target_new_users",
               "new_users_attainment": "new_users_attainment", "gmv": "gmv", "target_gmv": "target_gmv",
               "gmv_attainment": "gmv_attainment"}
    lab = {k: t(f"campaigns.col.{k}", lang) for k in {**names, **targets}.values()}
    formats = {lab["reach"]: "int", lab["participants"]: "int", lab["new_users"]: "int", lab["target_new_users"]: "int",
               lab["orders"]: "int", lab["new_users_attainment"]: "ratio", lab["gmv_attainment"]: "ratio",
               lab["gmv"]: "currency", lab["target_gmv"]: "currency", lab["cost"]: "currency", lab["roi"]: "roi",
               lab["cac"]: "currency", lab["conversion"]: "ratio"}
    first = ui.table(_cols(df, names, lang), lang, formats=formats, currency=currency)
    if df[["target_new_users", "target_gmv"]].isna().all().all():
        return [first]
    return [first, ui.table(_cols(df, targets, lang), lang, formats=formats, currency=currency,
                            caption=t("campaigns.results.targets_caption", lang))]


def results_table(res: pd.DataFrame, lang: str, currency: str | None = None) -> ui.Table | ui.Tables:
    """:func:`results_tables` as one block."""
    parts = results_tables(res, lang, currency)
    return parts[0] if len(parts) == 1 else ui.tables(*parts)


def _targets_line(res: pd.DataFrame, lang: str) -> str | None:
    """How many campaigns met their GMV and new-user targets, and the largest shortfall (finished campaigns only)."""
    parts, gaps = [], []
    for key, what in (("gmv_attainment", "gmv"), ("new_users_attainment", "new_users")):
        judged = res[res[key].notna()]
        if judged.empty:
            continue
        met = int((judged[key].astype(float) >= 1.0).sum())
        parts.append(t(f"campaigns.results.bullet.targets_{what}", lang, met=met, n=len(judged)))
        for r in judged[judged[key].astype(float) < 1.0].to_dict("records"):
            gaps.append((float(r[key]), r["name"], what))
    if not parts:
        return None
    gap = ""
    if gaps:
        att, name, what = min(gaps)
        gap = t("campaigns.results.bullet.targets_gap", lang, name=name, what=t(f"campaigns.results.word.{what}", lang),
                attainment=fmt.pct(att, lang))
    return t("campaigns.results.bullet.targets", lang, parts=_join(parts, lang), gap=gap)


def results_bullets(res: pd.DataFrame, lang: str, *, threshold: float = 1.0, currency: str | None = None,
                    as_of: date | None = None) -> list[str]:
    """The written-review lines: the whole (GMV, cost, ROI, the best campaign) first, then the low-ROI
    exceptions with their share of the cost, the targets and the campaigns still running."""
    money = lambda x: _money(x, lang, currency)  # noqa: E731
    gmv, cost = float(res["gmv"].sum()), float(res["cost"].sum())
    total_roi, why = cm.ratio(gmv, cost, "zero_cost")
    ranked = res[res["roi_rank"].notna()]
    kw = {"n": len(res), "gmv": money(gmv), "cost": money(cost),
          "roi": _na(total_roi, why, lang, lambda v: fmt.ratio_x(v, lang))}
    if len(ranked) > 1:
        b = ranked.iloc[0]
        out = [t("campaigns.results.bullet.summary", lang, best=b["name"], best_roi=fmt.ratio_x(b["roi"], lang), **kw)]
    else:
        out = [t("campaigns.results.bullet.summary_one", lang, **kw)]
    low = res[res["low_roi"]]
    if len(low) == 1:
        r = low.iloc[0]
        share, _ = cm.ratio(float(r["cost"]), cost, "zero_cost")
        out.append(t("campaigns.results.bullet.low_roi", lang, name=r["name"], roi=fmt.ratio_x(r["roi"], lang),
                     threshold=fmt.ratio_x(threshold, lang), cost=money(r["cost"]), gmv=money(r["gmv"]),
                     share=_na(share, "zero_cost", lang, lambda v: fmt.pct(v, lang))))
    elif len(low) > 1:
        share, _ = cm.ratio(float(low["cost"].sum()), cost, "zero_cost")
        out.append(t("campaigns.results.bullet.low_roi_many", lang, k=len(low), threshold=fmt.ratio_x(threshold, lang),
                     names=_join([f"{fmt.label(n, lang)}（{fmt.ratio_x(v, lang)}）" if lang == "zh"
                                  else f"{fmt.label(n, lang)} ({fmt.ratio_x(v, lang)})"
                                  for n, v in zip(low["name"], low["roi"], strict=True)], lang),
                     cost=money(low["cost"].sum()), share=_na(share, "zero_cost", lang, lambda v: fmt.pct(v, lang))))
    line = _targets_line(res, lang)
    if line:
        out.append(line)
    running = res[res["running"]]
    if len(running) and as_of is not None:
        out.append(t("campaigns.results.bullet.running", lang, names=_join([str(n) for n in running["name"]], lang),
                     as_of=as_of.isoformat()))
    return out[:MAX_BULLETS]


def results_facts(res: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each campaign's attributed GMV, new users, cost and ROI over the days read (its window to the as-of day),
    with the text the results table shows for them."""
    shown = results_tables(res, ctx.lang, ctx.settings.currency)[0].formatted()
    col = {m: t(f"campaigns.col.{m}", ctx.lang) for m in ("gmv", "cost", "roi", "new_users")}
    units = {"gmv": "currency", "cost": "currency", "roi": "roi", "new_users": "count"}
    money = lambda x: _money(x, ctx.lang, ctx.settings.currency)  # noqa: E731
    span = facts.span(ctx.effective_period)
    totals = {m: facts.key("campaigns", m, span) for m in ("gmv", "cost")}
    out = [facts.make(totals[m], float(res[m].sum()), "currency", money(res[m].sum()), period=ctx.period.label,
                      source="campaigns.results", definition=f"the campaigns' {m}, all of them") for m in totals]
    for i, r in enumerate(res.to_dict("records")):
        last = r["start"] + timedelta(days=int(r["days_read"]) - 1)
        where = f"{r['start'].isoformat()}..{last.isoformat()}"
        for measure, unit in units.items():
            out.append(facts.make(facts.key(f"campaign.{r['campaign_id']}", measure, where), _num(r[measure]), unit,
                                  str(shown[col[measure]].iloc[i]), period=ctx.period.label, source="campaigns.results",
                                  definition=ctx.t(f"campaigns.definition.{measure}"), part_of=totals.get(measure)))
    return out


# ---------------------------------------------------------------- spend


def _spend_result(ctx: Context) -> cm.SpendReconciliation:
    return cm.spend_reconciliation(ctx.pack, ctx.period, inside=ctx.settings.campaigns.cost_in_channel_spend)


def spend_table(rec: cm.SpendReconciliation, lang: str, currency: str | None = None) -> ui.Table:
    """The reconciliation, line by line to the cent: each campaign's cost in the period, their sum, the channel
    spend and the period's marketing total (what is inside what is in the note column)."""
    rows: list[tuple[str, int | None, str]] = []
    for r in rec.campaigns.to_dict("records"):
        note = t("campaigns.spend.row.campaign_note", lang, total=_cents(round(r["cost"] * 100), lang, currency),
                 days_in=r["days_in"], days=r["days"])
        rows.append((f"· {r['name']}", int(r["cost_in_cents"]), note))
    basis = "inside" if rec.inside else "outside"
    rows.append((t("campaigns.spend.row.campaigns", lang, n=len(rec.campaigns)), rec.campaign_cents,
                 t(f"campaigns.spend.note.campaigns_{basis}", lang)))
    if rec.channels is not None:
        rows.append((t("campaigns.spend.row.channels", lang, n=len(rec.channels)), rec.channel_cents,
                     t("campaigns.spend.note.channels", lang)))
        if rec.inside:
            rows.append((t("campaigns.spend.row.other", lang), rec.other_cents, t("campaigns.spend.note.other", lang)))
        rows.append((t("campaigns.spend.row.total", lang), rec.total_cents, t(f"campaigns.spend.note.total_{basis}", lang)))
    df = pd.DataFrame({
        t("campaigns.col.item", lang): [r[0] for r in rows],
        t("campaigns.col.amount", lang): [fmt.na(lang) if r[1] is None else _cents(r[1], lang, currency) for r in rows],
        t("campaigns.col.note", lang): [r[2] for r in rows],
    })
    return ui.table(df, lang)


def spend_bullets(rec: cm.SpendReconciliation, lang: str, currency: str | None = None) -> list[str]:
    """What the period's marketing cost is made of, why campaign ROI and channel ROI do not add, and the
    campaigns whose cost is split across periods; a contradiction with the setting when the data show one."""
    out = []
    camp = _cents(rec.campaign_cents, lang, currency)
    if rec.channel_cents is None:
        out.append(t("campaigns.spend.bullet.no_channels", lang, campaigns=camp))
    elif rec.inside:
        out.append(t("campaigns.spend.bullet.inside", lang, total=_cents(rec.channel_cents, lang, currency),
                     campaigns=camp, other=_cents(rec.other_cents or 0, lang, currency)))
        if (rec.other_cents or 0) < 0:
            out.append(t("campaigns.spend.bullet.contradiction", lang, campaigns=camp,
                         channels=_cents(rec.channel_cents, lang, currency)))
    else:
        out.append(t("campaigns.spend.bullet.outside", lang, total=_cents(rec.total_cents or 0, lang, currency),
                     channels=_cents(rec.channel_cents, lang, currency), campaigns=camp))
    if rec.channel_cents is not None:
        out.append(t("campaigns.spend.bullet.roi_bases", lang, channels=_cents(rec.channel_cents, lang, currency)))
    split = rec.campaigns[rec.campaigns["days_in"] < rec.campaigns["days"]]
    if len(split):
        out.append(t("campaigns.spend.bullet.split", lang, items=_join([
            t("campaigns.spend.word.split_item", lang, name=r["name"], days_in=r["days_in"], days=r["days"],
              cost=_cents(int(r["cost_in_cents"]), lang, currency)) for r in split.to_dict("records")], lang)))
    return out[:MAX_BULLETS]


def spend_facts(rec: cm.SpendReconciliation, ctx: Context) -> list[Fact]:
    """The period's campaign costs, channel spend and marketing total, to the cent, as parts of what they add up
    to: each campaign's cost in the period of the campaigns' sum; channel spend and campaign costs of the total
    (campaign costs outside the channel spend), or campaign costs and the rest of the channel spend (inside)."""
    where = facts.span(ctx.period)
    key = {m: facts.key("spend", m, where) for m in ("campaign_costs", "channel_spend", "marketing_total", "other")}
    inside = {"campaign_costs": key["channel_spend"], "other": key["channel_spend"]}
    outside = {"campaign_costs": key["marketing_total"], "channel_spend": key["marketing_total"]}
    parts = (inside if rec.inside else outside) if rec.channel_cents is not None else {}
    shown = [("campaign_costs", rec.campaign_cents), ("channel_spend", rec.channel_cents),
             ("marketing_total", rec.total_cents)] + ([("other", rec.other_cents)] if rec.inside else [])
    cur = ctx.settings.currency
    out = [facts.make(key[measure], None if c is None else c / 100, "currency",
                      fmt.na(ctx.lang) if c is None else _cents(c, ctx.lang, cur), period=ctx.period.label,
                      source="campaigns.spend", definition=ctx.t(f"campaigns.definition.{measure}")
                      if measure != "other" else "channel spend outside the campaigns' costs",
                      part_of=parts.get(measure)) for measure, c in shown]
    out += [facts.make(facts.key(f"spend.campaign.{r['campaign_id']}", "cost_in_period", where),
                       int(r["cost_in_cents"]) / 100, "currency", _cents(int(r["cost_in_cents"]), ctx.lang, cur),
                       period=ctx.period.label, source="campaigns.spend", part_of=key["campaign_costs"],
                       definition="the campaign's cost shared to the period by its days")
            for r in rec.campaigns.to_dict("records")]
    return out


# ---------------------------------------------------------------- uplift


def uplift_chart(up: pd.DataFrame, *, labels: tuple[str, str], ax: Any = None, title: str | None = None,
                 lang: str = "zh", currency: str | None = None) -> Any:
    """Grouped bars: site-wide GMV during each campaign and in its baseline (undefined baselines left out)."""
    d = up[up["gmv_baseline"].notna()]
    long = pd.DataFrame({
        "name": [str(n) for n in d["name"]] * 2,
        "gmv": [float(v) for v in d["gmv"]] + [float(v) for v in d["gmv_baseline"]],
        "window": [labels[0]] * len(d) + [labels[1]] * len(d),
    })
    return charts.bar(long, x="name", y="gmv", hue="window", ax=ax, title=title, unit="currency", lang=lang,
                      currency=currency)


def uplift_table(up: pd.DataFrame, lang: str, currency: str | None = None) -> ui.Table:
    """Site-wide GMV and sign-ups during each campaign against the baseline and last year, with caveats."""
    df = up.copy()
    for c in ("gmv", "gmv_baseline", "gmv_uplift", "gmv_yoy", "new_users", "new_users_uplift"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    df["caveat_text"] = [_join(([t("campaigns.caveat.overlap", lang)] if o else [])
                               + ([t("campaigns.caveat.holiday", lang)] if h else [])
                               + ([t("campaigns.caveat.running", lang)] if run else []), lang)
                         for o, h, run in zip(df["baseline_overlaps"], df["baseline_holidays"], df["running"],
                                              strict=True)]
    df["orders_pair"] = [f"{fmt.number(o, lang, compact=False)}/{fmt.number(b, lang, compact=False)}"
                         if not fmt.is_missing(b) else fmt.na(lang) for o, b in zip(df["orders"], df["orders_baseline"],
                                                                                     strict=True)]
    names = {"name": "name", "start": "start", "days": "days", "gmv": "site_gmv", "gmv_baseline": "baseline",
             "gmv_uplift": "uplift", "orders_pair": "orders_pair", "gmv_yoy": "yoy", "new_users": "site_new_users",
             "new_users_uplift": "new_users_uplift", "caveat_text": "caveat"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["days"]: "int", lab["gmv"]: "currency", lab["gmv_baseline"]: "currency", lab["gmv_uplift"]: "change",
               lab["gmv_yoy"]: "change", lab["new_users"]: "int", lab["new_users_uplift"]: "change"}
    return ui.table(_cols(df, names, lang), lang, formats=formats, currency=currency)


def _shifts(up: pd.DataFrame, during: str, before: str, min_base: int) -> list[str]:
    return ["na" if pd.isna(b) else cm.shift(int(d), int(b), min_base=min_base)
            for d, b in zip(up[during], up[before], strict=True)]


def _uplift_caveats(d: pd.DataFrame, up: pd.DataFrame, lang: str) -> list[str]:
    """One line naming the baselines disturbed by public holidays or by other campaigns."""
    cav = []
    hol = d[[bool(h) for h in d["baseline_holidays"]]]
    if len(hol):
        cav.append(t("campaigns.uplift.word.holidays", lang, items=_join(
            [f"{fmt.label(n, lang)}（{_join([_day(x, lang) for x in h], lang)}）" if lang == "zh"
             else f"{fmt.label(n, lang)} ({_join([_day(x, lang) for x in h], lang)})"
             for n, h in zip(hol["name"], hol["baseline_holidays"], strict=True)], lang)))
    ov = d[[bool(o) for o in d["baseline_overlaps"]]]
    if len(ov):
        names = dict(zip(up["campaign_id"], up["name"], strict=True))
        cav.append(t("campaigns.uplift.word.overlaps", lang, items=_join(
            [f"{fmt.label(n, lang)}（{_join([fmt.label(names.get(c, c), lang) for c in o], lang)}）" if lang == "zh"
             else f"{fmt.label(n, lang)} ({_join([fmt.label(names.get(c, c), lang) for c in o], lang)})"
             for n, o in zip(ov["name"], ov["baseline_overlaps"], strict=True)], lang)))
    if not cav:
        return []
    return [t("campaigns.uplift.bullet.caveats", lang, items=("；" if lang == "zh" else "; ").join(cav))]


def uplift_bullets(up: pd.DataFrame, lang: str, currency: str | None = None, *, min_base: int = 30,
                   attributed: pd.DataFrame | None = None) -> list[str]:
    """GMV uplift first (only where the orders behind it moved, on a base of at least ``min_base`` orders), the
    other campaigns in one line, the disturbed baselines, how site-wide sign-ups relate to the campaigns'
    attributed new users, then the sign-ups' own verdict."""
    money = lambda x: _money(x, lang, currency)  # noqa: E731
    chg = lambda v: fmt.pct(v, lang, signed=True)  # noqa: E731
    out: list[str] = []
    d = up.assign(gmv_shift=_shifts(up, "orders", "orders_baseline", min_base))
    ups = d[d["gmv_shift"] == "up"].sort_values("gmv_uplift", ascending=False)
    if len(ups):
        r = ups.iloc[0]
        out.append(t("campaigns.uplift.bullet.lead", lang, name=r["name"], days=r["days"], gmv=money(r["gmv"]),
                     base=money(r["gmv_baseline"]), change=chg(r["gmv_uplift"]), orders=fmt.number(r["orders"], lang),
                     orders_base=fmt.number(r["orders_baseline"], lang)))
    rest = []
    if len(ups) > 1:
        rest.append(t("campaigns.uplift.word.also_up", lang, items=_join(
            [f"{fmt.label(n, lang)}（{chg(v)}）" if lang == "zh" else f"{fmt.label(n, lang)} ({chg(v)})"
             for n, v in zip(ups["name"].iloc[1:], ups["gmv_uplift"].iloc[1:], strict=True)], lang)))
    for kind in ("down", "flat", "small"):
        group = d[d["gmv_shift"] == kind]
        if len(group):
            rest.append(t(f"campaigns.uplift.word.{kind}", lang, names=_join([fmt.label(n, lang) for n in group["name"]], lang),
                          min_base=fmt.number(min_base, lang)))
    if rest:
        clauses = ("；" if lang == "zh" else "; ").join(rest)
        out.append(t("campaigns.uplift.bullet.rest", lang, clauses=clauses[:1].upper() + clauses[1:]))
    out += _uplift_caveats(d, up, lang)
    signups: list[str] = []
    if "new_users_baseline" in d and d["new_users_baseline"].notna().any():
        nu = d.assign(nu_shift=_shifts(d.assign(new_users_baseline=d["new_users_baseline"].astype("Float64")),
                                       "new_users", "new_users_baseline", min_base))
        moved = nu[nu["nu_shift"].isin(["up", "down"])]
        if len(moved):
            signups.append(t("campaigns.uplift.bullet.signups_moved", lang, items=_join(
                [f"{fmt.label(n, lang)}（{chg(v)}）" if lang == "zh" else f"{fmt.label(n, lang)} ({chg(v)})"
                 for n, v in zip(moved["name"], moved["new_users_uplift"], strict=True)], lang)))
        else:
            signups.append(t("campaigns.uplift.bullet.signups_flat", lang))
    if attributed is not None and d["new_users"].notna().any():
        att = dict(zip(attributed["campaign_id"], attributed["new_users"], strict=True))
        items = []
        for r in d.to_dict("records"):
            a, s = att.get(r["campaign_id"]), r["new_users"]
            if fmt.is_missing(a) or fmt.is_missing(s):
                continue
            share = _na(cm.ratio(a, s, "no_new_users")[0], "no_new_users", lang, lambda v: fmt.pct(v, lang))
            items.append(t("campaigns.uplift.word.share", lang, name=r["name"], a=fmt.number(a, lang, compact=False),
                           s=fmt.number(s, lang, compact=False), share=share))
        if items:
            out.append(t("campaigns.uplift.bullet.relation", lang, items=_join(items, lang)))
    out += signups
    return out[:MAX_BULLETS]


# ---------------------------------------------------------------- after-effect


def _verdict(r: dict[str, Any], key: str, min_base: int) -> str:
    """``higher``, ``lower``, ``flat`` (the interval holds 0), ``small`` (a group under ``min_base``) or ``na``."""
    if fmt.is_missing(r[f"{key}_diff"]) or fmt.is_missing(r[f"{key}_ci_low"]):
        return "na"
    if r["participants"] < min_base or (_num(r.get(f"{key}_comparison_size")) or 0) < min_base:
        return "small"
    if float(r[f"{key}_ci_low"]) > 0:
        return "higher"
    return "lower" if float(r[f"{key}_ci_high"]) < 0 else "flat"


def shown_diff(a: Any, b: Any, diff: Any) -> float | None:
    """The difference of two rates as a reader computes it from them as shown (``a`` − ``b`` to 0.1 %), the
    computed ``diff`` when either is missing: a gap never reads +12.0 points beside 16.5 % and 4.6 %."""
    if fmt.is_missing(diff):
        return None
    if fmt.is_missing(a) or fmt.is_missing(b):
        return float(diff)
    return fmt.shown_ratio_change(a, b)


def after_chart(ae: pd.DataFrame, *, labels: tuple[str, str], ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars of the follow-up purchase rate: participants vs the comparison group."""
    d = ae[ae["repurchase_comparison"].notna() & ae["repurchase_participants"].notna()]
    long = pd.DataFrame({
        "name": [str(n) for n in d["name"]] * 2,
        "rate": [float(v) for v in d["repurchase_participants"]] + [float(v) for v in d["repurchase_comparison"]],
        "group": [labels[0]] * len(d) + [labels[1]] * len(d),
    })
    return charts.bar(long, x="name", y="rate", hue="group", ax=ax, title=title, unit="ratio")


def after_table(ae: pd.DataFrame, lang: str, *, min_base: int = 30) -> ui.Table:
    """Group sizes, days observed, rates and the verdict on the purchase difference for each campaign."""
    df = ae.copy()
    for c in ("repurchase_participants", "repurchase_comparison", "repurchase_diff", "retention_participants",
              "retention_comparison"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    df["repurchase_diff"] = [shown_diff(a, b, d) for a, b, d in zip(
        df["repurchase_participants"], df["repurchase_comparison"], df["repurchase_diff"], strict=True)]
    df["observed"] = [f"{o}/{d}" for o, d in zip(df["observed_days"], df["days"], strict=True)]
    df["verdict"] = [t(f"campaigns.verdict.{_verdict(r, 'repurchase', min_base)}", lang) for r in df.to_dict("records")]
    names = {"name": "name", "participants": "participants", "comparison": "comparison", "observed": "observed",
             "repurchase_participants": "repurchase_p", "repurchase_comparison": "repurchase_c",
             "repurchase_diff": "repurchase_diff", "verdict": "verdict", "retention_participants": "retention_p",
             "retention_comparison": "retention_c"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["participants"]: "int", lab["comparison"]: "int", lab["repurchase_participants"]: "ratio",
               lab["repurchase_comparison"]: "ratio", lab["repurchase_diff"]: "pp",
               lab["retention_participants"]: "ratio", lab["retention_comparison"]: "ratio"}
    return ui.table(_cols(df, names, lang), lang, formats=formats)


def after_bullets(ae: pd.DataFrame, lang: str, *, min_base: int = 30, as_of: date | None = None) -> list[str]:
    """Which campaigns' participants bought more afterwards than comparable users (the interval decides),
    which cannot be judged, who the comparison group is, and whose follow-up is not over."""
    out = []
    rows = ae.to_dict("records")
    days = int(ae["days"].iloc[0]) if len(ae) else 0
    verdicts = {r["campaign_id"]: _verdict(r, "repurchase", min_base) for r in rows}
    for kind in ("higher", "lower"):
        hit = [r for r in rows if verdicts[r["campaign_id"]] == kind]
        hit.sort(key=lambda r: -abs(float(r["repurchase_diff"])))
        if hit:
            out.append(t(f"campaigns.after_effect.bullet.{kind}", lang, days=days, items=_join([
                t("campaigns.after_effect.word.item", lang, name=r["name"], rp=fmt.pct(r["repurchase_participants"], lang),
                  rc=fmt.pct(r["repurchase_comparison"], lang),
                  diff=fmt.pp(shown_diff(r["repurchase_participants"], r["repurchase_comparison"],
                                         r["repurchase_diff"]), lang))
                for r in hit], lang)))
    flat = [fmt.label(r["name"], lang) for r in rows if verdicts[r["campaign_id"]] == "flat"]
    if flat:
        out.append(t("campaigns.after_effect.bullet.flat", lang, names=_join(flat, lang)))
    small = [r for r in rows if verdicts[r["campaign_id"]] == "small"]
    if small:
        out.append(t("campaigns.after_effect.bullet.small", lang, min_base=fmt.number(min_base, lang), items=_join(
            [f"{fmt.label(r['name'], lang)}（n={r['participants']}）" if lang == "zh"
             else f"{fmt.label(r['name'], lang)} (n={r['participants']})" for r in small], lang)))
    if len(ae):
        out.append(t(f"campaigns.after_effect.bullet.basis_{ae['comparison_basis'].iloc[0]}", lang))
    pending = [r for r in rows if not r["complete"]]
    if pending and as_of is not None:
        out.append(t("campaigns.after_effect.bullet.incomplete", lang, as_of=as_of.isoformat(), items=_join(
            [t("campaigns.after_effect.word.observed", lang, name=r["name"], observed=r["observed_days"], days=r["days"])
             for r in pending], lang)))
    return out[:MAX_BULLETS]


# ---------------------------------------------------------------- content


def _group_label(row: dict[str, Any], lang: str) -> str:
    kind, channel = fmt.label(row["type"], lang), fmt.label(row["channel"], lang)
    return f"{kind}·{channel}" if lang == "zh" else f"{kind} · {channel}"


def content_chart(res: ctm.ContentResult, *, ax: Any = None, title: str | None = None, lang: str = "zh") -> Any:
    """Views per type · channel (top 12 groups)."""
    d = res.by_group.head(12)
    data = pd.DataFrame({"group": [_group_label(r, lang) for r in d.to_dict("records")],
                         "views": [float(v) for v in d["views"]]})
    return charts.bar(data, x="group", y="views", horizontal=True, ax=ax, title=title, unit="count", lang=lang)


def content_table(res: ctm.ContentResult, lang: str) -> ui.Table:
    """The top-N items."""
    df = res.items.copy()
    df["engagement_rate"] = [None if pd.isna(v) else float(v) for v in df["engagement_rate"]]
    df["title"] = [c if pd.isna(x) else x for x, c in zip(df["title"], df["content_id"], strict=True)]
    names = {"title": "title", "type": "type", "channel": "channel", "views": "views",
             "engagement_rate": "engagement_rate", "followers_gained": "followers", "leads": "leads",
             "conversions": "conversions"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["views"]: "int", lab["engagement_rate"]: "ratio", lab["followers_gained"]: "int",
               lab["leads"]: "int", lab["conversions"]: "int"}
    return ui.table(_cols(df, names, lang), lang, formats=formats)


def content_bullets(res: ctm.ContentResult, lang: str, *, min_base: int = 30, exported: date | None = None,
                    as_of: date | None = None) -> list[str]:
    """The totals, where the views concentrate, the type · channel groups whose engagement stands out from
    the whole (Wilson interval on their views, at least ``min_base`` views), and the long tail. When the
    counters were exported after the review's as-of day (a past period), a first line says they read to that day."""
    g = res.by_group
    late = exported is not None and as_of is not None and exported > as_of
    engaged = int(g["engagements"].sum())
    er, why = cm.ratio(engaged, res.total_views, "zero_views")
    num = lambda v: fmt.number(v, lang)  # noqa: E731
    out = [t("campaigns.content.bullet.summary", lang, n=res.total_items, views=num(res.total_views),
             er=_na(er, why, lang, lambda v: fmt.pct(v, lang)), followers=num(g["followers_gained"].sum()),
             leads=num(g["leads"].sum()), conversions=num(g["conversions"].sum()))]
    if len(g) > 1 and res.total_views > 0:
        top = g.iloc[0]
        out.append(t("campaigns.content.bullet.concentration", lang, group=_group_label(top, lang), items=int(top["items"]), n=res.total_items,
                     share=fmt.pct(float(top["views"]) / res.total_views, lang)))
    if er is not None and len(g) > 1:
        high: list[tuple[float, dict[str, Any]]] = []
        low: list[tuple[float, dict[str, Any]]] = []
        for r in g.to_dict("records"):
            v, e = int(r["views"]), int(r["engagements"])
            if v < min_base or e > v:
                continue
            if Rate(e, v).differs_from(er):
                (high if e / v > er else low).append((e / v, r))
        for key, group, rev in (("er_high", high, True), ("er_low", low, False)):
            if group:
                group.sort(key=lambda x: x[0], reverse=rev)
                out.append(t(f"campaigns.content.bullet.{key}", lang, er=fmt.pct(er, lang), items=_join(
                    [f"{_group_label(r, lang)}（{fmt.pct(x, lang)}）" if lang == "zh"
                     else f"{_group_label(r, lang)} ({fmt.pct(x, lang)})" for x, r in group[:3]], lang)))
    if res.total_items > res.top_n and res.long_tail_share is not None:
        out.append(t("campaigns.content.bullet.tail", lang, n=res.top_n, share=fmt.pct(res.long_tail_share, lang)))
    if late:  # first, so it is never cut: every count above reads past the period
        assert exported is not None and as_of is not None
        out.insert(0, t("campaigns.content.bullet.as_exported", lang, exported=exported.isoformat(),
                        as_of=as_of.isoformat()))
    return out[:MAX_BULLETS]


# ---------------------------------------------------------------- programmes


def _programme_change(r: dict[str, Any], min_base: int) -> str:
    """``up``, ``down``, ``flat`` (Newcombe's interval holds 0), ``small`` or ``na`` for one programme rate."""
    if fmt.is_missing(r["value"]) or fmt.is_missing(r["prev_value"]):
        return "na"
    if int(r["denominator"]) < min_base or int(r["prev_denominator"]) < min_base:
        return "small"
    ci = newcombe(int(r["numerator"]), int(r["denominator"]), int(r["prev_numerator"]), int(r["prev_denominator"]))
    if ci is None or ci[0] <= 0 <= ci[1]:
        return "flat"
    return "up" if ci[0] > 0 else "down"


def programmes_chart(res: pd.DataFrame, *, lang: str = "zh", ax: Any = None, title: str | None = None) -> Any:
    """Bars of the defined programme rates."""
    d = res[res["value"].notna()]
    data = pd.DataFrame({"metric": [t(f"campaigns.programmes.metric.{m}", lang) for m in d["metric"]],
                         "value": [float(v) for v in d["value"]]})
    return charts.bar(data, x="metric", y="value", ax=ax, title=title, unit="ratio")


def programmes_table(res: pd.DataFrame, lang: str) -> ui.Table:
    """Metric, numerator, denominator and rate (n/a with its reason), the previous period's rate and the change."""
    df = res.copy()
    df["metric"] = [t(f"campaigns.programmes.metric.{m}", lang) for m in df["metric"]]
    df["value"] = [_na(v, why, lang, lambda x: fmt.pct(x, lang)) for v, why in zip(df["value"], df["reason"], strict=True)]
    df["prev"] = [fmt.pct(v, lang) for v in res["prev_value"]]
    df["change"] = [fmt.na(lang) if fmt.is_missing(a) or fmt.is_missing(b) else fmt.change(a, b, "ratio", lang)
                    for a, b in zip(res["value"], res["prev_value"], strict=True)]
    names = {"metric": "metric", "numerator": "numerator", "denominator": "denominator", "value": "value",
             "prev": "previous", "change": "change"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    return ui.table(_cols(df, names, lang), lang, formats={lab["numerator"]: "int", lab["denominator"]: "int"})


def programmes_bullets(res: pd.DataFrame, lang: str, *, min_base: int = 30) -> list[str]:
    """The rates that moved against the previous period (Newcombe decides), else that none did; the small bases."""
    rows = res.to_dict("records")
    kinds = {r["metric"]: _programme_change(r, min_base) for r in rows}
    name = lambda r: t(f"campaigns.programmes.metric.{r['metric']}", lang)  # noqa: E731
    out = []
    for r in rows:
        if kinds[r["metric"]] in ("up", "down"):
            out.append(t(f"campaigns.programmes.bullet.{kinds[r['metric']]}", lang, metric=name(r),
                         value=fmt.pct(r["value"], lang), prev=fmt.pct(r["prev_value"], lang),
                         change=fmt.change(r["value"], r["prev_value"], "ratio", lang),
                         num=fmt.number(r["numerator"], lang), den=fmt.number(r["denominator"], lang)))
    flat = [name(r) for r in rows if kinds[r["metric"]] == "flat"]
    if flat:
        out.append(t("campaigns.programmes.bullet.flat", lang, names=_join(flat, lang)))
    small = [f"{name(r)}（n={r['denominator']}）" if lang == "zh" else f"{name(r)} (n={r['denominator']})"
             for r in rows if kinds[r["metric"]] == "small"]
    if small:
        out.append(t("campaigns.programmes.bullet.small", lang, items=_join(small, lang), min_base=min_base))
    if all(kinds[r["metric"]] == "na" for r in rows):
        out.append(t("campaigns.programmes.bullet.no_previous", lang))
    return out[:MAX_BULLETS]


# ---------------------------------------------------------------- A/B


def ab_chart(res: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Conversion per experiment variant."""
    d = res[res["conversion"].notna()]
    data = pd.DataFrame({"variant": [f"{e} / {v}" for e, v in zip(d["experiment"], d["variant"], strict=True)],
                         "conversion": [float(v) for v in d["conversion"]]})
    return charts.bar(data, x="variant", y="conversion", ax=ax, title=title, unit="ratio")


def _ab_small(r: dict[str, Any], min_base: int) -> bool:
    return int(r["users"]) < min_base or int(r["control_users"]) < min_base


def ab_table(res: pd.DataFrame, lang: str, *, min_base: int = 30) -> ui.Table:
    """Users, converters, conversion, difference, Newcombe's interval, p-value and the verdict per variant."""
    df = res.copy()
    df["ci"] = ["" if pd.isna(lo) else f"[{fmt.pp(lo, lang)}, {fmt.pp(hi, lang)}]"
                for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)]
    df["p"] = [_reason(why, lang) if pd.isna(p) else fmt.p_value(p, lang)
               for p, why in zip(df["p_value"], df["reason"], strict=True)]
    df["sig"] = ["" if pd.isna(s) else t("campaigns.verdict.small", lang) if _ab_small(r, min_base)
                 else t("campaigns.col.is_yes" if s else "campaigns.col.is_no", lang)
                 for s, r in zip(df["significant"], res.to_dict("records"), strict=True)]
    df["diff"] = [shown_diff(a, b, d) for a, b, d in zip(df["conversion"], df["control_conversion"], df["diff"],
                                                         strict=True)]
    for c in ("conversion", "diff"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    names = {"experiment": "experiment", "variant": "variant", "users": "users", "converters": "converters",
             "conversion": "ab_conversion", "diff": "diff", "ci": "ci", "p": "p_value", "sig": "significant"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["users"]: "int", lab["converters"]: "int", lab["conversion"]: "ratio", lab["diff"]: "pp"}
    return ui.table(_cols(df, names, lang), lang, formats=formats)


def ab_bullets(res: pd.DataFrame, lang: str, *, alpha: float = 0.05, min_base: int = 30) -> list[str]:
    """Per tested variant, the verdict and what to do: established (Newcombe's interval excludes 0) — ship or
    not; not established — keep testing; a group under ``min_base`` — no verdict; undefined — why."""
    out = []
    level = fmt.pct(1 - alpha, lang, digits=0)
    for r in res[~res["is_control"]].to_dict("records"):
        kw = {"experiment": r["experiment"], "variant": r["variant"], "control": r["control"]}
        if pd.isna(r["p_value"]) or pd.isna(r["ci_low"]):
            out.append(t("campaigns.ab.bullet.undefined", lang, reason=_reason(r["reason"], lang), **kw))
            continue
        shown = float(shown_diff(r["conversion"], r["control_conversion"], r["diff"]) or 0.0)
        kw.update(rate=fmt.pct(r["conversion"], lang), n=fmt.number(r["users"], lang),
                  crate=fmt.pct(r["control_conversion"], lang), cn=fmt.number(r["control_users"], lang),
                  diff=fmt.pp(shown, lang), gap=fmt.pp(abs(shown), lang, signed=False), level=level,
                  lo=fmt.pp(r["ci_low"], lang), hi=fmt.pp(r["ci_high"], lang),
                  p=p_text(r["p_value"], lang), min_base=fmt.number(min_base, lang))
        if _ab_small(r, min_base):
            key = "small"
        elif r["significant"]:
            key = "better" if float(r["diff"]) > 0 else "worse"
        else:
            key = "not_significant"
        out.append(t(f"campaigns.ab.bullet.{key}", lang, **kw))
    return out[:MAX_BULLETS]


def p_text(p: Any, lang: str) -> str:
    """``p=0.0123``, or ``p < 0.0001`` for a tiny p-value (never ``p=0.0000``)."""
    s = fmt.p_value(p, lang)
    return f"p {s}" if s.startswith("<") else f"p={s}"


# ---------------------------------------------------------------- timeline


def timeline_chart(tl: cm.Timeline, *, ax: Any = None, title: str | None = None, gmv_label: str | None = None,
                   lang: str = "zh", currency: str | None = None) -> Any:
    """Campaigns as horizontal bars on the calendar, daily GMV as columns behind them."""
    import matplotlib.dates as mdates

    ax = charts.new_ax(ax, figsize=(9.0, max(3.0, 0.4 * len(tl.campaigns) + 2.0)))
    days = pd.to_datetime(pd.Series(list(tl.daily.index)))
    ax.bar(days, [float(v) for v in tl.daily], width=0.9, color=PALETTE["muted"], label=gmv_label)
    ax.set_ylabel(gmv_label or "")
    charts.format_axis(ax, "y", "currency", lang, currency=currency)
    top = ax.twinx()
    n = len(tl.campaigns)
    for i, r in enumerate(tl.campaigns.to_dict("records")):
        start = mdates.date2num(pd.Timestamp(r["start"]))
        width = (r["end"] - r["start"]).days + 1
        top.barh(i, width, left=start - 0.45, height=0.6, color=PALETTE["accent"], alpha=0.85)
        top.text(start - 0.3, i, str(r["name"]), va="center", fontsize=8, color="white")
    top.set_yticks([])
    top.set_ylim(n, -1)
    if len(days):
        ax.set_xlim(mdates.date2num(days.iloc[0]) - 1, mdates.date2num(days.iloc[-1]) + 1)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    if title:
        ax.set_title(title)
    return ax


def timeline_bullets(tl: cm.Timeline, lang: str, currency: str | None = None) -> list[str]:
    """Average daily GMV on campaign days vs other days, and overlapping campaign pairs."""
    out = []
    if len(tl.daily):
        on = pd.Series(False, index=tl.daily.index)
        for r in tl.campaigns.to_dict("records"):
            on |= pd.Series([r["start"] <= d <= r["end"] for d in tl.daily.index], index=tl.daily.index)
        d_in, d_out = tl.daily[on], tl.daily[~on]
        if len(d_out) and len(d_in):
            out.append(t("campaigns.timeline.bullet.in_out", lang, days_in=len(d_in), days_out=len(d_out),
                         avg_in=_money(d_in.mean(), lang, currency), avg_out=_money(d_out.mean(), lang, currency)))
        elif len(d_in):
            out.append(t("campaigns.timeline.bullet.all_in", lang, avg_in=_money(d_in.mean(), lang, currency)))
    rows = tl.campaigns.to_dict("records")
    pairs = [f"{a['name']} & {b['name']}" for i, a in enumerate(rows) for b in rows[i + 1:]
             if a["start"] <= b["end"] and b["start"] <= a["end"]]
    if pairs:
        out.append(t("campaigns.timeline.bullet.overlap", lang, n=len(pairs), pairs=_join(pairs, lang)))
    return out


# ---------------------------------------------------------------- facts (what the rules of opsnb.invariants read)


def uplift_facts(up: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each campaign's site-wide GMV and sign-ups against its baseline and last year (changes beside the two
    values), with the verdict the sentences give and the orders or sign-ups of the baseline it rests on."""
    lang, period, min_base = ctx.lang, ctx.period.label, ctx.settings.min_base
    gmv_shift = dict(zip(up["campaign_id"], _shifts(up, "orders", "orders_baseline", min_base), strict=True))
    nu_shift = dict(zip(up["campaign_id"], _shifts(up.assign(new_users_baseline=up["new_users_baseline"].astype(
        "Float64")), "new_users", "new_users_baseline", min_base), strict=True))
    out = []
    for r in up.to_dict("records"):
        where = f"{r['start'].isoformat()}..{(r['start'] + timedelta(days=int(r['days']) - 1)).isoformat()}"
        subject = f"campaign.{r['campaign_id']}.site"
        for measure, now, before, verdict, base in (
                ("gmv_uplift", r["gmv"], r["gmv_baseline"], gmv_shift[r["campaign_id"]], r["orders_baseline"]),
                ("gmv_yoy", r["gmv"], r["gmv_ly"], None, None),
                ("new_users_uplift", r["new_users"], r["new_users_baseline"], nu_shift[r["campaign_id"]],
                 r["new_users_baseline"])):
            if fmt.is_missing(r[measure]):
                continue
            out.append(facts.change(facts.key(subject, measure, where), r[measure],
                                    fmt.pct(r[measure], lang, signed=True), now=now, before=before, kind="relative",
                                    unit="count", period=period, source="campaigns.uplift",
                                    base=_num(base),
                                    verdict=verdict if verdict in ("up", "down", "flat") else None,
                                    definition=f"site-wide {measure} during the campaign"))
    return out


def after_facts(ae: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each campaign's follow-up: the purchase difference between participants and comparison (read to the
    as-of day), its verdict on the smaller group's size, and the days observed when the follow-up is not over."""
    lang, period, min_base = ctx.lang, ctx.period.label, ctx.settings.min_base
    out = []
    for r in ae.to_dict("records"):
        if fmt.is_missing(r["repurchase_diff"]) or not int(r["observed_days"]):
            continue
        where = f"{r['follow_start'].isoformat()}..{r['follow_end'].isoformat()}"
        verdict = _verdict(r, "repurchase", min_base)
        diff = shown_diff(r["repurchase_participants"], r["repurchase_comparison"], r["repurchase_diff"])
        out.append(facts.change(facts.key(f"campaign.{r['campaign_id']}.after", "repurchase_diff", where),
                                diff, fmt.pp(diff, lang),
                                now=r["repurchase_participants"], before=r["repurchase_comparison"], kind="pp",
                                unit="ratio", period=period, source="campaigns.after_effect",
                                base=min(int(r["participants"]), int(_num(r.get("repurchase_comparison_size")) or 0)),
                                verdict=verdict if verdict in ("higher", "lower", "flat") else None,
                                definition="follow-up purchase rate, participants less comparison"))
        if not r["complete"]:
            out.append(facts.make(facts.key(f"campaign.{r['campaign_id']}.after", "observed_days", where),
                                  r["observed_days"], "days", f"{r['observed_days']}/{r['days']}", period=period,
                                  source="campaigns.after_effect", definition="days of the follow-up observed",
                                  **{"from": r["follow_start"] - timedelta(days=1)}))  # the campaign's last day
    return out


def content_facts(res: ctm.ContentResult, ctx: Context) -> list[Fact]:
    """The content counters as exported (lifetime totals: they read every day up to the pack's last day, not
    the period's), and the groups whose engagement the sentence judges, on their views."""
    exported = ctx.pack.day_range()[1]
    as_of = _as_of(ctx)
    # read past the as-of day on a past period's page, and said so there (content_bullets' first line)
    disclosed = {"disclosed": "as_exported"} if exported is not None and exported > as_of else {}
    g = res.by_group
    where = facts.span(ctx.period)
    out = [facts.make(facts.key("content", "views", where), res.total_views, "count",
                      fmt.number(res.total_views, ctx.lang), period=ctx.period.label, source="campaigns.content",
                      definition="views of the period's items, as exported", last_day=exported, **disclosed)]
    engaged = int(g["engagements"].sum())
    er, _ = cm.ratio(engaged, res.total_views, "zero_views")
    if er is None or len(g) <= 1:
        return out
    for r in g.to_dict("records"):
        v, e = int(r["views"]), int(r["engagements"])
        if v < ctx.settings.min_base or e > v or not Rate(e, v).differs_from(er):
            continue
        out.append(facts.make(facts.key(f"content.{r['type']}.{r['channel']}", "engagement_rate", where), e / v,
                              "ratio", fmt.pct(e / v, ctx.lang), period=ctx.period.label, source="campaigns.content",
                              base=v, verdict="high" if e / v > er else "low", last_day=exported,
                              definition="engagements per view of the group", **disclosed))
    return out


def programmes_facts(res: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each programme rate's change on the previous period (beside the two rates), with its verdict and base."""
    where = facts.span(ctx.effective_period)
    out = []
    for r in res.to_dict("records"):
        if fmt.is_missing(r["value"]) or fmt.is_missing(r["prev_value"]):
            continue
        kind = _programme_change(r, ctx.settings.min_base)
        chg = fmt.shown_ratio_change(r["value"], r["prev_value"])
        out.append(facts.change(facts.key(f"programmes.{r['metric']}", "change", where), chg,
                                fmt.change(r["value"], r["prev_value"], "ratio", ctx.lang), now=r["value"],
                                before=r["prev_value"], kind="pp", unit="ratio", period=ctx.period.label,
                                source="campaigns.programmes",
                                base=min(int(r["denominator"]), int(r["prev_denominator"])),
                                verdict=kind if kind in ("up", "down", "flat") else None,
                                definition="the rate against the previous period's"))
    return out


def ab_facts(res: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each variant's difference from its control (beside the two conversions) with the verdict and its base."""
    out = []
    where = facts.span(ctx.effective_period)
    for r in res[~res["is_control"]].to_dict("records"):
        if fmt.is_missing(r["diff"]):
            continue
        verdict = None if pd.isna(r["significant"]) or _ab_small(r, ctx.settings.min_base) else \
            ("established" if r["significant"] else "not_established")
        diff = shown_diff(r["conversion"], r["control_conversion"], r["diff"])
        out.append(facts.change(facts.key(f"ab.{r['experiment']}.{r['variant']}", "diff", where), diff,
                                fmt.pp(diff, ctx.lang), now=r["conversion"], before=r["control_conversion"],
                                kind="pp", unit="ratio", period=ctx.period.label, source="campaigns.ab",
                                base=min(int(r["users"]), int(r["control_users"])), verdict=verdict,
                                definition="conversion against the control's"))
    return out


# ---------------------------------------------------------------- subsections


def _results(ctx: Context) -> pd.DataFrame:
    return ctx.memo("campaigns.results", lambda: cm.campaign_results(
        ctx.pack, ctx.period, roi_threshold=ctx.settings.problems.roi_threshold))


def _as_of(ctx: Context) -> date:
    """The review's as-of day: the period's last day, or the data's when earlier."""
    return ctx.effective_period.last_day if ctx.data_last_day is not None else ctx.period.last_day


def _attributed(ctx: Context) -> pd.DataFrame | None:
    from opsnb.errors import NoData

    try:
        return _results(ctx)
    except NoData:
        return None


SUBSECTIONS: list[Subsection] = [
    Subsection(
        "campaigns.results", _results,
        chart=lambda r, ctx: results_chart(
            r, threshold=ctx.settings.problems.roi_threshold, title=ctx.t("campaigns.results.chart_title"),
            threshold_label=ctx.t("campaigns.results.threshold",
                                  threshold=fmt.ratio_x(ctx.settings.problems.roi_threshold, ctx.lang)))
        if r["roi"].notna().any() else None,
        table=lambda r, ctx: results_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: results_bullets(r, ctx.lang, threshold=ctx.settings.problems.roi_threshold,
                                               currency=ctx.settings.currency, as_of=_as_of(ctx)),
        facts=results_facts,
    ),
    Subsection(
        "campaigns.spend", _spend_result,
        table=lambda r, ctx: spend_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: spend_bullets(r, ctx.lang, ctx.settings.currency),
        facts=spend_facts,
    ),
    Subsection(
        "campaigns.uplift", lambda ctx: cm.uplift(ctx.pack, ctx.period, region=ctx.settings.region),
        chart=lambda r, ctx: uplift_chart(r, labels=(ctx.t("campaigns.uplift.during"), ctx.t("campaigns.uplift.baseline")),
                                          title=ctx.t("campaigns.uplift.chart_title"), lang=ctx.lang,
                                          currency=ctx.settings.currency)
        if r["gmv_baseline"].notna().any() else None,
        table=lambda r, ctx: uplift_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: uplift_bullets(r, ctx.lang, ctx.settings.currency, min_base=ctx.settings.min_base,
                                              attributed=_attributed(ctx)),
        facts=uplift_facts,
    ),
    Subsection(
        "campaigns.after_effect",
        lambda ctx: cm.after_effect(ctx.pack, ctx.period, days=ctx.settings.campaigns.after_effect_days),
        chart=lambda r, ctx: after_chart(r, labels=(ctx.t("campaigns.after_effect.participants"),
                                                    ctx.t("campaigns.after_effect.comparison")),
                                         title=ctx.t("campaigns.after_effect.chart_title"))
        if r["repurchase_comparison"].notna().any() else None,
        table=lambda r, ctx: after_table(r, ctx.lang, min_base=ctx.settings.min_base),
        bullets=lambda r, ctx: after_bullets(r, ctx.lang, min_base=ctx.settings.min_base, as_of=_as_of(ctx)),
        facts=after_facts,
    ),
    Subsection(
        "campaigns.content",
        lambda ctx: ctm.content_performance(ctx.pack, ctx.period, top_n=ctx.settings.campaigns.top_n),
        chart=lambda r, ctx: content_chart(r, title=ctx.t("campaigns.content.chart_title"), lang=ctx.lang),
        table=lambda r, ctx: content_table(r, ctx.lang),
        bullets=lambda r, ctx: content_bullets(r, ctx.lang, min_base=ctx.settings.min_base,
                                               exported=ctx.pack.day_range()[1], as_of=_as_of(ctx)),
        facts=content_facts,
    ),
    Subsection(
        "campaigns.programmes",
        lambda ctx: pgm.programmes(ctx.pack, ctx.period, term_months=ctx.settings.campaigns.membership_term_months),
        chart=lambda r, ctx: programmes_chart(r, lang=ctx.lang, title=ctx.t("campaigns.programmes.chart_title"))
        if r["value"].notna().any() else None,
        table=lambda r, ctx: programmes_table(r, ctx.lang),
        bullets=lambda r, ctx: programmes_bullets(r, ctx.lang, min_base=ctx.settings.min_base),
        facts=programmes_facts,
    ),
    Subsection(
        "campaigns.ab",
        lambda ctx: abm.ab_tests(ctx.pack, ctx.period, ctx.settings.campaigns.alpha,
                                 window_days=ctx.settings.campaigns.ab_days),
        chart=lambda r, ctx: ab_chart(r, title=ctx.t("campaigns.ab.chart_title")),
        table=lambda r, ctx: ab_table(r, ctx.lang, min_base=ctx.settings.min_base),
        bullets=lambda r, ctx: ab_bullets(r, ctx.lang, alpha=ctx.settings.campaigns.alpha,
                                          min_base=ctx.settings.min_base),
        facts=ab_facts,
    ),
    Subsection(
        "campaigns.timeline", lambda ctx: cm.timeline(ctx.pack, ctx.period),
        chart=lambda r, ctx: timeline_chart(r, title=ctx.t("campaigns.timeline.chart_title"),
                                            gmv_label=ctx.t("campaigns.timeline.daily_gmv"), lang=ctx.lang,
                                            currency=ctx.settings.currency),
        bullets=lambda r, ctx: timeline_bullets(r, ctx.lang, ctx.settings.currency),
    ),
]
