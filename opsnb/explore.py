"""Explorers for analysts in JupyterLab: ipywidgets controls over an output that re-renders.

A notebook cell is just ``explore.kpi_trend(ctx)``. In JupyterLab the explorer shows a row of
controls (always including the review **period**) and an output area holding a chart and a
table, recomputed with the existing metrics whenever a control changes. Changing the period
works on a copy of the context (``dataclasses.replace(ctx, period=..., cache={})``): the
notebook's own ``ctx`` is never mutated.

In batch runs (environment variable ``OPSNB_BATCH=1``, set by :mod:`opsnb.batch` for its
kernels) no widget is created: the explorer displays its default view as static HTML (inline
SVG chart and escaped table) after a one-line note, because widget views cannot live in an
offline HTML report.

Each explorer is a class (callbacks are plain methods, so tests drive them without a frontend:
set ``w.value`` and read ``last_result``) with a thin function wrapper that displays it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pandas as pd

from opsnb.errors import NoData
from opsnb.pack import Pack
from opsnb.periods import Period
from opsnb.render import fmt, ui
from opsnb.render.i18n import has

if TYPE_CHECKING:
    from opsnb.context import Context

#: Environment variable that marks a batch (papermill) kernel: explorers render statically.
BATCH_ENV = "OPSNB_BATCH"
#: The MIME type of a widget view (what must never reach the HTML report).
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ALL = "__all__"  # the "all channels" choice of a channel filter (no channel is named like this)


def batch_mode() -> bool:
    """Whether this kernel runs in batch (``OPSNB_BATCH`` set to anything but empty or ``0``)."""
    return os.environ.get(BATCH_ENV, "").strip() not in ("", "0")


def _display(*objs: Any) -> None:
    from IPython.display import display

    display(*objs)


def heading(ctx: Context) -> None:
    """Display the "探索 / Explore" H2 that precedes a notebook's explorers."""
    _display(ui.heading(ctx.t("common.explore"), level=2, anchor="explore"))


# ---------------------------------------------------------------- periods and packs


def period_options(ctx: Context, *, max_months: int = 36) -> list[str]:
    """Period labels an explorer offers: the data's months (newest first), then quarters and years.

    The notebook's own period is always among them (first among its kind when outside the data).
    """
    first, last = ctx.data_first_day, ctx.data_last_day
    if first is None or last is None:
        return [ctx.period.label]
    months: list[Period] = []
    m = Period.containing(last, "month")
    while m.end > first and len(months) < max_months:
        months.append(m)
        m = m.previous()
    quarters = list(dict.fromkeys(Period.containing(p.start, "quarter") for p in months))
    years = list(dict.fromkeys(p.year() for p in months))
    labels = [p.label for p in months + quarters + years]
    if ctx.period.label not in labels:
        labels.insert(0, ctx.period.label)
    return labels


@dataclass
class ChannelPack(Pack):
    """A view of a pack restricted to users of one acquisition channel (``users.channel``).

    Every table with a ``user_id`` column keeps only those users' rows (an Ibis semi-join, run
    in the backend). The day range stays the whole pack's, so reference dates do not move.
    """

    channel: str = ""
    whole_range: tuple[date | None, date | None] = (None, None)

    @classmethod
    def of(cls, pack: Pack, channel: str) -> ChannelPack:
        """The channel view of ``pack`` (which must have ``users.channel``)."""
        kw = {f.name: getattr(pack, f.name) for f in dataclasses.fields(Pack)}
        return cls(**kw, channel=channel, whole_range=pack.day_range())

    def table(self, name: str) -> Any:
        t = super().table(name)
        if name == "users":
            return t.filter(t.channel == self.channel)
        return self._restrict(t)

    def derived(self, name: str) -> Any:
        return self._restrict(super().derived(name))

    def _restrict(self, t: Any) -> Any:
        if "user_id" not in t.columns:
            return t
        users = super().table("users")
        keep = users.filter(users.channel == self.channel).select("user_id")
        return t.semi_join(keep, "user_id")

    def day_range(self) -> tuple[date | None, date | None]:
        return self.whole_range


