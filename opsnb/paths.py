"""Where things live. The one place paths are defined (cookiecutter-data-science habit)."""

from __future__ import annotations

import os
from pathlib import Path

from opsnb.errors import OpsnbError

#: The folder under ``outputs/`` of the group roll-up of every unit (:mod:`opsnb.rollup`).
GROUP = "_group"


def is_workbook(folder: Path) -> bool:
    """Whether ``folder`` is an opsnb workbook: it holds ``params/default.yaml`` and a ``notebooks/`` folder.

    That is the whole rule (docs/onboarding.md): ``opsnb init`` writes both (and ``.opsnb/``, its record of
    what it generated, which ``opsnb upgrade`` needs but finding a workbook does not); this repository is one.
    """
    return (folder / "params" / "default.yaml").is_file() and (folder / "notebooks").is_dir()


def find_workbook(start: Path | None = None) -> Path | None:
    """The nearest workbook (:func:`is_workbook`) from ``start`` (default: the current folder) upward, or None.

    Found as git finds its repository: the folder itself, then each parent in turn; the nearest wins, so a
    workbook inside another is its own. ``$OPSNB_HOME`` is not consulted here (see :func:`project_root`).
    """
    here = (start or Path.cwd()).resolve()
    return next((cand for cand in (here, *here.parents) if is_workbook(cand)), None)


def project_root(start: Path | None = None) -> Path:
    """The opsnb workbook: ``$OPSNB_HOME``, else the nearest workbook from ``start`` upward (:func:`find_workbook`).

    Falls back to the current directory, so an installed package works anywhere (commands that need a
    workbook ask :func:`require_workbook` instead).
    """
    env = os.environ.get("OPSNB_HOME")
    if env:
        return Path(env).resolve()
    return find_workbook(start) or (start or Path.cwd()).resolve()


def require_workbook(start: Path | None = None) -> Path:
    """:func:`project_root`, or an :class:`~opsnb.errors.OpsnbError` saying how to get one when there is none."""
    if os.environ.get("OPSNB_HOME"):
        return project_root(start)
    found = find_workbook(start)
    if found is None:
        here = (start or Path.cwd()).resolve()
        raise OpsnbError(f"not inside an opsnb workbook: no folder from {here} up holds params/default.yaml and "
                         "notebooks/; cd into one, set OPSNB_HOME to one, or make one with `opsnb init DIR`")
    return found


def params_dir(root: Path | None = None) -> Path:
    """Folder of YAML settings: ``default.yaml`` plus one file per unit."""
    return (root or project_root()) / "params"


def notebooks_dir(root: Path | None = None) -> Path:
    """Folder of the section notebooks."""
    return (root or project_root()) / "notebooks"


def outputs_dir(root: Path | None = None) -> Path:
    """Folder of published reports: ``outputs/<unit>/<period>/``."""
    return (root or project_root()) / "outputs"


def group_dir(root: Path | None = None) -> Path:
    """Folder of the group roll-up: ``outputs/_group/<period>/`` (``_group`` is no unit's name)."""
    return outputs_dir(root) / GROUP


def cache_dir() -> Path:
    """Parquet cache of ingested packs: ``$OPSNB_CACHE`` or ``~/.cache/opsnb``."""
    env = os.environ.get("OPSNB_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "opsnb"


def atomic_write(target: Path, write: object) -> None:
    """Write ``target`` through ``write(tmp_path)`` then one ``os.replace``: readers never see half a file.

    A hard-linked ``target`` (a page carried from another run) is replaced, never written through, so the
    other run's copy stays as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(3).hex()}.tmp")
    try:
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
