"""Insights, part B (03 数据分析与洞察): channels, RFM segments, regions and attribution.

Each subsection computes with :mod:`opsnb.metrics` (channels, rfm, regions, attribution) and turns
the small result into a chart, a translated table and written-review bullets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics.attribution import MODELS, attribution
from opsnb.metrics.channels import UNKNOWN, USER_BASES, channels
from opsnb.metrics.regions import GROWTH_BASE, OTHER, RegionsResult, regions
from opsnb.metrics.rfm import OTHERS, rfm_segments
from opsnb.render import charts, fmt, ui
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context

GRADE_COLOURS = {"S": PALETTE["good"], "A": PALETTE["accent"], "B": PALETTE["warn"], "C": PALETTE["bad"]}


def _name(x: Any, ctx: Context) -> str:
    """A channel or region name, the unknown bucket translated."""
    return ctx.t("insights.customers.unknown") if x == UNKNOWN else str(x)


def _small_cells(df: pd.DataFrame, col: str, unit: str, small: list[bool], bases: list[Any], ctx: Context) -> list[str]:
    """Column ``col`` as the table would show it (``unit``), with cells on a base under ``min_base`` replaced by
    their n ("基数仅12"): a rate on a tiny base is shown with its n and no value to act on."""
    shown = ui.Table(df[[col]], ctx.lang, {col: unit}, ctx.settings.currency).formatted()[col].tolist()
    return [ctx.t("insights.word.small_base", n=fmt.number(b, ctx.lang)) if m else v
            for v, m, b in zip(shown, small, bases, strict=True)]


def _date(d: Any, ctx: Context) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if ctx.lang == "zh" else d.strftime("%d %b %Y")


def _money(x: Any, ctx: Context) -> str:
    return fmt.money(x, ctx.lang, currency=ctx.settings.currency)


def _sep(ctx: Context) -> str:
    return "、" if ctx.lang == "zh" else ", "


# ---------------------------------------------------------------- channels


def _channels(ctx: Context) -> pd.DataFrame:
    df = ctx.memo("insights.channels", lambda: channels(ctx.pack, ctx.effective_period, ctx.settings.insights,
                                                        min_base=ctx.settings.min_base))
    if len(df) and set(df["channel"]) <= {UNKNOWN}:  # nothing to compare: say so once instead of a one-row grid
        raise NoData("users", ctx.t("insights.channels.no_channel"))
    return df


def channels_chart(df: pd.DataFrame, ctx: Context) -> Any:
    """Grade score per paid channel (coloured by grade) beside budget share vs return share."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, max(2.6, 0.4 * len(df) + 1.2)))
    graded = df[df["score"].notna()].sort_values("score", ascending=False)
    names = [_name(c, ctx) for c in graded["channel"]]
    left.barh(names, [float(s) for s in graded["score"]],
              color=[GRADE_COLOURS.get(str(g), PALETTE["muted"]) for g in graded["grade"]])
    for i, g in enumerate(graded["grade"]):
        left.text(0.01, i, str(g), va="center", color="white", fontweight="bold")
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_title(ctx.t("insights.channels.chart_grade"))
    shares = df[(df["budget_share"].notna()) | (df["return_share"].notna())]
    long = pd.DataFrame({
        "channel": [_name(c, ctx) for c in shares["channel"]] * 2,
        "share": [float(v) if v is not None else 0.0 for v in shares["budget_share"]]
        + [float(v) if v is not None else 0.0 for v in shares["return_share"]],
        "kind": [ctx.t("insights.channels.budget_share")] * len(shares) + [ctx.t("insights.channels.return_share")]
        * len(shares),
    })
    charts.bar(long, x="channel", y="share", hue="kind", ax=right, unit="ratio",
               title=ctx.t("insights.channels.chart_budget"))
    fig.tight_layout()
    return left


