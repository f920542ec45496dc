"""Open a pack (folder of files or a ``.duckdb`` file) on an engine (:mod:`opsnb.pack.engine`).

Flow per table file: content hash → Parquet cache hit? register it as a view and stop. Otherwise a
Parquet input whose Arrow types already match the contract is read in place by the local engine
(timezone-aware timestamps converted there); anything else is read as text (CSV/TSV/XLSX),
header-checked, coerced (:mod:`opsnb.pack.coerce`), checked (:mod:`opsnb.pack.checks`) and written
to the cache atomically. Every problem of every file is collected before anything is raised.
No DuckDB here: the engine module does that (:mod:`opsnb.pack.duckdb_engine`).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from opsnb.errors import NoData, PackError, Problem
from opsnb.pack.checks import run_checks
from opsnb.pack.coerce import Ctx, check_header, coerce_frame
from opsnb.pack.config import CONFIG_NAME, Labels, TableSpec, load_config, load_labels, warehouse_config
from opsnb.pack.engine import Engine, EngineError, LocalEngine, database_engine, local_engine
from opsnb.pack.problems import PackProblem, is_error, problem
from opsnb.pack.readers import ReadFailed, read_csv, read_xlsx
from opsnb.pack.schemas import SCHEMAS, TableSchema
from opsnb.paths import atomic_write, cache_dir

CACHE_VERSION = "2"
SUFFIXES = (".parquet", ".csv", ".tsv", ".xlsx")
#: Data-looking files that are not read (a warning says so, with the fix).
UNSUPPORTED = (".xls", ".xlsm", ".json", ".txt", ".ods")
#: Files an importer writes beside the tables, for people to read: not tables, no warning.
SIDECARS = ("import_report.json", "scenario.json")


@dataclass
class Pack:
    """An opened data pack: an engine (:mod:`opsnb.pack.engine`) with one table per present pack table."""

    engine: Engine
    tz: str = "Asia/Shanghai"
    source: str = "<memory>"
    fingerprints: dict[str, str] = field(default_factory=dict)
    _names: list[str] = field(default_factory=list)
    #: Warnings found while opening (extra columns, ignored files, missing-value markers…).
    warnings: list[Problem] = field(default_factory=list)
    #: Whether the pack may build and read its store in the on-disk cache (see :mod:`opsnb.pack.derived`):
    #: folder packs opened with the cache and the store.
    cached: bool = False
    #: A shared pack's unit: ``(column, value)``. Every table with ``column`` shows only the rows whose
    #: ``column`` equals ``value`` (and not the column); tables without it are shared by every unit.
    #: ``value`` may be a tuple of values: those units together (the group roll-up's union).
    #: Set by :func:`open_pack` (``unit=``); None: the whole pack.
    unit: tuple[str, str | tuple[str, ...]] | None = None
    #: The unit's trading days: anything with ``open_days(start, end) -> list[date]`` (the unit's
    #: :class:`opsnb.metrics.calendar.BusinessCalendar`, set by :func:`opsnb.runspec.resolve_run`);
    #: None: every day is open.
    business: Any = None
    #: Display names of the data's values (``pack.yaml`` ``labels``): value → {language: name}.
    labels: Labels = field(default_factory=dict)

    def days_open(self, start: date, end: date) -> int:
        """The open days in ``[start, end)``: what day-based rates (average DAU) divide by."""
        if self.business is None:
            return (end - start).days
        return len(self.business.open_days(start, end))

    @property
    def label(self) -> str:
        """How the pack is named on a page: its folder or file name, or its URL without password."""
        from opsnb.pack.url import is_url, redact

        return redact(self.source) if is_url(self.source) else Path(self.source).name

    @property
    def con(self) -> ibis.BaseBackend:
        """The Ibis backend of the pack's engine (to execute Ibis expressions on)."""
        return self.engine.backend

    @property
    def names(self) -> list[str]:
        """Names of the contract tables present in this pack."""
        return list(self._names)

    def has(self, name: str) -> bool:
        """Whether table ``name`` is present."""
        return name in self._names

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name``; raises :class:`NoData` when the pack has no such table."""
        if name not in SCHEMAS:
            raise KeyError(f"unknown pack table {name!r}; known: {sorted(SCHEMAS)}")
        if name not in self._names:
            raise NoData(name, "table not in pack")
        # one Ibis table object per name: building it asks the engine for the schema (a few ms each time)
        tables: dict[str, ibis.Table] = self.__dict__.setdefault("_opsnb_tables", {})
        if name not in tables:
            tables[name] = self.restricted(self.engine.table(name))
        return tables[name]

    def restricted(self, t: ibis.Table) -> ibis.Table:
        """``t`` as this pack's unit sees it: its rows of the unit, without the unit column (see :attr:`unit`)."""
        if self.unit is None or self.unit[0] not in t.columns:
            return t
        column, value = self.unit
        col = t[column].cast("string")
        return t.filter(col.isin(list(value)) if isinstance(value, tuple) else col == value).drop(column)

    def keyed(self, name: str) -> ibis.Table:
        """Table ``name`` plus the column ``USER_KEY``, to join, group and order by user with.

        Read from the pack's store, the key is an integer with the same equality and order as
        ``user_id`` (the engine joins, groups and sorts integers faster than strings);
        otherwise it is ``user_id`` itself. An analysis that uses the key for ``user_id`` in joins,
        groupings and orderings gives the same numbers either way.

        Raises
        ------
        KeyError
            When table ``name`` has no ``user_id`` column.
        """
        from opsnb.pack.derived import keyed

        return keyed(self, name)

    def derived(self, name: str) -> ibis.Table:
        """A derived table (see :mod:`opsnb.pack.derived`), built once per pack content."""
        from opsnb.pack.derived import derived

        return derived(self, name)

    @property
    def fingerprint(self) -> str:
        """One hash over every table's content hash, the unit's restriction and the display names (for manifests
        and run caching: a page renamed in ``pack.yaml`` is rendered again)."""
        h = hashlib.sha256()
        for k in sorted(self.fingerprints):
            h.update(f"{k}={self.fingerprints[k]};".encode())
        if self.unit is not None:
            h.update(f"unit={self.unit[0]}={self.unit[1]}".encode())
        if self.labels:
            h.update(("labels=" + json.dumps(self.labels, sort_keys=True, ensure_ascii=False)).encode())
        return h.hexdigest()[:16]

    def day_range(self) -> tuple[date | None, date | None]:
        """First and last local day with activity (events or orders); computed once per pack."""
        cached = self.__dict__.get("_day_range")
        if cached is not None:
            return cached
        lo: list[date] = []
        hi: list[date] = []
        for name in ("events", "orders"):
            if self.has(name):
                t = self.table(name)
                r = t.aggregate(lo=t.ts.min(), hi=t.ts.max()).execute()
                if pd.notna(r["lo"][0]):
                    lo.append(pd.Timestamp(r["lo"][0]).date())
                    hi.append(pd.Timestamp(r["hi"][0]).date())
        result = (min(lo) if lo else None, max(hi) if hi else None)
        self.__dict__["_day_range"] = result
        return result

    def has_data_between(self, start: date, end: date) -> bool:
        """Whether any event or order falls on a local day in ``[start, end)`` (an existence query, no count)."""
        lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        for name in ("orders", "events"):
            if self.has(name):
                t = self.table(name)
                hit = t.filter((t.ts >= lo) & (t.ts < hi)).select("ts").limit(1).execute()
                if len(hit):
                    return True
        return False

    @property
    def last_day(self) -> date | None:
        """Last local day with activity."""
        return self.day_range()[1]


