"""Run the section notebooks in this process on any pack and keep what each one shows (for engine parity).

Each section notebook's code cells run with the batch's parameters, every displayed object turned
into its HTML as the kernel would; the result is, per section, the list of those HTML pieces. Two
engines computing the same review give the same pieces, bar the run metadata's engine rows.

What each section asked of its engine is kept too: every query in order (where in opsnb it was asked,
the rows it brought back), and, when asked for, what the queries were made of (:func:`shown`'s
``features``: each Ibis operation, each result type). The first proves a small pack runs the same
queries as a larger one, and a second engine the same queries as DuckDB; the second tells which
sections between them use everything the five use (:func:`covering`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("goals", "campaigns", "insights", "problems", "plan")
#: Scale of the sample pack the engine parity tests compare on (Spark, Spark Connect, PostgreSQL). Half the
#: fast-test pack (2,500 users, 100k events) so a warehouse loads it in half the time, yet it asks every query
#: the scale-0.1 pack asks, at the same places, in the same order, with the same Ibis operations and result
#: types, and every query that brings back rows at 0.1 brings back rows here
#: (``tests/integration/test_parity_pack.py`` proves it on DuckDB; at 0.02 and 0.03 the new-users check
#: finds no odd day, so one query comes back empty).
PARITY_SCALE = 0.05
#: The review period of the sample pack (its last full month).
PARITY_PERIOD = "2026-10"

#: Rows of the run metadata that name the engine (they differ by design between engines).
_ENGINE_ROWS = re.compile(r"<tr>\s*<td[^>]*>\s*(?:<div[^>]*>)?\s*(数据包|Data pack|计算引擎|Engine|数据指纹|Data fingerprint)\s*"
                          r"(?:</div>)?\s*</td>.*?</tr>",
                          re.DOTALL)


def _html(obj: Any) -> str:
    for method in ("_repr_html_", "_repr_markdown_", "_repr_svg_"):
        f = getattr(obj, method, None)
        if f is not None:
            out = f()
            return out if isinstance(out, str) else str(out)
    return repr(obj)


def shown(pack: str, period: str, *, lang: str = "zh", sections: tuple[str, ...] = SECTIONS,
          run_dir: str = "", usage: dict[str, Any] | None = None,
          features: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """What each section notebook shows on ``pack`` for ``period``: section → HTML of each displayed object.

    ``usage``: filled with section → the engine's usage (queries, rows …) and ``log``, its queries in
    order (``at``: where in opsnb each was asked; ``rows``: what it brought back). ``features``: filled
    with section → what its queries were made of (:func:`_recording`).
    """
    import IPython.display
    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from opsnb.params import NOTEBOOKS

    out: dict[str, list[str]] = {}
    original = IPython.display.display
    try:
        for sec in sections:
            pieces: list[str] = []

            def display(*objs: Any, _into: list[str] = pieces, **_: Any) -> None:
                _into.extend(_html(o) for o in objs)

            IPython.display.display = display
            nb = nbformat.read(ROOT / "notebooks" / NOTEBOOKS[sec], as_version=4)
            ns: dict[str, Any] = {"period": period, "unit": "", "pack": pack, "params_file": "", "lang": lang,
                                  "run_dir": run_dir, "display": display}
            made: set[str] = set()
            with _recording(made) if features is not None else contextlib.nullcontext():
                for cell in nb.cells:
                    if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                        exec(compile(cell.source, f"<{sec}>", "exec"), ns)
            plt.close("all")
            ctx = ns.get("ctx")
            if usage is not None and ctx is not None:
                u = ctx.pack.engine.usage
                usage[sec] = {**u.as_dict(), "log": [{"at": q["at"], "rows": q["rows"]} for q in u.log]}
            if features is not None:
                features[sec] = made
            out[sec] = [_normalise(p) for p in pieces]
    finally:
        IPython.display.display = original
    return out


def published(folder: Path) -> dict[str, str]:
    """Each published HTML page of a run folder with what differs by design between engines and runs blanked:
    the engine rows of the run metadata, the run stamp, fingerprints and SVG ids."""
    out = {}
    for page in sorted(Path(folder).glob("*.html")):
        html = _ENGINE_ROWS.sub("", page.read_text(encoding="utf-8"))
        html = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "STAMP", html)
        out[page.name] = re.sub(r"[0-9a-f]{16}", "HASH", html)
    return out


def _normalise(html: str) -> str:
    """Drop what differs by design: the engine rows of the run metadata, matplotlib's random SVG ids."""
    html = _ENGINE_ROWS.sub("", html)
    return re.sub(r'(id|href|clip-path)="[#]?(url\(#)?[a-z]*[0-9a-f]{8,}\)?"', r'\1=""', html)