def channels_table(df: pd.DataFrame, ctx: Context) -> ui.Table:
    """The channel table with translated headers; a per-user ratio on a base under ``min_base`` shows its n."""
    cols = {"channel": "channel", "traffic_share": "ratio", "new_users": "int", "conversion_rate": "ratio",
            "cost": "currency", "ctr": "ratio", "cpc": "currency", "cac": "currency", "gmv": "currency",
            "roi": "roi", "retention": "ratio", "grade": "grade"}
    out = df[list(cols)].copy()
    out["channel"] = [_name(c, ctx) for c in out["channel"]]
    formats = {c: u for c, u in cols.items() if u not in ("channel", "grade")}
    for ratio, base in USER_BASES.items():
        small = [na.get(ratio) == "small_base" for na in df["na"]]
        if any(small):
            out[ratio] = _small_cells(out, ratio, cols[ratio], small, df[base].tolist(), ctx)
            formats.pop(ratio)
    labels = {c: ctx.t(f"insights.channels.col.{c}") for c in cols}
    return ui.table(out.rename(columns=labels), ctx.lang, formats={labels[c]: u for c, u in formats.items()},
                    currency=ctx.settings.currency)


def channels_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    """What to do with the budget, ranked: mismatches of budget and return (largest gap first), the C and S
    grades, channels without new users. The grades rest only on ratios with a base of ``min_base``."""
    out: list[tuple[float, str]] = []
    gap = ctx.settings.problems.budget_gap_pp / 100
    for _, row in df.iterrows():
        b, r = row["budget_share"], row["return_share"]
        if b is None or r is None:
            continue
        if b - r >= gap:
            out.append((b - r, ctx.t("insights.channels.bullet.over_budget", channel=_name(row["channel"], ctx),
                                     budget=fmt.pct(b, ctx.lang), ret=fmt.pct(r, ctx.lang))))
        elif r - b >= gap:
            out.append((r - b - 1e-9, ctx.t("insights.channels.bullet.under_budget", channel=_name(row["channel"], ctx),
                                            budget=fmt.pct(b, ctx.lang), ret=fmt.pct(r, ctx.lang))))
    lines = [text for _, text in sorted(out, key=lambda x: -x[0])]
    graded = df[df["grade"].notna()]
    # a C grade is relative (the weakest scores among the channels); cutting budget is advised only where ROI is
    # also under the problems page's threshold, as that page judges it
    thr = ctx.settings.problems.roi_threshold
    losing = graded["roi"].map(lambda r: r is not None and float(r) < thr)
    for key, g in (("C", graded[(graded["grade"] == "C") & losing]),
                   ("C_above", graded[(graded["grade"] == "C") & ~losing]), ("S", graded[graded["grade"] == "S"])):
        if not g.empty:
            items = [ctx.t("insights.channels.bullet.grade_item", channel=_name(c, ctx), roi=fmt.ratio_x(r, ctx.lang),
                           cac=_money(a, ctx)) for c, r, a in zip(g["channel"], g["roi"], g["cac"], strict=True)]
            lines.append(ctx.t(f"insights.channels.bullet.grade_{key}", channels=_sep(ctx).join(items),
                               threshold=fmt.ratio_x(thr, ctx.lang)))
    no_cac = [_name(c, ctx) for c, na in zip(df["channel"], df["na"], strict=True)
              if na.get("cac") == "no_new_users"]
    if no_cac:
        lines.append(ctx.t("insights.channels.bullet.no_cac", channels=_sep(ctx).join(no_cac)))
    small = [_name(c, ctx) for c, na in zip(df["channel"], df["na"], strict=True)
             if any(na.get(r) == "small_base" for r in USER_BASES)]
    if small:
        lines.append(ctx.t("insights.channels.bullet.small_base", n=len(small), min=ctx.settings.min_base))
    return lines[:5] or [ctx.t("insights.channels.bullet.none")]


# ---------------------------------------------------------------- RFM


def _rfm(ctx: Context) -> pd.DataFrame:
    ins = ctx.settings.insights
    df = rfm_segments(ctx.pack, ctx.effective_period, ins.rfm_rules, scoring=ins.rfm_scoring,
                      analysis_date=ins.rfm_analysis_date)
    labels = {r.segment: r.label(ctx.lang) for r in ins.rfm_rules}
    labels[OTHERS] = ctx.t("insights.rfm.others")
    return df.assign(label=[labels.get(s, s) for s in df["segment"]])


