"""Where things live. The one place paths are defined (cookiecutter-data-science habit)."""

from __future__ import annotations

import os
from pathlib import Path

#: Run folders of a period kept under ``.runs`` (the published one included), for recovery.
KEEP_RUNS = 3
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
    """Write ``target`` through ``write(tmp_path)`` then one ``os.replace``: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{id(write)}.tmp")
    try:
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def publish_link(run_dir: Path, target: Path) -> None:
    """Point ``target`` at ``run_dir`` with one atomic ``os.replace`` of a relative symlink.

    Readers of ``target`` see the old complete folder or the new one, never a mix. A plain folder
    already at ``target`` (an older layout) is kept, moved under ``.runs`` as ``<name>-legacy-<time>``.
    """
    import time

    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_symlink():
        legacy = target.parent / ".runs" / f"{target.name}-legacy-{int(time.time())}"
        legacy.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, legacy)
    tmp = target.parent / f".{target.name}.link-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(run_dir, target.parent), tmp)
    os.replace(tmp, target)


def prune_runs(runs: Path, period: str, keep: Path, *, n: int = KEEP_RUNS) -> None:
    """Delete the oldest ``<period>-*`` run folders under ``runs`` so ``n`` remain, ``keep`` (published) among them."""
    import shutil

    mine = sorted((p for p in runs.glob(f"{period}-*") if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in mine[: max(0, len(mine) - (n - 1))]:
        shutil.rmtree(old, ignore_errors=True)
