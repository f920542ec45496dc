"""Onboarding a team's exports: propose the ``pack.yaml`` that maps them onto the contract, then validate it.

``opsnb map EXPORTS`` and ``opsnb init DIR --from EXPORTS`` (docs/onboarding.md). The rooms: ``sniff`` (read
each file's and sheet's header and a sample of rows, as ingest reads them), ``synonyms`` (the synonym
table, data: ``synonyms.yaml``), ``propose`` (which source is which table, which header which column,
with evidence and confidence), ``report`` (the proposed pack.yaml and the printed report).

>>> result = map_exports("exports", tz="Asia/Shanghai", lang="zh")
>>> print(result.text("zh"))
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from opsnb.errors import Problem
from opsnb.onboard.propose import Proposal, propose
from opsnb.onboard.report import pack_yaml, report
from opsnb.onboard.sniff import SAMPLE_ROWS
from opsnb.pack.config import CONFIG_NAME
from opsnb.pack.core import validate_pack
from opsnb.pack.problems import PackProblem, is_error

__all__ = ["MapResult", "Proposal", "map_exports", "propose", "validate_proposal"]


@dataclass
class MapResult:
    """A proposal, its pack.yaml text, the validation of the folder with it, and where it was written."""

    proposal: Proposal
    yaml: str
    problems: list[Problem]
    written: Path | None = None

    @property
    def errors(self) -> int:
        """Validation errors left with the proposed mapping."""
        return sum(is_error(p) for p in self.problems)

    def text(self, lang: str, *, folder: str | None = None) -> str:
        """The report ``opsnb map`` prints (``folder``: how to name the exports folder in it)."""
        return report(self.proposal, self.problems, lang, folder=folder or str(self.proposal.folder),
                      written=str(self.written) if self.written else None, sample_rows=SAMPLE_ROWS)


def validate_proposal(folder: Path, text: str, *, tz: str) -> list[Problem]:
    """Every problem ``opsnb validate`` would find in ``folder`` read with ``text`` as its pack.yaml.

    The folder is not touched: its files are linked into a temporary folder beside the proposed pack.yaml.
    """
    with tempfile.TemporaryDirectory(prefix="opsnb-map-") as tmp:
        shadow = Path(tmp)
        for p in folder.iterdir():
            if p.is_file() and p.name != CONFIG_NAME:
                try:
                    os.symlink(p.resolve(), shadow / p.name)
                except OSError:  # no symlinks here (some file systems): a copy reads the same
                    shutil.copy2(p, shadow / p.name)
        (shadow / CONFIG_NAME).write_text(text, encoding="utf-8")
        return [_named(p, shadow, folder) for p in validate_pack(shadow, tz=tz)]


def _named(p: Problem, shadow: Path, folder: Path) -> Problem:
    """``p`` naming the exports folder where it names the temporary one."""
    def fix(text: str) -> str:
        return text.replace(str(shadow), str(folder)).replace(shadow.name, folder.name)

    if shadow.name not in f"{p.where} {p.message} {getattr(p, 'file', '')}":
        return p
    changes: dict[str, str] = {"where": fix(p.where), "message": fix(p.message)}
    if isinstance(p, PackProblem):
        changes["file"] = fix(p.file)
    return dataclasses.replace(p, **changes)  # type: ignore[arg-type]


def map_exports(folder: str | Path, *, tz: str = "Asia/Shanghai", lang: str = "zh", kpi_keys: tuple[str, ...] = (),
                out: Path | None = None) -> MapResult:
    """Propose a pack.yaml for the exports in ``folder``, validate the folder with it, write it to ``out``.

    Parameters
    ----------
    folder : str or Path
        The exports (CSV/TSV/XLSX/Parquet files; every sheet of an Excel file is read).
    tz : str
        The unit's time zone.
    lang : {"zh", "en"}
        Language of the comments in the proposed pack.yaml.
    kpi_keys : tuple of str
        The settings' KPI keys (``kpis.metric`` values outside them are noted).
    out : Path, optional
        Where to write the proposal; never over an existing file (``FileExistsError``). None: not written.

    Returns
    -------
    MapResult
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder of exports")
    if out is not None and out.exists():
        raise FileExistsError(f"{out} exists and is kept; write the proposal elsewhere with --out FILE, or print it "
                              "with --print")
    proposal = propose(folder, tz=tz, kpi_keys=kpi_keys)
    text = pack_yaml(proposal, lang)
    problems = validate_proposal(folder, text, tz=tz)
    if out is not None:
        with out.open("x", encoding="utf-8") as f:  # "x": never over a file made in between
            f.write(text)
    return MapResult(proposal, text, problems, out)
