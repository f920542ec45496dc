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
        """The frame with every cell turned into display text by its column's format."""
        df = self.data.copy()
        for col in df.columns:
            unit = self.formats.get(col)
            if unit is None:
                df[col] = [fmt.na(self.lang) if (v is None or (isinstance(v, float) and pd.isna(v))) else
                           (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v))
                           for v in df[col].tolist()]
            elif unit == "pp":
                df[col] = [fmt.pp(v, self.lang) for v in df[col].tolist()]
            elif unit == "change":
                df[col] = [fmt.pct(v, self.lang, signed=True) for v in df[col].tolist()]
            elif unit == "roi":
                df[col] = [fmt.ratio_x(v, self.lang) for v in df[col].tolist()]
            elif unit == "int":
                df[col] = [fmt.number(v, self.lang, compact=False) for v in df[col].tolist()]
            elif unit in ("currency", "count"):
                # one column, one format: when any amount is in 万 (K), every amount from 1万 (10K) up is too
                vals = [v for v in df[col].tolist() if not fmt.is_missing(v)]
                start = 1e4 if vals and max(abs(float(v)) for v in vals) >= 1e5 else 1e5
                df[col] = [fmt.money(v, self.lang, currency=self.currency, compact_from=start) if unit == "currency"
                           else fmt.number(v, self.lang, compact_from=start) for v in df[col].tolist()]
            else:
                df[col] = [fmt.value(v, unit, self.lang, currency=self.currency) for v in df[col].tolist()]
        return df

    def _repr_html_(self) -> str:
        df = self.formatted()
        # text columns (a problem, an action, a name) wrap, so a table fits the page; numbers never break
        wrap = {c for c in df.columns if self.formats.get(c) is None and df[c].map(lambda v: len(str(v))).max() > 16}
        cells = df.copy()
        for c in cells.columns:
            cells[c] = [(f'<div class="opsnb-wrap">{esc(str(v))}</div>' if c in wrap else esc(str(v)))
                        for v in cells[c].tolist()]
        cells.columns = [esc(str(c)) for c in cells.columns]
        if self.index:
            cells.index = [esc(str(i)) for i in cells.index]
        body = cells.to_html(escape=False, index=self.index, border=0, classes="opsnb-table", na_rep=fmt.na(self.lang))
        cap = f'<div class="opsnb-caption">{esc(self.caption)}</div>' if self.caption else ""
        return f'<div class="opsnb-table-wrap">{cap}{body}</div>'

    def __repr__(self) -> str:
        return self.formatted().to_string(index=self.index)


def table(df: pd.DataFrame, lang: str, *, formats: Mapping[str, str] | None = None, currency: str | None = None,
          index: bool = False, caption: str | None = None) -> Table:
    """An escaped table; ``formats`` maps columns to a unit (count, currency, ratio, hours, score, pp, change, roi, int)."""
    return Table(df, lang, dict(formats or {}), currency, index, caption)


def tables(*parts: Table) -> Html:
    """Several tables shown as one block (a wide table split so that each part fits the page)."""
    return Html("".join(p._repr_html_() for p in parts), "\n\n".join(repr(p) for p in parts))


_FIXED: weakref.WeakSet[Any] = weakref.WeakSet()


def fixed_layout(fig: Any) -> None:
    """Mark ``fig`` as laid out by its chart (margins set): :func:`figure` then skips the tight bounding box.

    The tight box costs one extra draw of every artist, which for a grid of small multiples is most
    of the rendering time.
    """
    _FIXED.add(fig)


def figure(fig_or_ax: Any, *, alt: str = "") -> Html:
    """Embed a matplotlib figure as inline SVG (text kept as text) and close it."""
    import matplotlib.pyplot as plt

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if hasattr(fig, "get_figure") and fig.get_figure() is not None:
        fig = fig.get_figure()
    from opsnb.render.charts import keep_legends_off_data

    covering = keep_legends_off_data(fig)  # a legend never hides data (moved out; any left is marked)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches=None if fig in _FIXED else "tight",
                metadata={"Date": None, "Creator": "opsnb"})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE: inline SVG in HTML
    digest = hashlib.sha1(svg.encode()).hexdigest()[:8]
    mark = f' data-legend-covers-data="{covering}"' if covering else ""
    return Html(f'<figure class="opsnb-figure" data-id="{digest}"{mark} aria-label="{esc(alt)}">{svg}</figure>',
                f"[chart: {alt}]")


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
            f'<div class="opsnb-card-att">{esc(it.get("attainment", ""))} · {esc(it.get("status_text", ""))}</div>'
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
