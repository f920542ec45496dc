"""Plot theme: a CJK-capable font, SVG text kept as text, seaborn defaults.

Nothing happens at import; :func:`apply` is called by the notebook setup.
"""

from __future__ import annotations

import warnings
from functools import cache

PALETTE = {
    "good": "#2e7d32",
    "warn": "#f9a825",
    "bad": "#c62828",
    "neutral": "#607d8b",
    "accent": "#1565c0",
    "muted": "#b0bec5",
}
STATUS_COLOURS = {"exceeded": PALETTE["good"], "nearly": PALETTE["warn"], "missed": PALETTE["bad"], "n/a": PALETTE["muted"]}
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")


@cache
def cjk_font() -> str | None:
    """The first installed CJK font family, or None (then Chinese would render as boxes)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    # The font cache may predate a font install: rebuild once and look again.
    font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)  # type: ignore[attr-defined]
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((fam for fam in CJK_FAMILIES if fam in names), None)


def apply() -> None:
    """Set matplotlib/seaborn state for reports: CJK font, SVG text as text, a clean style."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    fam = cjk_font()
    if fam is None:
        warnings.warn("no CJK font found: Chinese labels will not render; run `make setup` (installs fonts-noto-cjk)",
                      stacklevel=2)
    mpl.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [f for f in (fam, "DejaVu Sans") if f],
        "axes.unicode_minus": False,
        "svg.fonttype": "none",
        "svg.hashsalt": "opsnb",  # deterministic ids in SVG output
        "figure.figsize": (8.0, 3.6),
        "figure.dpi": 96,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "figure.max_open_warning": 0,
    })
