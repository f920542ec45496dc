"""Warehouse packs on Spark: an embedded local session (``spark://local[2]``) over Parquet folders in a temp dir.

The parity pack (the sample at :data:`tests.parity.PARITY_SCALE`, which asks every query the scale-0.1
pack asks: ``test_parity_pack.py``) is copied into the warehouse with :func:`opsnb.pack.warehouse.load`
once per test session (the ``spark_lake`` fixture, shared with ``test_spark_batch.py``); then every
section computed by Spark must show exactly what it shows on DuckDB, every engine difference found
is pinned by name on tiny tables with exact values on both engines, and every bad input gets its
clear error. One Spark session serves the whole module (a JVM per process: it starts once, ~10 s)
and is stopped at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsnb.errors import PackError
from opsnb.pack import from_frames, open_pack, validate_pack
from opsnb.pack.engine import EngineError, QueryTimeout, RowCapExceeded
from opsnb.pack.expr import money_sum
from opsnb.pack.url import parse
from opsnb.pack.warehouse import load
from opsnb.periods import Period, latest_full_month
from tests.parity import assert_same_shown, assert_same_usage, shown

pytest.importorskip("pyspark")
from opsnb.pack import spark_engine  # noqa: E402 - after the skip: without pyspark there is nothing to test

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]
ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC


def _url(warehouse: Path, database: str, **options: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in options.items())
    return f"spark://local[2]?warehouse={warehouse}&database={database}{extra}"


def _reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


@pytest.fixture(scope="module", autouse=True)
def _one_session() -> Iterator[None]:
    """The module's tests share this process's Spark session; its JVM stops when they are done."""
    yield
    spark_engine.stop()


@pytest.fixture(scope="module")
def folder(spark_lake: Any) -> Path:
    return spark_lake.folder


@pytest.fixture(scope="module")
def period(folder: Path) -> str:
    return latest_full_month(open_pack(folder).last_day).label


@pytest.fixture(scope="module")
def warehouse(spark_lake: Any) -> Path:
    return spark_lake.warehouse


@pytest.fixture(scope="module")
def url(spark_lake: Any) -> str:
    """The parity pack in database ``ops`` of the warehouse, loaded as ``opsnb load`` does (once a session)."""
    target = _url(spark_lake.warehouse, "ops")
    local = open_pack(spark_lake.folder)
    assert spark_lake.url() == target and set(spark_lake.copied) == set(local.names)
    assert spark_lake.copied["events"] == int(local.table("events").count().execute()) > 100_000
    return target


@pytest.fixture
def engine(warehouse: Path) -> Iterator[object]:
    """An engine on a scratch database of the warehouse (made if absent), for tables made by a test."""
    e = spark_engine.SparkEngine.open(parse(_url(warehouse, "scratch")), create=True)
    yield e
    e.close()


# ---------------------------------------------------------------- same numbers everywhere


@pytest.fixture(scope="module")
def both(url: str, folder: Path, period: str) -> tuple[dict, dict, dict, dict]:
    du: dict = {}
    su: dict = {}
    duck = shown(str(folder), period, usage=du)
    spark = shown(url, period, usage=su)
    return duck, spark, du, su


@pytest.mark.parametrize("section", ["goals", "campaigns", "insights", "problems", "plan"])
def test_every_section_shows_the_same_on_spark_as_on_duckdb(both, section):
    duck, spark, _, _ = both
    assert_same_shown(duck, spark, section)


def test_the_same_queries_bring_back_the_same_rows_and_never_the_tables(both):
    _, _, du, su = both
    assert_same_usage(du, su, "spark")


def test_the_loaded_tables_hold_the_packs_rows_with_naive_timestamps(url, folder, warehouse):
    import pyspark.sql.types as pt

    pack, local = open_pack(url), open_pack(folder)
    assert pack.engine.name == "spark" and pack.names == local.names
    assert pack.engine.version.startswith("spark-4.")
    for name in local.names:
        assert int(pack.table(name).count().execute()) == int(local.table(name).count().execute()), name
    assert pack.day_range() == local.day_range()
    # pyarrow wrote naive timestamps (no JVM): Spark reads them back as TIMESTAMP_NTZ, the same wall-clock time
    ts = pack.engine.raw.table("events").schema["ts"].dataType
    assert isinstance(ts, pt.TimestampNTZType)
    e, le = pack.table("events"), local.table("events")
    assert e.ts.min().execute() == le.ts.min().execute() and e.ts.max().execute() == le.ts.max().execute()
    # one Parquet folder per table, nothing of a Hive metastore anywhere
    assert sorted(p.name for p in (warehouse / "ops.db").iterdir()) == local.names
    assert not list(warehouse.rglob("metastore_db")) and not (ROOT / "metastore_db").exists()
    assert not (ROOT / "derby.log").exists() and not (ROOT / "spark-warehouse").exists()


def test_fingerprints_come_from_the_file_listing_and_change_with_the_table(engine):
    t = pa.table({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})
    engine.load_arrow("kpis", _reader(t))
    first = engine.fingerprint("kpis")
    assert first == engine.fingerprint("kpis") and "part-00000.parquet" in first
    engine.load_arrow("kpis", _reader(t))
    assert engine.fingerprint("kpis") != first  # rewritten: a new file


def test_a_load_cut_short_leaves_the_previous_table(engine):
    t = pa.table({"x": pa.array(range(10), pa.int64())})
    assert engine.load_arrow("cut", _reader(t)) == 10

    def batches() -> Iterator[pa.RecordBatch]:
        yield t.to_batches()[0]
        raise OSError("the source went away")

    with pytest.raises(OSError, match="went away"):
        engine.load_arrow("cut", pa.RecordBatchReader.from_batches(t.schema, batches()))
    assert "cut" in engine.tables()
    assert int(engine.table("cut").count().execute()) == 10
    assert not [p for p in engine.folder.iterdir() if p.name.startswith(".")]  # no half-written folder left


# ---------------------------------------------------------------- engine differences, pinned by name

#: The same tiny table in DuckDB and in Spark. ``ts`` is time-zone aware (a Spark TIMESTAMP, an instant).
TINY = pa.table({
    "k": ["a", "b", "a", "c"],
    "x": pa.array([7, 1, None, 5], pa.int64()),
    "y": pa.array([2, 2, 2, 2], pa.int64()),
    "z": pa.array([0, 1, 0, 2], pa.int64()),
    "v": pa.array([1.0, None, 3.0, 3.0], pa.float64()),
    "f": pa.array([2.7, 1.5, -2.5, 0.285], pa.float64()),
    "ts": pa.array([dt.datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), dt.datetime(2026, 10, 31, 16, tzinfo=UTC),
                    None, dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    "d": pa.array([dt.date(2026, 10, 4), dt.date(2026, 10, 5), None, dt.date(2026, 10, 6)], pa.date32()),
})


@pytest.fixture(scope="module")
def engines(warehouse: Path) -> Iterator[tuple[ibis.BaseBackend, object]]:
    duck = ibis.duckdb.connect()
    duck.raw_sql("SET TimeZone = 'UTC'")
    duck.create_table("t", TINY)
    spark = spark_engine.SparkEngine.open(parse(_url(warehouse, "pins")), create=True)
    spark.load_arrow("t", _reader(TINY))
    yield duck, spark
    spark.close()
    duck.disconnect()


def _both(engines, f) -> tuple[pd.DataFrame, pd.DataFrame]:
    duck, spark = engines
    return f(duck.table("t")).execute(), f(spark.table("t")).execute()


def test_pin_integer_division_is_true_division_on_both(engines):
    a, b = _both(engines, lambda t: t.filter(t.k == "a").filter(t.x.notnull()).select(q=t.x / t.y))
    assert a["q"].tolist() == b["q"].tolist() == [3.5]


def test_pin_nulls_sort_last_both_ways_on_both(engines):
    """Spark's own default is NULLS FIRST ascending; Ibis writes NULLS LAST out on every engine."""
    for key in (lambda t: t.v, lambda t: ibis.desc(t.v)):
        a, b = _both(engines, lambda t, key=key: t.order_by([key(t), t.k]).select("k", "v"))
        assert pd.isna(a["v"].iloc[-1]) and pd.isna(b["v"].iloc[-1])
        assert a["k"].tolist() == b["k"].tolist()