def _hash_file(path: Path, *, memo: bool = False) -> str:
    """SHA-256 of a file's bytes.

    ``memo``: remember it in the cache keyed by path, size, modification time (ns) and inode, as git's
    index does, so every kernel of a batch (and every rerun) does not re-read a large events file.
    Any write to the file changes its modification time, so a changed file is hashed again.
    """
    if not memo:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    st = path.stat()
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
    note = cache_dir() / f"hash-{hashlib.sha256(stamp.encode()).hexdigest()[:24]}.txt"
    try:
        known = note.read_text(encoding="ascii").strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = _hash_file(path)
    try:
        atomic_write(note, lambda p: p.write_text(digest, encoding="ascii"))
    except OSError:
        pass  # an unwritable cache only costs the next reader a re-hash
    return digest


# ---------------------------------------------------------------- discovery


def _discover(folder: Path, specs: dict[str, TableSpec]) -> tuple[dict[str, TableSpec], list[Problem]]:
    """Tables to read: ``pack.yaml`` entries, then files named after a table; warn about the rest."""
    found = dict(specs)
    problems: list[Problem] = []
    mapped = {s.file for s in specs.values()}
    for p in sorted(folder.iterdir()):
        if p.is_dir() or p.name.startswith((".", "~$")) or p.name in (CONFIG_NAME, *SIDECARS) or p.name in mapped:
            continue
        suf = p.suffix.lower()
        if suf not in SUFFIXES:
            if suf in UNSUPPORTED:
                problems.append(problem("unsupported_file", file=p.name, level="warning", suffix=suf))
            continue
        name = p.stem
        if name not in SCHEMAS:
            near = difflib.get_close_matches(name.lower(), sorted(SCHEMAS), n=1, cutoff=0.6)
            problems.append(problem("unknown_file", file=p.name, level="warning", hint=near[0] if near else "-",
                                    known=", ".join(sorted(SCHEMAS))))
            continue
        if name in specs:
            problems.append(problem("file_shadowed", file=p.name, level="warning", table=name,
                                    other=specs[name].file))
            continue
        if name in found:
            problems.append(problem("table_twice", file=p.name, table=name, other=found[name].file))
            continue
        found[name] = TableSpec(p.name)
    return found, problems


