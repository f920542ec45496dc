"""Chart primitives (seaborn/matplotlib), in the manner of seaborn's functions.

Each takes data first and keyword-only options, an optional ``ax``, texts already translated,
and returns the Axes it drew on. None mutates its input.

Value axes speak the report's number format (:mod:`opsnb.render.fmt`), never matplotlib's offset
or scientific notation: pass the axis ``unit`` (a KPI unit — count, currency, ratio, hours, score —
or ``roi``) with ``lang`` and the unit's ``currency``, or call :func:`format_axis` on an Axes drawn
by hand. Legends carry a translated ``legend_title`` or no title (never a data column's id), and
axes of monthly points are labelled ``2026-10`` (:func:`month_axis`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from opsnb.render import fmt
from opsnb.render.i18n import display_name, labels_in_use
from opsnb.render.theme import PALETTE, STATUS_COLOURS

#: Units an axis can be formatted by: the KPI units, ROI ("1:3.0") and a plain number.
AXIS_UNITS = ("count", "currency", "ratio", "hours", "score", "roi", "number")
#: Compact scales, largest first: (smallest |tick| that uses it, divisor, suffix) — fmt.number's thresholds.
_SCALES = {"zh": ((1e8, 1e8, "亿"), (1e5, 1e4, "万")),
           "en": ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e5, 1e3, "K"))}
_MAX_DIGITS = 3
#: More legend entries than this go outside the plot (right), so they never cover bars or lines.
LEGEND_INSIDE_MAX = 4


def _digits(values: Sequence[float], least: int = 0) -> int:
    """The fewest decimals (``least`` … 3) that show every value exactly."""
    for d in range(least, _MAX_DIGITS + 1):
        if all(abs(v * 10 ** d - round(v * 10 ** d)) < 1e-6 for v in values):
            return d
    return _MAX_DIGITS


@dataclass(frozen=True)
class NumberFormat:
    """Tick labels of one axis in the report's number format (:mod:`opsnb.render.fmt`).

    All ticks of an axis share one scale and one number of decimals, chosen from the tick values:
    ``¥0 | ¥50万 | ¥100万 | ¥150万`` (zh), ``¥0 | ¥0.5M | ¥1.0M | ¥1.5M`` (en), ``0% | 2.5% | 5.0%``,
    ``0 | 2,000 | 4,000``; counts and amounts switch to 万/亿 or K/M/B where :func:`fmt.number` does
    (from 10万 / 100K on). Never an offset or scientific notation.
    """

    unit: str
    lang: str
    currency: str = "¥"

    def __post_init__(self) -> None:
        if self.unit not in AXIS_UNITS:
            raise ValueError(f"unknown axis unit {self.unit!r}; known: {', '.join(AXIS_UNITS)}")
        if self.lang not in _SCALES:
            raise ValueError(f"unknown language {self.lang!r}; known: {', '.join(_SCALES)}")

    def plan(self, ticks: Sequence[float]) -> tuple[float, str, int]:
        """(divisor, suffix, decimals) shared by the ``ticks`` of one axis."""
        finite = [float(v) for v in ticks if math.isfinite(float(v))]
        top = max((abs(v) for v in finite), default=0.0)
        div, suffix = 1.0, ""
        if self.unit in ("count", "currency"):
            div, suffix = next(((d, s) for lo, d, s in _SCALES[self.lang] if top >= lo), (1.0, ""))
        elif self.unit == "ratio":
            div = 0.01
        return div, suffix, _digits([v / div for v in finite], 1 if self.unit == "roi" else 0)

    def tick(self, x: float, plan: tuple[float, str, int] | None = None) -> str:
        """The label of tick ``x`` (``plan`` from :meth:`plan` of all the axis' ticks; default: ``x`` alone)."""
        x = float(x)
        if not math.isfinite(x):
            return ""
        div, suffix, d = plan if plan is not None else self.plan([x])
        if abs(x) < 1e-12:
            x = 0.0  # no "-0"
        if self.unit == "ratio":
            return fmt.pct(x, self.lang, digits=d)
        if self.unit == "roi":
            return f"1:{x:,.{d}f}"
        if self.unit in ("count", "currency") and x == 0.0:
            d, suffix = 0, ""  # a bare 0, not "0.0万"
        num = fmt.number(abs(x) / div, self.lang, digits=d, compact=False) + suffix
        sign = "-" if x < 0 else ""
        if self.unit == "currency":
            return sign + self.currency + num
        if self.unit == "hours":
            return sign + (f"{num}小时" if self.lang == "zh" else f"{num} h")
        return sign + num


@cache
def _formatter_class() -> type:
    from matplotlib.ticker import Formatter

    class TickFormatter(Formatter):
        """A matplotlib formatter over a :class:`NumberFormat`: the axis' ticks share one plan."""

        def __init__(self, number: NumberFormat) -> None:
            self.number = number
            self._plan: tuple[float, str, int] | None = None

        def set_locs(self, locs: list[float]) -> None:
            super().set_locs(locs)
            shown = list(locs)
            if self.axis is not None:  # the locator may add a tick beyond the view: it must not set the scale
                lo, hi = sorted(self.axis.get_view_interval())
                pad = (hi - lo) * 1e-9
                shown = [v for v in locs if lo - pad <= v <= hi + pad] or shown
            self._plan = self.number.plan(shown)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return self.number.tick(x, self._plan)

    return TickFormatter


def axis_formatter(unit: str, lang: str, *, currency: str | None = None) -> Any:
    """A :class:`matplotlib.ticker.Formatter` labelling ticks by :class:`NumberFormat`.

    ``currency`` defaults to the unit's currency. Call it like any formatter:
    ``axis_formatter("currency", "zh").format_ticks([0, 5e5, 1e6])`` → ``["¥0", "¥50万", "¥100万"]``.
    """
    return _formatter_class()(NumberFormat(unit, lang, fmt.currency() if currency is None else currency))


def format_axis(ax: Any, axis: str, unit: str, lang: str | None = None, *, currency: str | None = None) -> Any:
    """Label the ``axis`` ("x" or "y") of ``ax`` in the report's number format for ``unit``; return ``ax``.

    ``unit`` is a KPI unit (count, currency, ratio, hours, score), ``roi`` or ``number`` (a plain
    number); ``lang`` is needed for count, currency and hours (万 or K); ``currency`` defaults to the
    unit's. Counts get whole-number ticks. No offset or scientific notation is left on the axis.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"unknown axis {axis!r}; known: x, y")
    if lang is None:
        if unit in ("count", "currency", "hours"):
            raise ValueError(f"axis unit {unit!r} needs lang ('zh' or 'en') for its number format")
        lang = "en"  # ratio, roi, score and plain numbers read the same in zh and en
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(axis_formatter(unit, lang, currency=currency))
    if unit == "count":
        from matplotlib.ticker import MaxNLocator

        target.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    return ax


def month_axis(ax: Any, axis: str = "x", *, max_ticks: int = 6) -> Any:
    """Ticks on whole months labelled ``2026-10`` for an axis of dates with monthly points; return ``ax``."""
    import matplotlib.dates as mdates

    lim = ax.dataLim
    lo, hi = (lim.x0, lim.x1) if axis == "x" else (lim.y0, lim.y1)
    a, b = mdates.num2date(lo), mdates.num2date(hi)
    months = (b.year - a.year) * 12 + b.month - a.month + 1  # the months the data spans
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(mdates.MonthLocator(interval=max(1, math.ceil(months / max_ticks))))
    target.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    return ax


def legend(ax: Any, title: str | None = None, *, fontsize: float = 8) -> Any:
    """Redraw the legend of ``ax`` with ``title`` (None: no title), outside the plot when it is long.

    Collects the entries of the current legend (seaborn's hue levels) and any labelled artist
    added since; returns the legend, or None when there is nothing to show.
    """
    handles: list[Any] = []
    labels: list[str] = []
    old = ax.get_legend()
    if old is not None:
        handles += list(old.legend_handles)
        labels += [t.get_text() for t in old.get_texts()]
    for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    if not labels:
        return None
    kw: dict[str, Any] = {"title": title or None, "fontsize": fontsize, "title_fontsize": fontsize}
    if len(labels) > LEGEND_INSIDE_MAX:
        kw.update(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    else:
        kw.update(loc="best")
    return ax.legend(handles, labels, **kw)


def new_ax(ax: Any = None, *, figsize: tuple[float, float] | None = None) -> Any:
    """The given Axes, or a fresh figure's Axes."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize or (8.0, 3.6))
    return ax


def _labels(ax: Any, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")


def line(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax: Any = None, title: str | None = None,
         xlabel: str | None = None, ylabel: str | None = None, target: str | None = None,
         target_label: str | None = None, label: str | None = None, unit: str | None = None,
         lang: str | None = None, currency: str | None = None, legend_title: str | None = None,
         months: bool = False) -> Any:
    """A line chart, optionally with a dashed target line from column ``target``.

    ``unit``/``lang``/``currency`` format the y axis (see :func:`format_axis`); ``label`` names the
    line when there is no ``hue``; ``months=True`` labels a date x axis by month (``2026-10``).
    """
    import seaborn as sns

    ax = new_ax(ax)
    named = {"label": label} if label and hue is None else {}
    sns.lineplot(data=data, x=x, y=y, hue=hue, ax=ax, marker="o" if len(data) <= 40 else None, **named)
    if target and target in data and data[target].notna().any():
        ax.plot(data[x], data[target], linestyle="--", color=PALETTE["neutral"], label=target_label or target)
    legend(ax, legend_title)
    format_axis(ax, "y", unit or "number", lang, currency=currency)
    if months:
        month_axis(ax)
    _labels(ax, title, xlabel, ylabel)
    return ax


def bar(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax: Any = None, title: str | None = None,
        xlabel: str | None = None, ylabel: str | None = None, horizontal: bool = False,
        colors: Sequence[str] | None = None, unit: str | None = None, lang: str | None = None,
        currency: str | None = None, legend_title: str | None = None) -> Any:
    """A bar chart (vertical, or horizontal with categories on the y axis).

    ``unit``/``lang``/``currency`` format the value axis (see :func:`format_axis`); the ``hue``
    legend gets ``legend_title`` (translated) or no title.
    """
    import seaborn as sns

    ax = new_ax(ax)
    kw: dict[str, Any] = {"data": data, "ax": ax, "hue": hue}
    if horizontal:
        kw.update(x=y, y=x, orient="h")
    else:
        kw.update(x=x, y=y)
    if colors is not None and hue is None:
        kw.update(hue=x, palette=list(colors), legend=False)
    sns.barplot(**kw, errorbar=None)
    if hue is not None:
        legend(ax, legend_title)
    format_axis(ax, "x" if horizontal else "y", unit or "number", lang, currency=currency)
    _labels(ax, title, (ylabel if horizontal else xlabel), (xlabel if horizontal else ylabel))
    if not horizontal and len(data) > 6:
        ax.tick_params(axis="x", labelrotation=30)
    return ax


def heatmap(matrix: pd.DataFrame, *, ax: Any = None, title: str | None = None, xlabel: str | None = None,
            ylabel: str | None = None, fmt: str = ".0%", mask: pd.DataFrame | None = None, cmap: str = "Blues",
            annot: bool = True) -> Any:
    """A heatmap of a small matrix (e.g. cohort retention), masked cells left blank."""
    import seaborn as sns

    ax = new_ax(ax, figsize=(9.0, max(2.5, 0.35 * len(matrix) + 1.2)))
    sns.heatmap(matrix.astype(float), ax=ax, annot=annot, fmt=fmt, cmap=cmap, mask=mask, cbar=False,
                linewidths=0.5, annot_kws={"fontsize": 7})
    _labels(ax, title, xlabel, ylabel)
    return ax


def attainment_bars(data: pd.DataFrame, *, label: str = "label", attainment: str = "attainment",
                    status: str = "status", ax: Any = None, title: str | None = None, xlabel: str | None = None) -> Any:
    """Bullet-style horizontal bars of attainment with the 100% line; colour by status."""
    ax = new_ax(ax, figsize=(8.0, max(2.0, 0.45 * len(data) + 0.8)))
    d = data.reset_index(drop=True)
    vals = [0.0 if pd.isna(v) else float(v) for v in d[attainment]]
    colours = [STATUS_COLOURS.get(str(s), PALETTE["muted"]) for s in d[status]]
    ax.barh(list(d[label].astype(str)), vals, color=colours)
    ax.axvline(1.0, color="#333333", linewidth=1)
    ax.invert_yaxis()
    format_axis(ax, "x", "ratio")
    _labels(ax, title, xlabel, None)
    return ax


def waterfall(steps: pd.DataFrame, *, label: str = "label", value: str = "value", ax: Any = None,
              title: str | None = None, ylabel: str | None = None, start_label: str | None = None,
              start: float | None = None, end_label: str | None = None, unit: str | None = None,
              lang: str | None = None, currency: str | None = None) -> Any:
    """A waterfall from ``start`` through signed contributions to the end value (y axis by ``unit``)."""
    ax = new_ax(ax)
    names, bottoms, heights, colours = [], [], [], []
    running = float(start or 0.0)
    if start is not None:
        names.append(start_label or "")
        bottoms.append(0.0)
        heights.append(running)
        colours.append(PALETTE["neutral"])
    for _, row in steps.iterrows():
        v = float(row[value])
        names.append(str(row[label]))
        bottoms.append(running if v >= 0 else running + v)
        heights.append(abs(v))
        colours.append(PALETTE["good"] if v >= 0 else PALETTE["bad"])
        running += v
    if start is not None:
        names.append(end_label or "")
        bottoms.append(0.0)
        heights.append(running)
        colours.append(PALETTE["accent"])
    ax.bar(names, heights, bottom=bottoms, color=colours)
    format_axis(ax, "y", unit or "number", lang, currency=currency)
    _labels(ax, title, None, ylabel)
    return ax


def legend_overlaps(ax: Any) -> bool:
    """Whether the legend of ``ax`` (inside the axes) covers data: a bar, or a line's or a marker's point."""
    import numpy as np
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    leg = ax.get_legend()
    if leg is None or not leg.get_visible():
        return False
    renderer = _renderer(ax.figure)
    box = leg.get_window_extent(renderer)
    if not ax.get_window_extent(renderer).overlaps(box):
        return False  # placed outside the plot
    for line in ax.get_lines():
        if not isinstance(line, Line2D) or not line.get_visible():
            continue
        try:
            xy = np.asarray(line.get_xydata(), dtype=float)
            pts = ax.transData.transform(xy) if xy.size else xy
        except (TypeError, ValueError):
            continue
        if any(box.contains(p[0], p[1]) for p in pts):
            return True
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_width() and patch.get_height():
            if patch.get_window_extent(renderer).overlaps(box):
                return True
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float) if isinstance(coll, Collection) else np.empty((0, 2))
        if coll.get_visible() and offsets.size:
            pts = coll.get_offset_transform().transform(offsets)
            if any(box.contains(p[0], p[1]) for p in pts):
                return True
    return False


def _renderer(fig: Any) -> Any:
    try:
        return fig.canvas.get_renderer()
    except AttributeError:  # a figure made without pyplot: give it an Agg canvas to measure with
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        return FigureCanvasAgg(fig).get_renderer()


def keep_legends_off_data(fig: Any) -> int:
    """Move every legend that covers data to the right of its axes; returns how many still cover data.

    Draws the figure once (without rendering) when it has a legend, so "best" placements are final.
    """
    if not any(ax.get_legend() is not None for ax in fig.get_axes()):
        return 0
    _renderer(fig)
    fig.draw_without_rendering()
    left = 0
    for ax in fig.get_axes():
        if legend_overlaps(ax):
            leg = ax.get_legend()
            ax.legend(leg.legend_handles, [t.get_text() for t in leg.get_texts()],
                      title=leg.get_title().get_text() or None, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0.0, frameon=False, fontsize=8, title_fontsize=8)
            left += int(legend_overlaps(ax))
    return left


# ---------------------------------------------------------------- text that collides


@dataclass(frozen=True)
class ChartText:
    """One piece of text a reader sees on a chart: what it is, its text, and its outline in pixels.

    ``outline`` is the (possibly rotated) rectangle the text occupies, four corners in display
    coordinates; ``group`` names what it belongs to (a legend, an axis' ticks) so that its own parts
    are not compared with each other where that is allowed (the entries of one legend).
    """

    kind: str
    text: str
    outline: tuple[tuple[float, float], ...]
    group: str = ""
    axes: int = -1  # index of its Axes in ``fig.get_axes()``; -1: the figure's own


def _outline(artist: Any, renderer: Any) -> tuple[tuple[float, float], ...] | None:
    """The rectangle ``artist`` occupies, rotated with it (a rotated tick label is a slanted box, not its bounding box)."""
    box = artist.get_window_extent(renderer)
    if box.width <= 0 or box.height <= 0 or not all(map(math.isfinite, (box.x0, box.y0, box.x1, box.y1))):
        return None
    angle = float(artist.get_rotation()) if hasattr(artist, "get_rotation") else 0.0
    if angle % 180 == 0 or artist.get_rotation_mode() != "default":
        return ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1))
    artist.set_rotation(0)  # the unrotated size; the rotated rectangle shares the bounding box's centre
    flat = artist.get_window_extent(renderer)
    artist.set_rotation(angle)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    w, h, a = flat.width / 2, flat.height / 2, math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    return tuple((cx + dx * ca - dy * sa, cy + dx * sa + dy * ca) for dx, dy in ((-w, -h), (w, -h), (w, h), (-w, h)))