def test_pin_count_distinct_ignores_nulls_on_both(engines):
    a, b = _both(engines, lambda t: t.aggregate(n=t.x.nunique(), ks=t.k.nunique(), w=t.k.nunique(where=t.z > 0)))
    assert (a["n"][0], a["ks"][0], a["w"][0]) == (b["n"][0], b["ks"][0], b["w"][0]) == (3, 3, 2)


def test_pin_ntile_gives_the_first_buckets_the_extra_rows_on_both(engines):
    a, b = _both(engines, lambda t: t.select(b=ibis.ntile(3).over(order_by=[t.k, t.y, t.x])).order_by("b"))
    assert a["b"].tolist() == b["b"].tolist() == [0, 0, 1, 2]


def test_pin_ntile_ties_in_an_rfm_score_break_by_user_on_both(warehouse):
    """Seven customers, five with one ¥10 order: who gets which frequency and money quintile is decided by user_id."""
    from opsnb.metrics.rfm import rfm_scores

    users = [f"u{i}" for i in range(1, 8)]
    amounts = {"u1": [10.0], "u2": [10.0], "u3": [10.0, 5.0], "u4": [10.0], "u5": [10.0], "u6": [30.0, 30.0],
               "u7": [8.0]}
    rows = [(f"o{u}{j}", u, pd.Timestamp("2026-10-01") + pd.Timedelta(days=i), a, "paid")
            for i, u in enumerate(users) for j, a in enumerate(amounts[u])]
    frames = {"orders": pd.DataFrame(rows, columns=["order_id", "user_id", "ts", "amount", "status"]),
              "kpis": pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})}
    small = from_frames(frames)
    target = _url(warehouse, "rfm")
    load(small, target)
    oct26 = Period.parse("2026-10")
    a, b = (rfm_scores(p, oct26).order_by("user_id").execute() for p in (small, open_pack(target)))
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # 7 customers → quintiles of 2, 2, 1, 1, 1; the five one-order customers tie and go in user_id order
    assert b["f"].tolist() == [1, 1, 4, 2, 2, 5, 3]
    assert b["m"].tolist() == [1, 2, 4, 2, 3, 5, 1]  # u7's ¥8 first, then the four ¥10 ones by user_id


