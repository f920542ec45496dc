"""Read a published review as its readers do: the visible text of each page, HTML and SVG alike.

Each ``find_*`` function returns the defects it finds (empty = clean) as short strings naming the
page and the offending text, so a failing test says what a reader would have seen. The checks are
tested on planted defects in ``tests/unit/test_reader_checks.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup

#: Table names of the data pack contract (DESIGN.md): ids, never words a reader should see.
TABLES = ("events", "orders", "users", "campaigns", "campaign_users", "channel_spend", "touchpoints", "kpis",
          "actions", "content", "tickets", "experiments", "risks", "programmes")

#: Words of English a Chinese page may show: metric abbreviations used as such in Chinese business
#: writing, units and proper names of the product. Data values are added per pack by the caller.
ZH_ALLOWED = {"GMV", "ROI", "KPI", "KPIs", "NPS", "DAU", "WAU", "MAU", "UV", "PV", "SOP", "KOL", "LMDI", "RFM", "App",
              "Web", "opsnb", "pandas", "ibis", "duckdb", "DuckDB", "PostgreSQL", "Spark", "Q1", "Q2", "Q3", "Q4", "UTC", "CTR", "CVR", "CAC", "LTV",
              "AOV", "ARPU", "SKU", "APP", "AB", "A/B", "z", "p", "vs", "Asia", "Shanghai", "Europe", "London",
              "zh", "en", "TGI", "OK", "SVG", "HTML", "JupyterLab", "Champions", "Asia/Shanghai", "Europe/London",
              # standard abbreviations of the trade, used as such in Chinese writing
              "HHI", "UTM", "SDK", "STL", "ID", "DAU/MAU", "S/A/B/C", "P90", "CI", "D1", "D7", "D30", "R-F-M", "A/B/C"}


@dataclass(frozen=True)
class Page:
    """One published page: its file name, its visible text lines, the text drawn in its charts and its tables
    (each a list of rows of cell texts, the header row first)."""

    name: str
    lines: list[str]
    svg: list[str]
    tables: list[list[list[str]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines + self.svg)


def read_page(path: Path) -> Page:
    """The visible text of ``path`` (scripts, styles and hidden input cells left out)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "head", "title", "nav"]):  # nav: the table of contents repeats headings
        tag.decompose()
    tables = [[[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in t.find_all("tr")]
              for t in soup.find_all("table")]
    svg = [t.get_text(" ", strip=True) for t in soup.find_all("text")]
    for s in soup.find_all("svg"):
        s.decompose()
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "tr", "figcaption", "div", "span", "aside"]):
        if el.name != "tr" and el.find_parent("tr") is not None:
            continue  # inside a table row: read with its row
        if el.name != "tr" and el.find(["div", "p", "table", "ul", "ol", "h1", "h2", "h3", "li", "tr"]):
            continue  # a container: its children are read on their own
        if el.name == "tr":
            lines.append(" | ".join(c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])))
        elif el.name == "span" and el.find_parent(["p", "li", "td", "th", "div", "h1", "h2", "h3"]):
            continue
        else:
            s = el.get_text(" ", strip=True)
            if s:
                lines.append(s)
    return Page(path.name, lines, [s for s in svg if s], tables)


def read_review(run_dir: Path) -> list[Page]:
    """Every HTML page of a published run folder."""
    return [read_page(p) for p in sorted(run_dir.glob("*.html"))]


# ASCII-only boundaries: an id glued to Chinese text ("参数calendar_region") is still an id
_SNAKE = re.compile(r"(?<![A-Za-z0-9_/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_/.-])")
_DOTTED = re.compile(r"(?<![A-Za-z0-9_/])[a-z_]+\.[a-z_]+\.[a-z_.]+(?![A-Za-z0-9_/])")
# a file path has a lowercase or dotted segment ("/work/main/data"), unlike "D1/D7/D30" or "40/20/40"
_PATH = re.compile(r"(?:/[\w.-]+)*/[\w-]*[a-z.][\w.-]*(?:/[\w.-]+)+|(?:/[\w.-]+)+/[\w-]*[a-z.][\w.-]*|[A-Za-z]:\\")
_TABLE_WORD = re.compile(r"(?<![A-Za-z_])(" + "|".join(TABLES) + r")(?:\s*表|\s+table)(?![A-Za-z_])")