def _shrunk(poly: tuple[tuple[float, float], ...], by: float) -> list[tuple[float, float]]:
    cx = sum(p[0] for p in poly) / len(poly)
    cy = sum(p[1] for p in poly) / len(poly)
    out = []
    for x, y in poly:
        d = math.hypot(x - cx, y - cy) or 1.0
        k = max(0.0, 1 - by / d)
        out.append((cx + (x - cx) * k, cy + (y - cy) * k))
    return out


def outlines_overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]], *, tolerance: float = 1.0) -> bool:
    """Whether two convex outlines (corners in order) intersect by more than ``tolerance`` pixels (separating axes)."""
    pa, pb = _shrunk(tuple(a), tolerance), _shrunk(tuple(b), tolerance)
    for poly in (pa, pb):
        for i in range(len(poly)):
            (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % len(poly)]
            nx, ny = y1 - y0, x0 - x1
            if nx == 0 and ny == 0:
                continue
            ra = [nx * x + ny * y for x, y in pa]
            rb = [nx * x + ny * y for x, y in pb]
            if max(ra) <= min(rb) or max(rb) <= min(ra):
                return False
    return True


def _in_view(axis: Any, tick: Any) -> bool:
    lo, hi = sorted(axis.get_view_interval())
    pad = (hi - lo) * 1e-9
    return bool(lo - pad <= tick.get_loc() <= hi + pad)


