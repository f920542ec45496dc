"""One local Spark warehouse for the test session: the parity pack loaded once, read by every Spark test module.

``test_spark`` (the sections on Spark, the errors) and ``test_spark_batch`` (the full review from Spark)
read the same tables; loading them takes a JVM and tens of seconds, so the first module to ask loads them
and the others reuse them, also from the other xdist worker (the warehouse is made under a lock in the
folder the session's workers share). Modules write their own tables in other databases of the warehouse,
never in ``ops``.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.parity import parity_pack


@dataclass(frozen=True)
class SparkLake:
    """The parity pack (``folder``) loaded into database ``ops`` of a local Spark ``warehouse``."""

    folder: Path
    warehouse: Path
    #: What :func:`opsnb.pack.warehouse.load` said it copied: table → rows.
    copied: dict[str, int]

    def url(self, database: str = "ops", **options: str) -> str:
        """A ``spark://local[2]`` pack URL of ``database`` in the warehouse."""
        extra = "".join(f"&{k}={v}" for k, v in options.items())
        return f"spark://local[2]?warehouse={self.warehouse}&database={database}{extra}"


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's folder shared by all its xdist workers (the worker's own base folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def spark_lake(tmp_path_factory: pytest.TempPathFactory) -> SparkLake:
    """The parity pack in a local Spark warehouse, loaded once per test session as ``opsnb load`` does."""
    pytest.importorskip("pyspark")
    from opsnb.pack import open_pack
    from opsnb.pack.warehouse import load

    root = _shared_folder(tmp_path_factory) / "spark-lake"
    root.mkdir(exist_ok=True)
    done = root / "copied.json"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits while one loads
        try:
            if not done.is_file():
                folder = parity_pack(root / "sample")
                lake = SparkLake(folder, root / "lake", {})
                copied = load(open_pack(folder), lake.url())
                done.write_text(json.dumps(copied), encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return SparkLake(root / "sample", root / "lake", json.loads(done.read_text(encoding="utf-8")))
