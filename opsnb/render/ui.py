"""Display objects for notebooks and HTML: every data value is escaped here.

Each helper returns an object with ``_repr_html_`` (what Jupyter and nbconvert show) and a
plain-text ``__repr__``. Never build HTML from f-strings with data in them anywhere else.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opsnb.render import fmt
from opsnb.render.i18n import display_name, t

_SLUG = re.compile(r"[^0-9A-Za-z_\-]+")


def slug(key: str) -> str:
    """A safe HTML id from a key such as ``goals.attainment``."""
    return _SLUG.sub("-", key).strip("-") or "section"


def esc(text: Any) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


@dataclass(frozen=True)
class Html:
    """A trusted HTML fragment built only by the helpers in this module."""

    html: str
    text: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text or re.sub(r"<[^>]+>", "", self.html)


def heading(text: str, *, level: int = 2, anchor: str | None = None) -> Html:
    """A heading with an id (the exporter builds the table of contents from h1/h2 ids)."""
    level = min(max(level, 1), 4)
    ident = slug(anchor or text)
    return Html(f'<h{level} id="{esc(ident)}" class="opsnb-h">{esc(text)}</h{level}>', text)


def paragraph(text: str, *, cls: str = "opsnb-purpose") -> Html:
    """One escaped paragraph."""
    return Html(f'<p class="{esc(cls)}">{esc(text)}</p>', text)


def note(text: str, *, kind: str = "info") -> Html:
    """A visible note box (kind: info, warn, error), e.g. "no data for this subsection"."""
    return Html(f'<div class="opsnb-note opsnb-note-{esc(kind)}" role="note">{esc(text)}</div>', text)


def bullets(items: Iterable[str]) -> Html:
    """A bulleted list of generated sentences."""
    items = [str(i) for i in items]
    if not items:
        return Html("", "")
    lis = "".join(f"<li>{esc(i)}</li>" for i in items)
    return Html(f'<ul class="opsnb-bullets">{lis}</ul>', "\n".join(f"• {i}" for i in items))


#: A figure with its base in brackets, "55.3% (1,296)": in a wide table the base goes under the figure.
_SOFT = re.compile(r"^(\S+) ([(（][^()（）\s]+[)）])$")
#: Width of a page's content in CSS pixels (``main`` in opsnb.css: 1080 px less 2 × 24 px padding): a table's
#: columns are split into parts that each fit it, so no table scrolls sideways at 1280 px.
PAGE_WIDTH_PX = 1032
#: What a table may take of it by :func:`text_px`'s estimate, which is within about 5 % of Chromium's layout
#: (checked on every table of the sample and Online Retail reviews).
TABLE_BUDGET_PX = PAGE_WIDTH_PX * 0.95
#: A table's font size (``table.opsnb-table`` in opsnb.css), the padding of a cell (both sides), the narrowest
#: a column is (``min-width`` of ``thead th``, padding included: ``box-sizing: border-box``) and the narrowest
#: a wrapped text is (``min-width`` of ``.opsnb-wrap``), in CSS pixels.
_FONT_PX, _PAD_PX, _HEAD_MIN_PX, _WRAP_MIN_PX = 12.5, 14.0, 4.5 * 12.5, 8 * 12.5
#: Advance widths of the table font (Noto Sans CJK), in em, measured in Chromium: full-width characters,
#: digits, lower- and upper-case letters, narrow punctuation; headers are bold (about 7 % wider).
_EM = {"wide": 1.0, "digit": 0.56, "lower": 0.53, "upper": 0.64, "narrow": 0.3, "other": 0.62}
_BOLD = 1.07


def text_px(text: str, *, bold: bool = False) -> float:
    """About how wide ``text`` runs in a table cell, in CSS pixels."""
    from unicodedata import east_asian_width

    em = 0.0
    for ch in text:
        em += _EM["wide" if east_asian_width(ch) in "WF" else "digit" if ch.isdigit() else
                  "narrow" if ch in "il.,:;|!'()[]/ -" else "lower" if ch.islower() else
                  "upper" if ch.isupper() else "other"]
    return em * _FONT_PX * (_BOLD if bold else 1.0)


def _narrowest(text: str, *, bold: bool = False) -> float:
    """The narrowest ``text`` can wrap to: its widest word or full-width character."""
    words = re.findall(r"[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+", text)
    return max((text_px(w, bold=bold) for w in words), default=0.0)


#: A cell that reads as a figure (or a date, an id with digits first): aligned right like numbers.
_FIGURE_LIKE = re.compile(r"^[+\-−]?[¥£$€]?\d")


def is_text_column(cells: list[str]) -> bool:
    """Whether a column holds words (names, statuses, notes) rather than figures: most of its cells that say
    something (not blank, not "不适用" / "n/a") do not start like a number."""
    na = tuple(fmt.na(lang) for lang in ("zh", "en"))
    filled = [c.strip() for c in cells if c.strip() not in ("", "—", "-") and not c.strip().startswith(na)]
    words = [c for c in filled if not _FIGURE_LIKE.match(c)]
    return bool(filled) and len(words) * 2 > len(filled)


def column_px(header: Any, cells: list[str], *, wrapped: bool, stacked: bool = False) -> float:
    """The narrowest a column can be laid out (header words and every cell), padding included.

    ``stacked``: figures with their base ("55.3% (1,296)") take two lines, the base under the figure.
    """
    head = _narrowest(str(header), bold=True)
    if wrapped:
        body = _WRAP_MIN_PX
    else:
        body = max((max(text_px(m[1]), text_px(m[2])) if stacked and (m := _SOFT.match(c)) else text_px(c)
                    for c in cells), default=0.0)
    return max(head + _PAD_PX, body + _PAD_PX, _HEAD_MIN_PX)


def layout_columns(df: pd.DataFrame, wrap: set[Any], *, keys: int = 1,
                   width: float = TABLE_BUDGET_PX) -> tuple[bool, list[list[Any]]]:
    """How a table of display text fits ``width``: whether its figures with a base stack in two lines, and its
    columns after the first ``keys`` (repeated in each part) in parts that each fit.

    A table that fits on one line per row is left as it is; else its figures with a base stack; a table
    still too wide is split into parts (each holds at least one column).
    """
    def widths(stacked: bool) -> dict[Any, float]:
        return {c: column_px(c, [str(v) for v in df[c].tolist()], wrapped=c in wrap, stacked=stacked)
                for c in df.columns}

    w = widths(False)
    stacked = sum(w.values()) > width and any(_SOFT.match(str(v)) for c in df.columns for v in df[c].tolist())
    if stacked:
        w = widths(True)
    fixed = sum(w[c] for c in df.columns[:keys])
    rest = list(df.columns[keys:])

    def fill(share: float) -> list[list[Any]]:
        """Columns in order, a new part when the next would not fit or this one has its ``share`` of them."""
        parts: list[list[Any]] = [[]]
        used = fixed
        for c in rest:
            if parts[-1] and (used + w[c] > width or used - fixed >= share):
                parts.append([])
                used = fixed
            parts[-1].append(c)
            used += w[c]
        return parts

    parts = fill(float("inf"))
    if len(parts) > 1:  # as many parts as it takes, of about equal width (never one lonely column)
        even = fill(sum(w[c] for c in rest) / len(parts) - 1e-6)
        parts = even if len(even) == len(parts) else parts
    return stacked, parts


@dataclass
class Table:
    """An escaped HTML table of a small frame; ``.data`` keeps the numbers for analysts."""

    data: pd.DataFrame
    lang: str = "zh"
    formats: Mapping[str, str] = field(default_factory=dict)
    currency: str | None = None  # None: the unit's currency (fmt.currency())
    index: bool = False
    caption: str | None = None

    def formatted(self) -> pd.DataFrame:
        """The frame with every cell turned into display text by its column's format.

        Counts and amounts take one scale and one precision per column (:func:`fmt.column`), so a
        column never mixes ``¥5,481.63`` with ``¥14,984`` or ``¥3,070.79`` with ``¥255.1万``. Text cells
        that are values of the data show their display names (:func:`opsnb.render.i18n.display_name`),
        and so do column labels and the index (a table of channels by region).
        """
        df = self.data.copy()
        df.columns = [display_name(c, self.lang) if isinstance(c, str) else c for c in df.columns]
        if self.index:
            df.index = [display_name(i, self.lang) if isinstance(i, str) else i for i in df.index]
        formats = self.shown_formats()
        for col in df.columns:
            unit = formats.get(col)
            vals = df[col].tolist()
            if unit is None:
                df[col] = [fmt.na(self.lang) if (v is None or (isinstance(v, float) and pd.isna(v))) else
                           f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else
                           display_name(v, self.lang) if isinstance(v, str) else str(v) for v in vals]
                continue
            signed = unit.startswith("+")
            base = unit.lstrip("+")
            if base == "pp":
                df[col] = [fmt.pp(v, self.lang) for v in vals]
            elif base == "change":
                df[col] = [fmt.pct(v, self.lang, signed=True) for v in vals]
            elif base == "roi":
                df[col] = [fmt.ratio_x(v, self.lang) for v in vals]
            elif base == "int":
                df[col] = [fmt.number(v, self.lang, compact=False, signed=signed) for v in vals]
            else:  # counts and amounts: one scale per column; other units have one format already
                df[col] = fmt.column(vals, base, self.lang, currency=self.currency, signed=signed)
        return df

    def shown_formats(self) -> dict[Any, str]:
        """``formats`` keyed by the columns as shown (a column named by a value of the data is renamed)."""
        return {display_name(k, self.lang) if isinstance(k, str) else k: v for k, v in self.formats.items()}

    def _repr_html_(self) -> str:
        df = self.formatted()
        formats = self.shown_formats()
        # text columns (a problem, an action, a name) wrap, so a table fits the page; numbers never break; a
        # table still too wide stacks its figures over their bases, then is split (layout_columns)
        wrap = {c for c in df.columns if formats.get(c) is None and df[c].map(lambda v: len(str(v))).max() > 16}
        keys = 0 if self.index else 1  # the columns that name a row, repeated in every part of a split table
        stacked, parts = layout_columns(df, wrap, keys=keys)
        out = []
        for i, cols in enumerate(parts):
            part = df[list(df.columns[:keys]) + cols] if keys else df[cols]
            cap = self.caption if i == 0 else t("common.table_continued", self.lang)
            out.append(self._part_html(part, wrap, cap, stacked))
        return "".join(out)

    def _part_html(self, df: pd.DataFrame, wrap: set[Any], caption: str | None, stacked: bool) -> str:
        # words read from the left, figures from the right: a column of text is aligned left, header too
        left = {c for c in df.columns if c in wrap or is_text_column([str(v) for v in df[c].tolist()])}

        def cell(c: Any, v: Any) -> str:
            text = str(v)
            if c in wrap:
                return f'<div class="opsnb-wrap">{esc(text)}</div>'
            if c in left:
                return f'<div class="opsnb-left">{esc(text)}</div>'
            m = _SOFT.match(text) if stacked else None
            return f'{esc(m[1])} <span class="opsnb-base">{esc(m[2])}</span>' if m else esc(text)

        cells = df.copy()
        for c in cells.columns:
            cells[c] = [cell(c, v) for v in cells[c].tolist()]
        cells.columns = [f'<div class="opsnb-left">{esc(str(c))}</div>' if c in left else esc(str(c))
                         for c in cells.columns]
        if self.index:
            cells.index = [esc(str(i)) for i in cells.index]
        classes = "opsnb-table opsnb-stacked" if stacked else "opsnb-table"
        body = cells.to_html(escape=False, index=self.index, border=0, classes=classes, na_rep=fmt.na(self.lang))
        cap = f'<div class="opsnb-caption">{esc(caption)}</div>' if caption else ""
        return f'<div class="opsnb-table-wrap">{cap}{body}</div>'

    def __repr__(self) -> str:
        return self.formatted().to_string(index=self.index)


def table(df: pd.DataFrame, lang: str, *, formats: Mapping[str, str] | None = None, currency: str | None = None,
          index: bool = False, caption: str | None = None) -> Table:
    """An escaped table; ``formats`` maps columns to a unit (count, currency, ratio, hours, score, pp, change, roi, int).

    A leading ``+`` makes a column of changes (``+currency``: ``+¥1,234``). Counts and amounts take one
    scale and one precision per column (:func:`opsnb.render.fmt.column`).
    """
    return Table(df, lang, dict(formats or {}), currency, index, caption)


@dataclass(frozen=True)
class Tables:
    """Several tables shown as one block; ``parts`` keeps each (its cells are recorded as facts)."""

    parts: tuple[Table, ...]

    def _repr_html_(self) -> str:
        return "".join(p._repr_html_() for p in self.parts)

    def __repr__(self) -> str:
        return "\n\n".join(repr(p) for p in self.parts)


def tables(*parts: Table) -> Tables:
    """Several tables shown as one block (a wide table split so that each part fits the page)."""
    return Tables(tuple(parts))


_FIXED: weakref.WeakSet[Any] = weakref.WeakSet()


def fixed_layout(fig: Any) -> None:
    """Mark ``fig`` as laid out by its chart (margins set): :func:`figure` then skips the tight bounding box.

    The tight box costs one extra draw of every artist, which for a grid of small multiples is most
    of the rendering time.
    """
    _FIXED.add(fig)


def figure(fig_or_ax: Any, *, alt: str = "") -> Html:
    """Embed a matplotlib figure as inline SVG (text kept as text) and close it.

    On the way, every value of the data drawn on it shows by its display name
    (:func:`opsnb.render.charts.show_display_names`), a legend never covers data
    (:func:`~opsnb.render.charts.keep_legends_off_data`) and no text prints over another
    (:func:`~opsnb.render.charts.keep_text_apart`); what could not be helped is marked on the figure
    (``data-legend-covers-data``, ``data-text-overlaps``) for the reader checks.
    """
    import matplotlib.pyplot as plt

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if hasattr(fig, "get_figure") and fig.get_figure() is not None:
        fig = fig.get_figure()
    from opsnb.render.charts import keep_legends_off_data, keep_text_apart, show_display_names, text_overlaps

    show_display_names(fig)
    covering = keep_legends_off_data(fig)  # a legend never hides data (moved out; any left is marked)
    fixed = fig in _FIXED

    def save() -> io.StringIO:
        out = io.StringIO()
        fig.savefig(out, format="svg", bbox_inches=None if fixed else "tight",
                    metadata={"Date": None, "Creator": "opsnb"})
        return out

    buf = save()
    # no text over another: measured as just drawn (no drawing of its own); laid out again and saved anew
    # only when two collide
    clashes = text_overlaps(fig, draw=False)
    if clashes and not fixed:
        clashes = keep_text_apart(fig)
        buf = save()
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE: inline SVG in HTML
    digest = hashlib.sha1(svg.encode()).hexdigest()[:8]
    mark = f' data-legend-covers-data="{covering}"' if covering else ""
    if clashes:
        mark += f' data-text-overlaps="{esc(" | ".join(clashes))}"'
    return Html(f'<figure class="opsnb-figure" data-id="{digest}"{mark} aria-label="{esc(alt)}">{svg}</figure>',
                f"[chart: {alt}]")


def _att_line(card: dict[str, Any]) -> str:
    """"108.0% · 超额完成"; once when both say the same (a KPI without a target: "不适用", not "不适用 · 不适用")."""
    parts = [str(card.get(k) or "") for k in ("attainment", "status_text")]
    return " · ".join(dict.fromkeys(p for p in parts if p))


def cards(items: list[dict[str, Any]]) -> Html:
    """KPI cards: dicts with label, value, target, attainment, status, change, good (True/False/None)."""
    out = []
    for it in items:
        status = slug(str(it.get("status", "n/a")))
        good = it.get("good")
        trend = "good" if good is True else "bad" if good is False else "neutral"
        out.append(
            f'<div class="opsnb-card opsnb-status-{esc(status)}">'
            f'<div class="opsnb-card-label">{esc(it.get("label", ""))}</div>'
            f'<div class="opsnb-card-value">{esc(it.get("value", ""))}</div>'
            f'<div class="opsnb-card-target">{esc(it.get("target", ""))}</div>'
            f'<div class="opsnb-card-att">{esc(_att_line(it))}</div>'
            f'<div class="opsnb-card-change opsnb-{trend}">{esc(it.get("change", ""))}</div></div>')
    return Html(f'<div class="opsnb-cards">{"".join(out)}</div>', f"[{len(items)} KPI cards]")


@dataclass(frozen=True)
class HeatCell:
    """One cell of :func:`heat_table`: its text, a smaller line under it, and the status band colouring it."""

    text: str
    sub: str = ""
    status: str | None = None  # exceeded | nearly | missed | n/a; None: not coloured


def _heat_cell(c: HeatCell, tag: str = "td") -> str:
    cls = f' class="opsnb-heat-cell opsnb-status-{esc(slug(c.status))}"' if c.status is not None else ""
    sub = f'<span class="opsnb-heat-sub">{esc(c.sub)}</span>' if c.sub else ""
    return f"<{tag}{cls}>{esc(c.text)}{sub}</{tag}>"


def heat_table(columns: list[str], rows: list[tuple[HeatCell, list[HeatCell]]], *,
               total: tuple[HeatCell, list[HeatCell]] | None = None) -> Html:
    """A table whose cells are coloured by status band (rows × columns), with an optional total row under a rule.

    ``columns``: the header, first the row labels' column; each row: its label cell and one cell per column.
    """
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)

    def tr(row: tuple[HeatCell, list[HeatCell]], cls: str = "") -> str:
        label, cells = row
        return f'<tr{cls}>{_heat_cell(label, "th")}{"".join(_heat_cell(c) for c in cells)}</tr>'

    body = "".join(tr(r) for r in rows)
    if total is not None:
        body += tr(total, ' class="opsnb-heat-total"')
    text = "\n".join(" | ".join([r[0].text] + [c.text for c in r[1]]) for r in [*rows, *([total] if total else [])])
    return Html(f'<div class="opsnb-table-wrap"><table class="opsnb-table opsnb-heat"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>", text)


def legend(items: list[tuple[str, str]]) -> Html:
    """Swatches of status bands, each with its text: ``[(status, text), ...]``."""
    spans = "".join(f'<span><i class="opsnb-swatch opsnb-status-{esc(slug(s))}"></i>{esc(text)}</span>'
                    for s, text in items)
    return Html(f'<div class="opsnb-legend">{spans}</div>', " · ".join(text for _, text in items))


def link_list(items: list[tuple[str, str, str]]) -> Html:
    """Links (href, text, status) for the summary page's section list; hrefs are relative file names.

    An empty href shows the text without a link (nothing to open).
    """
    lis = "".join(
        f'<li class="opsnb-health-{esc(slug(status))}">'
        + (f'<a href="{esc(href)}">{esc(text)}</a>' if href else esc(text)) + "</li>"
        for href, text, status in items)
    return Html(f'<ul class="opsnb-links">{lis}</ul>')