def assert_same_shown(duck: dict[str, list[str]], other: dict[str, list[str]], section: str) -> None:
    """``section`` shows the same objects, in the same order, on both engines (and shows more than a few)."""
    assert len(duck[section]) == len(other[section]) > 5
    for i, (a, b) in enumerate(zip(duck[section], other[section], strict=True)):
        assert a == b, f"{section}: displayed object {i} differs"


def assert_same_usage(duck: dict[str, Any], other: dict[str, Any], engine: str) -> None:
    """Per section ``other`` ran: the same number of queries bringing back the same rows — results, never
    whole tables (under a tenth of the events table, 104k rows in the parity pack; the problems section
    brings back 5,046) — and query for query the same: asked at the same place in opsnb, in the same order,
    bringing back the same number of rows."""
    assert other and set(other) <= set(duck)
    for sec in other:
        assert other[sec]["engine"] == engine and duck[sec]["engine"] == "duckdb"
        assert other[sec]["queries"] == duck[sec]["queries"] > 10, sec  # each query counted once, to_pyarrow too
        assert other[sec]["rows"] == duck[sec]["rows"] < 10_000, sec
        assert other[sec]["log"] == duck[sec]["log"], f"{sec}: the queries asked differ"


def queries(usage: dict[str, Any], section: str) -> list[str]:
    """Where in opsnb each query of ``section`` was asked, in order."""
    return [q["at"] for q in usage[section]["log"]]


def parity_pack(out: Path) -> Path:
    """The sample pack at :data:`PARITY_SCALE` written into folder ``out`` (generating it takes well under a second)."""
    from opsnb.sample import generate

    generate(out, scale=PARITY_SCALE)
    return out


@contextlib.contextmanager
def _recording(into: set[str]) -> Iterator[None]:
    """Record what each query run while inside is made of: ``op:<Ibis operation>`` for every node of the
    expression, ``type:<kind>:<type>`` for each result column (or the scalar or column itself),
    ``memtable`` (a frame of this process sent to the engine), ``cache`` (a result kept in the engine).

    These are engine-independent (they are the expressions opsnb builds, before any compiler), so
    recording them on DuckDB says what any engine is asked to do.
    """
    import ibis.expr.operations as ops
    import ibis.expr.types as ir

    originals = {name: getattr(ir.Expr, name) for name in ("execute", "to_pyarrow")}
    cache = ir.Table.cache

    def note(expr: ir.Expr) -> None:
        if isinstance(expr, ir.Table):
            into.update(f"type:table:{t}" for t in expr.schema().types)
        else:
            into.add(f"type:{type(expr).__name__}:{expr.type()}")
        nodes = expr.op().find(ops.Node)
        into.update(f"op:{type(n).__name__}" for n in nodes)
        if any(isinstance(n, ops.InMemoryTable) for n in nodes):
            into.add("memtable")

    def wrap(name: str) -> Any:
        def run(self: ir.Expr, *args: Any, **kwargs: Any) -> Any:
            note(self)
            return originals[name](self, *args, **kwargs)

        return run

    def cached(self: ir.Table, *args: Any, **kwargs: Any) -> Any:
        into.add("cache")
        return cache(self, *args, **kwargs)

    try:
        for name in originals:
            setattr(ir.Expr, name, wrap(name))
        ir.Table.cache = cached  # type: ignore[method-assign]
        yield
    finally:
        for name, f in originals.items():
            setattr(ir.Expr, name, f)
        ir.Table.cache = cache  # type: ignore[method-assign]


def covering(features: dict[str, set[str]], sections: Iterable[str]) -> set[str]:
    """What the five sections' queries use that ``sections``' queries do not (empty: they cover it all)."""
    everything = set().union(*features.values())
    return everything - set().union(*(features[s] for s in sections))
