"""The engine boundary: what a pack needs from the database that holds its tables.

Everything above this boundary (the pack, its checks and derived tables, every analysis) speaks Ibis
and calls the few methods below; everything engine-specific (drivers, SQL dialect, catalogue
queries, file readers, the on-disk store) lives in one module per engine:
:mod:`opsnb.pack.duckdb_engine` for DuckDB. A second engine is a new module and one line in
:data:`ENGINES`, not edits across the package.

Two levels:

* :class:`Engine`, the small interface every engine offers: list tables and their columns, an Ibis
  table by name, materialise a derived table, run a check query, close. :class:`IbisEngine`
  implements it on any Ibis backend, so an engine module mostly says how to connect.
* :class:`LocalEngine`, what ingest and the pack's store need besides: load a frame or a Parquet
  file as a table, read a Parquet file with the contract's types in place, a scratch relation over
  a frame for the checks, and build and attach the store (:mod:`opsnb.pack.derived`). Folder packs
  and in-memory packs are read by the local engine (:func:`local_engine`); a pack that lives in a
  database needs only :class:`Engine`.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from opsnb.errors import OpsnbError

if TYPE_CHECKING:  # pragma: no cover
    import ibis
    import pandas as pd

#: Engines by name: ``module:class``, imported on first use (no driver loads unless its engine is used).
ENGINES: dict[str, str] = {"duckdb": "opsnb.pack.duckdb_engine:DuckDBEngine",
                           "postgres": "opsnb.pack.pg_engine:PostgresEngine",
                           "spark": "opsnb.pack.spark_engine:SparkEngine"}
#: The engine that reads pack folders and frames and keeps the store.
LOCAL = "duckdb"
#: Database files opened as a pack, by suffix: the engine that opens them.
DATABASE_SUFFIXES: dict[str, str] = {".duckdb": "duckdb"}


#: Rows one notebook (one section of a run) may bring back from its engine, over all its queries
#: (``OPSNB_ROW_CAP`` overrides it). Every analysis aggregates in the engine, so a review brings back
#: a few thousand rows whatever the data's size; crossing the cap means a query pulls raw rows.
ROW_CAP = 1_000_000


class EngineError(OpsnbError):
    """The engine could not do what was asked (a damaged database file, a query it rejected)."""


class QueryTimeout(EngineError):
    """A query ran longer than the pack's timeout and was cancelled."""


class RowCapExceeded(EngineError):
    """A notebook brought back more rows than :data:`ROW_CAP` from the engine."""


@dataclass
class Usage:
    """What a notebook asked of its engine: queries run, rows brought back to Python, seconds waited."""

    engine: str = ""
    queries: int = 0
    rows: int = 0
    seconds: float = 0.0
    #: The query that brought back the most rows: where it was asked (``module:line (function)``) and how many.
    largest_rows: int = 0
    largest_at: str = ""
    log: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """For ``manifest.json`` (without the per-query log)."""
        d = asdict(self)
        d.pop("log")
        d["seconds"] = round(self.seconds, 3)
        return d


def _asked_at() -> str:
    """Where in opsnb (outside the pack layer) the current query was asked: ``module:line (function)``."""
    frame = sys._getframe(2)
    fallback = ""
    while frame is not None:
        mod = frame.f_globals.get("__name__", "")
        if mod.startswith("opsnb.") and not mod.startswith("opsnb.pack"):
            return f"{mod}:{frame.f_lineno} ({frame.f_code.co_name})"
        if not fallback and mod.startswith("opsnb."):
            fallback = f"{mod}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back  # type: ignore[assignment]
    return fallback or "?"


def _rows_of(result: Any) -> int:
    """Rows in a query's result: a frame, a series, an Arrow table, or one scalar."""
    n = getattr(result, "num_rows", None)
    if n is not None:
        return int(n)
    if hasattr(result, "shape") and hasattr(result, "__len__"):
        return len(result)
    return 1


#: One row of a check query's result.
Row = tuple[Any, ...]


