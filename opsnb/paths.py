"""Where things live. The one place paths are defined (cookiecutter-data-science habit)."""

from __future__ import annotations

import os
from pathlib import Path

#: The folder under ``outputs/`` of the group roll-up of every unit (:mod:`opsnb.rollup`).
GROUP = "_group"


def project_root(start: Path | None = None) -> Path:
    """The opsnb project folder: ``$OPSNB_HOME``, else the nearest parent with ``params/default.yaml``.

    Falls back to the current directory, so an installed package works anywhere.
    """
    env = os.environ.get("OPSNB_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / "params" / "default.yaml").is_file() and (cand / "notebooks").is_dir():
            return cand
    return here


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
