"""The Spark engine: a pack whose tables are Spark tables, every analysis run by Spark.

Three kinds of URL (:mod:`opsnb.pack.url`):

* ``spark://local[N]?warehouse=DIR&database=DB``: an embedded Spark session in this process
  (``N`` cores). The tables are Parquet folders ``DIR/DB.db/<table>/`` (the ``default`` database's
  are ``DIR/<table>/``, as Spark lays them out). Opening registers each folder as a temporary view
  of the engine's own session; no Hive metastore and no Derby database are used, so any number of
  kernels (processes) open the same pack at once. :meth:`SparkEngine.load_arrow` writes a table's
  folder with pyarrow (no JVM) into a hidden folder beside it, then swaps it in: a load cut short
  leaves the previous table.
* ``spark://host:7077?database=DB``: a standalone cluster's master; the tables of database ``DB`` of
  the cluster's catalog.
* ``sc://host:15002?database=DB``: a Spark Connect server (``pip install pyspark[connect]``); no JVM
  in this process. Each engine opens a session of its own on the server (its own temporary views and
  settings, released on close); the tables are those of database ``DB`` of the server's catalog.

One SparkContext per process (Spark allows no more); each engine opened on it gets its own session
(:meth:`SparkSession.newSession`: its own temporary views, UDFs and settings), so closing an engine
drops its views and never stops the context another pack may use. The session runs in UTC, so a
Spark ``TIMESTAMP`` and a ``TIMESTAMP_NTZ`` (what naive Arrow timestamps are read as) hold the
same wall-clock time; a ``TIMESTAMP`` column of a source table is an instant (Ibis is told it is
UTC), and its contract view turns it into the pack's local time with ``from_utc_timestamp``.
Needs a Java runtime (17 or 21) on the machine: ``JAVA_HOME`` or ``java`` on ``PATH``.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import ibis
import ibis.expr.datatypes as dt

from opsnb.pack.engine import EngineError, IbisEngine
from opsnb.pack.url import PackURL
from opsnb.paths import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Seconds to wait for a Spark master (or Connect server) to accept a connection.
CONNECT_TIMEOUT = 5
#: Settings of the embedded session (local mode). Small shuffles: a review's queries aggregate
#: a few million rows at most, and each kernel of a batch runs its own session.
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
#: Spark's default port per scheme.
DEFAULT_PORTS = {"spark": 7077, "sc": 15002}
#: A log4j2 configuration: errors only, to stderr (Spark's default prints warnings and banners).
_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""

#: pyspark's warning beside a query that failed while its result came back through Arrow.
_ARROW_FAILED = r"toPandas attempted Arrow optimization"
#: Spark Connect's warning each time Ibis makes a frame of an in-memory table (the option is classic-only).
_NO_VERIFY = r"'verifySchema' is ignored"

_LOCK = threading.Lock()
#: The process's root session (engines use sessions made from it).
_ROOT: Any = None
#: Every Spark Connect session this process opened, kept to the end of the process. pyspark's
#: ``SparkSession.__del__`` closes the session's client, and closing any client shuts down the thread
#: pool every session shares (``ExecutePlanResponseReattachableIterator.shutdown``): run by the garbage
#: collector in the middle of another engine's query, it fails that query with "cannot schedule new
#: futures after shutdown". :meth:`SparkEngine.close` releases the session on the server.
_CONNECT_SESSIONS: list[Any] = []


@ibis.udf.scalar.builtin(name="from_utc_timestamp",
                         signature=((dt.Timestamp(timezone="UTC"), dt.string), dt.timestamp))
def _from_utc_timestamp(ts, zone):  # type: ignore[no-untyped-def]
    """Spark's ``from_utc_timestamp(ts, zone)``: the wall-clock time in ``zone`` of the instant ``ts``."""


def _message(exc: BaseException) -> str:
    """A Spark error's own words on one line: the root cause of a JVM error, without stack traces or SQL."""
    java = getattr(exc, "java_exception", None)
    if java is not None:  # a py4j error: the innermost cause says what happened
        try:
            while java.getCause() is not None:
                java = java.getCause()
            text = str(java.getMessage() or java.toString())
        except Exception:  # noqa: BLE001 - the JVM is gone: py4j's own text then
            text = str(exc)
    else:
        text = str(exc)
    for cut in ("\nJVM stacktrace:", "\n== SQL", "\n== DataFrame", "\n\tat "):
        text = text.split(cut, 1)[0]
    state = re.match(r"(.*?SQLSTATE: \w+)", text, re.DOTALL)  # an analysis error goes on with the query plan
    return " ".join((state.group(1) if state else text).split())


