"""The six section notebooks, from one spec, so they stay thin and uniform.

The package writes them: ``scripts/build_notebooks.py`` (this repository's ``notebooks/``, run after
adding a subsection; committed without outputs), ``opsnb init`` and ``opsnb upgrade`` (a team's
workbook; docs/onboarding.md). Analysts may still edit them in JupyterLab (the contract test keeps this
repository's thin; a workbook's edited notebook is never replaced by an upgrade).
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from opsnb.params import NOTEBOOKS
from opsnb.sections import subsections

INTRO = {
    "summary": ("00 总结 · Summary", "本期运营复盘的首页。The index page of the review."),
    "goals": ("01 目标达成 · Goals", "对照目标检查核心指标。Key metrics against target."),
    "campaigns": ("02 关键举措与成果 · Campaigns", "活动、内容与会员项目复盘。Campaigns, content and programmes."),
    "insights": ("03 数据分析与洞察 · Insights", "活跃、留存、渠道、漏斗、RFM与归因。Activity, retention, channels, funnels, RFM, attribution."),
    "problems": ("04 问题与挑战 · Problems", "由数据发现的问题。Problems found in the data."),
    "plan": ("05 改进建议与后续计划 · Plan", "行动、目标拆解与日历。Actions, targets and calendar."),
}
EXPLORE = {
    "goals": ["explore.kpi_trend(ctx)"],
    "campaigns": ["explore.campaign_comparer(ctx)"],
    "insights": ["explore.cohort_heatmap(ctx)", "explore.funnel_by_segment(ctx)", "explore.rfm_drilldown(ctx)"],
}
PARAMS = '''period: str = ""  # review period YYYY-MM, YYYY-Qn or YYYY (empty: the pack's latest full month)
unit: str = ""  # business unit, params/UNIT.yaml (empty: the default unit)
pack: str = ""  # data pack folder or .duckdb file (empty: the unit's pack setting)
params_file: str = ""  # extra YAML settings layered on top of params/
lang: str = ""  # report language zh or en (empty: the setting, zh)
run_dir: str = ""  # set by opsnb run: where the batch collects this run's artefacts'''


def build(section: str, with_explore: bool) -> nbformat.NotebookNode:
    """The notebook of ``section``: title, parameters, setup, one ``nb.show`` per subsection (and explorers)."""
    title, purpose = INTRO[section]
    cells = [
        new_markdown_cell(f"# {title}\n\n{purpose}", metadata={"tags": ["remove"]}),
        new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from opsnb import explore, nb\n\n"
            f'ctx = nb.setup(section="{section}", period=period, unit=unit, pack=pack, params_file=params_file, '
            "lang=lang, run_dir=run_dir)" if with_explore and section in EXPLORE else
            "from opsnb import nb\n\n"
            f'ctx = nb.setup(section="{section}", period=period, unit=unit, pack=pack, params_file=params_file, '
            "lang=lang, run_dir=run_dir)",
            metadata={"tags": ["remove"]}),
        new_code_cell("nb.title(ctx)"),
    ]
    for sub in subsections(section):
        name = sub.key.split(".", 1)[1]
        cells.append(new_code_cell(f'{name} = nb.show(ctx, "{sub.key}")'))
    if with_explore and section in EXPLORE:
        cells.append(new_code_cell("explore.heading(ctx)"))
        cells += [new_code_cell(src) for src in EXPLORE[section]]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, c in enumerate(nb.cells):
        c["id"] = f"{section}-{i:02d}"
    return nb


def text(section: str, with_explore: bool = True) -> str:
    """The notebook file of ``section`` as written (nbformat JSON and a final newline)."""
    return nbformat.writes(build(section, with_explore)) + "\n"


def files(with_explore: bool = True) -> dict[str, str]:
    """``notebooks/<name>`` → text of every section notebook, in section order (:data:`opsnb.params.NOTEBOOKS`)."""
    return {f"notebooks/{name}": text(section, with_explore) for section, name in NOTEBOOKS.items()}