def rfm_chart(df: pd.DataFrame, ctx: Context) -> Any:
    """Customer share and revenue share per segment (horizontal grouped bars)."""
    d = df[df["customers"] > 0]
    long = pd.DataFrame({
        "segment": list(d["label"]) * 2,
        "share": [float(x) for x in d["share"]] + [float(x or 0.0) for x in d["revenue_share"]],
        "kind": [ctx.t("insights.rfm.col.share")] * len(d) + [ctx.t("insights.rfm.col.revenue_share")] * len(d),
    })
    ax = charts.new_ax(figsize=(8.0, max(2.6, 0.5 * len(d) + 1.0)))
    return charts.bar(long, x="segment", y="share", hue="kind", horizontal=True, unit="ratio", ax=ax,
                      title=ctx.t("insights.rfm.chart"))


def rfm_table(df: pd.DataFrame, ctx: Context) -> ui.Table:
    """Segments with customers (empty segments left out), revenue and mean R/F/M; the caption names the base."""
    cols = {"label": None, "customers": "int", "share": "ratio", "revenue": "currency", "revenue_share": "ratio",
            "recency": "score", "frequency": "score", "monetary": "currency"}
    labels = {c: ctx.t(f"insights.rfm.col.{c}") for c in cols}
    formats = {labels[c]: u for c, u in cols.items() if u}
    d = ctx.settings.insights.rfm_analysis_date or ctx.effective_period.last_day
    cap = ctx.t("insights.rfm.caption", n=fmt.number(int(df["customers"].sum()), ctx.lang), date=_date(d, ctx))
    shown = df[df["customers"] > 0]
    return ui.table(shown[list(cols)].rename(columns=labels), ctx.lang, formats=formats,
                    currency=ctx.settings.currency, caption=cap)


#: Segments whose customers used to buy often and well and have not bought for long (default and r_rfm maps).
AT_RISK = ("At Risk", "Can't Lose", "Can't Lose Them")


def rfm_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    """Conclusion first: where the revenue sits (the fewest segments, by spend per customer, holding half of
    it), then the revenue at risk and how long those customers have been away."""
    d = df[(df["customers"] > 0)].copy()
    out = []
    if d["revenue_share"].notna().any():
        d["_m"] = d["revenue"] / d["customers"]
        top = d.sort_values("_m", ascending=False)
        cum = top["revenue_share"].astype(float).cumsum()
        n = int((cum < 0.5).sum()) + 1
        head = top.head(n)
        out.append(ctx.t("insights.rfm.bullet.concentration", segments=_sep(ctx).join(f"“{x}”" for x in head["label"]),
                         share=fmt.pct(float(head["share"].astype(float).sum()), ctx.lang),
                         revenue=fmt.pct(float(head["revenue_share"].astype(float).sum()), ctx.lang)))
        risk = d[d["segment"].isin(AT_RISK)]
        n_risk = int(risk["customers"].sum())
        if n_risk > 0:
            days = float((risk["recency"].astype(float) * risk["customers"]).sum()) / n_risk
            out.append(ctx.t("insights.rfm.bullet.at_risk", segments=_sep(ctx).join(f"“{x}”" for x in risk["label"]),
                             n=fmt.number(n_risk, ctx.lang), days=f"{days:,.0f}",
                             revenue=fmt.pct(float(risk["revenue_share"].astype(float).sum()), ctx.lang)))
    return out or [ctx.t("insights.rfm.bullet.none")]


# ---------------------------------------------------------------- regions


def _regions(ctx: Context) -> RegionsResult:
    return regions(ctx.pack, ctx.effective_period, min_base=ctx.settings.min_base)


def _region(x: Any, r: RegionsResult, ctx: Context) -> str:
    if x == OTHER:
        return ctx.t("insights.regions.other", n=r.folded)
    return _name(x, ctx)


