"""The full batch on a Spark pack: every kernel opens the same local Spark warehouse, and the review published
is the DuckDB one, page for page (bar the run stamp and the engine rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsnb import batch
from opsnb.pack import open_pack
from opsnb.pack.warehouse import load
from opsnb.sample import generate
from tests.parity import published

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark-batch")]
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


def test_the_full_run_publishes_the_same_review_from_spark_and_duckdb(tmp_path):
    folder = tmp_path / "sample"
    generate(folder, scale=0.1)
    url = f"spark://local[2]?warehouse={tmp_path / 'lake'}&database=ops"
    assert load(open_pack(folder), url)["events"] > 100_000
    for where in ("spark", "duck"):
        for d in ("params", "notebooks"):
            (tmp_path / where).mkdir(exist_ok=True)
            (tmp_path / where / d).symlink_to(ROOT / d)
    spark = batch.run(root=tmp_path / "spark", pack=url, period=PERIOD, progress=False, log=lambda m: None)
    duck = batch.run(root=tmp_path / "duck", pack=str(folder), period=PERIOD, progress=False, log=lambda m: None)
    assert spark.ok, [(s.section, s.error) for s in spark.sections if not s.ok]
    assert duck.ok
    a, b = published(duck.out_dir), published(spark.out_dir)
    assert a.keys() == b.keys() and len(a) == 6
    for page in a:
        assert a[page] == b[page], page
    import json

    manifest = json.loads((spark.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pack"]["engine"] == "spark"
    assert all(s["engine"]["engine"] == "spark" for s in manifest["sections"])
