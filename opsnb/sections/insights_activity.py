"""The insights section, part A (03 数据分析与洞察): activity, platforms, retention, lifecycle, funnels.

Every function takes a metrics result first and returns an Axes, a table or bullets; the numbers
come from :mod:`opsnb.metrics.activity`, :mod:`~opsnb.metrics.retention`,
:mod:`~opsnb.metrics.lifecycle` and :mod:`~opsnb.metrics.funnel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from opsnb import facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.metrics import activity as am
from opsnb.metrics import funnel as fm
from opsnb.metrics import lifecycle as lm
from opsnb.metrics import new_users as nm
from opsnb.metrics import retention as rm
from opsnb.metrics.rates import Rate
from opsnb.render import charts, fmt, ui
from opsnb.render.i18n import t
from opsnb.render.theme import PALETTE
from opsnb.sections.base import Subsection

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context

#: The event a funnel's buyers do (the shared event vocabulary, ``opsnb.pack.schemas.EVENT_NAMES``).
PURCHASE = "purchase"


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
    rows = []
    for key, unit in (("avg_dau", "count"), ("mau", "count"), ("stickiness", "ratio")):
        c = getattr(cur, key)
        p = getattr(prev, key) if prev else None
        y = getattr(ly, key) if ly else None
        rows.append({
            _col("metric", lang): _col(_kind_key(key, kind), lang),
            _col("current", lang): fmt.value(c, unit, lang),
            _col("previous", lang): fmt.value(p, unit, lang) if prev else fmt.na(lang),
            _col("mom", lang): fmt.change(c, p, unit, lang) if prev else fmt.na(lang),
            _col("last_year", lang): fmt.value(y, unit, lang) if ly else fmt.na(lang),
            _col("yoy", lang): fmt.change(c, y, unit, lang) if ly else fmt.na(lang),
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


def activity_bullets(res: am.ActivityResult, lang: str, *, first_day: Any = None) -> list[str]:
    """What moved and why, conclusion first: DAU against MAU (so stickiness), then the day range.

    Never one table row in words: the first line reads the three rows together (more users but
    fewer visits each, or both moving one way), the second the daily extremes against the median, over
    open days after the first :data:`WARM_UP_DAYS` days of the data (``first_day``: the data's first day).
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
    d = res.daily[res.daily["open"]] if "open" in res.daily else res.daily  # a closed day is not a low day
    warm = ""
    if first_day is not None:
        settled = pd.Timestamp(first_day) + pd.Timedelta(days=WARM_UP_DAYS)
        if (d["date"] < settled).any():
            d = d[d["date"] >= settled]
            warm = t(f"{k}.warm_up", lang, days=WARM_UP_DAYS)
    if len(d) > 1 and d["dau"].max() > 0:
        hi = d.iloc[int(d["dau"].to_numpy().argmax())]
        lo = d.iloc[int(d["dau"].to_numpy().argmin())]
        med = float(d["dau"].median())
        out.append(t(f"{k}.range" if med > 0 else f"{k}.peak", lang, peak_day=_day(hi["date"], lang), peak=fmt.number(hi["dau"], lang),
                     low_day=_day(lo["date"], lang), low=fmt.number(lo["dau"], lang),
                     median=fmt.number(med, lang), gap=fmt.pct(1 - float(lo["dau"]) / med, lang) if med else fmt.na(lang),
                     warm=warm))
    return out


def _day(ts: Any, lang: str) -> str:
    d = pd.Timestamp(ts)
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b")


def _date(ts: Any, lang: str) -> str:
    """A day with its year: "2026年10月31日" / "31 Oct 2026"."""
    d = pd.Timestamp(ts)
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b %Y")


def _days(period: Any, lang: str) -> str:
    """A span of days as readers name it: its label when it is a whole month, else first–last day."""
    if period.end == period.full.end and period.kind == "month":
        return str(period.label)
    return t("insights.word.span", lang, first=_date(period.start, lang), last=_date(period.last_day, lang))


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
            elif _missing(r.rate):
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
    p1 = long[(long["period"] == 1) & long["complete"] & (long["cohort_size"] > 0)]
    if len(p1):
        last, earlier = p1.iloc[-1], p1.iloc[:-1]
        r = Rate(int(last["users"]), int(last["cohort_size"]))
        kw = {"cohort": last["cohort_label"], "size": fmt.number(r.base, lang), "name": name,
              "rate": fmt.pct(r.value, lang)}
        if r.small(view.min_base):
            out.append(t(f"{k}.latest_small", lang, **kw, min=view.min_base))
        elif earlier.empty:
            out.append(t(f"{k}.latest", lang, **kw))
        else:
            pooled = Rate(int(earlier["users"].sum()), int(earlier["cohort_size"].sum()))
            verdict = ("higher" if (r.value or 0) > (pooled.value or 0) else "lower") if r.differs_from(pooled) \
                else "same"
            out.append(t(f"{k}.latest_{verdict}", lang, **kw, avg=fmt.pct(pooled.value, lang), cohorts=len(earlier),
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
    gaps = [t(f"{k}.gap.{g}", lang, n=num(v), as_of=_date(nu.as_of, lang))
            for g, v in (("signed_up_never_active", nu.signed_up_never_active),
                         ("signed_up_active_elsewhere", nu.signed_up_active_elsewhere),
                         ("active_not_signed_up", nu.active_not_signed_up),
                         ("active_not_registered", nu.active_not_registered),
                         ("registered_not_active", nu.registered_not_active)) if v]
    day = ""
    if nu.day is not None and nu.day_users * 2 >= nu.differing:
        which = "one" if nu.differing == 1 else "all" if nu.day_users == nu.differing else "most"
        day = t(f"{k}.day_{which}", lang, n=num(nu.differing), k=num(nu.day_users), day=_date(nu.day, lang))
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
            row[f"D{r.day_n}"] = fmt.na(lang) if _missing(r.rate) else \
                f"{fmt.pct(r.rate, lang)} ({fmt.number(r.retained, lang, compact=False)})"
        rows.append(row)
    d30 = view.labels.get("retention_d30")
    cap = t("insights.new_vs_returning.caption", lang, span=_days(cur.cohort, lang), as_of=_date(cur.as_of, lang),
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
    span = _days(cur.cohort, lang)
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
            kw |= {"prev_span": _days(prev.cohort, lang) if prev else "", "prev": fmt.pct(old.value, lang),
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
                     users=fmt.number(d1.base - d1.num, lang), n=first, as_of=_date(cur.as_of, lang)))
    return out


def day_n_facts(view: DayNView, ctx: Context) -> list[Fact]:
    """D-N retention of each group on its matured base, keyed by the base's first-active days."""
    cur = view.current
    where = facts.span(cur.cohort)
    out = []
    for r in cur.table.itertuples():
        out.append(facts.make(facts.key(f"retention.{r.group}", f"d{r.day_n}", where), None if _missing(r.rate)
                              else float(r.rate), "ratio", fmt.pct(r.rate, ctx.lang), period=ctx.period.label,
                              source="insights.new_vs_returning",
                              definition=f"{r.group} users first active {where}: active on day {r.day_n} or later "
                                         f"by {cur.as_of}"))
    for g in ("new", "returning", "all"):
        base = int(cur.table.loc[cur.table["group"] == g, "users"].iloc[0])
        out.append(facts.make(facts.key(f"retention.{g}", "base", where), base, "count", fmt.number(base, ctx.lang),
                              period=ctx.period.label, source="insights.new_vs_returning",
                              definition=f"{g} users first active {where} (the D-N base)"))
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
    if len(s) >= 4:
        best: tuple[float, str, int, float] | None = None
        for st in lm.STATUSES:
            v = s[st].abs().astype(float)
            for i in range(len(s)):
                med = float(v.drop(index=i).median())
                if med < min_base or abs(v[i] - med) < 3 * med ** 0.5:
                    continue
                if best is None or abs(v[i] / med - 1) > abs(best[0]):
                    best = (v[i] / med - 1, st, i, med)
        if best is not None and abs(best[0]) >= 0.2:
            dev, st, i, med = best
            row = s.iloc[i]
            qr = row["quick_ratio"]
            out.append(t(f"{k}.outlier_{'high' if dev > 0 else 'low'}", lang, period=row["label"],
                         status=t(f"insights.lifecycle.status.{st}", lang), users=num(row[st]), unit=unit,
                         median=num(med), gap=fmt.pct(abs(dev), lang),
                         q=fmt.na(lang) if _missing(qr) else f"{float(qr):.2f}"))
    return out or [t(f"{k}.none", lang)]


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
        t(f"{c}.step_rate", lang): [None if _missing(v) else float(v) for v in d["step_rate"]],
        t(f"{c}.drop_off", lang): d["drop_off"].astype(int).tolist(),
    })
    formats = {t(f"{c}.users", lang): "int", t(f"{c}.overall", lang): "ratio", t(f"{c}.step_rate", lang): "ratio",
               t(f"{c}.drop_off", lang): "int"}
    cap = t("insights.funnel.caption", lang, entry=_entry_words(view, lang), days=view.window_days,
            as_of=_date(d.attrs["as_of"], lang)) if "as_of" in d.attrs else None
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
        out.append(t(f"{k}.open_window", lang, n=fmt.number(open_n, lang), day=_day(cut, lang),
                     as_of=_day(a["as_of"], lang), days=view.window_days, full=fmt.number(full, lang),
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


def _weakest_step(view: FunnelView, lang: str) -> list[str]:
    """The step with the lowest step conversion (on a previous step of ``min_base`` users); when Newcombe's
    interval cannot tell it from the next lowest, both are named: the data do not rank them."""
    k = "insights.funnel.bullet"
    d = view.overall.reset_index(drop=True)
    cand = []
    for i in range(1, len(d)):
        prev, n = int(d.at[i - 1, "users"]), int(d.at[i, "users"])
        if prev >= view.min_base and prev > n:
            cand.append((Rate(n, prev), d.at[i - 1, "event"], d.at[i, "event"]))
    if not cand:
        return []
    cand.sort(key=lambda c: c[0].value or 0)
    (r1, s1, d1) = cand[0]
    lost1 = r1.base - r1.num
    if len(cand) > 1 and not cand[1][0].differs_from(r1):
        r2, s2, d2 = cand[1]
        return [t(f"{k}.drop_tie", lang, src=event_name(s1, lang), dst=event_name(d1, lang), rate=fmt.pct(r1.value, lang),
                  src2=event_name(s2, lang), dst2=event_name(d2, lang), rate2=fmt.pct(r2.value, lang),
                  lost=fmt.number(lost1 + r2.base - r2.num, lang))]
    return [t(f"{k}.drop", lang, src=event_name(s1, lang), dst=event_name(d1, lang), rate=fmt.pct(r1.value, lang),
              lost=fmt.number(lost1, lang))]


def _group_bullets(view: FunnelView, lang: str) -> list[str]:
    """The best and worst groups by overall conversion among those with a base of ``min_base`` entrants;
    a gap only when Newcombe's interval excludes 0."""
    k = "insights.funnel.bullet"
    sp = view.split
    assert sp is not None
    n = len(view.overall)
    firsts = sp[sp["step"] == 1]
    base = {g: int(u) for g, u in zip(firsts["group"], firsts["users"], strict=True)}
    fin = sp[(sp["step"] == n)]
    rates = [(g, Rate(int(u), base[g])) for g, u in zip(fin["group"], fin["users"], strict=True)
             if base[g] >= view.min_base]
    if len(rates) < 2:
        return []
    rates.sort(key=lambda x: -(x[1].value or 0))
    (bg, br), (wg, wr) = rates[0], rates[-1]
    by = t(f"insights.funnel.by.{view.by}", lang)
    kw = {"by": by, "best": _platform(bg, lang), "best_rate": fmt.pct(br.value, lang), "best_n": fmt.number(br.base, lang),
          "worst": _platform(wg, lang), "worst_rate": fmt.pct(wr.value, lang), "worst_n": fmt.number(wr.base, lang),
          "gap": fmt.pp(abs(fmt.shown_ratio_change(br.value, wr.value)), lang, signed=False), "groups": len(rates)}
    return [t(f"{k}.groups" if br.differs_from(wr) else f"{k}.groups_same", lang, **kw)]


# ---------------------------------------------------------------- subsections


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


def _kpi_fact(ctx: Context, definition: str, value: float, source: str) -> list[Fact]:
    """The goals page's fact for a KPI figure this page also shows (one figure, one value: checked by the batch)."""
    kpi = goals_kpis(ctx).get(definition)
    if kpi is None:
        return []
    where = facts.span(ctx.period, ctx.data_last_day)
    return [facts.make(facts.key(f"kpi.{kpi.key}", "actual", where), value, kpi.unit,
                       fmt.value(value, kpi.unit, ctx.lang), period=ctx.period.label, source=source,
                       definition=f"{kpi.label('en')}: actual")]


def activity_facts(res: am.ActivityResult, ctx: Context) -> list[Fact]:
    """The goals page's average DAU and MAU of the period, as the activity table shows them."""
    return _kpi_fact(ctx, "active_users", res.summary.avg_dau, "insights.activity") + \
        _kpi_fact(ctx, "mau", res.summary.mau, "insights.activity")


def retention_facts(view: RetentionView, ctx: Context) -> list[Fact]:
    """The goals page's new users, as the line relating the three counts shows them."""
    nu = view.new_users
    if nu is None or not new_users_line(nu, view.labels, view.period_label, ctx.lang):
        return []
    return _kpi_fact(ctx, "new_users", nu.signed_up, "insights.retention")


def funnel_facts(view: FunnelView, ctx: Context) -> list[Fact]:
    """The goals page's paying users, as the funnel's last line shows them."""
    if view.payers is None or not view.payers.payers or view.flat:
        return []
    return _kpi_fact(ctx, "paying_users", view.payers.payers, "insights.funnel")


def _activity(ctx: Context) -> am.ActivityResult:
    return ctx.memo("insights.activity", lambda: am.activity(ctx.pack, ctx.period))


def _platforms(ctx: Context) -> PlatformView:
    cur = am.platform_split(ctx.pack, ctx.period)
    try:
        prev = am.platform_split(ctx.pack, ctx.period.previous())
    except NoData:
        prev = None
    return PlatformView(cur, prev, ctx.settings.min_base)


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


def _activity_labels(lang: str) -> dict[str, str]:
    return {k: t(f"insights.activity.series.{k}", lang) for k in ("dau", "wau", "mau")}


def _subsection(key: str, compute: Callable[[Context], Any], chart: Callable[[Any, Context], Any],
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
        bullets=lambda r, ctx: activity_bullets(r, ctx.lang, first_day=ctx.data_first_day),
        facts=activity_facts),
    _subsection(
        "insights.platforms", _platforms,
        lambda r, ctx: platforms_chart(r, lang=ctx.lang, title=ctx.t("insights.platforms.chart_title")),
        platforms_table, platforms_bullets),
    _subsection(
        "insights.retention", _retention,
        lambda r, ctx: retention_chart(
            r, title=ctx.t("insights.retention.chart_title", mode=ctx.t(f"insights.retention.mode.{r.mode}")),
            xlabel=ctx.t(f"insights.retention.axis.{r.interval}"), ylabel=ctx.t("insights.retention.col.cohort")),
        retention_table, retention_bullets, retention_facts),
    _subsection(
        "insights.new_vs_returning", _day_n,
        lambda r, ctx: day_n_chart(r, lang=ctx.lang, title=ctx.t("insights.new_vs_returning.chart_title")),
        day_n_table, day_n_bullets, day_n_facts),
    Subsection(
        "insights.lifecycle", _lifecycle,
        chart=lambda r, ctx: lifecycle_chart(
            r, labels={k: ctx.t(f"insights.lifecycle.status.{k}") for k in lm.STATUSES},
            title=ctx.t("insights.lifecycle.chart_title"), lang=ctx.lang),
        table=lambda r, ctx: lifecycle_table(r, ctx.lang),
        bullets=lambda r, ctx: lifecycle_bullets(r, ctx.lang, min_base=ctx.settings.min_base)),
    _subsection(
        "insights.funnel", _funnel,
        lambda r, ctx: funnel_chart(r, title=ctx.t("insights.funnel.chart_title", days=r.window_days), lang=ctx.lang),
        funnel_table, funnel_bullets, funnel_facts),
]
