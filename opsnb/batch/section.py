"""One section notebook: executed with papermill in a (warm) kernel, checked complete, exported to HTML."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.batch.kernels import stop_kernel
from opsnb.batch.results import SectionResult
from opsnb.errors import OpsnbError
from opsnb.params import NOTEBOOKS


def applicability(run_dir: Path, section: str) -> list[str] | None:
    """The missing tables that left every subsection of ``section`` empty, from its ``outcomes-<section>.json``.

    None when a subsection showed data (or no outcomes were recorded): the section is applicable.
    """
    outcomes = rf.read_record(run_dir, "outcomes", section)
    if not outcomes or any(o == "ok" for o in outcomes.values()):
        return None
    tables = sorted({o.split(":", 1)[1] for o in outcomes.values() if o.startswith("no_table:")})
    return tables or None


def _error_of(exc: BaseException) -> tuple[str, int | None]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue}", exc.cell_index
    return f"{type(exc).__name__}: {exc}", None


def _source_cell_index(executed: Path, index: int | None) -> int | None:
    """Map a cell index of the executed notebook back to the source notebook (papermill injects one cell)."""
    if index is None or not executed.is_file():
        return index
    import nbformat

    cells = [c for c in nbformat.read(executed, as_version=4).cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - 1 if injected and injected[0] < index else index


def _usage(run_dir: Path, section: str) -> dict[str, Any] | None:
    """What the section's kernel recorded of its engine use (``usage-<section>.json``), or None."""
    usage = rf.read_record(run_dir, "usage", section)
    return dict(usage) if isinstance(usage, dict) else None


def execute_section(section: str, *, nb_dir: Path, run_dir: Path, parameters: dict[str, Any], timeout_s: int,
                    lang: str, header: list[tuple[str, str]], toc_title: str, title: str,
                    km: Any = None, release: Callable[[Any, bool], None] | None = None) -> SectionResult:
    """Execute one section notebook with papermill, check it is complete, export HTML into ``run_dir``.

    ``km`` is a started kernel manager to run in (papermill starts one when None); afterwards it is
    handed to ``release(km, ok)`` (a :class:`KernelPool` recycles it) or shut down.
    """
    import nbformat
    import papermill as pm

    from opsnb.export import export_html, notebook_problems

    name = NOTEBOOKS[section]
    res = SectionResult(section, notebook=name)
    t0 = time.perf_counter()
    out_nb = run_dir / name
    extra = {"km": km} if km is not None else {"shutdown_kernel": "immediate"}
    try:
        pm.execute_notebook(with_handoff(nbformat.read(nb_dir / name, as_version=4), section), str(out_nb),
                            parameters=parameters, kernel_name="python3", progress_bar=False, log_output=False,
                            execution_timeout=timeout_s, request_save_on_cell_execute=False, **extra)
        res.execute_s = round(time.perf_counter() - t0, 2)
        res.engine = _usage(run_dir, section)
        nb = without_handoff(nbformat.read(out_nb, as_version=4))
        nbformat.write(nb, out_nb)
        problems = notebook_problems(nb)
        if problems:
            raise OpsnbError("; ".join(problems))
        t1 = time.perf_counter()
        html = export_html(nb, lang=lang, title=title, header=header, toc_title=toc_title)
        html_name = "index.html" if section == "summary" else name.replace(".ipynb", ".html")
        tmp = run_dir / f".{html_name}.tmp"
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, run_dir / html_name)
        res.html = html_name
        res.export_s = round(time.perf_counter() - t1, 2)
        res.status = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure of one section is recorded, the others go on
        res.status = "failed"
        res.error, res.failing_cell = _error_of(exc)
        res.failing_cell = _source_cell_index(out_nb, res.failing_cell)
        if not isinstance(exc, OpsnbError):
            res.error += "\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]
    finally:
        if release is not None:
            release(km, res.status == "ok")
        elif km is not None:
            stop_kernel(km)
    res.duration_s = round(time.perf_counter() - t0, 2)
    return res


#: The tag of the cell the batch appends to a section notebook that hands results to the summary page.
HANDOFF_TAG = "opsnb-handoff"


def with_handoff(nb: Any, section: str) -> Any:
    """``nb`` with a last cell that writes the section's hand-offs for the summary page and its engine use.

    The batch adds it (the notebooks in git stay free of it, and a notebook opened in JupyterLab does
    not write into a run folder): the section's kernel already holds the results, so handing them
    over there costs nothing, while the summary kernel recomputing them would sit on the critical path.
    The cell also writes ``usage-<section>.json`` (:meth:`opsnb.context.Context.save_usage`): the
    queries the section ran in the pack's engine and the rows they brought back, for the manifest.
    """
    import nbformat

    from opsnb.sections.summary import HANDOFFS

    # a notebook of one's own may not build a ``ctx``: then there is nothing to hand over
    lines = ['if globals().get("ctx") is not None:']
    if section in HANDOFFS:
        lines.append("    from opsnb.sections.summary import produce\n    produce(ctx)")
    lines.append("    ctx.save_usage()")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [HANDOFF_TAG]
    nb.cells.append(cell)
    return nb


def without_handoff(nb: Any) -> Any:
    """``nb`` without the cell :func:`with_handoff` added (the published notebook is the section's own)."""
    nb.cells = [c for c in nb.cells if HANDOFF_TAG not in c.get("metadata", {}).get("tags", [])]
    return nb

