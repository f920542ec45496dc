"""Ingest (opsnb.pack): types after ingest, timezones, checks, cache, Parquet fast path, DuckDB packs."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import opsnb.pack.core as core
from opsnb.errors import NoData, PackError
from opsnb.pack import format_problems, from_frames, open_pack, validate_pack
from opsnb.pack.problems import PackProblem, is_error

KPIS = "metric,period,target\ngmv,2026-10,100\n"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))


def _orders(**kw):
    base = {"order_id": ["1", "2"], "user_id": ["u1", "u2"], "ts": ["2026-10-01", "2026-10-02"], "amount": [1.0, 2.0]}
    base.update(kw)
    return pd.DataFrame(base)


def test_aware_timestamp_becomes_local_day():
    pack = from_frames({"orders": _orders(ts=["2026-01-31T20:00:00Z", "2026-01-31 20:00:00"])})
    ts = pack.table("orders").ts.execute().tolist()
    assert ts == [pd.Timestamp("2026-02-01 04:00:00"), pd.Timestamp("2026-01-31 20:00:00")]
    assert str(pack.day_range()) == "(datetime.date(2026, 1, 31), datetime.date(2026, 2, 1))"


def test_aware_datetime_dtype_is_converted():
    ts = pd.Series(pd.to_datetime(["2026-01-31T20:00:00Z", "2026-02-01T00:00:00Z"]))
    pack = from_frames({"orders": _orders(ts=ts)}, tz="America/New_York")
    assert pack.table("orders").ts.execute().tolist() == [pd.Timestamp("2026-01-31 15:00"),
                                                           pd.Timestamp("2026-01-31 19:00")]


def test_ids_never_become_floats():
    pack = from_frames({"orders": _orders(order_id=[123.0, 4.0], user_id=[7, 8])})
    t = pack.table("orders").execute()
    assert t.order_id.tolist() == ["123", "4"] and t.user_id.tolist() == ["7", "8"]


def test_types_after_ingest():
    pack = from_frames({"users": pd.DataFrame({"user_id": ["007"], "signup_at": ["2026/10/01 8:05"],
                                               "is_member": ["是"]}),
                        "kpis": pd.DataFrame({"metric": ["conversion_rate"], "period": ["2026-10"],
                                              "target": ["15%"]})})
    u = pack.table("users").execute()
    assert u.user_id[0] == "007" and u.signup_at[0] == pd.Timestamp("2026-10-01 08:05") and bool(u.is_member[0])
    assert pack.table("kpis").target.execute().tolist() == [0.15]


def test_negative_amount_needs_refund_status():
    ok = from_frames({"orders": _orders(amount=[5.0, -5.0], status=["paid", "refunded"])})
    assert ok.table("orders").amount.sum().execute() == 0.0
    with pytest.raises(PackError) as exc:
        from_frames({"orders": _orders(amount=[5.0, -5.0], status=["paid", None])})
    (p,) = exc.value.problems
    assert (p.file, p.column, p.line, p.value) == ("<orders>", "amount", 2, -5.0)


def test_every_problem_of_a_frame_at_once():
    with pytest.raises(PackError) as exc:
        from_frames({"orders": _orders(ts=["bad", "2026-10-01"], amount=["x", "1,200"], order_id=["1", "1"])})
    codes = sorted(p.code for p in exc.value.problems)
    assert codes == ["duplicate_key", "not_datetime", "not_number"]


def test_missing_table_raises_nodata():
    pack = from_frames({"orders": _orders()})
    with pytest.raises(NoData):
        pack.table("events")
    assert pack.names == ["orders"] and pack.has("orders") and not pack.has("users")


def test_problem_fields_are_structured(tmp_path):
    (tmp_path / "kpis.csv").write_text(KPIS)
    (tmp_path / "orders.csv").write_text("order_id,user_id,ts,amount\nA1,u1,2026-10-01,abc\n")
    (p,) = [p for p in validate_pack(tmp_path) if is_error(p)]
    assert isinstance(p, PackProblem)
    assert (p.file, p.column, p.line, p.value, p.code) == ("orders.csv", "amount", 2, "abc", "not_number")
    assert str(p).startswith("orders.csv, column 'amount', line 2: not a number (got 'abc'); expected")


def test_format_problems_groups_and_caps(tmp_path):
    (tmp_path / "kpis.csv").write_text(KPIS)
    rows = "".join(f"A{i},u1,2026-10-01,x{i}\n" for i in range(40))
    (tmp_path / "orders.csv").write_text("order_id,user_id,ts,amount\n" + rows)
    (tmp_path / "users.csv").write_text("user_id,signup_at\n1,never\n")
    text = format_problems(validate_pack(tmp_path), per_file=5)
    assert text.splitlines()[0] == "12 error(s), 0 warning(s)"  # 10 + "… and 30 more" for orders, 1 for users
    assert "orders.csv:" in text and "users.csv:" in text and "  … and 6 more" in text
    assert "… and 30 more (not_number)" in format_problems(validate_pack(tmp_path))
    assert format_problems([]) == "no problems found"
    assert format_problems([], "zh") == "未发现问题"


def test_validate_never_raises_on_corrupt_files(tmp_path):
    (tmp_path / "kpis.csv").write_text(KPIS)
    (tmp_path / "orders.xlsx").write_bytes(b"not a zip")
    (tmp_path / "events.parquet").write_bytes(b"PAR1 nonsense")
    probs = validate_pack(tmp_path)
    files = sorted(p.file for p in probs)
    assert files == ["events.parquet", "orders.xlsx"]
    assert all("cannot read the file" in str(p) for p in probs)
    assert validate_pack(tmp_path / "nope")[0].code == "pack_not_found"


def test_cache_second_open_skips_coercion(tmp_path, monkeypatch):
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    (pack_dir / "kpis.csv").write_text(KPIS)
    (pack_dir / "orders.csv").write_text("order_id,user_id,ts,amount,coupon\n007,u1,2026-10-01,\"1,200\",X\n")
    first = open_pack(pack_dir)
    cache = tmp_path / "cache"
    files = sorted(cache.iterdir())
    assert sorted(p.suffix for p in files if not p.name.startswith("hash-")) == [".json", ".json", ".parquet",
                                                                                ".parquet"]  # no tmp left
    assert len([p for p in files if p.name.startswith("hash-")]) == 2  # the two files' remembered hashes

    def boom(*a, **k):
        raise AssertionError("re-coerced a cached file")

    monkeypatch.setattr(core, "_typed", boom)
    second = open_pack(pack_dir)
    assert second.fingerprint == first.fingerprint
    assert second.table("orders").execute().order_id.tolist() == ["007"]
    assert [p.code for p in second.warnings] == ["extra_column"]  # warnings survive the cache
    (pack_dir / "orders.csv").write_text("order_id,user_id,ts,amount\n008,u1,2026-10-01,5\n")
    monkeypatch.undo()
    third = open_pack(pack_dir)
    assert third.fingerprint != first.fingerprint
    assert third.table("orders").amount.execute().tolist() == [5.0]


def test_parquet_with_matching_types_is_a_view(tmp_path):
    df = pd.DataFrame({"user_id": [1, 2], "ts": pd.to_datetime(["2026-01-31T20:00:00Z", "2026-02-01T00:00:00Z"]),
                       "event": ["visit", "purchase"]})
    df.to_parquet(tmp_path / "events.parquet", index=False)
    (tmp_path / "kpis.csv").write_text(KPIS)
    pack = open_pack(tmp_path)
    views = pack.con.con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert ("events",) in views
    ev = pack.table("events").execute()
    assert ev.user_id.tolist() == ["1", "2"]
    assert ev.ts.tolist() == [pd.Timestamp("2026-02-01 04:00"), pd.Timestamp("2026-02-01 08:00")]


def test_parquet_checks_run_in_sql(tmp_path):
    df = pd.DataFrame({"order_id": ["A", "A", "B"], "user_id": ["u", "u", None],
                       "ts": pd.to_datetime(["2026-10-01"] * 3), "amount": [1.0, -2.0, 3.0]})
    df.to_parquet(tmp_path / "orders.parquet", index=False)
    (tmp_path / "kpis.csv").write_text(KPIS)
    probs = [p for p in validate_pack(tmp_path) if is_error(p)]
    got = sorted((p.code, p.column, p.line) for p in probs)
    assert got == [("duplicate_key", "order_id", None), ("empty_required", "user_id", 3),
                   ("negative_amount", "amount", 2)]


def test_duckdb_pack_is_read_only(tmp_path):
    db = tmp_path / "pack.duckdb"
    with duckdb.connect(str(db)) as c:
        c.execute("CREATE TABLE kpis AS SELECT 'gmv' AS metric, '2026-10' AS period, 100.0 AS target")
        c.execute("CREATE TABLE scratch AS SELECT 1 AS x")
    pack = open_pack(db)
    assert pack.names == ["kpis"]
    assert pack.table("kpis").target.execute().tolist() == [100.0]
    with pytest.raises(duckdb.Error):
        pack.con.con.execute("CREATE TABLE y AS SELECT 1")


def test_pack_yaml_must_be_valid(tmp_path):
    (tmp_path / "kpis.csv").write_text(KPIS)
    (tmp_path / "pack.yaml").write_text("tables: [1, 2]\n")
    (p,) = validate_pack(tmp_path)
    assert p.file == "pack.yaml" and "must be a mapping" in str(p)
