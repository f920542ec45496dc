"""The DuckDB engine: every DuckDB-specific call of the pack, behind :mod:`opsnb.pack.engine`.

The connection (in-process, in memory, or a ``.duckdb`` pack file opened read-only), reading Parquet
files in place with the contract's types (``read_parquet``, ``timezone()``), scratch relations over
pandas frames for the checks, temporary tables, and the pack's store: one DuckDB database file built
with user keys and event blocks and attached read-only, with temporary views pointing each table name
into it (``ATTACH``, ``duckdb_columns()``, ``SELECT * EXCLUDE``). Outside this module only the Online
Retail importer (a DuckDB-based file converter) imports ``duckdb``; a test walks the imports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb
import ibis

from opsnb.pack.engine import EngineError, IbisEngine

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

#: The name the store file is attached under.
STORE = "__opsnb_store"
#: The name a store being written is attached under.
BUILD = "__opsnb_store_build"
#: Prefix of the temporary views that show a store table with its user key.
KEYED_PREFIX = "__keyed_"


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- Parquet with contract types


def _arrow_expr(col_type: str, atype: object, src: str, tz: str) -> str | None:
    """SQL that turns a Parquet column of Arrow type ``atype`` into the contract type, or None."""
    import pyarrow as pa

    q = _q(src)
    t = atype
    if col_type in ("id", "str"):
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return q
        if col_type == "id" and pa.types.is_integer(t):
            return f"CAST({q} AS VARCHAR)"
        return None
    if col_type in ("ts", "date"):
        if pa.types.is_timestamp(t):
            expr = f"timezone({_sql_str(tz)}, {q})" if t.tz else f"CAST({q} AS TIMESTAMP)"  # type: ignore[attr-defined]
        elif pa.types.is_date(t):
            expr = f"CAST({q} AS TIMESTAMP)"
        else:
            return None
        return f"CAST(date_trunc('day', {expr}) AS TIMESTAMP)" if col_type == "date" else expr
    if col_type in ("float", "ratio"):
        if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
            return f"CAST({q} AS DOUBLE)"
        return None
    if col_type == "int":
        return f"CAST({q} AS BIGINT)" if pa.types.is_integer(t) else None
    if col_type == "bool":
        return q if pa.types.is_boolean(t) else None
    return None


def _parquet_select(path: Path, rename: Mapping[str, str], types: Mapping[str, str], tz: str) -> str | None:
    """A SELECT list over ``read_parquet`` when every contract column's type already fits, else None."""
    import pyarrow.parquet as pq

    arrow = pq.read_schema(path)
    exprs = []
    for src in arrow.names:
        dst = rename.get(src, src)
        if dst in types:
            e = _arrow_expr(types[dst], arrow.field(src).type, src, tz)
            if e is None:
                return None
            exprs.append(f"{e} AS {_q(dst)}")
        else:
            exprs.append(f"{_q(src)} AS {_q(dst)}")
    return ", ".join(exprs)


# ---------------------------------------------------------------- the store's keyed tables


def _clustered(batch: pa.RecordBatch, column: str | None) -> pa.RecordBatch:
    """``batch`` with its rows grouped by ``column`` (stable; nulls last), or as it is without one."""
    if column is None or column not in batch.schema.names:
        return batch
    import pyarrow.compute as pc

    codes = pc.dictionary_encode(batch.column(column)).indices  # sorting small ints, not strings
    return batch.take(pc.sort_indices(codes))