# ---------------------------------------------------------------- Parquet fast path


def _contract_types(schema: TableSchema) -> dict[str, str]:
    """Contract column name → column type (what the engine casts a Parquet file's columns to)."""
    return {c.name: c.type for c in schema.columns}


# ---------------------------------------------------------------- one table


@dataclass
class _Result:
    problems: Sequence[Problem]
    digest: str
    registered: bool


def _cache_paths(name: str, key: str) -> tuple[Path, Path]:
    base = cache_dir() / f"{name}-{key}"
    return base.with_suffix(".parquet"), base.with_suffix(".json")


def _dump_warnings(problems: Sequence[Problem]) -> str:
    out = []
    for p in problems:
        d = dataclasses.asdict(p) if isinstance(p, PackProblem) else {"where": p.where, "message": p.message}
        out.append(d)
    return json.dumps(out, ensure_ascii=False, default=str)


def _load_warnings(text: str) -> list[Problem]:
    out: list[Problem] = []
    for d in json.loads(text):
        if "code" in d:
            d["args"] = tuple(tuple(a) for a in d.get("args", ()))
            out.append(PackProblem(**d))
        else:
            out.append(Problem(d["where"], d["message"]))
    return out


def _ingest(name: str, folder: Path, spec: TableSpec, tz: str, use_cache: bool, engine: LocalEngine,
            unit_column: str | None = None) -> _Result:
    path = folder / spec.file
    schema = SCHEMAS[name]
    digest = _hash_file(path, memo=use_cache)
    # the unit column changes the duplicate-key check (and so the cached warnings), not the data
    key = hashlib.sha256(f"{CACHE_VERSION}|{name}|{tz}|{digest}|{spec.key()}|{unit_column or ''}".encode()
                         ).hexdigest()[:24]
    target, meta = _cache_paths(name, key)
    ctx = Ctx(file=spec.file, sheet=spec.sheet or "", unit_column=unit_column)
    if use_cache and target.is_file() and meta.is_file():
        engine.load_parquet(name, target)
        return _Result(_load_warnings(meta.read_text(encoding="utf-8")), digest, True)
    suf = path.suffix.lower()
    if suf == ".parquet":
        ctx.line_kind = "row"
        if engine.parquet_fits(path, rename=spec.columns, types=_contract_types(schema)):
            return _ingest_parquet_view(name, path, schema, spec, ctx, digest, meta, use_cache, engine, tz)
        df = pd.read_parquet(path)
        columns = [str(c) for c in df.columns]
        ctx.lines = pd.Series(np.arange(1, len(df) + 1), index=df.index)
    else:
        try:
            if suf == ".xlsx":
                raw = read_xlsx(path, ctx, table=name, sheet=spec.sheet)
            else:
                raw = read_csv(path.read_bytes(), ctx, sep="\t" if suf == ".tsv" else ",", encoding=spec.encoding)
        except ReadFailed:
            return _Result(list(ctx.problems), digest, False)
        df, columns = raw.frame, raw.columns
    typed = _typed(df, columns, schema, spec, ctx, tz, engine)
    if typed is None or any(is_error(p) for p in ctx.problems):
        return _Result(list(ctx.problems), digest, False)
    warnings = list(ctx.problems)
    if use_cache:
        try:
            atomic_write(meta, lambda p: p.write_text(_dump_warnings(warnings), encoding="utf-8"))
            atomic_write(target, lambda p: typed.to_parquet(p, index=False))
            engine.load_parquet(name, target)
            return _Result(warnings, digest, True)
        except OSError as exc:
            warnings.append(problem("cache_unwritable", file=spec.file, level="warning", error=str(exc)))
    engine.load_frame(name, typed)
    return _Result(warnings, digest, True)


