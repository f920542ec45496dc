"""Warehouse packs on a real PostgreSQL server, started by the test session on a free local port.

The parity pack (the sample at :data:`tests.parity.PARITY_SCALE`, which asks every query the scale-0.1
pack asks: ``test_parity_pack.py``) is copied into a schema with ``opsnb load``; then every section computed there must
show exactly what it shows on DuckDB, the full batch must publish the same HTML (bar the engine
rows), every known engine difference is pinned by name on tiny tables, and every bad input of the
issue gets its clear error. The password is planted in the URL and grepped for in every output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import ibis
import pandas as pd
import pytest

from opsnb import batch, cli
from opsnb.errors import PackError
from opsnb.pack import open_pack, validate_pack
from opsnb.pack.engine import EngineError, QueryTimeout, RowCapExceeded
from opsnb.pack.url import parse
from opsnb.periods import Period
from tests.parity import assert_same_shown, assert_same_usage, parity_pack, published, shown
from tests.servers import PG_PASSWORD, PgServer, postgres

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with postgres() as server:
        server.sql("CREATE DATABASE shop")
        yield server


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return parity_pack(tmp_path_factory.mktemp("pack") / "sample")


@pytest.fixture
def pgpass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The password as libpq reads it: the environment, never the URL."""
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)


@pytest.fixture(scope="module")
def url(pg: PgServer, folder: Path) -> str:
    """The parity pack in schema ``ops``, loaded by the command a user types (password from the environment)."""
    os.environ["PGPASSWORD"] = PG_PASSWORD
    try:
        assert cli.main(["load", str(folder), pg.url("shop", schema="ops")]) == 0
    finally:
        os.environ.pop("PGPASSWORD", None)
    return pg.url("shop", schema="ops")


# ---------------------------------------------------------------- same numbers everywhere


@pytest.fixture(scope="module")
def both(url: str, folder: Path) -> tuple[dict, dict, dict, dict]:
    os.environ["PGPASSWORD"] = PG_PASSWORD
    try:
        du: dict = {}
        pu: dict = {}
        duck = shown(str(folder), PERIOD, usage=du)
        warehouse = shown(url, PERIOD, usage=pu)
    finally:
        os.environ.pop("PGPASSWORD", None)
    return duck, warehouse, du, pu


@pytest.mark.parametrize("section", ["goals", "campaigns", "insights", "problems", "plan"])
def test_every_section_shows_the_same_on_postgres_as_on_duckdb(both, section):
    duck, warehouse, _, _ = both
    assert_same_shown(duck, warehouse, section)


def test_the_same_queries_bring_back_the_same_rows_and_never_the_tables(both):
    _, _, du, pu = both
    assert_same_usage(du, pu, "postgres")


def test_the_loaded_tables_hold_the_packs_rows(url, folder, pgpass):
    pack, local = open_pack(url), open_pack(folder)
    assert pack.engine.name == "postgres" and pack.names == local.names
    for name in local.names:
        assert int(pack.table(name).count().execute()) == int(local.table(name).count().execute()), name
    assert pack.day_range() == local.day_range()
    pack.engine.close()


