"""The full batch on a Spark pack publishes the DuckDB review, page for page (bar the run stamp and the engine rows).

It reads the session's local Spark warehouse (the ``spark_lake`` fixture: the parity pack, loaded once and
shared with ``test_spark.py``) on one kernel: that every section shows on Spark exactly what it shows on
DuckDB, query for query, is proven in process by ``test_spark.py`` (on a pack that asks every query the
scale-0.1 pack asks: ``test_parity_pack.py``), and that kernels open the same warehouse side by side by its
``test_two_kernels_open_the_same_pack_at_once_without_a_metastore``. This test proves the whole path:
kernels, papermill, the summary and the published pages, from Spark.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opsnb import batch
from tests.parity import PARITY_PERIOD, published

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark-batch")]
ROOT = Path(__file__).resolve().parents[2]


def test_the_full_run_publishes_the_same_review_from_spark_and_duckdb(spark_lake: Any, tmp_path: Path) -> None:
    for where in ("spark", "duck"):
        for d in ("params", "notebooks"):
            (tmp_path / where).mkdir(exist_ok=True)
            (tmp_path / where / d).symlink_to(ROOT / d)
    spark = batch.run(root=tmp_path / "spark", pack=spark_lake.url(), period=PARITY_PERIOD, workers=1,
                      progress=False, log=lambda m: None)
    duck = batch.run(root=tmp_path / "duck", pack=str(spark_lake.folder), period=PARITY_PERIOD, progress=False,
                     log=lambda m: None)
    assert spark.ok, [(s.section, s.error) for s in spark.sections if not s.ok]
    assert duck.ok
    a, b = published(duck.out_dir), published(spark.out_dir)
    assert a.keys() == b.keys() and len(a) == 6
    for page in a:
        assert a[page] == b[page], page
    manifest = json.loads((spark.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pack"]["engine"] == "spark"
    assert all(s["engine"]["engine"] == "spark" for s in manifest["sections"])
