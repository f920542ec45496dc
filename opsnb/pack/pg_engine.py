"""The PostgreSQL engine: a pack whose tables live in a PostgreSQL schema, every analysis run there.

Connects with psycopg through Ibis. The password comes from the URL's ``password_env`` variable (or
``pack.yaml``'s), else libpq's own ``PGPASSWORD`` and ``~/.pgpass``; a password written in the URL
works but is never shown (:func:`opsnb.pack.url.redact`). The session runs in UTC (as Ibis sets it);
``timestamp with time zone`` columns are turned into the pack's local time by ``timezone(zone, ts)``
in the contract view (:mod:`opsnb.pack.warehouse`). Derived tables are ``TEMP`` tables of the
session. Text sorts in the database's collation: a database created with the C collation (byte
order) sorts ids exactly as DuckDB does; see docs/warehouse.md.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import ibis
import ibis.expr.datatypes as dt

from opsnb.pack.engine import EngineError, IbisEngine
from opsnb.pack.url import PackURL, redact

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Seconds to wait for the server to answer a connection.
CONNECT_TIMEOUT = 10


@ibis.udf.scalar.builtin(name="timezone", signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp))
def _pg_timezone(zone, ts):  # type: ignore[no-untyped-def]
    """PostgreSQL's ``timezone(zone, timestamptz)``: the local wall-clock time in ``zone``."""


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class PostgresEngine(IbisEngine):
    """PostgreSQL through Ibis (psycopg): tables of one schema."""

    name: ClassVar[str] = "postgres"
    label: ClassVar[str] = "PostgreSQL"

    def __init__(self, backend: ibis.BaseBackend, url: PackURL, *, timeout: float | None = None,
                 secrets: Iterable[str] = ()) -> None:
        self.url = url
        self._secrets = tuple(s for s in secrets if s)
        super().__init__(backend, timeout=timeout)

    @classmethod
    def open(cls, url: PackURL, *, password: str = "", timeout: float | None = None,
             create: bool = False) -> PostgresEngine:
        """Connect to ``url`` (host, port, database, ``?schema=``); ``create``: make the schema if absent.

        Raises
        ------
        EngineError
            Unreachable server, refused authentication, unknown database or schema: the message names
            the host, port, user, database or schema (never the password) and says what to check.
        """
        import psycopg

        password = password or url.password or ""
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
        kwargs: dict[str, Any] = {"host": url.host or None, "port": url.port or 5432, "user": url.user or None,
                                  "database": url.database or None, "connect_timeout": CONNECT_TIMEOUT}
        if password:
            kwargs["password"] = password
        try:
            backend = ibis.postgres.connect(**kwargs)
        except psycopg.OperationalError as exc:
            text = redact(_message(exc), password)
            low = text.lower()
            if "password authentication failed" in low or "no password supplied" in low:
                raise EngineError(
                    f"PostgreSQL at {where} refused user {url.user or '(default)'!r}: "
                    + ("the password was not accepted" if password or "authentication failed" in low
                       else "no password given")
                    + "; set PGPASSWORD, add the server to ~/.pgpass, or name an environment variable with "
                    "?password_env=NAME (or password_env: in pack.yaml)") from None
            if "does not exist" in low and "database" in low:
                raise EngineError(f"PostgreSQL at {where}: database {url.database!r} does not exist "
                                  f"(the path of the URL names it: postgres://user@host:port/DATABASE)") from None
            if "connection refused" in low:
                raise EngineError(f"cannot reach PostgreSQL at {where}: connection refused; is the server running, "
                                  "and listening on that host and port?") from None
            if "timeout" in low:
                raise EngineError(f"cannot reach PostgreSQL at {where}: no answer within {CONNECT_TIMEOUT} s; "
                                  "is the host right and the port open?") from None
            raise EngineError(f"cannot reach PostgreSQL at {where}: {text}; is the server running, and "
                              "listening on that host and port?") from None
        engine = cls(backend, url, timeout=timeout, secrets=(password,))
        if url.schema and create:
            engine.raw_rows(f'CREATE SCHEMA IF NOT EXISTS "{url.schema}"', fetch=False)
        if url.schema:
            schemas = [r[0] for r in engine.raw_rows("SELECT nspname FROM pg_namespace ORDER BY 1")]
            if url.schema not in schemas:
                import difflib

                near = difflib.get_close_matches(url.schema, schemas, n=1, cutoff=0.5)
                engine.close()
                raise EngineError(
                    f"PostgreSQL at {where}/{url.database}: schema {url.schema!r} does not exist"
                    + (f"; did you mean {near[0]!r}?" if near else "")
                    + f" (schemas: {', '.join(s for s in schemas if not s.startswith(('pg_', 'information_')))})")
        return engine

    # ------------------------------------------------------------ the driver

    @property
    def raw(self) -> Any:
        """The psycopg connection."""
        return self.backend.con  # type: ignore[attr-defined]

    def raw_rows(self, sql: str, args: tuple[Any, ...] = (), *, fetch: bool = True) -> list[tuple[Any, ...]]:
        """Rows of a catalogue query (not counted as the analyses' queries)."""
        with self.raw.cursor() as cur:
            cur.execute(sql, args)  # type: ignore[arg-type]
            return list(cur.fetchall()) if fetch else []

    @property
    def schema(self) -> str:
        """The schema holding the pack's tables (the URL's, else ``public``)."""
        return self.url.schema or "public"

    def cancel(self) -> None:
        """Cancel the running query (psycopg sends the server a cancel request)."""
        self.raw.cancel()

    def translate(self, exc: Exception) -> Exception:
        """psycopg errors as :class:`EngineError` naming what failed (never the password)."""
        import psycopg

        if not isinstance(exc, psycopg.Error):
            return exc
        text = redact(_message(exc), *self._secrets)
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return EngineError(f"PostgreSQL refused user {self.url.user!r}: {text}; ask for SELECT on the pack's "
                               f"tables (GRANT SELECT ON ALL TABLES IN SCHEMA {self.schema} TO {self.url.user})")
        if isinstance(exc, psycopg.OperationalError):
            return EngineError(f"lost the connection to PostgreSQL at {self.url.host}:{self.url.port or 5432}: "
                               f"{text}; is the server still running?")
        return EngineError(f"PostgreSQL rejected a query: {text}")

    # ------------------------------------------------------------ Engine

    @property
    def version(self) -> str:
        """The server's version."""
        return str(self.backend.version)

    def tables(self) -> list[str]:
        """Tables and views of the pack's schema, readable or not.

        From ``pg_catalog``: ``information_schema`` hides the tables the user may not read, which
        would make a table without permission look absent instead of being named as such.
        """
        return sorted(r[0] for r in self.raw_rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')", (self.schema,)))

    def table(self, name: str) -> ibis.Table:
        """A contract view (:meth:`define`), a temporary table, or a table of the pack's schema."""
        view = self._views.get(name)
        if view is not None:
            return view
        if name in self._made:
            return self.backend.table(name)
        return self.backend.table(name, database=self.schema)

    def source_table(self, name: str) -> ibis.Table:
        """The schema's table ``name`` as it is (before its contract view)."""
        return self.backend.table(name, database=self.schema)

    def can_read(self, name: str) -> bool:
        """Whether the user may SELECT from the schema's table ``name``."""
        ((ok,),) = self.raw_rows("SELECT has_table_privilege(%s, 'SELECT')", (f'"{self.schema}"."{name}"',))
        return bool(ok)

    def to_local(self, value: ibis.Value, tz: str) -> ibis.Value:
        """A ``timestamp with time zone`` value as naive local time in ``tz``."""
        return _pg_timezone(tz, value)

    def fingerprint(self, name: str) -> str:
        """What changes when table ``name`` changes, from the catalogue only (no scan of the table).

        A table's file node (new on ``TRUNCATE`` and rewrites) and its cumulative write counters
        (``pg_stat_user_tables``: rows inserted, updated, deleted, live). A view or foreign table
        has no such counters: its fingerprint is new at every open, so a rerun recomputes it rather
        than reuse a result the view's tables may have outdated.
        """
        rows = self.raw_rows(
            "SELECT c.relkind, c.relfilenode, coalesce(s.n_tup_ins, 0), coalesce(s.n_tup_upd, 0), "
            "coalesce(s.n_tup_del, 0), coalesce(s.n_live_tup, 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE n.nspname = %s AND c.relname = %s",
            (self.schema, name))
        if not rows or rows[0][0] not in ("r", "p", "m"):
            return f"volatile-{time.time_ns()}-{os.getpid()}"
        return "|".join(map(str, rows[0]))

    # ------------------------------------------------------------ loading (opsnb load)

    def load_arrow(self, name: str, batches: pa.RecordBatchReader) -> int:
        """Create (or replace) table ``name`` in the pack's schema and copy ``batches`` into it (``COPY … CSV``).

        One transaction: a load cut short leaves the previous table as it was. Returns the rows copied.
        """
        import pyarrow as pa
        import pyarrow.csv as pcsv

        cur_schema = self.schema
        with self.raw.cursor() as cur:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{cur_schema}"')  # type: ignore[arg-type]
        columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in batches.schema)
        target = f'"{cur_schema}"."{name}"'
        n = 0
        with self.raw.transaction(), self.raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {target}")  # type: ignore[arg-type]
            cur.execute(f"CREATE TABLE {target} ({columns})")  # type: ignore[arg-type]
            for batch in batches:
                n += batch.num_rows
                buf = io.BytesIO()
                pcsv.write_csv(pa.Table.from_batches([batch]), buf,
                               pcsv.WriteOptions(include_header=False, quoting_style="needed"))
                with cur.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv)") as copy:  # type: ignore[arg-type]
                    copy.write(buf.getvalue())
            cur.execute(f"ANALYZE {target}")  # type: ignore[arg-type]
        return n


def _pg_type(t: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "double precision"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"  # type: ignore[attr-defined]
    if pa.types.is_date(t):
        return "date"
    return "text"


def password_from(env_name: str | None, url: PackURL) -> str:
    """The password for ``url``: environment variable ``env_name``, else one set aside for this URL
    (:func:`opsnb.pack.url.set_aside`); empty: libpq's own ``PGPASSWORD`` and ``~/.pgpass``."""
    if not env_name:
        return os.environ.get(url.stash, "")
    value = os.environ.get(env_name)
    if value is None:
        raise EngineError(f"the pack's password_env names {env_name!r}, but that environment variable is not set")
    return value
