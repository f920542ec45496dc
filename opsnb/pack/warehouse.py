"""Warehouse packs: the pack's tables stay in PostgreSQL or Spark; analyses run there (pushdown).

A warehouse pack is a URL (:mod:`opsnb.pack.url`) or a folder whose ``pack.yaml`` names one::

    url: postgres://analyst@db.internal:5432/shop?schema=ops
    password_env: SHOP_DB_PASSWORD        # optional; else PGPASSWORD or ~/.pgpass
    timeout: 600                          # seconds per query (default 600)
    tables:
      orders: {table: order_fact, columns: {order_no: order_id, buyer: user_id, paid_at: ts, pay_amount: amount}}

Opening one reads only the catalogue: which tables exist, their columns and types. Each contract
table becomes a *contract view*, an Ibis expression over the source table that renames the mapped
columns and casts each to its contract type (integer ids to text, ``numeric`` to float,
``timestamp with time zone`` to the pack's local time, dates to midnight timestamps), defined on the
engine (:meth:`Engine.define <opsnb.pack.engine.Engine.define>`) so every analysis reads the contract
names and types whatever the warehouse calls them. A column whose type cannot be read as its
contract type is an error naming both types. Nothing is copied to this machine.

``opsnb validate URL`` also runs the table checks of :mod:`opsnb.pack.checks` in the engine
(aggregate queries: counts and a few example rows, never whole tables); ``open_pack`` does not, as
each notebook of a run opens the pack again and the checks scan whole tables.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from opsnb.errors import Problem
from opsnb.pack.coerce import Ctx, check_header
from opsnb.pack.engine import Engine, EngineError, open_engine
from opsnb.pack.problems import is_error, problem
from opsnb.pack.schemas import SCHEMAS, TableSchema
from opsnb.pack.url import PackURL, PackURLError, parse

#: ``pack.yaml`` keys of a warehouse pack (besides ``tables``).
WAREHOUSE_KEYS = ("url", "password_env", "timeout")


@dataclass(frozen=True)
class Source:
    """Where a warehouse pack is: its URL and how its tables map onto the contract."""

    url: PackURL
    #: contract table → (source table, {source column: contract column})
    tables: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    password_env: str = ""
    timeout: float | None = None
    #: the folder holding pack.yaml, when there is one
    folder: Path | None = None

    def shown(self) -> str:
        """How the pack is named in manifests, logs and messages (no password)."""
        return str(self.folder) if self.folder is not None else self.url.shown()


def source_from_config(folder: Path, data: dict[str, Any]) -> Source:
    """A :class:`Source` from a validated ``pack.yaml`` mapping that has a ``url``."""
    url = parse(str(data["url"]))
    tables: dict[str, tuple[str, dict[str, str]]] = {}
    for name, spec in (data.get("tables") or {}).items():
        spec = {"table": spec} if isinstance(spec, str) else dict(spec or {})
        cols = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
        tables[str(name)] = (str(spec.get("table") or name), cols)
    timeout = data.get("timeout")
    return Source(url, tables, str(data.get("password_env") or ""), float(timeout) if timeout else None, folder)


def connect(source: Source, **extra: Any) -> Engine:
    """Open the engine ``source`` names (raises :class:`EngineError` with what to check)."""
    from opsnb.pack.pg_engine import password_from

    url = source.url
    env = source.password_env or url.options.get("password_env", "")
    password = password_from(env, url) if url.engine == "postgres" else ""
    timeout = source.timeout if source.timeout is not None else url.timeout
    options: dict[str, Any] = {"url": url, "timeout": timeout, **extra}
    if password:
        options["password"] = password
    return open_engine(url.engine, **options)


def _local_type(engine: Engine, value: ibis.Value, tz: str) -> ibis.Value:
    to_local = getattr(engine, "to_local", None)
    if to_local is None:  # pragma: no cover - every warehouse engine has it
        raise EngineError(f"the {engine.name} engine cannot convert time-zone-aware timestamps")
    return to_local(value, tz)  # type: ignore[no-any-return]


def _contract_value(engine: Engine, value: ibis.Value, col_type: str, tz: str) -> ibis.Value | None:
    """``value`` (a source column) as contract type ``col_type``, or None when its type does not fit."""
    t = value.type()
    if col_type in ("id", "str"):
        if t.is_string():
            return value
        if col_type == "id" and t.is_integer():
            return value.cast("string")
        return None
    if col_type in ("ts", "date"):
        if t.is_timestamp():
            v = _local_type(engine, value, tz) if t.timezone else value  # type: ignore[attr-defined]
        elif t.is_date():
            v = value.cast("timestamp")
        else:
            return None
        return v.truncate("D").cast("timestamp") if col_type == "date" else v.cast("timestamp")
    if col_type in ("float", "ratio"):
        return value.cast("float64") if t.is_numeric() else None
    if col_type == "int":
        return value.cast("int64") if t.is_integer() else None
    if col_type == "bool":
        return value if t.is_boolean() else None
    return None  # pragma: no cover - the contract has no other types


def _view(engine: Engine, name: str, source_table: str, rename: dict[str, str], schema: TableSchema, tz: str,
          where: str) -> tuple[ibis.Table | None, list[Problem]]:
    """The contract view of ``source_table`` for contract table ``name``, with its problems."""
    ctx = Ctx(file=where, line_kind="row")
    src = engine.source_table(source_table)  # type: ignore[attr-defined]
    columns = list(src.columns)
    for s in rename:
        if s not in columns:
            near = difflib.get_close_matches(s, columns, n=1, cutoff=0.5)
            ctx.add("config_column_missing", column=s, name=s,
                    found=", ".join(map(repr, columns)) + (f" (closest: {near[0]!r})" if near else ""))
    if ctx.problems:
        return None, list(ctx.problems)
    named = [rename.get(c, c) for c in columns]
    if not check_header(named, schema, ctx):
        return None, list(ctx.problems)
    types = {c.name: c.type for c in schema.columns}
    out: dict[str, ibis.Value] = {}
    for src_col, dst in zip(columns, named, strict=True):
        if dst not in types:  # an extra column (check_header warned): kept as text, as files keep it
            out[dst] = src[src_col].cast("string").name(dst)
            continue
        v = _contract_value(engine, src[src_col], types[dst], tz)
        if v is None:
            ctx.add("wh_wrong_type", column=dst, source=src_col, found=str(src[src_col].type()),
                    expected=types[dst])
            continue
        out[dst] = v.name(dst)
    if any(is_error(p) for p in ctx.problems):
        return None, list(ctx.problems)
    return src.select(**out), list(ctx.problems)


#: An opened warehouse: the engine (contract views defined), the present tables, their fingerprints.
Opened = tuple[Engine, list[str], dict[str, str]]


def open_warehouse(source: Source, tz: str) -> tuple[Opened | None, list[Problem]]:
    """Connect and define every present contract table's view; returns ``(opened or None, problems)``."""
    engine = connect(source)
    problems: list[Problem] = []
    try:
        present = engine.tables()
        wanted = {n: source.tables.get(n, (n, {})) for n in SCHEMAS}
        where_db = source.url.shown()
        names: list[str] = []
        prints: dict[str, str] = {}
        for name, (table, rename) in sorted(wanted.items()):
            if table not in present:
                if name in source.tables:  # mapped explicitly: it must exist
                    near = difflib.get_close_matches(table, present, n=1, cutoff=0.5)
                    problems.append(problem("wh_table_missing", file=where_db, table=name, name=table,
                                            hint=near[0] if near else "-", found=", ".join(present) or "none"))
                continue
            where = f"{where_db}:{table}"
            can_read = getattr(engine, "can_read", None)
            if can_read is not None and not can_read(table):
                problems.append(problem("wh_no_permission", file=where, table=table, user=source.url.user or "-"))
                continue
            view, more = _view(engine, name, table, rename, SCHEMAS[name], tz, where)
            problems += more
            if view is None:
                continue
            engine.define(name, view)
            names.append(name)
            stamp = getattr(engine, "fingerprint", lambda _: "")(table)
            prints[name] = hashlib.sha256(f"{engine.name}|{where}|{sorted(rename.items())}|{stamp}".encode()
                                          ).hexdigest()[:16]
        if "kpis" not in names and not any(p for p in problems if getattr(p, "code", "") and is_error(p)):
            problems.append(problem("no_kpis", file=where_db))
    except Exception:
        engine.close()
        raise
    if any(is_error(p) for p in problems):
        engine.close()
        return None, problems
    return (engine, sorted(names), prints), problems