def regions_chart(r: RegionsResult, ctx: Context) -> Any:
    """GMV (or users) per region, top 15 (the folded small regions as one bar)."""
    d = r.table.head(15)
    data = pd.DataFrame({"region": [_region(x, r, ctx) for x in d["region"]],
                         "value": [float(v or 0.0) for v in d[r.basis]]})
    ax = charts.new_ax(figsize=(8.0, max(2.4, 0.35 * len(d) + 1.0)))
    return charts.bar(data, x="region", y="value", horizontal=True, ax=ax, colors=[PALETTE["accent"]] * len(d),
                      title=ctx.t(f"insights.regions.chart_{r.basis}"), unit="currency" if r.basis == "gmv" else "count",
                      lang=ctx.lang, currency=ctx.settings.currency)


def regions_table(r: RegionsResult, ctx: Context) -> ui.Table:
    """Per-region users, GMV, share and growth; a growth on a base under ``min_base`` shows its n."""
    cols = {"region": None, "users": "int", "new_users": "int", "active_users": "int", "gmv": "currency",
            "share": "ratio", "gmv_growth": "change", "active_users_growth": "change"}
    out = r.table[list(cols)].copy()
    out["region"] = [_region(x, r, ctx) for x in out["region"]]
    formats = {c: u for c, u in cols.items() if u}
    for g in ("gmv_growth", "active_users_growth"):
        small = [na.get(g) == "small_base" for na in r.table["na"]]
        if any(small):
            base = f"{GROWTH_BASE[g.removesuffix('_growth')]}_prev"
            out[g] = _small_cells(out, g, "change", small, r.table[base].tolist(), ctx)
            formats.pop(g)
    labels = {c: ctx.t(f"insights.regions.col.{c}") for c in cols}
    cap = None
    if r.folded and r.min_base is not None:
        cap = ctx.t("insights.regions.caption_folded", n=r.folded, min=r.min_base,
                    base=ctx.t(f"insights.regions.base.{'active' if r.table['active_users'].notna().any() else 'buyers'}"))
    return ui.table(out.rename(columns=labels), ctx.lang, formats={labels[c]: u for c, u in formats.items()},
                    currency=ctx.settings.currency, caption=cap)


def growth_case(best: float, worst: float) -> str:
    """Which sentence fits the regions' changes: the words follow the signs, never the ranking alone.

    ``growth`` (one grew most, one declined most), ``all_grew`` (the smallest change is still a rise),
    ``all_declined`` (the largest is still a fall).
    """
    if worst >= 0:
        return "all_grew"
    if best < 0:
        return "all_declined"
    return "growth"


def regions_bullets(r: RegionsResult, ctx: Context) -> list[str]:
    """Concentration first (top region and HHI in one sentence), then the regions that moved most among those
    whose growth rests on a base of ``min_base`` buyers (the folded "other" row is not a region)."""
    if r.top_region is None:
        return [ctx.t("insights.regions.bullet.none")]
    level = "high" if (r.hhi or 0) >= 0.25 else "moderate" if (r.hhi or 0) >= 0.15 else "low"
    out = [ctx.t(f"insights.regions.bullet.concentration_{level}_{r.basis}", region=_name(r.top_region, ctx),
                 share=fmt.pct(r.top_share, ctx.lang), n=r.regions, hhi=f"{r.hhi:.2f}")]
    g = r.table[r.table["gmv_growth"].notna() & (r.table["region"] != OTHER)]
    if len(g) >= 2:
        vals = g["gmv_growth"].astype(float)
        up, down = g.loc[vals.idxmax()], g.loc[vals.idxmin()]
        out.append(ctx.t(f"insights.regions.bullet.{growth_case(vals.max(), vals.min())}",
                         up=_name(up["region"], ctx), up_change=fmt.pct(up["gmv_growth"], ctx.lang, signed=True),
                         down=_name(down["region"], ctx),
                         down_change=fmt.pct(down["gmv_growth"], ctx.lang, signed=True)))
    return out


# ---------------------------------------------------------------- attribution


def _attribution(ctx: Context) -> pd.DataFrame:
    return attribution(ctx.pack, ctx.effective_period, ctx.settings.insights)


def attribution_chart(df: pd.DataFrame, ctx: Context) -> Any:
    """Credited conversions per channel, one bar per model."""
    long = df.melt(id_vars="channel", value_vars=list(MODELS), var_name="model", value_name="credit")
    long["model"] = [ctx.t(f"insights.attribution.model.{m}") for m in long["model"]]
    long["channel"] = [_name(c, ctx) for c in long["channel"]]
    ax = charts.new_ax(figsize=(9.0, 3.8))
    return charts.bar(long, x="channel", y="credit", hue="model", ax=ax, title=ctx.t("insights.attribution.chart"),
                      ylabel=ctx.t("insights.attribution.ylabel"), unit="count", lang=ctx.lang)