def check_java() -> str:
    """The ``java`` program Spark will start (``$JAVA_HOME/bin/java``, else ``java`` on ``PATH``).

    Raises
    ------
    EngineError
        When there is none: the message says how to install one.
    """
    how = "install a Java runtime, e.g. `apt-get install openjdk-17-jre-headless`, or run `make system`"
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if os.access(java, os.X_OK):
            return str(java)
        raise EngineError(f"Spark needs Java, but JAVA_HOME={home} has no bin/java; point JAVA_HOME at a Java "
                          f"runtime (17 or 21) or unset it to use `java` on PATH, or {how}")
    found = shutil.which("java")
    if found is None:
        raise EngineError(f"Spark needs Java, and there is none on this machine (no JAVA_HOME, no `java` on "
                          f"PATH): {how}")
    return found


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pyspark's warnings that say nothing to the analyst (:data:`_ARROW_FAILED`, :data:`_NO_VERIFY`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ARROW_FAILED, category=UserWarning)
        warnings.filterwarnings("ignore", message=_NO_VERIFY, category=UserWarning)
        yield


def _reachable(host: str, port: int, what: str, running: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise EngineError(f"cannot reach the {what} at {host}:{port} ({reason}); is {running} running, and is "
                          "that its host and port?") from None


def _root_session(master: str, *, local: bool, url: PackURL) -> Any:
    """The process's SparkSession (started on first use with master ``master``; Spark allows one per process).

    Local: :data:`LOCAL_CONF`, the driver's memory from ``OPSNB_SPARK_MEMORY`` (default 1g), errors
    only in the logs. On a cluster: the cluster's catalog (a Hive metastore: ``SPARK_CONF_DIR``'s
    ``hive-site.xml``, or the URL's ``?metastore=thrift://host:9083``).

    Raises
    ------
    EngineError
        No Java, or this process already runs Spark with another master.
    """
    global _ROOT
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    with _LOCK:
        if _ROOT is not None and SparkContext._active_spark_context is not None:  # type: ignore[attr-defined]
            running = _ROOT.sparkContext.master
            if running != master and not (local and running.startswith("local")):
                raise EngineError(f"this process already runs Spark with master {running}; a pack on master "
                                  f"{master} needs another process (a new kernel)")
            return _ROOT
        check_java()
        builder = SparkSession.builder.master(master).appName("opsnb")
        log4j = Path(tempfile.gettempdir()) / "opsnb-spark-log4j2.properties"
        if not log4j.exists() or log4j.read_text(encoding="utf-8") != _LOG4J:
            atomic_write(log4j, lambda p: p.write_text(_LOG4J, encoding="utf-8"))
        conf = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}"}
        if local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            conf.update(LOCAL_CONF)
            conf["spark.driver.memory"] = os.environ.get("OPSNB_SPARK_MEMORY", "1g")
            conf["spark.sql.warehouse.dir"] = str(Path(tempfile.gettempdir()) / "opsnb-spark-warehouse")
        else:
            conf["spark.sql.catalogImplementation"] = "hive"
            if url.options.get("warehouse"):
                conf["spark.sql.warehouse.dir"] = url.options["warehouse"]
            if url.options.get("metastore"):
                conf["spark.hadoop.hive.metastore.uris"] = url.options["metastore"]
        for k, v in conf.items():
            builder = builder.config(k, v)
        _ROOT = builder.getOrCreate()
        _ROOT.sparkContext.setLogLevel("ERROR")
        _quiet_python_loggers()
        return _ROOT


def stop() -> None:
    """Stop this process's Spark context and its JVM, if one runs (tests; a kernel's ends with its process)."""
    global _ROOT
    with _LOCK:
        if _ROOT is None:
            return
        from pyspark import SparkContext

        gateway = SparkContext._gateway  # type: ignore[attr-defined]
        _ROOT.stop()
        _ROOT = None
        if gateway is not None:  # the JVM ends when its stdin closes
            proc = getattr(gateway, "proc", None)
            gateway.shutdown()
            if proc is not None:
                proc.stdin.close()
                proc.wait(timeout=30)
            SparkContext._gateway = None  # type: ignore[attr-defined]
            SparkContext._jvm = None  # type: ignore[attr-defined]