def _typed(df: pd.DataFrame, columns: list[str], schema: TableSchema, spec: TableSpec, ctx: Ctx, tz: str,
           engine: LocalEngine) -> pd.DataFrame | None:
    """Rename (pack.yaml), check the header, coerce and check a raw frame; None when unusable."""
    if spec.columns:
        absent = [s for s in spec.columns if s not in columns]
        for s in absent:
            ctx.add("config_column_missing", column=s, name=s, found=", ".join(map(repr, columns)))
        if absent:
            return None
        columns = [spec.columns.get(c, c) for c in columns]
        df = df.set_axis(columns, axis=1)
    if not check_header(columns, schema, ctx):
        return None
    if df.empty:
        if schema.name == "kpis":
            ctx.add("header_only_required")
            return None
        ctx.add("header_only", level="warning")
    return _coerce_and_check(df, schema, ctx, tz, engine)


def _coerce_and_check(df: pd.DataFrame, schema: TableSchema, ctx: Ctx, tz: str, engine: LocalEngine) -> pd.DataFrame:
    """Coerce a frame with a checked header to the contract types, then run the table checks in the engine."""
    typed = coerce_frame(df, schema, ctx, tz=tz)
    with engine.scratch(f"__check_{schema.name}", typed.assign(__line=ctx.lines.to_numpy())) as rel:
        run_checks(engine, rel, schema, ctx, present=set(typed.columns))
    return typed


def _ingest_parquet_view(name: str, path: Path, schema: TableSchema, spec: TableSpec, ctx: Ctx, digest: str,
                         meta: Path, use_cache: bool, engine: LocalEngine, tz: str) -> _Result:
    """Read a type-matching Parquet file in place (a view); checks run in the engine (once per content)."""
    import pyarrow.parquet as pq

    columns = [spec.columns.get(c, c) for c in pq.read_schema(path).names]
    if not check_header(columns, schema, ctx):
        return _Result(list(ctx.problems), digest, False)
    marker = meta.with_suffix(".view.json")
    if use_cache and marker.is_file():
        warnings = _load_warnings(marker.read_text(encoding="utf-8"))
    else:
        rel = engine.parquet_relation(path, rename=spec.columns, types=_contract_types(schema), tz=tz)
        run_checks(engine, rel, schema, ctx, present=set(columns), nulls=True)
        if any(is_error(p) for p in ctx.problems):
            return _Result(list(ctx.problems), digest, False)
        warnings = list(ctx.problems)
        if use_cache:
            try:
                atomic_write(marker, lambda p: p.write_text(_dump_warnings(warnings), encoding="utf-8"))
            except OSError:
                pass
    engine.load_parquet(name, path, rename=spec.columns, types=_contract_types(schema), tz=tz)
    return _Result(warnings, digest, True)


# ---------------------------------------------------------------- public API