def test_pin_weeks_start_on_monday_on_both(engines):
    # 2026-10-04 is a Sunday, 2026-10-05 a Monday
    a, b = _both(engines, lambda t: t.filter(t.d.notnull()).order_by("d").select(
        w=t.d.truncate("W"), dow=t.d.day_of_week.index()))
    assert [str(x)[:10] for x in a["w"]] == [str(x)[:10] for x in b["w"]] == ["2026-09-28", "2026-10-05", "2026-10-05"]
    assert a["dow"].tolist() == b["dow"].tolist() == [6, 0, 1]


def test_pin_quantiles_interpolate_on_both(engines):
    a, b = _both(engines, lambda t: t.filter(t.x.notnull()).aggregate(med=t.x.median(), p90=t.x.quantile(0.9)))
    assert (a["med"][0], round(a["p90"][0], 9)) == (b["med"][0], round(b["p90"][0], 9)) == (5, 6.6)


def test_pin_text_sorts_in_byte_order_on_both(engines):
    """Spark compares strings as UTF-8 bytes (its default UTF8_BINARY collation), as DuckDB: capitals first, CJK last."""
    duck, spark = engines
    words = ibis.memtable({"w": ["b", "B", "中", "a", "Z"]})
    a = duck.execute(words.order_by("w"))["w"].tolist()
    b = spark.backend.execute(words.order_by("w"))["w"].tolist()
    assert a == b == ["B", "Z", "a", "b", "中"]