def _with_key(batch: pa.RecordBatch, ids: pa.Array, key_column: str) -> pa.RecordBatch:
    """``batch`` plus ``key_column``: the position of its ``user_id`` in the sorted ``ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return batch.append_column(key_column, pc.index_in(batch.column("user_id"), value_set=ids).cast(pa.int32()))


#: DuckDB memory per connection unless ``OPSNB_DUCKDB_MEMORY`` says otherwise (e.g. ``4GB``; ``off``: DuckDB's
#: own default, 80% of the machine's memory per process). A batch runs a connection in each kernel; without
#: a cap, at sample scale 30 (62M events) one kernel grew to ~4 GB and the batch peaked at 5.1 GB. With
#: 2 GB per connection DuckDB spills what does not fit to its temp folder and the same batch peaks at
#: about 2.5 GB (benchmarks/README.md "Warehouse packs"); the largest query that did not spill (the
#: campaigns after-effect) is now aggregated before its joins. Building the pack's store runs uncapped.
DEFAULT_MEMORY = "2GB"


def memory_limit() -> str | None:
    """The memory limit each DuckDB connection gets: ``OPSNB_DUCKDB_MEMORY``, else :data:`DEFAULT_MEMORY`;
    None (DuckDB's default) when it is ``off``."""
    import os

    value = (os.environ.get("OPSNB_DUCKDB_MEMORY") or DEFAULT_MEMORY).strip()
    return None if value.lower() in ("off", "none", "0") else value


class DuckDBEngine(IbisEngine):
    """In-process DuckDB through Ibis: the local engine (:class:`opsnb.pack.engine.LocalEngine`)."""

    name: ClassVar[str] = "duckdb"
    label: ClassVar[str] = "DuckDB"

    def __init__(self, backend: ibis.BaseBackend) -> None:
        super().__init__(backend)
        self.store: Path | None = None
        self._keyed: frozenset[str] = frozenset()

    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only: bool = False) -> DuckDBEngine:
        """A new connection: in memory, or to the database file ``path``; its memory capped (:func:`memory_limit`)."""
        backend = ibis.duckdb.connect() if path is None else ibis.duckdb.connect(str(path), read_only=read_only)
        engine = cls(backend)
        cap = memory_limit()
        if cap:
            engine.raw.execute(f"SET memory_limit = {_sql_str(cap)}")
        return engine

    @property
    def version(self) -> str:
        """DuckDB's version."""
        return str(duckdb.__version__)

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection under the Ibis backend."""
        return self.backend.con  # type: ignore[attr-defined, no-any-return]

    # ------------------------------------------------------------ Engine

    def _create_temp(self, name: str, query: ibis.Table | str) -> None:
        sql = query if isinstance(query, str) else str(ibis.to_sql(query, dialect="duckdb"))
        self.raw.execute(f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS {sql}")

    # ------------------------------------------------------------ ingest

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Copy ``frame`` into table ``name``."""
        self.backend.create_table(name, frame)  # type: ignore[attr-defined]

    def load_parquet(self, name: str, path: Path, *, rename: Mapping[str, str] | None = None,
                     types: Mapping[str, str] | None = None, tz: str = "") -> None:
        """A view ``name`` over the Parquet file ``path`` (with ``types``: cast in place, see the protocol)."""
        if types is None:
            self.backend.read_parquet(path, table_name=name)  # type: ignore[attr-defined]
            return
        select = _parquet_select(path, rename or {}, types, tz)
        if select is None:
            raise EngineError(f"{path.name}: a column's type does not fit its contract type; read it with pandas")
        src = _sql_str(str(path.resolve()))
        self.raw.execute(f"CREATE OR REPLACE VIEW {_q(name)} AS SELECT {select} FROM read_parquet({src})")

    def parquet_fits(self, path: Path, *, rename: Mapping[str, str], types: Mapping[str, str]) -> bool:
        """Whether :meth:`load_parquet` can cast every contract column of ``path`` in SQL."""
        return _parquet_select(path, rename, types, "UTC") is not None

    def parquet_relation(self, path: Path, *, rename: Mapping[str, str], types: Mapping[str, str],
                         tz: str) -> ibis.Table:
        """The file as :meth:`load_parquet` reads it plus ``__line`` (its 1-based row)."""
        select = _parquet_select(path, rename, types, tz)
        if select is None:
            raise EngineError(f"{path.name}: a column's type does not fit its contract type; read it with pandas")
        src = _sql_str(str(path.resolve()))
        return self.backend.sql(  # type: ignore[attr-defined, no-any-return]
            f"SELECT {select}, file_row_number + 1 AS __line FROM read_parquet({src}, file_row_number = true)")

    @contextlib.contextmanager
    def scratch(self, name: str, frame: pd.DataFrame) -> Iterator[ibis.Table]:
        """``frame`` registered as the view ``name`` (no copy) while the block runs."""
        self.raw.register(name, frame)
        try:
            yield self.backend.sql(f"SELECT * FROM {_q(name)}")  # type: ignore[attr-defined]
        finally:
            self.raw.unregister(name)

    # ------------------------------------------------------------ the store

    def build_store(self, path: Path, *, tables: Sequence[str], keyed: Sequence[str],
                    derived: Mapping[str, ibis.Table], key_column: str, cluster: Mapping[str, str],
                    batch_rows: int) -> None:
        """Write the store file ``path`` (see :meth:`opsnb.pack.engine.LocalEngine.build_store`)."""
        duck = self.raw
        cap = memory_limit()
        if cap:
            duck.execute("RESET memory_limit")  # building the store (once per content) may use DuckDB's default
        try:
            if keyed:
                self._write_keyed(path, keyed, key_column, cluster, batch_rows)
            duck.execute(f"ATTACH {_sql_str(str(path))} AS {BUILD}")
            try:
                for n in tables:
                    if n not in keyed:
                        duck.execute(f"CREATE TABLE {BUILD}.{_q(n)} AS SELECT * FROM {_q(n)}")
                for n, expr in derived.items():
                    duck.execute(f"CREATE TABLE {BUILD}.{_q(n)} AS {ibis.to_sql(expr, dialect='duckdb')}")
            finally:
                duck.execute(f"DETACH {BUILD}")
        finally:
            Path(f"{path}.wal").unlink(missing_ok=True)
            if cap:
                duck.execute(f"SET memory_limit = {_sql_str(cap)}")

    def _write_keyed(self, path: Path, names: Sequence[str], key_column: str, cluster: Mapping[str, str],
                     batch_rows: int) -> None:
        """Write the tables ``names`` (all with ``user_id``) into the new file ``path`` with ``key_column``.

        The key is looked up batch by batch on the way in (``pyarrow.compute.index_in`` against the
        sorted ids), so rows keep the pack's order (an SQL join would reorder them, and sorting them
        back costs more than the copy), except that the tables in ``cluster`` are grouped within each
        batch. The file is written through its own DuckDB instance while this connection streams the
        rows (one connection cannot do both at once).
        """
        import pyarrow as pa

        duck = self.raw
        every = " UNION ALL ".join(f"SELECT user_id FROM {_q(n)}" for n in names)
        ids = duck.execute(f"SELECT DISTINCT user_id FROM ({every}) WHERE user_id IS NOT NULL ORDER BY user_id"
                           ).to_arrow_table().column(0).combine_chunks()
        out = duckdb.connect(str(path))
        try:
            out.execute("SET enable_progress_bar = false")
            for n in names:
                reader = duck.execute(f"SELECT * FROM {_q(n)}").to_arrow_reader(batch_rows)
                schema = reader.schema.append(pa.field(key_column, pa.int32()))
                batches = (_with_key(_clustered(b, cluster.get(n)), ids, key_column) for b in reader)
                out.register("__opsnb_src", pa.RecordBatchReader.from_batches(schema, batches))
                out.execute(f"CREATE TABLE {_q(n)} AS SELECT * FROM __opsnb_src")
                out.unregister("__opsnb_src")
        finally:
            out.close()

    def attach_store(self, path: Path, tables: Sequence[str], *, key_column: str) -> frozenset[str]:
        """Attach ``path`` read-only and point every name of ``tables`` into it (temporary views).

        Idempotent per connection: copies of a Pack share the engine and find the store attached.
        """
        duck = self.raw
        try:
            row = duck.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [STORE]).fetchone()
            if row is None:
                duck.execute(f"ATTACH {_sql_str(str(path))} AS {STORE} (READ_ONLY)")
            elif Path(row[0]) != path:
                raise RuntimeError(f"this connection already uses another store: {row[0]}")
            keyed = {r[0] for r in duck.execute("SELECT table_name FROM duckdb_columns() WHERE database_name = ? "
                                                "AND column_name = ?", [STORE, key_column]).fetchall()}
            for n in tables:
                if n in keyed:
                    duck.execute(f"CREATE OR REPLACE TEMP VIEW {_q(KEYED_PREFIX + n)} AS SELECT * FROM {STORE}.{_q(n)}")
                    duck.execute(f"CREATE OR REPLACE TEMP VIEW {_q(n)} AS SELECT * EXCLUDE ({_q(key_column)}) "
                                 f"FROM {STORE}.{_q(n)}")
                else:
                    duck.execute(f"CREATE OR REPLACE TEMP VIEW {_q(n)} AS SELECT * FROM {STORE}.{_q(n)}")
        except duckdb.Error as exc:  # damaged (a disk that filled up, a copy cut short)
            with contextlib.suppress(duckdb.Error):
                duck.execute(f"DETACH DATABASE IF EXISTS {STORE}")
            raise EngineError(f"cannot read the store {path.name}: {exc}") from exc
        self.store = path
        self._keyed = frozenset(keyed) & set(tables)
        return self._keyed

    def keyed_table(self, name: str) -> ibis.Table | None:
        """The store's table ``name`` with its user key column, or None."""
        return self.table(KEYED_PREFIX + name) if name in self._keyed else None