def chart_texts(fig: Any, *, draw: bool = True) -> list[ChartText]:
    """Every visible text of ``fig`` (titles, tick labels, axis labels, annotations, legends), drawn and measured.

    A legend counts as one box (its frame, or its entries' extent when it has none): its entries may
    touch each other, never anything else. ``draw=False`` measures the figure as last drawn (just saved).
    """
    renderer = _renderer(fig)
    if draw:
        fig.draw_without_rendering()
    out: list[ChartText] = []

    def add(kind: str, artist: Any, axes: int = -1) -> None:
        if artist is None or not artist.get_visible() or not str(artist.get_text()).strip():
            return
        poly = _outline(artist, renderer)
        if poly is not None:
            out.append(ChartText(kind, str(artist.get_text()), poly, "", axes))

    def add_legend(leg: Any, name: str, axes: int = -1) -> None:
        if leg is None or not leg.get_visible():
            return
        box = leg.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            texts = " / ".join(t.get_text() for t in leg.get_texts())
            out.append(ChartText("legend", texts, ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1),
                                                   (box.x0, box.y1)), name, axes))

    for n, ax in enumerate(fig.get_axes()):
        if not ax.get_visible():
            continue
        for title in (ax.title, ax._left_title, ax._right_title):
            add("title", title, n)
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible():
                continue
            add(f"{name} label", axis.label, n)
            add(f"{name} offset", axis.get_offset_text(), n)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if tick.get_visible() and _in_view(axis, tick):
                    for lab in (tick.label1, tick.label2):
                        if lab.get_visible():
                            add(f"{name} tick", lab, n)
        for txt in ax.texts:
            add("annotation", txt, n)
        add_legend(ax.get_legend(), f"legend {n}", n)
    for txt in fig.texts:
        add("figure text", txt)
    if getattr(fig, "_suptitle", None) is not None:
        add("title", fig._suptitle)
    for n, leg in enumerate(fig.legends):
        add_legend(leg, f"figure legend {n}")
    return out


