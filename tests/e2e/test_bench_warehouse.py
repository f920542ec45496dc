"""The warehouse part of the benchmark harness runs end to end at a tiny scale on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bench-warehouse")]
SECTIONS = {"goals", "plan"}  # goals reads user_days (a temp table on PostgreSQL); plan is the shortest


def test_warehouse_part_measures_each_engine_in_its_own_process_and_finds_the_same_rows(tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "results.json"
    rc = main(["--only", "warehouse", "--warehouse-scales", "0.02", "--warehouse-engines", "duckdb,postgres",
               "--warehouse-sections", "goals,plan", "--no-decision", "--warehouse-timeout", "300", "--work", str(tmp_path / "work"), "--out", str(out)])
    res = json.loads(out.read_text(encoding="utf-8"))
    assert rc == 0, res
    wh = res["warehouse"]
    assert wh["ok"] and not wh["errors"] and not wh["skipped"]
    for engine in ("duckdb", "postgres"):
        r = wh["runs"][engine]["0.02"]
        assert r["ok"] and set(r["sections"]) == SECTIONS
        assert r["queries"] > 30 and 0 < r["rows"] < 5_000  # aggregates, not tables (41k events)
        assert 100 < r["python_peak_mb"] < 2048 and r["total_s"] > 0
        assert wh["loads"][engine]["0.02"]["rows"]["events"] > 10_000
    assert wh["runs"]["postgres"]["0.02"]["materialise_s"] > 0  # user_days: a temp table in the engine
    assert wh["rows_equal_across_engines"]["0.02"]["equal"]
    assert not list((tmp_path / "work").glob("warehouse-*"))  # scratch (cache, Spark folder) removed
