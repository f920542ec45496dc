"""Which export is which contract table, which column is which contract column: a proposal with its evidence.

For every source (a file, or a sheet of an Excel file; :mod:`opsnb.onboard.sniff`) and every contract table
(:data:`opsnb.pack.schemas.SCHEMAS`), each header is matched to the table's columns by name (the synonym
table, :mod:`opsnb.onboard.synonyms`) and judged by its values (a sample read as ingest reads it):

* a name match gives the confidence (the contract's name 1.0, a strong synonym 0.90, a weak one 0.70, a
  header containing a strong one 0.55); values that fit the column's type add 0.05, values that fit only in
  part multiply it by 0.8, values that do not fit by 0.4;
* a required date, date-time or money column no header names may be taken by its values alone, when exactly
  one header left has such values (0.60; with several, each is a candidate at 0.40);
* each header goes to one column, best first; a column is **written** when its confidence is at least
  :data:`WRITE` and no other header comes within :data:`MARGIN` of it (else it is **ambiguous**: left out,
  its candidates named); values outside a vocabulary the analyses need (order statuses, action statuses)
  leave a column **out**, saying why.

A source's fit to a table weighs its required columns found (0.60), the share of its headers explained
(0.15) and its file or sheet name (0.25); a table identified by fewer than two columns and no name counts
half. Each table takes one source (and each file one table: ``pack.yaml`` reads one sheet per file), best
first; a fit within :data:`MARGIN` of another for the same table or source is ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from opsnb.metrics.plan import _HORIZON, _STATUS  # the vocabularies the plan reads (one definition)
from opsnb.onboard.sniff import Profile, Skipped, Source, read_exports
from opsnb.onboard.synonyms import Match, column_match, table_match
from opsnb.pack.schemas import EVENT_NAMES, ORDER_STATUSES, SCHEMAS, Column, TableSchema

#: A column is written into pack.yaml at this confidence or above.
WRITE = 0.6
#: Two candidates closer than this are ambiguous (for a column, and for a table).
MARGIN = 0.1
#: A source is proposed for a table at this fit or above.
TABLE_MIN = 0.5
#: A source below :data:`TABLE_MIN` still names its closest table from this fit on.
TABLE_HINT = 0.3

State = Literal["mapped", "ambiguous", "weak", "missing", "left_out"]


@dataclass(frozen=True)
class Evidence:
    """One reason, as a catalogue key (``onboard.<code>``) and its arguments."""

    code: str
    kw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Candidate:
    """A header proposed for a contract column, with its confidence and the reasons."""

    header: str
    column: str
    score: float
    evidence: list[Evidence]
    how: str = ""


@dataclass
class ColumnProposal:
    """What became of one contract column: ``state`` and the header chosen (if any), with the others."""

    column: str
    required: bool
    state: State
    chosen: Candidate | None = None
    #: Other headers for this column, best first (the rivals of an ambiguous one, the runners-up of a written one).
    others: list[Candidate] = field(default_factory=list)
    #: Why a column is left out (``left_out``).
    why: Evidence | None = None

    @property
    def written(self) -> bool:
        """Whether the mapping goes into pack.yaml."""
        return self.state == "mapped"


@dataclass
class TableProposal:
    """A source proposed as a contract table: its fit, evidence, columns, unused headers and notes."""

    table: str
    source: Source
    score: float
    evidence: list[Evidence]
    columns: list[ColumnProposal]
    unused: list[str]
    notes: list[Evidence] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str]:
        """``header → contract column`` of the written columns whose header is not the contract's name already."""
        return {c.chosen.header: c.column for c in self.columns
                if c.written and c.chosen is not None and c.chosen.header != c.column}

    def column(self, name: str) -> ColumnProposal:
        """The proposal of contract column ``name``."""
        return next(c for c in self.columns if c.column == name)


@dataclass
class Proposal:
    """The whole proposal for a folder of exports.

    Attributes
    ----------
    tables : dict
        Contract table → its proposal (written into pack.yaml).
    ambiguous : dict
        Contract table → the sources that fit it about as well (none written).
    extra_sheets : list
        Other sheets of a file already used that look like a table not found elsewhere.
    others : list of (Source, TableProposal or None)
        Sources that are no contract table, with the closest fit when there is one.
    missing : list of str
        Contract tables no source was proposed for.
    """

    folder: Path
    sources: list[Source]
    skipped: list[Skipped]
    tables: dict[str, TableProposal]
    ambiguous: dict[str, list[TableProposal]]
    extra_sheets: list[TableProposal]
    others: list[tuple[Source, TableProposal | None]]
    missing: list[str]