def overlapping_texts(fig: Any, *, tolerance: float = 1.0, draw: bool = True) -> list[tuple[ChartText, ChartText]]:
    """Pairs of texts of ``fig`` (:func:`chart_texts`) whose outlines overlap by more than ``tolerance`` pixels."""
    texts = chart_texts(fig, draw=draw)
    found = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a.group and a.group == b.group:
                continue
            if outlines_overlap(a.outline, b.outline, tolerance=tolerance):
                found.append((a, b))
    return found


def _described(pairs: list[tuple[ChartText, ChartText]]) -> list[str]:
    return [f"{a.text!r} ({a.kind}) × {b.text!r} ({b.kind})" for a, b in pairs]


def text_overlaps(fig: Any, *, tolerance: float = 1.0, draw: bool = True) -> list[str]:
    """Pairs of texts of ``fig`` that print over each other, as ``"'DAU' (title) × '2026-05' (x tick)"``.

    Titles, tick labels, axis labels, annotations and legends are compared pairwise by their outlines
    (rotated with the text), overlapping by more than ``tolerance`` pixels. ``draw=False``: as last drawn.
    """
    return _described(overlapping_texts(fig, tolerance=tolerance, draw=draw))


@cache
def _named_formatter_class() -> type:
    from matplotlib.ticker import Formatter

    class NamedFormatter(Formatter):
        """Tick labels of another formatter, each a value of the data shown by its display name."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def set_axis(self, axis: Any) -> None:
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs: Any) -> None:
            super().set_locs(locs)
            self.inner.set_locs(locs)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return display_name(str(self.inner(x, pos)))

        def format_ticks(self, values: Any) -> list[str]:
            return [display_name(str(s)) for s in self.inner.format_ticks(values)]

        def get_offset(self) -> str:
            return str(self.inner.get_offset())

        def format_data(self, value: float) -> str:
            return str(self.inner.format_data(value))

        def format_data_short(self, value: float) -> str:
            return str(self.inner.format_data_short(value))

    return NamedFormatter


def show_display_names(fig: Any) -> None:
    """Show every value of the data drawn on ``fig`` by its display name (``pack.yaml`` ``labels``).

    Tick labels (through their axis' formatter, so a redraw keeps them), legend entries, titles, axis
    labels and annotations whose text is a value the pack names (:func:`opsnb.render.i18n.display_name`).
    Nothing happens when the run has no display names.
    """
    names, _ = labels_in_use()
    if not names:
        return
    named = _named_formatter_class()
    texts: list[Any] = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    legends = list(fig.legends)
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            current = axis.get_major_formatter()
            if not isinstance(current, named):
                axis.set_major_formatter(named(current))
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        legends.append(ax.get_legend())
    for leg in legends:
        if leg is not None:
            texts += [*leg.get_texts(), leg.get_title()]
    for txt in texts:
        shown = display_name(txt.get_text())
        if shown != txt.get_text():
            txt.set_text(shown)


#: Angles tried in turn for x tick labels that run into each other.
TICK_ANGLES = (30, 60, 90)


def keep_text_apart(fig: Any, *, fixed: bool = False) -> list[str]:
    """Lay ``fig`` out again while texts print over each other; returns the overlaps that remain.

    Subplots are spaced to fit their titles and tick labels (``tight_layout``), and x tick labels that
    run into each other are slanted (30°, then 60°, then upright). A figure laid out by its chart
    (``fixed``) keeps its layout: its overlaps are returned as found.
    """
    found = overlapping_texts(fig)
    if not found or fixed:
        return _described(found)
    import warnings

    axes = fig.get_axes()
    for angle in (None, *TICK_ANGLES):
        crowded = {a.axes for a, b in found if a.kind == b.kind == "x tick" and a.axes == b.axes >= 0}
        if angle is not None and not crowded:
            break
        for n in crowded if angle is not None else ():
            axes[n].tick_params(axis="x", labelrotation=angle)
            for lab in axes[n].get_xticklabels():
                lab.set_horizontalalignment("center" if angle == 90 else "right")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "not compatible with tight_layout": checked below
            fig.tight_layout()
        found = overlapping_texts(fig)
        if not found:
            break
    return _described(found)
