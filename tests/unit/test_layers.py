"""Imports go one way (docs/architecture.md, "Layers"): walk every import of every module of opsnb/.

Imports inside functions count too: a lazy import is still a dependency, and hiding a cycle in a
function is how ``nb`` and ``sections`` once came to import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "opsnb"

#: Each layer may import its own and lower ranks only.
RANK = {
    "errors": 0, "paths": 0, "periods": 0, "facts": 0, "render": 0, "runfolder": 0, "invariants": 0,
    "params": 1, "notify.channels": 1,
    "pack": 2,
    "metrics": 3, "importers": 3, "sample": 3,
    "runspec": 4, "context": 4, "onboard": 4,
    "sections": 5,
    "nb": 6, "explore": 6, "workbook": 6,
    "export": 7,
    "batch": 8, "units": 8, "rollup": 8, "notify": 8, "archive": 8,
    "cli": 9,
}


def _module(p: Path) -> str:
    parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    """The room of ``module``: its package under opsnb, or a ranked room inside it (``notify.channels``)."""
    parts = module.split(".")
    inner = ".".join(parts[1:3])
    return inner if len(parts) > 2 and inner in RANK else parts[1] if len(parts) > 1 else "opsnb"


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (annotations only: no import at run time)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            out |= {id(n) for b in node.body for n in ast.walk(b)}
    return out


def _graph(*, runtime_only: bool = False) -> dict[str, set[str]]:
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    out: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        skip = _type_only(tree) if runtime_only else set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # "from opsnb.sample import brand" depends on the submodule, not on the package's __init__
                names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                         for a in node.names]
            for n in names:
                if n in mods and n != m and n != "opsnb":
                    out[m].add(n)
    return out


def test_every_layer_is_ranked():
    assert {_layer(m) for m in _graph()} - {"opsnb"} <= set(RANK)


def test_no_import_goes_up_a_layer():
    up = [f"{a} imports {b}" for a, deps in _graph().items() for b in deps
          if _layer(a) != "opsnb" and RANK[_layer(b)] > RANK[_layer(a)]]
    assert up == []


def test_the_named_rules():
    g = _graph()
    for a, deps in g.items():
        la = _layer(a)
        for b in deps:
            lb = _layer(b)
            assert not (la == "metrics" and lb in ("sections", "nb", "context", "batch")), f"{a} imports {b}"
            assert not (la == "pack" and lb in ("metrics", "sections", "render")), f"{a} imports {b}"
            assert not (la == "sections" and lb in ("nb", "batch", "explore")), f"{a} imports {b}"


def test_no_cycles_between_modules():
    """No module imports, at run time, one that imports it back (type-only imports may point down)."""
    g = _graph(runtime_only=True)
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert cycles == []


def test_the_walk_sees_lazy_imports(tmp_path):
    """The checks above can fail: a function-level import is an edge."""
    src = "def f():\n    from opsnb.nb import setup\n"
    node = ast.parse(src)
    found = [n.module for n in ast.walk(node) if isinstance(n, ast.ImportFrom)]
    assert found == ["opsnb.nb"]


def test_every_module_the_architecture_names_exists():
    """docs/architecture.md matches the rooms: every ``opsnb/…`` path and ``opsnb.…`` module it names is there."""
    import re

    doc = (PKG.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for name in sorted(set(re.findall(r"(?<![\w/.])opsnb/[\w/<>*.-]*[\w/]", doc))):
        if "<" in name or "*" in name:  # a pattern (opsnb/sections/<module>.py, opsnb/i18n/*/…)
            continue
        p = PKG.parent / name
        if not (p.exists() or p.with_suffix(".py").exists()):
            missing.append(name)
    for name in sorted(set(re.findall(r"(?<![\w/.])opsnb(?:\.[a-z_]\w*)+", doc))):
        parts = name.split(".")
        for i in range(len(parts), 1, -1):  # the longest prefix that is a module; the rest is a name in it
            base = PKG.parent.joinpath(*parts[:i])
            if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
                break
        else:
            missing.append(name)
    assert missing == []