def test_pin_float_to_integer_casts_truncate_on_spark_and_round_on_duckdb(engines):
    """No analysis casts a fractional float to an integer; one that must rounds or floors first (same everywhere)."""
    a, b = _both(engines, lambda t: t.order_by(ibis.desc(t.f)).select(
        "f", c=t.f.cast("int64"), fl=t.f.floor().cast("int64")))
    assert a["f"].tolist() == b["f"].tolist() == [2.7, 1.5, 0.285, -2.5]
    assert a["c"].tolist() == [3, 2, 0, -2]  # DuckDB rounds, half to even
    assert b["c"].tolist() == [2, 1, 0, -2]  # Spark truncates toward zero
    assert a["fl"].tolist() == b["fl"].tolist() == [2, 1, 0, -3]


def test_pin_rounding_a_double_to_places_differs_so_analyses_round_in_python(engines):
    """Spark rounds the double's decimal text half up (0.285 → 0.29); DuckDB the binary value (0.28499… → 0.28).

    Analyses bring numbers back unrounded and round in pandas for display, the same on every engine.
    """
    a, b = _both(engines, lambda t: t.filter(t.k == "c").select(r=t.f.round(2), whole=(t.f * 10).round()))
    assert (a["r"][0], b["r"][0]) == (0.28, 0.29)
    assert a["whole"][0] == b["whole"][0] == 3.0


def test_pin_division_by_zero_fails_on_spark_as_on_postgres(engines):
    """Spark 4 is ANSI: x / 0 is an error (DuckDB gives inf or null); analyses divide by nullif(divisor, 0)."""
    duck, spark = engines
    with pytest.raises(EngineError, match=r"Spark rejected a query.*DIVIDE_BY_ZERO"):
        spark.table("t").select(q=ibis._.x / ibis._.z).execute()
    a, b = _both(engines, lambda t: t.order_by("k", "z").select(q=t.x / t.z.nullif(0)))
    assert a["q"].isna().tolist() == b["q"].isna().tolist() == [True, True, False, False]
    assert a["q"].dropna().tolist() == b["q"].dropna().tolist() == [1.0, 2.5]


def test_pin_a_cached_table_keeps_the_types_ibis_gave_it(engines):
    """Spark's row_number() is an INT (Ibis: int64): a cached or materialised result is cast back, so it
    still unions with the expression it came from (the attribution paths do exactly that)."""
    _, spark = engines
    t = spark.table("t")
    ranked = t.select("k", pos=ibis.row_number().over(order_by=[t.k, t.z]))
    cached = ranked.cache()
    try:
        assert cached.schema()["pos"] == ibis.dtype("int64")
        both = cached.union(ranked, distinct=False)
        assert int(both.count().execute()) == 8
    finally:
        cached.release()
    made = spark.materialise("__ranked", ranked)
    assert made.schema() == ranked.schema()


def test_pin_money_sums_are_exact_whatever_the_order_on_both(engines, warehouse):
    """1e16 + 1 − 1e16 is 0 or 1 in float by the order rows come in; as DECIMAL(38, 6) it is 1 on both."""
    duck, spark = engines
    money = pa.table({"amount": pa.array([1e16, 1.0, -1e16, 0.1, 0.2], pa.float64())})
    duck.create_table("money", money)
    spark.load_arrow("money", _reader(money))
    a = duck.table("money").aggregate(s=money_sum(ibis._.amount)).execute()["s"][0]
    b = spark.table("money").aggregate(s=money_sum(ibis._.amount)).execute()["s"][0]
    assert a == b == 1.3


