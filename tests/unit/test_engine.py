"""The engine interface (opsnb.pack.engine) on small in-memory packs: DuckDB, and a second engine (SQLite via Ibis)."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from ibis import _

from opsnb.pack import derived as dv
from opsnb.pack import from_frames
from opsnb.pack.checks import run_checks
from opsnb.pack.coerce import Ctx
from opsnb.pack.core import Pack
from opsnb.pack.duckdb_engine import DuckDBEngine
from opsnb.pack.engine import (
    Engine,
    EngineError,
    IbisEngine,
    LocalEngine,
    database_engine,
    engine_class,
    open_engine,
)
from opsnb.pack.schemas import SCHEMAS

EVENTS = pd.DataFrame({
    "user_id": ["u1", "u1", "u2", "u2", "u3"],
    "ts": ["2026-10-01 08:00", "2026-10-01 23:59", "2026-10-01 12:00", "2026-10-02 00:00", "2026-09-30 23:00"],
    "event": ["visit", "purchase", "visit", "visit", "visit"],
})
ORDERS = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "user_id": ["u1", "u2", "u2"],
                       "ts": ["2026-10-01 09:00", "2026-10-02 10:00", "2026-10-03 11:00"], "amount": [10.0, 20.0, 5.0]})
KPIS = pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))


def _pack() -> Pack:
    return from_frames({"events": EVENTS, "orders": ORDERS, "kpis": KPIS})


def test_a_pack_holds_an_engine_with_its_tables_and_columns():
    pack = _pack()
    engine = pack.engine
    assert isinstance(engine, Engine) and isinstance(engine, LocalEngine) and engine.name == "duckdb"
    assert pack.con is engine.backend  # the Ibis backend the analyses execute on
    assert set(pack.names) <= set(engine.tables()) and pack.names == ["events", "kpis", "orders"]
    assert engine.columns("orders") == ["order_id", "user_id", "ts", "amount"]
    assert engine.table("orders").amount.sum().execute() == 35.0


def test_materialise_a_derived_table_and_read_it_back():
    engine = _pack().engine
    o = engine.table("orders")
    big = engine.materialise("__big", o.filter(o.amount >= 10).select("order_id", "amount"))
    assert big.order_by("order_id").execute()["order_id"].tolist() == ["o1", "o2"]
    # made once per engine: a second request (a copy of the pack asking again) gets the same table
    again = engine.materialise("__big", o.filter(o.amount < 0))
    assert again.count().execute() == 2
    # replace=True builds it again; SQL in the engine's dialect is accepted too
    assert engine.materialise("__big", o.filter(o.amount < 10), replace=True).count().execute() == 1
    assert engine.materialise("__one", "SELECT 1 AS x").x.execute().tolist() == [1]


def test_check_queries_return_rows_of_python_values():
    engine = _pack().engine
    o = engine.table("orders")
    assert engine.check(o.aggregate(n=_.count(), gmv=o.amount.sum())) == [(3, 35.0)]
    assert engine.check(o.filter(o.amount > 100).select("order_id")) == []
    assert engine.check(o.order_by("order_id").select("order_id", "amount").limit(2)) == [("o1", 10.0), ("o2", 20.0)]
    assert engine.check("SELECT 2 AS x, 'a' AS y") == [(2, "a")]


def test_scratch_relation_lives_for_the_block():
    engine = DuckDBEngine.open()
    with engine.scratch("__s", pd.DataFrame({"a": [1, 2, 3]})) as rel:
        assert engine.check(rel.aggregate(s=rel.a.sum())) == [(6,)]
    with pytest.raises(Exception, match="__s"):
        engine.check('SELECT * FROM "__s"')


def test_parquet_read_in_place_with_contract_types(tmp_path):
    path = tmp_path / "events.parquet"
    pd.DataFrame({"uid": [7, 8], "ts": pd.to_datetime(["2026-01-31T20:00:00Z", "2026-02-01T00:00:00Z"]),
                  "event": ["visit", "visit"], "note": ["x", "y"]}).to_parquet(path, index=False)
    engine = DuckDBEngine.open()
    types = {c.name: c.type for c in SCHEMAS["events"].columns}
    rename = {"uid": "user_id"}
    assert engine.parquet_fits(path, rename=rename, types=types)
    rel = engine.parquet_relation(path, rename=rename, types=types, tz="Asia/Shanghai")
    assert engine.check(rel.select("user_id", "__line")) == [("7", 1), ("8", 2)]
    engine.load_parquet("events", path, rename=rename, types=types, tz="Asia/Shanghai")
    assert engine.columns("events") == ["user_id", "ts", "event", "note"]
    assert engine.table("events").ts.execute().tolist() == [pd.Timestamp("2026-02-01 04:00"),
                                                            pd.Timestamp("2026-02-01 08:00")]
    # a timestamp stored as text cannot be cast in place: the caller coerces it with pandas
    text = tmp_path / "text.parquet"
    pd.DataFrame({"user_id": ["1"], "ts": ["2026-01-31"], "event": ["visit"]}).to_parquet(text, index=False)
    assert not engine.parquet_fits(text, rename={}, types=types)


def test_store_built_and_attached_through_the_engine(tmp_path):
    pack = _pack()
    engine = pack.engine
    assert isinstance(engine, LocalEngine) and engine.store is None
    assert engine.keyed_table("orders") is None  # no store: no key
    path = tmp_path / "store.duckdb"
    engine.build_store(path, tables=pack.names, keyed=["events", "orders"],
                       derived={"__derived_user_days": dv._expr(pack, "user_days")},
                       key_column="_uk", cluster={"events": "event"}, batch_rows=1024)
    keyed = engine.attach_store(path, [*pack.names, "__derived_user_days"], key_column="_uk")
    assert keyed == {"events", "orders"} and engine.store == path
    assert engine.attach_store(path, pack.names, key_column="_uk") == {"events", "orders"}  # idempotent
    assert "_uk" not in engine.columns("orders")  # the names show the contract columns only
    k = engine.keyed_table("orders")
    assert k is not None and str(k.schema()["_uk"]) == "int32"
    assert engine.check(k.order_by("order_id").select("user_id", "_uk")) == [("u1", 0), ("u2", 1), ("u2", 1)]
    assert engine.table("__derived_user_days").n.sum().execute() == len(EVENTS)


def test_a_damaged_store_is_an_engine_error_and_stays_detached(tmp_path):
    engine = _pack().engine
    path = tmp_path / "store.duckdb"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(EngineError, match="store.duckdb"):
        engine.attach_store(path, ["orders"], key_column="_uk")
    assert engine.store is None and engine.table("orders").count().execute() == 3


def test_registry_names_the_engines_and_opens_database_files(tmp_path):
    with pytest.raises(EngineError, match=r"unknown engine 'oracle'; known: \['duckdb', 'postgres', 'spark'\]"):
        open_engine("oracle")
    assert engine_class("duckdb") is DuckDBEngine
    assert database_engine(tmp_path / "orders.csv") is None
    db = tmp_path / "pack.duckdb"
    DuckDBEngine.open(db).close()
    engine = database_engine(db)
    assert isinstance(engine, DuckDBEngine) and engine.tables() == []
    engine.close()


# ---------------------------------------------------------------- a second engine


def _sqlite_pack() -> Pack:
    """The same tables in SQLite through the generic Ibis engine: what a second engine module would give."""
    typed = _pack()
    engine = IbisEngine(ibis.sqlite.connect())
    for name in typed.names:
        engine.backend.create_table(name, typed.table(name).execute())  # type: ignore[attr-defined]
    return Pack(engine, typed.tz, "<sqlite>", dict(typed.fingerprints), typed.names)


def test_a_second_engine_serves_tables_derived_tables_and_keys():
    duck, lite = _pack(), _sqlite_pack()
    assert isinstance(lite.engine, Engine) and not isinstance(lite.engine, LocalEngine)
    assert lite.engine.columns("orders") == duck.engine.columns("orders")

    def rows(t):
        return t.execute().sort_values(["ts", "user_id"]).astype({"ts": "datetime64[us]"}).reset_index(drop=True)

    pd.testing.assert_frame_equal(rows(lite.derived("user_days")), rows(duck.derived("user_days")),
                                  check_dtype=False)
    assert lite.day_range() == duck.day_range()
    k = lite.keyed("orders").execute()  # no store: the key is the id itself
    assert k[dv.USER_KEY].tolist() == k["user_id"].tolist()
    assert not dv.ensure_store(lite)


def test_checks_give_the_same_problems_on_both_engines():
    frame = pd.DataFrame({"order_id": ["A", "A", "B", "C", "C", "C"], "user_id": ["u"] * 6,
                          "ts": pd.to_datetime(["2026-10-01"] * 6), "amount": [1.0, -2.0, 3.0, -1.0, 4.0, 5.0],
                          "status": ["paid", " PAID ", "x", "refunded", None, ""], "__line": [2, 3, 4, 5, 6, 7]})
    found = []
    for engine in (DuckDBEngine.open(), IbisEngine(ibis.sqlite.connect())):
        engine.backend.create_table("o", frame)  # type: ignore[attr-defined]
        ctx = Ctx(file="orders.csv")
        run_checks(engine, engine.table("o"), SCHEMAS["orders"], ctx, present=set(frame.columns))
        found.append([str(p) for p in ctx.problems])
    assert found[0] == found[1]
    assert [p.split(":")[0] for p in found[0]] == ["orders.csv, column 'order_id'",
                                                   "orders.csv, column 'amount', line 3",
                                                   "orders.csv, column 'status', line 4"]
    assert "'A' (lines 2, 3); 'C' (lines 5, 6, 7)" in found[0][0]


def test_a_duckdb_memory_cap_can_be_set_per_connection(monkeypatch):
    monkeypatch.setenv("OPSNB_DUCKDB_MEMORY", "512MB")
    engine = DuckDBEngine.open()
    assert engine.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("488")  # MiB
    engine.close()
    monkeypatch.delenv("OPSNB_DUCKDB_MEMORY")
    engine = DuckDBEngine.open()  # the default cap: 2 GB = 1.8 GiB
    assert engine.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"
    engine.close()
    monkeypatch.setenv("OPSNB_DUCKDB_MEMORY", "off")  # DuckDB's own default: 80 % of the machine's memory
    engine = DuckDBEngine.open()
    assert engine.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0] not in ("1.8 GiB", "488.2 MiB")
    engine.close()