def source_of(target: str) -> Source:
    """A :class:`Source` for a URL (raises :class:`PackURLError` for a malformed one)."""
    return Source(parse(target))


def load(pack: Any, target: str, *, log: Any = None) -> dict[str, int]:
    """Copy every table of the opened file pack ``pack`` into the warehouse ``target`` (``opsnb load``).

    Tables are written with their contract names and types, in batches (the pack is never read
    into memory whole), each in one transaction or write: a load cut short leaves the earlier
    tables of that name as they were. Returns rows copied per table.
    """
    source = source_of(target)
    engine = connect(source, create=True)
    copied: dict[str, int] = {}
    try:
        loader = getattr(engine, "load_arrow", None)
        if loader is None:  # pragma: no cover - every warehouse engine loads
            raise EngineError(f"the {engine.name} engine cannot load tables")
        for name in pack.names:
            reader = pack.table(name).to_pyarrow_batches(chunk_size=250_000)
            copied[name] = loader(name, reader)
            if log is not None:
                log(f"{name}: {copied[name]:,} rows")
    finally:
        engine.close()
    return copied


def check_tables(pack: Any) -> list[Problem]:
    """The table checks of :mod:`opsnb.pack.checks` on every table of a warehouse pack, run in its engine.

    Each check is an aggregate query (a count, then a few example rows when it flags any): the
    tables are scanned where they are, never brought here. Warehouse rows have no file line: a
    problem's row is the row's number in the engine's order of the table, and its value is shown.
    """
    from opsnb.pack.checks import run_checks

    problems: list[Problem] = []
    for name in pack.names:
        t = pack.table(name)
        ctx = Ctx(file=f"{pack.source}:{name}", line_kind="row")
        run_checks(pack.engine, t.mutate(__line=ibis.row_number() + 1), SCHEMAS[name], ctx,
                   present=set(t.columns), nulls=True)
        problems += ctx.problems
    return problems


__all__ = ["WAREHOUSE_KEYS", "PackURLError", "Source", "check_tables", "connect", "load", "open_warehouse",
           "source_from_config", "source_of"]