def attribution_table(df: pd.DataFrame, ctx: Context) -> ui.Table:
    """Side-by-side credits; the caption names the base: paying users and those without a touchpoint."""
    out = df.copy()
    out["channel"] = [_name(c, ctx) for c in out["channel"]]
    out[list(MODELS)] = out[list(MODELS)].round(1)
    labels = {"channel": ctx.t("insights.attribution.col.channel")}
    labels |= {m: ctx.t(f"insights.attribution.model.{m}") for m in MODELS}
    a = df.attrs
    cap = ctx.t("insights.attribution.caption", conversions=fmt.number(a["conversions"], ctx.lang),
                attributed=fmt.number(a["attributed"], ctx.lang),
                unattributed=fmt.number(a["unattributed"], ctx.lang),
                share=fmt.pct(a["unattributed"] / a["conversions"], ctx.lang) if a["conversions"] else fmt.na(ctx.lang),
                lookback=ctx.settings.insights.attribution_lookback_days)
    return ui.table(out.rename(columns=labels), ctx.lang, caption=cap)


def attribution_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    """The channel the data-driven model credits most against last touch, and where last touch misleads most."""
    a = df.attrs
    if a["attributed"] == 0 or df.empty:
        return [ctx.t("insights.attribution.bullet.none", conversions=fmt.number(a["conversions"], ctx.lang))]
    out = []
    diff = (df["markov"] - df["last"]) / a["attributed"]
    i = diff.abs().idxmax()
    misjudged = abs(diff[i]) >= 0.05
    top = df.iloc[0]
    kw = {"channel": _name(top["channel"], ctx), "share": fmt.pct(top["markov"] / a["attributed"], ctx.lang),
          "last": fmt.pct(top["last"] / a["attributed"], ctx.lang)}
    if misjudged and i == df.index[0]:  # the same channel: one sentence, not two
        key = "top_undervalued" if diff[i] > 0 else "top_overvalued"
        return [ctx.t(f"insights.attribution.bullet.{key}", **kw, diff=fmt.pp(abs(diff[i]), ctx.lang, signed=False))]
    if misjudged:
        key = "undervalued" if diff[i] > 0 else "overvalued"
        out.append(ctx.t(f"insights.attribution.bullet.{key}", channel=_name(df.at[i, "channel"], ctx),
                         diff=fmt.pp(abs(diff[i]), ctx.lang, signed=False)))
    out.append(ctx.t("insights.attribution.bullet.top", **kw))
    return out


# ---------------------------------------------------------------- facts (what the rules of opsnb.invariants read)


def _where(ctx: Context) -> str:
    return facts.span(ctx.effective_period)


def channels_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """The channels' shares of traffic, budget and return (each a whole: every channel with one, the unknown
    channel included) and each grade with the smallest base its graded ratios rest on."""
    where, period, lang = _where(ctx), ctx.period.label, ctx.lang
    out: list[Fact] = []
    for col, what in (("traffic_share", "traffic"), ("budget_share", "budget"), ("return_share", "return")):
        rows = [(c, v, fmt.pct(v, lang)) for c, v in zip(df["channel"], df[col], strict=True) if not fmt.is_missing(v)]
        # the traffic shares are printed in the table, the budget and return shares drawn in the chart
        out += facts.shares(f"channels.{what}_share", f"channels.{what}", rows, where=where, period=period,
                            source="insights.channels", definition=f"the channel's share of all channels' {what}",
                            printed=None if what == "traffic" else False)
    weights = [k for k, w in ctx.settings.insights.channel_grade_weights.items() if w > 0 and k in USER_BASES]
    for r in df[df["grade"].notna()].to_dict("records"):
        bases = [int(r[USER_BASES[k]]) for k in weights if not fmt.is_missing(r[USER_BASES[k]])]
        out.append(facts.make(facts.key(f"channels.{r['channel']}", "grade", where), r["score"], "score", str(r["grade"]),
                              period=period, source="insights.channels", base=min(bases) if bases else None,
                              verdict=str(r["grade"]), definition="the channel's grade (ROI, CAC, retention)"))
    return out


