"""The synonym table (``synonyms.yaml``, data): the names exports give the contract's tables and columns.

:func:`column_match` and :func:`table_match` say how well a header or a file name fits, and why; the
scores are the confidences of :mod:`opsnb.onboard.propose` before the values are looked at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from opsnb.pack.schemas import SCHEMAS

#: Confidence of a header by the way its name matches (before its values are looked at).
SCORES = {"contract": 1.0, "contract_like": 0.95, "strong": 0.9, "weak": 0.7, "partial": 0.55}
#: A header contains a strong name of at least this many characters (after :func:`norm`) for a partial match.
PARTIAL_MIN = {"cjk": 3, "latin": 5}

How = Literal["contract", "contract_like", "strong", "weak", "partial"]

_BRACKETS = re.compile(r"[(\[{（【［｛<《].*?[)\]}）】］｝>》]")
_DROP = re.compile(r"[\s_\-./:：*#'\"·、]+")


def norm(name: str) -> str:
    """The form names are compared in: NFKC, lower case, no brackets' content, no spaces or ``_-./:*#``.

    >>> norm("实付金额（元）"), norm("Order_ID"), norm(" order id ")
    ('实付金额', 'orderid', 'orderid')
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = _BRACKETS.sub("", text)
    return _DROP.sub("", text)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True)
class Match:
    """How a name matches: the score, the way (``How``) and the synonym it matched as written in the table."""

    score: float
    how: How
    synonym: str


@dataclass(frozen=True)
class Synonyms:
    """The table, normalised: ``tables[table]`` names, ``columns[(table, column)]`` → {normalised: (how, as written)}."""

    tables: dict[str, dict[str, str]]
    columns: dict[tuple[str, str], dict[str, tuple[str, str]]]


def _words(node: object, where: str) -> list[str]:
    if node is None:
        return []
    if not isinstance(node, list) or not all(isinstance(w, str | int) for w in node):
        raise ValueError(f"opsnb/onboard/synonyms.yaml: {where} must be a list of names")
    return [str(w) for w in node]


def _levels(node: object, where: str) -> dict[str, list[str]]:
    if not isinstance(node, dict) or set(node) - {"strong", "weak"}:
        raise ValueError(f"opsnb/onboard/synonyms.yaml: {where} must be a mapping with strong and/or weak")
    return {lvl: _words(node.get(lvl), f"{where}.{lvl}") for lvl in ("strong", "weak")}


@cache
def load() -> Synonyms:
    """Read and check ``synonyms.yaml``: every table and column it names is in the contract (ValueError otherwise)."""
    data = yaml.safe_load((resources.files("opsnb.onboard") / "synonyms.yaml").read_text(encoding="utf-8"))
    tables: dict[str, dict[str, str]] = {}
    for table, names in (data.get("tables") or {}).items():
        if table not in SCHEMAS:
            raise ValueError(f"opsnb/onboard/synonyms.yaml: tables.{table} is no contract table; known: "
                             f"{', '.join(SCHEMAS)}")
        tables[table] = {norm(w): w for w in _words(names, f"tables.{table}")}
    known_columns = {c.name for s in SCHEMAS.values() for c in s.columns}
    common = {}
    for col, node in (data.get("common") or {}).items():
        if col not in known_columns:
            raise ValueError(f"opsnb/onboard/synonyms.yaml: common.{col} is no contract column")
        common[col] = _levels(node, f"common.{col}")
    own = data.get("columns") or {}
    columns: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for table, cols in own.items():
        if table not in SCHEMAS:
            raise ValueError(f"opsnb/onboard/synonyms.yaml: columns.{table} is no contract table")
        for col in cols or {}:
            if col not in SCHEMAS[table].names:
                raise ValueError(f"opsnb/onboard/synonyms.yaml: columns.{table}.{col} is no column of {table}; "
                                 f"columns: {', '.join(SCHEMAS[table].names)}")
    for table, schema in SCHEMAS.items():
        for col in schema.names:
            entry: dict[str, tuple[str, str]] = {}
            levels = [common.get(col, {}), _levels((own.get(table) or {}).get(col) or {}, f"columns.{table}.{col}")]
            for lvl in ("strong", "weak"):  # strong first: a name listed at both levels is strong
                for layer in levels:
                    for w in layer.get(lvl, []):
                        entry.setdefault(norm(w), (lvl, w))
            columns[(table, col)] = entry
    return Synonyms(tables, columns)


def column_match(header: str, table: str, column: str) -> Match | None:
    """How ``header`` matches contract column ``table.column`` by name; None when it does not.

    The contract's own name as written is read by ingest without any mapping (``contract``); the same
    name spelled otherwise (``Order ID``) is ``contract_like``; then the synonym table's strong and
    weak names; then a header containing a strong name of :data:`PARTIAL_MIN` characters (``partial``).
    """
    if header.strip() == column:
        return Match(SCORES["contract"], "contract", column)
    h = norm(header)
    if not h:
        return None
    if h == norm(column):
        return Match(SCORES["contract_like"], "contract_like", column)
    names = load().columns[(table, column)]
    if h in names:
        how, written = names[h]
        return Match(SCORES[how], how, written)  # type: ignore[arg-type]
    best: tuple[int, str] | None = None
    for n, (how, written) in names.items():
        if how != "strong" or n not in h or len(n) < PARTIAL_MIN["cjk" if _is_cjk(n) else "latin"]:
            continue
        if best is None or len(n) > best[0]:
            best = (len(n), written)
    return Match(SCORES["partial"], "partial", best[1]) if best else None


def table_match(name: str, table: str) -> Match | None:
    """How a file stem or sheet name (``订单导出_2026-10``, ``OrderExport``) says ``table``; None when it does not.

    The contract's name (``orders``) is ``contract``; a name holding one of the table's words is ``strong``
    (the longest word found is the one named): a Chinese word anywhere in it, an English word at the start
    of one of its words (``orders_2026``, ``OrderExport``; ``catalog`` does not say ``log``).
    """
    h = norm(name)
    if not h:
        return None
    if h == norm(table):
        return Match(SCORES["contract"], "contract", table)
    tokens = [t for t in re.split(r"[^0-9a-z\u4e00-\u9fff]+", unicodedata.normalize("NFKC", name).lower()) if t]
    found = [(len(n), w) for n, w in load().tables.get(table, {}).items()
             if n and (n in h if _is_cjk(n) else any(t.startswith(n) for t in tokens))]
    if not found:
        return None
    return Match(SCORES["strong"], "strong", max(found)[1])
