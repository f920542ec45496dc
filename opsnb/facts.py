"""The run's table of facts: every headline figure once, with its key, definition, value and unit.

A fact is a figure a reader sees — a KPI's actual, target or attainment for a span of days, an
annual target, the overdue days of an action. Each subsection declares the facts it shows
(``Subsection.facts``); :func:`opsnb.nb.render` records them on the :class:`~opsnb.nb.Context`
and, in a batch run, writes them to ``facts-<section>.json`` in the run folder. The batch merges
the sections' files into ``facts.json`` (published with the review) and lists every key shown with
two different values as a conflict in the manifest — one figure, one value.

Keys name *what* is measured and *over which days*, so that two pages showing the same thing
under different labels still share a key: ``kpi.new_users.attainment@2026-10-01..2026-10-31`` is
the same fact whether a page calls the span "October" or "Q4 to date".
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.periods import Period

FILE = rf.FACTS


@dataclass(frozen=True)
class Fact:
    """One figure shown to readers.

    ``key`` identifies it (see :func:`key`); ``definition`` says in words what it is; ``value`` is
    the number behind the text (None when undefined); ``unit`` is a KPI unit (count, currency,
    ratio, hours, score, days); ``period`` the span label; ``source`` the subsection that showed
    it; ``text`` the formatted text readers see. ``meta`` says what the figure rests on, for the
    semantic rules of :mod:`opsnb.invariants` (its base, the curve or whole it belongs to, the two
    values a change is computed from, the day a count starts from …). ``meta["printed"]`` is False for
    a figure a page draws (a bar, a line) or rests on without printing it (a quarter's target to date):
    recorded so the rules can check the printed figures against it, with no text of its own to find.
    """

    key: str
    definition: str
    value: float | None
    unit: str
    period: str
    source: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def span(period: Period, last_day: date | None = None) -> str:
    """The days a figure covers, as a key part: ``2026-10-01..2026-10-31`` (the period clipped to the data)."""
    p = period.clip(last_day) if last_day is not None else period
    return f"{p.start.isoformat()}..{p.last_day.isoformat()}"


def key(subject: str, measure: str, where: str) -> str:
    """``<subject>.<measure>@<span or label>``, e.g. ``kpi.orders.target@2026``."""
    return f"{subject}.{measure}@{where}"


def _number(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def make(key_: str, value: Any, unit: str, text: str, *, period: str, source: str, definition: str = "",
         **meta: Any) -> Fact:
    """A :class:`Fact` with ``value`` as a finite float or None; keyword ``meta`` for :mod:`opsnb.invariants`."""
    return Fact(key_, definition, _number(value), unit, period, source, text,
                {k: _plain(v) for k, v in meta.items() if v is not None})


def change(key_: str, value: Any, text: str, *, now: Any, before: Any, kind: str, unit: str, period: str, source: str,
           definition: str = "", **meta: Any) -> Fact:
    """A change shown beside (or instead of) the two values it is computed from (:mod:`opsnb.invariants` checks
    that it is their difference): ``kind`` relative (a fraction), pp (a fraction of points) or diff (in ``unit``,
    the two values' unit); the fact's unit is ``change``, ``pp`` or ``unit``."""
    return make(key_, value, {"relative": "change", "pp": "pp"}.get(kind, unit), text, period=period, source=source,
                definition=definition, now=_number(now), before=_number(before), change=kind, **meta)


def shares(subject: str, whole: str, rows: Any, *, where: str, period: str, source: str, definition: str = "",
           **meta: Any) -> list[Fact]:
    """One fact per share of ``whole`` (``rows``: ``(name, value, text)``), keyed ``<subject>|<name>@<where>``:
    every share of the whole, "other" included, so that :mod:`opsnb.invariants` can check they make 100 %."""
    return [make(f"{subject}|{name}@{where}", value, "ratio", text, period=period, source=source,
                 definition=definition, whole=f"{whole}@{where}", **meta) for name, value, text in rows]


def _plain(v: Any) -> Any:
    """JSON-ready: numbers as float/int, days as ISO text, lists and tuples item by item."""
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10] if hasattr(v, "hour") and not (v.hour or v.minute or v.second) else v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in sorted(v, key=str)] if isinstance(v, (set, frozenset)) else [_plain(x) for x in v]
    return v


#: A cell is named by the columns that tell its row apart: at most this many leading columns.
ROW_KEYS = 3


def _row_names(shown: Any, index: bool) -> tuple[list[str], int] | None:
    """Each row's name in a shown table, and how many leading columns make it (0: the index); None when no
    combination of up to :data:`ROW_KEYS` leading columns tells the rows apart."""
    if index:
        names = [str(i) for i in shown.index]
        return (names, 0) if len(set(names)) == len(names) else None
    for k in range(1, min(ROW_KEYS, shown.shape[1] - 1) + 1):
        names = [" / ".join(str(shown.iat[i, j]) for j in range(k)) for i in range(len(shown))]
        if len(set(names)) == len(names):
            return names, k
    return None


def cells(tables: Any, *, source: str, period: str) -> list[Fact]:
    """Every cell of the shown tables as a fact: ``cell.<column label>|<row name>@<period>``, its text as shown.

    So one label for one subject never shows two values on any page (:func:`conflicts`), in a table as in a
    sentence. ``tables``: a table (``opsnb.render.ui.Table``: ``data``, ``formatted()``, ``shown_formats()``,
    ``index``) or an object with ``parts``. A row is named by its first columns (as few as tell the rows apart).
    """
    out: list[Fact] = []
    for tab in getattr(tables, "parts", None) or [tables]:
        if not hasattr(tab, "formatted"):
            continue
        shown = tab.formatted()
        raw, formats = tab.data, tab.shown_formats()
        named = _row_names(shown, bool(tab.index))
        if named is None or len(shown) == 0:
            continue
        names, k = named
        for j in range(k, shown.shape[1]):
            label = str(shown.columns[j])
            unit = formats.get(shown.columns[j], "text")
            for i, name in enumerate(names):
                text = str(shown.iat[i, j])
                out.append(Fact(f"cell.{label}|{name}@{period}", f"{source}: {label}", _number(raw.iat[i, j]),
                                unit, period, source, text))
    return out


def save(facts: list[Fact], path: Path) -> None:
    """Write ``facts`` as JSON (atomically: a reader never sees half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(f) for f in facts], ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> list[Fact]:
    """Facts from a JSON file written by :func:`save`."""
    return [Fact(**d) for d in json.loads(path.read_text(encoding="utf-8"))]


def merge(run_dir: Path) -> list[Fact]:
    """All sections' ``facts-*.json`` of a run folder, written together as ``facts.json``."""
    out: list[Fact] = []
    for p in rf.records(run_dir, "facts"):
        out += load(p)
    save(out, run_dir / FILE)
    return out


def _same(a: Fact, b: Fact) -> bool:
    if a.text == b.text:
        return True
    if a.value is None or b.value is None:
        return False  # one page says n/a, the other a number
    return math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-12) and _digits(a.text) == _digits(b.text)


def _digits(text: str) -> str:
    """The digits and sign of a formatted number (so ``¥96.8万`` and ``目标 ¥96.8万`` compare equal)."""
    return "".join(c for c in text if c.isdigit() or c in ".-")


def conflicts(facts: list[Fact]) -> dict[str, list[Fact]]:
    """Keys shown with two different values (or texts that differ in their digits), with every showing."""
    by: dict[str, list[Fact]] = {}
    for f in facts:
        by.setdefault(f.key, []).append(f)
    return {k: fs for k, fs in by.items() if any(not _same(fs[0], f) for f in fs[1:])}


def describe(bad: dict[str, list[Fact]]) -> list[str]:
    """One line per conflicting key: ``key: 34,330 (goals.ytd) ≠ 19,686 (plan.targets)``."""
    return [f"{k}: " + " ≠ ".join(f"{f.text} ({f.source})" for f in fs) for k, fs in bad.items()]