def test_the_full_run_publishes_the_same_review_from_postgres_and_duckdb_and_no_password(
        url, folder, tmp_path, monkeypatch, capfd):
    for where in ("wh", "duck"):
        for d in ("params", "notebooks"):
            (tmp_path / where / d).parent.mkdir(exist_ok=True)
            (tmp_path / where / d).symlink_to(ROOT / d)
    with_password = url.replace("postgres://opsnb@", f"postgres://opsnb:{PG_PASSWORD}@")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv(parse(url).stash, "")  # where the run sets the URL's password aside (unset afterwards)
    wh = batch.run(root=tmp_path / "wh", pack=with_password, period=PERIOD, progress=False, log=print)
    duck = batch.run(root=tmp_path / "duck", pack=str(folder), period=PERIOD, progress=False, log=print)
    assert wh.ok and duck.ok
    a, b = published(duck.out_dir), published(wh.out_dir)
    assert a.keys() == b.keys() and len(a) == 6
    for page in a:
        assert a[page] == b[page], page
    manifest = json.loads((wh.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pack"]["engine"] == "postgres"
    assert manifest["pack"]["path"] == url  # no password
    for s in manifest["sections"]:
        assert s["engine"]["engine"] == "postgres" and s["engine"]["queries"] >= 1, s["section"]
        assert 0 < s["engine"]["rows"] < 10_000  # results, not tables: a tenth of the parity pack's events
    leaked = [str(p) for p in tmp_path.rglob("*") if p.is_file() and PG_PASSWORD.encode() in p.read_bytes()]
    out, err = capfd.readouterr()
    assert leaked == [] and PG_PASSWORD not in out + err


# ---------------------------------------------------------------- engine differences, pinned by name


@pytest.fixture(scope="module")
def engines(pg: PgServer) -> Iterator[tuple[ibis.BaseBackend, ibis.BaseBackend]]:
    """The same tiny tables in DuckDB and in PostgreSQL (schema ``pins``), as Ibis backends."""
    pg.sql("CREATE SCHEMA pins", db="shop")
    pg.sql("CREATE TABLE pins.t (k text, x bigint, y bigint, v double precision, "
           "ts timestamptz, d date)", db="shop")
    pg.sql("INSERT INTO pins.t VALUES ('a', 7, 2, 1.0, '2026-10-31 15:59:59+00', '2026-10-04'), "
           "('b', 1, 2, NULL, '2026-10-31 16:00:00+00', '2026-10-05'), ('a', NULL, 2, 3.0, NULL, NULL), "
           "('c', 5, 2, 3.0, '2026-10-31 16:30:00+00', '2026-10-06')", db="shop")
    duck = ibis.duckdb.connect()
    duck.raw_sql("SET TimeZone = 'UTC'")
    duck.raw_sql("CREATE TABLE t (k VARCHAR, x BIGINT, y BIGINT, v DOUBLE, ts TIMESTAMPTZ, d DATE)")
    duck.raw_sql("INSERT INTO t VALUES ('a', 7, 2, 1.0, '2026-10-31 15:59:59+00', '2026-10-04'), "
                 "('b', 1, 2, NULL, '2026-10-31 16:00:00+00', '2026-10-05'), ('a', NULL, 2, 3.0, NULL, NULL), "
                 "('c', 5, 2, 3.0, '2026-10-31 16:30:00+00', '2026-10-06')")
    warehouse = ibis.postgres.connect(host="127.0.0.1", port=pg.port, user=pg.user, password=pg.password,
                                      database="shop")
    yield duck, warehouse
    warehouse.disconnect()
    duck.disconnect()


def _both(engines, f) -> tuple[object, object]:
    duck, warehouse = engines
    return f(duck.table("t")).execute(), f(warehouse.table("t", database="pins")).execute()


def test_pin_integer_division_is_true_division_on_both(engines):
    a, b = _both(engines, lambda t: t.filter(t.k == "a").filter(t.x.notnull()).select(q=t.x / t.y))
    assert a["q"].tolist() == b["q"].tolist() == [3.5]


def test_pin_nulls_sort_last_both_ways_on_both(engines):
    for key in (lambda t: t.v, lambda t: ibis.desc(t.v)):
        a, b = _both(engines, lambda t, key=key: t.order_by([key(t), t.k]).select("k", "v"))
        assert pd.isna(a["v"].iloc[-1]) and pd.isna(b["v"].iloc[-1])
        assert a["k"].tolist() == b["k"].tolist()


def test_pin_count_distinct_ignores_nulls_on_both(engines):
    a, b = _both(engines, lambda t: t.aggregate(n=t.x.nunique(), ks=t.k.nunique()))
    assert (a["n"][0], a["ks"][0]) == (b["n"][0], b["ks"][0]) == (3, 3)


def test_pin_ntile_gives_the_first_buckets_the_extra_rows_on_both(engines):
    a, b = _both(engines, lambda t: t.select(b=ibis.ntile(3).over(order_by=[t.k, t.y, t.x])).order_by("b"))
    assert a["b"].tolist() == b["b"].tolist() == [0, 0, 1, 2]


def test_pin_quantiles_interpolate_linearly_on_both(engines):
    """Median and p90 (resolution hours on the problems page) are type 7 on both: of 1, 5, 7 the p90 is 6.6, not 7."""
    a, b = _both(engines, lambda t: t.aggregate(med=t.x.median(), p90=t.x.quantile(0.9)))
    assert a["med"][0] == b["med"][0] == 5.0
    assert a["p90"][0] == pytest.approx(6.6, abs=1e-12) and b["p90"][0] == pytest.approx(6.6, abs=1e-12)


def test_pin_weeks_start_on_monday_on_both(engines):
    # 2026-10-04 is a Sunday, 2026-10-05 a Monday
    a, b = _both(engines, lambda t: t.filter(t.d.notnull()).order_by("d").select(
        w=t.d.truncate("W"), dow=t.d.day_of_week.index()))
    assert [str(x)[:10] for x in a["w"]] == [str(x)[:10] for x in b["w"]] == ["2026-09-28", "2026-10-05", "2026-10-05"]
    assert a["dow"].tolist() == b["dow"].tolist() == [6, 0, 1]


def test_pin_a_zoned_timestamp_takes_the_asia_shanghai_day(pg: PgServer, pgpass):
    """``timestamptz`` columns are read as Shanghai wall-clock time: 16:00 UTC on Oct 31 is Nov 1 00:00 there."""
    pg.sql("CREATE SCHEMA tz", db="shop")
    pg.sql("CREATE TABLE tz.kpis (metric text, period text, target double precision)", db="shop")
    pg.sql("INSERT INTO tz.kpis VALUES ('gmv', '2026-10', 100)", db="shop")
    pg.sql("CREATE TABLE tz.orders (order_id bigint, user_id bigint, ts timestamptz, amount numeric(12,2), "
           "status text)", db="shop")
    pg.sql("INSERT INTO tz.orders VALUES (1, 10, '2026-10-31 15:59:59+00', 10.25, 'paid'), "
           "(2, 11, '2026-10-31 16:00:00+00', 20.50, 'paid')", db="shop")
    pack = open_pack(pg.url("shop", schema="tz"), tz="Asia/Shanghai")
    o = pack.table("orders")
    days = o.select(o.order_id, o.amount, day=o.ts.date()).order_by("order_id").execute()
    assert days["order_id"].tolist() == ["1", "2"]  # integer ids read as text, as the contract says
    assert [str(d)[:10] for d in days["day"]] == ["2026-10-31", "2026-11-01"]
    assert days["amount"].tolist() == [10.25, 20.5]  # numeric read as float, to the cent
    from opsnb.metrics.orders import paid_orders

    po = paid_orders(pack)
    oct_gmv = po.filter((po.ts >= pd.Timestamp("2026-10-01")) & (po.ts < pd.Timestamp("2026-11-01"))).amount.sum()
    assert float(oct_gmv.execute()) == 10.25
    pack.engine.close()


# ---------------------------------------------------------------- clear errors


def test_an_unreachable_server_names_host_and_port(folder):
    from tests.servers import free_port

    port = free_port()
    with pytest.raises(EngineError, match=rf"cannot reach PostgreSQL at 127.0.0.1:{port}.*is the server running"):
        open_pack(f"postgres://opsnb@127.0.0.1:{port}/shop?schema=ops")


def test_a_wrong_password_names_the_user_never_the_password(pg, url, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "wrong-Pa55-word")
    with pytest.raises(EngineError) as err:
        open_pack(url)
    assert "refused user 'opsnb'" in str(err.value) and "wrong-Pa55-word" not in str(err.value)
    assert "PGPASSWORD" in str(err.value)
    monkeypatch.delenv("PGPASSWORD")
    bad = url.replace("opsnb@", "opsnb:wrong-Pa55-word@")
    code = cli.main(["validate", bad])
    assert code == 2


def test_a_named_password_variable_is_used_and_a_missing_one_is_named(url, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("SHOP_PW", PG_PASSWORD)
    pack = open_pack(url + "&password_env=SHOP_PW")
    assert "kpis" in pack.names
    pack.engine.close()
    with pytest.raises(EngineError, match="'NOPE_PW'.*not set"):
        open_pack(url + "&password_env=NOPE_PW")


def test_a_missing_schema_names_the_closest_one(pg, url, pgpass):
    with pytest.raises(EngineError, match=r"schema 'opz' does not exist; did you mean 'ops'\?"):
        open_pack(url.replace("schema=ops", "schema=opz"))


def test_a_missing_table_or_column_names_what_exists(pg, url, tmp_path, pgpass):
    (tmp_path / "pack.yaml").write_text(
        f"url: {url}\ntables:\n  orders: {{table: order}}\n  users: {{table: users, columns: {{uid: user_id}}}}\n",
        encoding="utf-8")
    with pytest.raises(PackError) as err:
        open_pack(tmp_path)
    text = str(err.value)
    assert "maps table 'orders' to 'order'" in text and "did you mean 'orders'" in text
    assert "maps column 'uid'" in text and "'user_id'" in text


def test_a_column_of_the_wrong_type_is_named_with_both_types(pg, pgpass):
    pg.sql("CREATE SCHEMA badtype", db="shop")
    pg.sql("CREATE TABLE badtype.kpis (metric text, period text, target double precision)", db="shop")
    pg.sql("CREATE TABLE badtype.orders (order_id text, user_id text, ts timestamp, amount text, status text)",
           db="shop")
    with pytest.raises(PackError) as err:
        open_pack(pg.url("shop", schema="badtype"))
    text = str(err.value)
    assert "orders" in text and "column 'amount'" in text and "type string" in text and "float" in text


def test_no_permission_names_the_user_and_the_grant(pg, url, monkeypatch):
    pg.sql("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'", db="shop")
    pg.sql("GRANT USAGE ON SCHEMA ops TO reader", db="shop")
    pg.sql("GRANT SELECT ON ops.kpis TO reader", db="shop")
    monkeypatch.setenv("PGPASSWORD", "reader-pw")
    with pytest.raises(PackError) as err:
        open_pack(url.replace("opsnb@", "reader@"))
    assert "user 'reader' may not read table 'orders'" in str(err.value)
    assert "GRANT SELECT" in str(err.value)


def test_a_query_past_the_timeout_is_cancelled_with_a_clear_message(url, pgpass):
    pack = open_pack(url + "&timeout=0.2")
    e = pack.table("events")
    slow = e.cross_join(e.view()).count()  # 104k × 104k rows: many seconds
    with pytest.raises(QueryTimeout, match=r"ran longer than 0.2 s and was cancelled.*\?timeout="):
        slow.execute()
    assert int(pack.table("kpis").count().execute()) > 0  # the connection is still usable
    pack.engine.close()


def test_a_notebook_bringing_back_more_than_the_cap_fails_naming_the_query(url, pgpass, monkeypatch):
    monkeypatch.setenv("OPSNB_ROW_CAP", "1000")
    pack = open_pack(url)
    from opsnb.metrics import activity

    with pytest.raises(RowCapExceeded, match=r"opsnb\.metrics\.activity:\d+ \(.*\) brought back [\d,]+ rows"):
        for _ in range(3):
            activity.activity(pack, Period.parse(PERIOD))
    pack.engine.close()


def test_validate_checks_the_warehouse_tables_in_place(pg, url, pgpass, capsys):
    pg.sql("CREATE SCHEMA dirty", db="shop")
    pg.sql("CREATE TABLE dirty.kpis AS SELECT * FROM ops.kpis", db="shop")
    pg.sql("CREATE TABLE dirty.orders AS SELECT * FROM ops.orders", db="shop")
    pg.sql("UPDATE dirty.orders SET amount = -5 WHERE order_id = (SELECT min(order_id) FROM dirty.orders "
           "WHERE status = 'paid')", db="shop")
    dirty = pg.url("shop", schema="dirty")
    problems = validate_pack(dirty)
    neg = [p for p in problems if getattr(p, "code", "") == "negative_amount"]
    assert len(neg) == 1 and neg[0].column == "amount" and neg[0].value == -5.0 and "orders" in neg[0].file
    assert cli.main(["validate", dirty]) == 2
    assert "amount" in capsys.readouterr().out
    assert cli.main(["validate", url]) == 0


def test_a_section_over_the_row_cap_fails_alone_and_the_others_publish(url, tmp_path, monkeypatch, pgpass):
    """The cap is per notebook: insights and problems bring back ~2,400 rows each at this scale, the rest fewer."""
    for d in ("params", "notebooks"):
        (tmp_path / d).symlink_to(ROOT / d)
    monkeypatch.setenv("OPSNB_ROW_CAP", "1500")
    res = batch.run(root=tmp_path, pack=url, period=PERIOD, progress=False, log=lambda m: None)
    status = {s.section: s.status for s in res.sections}
    assert status == {"summary": "ok", "goals": "ok", "campaigns": "ok", "insights": "failed",
                      "problems": "failed", "plan": "ok"}
    failed = {s.section: s.error for s in res.sections if s.status == "failed"}
    for error in failed.values():
        assert "RowCapExceeded" in error and "over the cap of 1,500" in error and "query asked at opsnb." in error
    assert (res.out_dir / "01_goals.html").is_file() and not (res.out_dir / "03_insights.html").exists()
    manifest = json.loads((res.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {s["section"]: s["status"] for s in manifest["sections"]} == status


def test_a_table_change_changes_the_fingerprint_and_a_view_never_matches(pg, pgpass):
    pg.sql("CREATE SCHEMA fp", db="shop")
    pg.sql("CREATE TABLE fp.kpis (metric text, period text, target double precision)", db="shop")
    pg.sql("INSERT INTO fp.kpis VALUES ('gmv', '2026-10', 100)", db="shop")
    url = pg.url("shop", schema="fp")

    def prints() -> dict[str, str]:
        pack = open_pack(url)
        out = dict(pack.fingerprints)
        pack.engine.close()
        return out

    first = prints()
    assert prints() == first  # unchanged: a rerun may reuse the published sections
    pg.sql("UPDATE fp.kpis SET target = 101", db="shop")
    assert prints()["kpis"] != first["kpis"]
    pg.sql("ALTER TABLE fp.kpis RENAME TO kpis_base", db="shop")
    pg.sql("CREATE VIEW fp.kpis AS SELECT * FROM fp.kpis_base", db="shop")
    assert prints()["kpis"] != prints()["kpis"]  # a view: recomputed every run
