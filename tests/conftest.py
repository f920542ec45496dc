"""Shared fixtures: an isolated cache per test session, the project root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["OPSNB_CACHE"] = str(tmp_path_factory.mktemp("opsnb-cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``--dist loadgroup`` working on pytest ≥ 9.2 (node ids moved from ``_nodeid`` to ``_id``).

    pytest-xdist 3.8 marks a grouped test by appending ``@<group>`` to ``item._nodeid``, which pytest
    9.2 no longer reads: every ``xdist_group`` was silently ignored, so module fixtures (whole batch
    runs) ran once on each worker. Do the same on ``_id`` when xdist's suffix did not take.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import coerce_node_id  # pytest >= 9.2 only
    except ImportError:
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid.rsplit("]", 1)[-1].rsplit("::", 1)[-1] and hasattr(item, "_id"):
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")
