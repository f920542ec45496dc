"""Warehouse packs on Spark Connect (``sc://``): a real Spark Connect server, started by this module.

One server for the module (:func:`tests.servers.spark_connect`: pyspark's own ``spark-submit`` in local
mode on a free port, its process group killed at the end), whose default session time zone is
America/Los_Angeles, so a query that relied on the server's zone instead of the engine's UTC would
show it. The parity pack (the sample at :data:`tests.parity.PARITY_SCALE`, which asks every query the
scale-0.1 pack asks: ``test_parity_pack.py``) is copied in with ``opsnb load``; then every section computed through Spark
Connect must show exactly what it shows on DuckDB, ``opsnb validate`` checks the tables in place, and
the errors say what is wrong. This process runs no JVM: only the Connect client.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from opsnb import cli
from opsnb.pack import open_pack
from opsnb.pack.engine import EngineError, QueryTimeout
from opsnb.pack.url import parse
from opsnb.periods import latest_full_month
from tests.parity import SECTIONS, assert_same_shown, assert_same_usage, parity_pack, shown
from tests.servers import SparkConnectServer, free_port, spark_connect

pytest.importorskip("pyspark.sql.connect.session", exc_type=ImportError)  # grpc & co: pyspark[connect]
from opsnb.pack import spark_engine  # noqa: E402 - after the skip

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark-connect")]
UTC = dt.UTC
#: The server's default session time zone: not UTC, so the engine must set its own.
SERVER_ZONE = "America/Los_Angeles"


def _reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


@pytest.fixture(scope="module")
def server() -> Iterator[SparkConnectServer]:
    with spark_connect(conf={"spark.sql.session.timeZone": SERVER_ZONE}) as s:
        yield s


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return parity_pack(tmp_path_factory.mktemp("pack") / "sample")


@pytest.fixture(scope="module")
def period(folder: Path) -> str:
    return latest_full_month(open_pack(folder).last_day).label


@pytest.fixture(scope="module")
def url(server: SparkConnectServer, folder: Path) -> str:
    """The parity pack in database ``ops`` of the server, copied in by ``opsnb load``."""
    target = server.url("ops")
    assert cli.main(["load", str(folder), target]) == 0
    return target


@pytest.fixture
def engine(server: SparkConnectServer) -> Iterator[spark_engine.SparkEngine]:
    """An engine on a scratch database of the server (made if absent), for tables made by a test."""
    e = spark_engine.SparkEngine.open(parse(server.url("scratch")), create=True)
    yield e
    e.close()


# ---------------------------------------------------------------- same numbers everywhere


@pytest.fixture(scope="module")
def both(url: str, folder: Path, period: str) -> tuple[dict, dict, dict, dict]:
    du: dict = {}
    su: dict = {}
    duck = shown(str(folder), period, usage=du)
    connect = shown(url, period, usage=su)
    return duck, connect, du, su


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_shows_the_same_on_spark_connect_as_on_duckdb(both, section):
    duck, connect, _, _ = both
    assert_same_shown(duck, connect, section)


def test_the_same_queries_bring_back_the_same_rows_and_never_the_tables(both):
    _, _, du, su = both
    assert_same_usage(du, su, "spark")


def test_the_loaded_tables_hold_the_packs_rows_in_a_utc_session(url, folder):
    import pyspark.sql.types as pt

    pack, local = open_pack(url), open_pack(folder)
    assert pack.engine.name == "spark" and pack.names == local.names
    assert pack.engine.version.startswith("spark-4.")
    assert pack.engine.tables() == local.names  # the database's tables, not the session's temp views
    for name in local.names:
        assert int(pack.table(name).count().execute()) == int(local.table(name).count().execute()), name
    assert pack.day_range() == local.day_range()
    raw = pack.engine.raw
    assert raw.conf.get("spark.sql.session.timeZone") == "UTC"  # the engine's, not the server's default
    ts = raw.table("`ops`.`events`").schema["ts"].dataType
    assert isinstance(ts, pt.TimestampNTZType)  # naive in the pack, naive (wall-clock) in Spark
    e, le = pack.table("events"), local.table("events")
    assert e.ts.min().execute() == le.ts.min().execute() and e.ts.max().execute() == le.ts.max().execute()
    pack.engine.close()
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ  # a local Spark pack can still open in this process


def test_each_engine_has_its_own_session_so_closing_one_leaves_the_other(url):
    a, b = open_pack(url), open_pack(url)
    assert a.engine.raw.session_id != b.engine.raw.session_id
    a.engine.close()
    assert int(b.table("kpis").count().execute()) > 0
    b.engine.close()


def test_fingerprints_are_stable_and_change_with_the_table(engine):
    t = pa.table({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})
    engine.load_arrow("kpis", _reader(t))
    first = engine.fingerprint("kpis")
    assert first == engine.fingerprint("kpis") and ".parquet" in first
    engine.load_arrow("kpis", _reader(t))
    assert engine.fingerprint("kpis") != first  # rewritten: new files


def test_a_materialised_table_is_a_temp_view_of_the_session_only(engine):
    import ibis

    engine.load_arrow("t", _reader(pa.table({"k": ["a", "b", "a"]})))
    t = engine.table("t")
    made = engine.materialise("__ranked", t.select("k", pos=ibis.row_number().over(order_by=t.k)))
    assert made.schema()["pos"] == ibis.dtype("int64")  # Spark's INT cast back to Ibis's type
    assert made.pos.max().execute() == 2
    assert "__ranked" not in engine.tables() and "t" in engine.tables()


def test_a_zoned_timestamp_takes_the_asia_shanghai_day(server):
    """A Spark TIMESTAMP is an instant: 16:00 UTC on Oct 31 is Nov 1 00:00 in Shanghai (the server says LA)."""
    from opsnb.metrics.orders import paid_orders

    orders = pa.table({
        "order_id": pa.array([1, 2], pa.int64()), "user_id": pa.array([10, 11], pa.int64()),
        "ts": pa.array([dt.datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), dt.datetime(2026, 10, 31, 16, tzinfo=UTC)],
                       pa.timestamp("us", tz="UTC")),
        "amount": [10.25, 20.5], "status": ["paid", "paid"]})
    kpis = pa.table({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})
    target = server.url("tz")
    e = spark_engine.SparkEngine.open(parse(target), create=True)
    for name, table in (("orders", orders), ("kpis", kpis)):
        e.load_arrow(name, _reader(table))
    e.close()
    pack = open_pack(target, tz="Asia/Shanghai")
    o = pack.table("orders")
    days = o.select(o.order_id, day=o.ts.date()).order_by("order_id").execute()
    assert days["order_id"].tolist() == ["1", "2"]
    assert [str(d)[:10] for d in days["day"]] == ["2026-10-31", "2026-11-01"]
    po = paid_orders(pack)
    oct_gmv = po.filter((po.ts >= dt.datetime(2026, 10, 1)) & (po.ts < dt.datetime(2026, 11, 1))).amount.sum()
    assert float(oct_gmv.execute()) == 10.25
    pack.engine.close()


def test_validate_checks_the_tables_on_the_server(url, folder, server, capsys):
    assert cli.main(["validate", url]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{url}: ok")
    local = open_pack(folder)
    orders = local.table("orders").to_pyarrow()
    paid = orders["status"].to_pylist().index("paid")
    amounts = orders["amount"].to_pylist()
    amounts[paid] = -5.0
    dirty = orders.set_column(orders.schema.get_field_index("amount"), "amount", pa.array(amounts, pa.float64()))
    target = server.url("dirty")
    e = spark_engine.SparkEngine.open(parse(target), create=True)
    e.load_arrow("orders", _reader(dirty))
    e.load_arrow("kpis", _reader(local.table("kpis").to_pyarrow()))
    e.close()
    assert cli.main(["validate", target]) == 2
    out = capsys.readouterr().out
    assert "-5" in out and "amount" in out and "orders" in out


def test_a_query_past_the_timeout_is_cancelled_and_the_session_goes_on(url):
    pack = open_pack(url + "&timeout=2")
    e = pack.table("events")
    slow = e.cross_join(e.view()).count()  # 104k × 104k rows: many seconds
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"ran longer than 2 s and was cancelled.*\?timeout="):
        slow.execute()
    assert time.monotonic() - started < 60  # interrupted on the server, not run to the end
    pack.engine.timeout = None
    assert int(pack.table("kpis").count().execute()) > 0
    pack.engine.close()


# ---------------------------------------------------------------- clear errors


def test_an_unreachable_server_names_host_and_port():
    port = free_port()
    with pytest.raises(EngineError, match=rf"cannot reach the Spark Connect server at 127.0.0.1:{port} .*"
                                          r"is the Spark Connect server running, and is that its host and port\?"):
        open_pack(f"sc://127.0.0.1:{port}?database=ops")


def test_a_missing_database_names_the_closest_one(url, server):
    with pytest.raises(EngineError, match=r"database 'opz' does not exist; did you mean 'ops'\? \(databases: .*ops"):
        open_pack(server.url("opz"))


def test_a_query_error_is_spark_s_own_words(url):
    pack = open_pack(url)
    with pytest.raises(EngineError, match=r"Spark rejected a query on sc://.*DIVIDE_BY_ZERO"):
        pack.table("kpis").select(q=pack.table("kpis").target / 0).execute()
    pack.engine.close()