# ---------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class Vocabulary:
    """Values a column must hold for the analyses to read it; below ``min_share`` the column is ``action``-ed."""

    words: frozenset[str]
    min_share: float
    action: Literal["leave_out", "note"]
    code: str


#: The columns whose values the analyses read as words, with what happens when the export's words differ.
VOCABULARIES: dict[tuple[str, str], Vocabulary] = {
    # an unknown status is not paid: mapped, every order would drop out of GMV
    ("orders", "status"): Vocabulary(frozenset(ORDER_STATUSES), 0.5, "leave_out", "vocab.order_status"),
    # the plan stops on an unknown action status or horizon
    ("actions", "status"): Vocabulary(frozenset(_STATUS), 1.0, "leave_out", "vocab.action_status"),
    ("actions", "horizon"): Vocabulary(frozenset(_HORIZON), 1.0, "leave_out", "vocab.horizon"),
    # other event names are allowed; funnels and activity read the built-in ones
    ("events", "event"): Vocabulary(frozenset(EVENT_NAMES), 0.2, "note", "vocab.event"),
}


# ---------------------------------------------------------------- one column


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _serial_day(value: str) -> str:
    try:
        return (date(1899, 12, 30) + timedelta(days=int(float(value)))).isoformat()
    except (ValueError, OverflowError):
        return "?"


