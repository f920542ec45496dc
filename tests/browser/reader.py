"""Read a published review as its readers do: the visible text of each page, HTML and SVG alike.

Each ``find_*`` function returns the defects it finds (empty = clean) as short strings naming the
page and the offending text, so a failing test says what a reader would have seen. The checks are
tested on planted defects in ``tests/unit/test_reader_checks.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    """One published page: its file name, its visible text lines and the text drawn in its charts."""

    name: str
    lines: list[str]
    svg: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines + self.svg)


def read_page(path: Path) -> Page:
    """The visible text of ``path`` (scripts, styles and hidden input cells left out)."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "head", "title", "nav"]):  # nav: the table of contents repeats headings
        tag.decompose()
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
    return Page(path.name, lines, [s for s in svg if s])


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
