"""Export an executed notebook to a self-contained, offline, escaped HTML report."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import nbformat

from opsnb.render.ui import esc

#: Output types that could run script or fetch resources in a reader's browser: stripped before export.
UNSAFE_MIMETYPES = ("application/javascript", "text/javascript", "text/vnd.mermaid",
                    "application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")
REMOVE_TAGS = {"remove", "remove_cell", "parameters", "injected-parameters"}
_NUMBERED = re.compile(r"\s*\d+[.、]\s")
_HEAD = re.compile(r'<h([12])(?=[^>]*class="opsnb-h")[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
TOC_SLOT = '<nav class="opsnb-toc-slot"></nav>'


def notebook_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Why an executed notebook is not complete: unexecuted code cells, error outputs, no end time.

    A papermill return value alone is not trusted (a kernel that died or ``sys.exit(0)`` can look fine).
    """
    problems = []
    pm = nb.metadata.get("papermill", {})
    if not pm.get("end_time"):
        problems.append("notebook has no end time (execution did not finish)")
    if pm.get("exception"):
        problems.append("papermill recorded an exception")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(f"cell {i} was not executed")
            break
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} raised {out.get('ename')}: {out.get('evalue')}")
    return problems


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_TAGS:
            continue
        if cell.cell_type == "code":
            outs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    continue  # warnings and progress bars are for the log, not the reader
                data = out.get("data")
                if data is not None:
                    for mt in UNSAFE_MIMETYPES:
                        data.pop(mt, None)
                    if not data:
                        continue
                outs.append(out)
            cell.outputs = outs
            if not outs:
                continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def _toc(body: str, title: str) -> str:
    items = [(lvl, ident, re.sub(r"<[^>]+>", "", text)) for lvl, ident, text in _HEAD.findall(body)]
    if not items:
        return ""
    heads = [(ident, text) for lvl, ident, text in items if lvl == "2"]
    lis = "".join(f'<li class="toc-h2"><a href="#{ident}">{text}</a></li>' for ident, text in heads)
    # headings that carry their own numbers ("1. 关键指标…") are listed as they are, not numbered again
    tag = "ul" if any(_NUMBERED.match(text) for _, text in heads) else "ol"
    return f'<nav class="opsnb-toc" aria-label="{esc(title)}"><strong>{esc(title)}</strong><{tag}>{lis}</{tag}></nav>'


def export_html(nb: nbformat.NotebookNode, *, lang: str = "zh", title: str = "",
                header: list[tuple[str, str]] | None = None, toc_title: str = "") -> str:
    """Render an executed notebook to HTML with the opsnb template (code and setup cells removed)."""
    from nbconvert import HTMLExporter

    tpl_root = str(resources.files("opsnb") / "export" / "templates")
    exporter = HTMLExporter(template_name="opsnb", extra_template_basedirs=[tpl_root], exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
                            language_code="zh" if lang == "zh" else "en")
    clean = _clean(nb)
    if title:
        clean.metadata["title"] = title
    res: dict[str, Any] = {"opsnb_header": header or [],
                           "metadata": {"name": title or "opsnb"}}
    body, _ = exporter.from_notebook_node(clean, resources=res)
    return body.replace(TOC_SLOT, _toc(body, toc_title), 1)
