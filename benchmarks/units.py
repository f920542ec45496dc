"""Many units: units per minute with a shell loop, the shared local kernel pool, and a 2-worker Dask cluster.

``python -m benchmarks --only units`` (see ``benchmarks/README.md``). Every unit reviews the same
sample pack (scale 0.1 by default), so each unit is the same work and the three ways differ only in
how they schedule it:

* **serial**: ``opsnb run --unit <u>`` once per unit in a shell loop (a process, its imports and its
  kernels per unit: what a team scripts today);
* **local**: ``opsnb run --units all``: one process, one pool of warm kernels (as many as cores)
  shared by every unit's sections;
* **dask**: ``opsnb run --units all --scheduler dask --workers 2``: the sections as tasks on a
  LocalCluster of 2 worker processes, each with its own warm kernel.

Each way starts from empty outputs (nothing reused) and the same warm cache (the pack's store built
once beforehand). ``per_unit_overhead_s`` is the wall time per unit minus the notebooks' own work
per unit divided by the cores (:func:`benchmarks.work_once`): what scheduling, kernels, export and
publishing add per unit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _project(work: Path, pack: Path, units: list[str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="units-", dir=work.resolve()))
    (root / "params").mkdir()
    shutil.copy(ROOT / "params" / "default.yaml", root / "params" / "default.yaml")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    for u in units:
        (root / "params" / f"{u}.yaml").write_text(f"unit: {u}\npack: {pack}\n", encoding="utf-8")
    return root


def _timed(cmd: str, root: Path, env: dict[str, str]) -> tuple[float, int, str]:
    shutil.rmtree(root / "outputs", ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run(["bash", "-c", cmd], cwd=root, env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, p.returncode, p.stderr[-2000:]


def bench_units(n_units: int = 24, scale: float = 0.1, *, work: Path, modes: tuple[str, ...] = ("serial", "local", "dask"),
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Units per minute for each of ``modes`` (see the module doc), with the per-unit overhead."""
    from benchmarks import fresh_cache, pack_for, review_period, work_once

    pack = pack_for(scale, work=work, log=log).resolve()
    period = review_period(pack)
    units = [f"u{i:02d}" for i in range(1, n_units + 1)]
    cores = os.cpu_count() or 1
    out: dict[str, Any] = {"units": n_units, "scale": scale, "period": period, "cores": cores}
    with fresh_cache() as cache:
        from opsnb.pack import open_pack
        from opsnb.pack.derived import warm

        warm(open_pack(pack))  # the store every way reads
        own = work_once(pack)  # the notebooks' own work for one unit, in-process
        out["work_per_unit_s"] = round(own["total_s"], 2)
        root = _project(work, pack, units)
        env = dict(os.environ, OPSNB_HOME=str(root), OPSNB_CACHE=str(cache), MPLBACKEND="Agg")
        bin_ = Path(sys.executable).parent / "opsnb"
        cmds = {
            "serial": f"for u in {' '.join(units)}; do {bin_} run --unit $u --period {period} --quiet >/dev/null "
                      "|| exit 1; done",
            "local": f"{bin_} run --units all --period {period} --quiet",
            "dask": f"{bin_} run --units all --period {period} --quiet --scheduler dask --workers 2",
        }
        try:
            for mode in modes:
                log(f"  units: {mode} ({n_units} units at scale {scale:g}) …")
                wall, rc, err = _timed(cmds[mode], root, env)
                published = sum((root / "outputs" / u / period / "index.html").is_file() for u in units)
                out[mode] = {"wall_s": round(wall, 1), "units_per_min": round(n_units / wall * 60, 2),
                             "published": published, "ok": rc == 0 and published == n_units,
                             "per_unit_overhead_s": round(wall / n_units - own["total_s"] / cores, 2)}
                if rc != 0:
                    out[mode]["stderr"] = err
                log(f"    {wall:.1f} s: {out[mode]['units_per_min']} units/min, {published}/{n_units} published")
        finally:
            shutil.rmtree(root, ignore_errors=True)
    for mode in ("local", "dask"):
        if mode in out and "serial" in out:
            out[mode]["speedup_vs_serial"] = round(out["serial"]["wall_s"] / out[mode]["wall_s"], 2)
    if "local" in out and "dask" in out:
        out["dask"]["vs_local"] = round(out["dask"]["wall_s"] / out["local"]["wall_s"], 2)
    out["goals"] = {"local_at_least_4x_serial": out.get("local", {}).get("speedup_vs_serial", 0) >= 4,
                    "dask_within_1.3x_local": out.get("dask", {}).get("vs_local", 99) <= 1.3}
    return out
