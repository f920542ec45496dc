"""The campaigns section (02 关键举措与成果): campaign results, uplift, after-effect, content, programmes, A/B.

Every function takes a metrics result first and returns an Axes, a table or bullets; the numbers
come from :mod:`opsnb.metrics.campaigns`, :mod:`~opsnb.metrics.content`,
:mod:`~opsnb.metrics.programmes` and :mod:`~opsnb.metrics.abtest`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb.metrics import abtest as abm
from opsnb.metrics import campaigns as cm
from opsnb.metrics import content as ctm
from opsnb.metrics import programmes as pgm
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context


def _money(x: Any, lang: str, currency: str = "¥") -> str:
    return fmt.money(x, lang, currency=currency)


def _reason(code: Any, lang: str) -> str | None:
    return None if code is None or (isinstance(code, float) and pd.isna(code)) or pd.isna(code) \
        else t(f"campaigns.reason.{code}", lang)


def _na(v: Any, code: Any, lang: str, show: Any) -> str:
    """``show(v)``, or "n/a (reason)" when ``v`` is undefined."""
    return fmt.na(lang, _reason(code, lang)) if fmt.is_missing(v) else show(v)


def _day(d: date, lang: str) -> str:
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b")


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _cols(df: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    """Select ``names`` (column → label key) and translate the labels."""
    return df[list(names)].rename(columns={c: t(f"campaigns.col.{k}", lang) for c, k in names.items()})


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


def results_tables(res: pd.DataFrame, lang: str, currency: str | None = None) -> list[ui.Table]:
    """The ranking table with translated labels, low-ROI campaigns flagged; then targets, when any campaign has one."""
    df = res.copy()
    df["flag"] = [t("campaigns.col.low_roi", lang) if low else ("" if not pd.isna(r) else _reason(why, lang))
                  for low, r, why in zip(df["low_roi"], df["roi"], df["roi_reason"], strict=True)]
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


def results_table(res: pd.DataFrame, lang: str, currency: str | None = None) -> ui.Table | ui.Html:
    """:func:`results_tables` as one block."""
    parts = results_tables(res, lang, currency)
    return parts[0] if len(parts) == 1 else ui.tables(*parts)


def results_bullets(res: pd.DataFrame, lang: str, *, threshold: float = 1.0, currency: str = "¥") -> list[str]:
    """Written-review lines: the summary, one line per campaign, the best campaign and low-ROI flags."""
    money = lambda x: _money(x, lang, currency)  # noqa: E731
    gmv, cost = float(res["gmv"].sum()), float(res["cost"].sum())
    total_roi, why = cm.ratio(gmv, cost, "zero_cost")
    out = [t("campaigns.results.bullet.summary", lang, n=len(res), participants=fmt.number(res["participants"].sum(), lang),
             gmv=money(gmv), cost=money(cost), roi=_na(total_roi, why, lang, lambda v: fmt.ratio_x(v, lang)))]
    for r in res.to_dict("records"):
        target = ""
        if not pd.isna(r["target_new_users"]):
            target = t("campaigns.results.bullet.target", lang, target=fmt.number(r["target_new_users"], lang),
                       attainment=_na(r["new_users_attainment"], r["new_users_attainment_reason"], lang,
                                      lambda v: fmt.pct(v, lang)))
        out.append(t("campaigns.results.bullet.line", lang, name=r["name"], gmv=money(r["gmv"]), cost=money(r["cost"]),
                     roi=_na(r["roi"], r["roi_reason"], lang, lambda v: fmt.ratio_x(v, lang)),
                     new_users=_na(r["new_users"], "no_users_table", lang, lambda v: fmt.number(v, lang, compact=False)),
                     target=target))
        if not pd.isna(r["target_gmv"]):
            out.append(t("campaigns.results.bullet.gmv_target", lang, name=r["name"], target=money(r["target_gmv"]),
                         attainment=_na(r["gmv_attainment"], r["gmv_attainment_reason"], lang, lambda v: fmt.pct(v, lang))))
    ranked = res[res["roi_rank"].notna()]
    if len(ranked) > 1:
        b = ranked.iloc[0]
        out.append(t("campaigns.results.bullet.best", lang, name=b["name"], roi=fmt.ratio_x(b["roi"], lang),
                     conversion=_na(b["conversion"], b["conversion_reason"], lang, lambda v: fmt.pct(v, lang)),
                     cac=_na(b["cac"], b["cac_reason"], lang, money)))
    for r in res[res["low_roi"]].to_dict("records"):
        out.append(t("campaigns.results.bullet.low_roi", lang, name=r["name"], roi=fmt.ratio_x(r["roi"], lang),
                     threshold=fmt.ratio_x(threshold, lang)))
    return out


# ---------------------------------------------------------------- uplift


def uplift_chart(up: pd.DataFrame, *, labels: tuple[str, str], ax: Any = None, title: str | None = None,
                 lang: str = "zh", currency: str | None = None) -> Any:
    """Grouped bars: GMV during each campaign and in its baseline (undefined baselines left out)."""
    d = up[up["gmv_baseline"].notna()]
    long = pd.DataFrame({
        "name": [str(n) for n in d["name"]] * 2,
        "gmv": [float(v) for v in d["gmv"]] + [float(v) for v in d["gmv_baseline"]],
        "window": [labels[0]] * len(d) + [labels[1]] * len(d),
    })
    return charts.bar(long, x="name", y="gmv", hue="window", ax=ax, title=title, unit="currency", lang=lang,
                      currency=currency)


def uplift_table(up: pd.DataFrame, lang: str, currency: str = "¥") -> ui.Table:
    """GMV, baseline, uplift and YoY per campaign with caveats."""
    df = up.copy()
    for c in ("gmv", "gmv_baseline", "gmv_uplift", "gmv_yoy", "new_users", "new_users_uplift"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    df["caveat_text"] = [_join(([t("campaigns.caveat.overlap", lang)] if o else [])
                               + ([t("campaigns.caveat.holiday", lang)] if h else []), lang)
                         for o, h in zip(df["baseline_overlaps"], df["baseline_holidays"], strict=True)]
    names = {"name": "name", "start": "start", "end": "end", "gmv": "gmv", "gmv_baseline": "baseline",
             "gmv_uplift": "uplift", "gmv_yoy": "yoy", "new_users": "new_users", "new_users_uplift": "new_users_uplift",
             "caveat_text": "caveat"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["gmv"]: "currency", lab["gmv_baseline"]: "currency", lab["gmv_uplift"]: "change",
               lab["gmv_yoy"]: "change", lab["new_users"]: "int", lab["new_users_uplift"]: "change"}
    return ui.table(_cols(df, names, lang), lang, formats=formats, currency=currency)


def uplift_bullets(up: pd.DataFrame, lang: str, currency: str = "¥") -> list[str]:
    """One line per campaign (GMV and new users vs baseline and last year), then the caveats."""
    out = []
    for r in up.to_dict("records"):
        chg = lambda v, why: _na(v, why, lang, lambda x: fmt.pct(x, lang, signed=True))  # noqa: E731
        out.append(t("campaigns.uplift.bullet.line", lang, name=r["name"], days=r["days"],
                     gmv=_money(r["gmv"], lang, currency),
                     base=_na(r["gmv_baseline"], r["gmv_uplift_reason"], lang, lambda v: _money(v, lang, currency)),
                     change=chg(r["gmv_uplift"], r["gmv_uplift_reason"]), yoy=chg(r["gmv_yoy"], r["gmv_yoy_reason"]),
                     new_users=_na(r["new_users"], r["new_users_uplift_reason"], lang,
                                   lambda v: fmt.number(v, lang, compact=False)),
                     nu_change=chg(r["new_users_uplift"], r["new_users_uplift_reason"])))
        if r["baseline_overlaps"]:
            names = dict(zip(up["campaign_id"], up["name"], strict=True))
            out.append(t("campaigns.uplift.bullet.overlap", lang, name=r["name"],
                         others=_join([str(names.get(c, c)) for c in r["baseline_overlaps"]], lang)))
        if r["baseline_holidays"]:
            out.append(t("campaigns.uplift.bullet.holiday", lang, name=r["name"],
                         dates=_join([_day(d, lang) for d in r["baseline_holidays"]], lang)))
    return out


# ---------------------------------------------------------------- after-effect


def after_chart(ae: pd.DataFrame, *, labels: tuple[str, str], ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars of the follow-up purchase rate: participants vs the comparison group."""
    d = ae[ae["repurchase_comparison"].notna() & ae["repurchase_participants"].notna()]
    long = pd.DataFrame({
        "name": [str(n) for n in d["name"]] * 2,
        "rate": [float(v) for v in d["repurchase_participants"]] + [float(v) for v in d["repurchase_comparison"]],
        "group": [labels[0]] * len(d) + [labels[1]] * len(d),
    })
    return charts.bar(long, x="name", y="rate", hue="group", ax=ax, title=title, unit="ratio")