def _values(p: Profile, col: Column, schema: TableSchema) -> tuple[str, Evidence]:
    """What the values say about ``col``: ``fits``, ``partly``, ``misfit`` or ``empty``, and the evidence."""
    if p.n == 0:
        return "empty", Evidence("val.empty")
    ex = ", ".join(p.examples)
    t = col.type
    if t in ("ts", "date"):
        f = p.fits(t)
        if f >= 0.9:
            if p.serial >= 0.9:
                return "fits", Evidence("val.serial", {"example": p.examples[0], "day": _serial_day(p.examples[0])})
            return "fits", Evidence("val.datetime" if p.has_time else "val.date", {"examples": ex})
        return ("partly" if f >= 0.5 else "misfit"), Evidence("val.some_dates", {"share": _pct(f), "examples": ex})
    if t in ("float", "int", "ratio"):
        f = p.fits(t)
        if f >= 0.9:
            code = ("val.percent" if p.values.str.endswith("%").any() else "val.money" if p.fractional >= 0.5
                    else "val.whole" if p.fits("int") >= 0.9 else "val.numbers")
            return "fits", Evidence(code, {"examples": ex})
        return ("partly" if f >= 0.5 else "misfit"), Evidence("val.some_numbers", {"share": _pct(f), "examples": ex})
    if t == "bool":
        f = p.fits("bool")
        if f >= 0.9:
            return "fits", Evidence("val.yesno", {"examples": ex})
        return ("partly" if f >= 0.5 else "misfit"), Evidence("val.some_yesno", {"share": _pct(f), "examples": ex})
    if t == "id":
        if p.text_dates >= 0.9:
            return "misfit", Evidence("val.dates_not_ids", {"examples": ex})
        if p.fractional >= 0.5:
            return "misfit", Evidence("val.money_not_ids", {"examples": ex})
        if schema.key == (col.name,) and p.distinct < p.n:
            return "partly", Evidence("val.ids_repeat", {"examples": ex, "n": p.n - p.distinct})
        return "fits", Evidence("val.ids", {"examples": ex, "distinct": p.distinct, "n": p.n})
    if p.text_dates >= 0.9:
        return "partly", Evidence("val.dates_not_text", {"examples": ex})
    if p.distinct <= max(20, p.n // 5):
        return "fits", Evidence("val.categories", {"examples": ex, "distinct": p.distinct})
    return "fits", Evidence("val.text", {"examples": ex, "distinct": p.distinct})


def _judge(p: Profile, col: Column, schema: TableSchema, m: Match) -> tuple[float, list[Evidence]]:
    """A header's confidence for ``col``: its name match adjusted by its values."""
    verdict, ev = _values(p, col, schema)
    names = [Evidence(f"name.{m.how}", {"synonym": m.synonym, "column": col.name})]
    if m.how == "contract":  # ingest reads it under that name whatever a mapping says
        return m.score, [*names, ev]
    score = {"fits": min(m.score + 0.05, 0.99), "partly": m.score * 0.8, "misfit": m.score * 0.4,
             "empty": m.score}[verdict]
    return round(score, 2), [*names, ev]


def _by_values(p: Profile, col: Column) -> bool:
    """Whether the values alone say ``col`` (dates written as dates; money with cents)."""
    if p.n == 0:
        return False
    if col.type in ("ts", "date"):
        return p.text_dates >= 0.9
    return col.type == "float" and p.fits("float") >= 0.9 and p.fractional >= 0.5


def _vocabulary(table: str, cp: ColumnProposal, src: Source, tz: str) -> None:
    """Leave a column out (or add a note) when its values are not the words the analyses read."""
    vocab = VOCABULARIES.get((table, cp.column))
    if vocab is None or cp.chosen is None or cp.state != "mapped":
        return
    p = src.profile(cp.chosen.header, tz)
    if p.n == 0 or p.share_in(set(vocab.words)) >= vocab.min_share:
        return
    outside = [v for v in p.values.drop_duplicates() if v.lower() not in vocab.words][:4]
    kw = {"header": cp.chosen.header, "values": ", ".join(outside), "words": ", ".join(sorted(vocab.words)[:8]),
          "column": cp.column, "table": table}
    if vocab.action == "note":
        cp.why = Evidence(vocab.code, kw)
        return
    cp.state = "left_out"
    cp.why = Evidence(vocab.code + (".as_named" if cp.chosen.header == cp.column else ""), kw)


def fit(src: Source, table: str, *, tz: str, kpi_keys: tuple[str, ...] = ()) -> TableProposal:
    """How well ``src`` fits contract ``table``: every column's proposal, the fit and its evidence."""
    schema = SCHEMAS[table]
    order = {c: i for i, c in enumerate(src.columns)}
    cands: dict[str, list[Candidate]] = {c.name: [] for c in schema.columns}
    for col in schema.columns:
        for h in src.columns:
            m = column_match(h, table, col.name)
            if m is not None:
                score, ev = _judge(src.profile(h, tz), col, schema, m)
                cands[col.name].append(Candidate(h, col.name, score, ev, m.how))
    names = schema.names
    pairs = sorted((c for cs in cands.values() for c in cs),
                   key=lambda c: (-c.score, names.index(c.column), order[c.header]))
    chosen: dict[str, Candidate] = {}
    used: dict[str, str] = {}
    for c in pairs:
        if c.column not in chosen and c.header not in used:
            chosen[c.column], used[c.header] = c, c.column
    named = {h for h in src.columns if any(column_match(h, table, n) for n in names)}
    for col in schema.columns:  # a required date or money column by its values alone
        if col.name in chosen or not col.required or col.type not in ("ts", "date", "float"):
            continue
        free = [h for h in src.columns if h not in used and h not in named and _by_values(src.profile(h, tz), col)]
        for h in free:
            _, seen = _values(src.profile(h, tz), col, schema)
            cands[col.name].append(Candidate(h, col.name, 0.6 if len(free) == 1 else 0.4,
                                             [Evidence("name.none" if len(free) == 1 else "name.none_many"), seen],
                                             "values"))
        if len(free) == 1:
            chosen[col.name], used[free[0]] = cands[col.name][-1], col.name
    columns: list[ColumnProposal] = []
    for col in schema.columns:
        mine = sorted(cands[col.name], key=lambda c: (-c.score, order[c.header]))
        ch = chosen.get(col.name)
        free_others = [c for c in mine if c is not ch and used.get(c.header) in (None, col.name)]
        if ch is None:
            columns.append(ColumnProposal(col.name, col.required, "weak" if free_others else "missing",
                                          None, free_others))
            continue
        rivals = [c for c in free_others if c.score >= max(WRITE, ch.score - MARGIN)]
        state: State = ("weak" if ch.score < WRITE else
                        "ambiguous" if rivals and ch.how != "contract" else "mapped")
        cp = ColumnProposal(col.name, col.required, state, ch, free_others)
        _vocabulary(table, cp, src, tz)
        columns.append(cp)
    taken = {c.chosen.header for c in columns if c.chosen is not None and c.state in ("mapped", "left_out")}
    offered = {x.header for c in columns if c.state in ("ambiguous", "weak")
               for x in ([c.chosen] if c.chosen else []) + c.others}
    unused = [h for h in src.columns if h not in taken and h not in offered]
    score, evidence = _table_score(src, table, schema, columns)
    notes = [c.why for c in columns if c.why is not None and c.state == "mapped"]
    notes += _kpi_notes(src, table, columns, kpi_keys, tz)
    return TableProposal(table, src, score, evidence, columns, unused, notes)


def _table_score(src: Source, table: str, schema: TableSchema,
                 columns: list[ColumnProposal]) -> tuple[float, list[Evidence]]:
    def weight(c: ColumnProposal) -> float:
        if c.chosen is None:
            return 0.0
        return c.chosen.score * (0.5 if c.state == "weak" else 1.0)

    req = [c for c in columns if c.required]
    found = sum(weight(c) for c in req) / max(1, len(req))
    n_found = sum(1 for c in req if c.state in ("mapped", "ambiguous", "left_out"))
    matched = [c for c in columns if c.state in ("mapped", "ambiguous", "left_out")]
    explain = len(matched) / max(1, len(src.columns))
    name_m = max([m for m in (table_match(src.stem, table), table_match(src.sheet or "", table)) if m],
                 key=lambda m: m.score, default=None)
    name = name_m.score if name_m else 0.0
    score = 0.6 * found + 0.15 * explain + 0.25 * name
    evidence = []
    if name_m is not None:
        evidence.append(Evidence("table.name", {"word": name_m.synonym, "table": table}))
    evidence.append(Evidence("table.required", {"found": n_found, "n": len(req)}))
    evidence.append(Evidence("table.explained", {"found": len(matched), "n": len(src.columns)}))
    if name_m is None and sum(1 for c in matched if c.chosen and c.chosen.score >= WRITE) < 2:
        score *= 0.5
        evidence.append(Evidence("table.thin"))
    return round(score, 2), evidence


def _kpi_notes(src: Source, table: str, columns: list[ColumnProposal], kpi_keys: tuple[str, ...],
               tz: str) -> list[Evidence]:
    """The kpis table's metric values that name no KPI of the settings (their targets would be read by nothing)."""
    if table != "kpis" or not kpi_keys:
        return []
    metric = next(c for c in columns if c.column == "metric")
    if metric.state != "mapped" or metric.chosen is None:
        return []
    values = src.profile(metric.chosen.header, tz).values.drop_duplicates()
    unknown = [v for v in values if v not in kpi_keys]
    if not unknown:
        return []
    return [Evidence("note.kpi_unknown", {"header": metric.chosen.header, "values": ", ".join(unknown[:6]),
                                          "n": len(unknown), "keys": ", ".join(kpi_keys[:10])})]


# ---------------------------------------------------------------- the folder


def propose(folder: str | Path, *, tz: str = "Asia/Shanghai", kpi_keys: tuple[str, ...] = ()) -> Proposal:
    """Propose which source of ``folder`` is which contract table, and its column mapping.

    Parameters
    ----------
    folder : str or Path
        A folder of exports (CSV/TSV/XLSX/Parquet).
    tz : str
        The unit's time zone (how dates are read, as ingest reads them).
    kpi_keys : tuple of str
        The settings' KPI keys: ``kpis.metric`` values outside them are noted.

    Returns
    -------
    Proposal
    """
    folder = Path(folder)
    sources, skipped = read_exports(folder)
    fits = [fit(s, t, tz=tz, kpi_keys=kpi_keys) for s in sources for t in SCHEMAS]
    ranked = sorted((f for f in fits if f.score >= TABLE_MIN),
                    key=lambda f: (-f.score, list(SCHEMAS).index(f.table), sources.index(f.source)))
    chosen: dict[str, TableProposal] = {}
    files: dict[str, TableProposal] = {}
    for f in ranked:
        if f.table not in chosen and f.source.file not in files:
            chosen[f.table] = files[f.source.file] = f
    by_source = {id(s): [f for f in ranked if f.source is s] for s in sources}
    ambiguous: dict[str, list[TableProposal]] = {}
    for table, f in list(chosen.items()):
        rivals = [g for g in ranked if g.table == table and g.source is not f.source
                  and g.source.file not in files and g.score >= f.score - MARGIN]
        doubts = [g for g in by_source[id(f.source)] if g.table != table and g.table not in chosen
                  and g.score >= f.score - MARGIN]
        if rivals:
            ambiguous[table] = [f, *rivals]
        if doubts:
            for g in doubts:
                ambiguous.setdefault(g.table, [])
                ambiguous[g.table] = [*ambiguous[g.table], g]
            ambiguous.setdefault(table, [f])
        if rivals or doubts:
            del chosen[table]
            del files[f.source.file]
    placed = {id(f.source) for f in chosen.values()} | {id(g.source) for fs in ambiguous.values() for g in fs}
    extra: list[TableProposal] = []
    others: list[tuple[Source, TableProposal | None]] = []
    for s in sources:
        if id(s) in placed:
            continue
        open_fits = [f for f in by_source[id(s)] if f.table not in chosen and f.table not in ambiguous]
        if open_fits and s.file in files:
            extra.append(open_fits[0])
            continue
        best = max((f for f in fits if f.source is s), key=lambda f: f.score)
        others.append((s, best if best.score >= TABLE_HINT else None))
    missing = [t for t in SCHEMAS if t not in chosen and t not in ambiguous and not any(e.table == t for e in extra)]
    return Proposal(folder, sources, skipped, chosen, ambiguous, extra, others, missing)