def _open(target: str | Path, tz: str, use_cache: bool, unit_column: str | None = None
          ) -> tuple[Pack | None, list[Problem]]:
    from opsnb.pack import warehouse
    from opsnb.pack.url import is_url

    if is_url(str(target)):
        return _open_warehouse(warehouse.source_of(str(target)), tz)
    src = Path(target)
    if src.is_dir():
        config, config_problems = warehouse_config(src)
        if config_problems:
            return None, list(config_problems)
        if config is not None:
            opened, found = _open_warehouse(warehouse.source_from_config(src, config), tz)
            labels, label_problems = load_labels(src)
            if opened is not None:
                opened.labels = labels
            return opened, [*found, *label_problems]
    if not src.exists():
        return None, [problem("pack_not_found", file=str(src))]
    if src.is_file():
        engine = database_engine(src)
        if engine is not None:
            return _open_database(src, engine, tz)
        return None, [problem("pack_not_folder", file=str(src))]
    specs, config_problems = load_config(src)
    labels, label_problems = load_labels(src)
    files, more = _discover(src, specs)
    problems: list[Problem] = [*config_problems, *label_problems, *more]
    if "kpis" not in files:
        problems.append(problem("no_kpis", file=src.name or str(src)))
    local = local_engine()
    names, prints = [], {}
    for name, spec in sorted(files.items()):
        try:
            res = _ingest(name, src, spec, tz, use_cache, local, unit_column)
        except Exception as exc:  # a corrupt workbook, a Parquet file that is not one…: reported, never raised
            problems.append(problem("unreadable", file=spec.file, error=f"{type(exc).__name__}: {exc}"))
            continue
        problems += res.problems
        # content and how it is read (pack.yaml mapping): either changing changes the fingerprint
        prints[name] = hashlib.sha256(f"{res.digest}|{spec.key()}".encode()).hexdigest()[:16]
        if res.registered:
            names.append(name)
    return Pack(local, tz, str(src), prints, sorted(names), cached=use_cache, labels=labels), problems


def _open_warehouse(source: Any, tz: str) -> tuple[Pack | None, list[Problem]]:
    """A pack whose tables stay in a warehouse (:mod:`opsnb.pack.warehouse`): catalogue checks only."""
    from opsnb.pack.warehouse import open_warehouse

    opened, problems = open_warehouse(source, tz)
    if opened is None:
        return None, problems
    engine, names, prints = opened
    return Pack(engine, tz, source.shown(), prints, names), problems


def _open_database(src: Path, engine: Engine, tz: str) -> tuple[Pack | None, list[Problem]]:
    """A pack whose tables live in a database file (opened read-only): header checks only."""
    problems: list[Problem] = []
    names = []
    for n in engine.tables():
        if n not in SCHEMAS:
            continue
        ctx = Ctx(file=f"{src.name}:{n}", line_kind="row")
        if check_header(engine.columns(n), SCHEMAS[n], ctx):
            names.append(n)
        problems += ctx.problems
    if "kpis" not in names:
        problems.append(problem("no_kpis", file=src.name))
    st = src.stat()
    return Pack(engine, tz, str(src), {n: f"{engine.name}-{st.st_size}-{st.st_mtime_ns}" for n in names},
                sorted(names)), problems


def open_pack(path: str | Path, *, tz: str = "Asia/Shanghai", use_cache: bool = True, store: bool = True,
              unit: tuple[str, str | tuple[str, ...]] | None = None) -> Pack:
    """Open a pack folder (or read-only ``.duckdb`` file, or warehouse URL).

    Parameters
    ----------
    path : str or Path
        Folder of CSV/TSV/XLSX/Parquet files named after the contract tables (or mapped by
        ``pack.yaml``), or a ``.duckdb`` file whose tables carry the contract names.
    tz : str
        Business timezone: naive timestamps are read as local time in it, aware ones converted to it.
    use_cache : bool
        Reuse and write the Parquet cache under :func:`opsnb.paths.cache_dir` (keyed by content hash).
    store : bool
        With the cache, read the pack's DuckDB store when one was built for this content, and build
        it on first use of a derived table (:mod:`opsnb.pack.derived`). False: always read the files.
    unit : (column, value), optional
        A shared pack's unit (:attr:`Pack.unit`): its tables show the rows whose ``column`` is ``value``
        (or one of the values of a tuple: several units together).

    Returns
    -------
    Pack
        With ``warnings`` holding the non-fatal problems.

    Raises
    ------
    PackError
        Listing every error of every file (warnings are not raised).
    """
    pack, problems = _open(path, tz, use_cache, unit[0] if unit else None)
    errors = [p for p in problems if is_error(p)]
    if errors or pack is None:
        raise PackError(errors)
    pack.warnings = [p for p in problems if not is_error(p)]
    pack.cached = pack.cached and store
    if unit is not None:
        _restrict(pack, unit)
    if pack.cached:  # a store built earlier for this content (see opsnb.pack.derived): read from it
        from opsnb.pack.derived import attach_store

        attach_store(pack)
    return pack