def after_table(ae: pd.DataFrame, lang: str) -> ui.Table:
    """Group sizes and rates for each campaign."""
    df = ae.copy()
    for c in ("repurchase_participants", "repurchase_comparison", "repurchase_diff", "retention_participants",
              "retention_comparison"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    names = {"name": "name", "participants": "participants", "comparison": "comparison",
             "repurchase_participants": "repurchase_p", "repurchase_comparison": "repurchase_c",
             "repurchase_diff": "repurchase_diff", "retention_participants": "retention_p",
             "retention_comparison": "retention_c"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["participants"]: "int", lab["comparison"]: "int", lab["repurchase_participants"]: "ratio",
               lab["repurchase_comparison"]: "ratio", lab["repurchase_diff"]: "pp",
               lab["retention_participants"]: "ratio", lab["retention_comparison"]: "ratio"}
    return ui.table(_cols(df, names, lang), lang, formats=formats)


def after_bullets(ae: pd.DataFrame, lang: str, *, last_day: date | None = None) -> list[str]:
    """One line per campaign, with an interim note when the follow-up window is not over."""
    out = []
    for r in ae.to_dict("records"):
        rate = lambda k, r=r: _na(r[k], r.get(f"{k}_reason"), lang, lambda v: fmt.pct(v, lang))  # noqa: E731
        out.append(t("campaigns.after_effect.bullet.line", lang, name=r["name"], n=fmt.number(r["participants"], lang),
                     days=r["days"], rp=rate("repurchase_participants"), rc=rate("repurchase_comparison"),
                     m=fmt.number(r["comparison"], lang),
                     diff=_na(r["repurchase_diff"], r["repurchase_comparison_reason"], lang, lambda v: fmt.pp(v, lang)),
                     tp=rate("retention_participants"), tc=rate("retention_comparison")))
        if not r["complete"] and last_day is not None:
            out.append(t("campaigns.after_effect.bullet.incomplete", lang, name=r["name"], last_day=last_day.isoformat()))
    return out


# ---------------------------------------------------------------- content


def _group_label(row: dict[str, Any], lang: str) -> str:
    return f"{row['type']}·{row['channel']}" if lang == "zh" else f"{row['type']} · {row['channel']}"


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


def content_bullets(res: ctm.ContentResult, lang: str) -> list[str]:
    """Totals, one line per type · channel (top 5), the top item and the long tail."""
    g = res.by_group
    er, why = cm.ratio(int(g["engagements"].sum()), res.total_views, "zero_views")
    num = lambda v: fmt.number(v, lang)  # noqa: E731
    out = [t("campaigns.content.bullet.summary", lang, n=res.total_items, views=num(res.total_views),
             er=_na(er, why, lang, lambda v: fmt.pct(v, lang)), followers=num(g["followers_gained"].sum()),
             leads=num(g["leads"].sum()), conversions=num(g["conversions"].sum()))]
    for r in g.head(5).to_dict("records"):
        out.append(t("campaigns.content.bullet.group", lang, type=r["type"], channel=r["channel"], items=r["items"],
                     views=num(r["views"]), er=_na(r["engagement_rate"], r["engagement_reason"], lang,
                                                   lambda v: fmt.pct(v, lang)), followers=num(r["followers_gained"])))
    if len(res.items) and res.total_views > 0:
        top = res.items.iloc[0]
        title = top["content_id"] if pd.isna(top["title"]) else top["title"]
        out.append(t("campaigns.content.bullet.top", lang, title=title, channel=top["channel"], views=num(top["views"]),
                     er=_na(top["engagement_rate"], top["engagement_reason"], lang, lambda v: fmt.pct(v, lang))))
    if res.total_items > res.top_n and res.long_tail_share is not None:
        out.append(t("campaigns.content.bullet.tail", lang, n=res.top_n, share=fmt.pct(res.long_tail_share, lang)))
    return out


# ---------------------------------------------------------------- programmes


def programmes_chart(res: pd.DataFrame, *, lang: str = "zh", ax: Any = None, title: str | None = None) -> Any:
    """Bars of the defined programme rates."""
    d = res[res["value"].notna()]
    data = pd.DataFrame({"metric": [t(f"campaigns.programmes.metric.{m}", lang) for m in d["metric"]],
                         "value": [float(v) for v in d["value"]]})
    return charts.bar(data, x="metric", y="value", ax=ax, title=title, unit="ratio")


def programmes_table(res: pd.DataFrame, lang: str) -> ui.Table:
    """Metric, numerator, denominator and rate (n/a with its reason)."""
    df = res.copy()
    df["metric"] = [t(f"campaigns.programmes.metric.{m}", lang) for m in df["metric"]]
    df["value"] = [_na(v, why, lang, lambda x: fmt.pct(x, lang)) for v, why in zip(df["value"], df["reason"], strict=True)]
    names = {"metric": "metric", "numerator": "numerator", "denominator": "denominator", "value": "value"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    return ui.table(_cols(df, names, lang), lang, formats={lab["numerator"]: "int", lab["denominator"]: "int"})


def programmes_bullets(res: pd.DataFrame, lang: str) -> list[str]:
    """One sentence per programme rate."""
    return [t(f"campaigns.programmes.bullet.{r['metric']}", lang,
              value=_na(r["value"], r["reason"], lang, lambda v: fmt.pct(v, lang)),
              num=fmt.number(r["numerator"], lang), den=fmt.number(r["denominator"], lang))
            for r in res.to_dict("records")]


# ---------------------------------------------------------------- A/B


def ab_chart(res: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Conversion per experiment variant."""
    d = res[res["conversion"].notna()]
    data = pd.DataFrame({"variant": [f"{e} / {v}" for e, v in zip(d["experiment"], d["variant"], strict=True)],
                         "conversion": [float(v) for v in d["conversion"]]})
    return charts.bar(data, x="variant", y="conversion", ax=ax, title=title, unit="ratio")


def ab_table(res: pd.DataFrame, lang: str) -> ui.Table:
    """Users, converters, conversion, difference, CI and p-value per variant."""
    df = res.copy()
    df["ci"] = ["" if pd.isna(lo) else f"[{fmt.pp(lo, lang)}, {fmt.pp(hi, lang)}]"
                for lo, hi in zip(df["ci_low"], df["ci_high"], strict=True)]
    df["p"] = [_reason(why, lang) if pd.isna(p) else fmt.p_value(p, lang)
               for p, why in zip(df["p_value"], df["reason"], strict=True)]
    df["sig"] = ["" if pd.isna(s) else t("campaigns.col.is_yes" if s else "campaigns.col.is_no", lang)
                 for s in df["significant"]]
    for c in ("conversion", "diff"):
        df[c] = [None if pd.isna(v) else float(v) for v in df[c]]
    names = {"experiment": "experiment", "variant": "variant", "users": "users", "converters": "converters",
             "conversion": "conversion", "diff": "diff", "ci": "ci", "p": "p_value", "sig": "significant"}
    lab = {k: t(f"campaigns.col.{v}", lang) for k, v in names.items()}
    formats = {lab["users"]: "int", lab["converters"]: "int", lab["conversion"]: "ratio", lab["diff"]: "pp"}
    return ui.table(_cols(df, names, lang), lang, formats=formats)


def ab_bullets(res: pd.DataFrame, lang: str, *, alpha: float = 0.05) -> list[str]:
    """One sentence per tested variant: significant, not significant, or undefined with its reason."""
    out = []
    level = fmt.pct(1 - alpha, lang, digits=0)
    for r in res[~res["is_control"]].to_dict("records"):
        if pd.isna(r["p_value"]):
            out.append(t("campaigns.ab.bullet.undefined", lang, experiment=r["experiment"], variant=r["variant"],
                         control=r["control"], reason=_reason(r["reason"], lang)))
            continue
        key = "significant" if r["significant"] else "not_significant"
        out.append(t(f"campaigns.ab.bullet.{key}", lang, experiment=r["experiment"], variant=r["variant"],
                     rate=fmt.pct(r["conversion"], lang), n=fmt.number(r["users"], lang), control=r["control"],
                     crate=fmt.pct(r["control_conversion"], lang), cn=fmt.number(r["control_users"], lang),
                     diff=fmt.pp(r["diff"], lang), level=level, lo=fmt.pp(r["ci_low"], lang),
                     hi=fmt.pp(r["ci_high"], lang), p=p_text(r["p_value"], lang)))
    return out


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


def timeline_bullets(tl: cm.Timeline, lang: str, currency: str = "¥") -> list[str]:
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


# ---------------------------------------------------------------- subsections


def _results(ctx: Context) -> pd.DataFrame:
    return ctx.memo("campaigns.results", lambda: cm.campaign_results(
        ctx.pack, ctx.period, roi_threshold=ctx.settings.problems.roi_threshold))


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
                                               currency=ctx.settings.currency),
    ),
    Subsection(
        "campaigns.uplift", lambda ctx: cm.uplift(ctx.pack, ctx.period, region=ctx.settings.region),
        chart=lambda r, ctx: uplift_chart(r, labels=(ctx.t("campaigns.uplift.during"), ctx.t("campaigns.uplift.baseline")),
                                          title=ctx.t("campaigns.uplift.chart_title"), lang=ctx.lang,
                                          currency=ctx.settings.currency)
        if r["gmv_baseline"].notna().any() else None,
        table=lambda r, ctx: uplift_table(r, ctx.lang, ctx.settings.currency),
        bullets=lambda r, ctx: uplift_bullets(r, ctx.lang, ctx.settings.currency),
    ),
    Subsection(
        "campaigns.after_effect",
        lambda ctx: cm.after_effect(ctx.pack, ctx.period, days=ctx.settings.campaigns.after_effect_days),
        chart=lambda r, ctx: after_chart(r, labels=(ctx.t("campaigns.after_effect.participants"),
                                                    ctx.t("campaigns.after_effect.comparison")),
                                         title=ctx.t("campaigns.after_effect.chart_title"))
        if r["repurchase_comparison"].notna().any() else None,
        table=lambda r, ctx: after_table(r, ctx.lang),
        bullets=lambda r, ctx: after_bullets(r, ctx.lang, last_day=ctx.data_last_day),
    ),
    Subsection(
        "campaigns.content",
        lambda ctx: ctm.content_performance(ctx.pack, ctx.period, top_n=ctx.settings.campaigns.top_n),
        chart=lambda r, ctx: content_chart(r, title=ctx.t("campaigns.content.chart_title"), lang=ctx.lang),
        table=lambda r, ctx: content_table(r, ctx.lang),
        bullets=lambda r, ctx: content_bullets(r, ctx.lang),
    ),
    Subsection(
        "campaigns.programmes",
        lambda ctx: pgm.programmes(ctx.pack, ctx.period, term_months=ctx.settings.campaigns.membership_term_months),
        chart=lambda r, ctx: programmes_chart(r, lang=ctx.lang, title=ctx.t("campaigns.programmes.chart_title"))
        if r["value"].notna().any() else None,
        table=lambda r, ctx: programmes_table(r, ctx.lang),
        bullets=lambda r, ctx: programmes_bullets(r, ctx.lang),
    ),
    Subsection(
        "campaigns.ab",
        lambda ctx: abm.ab_tests(ctx.pack, ctx.period, ctx.settings.campaigns.alpha,
                                 window_days=ctx.settings.campaigns.ab_days),
        chart=lambda r, ctx: ab_chart(r, title=ctx.t("campaigns.ab.chart_title")),
        table=lambda r, ctx: ab_table(r, ctx.lang),
        bullets=lambda r, ctx: ab_bullets(r, ctx.lang, alpha=ctx.settings.campaigns.alpha),
    ),
    Subsection(
        "campaigns.timeline", lambda ctx: cm.timeline(ctx.pack, ctx.period),
        chart=lambda r, ctx: timeline_chart(r, title=ctx.t("campaigns.timeline.chart_title"),
                                            gmv_label=ctx.t("campaigns.timeline.daily_gmv"), lang=ctx.lang,
                                            currency=ctx.settings.currency),
        bullets=lambda r, ctx: timeline_bullets(r, ctx.lang, ctx.settings.currency),
    ),
]