def _quiet_python_loggers() -> None:
    """pyspark logs every failed query's error on stderr (in a notebook: under the cell) before raising it
    (and warns that Arrow could not help: :data:`_ARROW_FAILED`). The error is raised anyway, and
    :meth:`SparkEngine.translate` says it once, readably.
    """
    import logging

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True


class SparkEngine(IbisEngine):
    """Spark through Ibis (pyspark): Parquet folders of a local warehouse, or a cluster catalog's database."""

    name: ClassVar[str] = "spark"

    def __init__(self, backend: ibis.BaseBackend, url: PackURL, *, folder: Path | None = None,
                 timeout: float | None = None) -> None:
        self.url = url
        #: Local mode: the database folder holding one Parquet folder per table; None on a cluster.
        self.folder = folder
        self._registered: set[str] = set()
        #: The cached frames of materialised tables (released on close).
        self._frames: dict[str, Any] = {}
        #: The number of the query running now (None: none), so :meth:`cancel` stops that query only.
        self._current: int | None = None
        self._queries = 0
        run = self._running_query(backend.execute)  # type: ignore[attr-defined]
        backend.execute = run  # type: ignore[attr-defined]
        _count_to_pyarrow_once(backend, run)
        super().__init__(backend, timeout=timeout)
        backend._create_cached_table = self._cache  # type: ignore[attr-defined]

    def _running_query(self, run: Any) -> Any:
        """``run`` (the backend's execute) marked as running, its jobs interrupted when cancelled."""
        def execute(expr: Any, /, *args: Any, **kwargs: Any) -> Any:
            if self.url.scheme != "sc":
                # the query's tasks stop at once when cancelled, not at their next row batch
                self.raw.sparkContext.setLocalProperty("spark.job.interruptOnCancel", "true")
            self._queries += 1
            self._current = self._queries
            try:
                with _quiet():
                    return run(expr, *args, **kwargs)
            finally:
                self._current = None

        return execute

    @classmethod
    def open(cls, url: PackURL, *, password: str = "", timeout: float | None = None,
             create: bool = False) -> SparkEngine:
        """Start (or join) this process's Spark session for ``url``; ``create``: make the database if absent.

        Raises
        ------
        EngineError
            No Java; a local URL without ``warehouse=`` or whose warehouse or database folder does not
            exist (the message names the closest database folder); a master or Connect server that
            does not answer; a database the cluster's catalog does not have.
        """
        database = url.schema or "default"
        if url.scheme == "spark" and url.host.startswith("local"):
            folder = _local_folder(url, database, create=create)
            session = _root_session(url.host, local=True, url=url).newSession()
            engine = cls(ibis.pyspark.connect(session), url, folder=folder, timeout=timeout)
            return engine
        port = url.port or DEFAULT_PORTS[url.scheme]
        if url.scheme == "sc":
            try:
                import pyspark.sql.connect  # noqa: F401 - the package first: a missing client fails here
                from pyspark.sql.connect.session import SparkSession as ConnectSession
            except ImportError as exc:
                raise EngineError(f"{url.shown()}: Spark Connect needs its client packages ({exc}); "
                                  "pip install 'pyspark[connect]'") from None
            _reachable(url.host, port, "Spark Connect server", "the Spark Connect server")
            # A session of this engine's own (create, not getOrCreate: closing it must not end another
            # engine's), made with Connect's builder: pyspark's generic one would switch the whole
            # process to Connect mode, and a local pack opened later in it would fail.
            session = ConnectSession.builder.remote(f"sc://{url.host}:{port}").create()
            with _LOCK:
                _CONNECT_SESSIONS.append(session)
            _quiet_python_loggers()
        else:
            _reachable(url.host, port, "Spark master", "the cluster")
            session = _root_session(f"spark://{url.host}:{port}", local=False, url=url).newSession()
        engine = cls(ibis.pyspark.connect(session), url, timeout=timeout)
        try:
            engine._check_database(create=create)
        except Exception:
            engine.close()
            raise
        return engine

    # ------------------------------------------------------------ the driver

    @property
    def raw(self) -> Any:
        """The engine's SparkSession."""
        return self.backend._session  # type: ignore[attr-defined]

    @property
    def database(self) -> str:
        """The database holding the pack's tables (the URL's ``?database=``, else ``default``)."""
        return self.url.schema or "default"

    def _check_database(self, *, create: bool) -> None:
        session = self.raw
        if create:
            session.sql(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
        if not session.catalog.databaseExists(self.database):
            names = sorted(d.name for d in session.catalog.listDatabases())
            near = difflib.get_close_matches(self.database, names, n=1, cutoff=0.5)
            raise EngineError(f"Spark at {self.url.shown()}: database {self.database!r} does not exist"
                              + (f"; did you mean {near[0]!r}?" if near else "")
                              + f" (databases: {', '.join(names) or 'none'})")

    def cancel(self) -> None:
        """Stop the running query (called from the timeout's thread).

        A query may start several Spark jobs one after another (a broadcast, then the join), so the
        jobs are cancelled until the query has returned: on Spark Connect this session's operations,
        else every job of the context (a context is this process's: one kernel's pack; Spark 4's
        classic ``interruptAll`` does not reach the jobs of ``toPandas``).
        """
        session = self.raw
        query = self._current
        while query is not None and self._current == query:
            if self.url.scheme == "sc":
                session.interruptAll()
            else:
                session.sparkContext.cancelAllJobs()
            time.sleep(0.2)

    def translate(self, exc: Exception) -> Exception:
        """pyspark and py4j errors as :class:`EngineError` naming what failed."""
        from py4j.protocol import Py4JError, Py4JNetworkError
        from pyspark.errors import PySparkException

        where = self.url.shown()
        if isinstance(exc, Py4JNetworkError) or (isinstance(exc, ConnectionError) and self.folder is not None):
            return EngineError(f"lost the Spark driver of {where} ({_message(exc)}): did it run out of memory? "
                               "(OPSNB_SPARK_MEMORY sets its memory, default 1g)")
        if isinstance(exc, PySparkException | Py4JError):
            return EngineError(f"Spark rejected a query on {where}: {_message(exc)}")
        return exc

    # ------------------------------------------------------------ Engine

    @property
    def version(self) -> str:
        """Spark's version (the server's, on a cluster)."""
        return f"spark-{self.raw.version}"

    def tables(self) -> list[str]:
        """The database's tables: local, its Parquet folders; on a cluster, its catalog's tables."""
        if self.folder is not None:
            return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and _is_table_folder(p))
        return sorted(t.name for t in self.raw.catalog.listTables(self.database) if not t.isTemporary)

    def table(self, name: str) -> ibis.Table:
        """A contract view (:meth:`define`), a materialised table, or the database's table."""
        view = self._views.get(name)
        if view is not None:
            return view
        if name in self._made:
            return self.backend.table(name)
        return self.source_table(name)

    def source_table(self, name: str) -> ibis.Table:
        """The database's table ``name`` as it is (before its contract view).

        A Spark ``TIMESTAMP`` column is an instant: its Ibis type says UTC (the session's zone), so the
        contract view converts it to local time; ``TIMESTAMP_NTZ`` stays a naive timestamp.
        """
        import ibis.expr.operations as ops
        import pyspark.sql.types as pt
        from ibis.backends.pyspark.datatypes import PySparkType

        if self.folder is not None:
            self._register(name)
            df, namespace = self.raw.table(f"`{name}`"), ops.Namespace()
        else:
            df = self.raw.table(f"`{self.database}`.`{name}`")
            namespace = ops.Namespace(database=self.database)
        fields = {}
        for f in df.schema.fields:
            t = PySparkType.to_ibis(f.dataType, nullable=f.nullable)
            if isinstance(f.dataType, pt.TimestampType):
                t = dt.Timestamp(timezone="UTC", nullable=f.nullable)
            fields[f.name] = t
        schema = ibis.schema(fields)
        return ops.DatabaseTable(name, schema=schema, source=self.backend, namespace=namespace).to_expr()

    def _register(self, name: str) -> None:
        """Local mode: the temporary view ``name`` over the table's Parquet folder (once per engine)."""
        assert self.folder is not None
        if name in self._registered:
            return
        path = self.folder / name
        if not _is_table_folder(path):
            near = difflib.get_close_matches(name, self.tables(), n=1, cutoff=0.5)
            raise EngineError(f"{self.url.shown()}: no table {name!r} (no Parquet folder {path})"
                              + (f"; did you mean {near[0]!r}?" if near else ""))
        self.raw.read.parquet(str(path)).createOrReplaceTempView(name)
        self._registered.add(name)

    def _create_temp(self, name: str, query: ibis.Table | str) -> None:
        """A cached temporary view ``name`` of the engine's session holding ``query``'s result."""
        df = self._frame(query).cache()
        df.createOrReplaceTempView(name)
        old = self._frames.pop(name, None)
        if old is not None:
            old.unpersist()
        self._frames[name] = df

    def _frame(self, query: ibis.Table | str) -> Any:
        """``query`` as a Spark DataFrame whose columns have the types Ibis gives the expression.

        Spark types some results narrower than Ibis says (``row_number()`` is an ``INT``, Ibis says
        int64): a table made from the frame would read back with Spark's types, and a union of it
        with the expression would not type-check. Columns are cast where the two disagree.
        """
        if isinstance(query, str):
            return self.raw.sql(query)
        from ibis.backends.pyspark.datatypes import PySparkType

        with _quiet():
            self.backend._run_pre_execute_hooks(query)  # type: ignore[attr-defined]
        df = self.raw.sql(self.backend.compile(query))  # type: ignore[attr-defined]
        wanted = query.schema()
        casts = {}
        for f in df.schema.fields:
            want = wanted.get(f.name)
            if want is not None and not PySparkType.to_ibis(f.dataType).copy(nullable=True).equals(
                    want.copy(nullable=True)):
                # the frame's own column (not functions.col): a classic or a Connect column, as the frame is
                casts[f.name] = df[f"`{f.name}`"].cast(PySparkType.from_ibis(want))
        return df.withColumns(casts) if casts else df

    def _cache(self, name: str, expr: ibis.Table) -> ibis.Table:
        """Ibis's ``Table.cache()`` on this engine: a cached temporary view with the expression's types."""
        df = self._frame(expr).cache()
        df.createOrReplaceTempView(name)
        self.backend._cached_dataframes[name] = df  # type: ignore[attr-defined]
        return self.backend.table(name)

    def to_local(self, value: ibis.Value, tz: str) -> ibis.Value:
        """A Spark ``TIMESTAMP`` (an instant) as naive local time in ``tz``."""
        return _from_utc_timestamp(value, tz)

    def fingerprint(self, name: str) -> str:
        """What changes when table ``name`` changes, from the file listing (never a scan, nor a count).

        Local: every Parquet file's name, size and modification time. On a cluster: the table's files
        (Spark names each written file anew) and what the catalogue says of the table (its location,
        last change, statistics).
        """
        if self.folder is not None:
            listing = []
            for p in _data_files(self.folder / name):
                st = p.stat()
                listing.append(f"{p.relative_to(self.folder / name)}:{st.st_size}:{st.st_mtime_ns}")
            return ";".join(listing)
        table = f"`{self.database}`.`{name}`"
        files = sorted(self.raw.table(table).inputFiles())
        keep = ("Location", "Created Time", "Statistics", "Table Properties")
        detail = [f"{r[0]}={r[1]}" for r in self.raw.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
                  if r[0] in keep]
        return f"{len(files)}|{';'.join(files)}|{';'.join(detail)}"

    # ------------------------------------------------------------ loading (opsnb load)

    def load_arrow(self, name: str, batches: pa.RecordBatchReader) -> int:
        """Create (or replace) table ``name`` with the rows of ``batches``; returns the rows written.

        Local: a Parquet folder written with pyarrow into a hidden folder, then swapped in (a load cut
        short leaves the previous table). On a cluster: written as table ``name__loading`` of the
        database, then renamed over the previous table.
        """
        if self.folder is not None:
            return self._load_local(name, batches)
        return self._load_cluster(name, batches)

    def _load_local(self, name: str, batches: pa.RecordBatchReader) -> int:
        import pyarrow.parquet as pq

        assert self.folder is not None
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = self.folder / f".{name}.loading-{tag}"
        tmp.mkdir(parents=True)
        n = 0
        try:
            schema = _spark_schema(batches.schema)
            with pq.ParquetWriter(tmp / "part-00000.parquet", schema, compression="snappy") as writer:
                for batch in batches:
                    n += batch.num_rows
                    writer.write_batch(_spark_batch(batch, schema), row_group_size=1 << 20)
            target = self.folder / name
            old = self.folder / f".{name}.old-{tag}"
            if target.exists():
                target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if name in self._registered:
            self._registered.discard(name)
            self._register(name)
        return n

    def _load_cluster(self, name: str, batches: pa.RecordBatchReader) -> int:
        import pyarrow as pa

        session = self.raw
        target = f"`{self.database}`.`{name}`"
        staging = f"`{self.database}`.`{name}__loading`"
        schema = _spark_schema(batches.schema)
        n = 0
        mode = "overwrite"
        def frame(table: pa.Table) -> Any:
            # naive Arrow timestamps arrive as TIMESTAMP (in the session's UTC): keep them naive
            df = session.createDataFrame(table)
            naive = {f.name: df[f"`{f.name}`"].cast("timestamp_ntz") for f in schema
                     if pa.types.is_timestamp(f.type) and f.type.tz is None}  # type: ignore[attr-defined]
            return df.withColumns(naive) if naive else df

        for batch in batches:
            n += batch.num_rows
            frame(pa.Table.from_batches([_spark_batch(batch, schema)], schema)).write.mode(mode).format(
                "parquet").saveAsTable(staging)
            mode = "append"
        if mode == "overwrite":  # no rows: an empty table of that schema
            frame(schema.empty_table()).write.mode("overwrite").format("parquet").saveAsTable(staging)
        session.sql(f"DROP TABLE IF EXISTS {target}")
        session.sql(f"ALTER TABLE {staging} RENAME TO {target}")
        return n

    def close(self) -> None:
        """Drop this engine's views and materialised tables (the process's Spark context stays for other packs).

        On Spark Connect the engine's session is released on the server, its temporary views with it;
        cached frames are unpersisted first (the server's cache is shared by all its sessions). Tables
        cached through Ibis (``Table.cache()``) are released by Ibis, with their expressions.
        """
        session = self.raw
        try:
            for df in self._frames.values():
                df.unpersist()
            if self.url.scheme == "sc":
                session.stop()
            else:
                for name in self._registered | self._made:
                    session.catalog.dropTempView(name)
        except Exception:  # noqa: BLE001 - a session already gone has nothing left to drop
            pass
        self._registered.clear()
        self._made.clear()
        self._frames.clear()


