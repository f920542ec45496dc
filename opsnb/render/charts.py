"""Chart primitives (seaborn/matplotlib), in the manner of seaborn's functions.

Each takes data first and keyword-only options, an optional ``ax``, texts already translated,
and returns the Axes it drew on. None mutates its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from opsnb.render.theme import PALETTE, STATUS_COLOURS


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
         target_label: str | None = None, percent: bool = False) -> Any:
    """A line chart, optionally with a dashed target line from column ``target``."""
    import seaborn as sns

    ax = new_ax(ax)
    sns.lineplot(data=data, x=x, y=y, hue=hue, ax=ax, marker="o" if len(data) <= 40 else None)
    if target and target in data and data[target].notna().any():
        ax.plot(data[x], data[target], linestyle="--", color=PALETTE["neutral"], label=target_label or target)
        ax.legend(loc="best", fontsize=8)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _labels(ax, title, xlabel, ylabel)
    return ax


def bar(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax: Any = None, title: str | None = None,
        xlabel: str | None = None, ylabel: str | None = None, horizontal: bool = False,
        colors: Sequence[str] | None = None, percent: bool = False) -> Any:
    """A bar chart (vertical, or horizontal with categories on the y axis)."""
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
    if percent:
        from matplotlib.ticker import PercentFormatter

        (ax.xaxis if horizontal else ax.yaxis).set_major_formatter(PercentFormatter(1.0))
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
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _labels(ax, title, xlabel, None)
    return ax


def waterfall(steps: pd.DataFrame, *, label: str = "label", value: str = "value", ax: Any = None,
              title: str | None = None, ylabel: str | None = None, start_label: str | None = None,
              start: float | None = None, end_label: str | None = None) -> Any:
    """A waterfall from ``start`` through signed contributions to the end value."""
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
    _labels(ax, title, None, ylabel)
    return ax