def find_code_names(page: Page, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Catalogue keys, snake_case ids, table names in prose and file paths in visible text."""
    out = []
    for line in page.lines + page.svg:
        for rx, what in ((_SNAKE, "id"), (_DOTTED, "catalogue key"), (_TABLE_WORD, "table name"), (_PATH, "path")):
            for m in rx.finditer(line):
                if m.group(0) not in allowed:
                    out.append(f"{page.name}: {what} {m.group(0)!r} in {line[:120]!r}")
    return out


_ASCII_WORD = re.compile(r"(?<![A-Za-z0-9_%.])[A-Za-z][A-Za-z/]*[A-Za-z](?![A-Za-z0-9_])")


def find_english_in_zh(page: Page, allowed: set[str]) -> list[str]:
    """English words on a Chinese page that are neither allowed abbreviations nor data values."""
    ok = ZH_ALLOWED | allowed
    out = []
    for line in page.lines + page.svg:
        for m in _ASCII_WORD.finditer(line):
            w = m.group(0)
            if w not in ok and not any(w in v for v in allowed):
                out.append(f"{page.name}: English {w!r} in {line[:120]!r}")
    return out


def find_placeholders(page: Page, placeholder: str) -> list[str]:
    """The "unknown" placeholder shown in place of a value (the caller knows the data has none blank)."""
    return [f"{page.name}: placeholder {placeholder!r} in {line[:120]!r}"
            for line in page.lines + page.svg if re.search(rf"(?<![A-Za-z]){re.escape(placeholder)}(?![A-Za-z])", line)]


_CURRENCIES = "¥£$€"


def find_foreign_currency(page: Page, currency: str) -> list[str]:
    """Money shown in a currency other than the unit's."""
    bad = [c for c in _CURRENCIES if c != currency]
    return [f"{page.name}: {c!r} on a {currency} unit in {line[:120]!r}"
            for line in page.lines + page.svg for c in bad if re.search(re.escape(c) + r"\s?-?\d", line)]


_SCI = re.compile(r"(?<![\w.])\d+(?:\.\d+)?e[+-]?\d+(?![\w])", re.I)


def find_raw_numbers(page: Page) -> list[str]:
    """Scientific notation (``2e+06``) and matplotlib's offset labels (``1e6``)."""
    return [f"{page.name}: raw number {m.group(0)!r} in {line[:120]!r}"
            for line in page.lines + page.svg for m in _SCI.finditer(line)]


# A direction word followed (in the same clause) by a number of the opposite sign.
_UP = r"(?:增长|上升|提高|提升|增加|rise|rose|grew|growth|increase[sd]?|up)"
_DOWN = r"(?:下滑|下降|减少|降低|decline[sd]?|fell|drop(?:ped)?|decrease[sd]?|down)"
_CLAUSE = r"[^，。；;,.!?|]{0,24}?"
_SIGNED = re.compile(rf"(?<![A-Za-z'-])(?P<word>{_UP}|{_DOWN})(?![A-Za-z]){_CLAUSE}(?<![\w.])(?P<sign>[+\-−])\d")


def find_direction_mismatch(page: Page) -> list[str]:
    """"下滑 +14.7%" / "largest decline: +14.7%": a direction word that disagrees with its number's sign."""
    out = []
    for line in page.lines:
        for m in _SIGNED.finditer(line):
            up = re.fullmatch(_UP, m.group("word"), re.I) is not None
            if up != (m.group("sign") == "+"):
                out.append(f"{page.name}: {m.group(0)!r} in {line[:140]!r}")
    return out


def find_repeated_lines(page: Page, *, longer_than: int = 30) -> list[str]:
    """A sentence shown twice on one page (a problem listed twice, a duplicated calendar entry)."""
    seen: dict[str, int] = {}
    for line in page.lines:
        if len(line) > longer_than:
            seen[line] = seen.get(line, 0) + 1
    return [f"{page.name}: shown {n}× {line[:120]!r}" for line, n in seen.items() if n > 1]


def find_unnamed_values(page: Page, labels: Mapping[str, Mapping[str, str]], lang: str) -> list[str]:
    """Values of the data that the pack names in ``lang`` (``pack.yaml`` labels) shown as they are instead.

    Only values in a script other than the page's are looked for (Chinese values on an English page): a
    value in the page's own script ("App", "KOL") may rightly be its own name.
    """
    other = re.compile(r"[\u3400-\u9fff]") if lang == "en" else re.compile(r"[A-Za-z]")
    wanted = sorted((v for v, names in labels.items() if lang in names and names[lang] != v and other.search(v)),
                    key=len, reverse=True)
    out = []
    for line in page.lines + page.svg:
        for v in wanted:
            if v in line:
                out.append(f"{page.name}: {v!r} not named {labels[v][lang]!r} in {line[:120]!r}")
                break
    return out


# a whole cell that is one number: sign, currency, digits, decimals, scale (万/亿, K/M/B), unit
_FIGURE = re.compile(r"^(?P<sign>[+\-−]?)(?P<cur>[¥£$€]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
                     r"(?P<scale>万|亿|K|M|B)?(?P<unit>%|个百分点| pp|小时| h)?$")


def _figure(cell: str) -> tuple[tuple[str, str], tuple[str, int]] | None:
    """(kind: currency and unit, format: scale and decimals) of a cell that is one number, else None."""
    m = _FIGURE.match(cell.strip())
    if m is None:
        return None
    return (m["cur"], m["unit"] or ""), (m["scale"] or "", len(m["dec"] or ""))


def _mixed(cells: Iterable[str]) -> tuple[bool, str]:
    """(one kind of figure, and it in more than one format; the formats seen) over ``cells``."""
    figs = [f for f in map(_figure, cells) if f is not None]
    kinds = {k for k, _ in figs}
    formats = {f for _, f in figs}
    return len(kinds) == 1 and len(formats) > 1, ", ".join(sorted(f"{sc or '1'}/{d}dp" for sc, d in formats))


def find_mixed_formats(page: Page) -> list[str]:
    """A table column of one kind of figure (amounts, counts, percentages) in more than one scale or precision
    ("¥5,481.63" beside "¥14,984", "¥255.1万" beside "¥3,070.79"); and where a table has a row per metric (columns
    holding several kinds), a row of those columns in one kind but several formats ("GMV | ¥10.9万 | ¥58,626")."""
    out = []
    for n, table in enumerate(page.tables):
        head, body = (table[0], table[1:]) if table else ([], [])
        width = max((len(r) for r in body), default=0)
        per_metric = []  # columns whose rows are different metrics
        for j in range(width):
            column = [r[j] for r in body if j < len(r)]
            if len({k for k, _ in filter(None, map(_figure, column))}) > 1:
                per_metric.append(j)
            bad, seen = _mixed(column)
            if bad:
                name = head[j] if j < len(head) else str(j)
                out.append(f"{page.name}: table {n + 1}, column {name!r} in {seen}: {column[:6]}")
        for r in body:
            bad, seen = _mixed([r[j] for j in per_metric if j < len(r)])
            if bad:
                out.append(f"{page.name}: table {n + 1}, row {r[0]!r} in {seen}: {r[1:6]}")
    return out
