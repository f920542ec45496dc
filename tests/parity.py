"""Run the section notebooks in this process on any pack and keep what each one shows (for engine parity).

Each section notebook's code cells run with the batch's parameters, every displayed object turned
into its HTML as the kernel would; the result is, per section, the list of those HTML pieces. Two
engines computing the same review give the same pieces, bar the run metadata's engine rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("goals", "campaigns", "insights", "problems", "plan")

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
          run_dir: str = "", usage: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """What each section notebook shows on ``pack`` for ``period``: section → HTML of each displayed object."""
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
            for cell in nb.cells:
                if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                    exec(compile(cell.source, f"<{sec}>", "exec"), ns)
            plt.close("all")
            ctx = ns.get("ctx")
            if usage is not None and ctx is not None:
                usage[sec] = ctx.pack.engine.usage.as_dict()
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
    """Per section: the same number of queries bringing back the same rows — results, never whole tables
    (events alone are 200k rows at scale 0.1)."""
    for sec in duck:
        assert other[sec]["engine"] == engine and duck[sec]["engine"] == "duckdb"
        assert other[sec]["queries"] == duck[sec]["queries"] > 10, sec  # each query counted once, to_pyarrow too
        assert other[sec]["rows"] == duck[sec]["rows"] < 5_000, sec