def _restrict(pack: Pack, unit: tuple[str, str | tuple[str, ...]]) -> None:
    """Make ``pack`` show one unit of a shared pack; raises PackError when no table has the column or no row the value."""
    column, value = unit
    pack.unit = unit
    # the unit column is declared: not the "extra column" it would otherwise be warned about
    pack.warnings = [w for w in pack.warnings if not (getattr(w, "code", "") == "extra_column" and
                                                      getattr(w, "column", "") == column)]
    holders = [n for n in pack.names if column in pack.engine.columns(n)]
    if not holders:
        raise PackError([problem("unit_column_missing", file=pack.label, column=column, unit_column=column,
                                 tables=", ".join(pack.names))])
    t = pack.engine.table(holders[0])
    wanted = list(value) if isinstance(value, tuple) else [value]
    missing = []
    for v in wanted:
        if not any(int(u.filter(u[column].cast("string") == v).limit(1).count().execute())  # stops at a first row
                   for u in (pack.engine.table(name) for name in holders)):
            missing.append(v)
    if not missing:
        return
    value = ", ".join(missing)
    values = t.select(v=t[column].cast("string")).distinct().order_by("v").limit(20).execute()["v"].tolist()
    raise PackError([problem("unit_value_missing", file=pack.label, column=column, unit_column=column, unit_value=value,
                             found=", ".join(map(str, values)) or "none")])


def validate_pack(path: str | Path, *, tz: str = "Asia/Shanghai", unit_column: str | None = None) -> list[Problem]:
    """Every problem (errors and warnings, see ``.level``) of a pack, without raising (``opsnb validate``).

    ``unit_column``: the pack is shared by units (keys are unique per unit; the column is no extra column).
    """
    try:
        pack, problems = _open(path, tz, True, unit_column)
        if unit_column:
            problems = [p for p in problems if not (getattr(p, "code", "") == "extra_column" and
                                                    getattr(p, "column", "") == unit_column)]
        if pack is not None and pack.engine.name != "duckdb":
            from opsnb.pack.warehouse import check_tables

            problems = [*problems, *check_tables(pack)]
    except EngineError as exc:  # an unreachable server, a refused password: its own message says what to do
        from opsnb.pack.url import redact

        return [problem("wh_engine", file=redact(str(path)), error=str(exc))]
    except Exception as exc:  # validation must always answer with a list
        from opsnb.pack.url import redact

        return [problem("unreadable", file=redact(str(path)), error=redact(f"{type(exc).__name__}: {exc}"))]
    return problems


def from_frames(frames: dict[str, pd.DataFrame], *, tz: str = "Asia/Shanghai") -> Pack:
    """A pack from in-memory frames (tests, notebooks), coerced and checked exactly as files are.

    Problems name the table as ``<orders>`` and rows 1-based in frame order.
    """
    engine = local_engine()
    problems: list[Problem] = []
    names = []
    for name, df in frames.items():
        if name not in SCHEMAS:
            raise KeyError(f"unknown pack table {name!r}; known: {sorted(SCHEMAS)}")
        ctx = Ctx(file=f"<{name}>", line_kind="row", lines=pd.Series(np.arange(1, len(df) + 1)))
        df = df.reset_index(drop=True)
        df.columns = [str(c) for c in df.columns]
        typed = _typed_frame(df, SCHEMAS[name], ctx, tz, engine)
        problems += ctx.problems
        if typed is not None and not any(is_error(p) for p in ctx.problems):
            engine.load_frame(name, typed)
            names.append(name)
    errors = [p for p in problems if is_error(p)]
    if errors:
        raise PackError(errors)
    return Pack(engine, tz, "<memory>", {n: "memory" for n in names}, sorted(names),
                [p for p in problems if not is_error(p)])


def _typed_frame(df: pd.DataFrame, schema: TableSchema, ctx: Ctx, tz: str, engine: LocalEngine) -> pd.DataFrame | None:
    if not check_header(list(df.columns), schema, ctx):
        return None
    return _coerce_and_check(df, schema, ctx, tz, engine)