def test_pin_a_zoned_timestamp_takes_the_asia_shanghai_day(warehouse, tmp_path):
    """A Spark TIMESTAMP is an instant: 16:00 UTC on Oct 31 is Nov 1 00:00 in Shanghai, November's.

    Read as a plain timestamp it would be Oct 31 (Ibis's PySpark backend calls both kinds of timestamp
    naive): the engine marks it UTC so the contract view converts it with ``from_utc_timestamp``.
    The same Parquet file read as a file pack by DuckDB gives the same days.
    """
    orders = pa.table({
        "order_id": pa.array([1, 2], pa.int64()), "user_id": pa.array([10, 11], pa.int64()),
        "ts": pa.array([dt.datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), dt.datetime(2026, 10, 31, 16, tzinfo=UTC)],
                       pa.timestamp("us", tz="UTC")),
        "amount": [10.25, 20.5], "status": ["paid", "paid"]})
    kpis = pa.table({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})
    target = _url(warehouse, "tz")
    e = spark_engine.SparkEngine.open(parse(target), create=True)
    for name, table in (("orders", orders), ("kpis", kpis)):
        e.load_arrow(name, _reader(table))
    assert e.source_table("orders").schema()["ts"] == ibis.dtype("timestamp('UTC')")
    e.close()
    files = tmp_path / "files"
    files.mkdir()
    pq.write_table(orders, files / "orders.parquet")
    pq.write_table(kpis, files / "kpis.parquet")
    from opsnb.metrics.orders import paid_orders

    for where in (target, files):
        pack = open_pack(where, tz="Asia/Shanghai")
        o = pack.table("orders")
        days = o.select(o.order_id, o.amount, day=o.ts.date()).order_by("order_id").execute()
        assert days["order_id"].tolist() == ["1", "2"], where  # integer ids read as text, as the contract says
        assert [str(d)[:10] for d in days["day"]] == ["2026-10-31", "2026-11-01"], where
        po = paid_orders(pack)
        oct_gmv = po.filter((po.ts >= pd.Timestamp("2026-10-01")) & (po.ts < pd.Timestamp("2026-11-01"))).amount.sum()
        assert float(oct_gmv.execute()) == 10.25, where


# ---------------------------------------------------------------- clear errors


def _in_a_fresh_process(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=240)


def test_no_java_says_what_to_install(url, tmp_path):
    code = ("from opsnb.pack import open_pack\n"
            "from opsnb.pack.engine import EngineError\n"
            "try:\n"
            f"    open_pack({url!r})\n"
            "except EngineError as e:\n"
            "    print(e)\n")
    base = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PATH")}
    base["PYTHONPATH"] = str(ROOT)
    no_java = _in_a_fresh_process(code, {**base, "PATH": str(tmp_path)}, tmp_path)
    assert "there is none on this machine" in no_java.stdout, no_java.stderr
    assert "apt-get install openjdk-17-jre-headless" in no_java.stdout and "make system" in no_java.stdout
    nowhere = _in_a_fresh_process(code, {**base, "PATH": os.environ["PATH"], "JAVA_HOME": str(tmp_path / "jdk")},
                                  tmp_path)
    assert f"JAVA_HOME={tmp_path / 'jdk'} has no bin/java" in nowhere.stdout, nowhere.stderr
    assert "openjdk-17-jre-headless" in nowhere.stdout


def test_a_missing_database_names_the_closest_one(url, warehouse):
    with pytest.raises(EngineError, match=r"database 'opz' has no folder .*did you mean database=ops\?"):
        open_pack(_url(warehouse, "opz"))


def test_a_missing_warehouse_or_none_at_all_is_named(tmp_path):
    with pytest.raises(EngineError, match=r"the warehouse folder .*nowhere does not exist.*opsnb load"):
        open_pack(_url(tmp_path / "nowhere", "ops"))
    with pytest.raises(EngineError, match=r"names its warehouse folder: spark://local\[2\]\?warehouse="):
        open_pack("spark://local[2]?database=ops")