def _count_to_pyarrow_once(backend: Any, run: Any) -> None:
    """Ibis's PySpark ``to_pyarrow`` runs ``self.execute``: counted twice once both are wrapped.

    Give the backend a ``to_pyarrow`` that runs ``run`` (its ``execute`` before the counting), so a
    query counts once.
    """
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowData

    def to_pyarrow(expr: Any, /, *, params: Any = None, limit: Any = None, **kwargs: Any) -> Any:
        table_expr = expr.as_table()
        frame = run(table_expr, params=params, limit=limit, **kwargs)
        table = PyArrowData.convert_table(pa.Table.from_pandas(frame, preserve_index=False), table_expr.schema())
        return expr.__pyarrow_result__(table)

    backend.to_pyarrow = to_pyarrow


def _is_table_folder(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith((".", "_")) and not path.name.endswith(".db") \
        and bool(_data_files(path))


def _data_files(path: Path) -> list[Path]:
    """The Parquet files of a table folder (Spark's own folders too: hidden and ``_`` files skipped)."""
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*.parquet") if not any(
        part.startswith((".", "_")) for part in p.relative_to(path).parts))


def _local_folder(url: PackURL, database: str, *, create: bool) -> Path:
    """The folder of ``database`` in the URL's warehouse (``DIR/DB.db``; ``DIR`` for ``default``)."""
    raw = url.options.get("warehouse", "")
    if not raw:
        raise EngineError(f"{url.shown()}: a local Spark pack names its warehouse folder: "
                          f"spark://{url.host}?warehouse=/path/to/warehouse&database=NAME")
    warehouse = Path(raw).expanduser()
    folder = warehouse if database == "default" else warehouse / f"{database}.db"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if not warehouse.is_dir():
        raise EngineError(f"{url.shown()}: the warehouse folder {warehouse} does not exist "
                          "(load a pack into it with `opsnb load PACK URL`)")
    if not folder.is_dir():
        found = sorted(p.name[:-3] for p in warehouse.iterdir() if p.is_dir() and p.name.endswith(".db"))
        near = difflib.get_close_matches(database, found, n=1, cutoff=0.5)
        raise EngineError(f"{url.shown()}: database {database!r} has no folder {folder}"
                          + (f"; did you mean database={near[0]}?" if near else "")
                          + f" (databases in {warehouse}: {', '.join(found) or 'none'})")
    return folder


def _spark_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the types Spark reads back as written: microsecond timestamps, signed integers, plain strings."""
    import pyarrow as pa

    fields = []
    for f in schema:
        t = f.type
        if pa.types.is_timestamp(t) and t.unit == "ns":  # type: ignore[attr-defined]
            t = pa.timestamp("us", tz=t.tz)  # type: ignore[attr-defined]
        elif pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_dictionary(t):
            t = t.value_type  # type: ignore[attr-defined]
        fields.append(pa.field(f.name, t, nullable=True))
    return pa.schema(fields)


def _spark_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return batch if batch.schema.equals(schema) else batch.cast(schema, safe=False)