def rfm_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """The segments' shares of customers and of revenue, each a whole (the 其他/Other segment included)."""
    d = df[df["customers"] > 0]
    where = (ctx.settings.insights.rfm_analysis_date or ctx.effective_period.last_day).isoformat()
    out = []
    for col, what in (("share", "customers"), ("revenue_share", "revenue")):
        rows = [(s, v, fmt.pct(v, ctx.lang)) for s, v in zip(d["segment"], d[col], strict=True) if not fmt.is_missing(v)]
        out += facts.shares(f"rfm.{what}_share", f"rfm.{what}", rows, where=where, period=ctx.period.label,
                            source="insights.rfm", definition=f"the segment's share of all customers' {what}")
    return out


def regions_facts(r: RegionsResult, ctx: Context) -> list[Fact]:
    """The regions' shares of the basis (a whole: the folded "other" row included), each growth shown with the two
    values it is between and the base it rests on, and the fastest and slowest the sentence names."""
    where, period, lang = _where(ctx), ctx.period.label, ctx.lang
    t = r.table
    out = facts.shares(f"regions.{r.basis}_share", f"regions.{r.basis}", [
        (x, v, fmt.pct(v, lang)) for x, v in zip(t["region"], t["share"], strict=True) if not fmt.is_missing(v)],
        where=where, period=period, source="insights.regions", definition=f"the region's share of {r.basis}")
    g = t[t["gmv_growth"].notna() & (t["region"] != OTHER)]
    named = {}
    if len(g) >= 2:
        vals = g["gmv_growth"].astype(float)
        named = {g.at[vals.idxmax(), "region"]: "fastest", g.at[vals.idxmin(), "region"]: "slowest"}
    for x in t.to_dict("records"):
        for c in ("gmv", "active_users"):
            if fmt.is_missing(x[f"{c}_growth"]):
                continue
            out.append(facts.change(facts.key(f"regions.{x['region']}", f"{c}_growth", where), x[f"{c}_growth"],
                                    fmt.pct(x[f"{c}_growth"], lang, signed=True), now=x[c], before=x[f"{c}_prev"],
                                    kind="relative", unit="count", period=period, source="insights.regions",
                                    base=x[f"{GROWTH_BASE[c]}_prev"], definition=f"{c} against the previous period",
                                    verdict=named.get(x["region"]) if c == "gmv" else None))
    return out


def attribution_facts(df: pd.DataFrame, ctx: Context) -> list[Fact]:
    """Each model's credits by channel, the parts of the attributed conversions the caption gives (every model
    hands out all of them)."""
    a = df.attrs
    where, period = _where(ctx), ctx.period.label
    out = []
    for m in MODELS:
        total = facts.key(f"attribution.{m}", "attributed", where)
        out.append(facts.make(total, a["attributed"], "count", fmt.number(a["attributed"], ctx.lang), period=period,
                              source="insights.attribution", definition="paying users with a touchpoint"))
        out += [facts.make(facts.key(f"attribution.{m}|{c}", "credit", where), v, "count", f"{float(v):.1f}",
                           period=period, source="insights.attribution", part_of=total,
                           definition=f"conversions credited to the channel ({m})")
                for c, v in zip(df["channel"], df[m], strict=True)]
    return out


SUBSECTIONS: list[Subsection] = [
    Subsection("insights.channels", _channels, chart=channels_chart, table=channels_table, bullets=channels_bullets,
               facts=channels_facts),
    Subsection("insights.rfm", _rfm, chart=rfm_chart, table=rfm_table, bullets=rfm_bullets, facts=rfm_facts),
    Subsection("insights.regions", _regions, chart=regions_chart, table=regions_table, bullets=regions_bullets,
               facts=regions_facts),
    Subsection("insights.attribution", _attribution, chart=attribution_chart, table=attribution_table,
               bullets=attribution_bullets, facts=attribution_facts),
]