def test_an_unreachable_master_names_host_and_port():
    from tests.servers import free_port

    port = free_port()
    with pytest.raises(EngineError, match=rf"cannot reach the Spark master at 127.0.0.1:{port}.*is the cluster running"):
        open_pack(f"spark://127.0.0.1:{port}?database=ops")


def test_spark_connect_without_its_client_packages_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql.connect", None)  # as if grpc and friends were not installed
    with pytest.raises(EngineError, match=r"Spark Connect needs its client packages.*pyspark\[connect\]"):
        open_pack("sc://127.0.0.1:15002?database=ops")


def test_a_missing_table_or_column_names_what_exists(url, tmp_path):
    (tmp_path / "pack.yaml").write_text(
        f"url: {url}\ntables:\n  orders: {{table: order}}\n  users: {{table: users, columns: {{uid: user_id}}}}\n",
        encoding="utf-8")
    with pytest.raises(PackError) as err:
        open_pack(tmp_path)
    text = str(err.value)
    assert "maps table 'orders' to 'order'" in text and "did you mean 'orders'" in text
    assert "maps column 'uid'" in text and "'user_id'" in text


def test_a_query_past_the_timeout_is_cancelled_with_a_clear_message(url):
    pack = open_pack(url + "&timeout=2")
    e = pack.table("events")
    slow = e.cross_join(e.view()).count()  # 104k × 104k rows: many seconds
    with pytest.raises(QueryTimeout, match=r"ran longer than 2 s and was cancelled.*\?timeout="):
        slow.execute()
    pack.engine.timeout = None  # (a loaded test machine may take 2 s for the next one too)
    assert int(pack.table("kpis").count().execute()) > 0  # the session is still usable, the next query not cancelled
    pack.engine.close()


def test_a_notebook_bringing_back_more_than_the_cap_fails_naming_the_query(url, period, monkeypatch):
    monkeypatch.setenv("OPSNB_ROW_CAP", "1000")
    pack = open_pack(url)
    from opsnb.metrics import activity

    with pytest.raises(RowCapExceeded, match=r"opsnb\.metrics\.activity:\d+ \(.*\) brought back [\d,]+ rows"):
        for _ in range(3):
            activity.activity(pack, Period.parse(period))
    pack.engine.close()


def test_validate_checks_the_warehouse_tables_in_place(folder, warehouse):
    local = open_pack(folder)
    orders = local.table("orders").to_pyarrow()
    paid = [i for i, s in enumerate(orders["status"].to_pylist()) if s == "paid"][0]
    amounts = orders["amount"].to_pylist()
    amounts[paid] = -5.0
    dirty = orders.set_column(orders.schema.get_field_index("amount"), "amount", pa.array(amounts, pa.float64()))
    target = _url(warehouse, "dirty")
    e = spark_engine.SparkEngine.open(parse(target), create=True)
    e.load_arrow("orders", _reader(dirty))
    e.load_arrow("kpis", _reader(local.table("kpis").to_pyarrow()))
    e.close()
    problems = validate_pack(target)
    neg = [p for p in problems if getattr(p, "code", "") == "negative_amount"]
    assert len(neg) == 1 and neg[0].column == "amount" and neg[0].value == -5.0 and "orders" in neg[0].file


def test_two_kernels_open_the_same_pack_at_once_without_a_metastore(url, tmp_path):
    """No Hive metastore, no Derby lock: processes read the same warehouse side by side."""
    code = ("from opsnb.pack import open_pack\n"
            f"p = open_pack({url!r})\n"
            "print(int(p.table('orders').count().execute()))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    counts = {out.strip() for out, _ in outs}
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    assert len(counts) == 1 and int(counts.pop()) > 1000
    assert not (tmp_path / "metastore_db").exists() and not (tmp_path / "derby.log").exists()
    assert not (tmp_path / "spark-warehouse").exists()
