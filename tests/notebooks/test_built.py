"""The committed notebooks are exactly what ``scripts/build_notebooks.py`` writes (no hand edits drift)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

from opsnb.params import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[2]


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_notebooks_equal_the_generated_ones():
    build = _builder().build
    for section, name in NOTEBOOKS.items():
        committed = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        generated = nbformat.writes(build(section, True)) + "\n"
        assert committed == generated, f"notebooks/{name} differs from scripts/build_notebooks.py: run it again"