def channels(pack: Pack) -> list[str]:
    """Non-empty ``users.channel`` values, most users first (empty when there is no such column)."""
    if not pack.has("users"):
        return []
    u = pack.table("users")
    if "channel" not in u.columns:
        return []
    u = u.filter(u.channel.notnull() & (u.channel != ""))
    df = u.group_by("channel").aggregate(n=u.count()).execute()
    df = df.sort_values(["n", "channel"], ascending=[False, True], kind="stable")
    return [str(c) for c in df["channel"]]


# ---------------------------------------------------------------- base


def _bundle(obj: Any) -> dict[str, Any]:
    """A display_data output (nbformat) for one of our display objects."""
    data = {"text/plain": repr(obj)}
    html = getattr(obj, "_repr_html_", None)
    if html is not None:
        data["text/html"] = html()
    return {"output_type": "display_data", "data": data, "metadata": {}}


class Explorer:
    """Base of the explorers: period handling, recompute-on-change and both display modes.

    Subclasses set :attr:`key` (texts under ``explore.<key>``) and implement :meth:`defaults`,
    :meth:`build_controls`, :meth:`compute` and :meth:`view`.

    Parameters
    ----------
    ctx
        The notebook's context (never mutated; the explorer works on copies).
    interactive
        Build widgets (JupyterLab) or not (static fallback); default: not :func:`batch_mode`.
    **options
        Initial control values (e.g. ``kpi="orders"``, ``period="2026-09"``).
    """

    key: ClassVar[str] = ""
    #: The subsection whose content the default view repeats (the static page then points to it instead
    #: of showing the same chart and table twice).
    same_as: ClassVar[str | None] = None

    def __init__(self, ctx: Context, *, interactive: bool | None = None, **options: Any) -> None:
        self.base_ctx = ctx
        self.interactive = (not batch_mode()) if interactive is None else bool(interactive)
        self.last_result: Any = None
        self.last_outputs: list[Any] = []
        self._hold = False
        period = str(options.pop("period", "") or ctx.period.label)
        self.ctx = dataclasses.replace(ctx, period=Period.parse(period), cache=_page_state(ctx))
        self._values = {"period": self.ctx.period.label, **self.defaults(self.ctx)}
        unknown = sorted(set(options) - set(self._values))
        if unknown:
            raise TypeError(f"unknown option(s) {unknown} for {type(self).__name__}; known: {sorted(self._values)}")
        self._values.update(options)
        self.controls: dict[str, Any] = {}
        self.out: Any = None
        self.box: Any = None
        if self.interactive:
            self._build()
        self.refresh()

    # -- to implement
    def defaults(self, ctx: Context) -> dict[str, Any]:
        """Default values of the explorer's own controls (the period excluded)."""
        raise NotImplementedError

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        """The explorer's own widgets, keyed like :meth:`defaults`."""
        raise NotImplementedError

    def compute(self, ctx: Context, values: dict[str, Any]) -> Any:
        """The result for these control values (may raise :class:`NoData`)."""
        raise NotImplementedError

    def view(self, result: Any, ctx: Context, values: dict[str, Any]) -> list[Any]:
        """Display objects (figures, tables, bullets) for a result."""
        raise NotImplementedError

    def period_changed(self, ctx: Context) -> None:
        """Hook: adjust dependent controls after the period changed (called with events held)."""

    # -- machinery
    def t(self, name: str, **kw: Any) -> str:
        """Text ``explore.<key>.<name>`` in the run's language."""
        return self.ctx.t(f"explore.{self.key}.{name}", **kw)

    @property
    def title(self) -> str:
        return self.t("title")

    def _build(self) -> None:
        import ipywidgets as w

        period = w.Dropdown(options=period_options(self.base_ctx), value=self._values["period"],
                            description=self.ctx.t("explore.period"))
        self.controls = {"period": period, **self.build_controls(self._values)}
        for name, widget in self.controls.items():
            setattr(self, name, widget)
            widget.observe(self._on_change, names="value")
        self.out = w.Output()
        title = w.HTML(ui.heading(self.title, level=3, anchor=f"explore-{self.key}").html)
        row = w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.box = w.VBox([title, row, self.out])

    def values(self) -> dict[str, Any]:
        """Current control values (the widgets' values when interactive)."""
        if self.controls:
            return {name: widget.value for name, widget in self.controls.items()}
        return dict(self._values)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Suspend recomputation while several controls change together."""
        prev, self._hold = self._hold, True
        try:
            yield
        finally:
            self._hold = prev

    def set_period(self, label: str) -> None:
        """Work on ``label`` from now on (a copy of the notebook's context with a fresh cache)."""
        if label != self.ctx.period.label:
            self.ctx = dataclasses.replace(self.base_ctx, period=Period.parse(label), cache=_page_state(self.base_ctx))
            self._values["period"] = label
            with self.hold():
                self.period_changed(self.ctx)

    def _on_change(self, change: dict[str, Any]) -> None:
        if self._hold:
            return
        if self.controls and change.get("owner") is self.controls["period"]:
            self.set_period(str(change["new"]))
        self.refresh()

    def refresh(self) -> list[Any]:
        """Recompute with the current values and re-render the output; returns the display objects."""
        vals = self.values()
        self.set_period(str(vals["period"]))
        vals = self.values()
        try:
            result = self.compute(self.ctx, vals)
            objs = self.view(result, self.ctx, vals)
        except NoData as exc:
            result = None
            objs = [_no_data(self.ctx, exc)]
        self.last_result = result
        self.last_outputs = objs
        if self.out is not None:
            self.out.outputs = tuple(_bundle(o) for o in objs)
        return objs

    def outputs(self) -> list[Any]:
        """What :meth:`show` displays: the widget box, or the static fallback (title, note, view)."""
        if self.box is not None:
            return [self.box]
        if self.same_as is not None and self._values == {"period": self.base_ctx.period.label,
                                                           **self.defaults(self.base_ctx)}:
            return [ui.heading(self.title, level=3, anchor=f"explore-{self.key}"),
                    ui.note(self.ctx.t("common.explore_same_as", section=self.ctx.t(f"{self.same_as}.title")),
                            kind="info")]
        said = self.base_ctx.cache.get("_explore_static_said", False)  # once per page, before the first explorer
        self.base_ctx.cache["_explore_static_said"] = True
        note = [] if said else [ui.note(self.ctx.t("common.explore_static"), kind="info")]
        return [ui.heading(self.title, level=3, anchor=f"explore-{self.key}"), *note, *self.last_outputs]

    def show(self) -> Self:
        """Display the explorer (each static object as its own HTML output); returns itself."""
        _display(*self.outputs())
        return self

    def _ipython_display_(self) -> None:
        """Nothing: the explorer displayed itself already (so a cell's result adds no output)."""

    def __repr__(self) -> str:
        return ""


def _page_state(ctx: Context) -> dict[str, Any]:
    """A fresh cache for an explorer's copy of the context that still shares what the page has said once."""
    return {"_missing_tables": ctx.cache.setdefault("_missing_tables", set())}


def _no_data(ctx: Context, exc: NoData) -> ui.Html:
    if exc.reason in ("", "table not in pack"):
        noted = ctx.cache.setdefault("_missing_tables", set())
        if exc.table in noted:  # the page already said so once
            return ui.Html("", "")
        noted.add(exc.table)
        return ui.note(ctx.t("common.no_data_table", table=fmt.table_name(exc.table, ctx.lang)), kind="info")
    return ui.note(ctx.t("common.no_data", what=exc.reason), kind="info")


def _float(v: Any) -> float:
    return float("nan") if fmt.is_missing(v) else float(v)


def _reason(ctx: Context, area: str, code: Any) -> str:
    """A translated reason (``<area>.reason.<code>`` when known, else the code itself)."""
    if code is None or (not isinstance(code, str) and pd.isna(code)) or code == "":
        return ""
    key = f"{area}.reason.{code}"
    return ctx.t(key) if has(key, ctx.lang) else str(code)


# ---------------------------------------------------------------- KPI trend


class KPITrend(Explorer):
    """One KPI's monthly actual against target over the months ending with the period.

    Controls: ``kpi`` (from ``settings.goals.kpis``), ``months`` (how many months), ``period``.
    ``last_result`` is :func:`opsnb.metrics.kpis.trend`'s frame with an ``attainment`` column.
    """

    key = "kpi_trend"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        kpis = ctx.settings.goals.kpis
        return {"kpi": kpis[0].key if kpis else "", "months": ctx.settings.goals.trend_months}

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        import ipywidgets as w

        opts = [(k.label(self.ctx.lang), k.key) for k in self.ctx.settings.goals.kpis]
        return {"kpi": w.Dropdown(options=opts, value=values["kpi"], description=self.t("kpi")),
                "months": w.IntSlider(value=int(values["months"]), min=2, max=max(36, int(values["months"])), step=1,
                                      description=self.t("months"))}

    def compute(self, ctx: Context, values: dict[str, Any]) -> pd.DataFrame:
        from opsnb.metrics import kpis as km
        from opsnb.sections.goals import previous_plan_targets

        kpi = ctx.settings.kpi(str(values["kpi"]))
        tr = km.trend(ctx.pack, kpi, ctx.period, int(values["months"]), extra_targets=previous_plan_targets(ctx))
        if tr.empty:
            raise NoData("kpis", self.t("empty", period=ctx.period.label))
        att = [km.attainment_ratio(a, g, kpi.direction) for a, g in zip(tr["actual"], tr["target"], strict=True)]
        tr["attainment"] = pd.Series([a for a, _ in att], dtype="object", index=tr.index)
        tr.attrs.update(unit=kpi.unit, label=kpi.label(ctx.lang))
        return tr

    def view(self, result: pd.DataFrame, ctx: Context, values: dict[str, Any]) -> list[Any]:
        from opsnb.render import charts
        from opsnb.sections.goals import reason_text

        unit, label = result.attrs["unit"], result.attrs["label"]
        plot = pd.DataFrame({"month": result["month"], "actual": [_float(v) for v in result["actual"]],
                             "target": [_float(v) for v in result["target"]]})
        ax = charts.line(plot, x="month", y="actual", target="target", target_label=self.t("target"),
                         label=self.t("col.actual"), unit=unit, lang=ctx.lang, currency=ctx.settings.currency,
                         title=self.t("chart", label=label, n=len(result)))
        if len(plot) > 6:
            ax.tick_params(axis="x", labelrotation=45)
        c = {k: self.t(f"col.{k}") for k in ("month", "actual", "target", "attainment", "note")}
        tab = pd.DataFrame({
            c["month"]: result["month"].tolist(),
            c["actual"]: result["actual"].tolist(),
            c["target"]: result["target"].tolist(),
            c["attainment"]: result["attainment"].tolist(),
            c["note"]: [(reason_text(r, ctx.lang) or "") + (self.t("partial") if p else "")
                        for r, p in zip(result["reason"], result["partial"], strict=True)],
        })
        return [ui.figure(ax, alt=self.title),
                ui.table(tab, ctx.lang, formats={c["actual"]: unit, c["target"]: unit, c["attainment"]: "ratio"},
                         currency=ctx.settings.currency)]


# ---------------------------------------------------------------- cohort heatmap


class CohortHeatmap(Explorer):
    """Cohort retention heatmap by interval (day, week, month), mode and acquisition channel.

    ``last_result`` is a :class:`opsnb.sections.insights_cohorts.RetentionView`.
    """

    key = "cohort"
    same_as = "insights.retention"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        s = ctx.settings.insights
        return {"interval": s.retention_period, "mode": s.retention_mode, "channel": ALL}

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        import ipywidgets as w

        chans = channels(self.ctx.pack)
        return {
            "interval": w.Dropdown(options=[(self.t(f"interval_opt.{i}"), i) for i in ("day", "week", "month")],
                                   value=values["interval"], description=self.t("interval")),
            "mode": w.Dropdown(options=[(self.t(f"mode_opt.{m}"), m) for m in ("first_time", "recurring")],
                               value=values["mode"], description=self.t("mode")),
            "channel": w.Dropdown(options=[(self.t("all"), ALL), *[(c, c) for c in chans]], value=values["channel"],
                                  description=self.t("channel"), disabled=not chans),
        }

    def compute(self, ctx: Context, values: dict[str, Any]) -> Any:
        from opsnb.metrics import retention as rm
        from opsnb.sections.insights_cohorts import RetentionView

        s = ctx.settings.insights
        pack = ctx.pack if values["channel"] == ALL else ChannelPack.of(ctx.pack, str(values["channel"]))
        long = rm.retention(pack, ctx.period, interval=values["interval"], mode=values["mode"],
                            cohorts=s.retention_cohorts, start_event=s.retention_start_event,
                            return_event=s.retention_return_event)
        return RetentionView(long, rm.retention_average(long), str(values["interval"]), str(values["mode"]))

    def view(self, result: Any, ctx: Context, values: dict[str, Any]) -> list[Any]:
        from opsnb.sections.insights_cohorts import retention_chart, retention_table

        chan = self.t("all") if values["channel"] == ALL else str(values["channel"])
        ax = retention_chart(result, title=self.t("chart", mode=self.t(f"mode_opt.{result.mode}"), channel=chan),
                             xlabel=self.t(f"axis.{result.interval}"), ylabel=self.t("cohort"))
        return [ui.figure(ax, alt=self.title), retention_table(result, ctx.lang)]


# ---------------------------------------------------------------- funnel by segment


class FunnelBySegment(Explorer):
    """The ordered funnel split by acquisition channel or platform, with a conversion-window slider.

    ``last_result`` is a :class:`opsnb.sections.insights_funnel.FunnelView` (``split`` is None
    when the breakdown column is missing).
    """

    key = "funnel"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        s = ctx.settings.insights
        return {"by": s.funnel_breakdown or "channel", "window": s.funnel_window_days}

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        import ipywidgets as w

        return {
            "by": w.Dropdown(options=[(self.t(f"by_opt.{b}"), b) for b in ("channel", "platform")],
                             value=values["by"], description=self.t("by")),
            "window": w.IntSlider(value=int(values["window"]), min=0, max=90, step=1, description=self.t("window")),
        }

    def compute(self, ctx: Context, values: dict[str, Any]) -> Any:
        from opsnb.metrics import funnel as fm
        from opsnb.sections.insights_funnel import FunnelView

        s = ctx.settings.insights
        steps, window = s.funnel_steps, int(values["window"])
        overall = fm.funnel(ctx.pack, ctx.period, steps=steps, window_days=window, entry=s.funnel_entry)
        try:
            split = fm.funnel(ctx.pack, ctx.period, steps=steps, window_days=window, by=values["by"],
                              entry=s.funnel_entry)
        except NoData:  # no users.channel / events.platform: the overall funnel alone, with a note
            split = None
        return FunnelView(overall, split, str(values["by"]) if split is not None else None, window)

    def _group(self, g: Any) -> str:
        missing = g is None or g == "" or (not isinstance(g, str) and pd.isna(g))
        return self.t("unknown") if missing else str(g)

    def view(self, result: Any, ctx: Context, values: dict[str, Any]) -> list[Any]:
        from opsnb.render import charts
        from opsnb.sections.insights_activity import event_name

        by_word = self.t(f"by_opt.{values['by']}")  # inside a sentence
        by_name = by_word[:1].upper() + by_word[1:]  # as a column header or legend title
        if result.split is None or result.split["group"].nunique(dropna=False) <= 1:  # one group: no split
            # nothing to split by: the overall funnel is the insights subsection above, not repeated here
            return [ui.note(self.t("no_split", by=by_word))]
        d = result.split
        step_lab = [f"{s}. {event_name(e, ctx.lang)}" for s, e in zip(d["step"], d["event"], strict=True)]
        groups = [self._group(g) for g in d["group"]]
        c = {k: self.t(f"col.{k}") for k in ("step", "overall")}
        plot = pd.DataFrame({c["step"]: step_lab, c["overall"]: [_float(v) for v in d["overall"]], by_name: groups})
        ax = charts.bar(plot, x=c["step"], y=c["overall"], hue=by_name, unit="ratio", legend_title=by_name,
                        title=self.t("chart", by=by_name, days=result.window_days))
        return [ui.figure(ax, alt=self.title), self._table(result, by_name, ctx)]

    def _table(self, result: Any, by_name: str, ctx: Context) -> ui.Table:
        """One row per group (then all users): entered users and overall conversion to each later step."""
        from opsnb.sections.insights_activity import event_name

        users_col = self.t("col.entered")
        rows = []
        for name, d in [*((self._group(g), gd) for g, gd in result.split.groupby("group", sort=False, dropna=False)),
                        (self.t("all"), result.overall)]:
            row: dict[str, Any] = {by_name: name, users_col: int(d["users"].iloc[0])}
            for s, e, v in zip(d["step"].iloc[1:], d["event"].iloc[1:], d["overall"].iloc[1:], strict=True):
                row[f"{s}. {event_name(e, ctx.lang)}"] = None if fmt.is_missing(v) else float(v)
            rows.append(row)
        tab = pd.DataFrame(rows)
        formats = {col: "ratio" for col in tab.columns[2:]}
        formats[users_col] = "int"
        return ui.table(tab, ctx.lang, formats=formats, caption=self.t("caption"))


# ---------------------------------------------------------------- campaign comparer

#: Metrics compared side by side: (column of campaign_results, unit or format, reason column).
_CAMPAIGN_METRICS: tuple[tuple[str, str, str | None], ...] = (
    ("reach", "count", None), ("participants", "count", None), ("new_users", "count", None),
    ("buyers", "count", None), ("orders", "count", None), ("gmv", "currency", None), ("cost", "currency", None),
    ("roi", "roi", "roi_reason"), ("cac", "currency", "cac_reason"), ("conversion", "ratio", "conversion_reason"),
    ("gmv_attainment", "ratio", "gmv_attainment_reason"),
    ("new_users_attainment", "ratio", "new_users_attainment_reason"),
)


class CampaignComparer(Explorer):
    """Two campaigns of the period side by side (:func:`opsnb.metrics.campaigns.campaign_results`).

    Controls: ``a`` and ``b`` (campaign ids; the options follow the period), ``period``.
    ``last_result`` holds the two campaigns' result rows, ``a`` first.
    """

    key = "campaigns"

    def _results(self, ctx: Context) -> pd.DataFrame:
        from opsnb.metrics import campaigns as cm

        return ctx.memo("explore.campaigns", lambda: cm.campaign_results(
            ctx.pack, ctx.period, roi_threshold=ctx.settings.problems.roi_threshold))

    def _options(self, ctx: Context) -> list[tuple[str, str]]:
        try:
            res = self._results(ctx)
        except NoData:
            return []
        return [(f"{n} ({i})", str(i)) for n, i in zip(res["name"], res["campaign_id"], strict=True)]

    def defaults(self, ctx: Context) -> dict[str, Any]:
        ids = [i for _, i in self._options(ctx)]
        return {"a": ids[0] if ids else None, "b": ids[1] if len(ids) > 1 else (ids[0] if ids else None)}

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        import ipywidgets as w

        opts = self._options(self.ctx)
        return {"a": w.Dropdown(options=opts, value=values["a"], description=self.t("a")),
                "b": w.Dropdown(options=opts, value=values["b"], description=self.t("b"))}

    def period_changed(self, ctx: Context) -> None:
        opts = self._options(ctx)
        ids = [i for _, i in opts]
        keep = {k: self.values().get(k) for k in ("a", "b")}
        new = self.defaults(ctx)
        for k in ("a", "b"):
            val = keep[k] if keep[k] in ids else new[k]
            self._values[k] = val
            if self.controls:
                self.controls[k].options = opts
                self.controls[k].value = val

    def compute(self, ctx: Context, values: dict[str, Any]) -> pd.DataFrame:
        res = self._results(ctx)
        ids = [values["a"], values["b"]]
        if any(i is None for i in ids):
            raise NoData("campaigns", self.t("pick"))
        rows = [res[res["campaign_id"] == i] for i in ids]
        missing = [i for i, r in zip(ids, rows, strict=True) if r.empty]
        if missing:
            raise NoData("campaigns", self.t("not_in_period", id=missing[0], period=ctx.period.label))
        return pd.concat(rows, ignore_index=True)

    def _cells(self, rows: list[pd.Series], col: str, unit: str, reason: str | None, ctx: Context) -> list[str]:
        """One metric of the campaigns side by side, in one scale (``¥10.9万`` never beside ``¥58,626``)."""
        values = [row[col] for row in rows]
        if unit == "roi":
            shown = [fmt.ratio_x(v, ctx.lang) for v in values]
        else:
            shown = fmt.column([None if fmt.is_missing(v) else v for v in values], unit, ctx.lang,
                               currency=ctx.settings.currency)
        return [fmt.na(ctx.lang, (_reason(ctx, "campaigns", row[reason]) if reason else "") or None)
                if fmt.is_missing(v) else text for row, v, text in zip(rows, values, shown, strict=True)]

    def view(self, result: pd.DataFrame, ctx: Context, values: dict[str, Any]) -> list[Any]:
        from opsnb.render import charts

        a, b = result.iloc[0], result.iloc[1]
        name_a, name_b = f"A · {a['name']}", f"B · {b['name']}"
        pairs = [self._cells([a, b], m, u, r, ctx) for m, u, r in _CAMPAIGN_METRICS]
        tab = pd.DataFrame({
            self.t("col.metric"): [self.t(f"metric.{m}") for m, _, _ in _CAMPAIGN_METRICS],
            name_a: [p[0] for p in pairs],
            name_b: [p[1] for p in pairs],
        })
        plot = pd.DataFrame({
            "metric": [self.t("metric.gmv"), self.t("metric.cost")] * 2,
            "value": [float(a["gmv"]), float(a["cost"]), float(b["gmv"]), float(b["cost"])],
            self.t("col.campaign"): [name_a, name_a, name_b, name_b],
        })
        ax = charts.bar(plot, x="metric", y="value", hue=self.t("col.campaign"), title=self.t("chart"), unit="currency",
                        lang=ctx.lang, currency=ctx.settings.currency, legend_title=self.t("col.campaign"))
        ax.set_xlabel("")
        return [ui.figure(ax, alt=self.title), ui.table(tab, ctx.lang)]


# ---------------------------------------------------------------- RFM drill-down


@dataclass(frozen=True)
class RFMDrill:
    """One RFM segment at the end of the period: its summary row and its top customers."""

    segment: str
    label: str
    customers: int
    share: float | None
    revenue: float
    revenue_share: float | None
    top: pd.DataFrame = dataclasses.field(repr=False)


class RFMDrilldown(Explorer):
    """An RFM segment's size, revenue share and top customers by monetary value.

    Controls: ``segment`` (the segments of ``settings.insights.rfm_rules`` then Others), ``top_n``,
    ``period``. Scored and segmented exactly as the insights section's RFM (``rfm_scoring``,
    ``rfm_segment_map``, ``rfm_analysis_date``); the period is clipped to the data as there.
    ``last_result`` is an :class:`RFMDrill`.
    """

    key = "rfm"

    def _segments(self, ctx: Context) -> list[tuple[str, str]]:
        from opsnb.metrics.rfm import OTHERS

        rules = ctx.settings.insights.rfm_rules
        opts = list(dict.fromkeys((r.label(ctx.lang), r.segment) for r in rules))
        return [*opts, (self.t("others"), OTHERS)]

    def _summary(self, ctx: Context) -> pd.DataFrame:
        from opsnb.metrics.rfm import rfm_segments

        ins = ctx.settings.insights
        return ctx.memo("explore.rfm", lambda: rfm_segments(ctx.pack, ctx.effective_period, ins.rfm_rules,
                                                            scoring=ins.rfm_scoring,
                                                            analysis_date=ins.rfm_analysis_date))

    def defaults(self, ctx: Context) -> dict[str, Any]:
        segs = [s for _, s in self._segments(ctx)]
        first = segs[0]
        try:
            df = self._summary(ctx)
            nonempty = df.loc[df["customers"] > 0, "segment"].tolist()
            first = nonempty[0] if nonempty else first
        except NoData:
            pass
        return {"segment": first, "top_n": 10}

    def build_controls(self, values: dict[str, Any]) -> dict[str, Any]:
        import ipywidgets as w

        return {"segment": w.Dropdown(options=self._segments(self.ctx), value=values["segment"],
                                      description=self.t("segment")),
                "top_n": w.IntSlider(value=int(values["top_n"]), min=1, max=50, step=1, description=self.t("top_n"))}

    def compute(self, ctx: Context, values: dict[str, Any]) -> RFMDrill:
        import ibis

        from opsnb.metrics.rfm import _segment_expr, rfm_scores

        seg = str(values["segment"])
        summary = self._summary(ctx)
        row = summary[summary["segment"] == seg]
        if row.empty:
            raise NoData("orders", self.t("unknown_segment", segment=seg))
        r = row.iloc[0]
        ins = ctx.settings.insights
        s = rfm_scores(ctx.pack, ctx.effective_period, scoring=ins.rfm_scoring, analysis_date=ins.rfm_analysis_date)
        s = s.mutate(segment=_segment_expr(s, ins.rfm_rules))
        s = s.filter(s.segment == seg)
        top = s.order_by([ibis.desc(s.monetary), s.user_id]).limit(int(values["top_n"])).execute()
        top = top[["user_id", "last_order", "recency", "frequency", "monetary", "r", "f", "m"]].reset_index(drop=True)
        label = {s_: lab for lab, s_ in self._segments(ctx)}.get(seg, seg)
        share = None if fmt.is_missing(r["share"]) else float(r["share"])
        rshare = None if fmt.is_missing(r["revenue_share"]) else float(r["revenue_share"])
        return RFMDrill(seg, label, int(r["customers"]), share, float(r["revenue"]), rshare, top)

    def view(self, result: RFMDrill, ctx: Context, values: dict[str, Any]) -> list[Any]:
        from opsnb.render import charts

        lang = ctx.lang
        line = self.t("summary", segment=result.label, n=fmt.number(result.customers, lang, compact=False),
                      share=fmt.pct(result.share, lang), revenue=fmt.money(result.revenue, lang,
                                                                            currency=ctx.settings.currency),
                      revenue_share=fmt.pct(result.revenue_share, lang),
                      date=ctx.effective_period.last_day.isoformat())
        objs: list[Any] = [ui.bullets([line])]
        if result.top.empty:
            objs.append(ui.note(self.t("empty", segment=result.label)))
            return objs
        top = result.top
        plot = pd.DataFrame({"user": top["user_id"].astype(str), "monetary": top["monetary"].astype(float)})
        ax = charts.new_ax(figsize=(8.0, max(2.0, 0.35 * len(plot) + 0.8)))
        ax = charts.bar(plot, x="user", y="monetary", horizontal=True, ax=ax, unit="currency", lang=ctx.lang,
                        currency=ctx.settings.currency, title=self.t("chart", n=len(plot), segment=result.label))
        c = {k: self.t(f"col.{k}") for k in ("user_id", "last_order", "recency", "frequency", "monetary", "rfm")}
        tab = pd.DataFrame({
            c["user_id"]: top["user_id"].astype(str).tolist(),
            c["last_order"]: [pd.Timestamp(v).date().isoformat() for v in top["last_order"]],
            c["recency"]: top["recency"].astype(int).tolist(),
            c["frequency"]: top["frequency"].astype(int).tolist(),
            c["monetary"]: top["monetary"].astype(float).tolist(),
            c["rfm"]: [f"{int(a)}-{int(b)}-{int(m)}" for a, b, m in zip(top["r"], top["f"], top["m"], strict=True)],
        })
        objs += [ui.figure(ax, alt=self.title),
                 ui.table(tab, lang, formats={c["recency"]: "int", c["frequency"]: "int", c["monetary"]: "currency"},
                          currency=ctx.settings.currency)]
        return objs


# ---------------------------------------------------------------- what notebooks call


def kpi_trend(ctx: Context, **options: Any) -> KPITrend:
    """Display the KPI trend explorer (see :class:`KPITrend`); the returned object displays nothing."""
    return KPITrend(ctx, **options).show()


def cohort_heatmap(ctx: Context, **options: Any) -> CohortHeatmap:
    """Display the cohort retention explorer (see :class:`CohortHeatmap`)."""
    return CohortHeatmap(ctx, **options).show()


def funnel_by_segment(ctx: Context, **options: Any) -> FunnelBySegment:
    """Display the funnel-by-segment explorer (see :class:`FunnelBySegment`)."""
    return FunnelBySegment(ctx, **options).show()


def campaign_comparer(ctx: Context, **options: Any) -> CampaignComparer:
    """Display the side-by-side campaign explorer (see :class:`CampaignComparer`)."""
    return CampaignComparer(ctx, **options).show()


def rfm_drilldown(ctx: Context, **options: Any) -> RFMDrilldown:
    """Display the RFM segment drill-down explorer (see :class:`RFMDrilldown`)."""
    return RFMDrilldown(ctx, **options).show()