@runtime_checkable
class Engine(Protocol):
    """The database a pack's tables live in, as the pack sees it."""

    #: Short name (``"duckdb"``), as in :data:`ENGINES`.
    name: ClassVar[str]
    #: Queries run and rows brought back through this engine (per notebook: each opens its own).
    usage: Usage

    @property
    def version(self) -> str:
        """The driver's version (part of cache keys: another version may lay files out differently)."""
        ...

    @property
    def backend(self) -> ibis.BaseBackend:
        """The Ibis backend the analyses' expressions run on."""
        ...

    def tables(self) -> list[str]:
        """Names of the tables and views in the engine's database."""
        ...

    def columns(self, table: str) -> list[str]:
        """Column names of ``table``, in order."""
        ...

    def table(self, name: str) -> ibis.Table:
        """Table or view ``name`` as an Ibis table."""
        ...

    def materialise(self, name: str, query: ibis.Table | str, *, replace: bool = False) -> ibis.Table:
        """Store the result of ``query`` as table ``name`` for this connection's life and return it.

        ``query`` is an Ibis expression (portable) or SQL in the engine's dialect. Without
        ``replace`` an existing table of that name made through this engine is returned as it is.
        """
        ...

    def check(self, query: ibis.Table | str) -> list[Row]:
        """The rows of a (small) validation query, as tuples of Python values."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def define(self, name: str, expr: ibis.Table) -> None:
        """Make :meth:`table` answer ``name`` with ``expr`` (a warehouse table read through its contract view)."""
        ...


@runtime_checkable
class LocalEngine(Engine, Protocol):
    """An in-process engine that can also ingest files and keep the pack's store (:mod:`opsnb.pack.derived`)."""

    #: The store file attached to this connection, or None.
    store: Path | None

    def load_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Copy ``frame`` into table ``name``."""
        ...

    def load_parquet(self, name: str, path: Path, *, rename: Mapping[str, str] | None = None,
                     types: Mapping[str, str] | None = None, tz: str = "") -> None:
        """Make ``name`` read the Parquet file ``path`` in place.

        Without ``types`` the file is read as it is (a file the ingest cache wrote). With them,
        columns are renamed by ``rename`` (file name → contract name) and cast to ``types`` (contract
        name → contract column type, :mod:`opsnb.pack.schemas`), aware timestamps converted to
        ``tz``; the types must fit (:meth:`parquet_fits`).
        """
        ...

    def parquet_fits(self, path: Path, *, rename: Mapping[str, str], types: Mapping[str, str]) -> bool:
        """Whether every contract column of the Parquet file ``path`` can be read as its contract type in place.

        Otherwise the caller reads the file with pandas and coerces it.
        """
        ...

    def parquet_relation(self, path: Path, *, rename: Mapping[str, str], types: Mapping[str, str],
                         tz: str) -> ibis.Table:
        """The Parquet file ``path`` as :meth:`load_parquet` reads it, plus ``__line`` (1-based row), for the checks."""
        ...

    def scratch(self, name: str, frame: pd.DataFrame) -> AbstractContextManager[ibis.Table]:
        """A relation over ``frame`` named ``name`` while the ``with`` block runs (checks of a coerced frame)."""
        ...

    def build_store(self, path: Path, *, tables: Sequence[str], keyed: Sequence[str],
                    derived: Mapping[str, ibis.Table], key_column: str, cluster: Mapping[str, str],
                    batch_rows: int) -> None:
        """Write a new store file ``path``: a copy of every table of ``tables`` and of each ``derived`` query.

        The tables of ``keyed`` (each with ``user_id``) gain ``key_column``: the rank of their
        ``user_id`` among all their user ids in the engine's string order; their rows keep their
        order, except that within blocks of ``batch_rows`` rows the rows of a table in ``cluster``
        are grouped (stably) by that column. See :mod:`opsnb.pack.derived`.
        """
        ...

    def attach_store(self, path: Path, tables: Sequence[str], *, key_column: str) -> frozenset[str]:
        """Read ``tables`` from the store file ``path`` from now on; returns those that carry ``key_column``.

        The table names then show the columns they had (without ``key_column``). Idempotent.

        Raises
        ------
        EngineError
            When the file cannot be used (damaged); nothing stays attached.
        """
        ...

    def keyed_table(self, name: str) -> ibis.Table | None:
        """Table ``name`` of the attached store with its user key column, or None (no store, or no key)."""
        ...


class IbisEngine:
    """:class:`Engine` on any Ibis backend: a new engine subclasses it and says how to connect.

    Materialised tables are temporary tables (``create_table(temp=True)``), remembered per engine
    object, so copies of a Pack (which share the engine) do not build them twice.
    """

    name: ClassVar[str] = "ibis"
    #: How the engine is named on a page.
    label: ClassVar[str] = "Ibis"

    def __init__(self, backend: ibis.BaseBackend, *, timeout: float | None = None) -> None:
        self._backend = backend
        self._made: set[str] = set()
        self._views: dict[str, ibis.Table] = {}
        #: Seconds a query may run (None: no limit); then :meth:`cancel` stops it.
        self.timeout = timeout
        self.row_cap = int(os.environ.get("OPSNB_ROW_CAP") or ROW_CAP)
        self.usage = Usage(self.name)
        for method in ("execute", "to_pyarrow"):
            setattr(backend, method, self._counted(getattr(backend, method)))

    def _counted(self, run: Callable[..., Any]) -> Callable[..., Any]:
        """``run`` (the backend's execute or to_pyarrow), counted in :attr:`usage`, timed out and capped."""
        def counted(expr: Any, /, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            timer = None
            if self.timeout is not None:
                timer = threading.Timer(self.timeout, self._on_timeout)
                timer.daemon = True
                timer.start()
            self._timed_out = False
            try:
                result = run(expr, *args, **kwargs)
            except Exception as exc:
                if self._timed_out:
                    raise QueryTimeout(
                        f"{self.name}: the query asked at {_asked_at()} ran longer than {self.timeout:g} s and was "
                        "cancelled; make the pack smaller or raise the limit (?timeout=SECONDS in the pack URL, "
                        "or timeout: in pack.yaml)") from exc
                err = self.translate(exc)
                if isinstance(err, EngineError):
                    raise type(err)(f"{err} [query asked at {_asked_at()}]") from exc
                raise err from exc
            finally:
                if timer is not None:
                    timer.cancel()
            n = _rows_of(result)
            u = self.usage
            u.queries += 1
            u.rows += n
            u.seconds += time.perf_counter() - t0
            at = _asked_at()
            u.log.append({"at": at, "rows": n})
            if n > u.largest_rows:
                u.largest_rows, u.largest_at = n, at
            if u.rows > self.row_cap:
                raise RowCapExceeded(
                    f"{self.name}: the query asked at {at} brought back {n:,} rows, {u.rows:,} in all for this "
                    f"notebook, over the cap of {self.row_cap:,}: an analysis should aggregate in the engine and "
                    "bring back results, not raw rows (raise the cap with OPSNB_ROW_CAP if this is intended)")
            return result

        return counted

    def _on_timeout(self) -> None:
        self._timed_out = True
        try:
            self.cancel()
        except Exception:  # noqa: BLE001 - a cancel that fails leaves the query to finish
            pass

    def cancel(self) -> None:
        """Cancel the query running now (from another thread); engines say how."""

    def translate(self, exc: Exception) -> Exception:
        """A driver's exception as the user should read it (engines map theirs to :class:`EngineError`)."""
        return exc

    def define(self, name: str, expr: ibis.Table) -> None:
        """Make :meth:`table` answer ``name`` with ``expr`` (a pack table read through its contract view)."""
        self._views[name] = expr

    @property
    def backend(self) -> ibis.BaseBackend:
        """The Ibis backend."""
        return self._backend

    @property
    def version(self) -> str:
        """The backend's version."""
        return str(self._backend.version)

    def tables(self) -> list[str]:
        """Names of the tables and views in the backend's current database."""
        return list(self._backend.list_tables())

    def columns(self, table: str) -> list[str]:
        """Column names of ``table``, in order."""
        return list(self.table(table).columns)

    def table(self, name: str) -> ibis.Table:
        """Table ``name`` as an Ibis table (a contract view made by :meth:`define`, else the engine's table)."""
        view = self._views.get(name)
        return view if view is not None else self._backend.table(name)

    def _query(self, query: ibis.Table | str) -> ibis.Table:
        return self._backend.sql(query) if isinstance(query, str) else query  # type: ignore[attr-defined]

    def _create_temp(self, name: str, query: ibis.Table | str) -> None:
        self._backend.create_table(name, self._query(query), temp=True, overwrite=True)  # type: ignore[attr-defined]

    def materialise(self, name: str, query: ibis.Table | str, *, replace: bool = False) -> ibis.Table:
        """A temporary table ``name`` holding ``query``'s result (see :meth:`Engine.materialise`)."""
        if replace or name not in self._made:
            self._create_temp(name, query)
            self._made.add(name)
        return self.table(name)

    def check(self, query: ibis.Table | str) -> list[Row]:
        """The rows of ``query`` as tuples of Python values (through Arrow)."""
        result = self._backend.to_pyarrow(self._query(query))
        return list(zip(*(c.to_pylist() for c in result.columns), strict=True))

    def close(self) -> None:
        """Disconnect the backend."""
        self._backend.disconnect()


# ---------------------------------------------------------------- registry


def engine_class(name: str) -> type[Engine]:
    """The engine class registered as ``name`` in :data:`ENGINES`.

    Raises
    ------
    EngineError
        For an unknown name (the message lists the known ones).
    """
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; known: {sorted(ENGINES)} (add one to opsnb.pack.engine.ENGINES)")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def open_engine(name: str = LOCAL, /, **options: Any) -> Engine:
    """Connect engine ``name`` (``options`` go to its ``open``: e.g. ``path=``, ``read_only=``)."""
    return engine_class(name).open(**options)  # type: ignore[attr-defined, no-any-return]


def local_engine() -> LocalEngine:
    """A new in-memory local engine (what folder packs and :func:`~opsnb.pack.from_frames` read into)."""
    engine = open_engine(LOCAL)
    if not isinstance(engine, LocalEngine):  # pragma: no cover - a registry mistake
        raise EngineError(f"engine {LOCAL!r} cannot read files (it is not a LocalEngine)")
    return engine


def database_engine(path: Path) -> Engine | None:
    """The engine opening the database file ``path`` read-only as a pack, or None for another kind of file."""
    name = DATABASE_SUFFIXES.get(path.suffix.lower())
    return None if name is None else open_engine(name, path=path, read_only=True)

