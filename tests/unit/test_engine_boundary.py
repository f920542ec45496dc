"""The engine boundary: DuckDB is imported and driven in one module of the package (and the importer)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "opsnb"
#: Modules allowed to use DuckDB directly: the engine, and the Online Retail importer (a DuckDB-based
#: file converter that writes a pack folder; it never reads a pack).
ALLOWED = {"pack/duckdb_engine.py", "importers/online_retail.py"}


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(PACKAGE).as_posix(), ast.parse(p.read_text(encoding="utf-8"), filename=str(p)))
            for p in sorted(PACKAGE.rglob("*.py"))]


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Every module an ``import`` statement names (at any depth: top level, functions, TYPE_CHECKING blocks)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def test_the_walk_sees_the_engine_and_the_importer():
    """A guard for the guard: the walk finds the imports that are allowed, so it would find others."""
    found = {path for path, tree in _modules() if any(m.split(".")[0] == "duckdb" for _, m in _imports(tree))}
    assert found == ALLOWED


def test_no_module_outside_the_engine_imports_duckdb():
    bad = [f"opsnb/{path}:{line} imports {m}" for path, tree in _modules() if path not in ALLOWED
           for line, m in _imports(tree) if m == "duckdb" or m.startswith("duckdb.") or m == "ibis.duckdb"]
    assert not bad, "DuckDB belongs behind opsnb.pack.engine (opsnb/pack/duckdb_engine.py):\n" + "\n".join(bad)


#: Each warehouse engine's driver, and the one module allowed to import it.
DRIVERS = {"psycopg": "pack/pg_engine.py", "pyspark": "pack/spark_engine.py"}


def test_each_warehouse_driver_is_imported_by_its_engine_only():
    bad = [f"opsnb/{path}:{line} imports {m}" for path, tree in _modules() for line, m in _imports(tree)
           if m.split(".")[0] in DRIVERS and DRIVERS[m.split(".")[0]] != path]
    assert not bad, "a driver belongs to its engine module (opsnb/pack/<name>_engine.py):\n" + "\n".join(bad)


def test_no_module_outside_the_engine_drives_duckdb_through_ibis_or_the_raw_connection():
    """``ibis.duckdb.connect`` and ``pack.con.con`` (the DuckDB connection under Ibis) are engine calls too."""
    bad = []
    for path, tree in _modules():
        if path in ALLOWED or path in DRIVERS.values():  # an engine module drives its own connection
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                name = _dotted(node)
                if name.startswith("ibis.duckdb") or name.endswith("con.con") or name.endswith("engine.raw"):
                    bad.append(f"opsnb/{path}:{node.lineno} uses {name}")
    assert not bad, "\n".join(bad)
