"""Every notebook is thin (STYLE.md): parameters cell, no logic, no outputs, names match the settings."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from opsnb.params import NOTEBOOKS
from opsnb.sections import subsections

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS = ["period", "unit", "pack", "params_file", "lang", "run_dir"]
FORBIDDEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.AsyncFor, ast.While, ast.If,
             ast.Try, ast.With, ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.IfExp)


@pytest.fixture(params=sorted(NOTEBOOKS.values()))
def notebook(request) -> tuple[str, nbformat.NotebookNode]:
    return request.param, nbformat.read(ROOT / "notebooks" / request.param, as_version=4)


def test_parameters_cell_declares_the_run_parameters(notebook):
    name, nb = notebook
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, name
    assert list(pm.inspect_notebook(str(ROOT / "notebooks" / name))) == PARAMETERS


def test_parameter_names_match_the_settings_model():
    from opsnb.nb import setup

    import inspect

    accepted = set(inspect.signature(setup).parameters)
    assert set(PARAMETERS) <= accepted


def test_no_logic_in_cells(notebook):
    name, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, FORBIDDEN), f"{name} cell {i}: {type(node).__name__} in a notebook"


def test_committed_without_outputs(notebook):
    name, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, name


def test_every_subsection_is_shown_once(notebook):
    name, nb = notebook
    section = next(s for s, n in NOTEBOOKS.items() if n == name)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for sub in subsections(section):
        assert source.count(f'"{sub.key}"') == 1, sub.key


def test_setup_cell_is_removed_from_html(notebook):
    name, nb = notebook
    setup = [c for c in nb.cells if "nb.setup(" in c.source]
    assert len(setup) == 1 and "remove" in setup[0].metadata.get("tags", [])
