"""Many business units in one run: each unit's review as today, sections scheduled together.

``opsnb run --units all`` (every ``params/<unit>.yaml``) or ``--units east,south`` runs each unit's
batch (:func:`opsnb.batch.run`: its own plan, reuse, run folder and atomic publish), with every
unit's sections fed to **one** scheduler:

* ``local`` (default): one pool of warm kernels shared by all units, no more kernels than cores
  (``--workers`` to change), so 12 units never start 60 kernels;
* ``dask``: a :class:`dask.distributed.LocalCluster` of worker processes started for the run;
* ``tcp://host:8786``: an existing Dask cluster.

On Dask a section is one task (:func:`remote_section`). Workers need no shared file system: the
task carries the notebook, the run's ``params.yaml`` and the files the section reads (the unit's
ledger and previous plan targets; for the summary page the other sections' hand-offs), and returns
every file the section wrote (HTML, executed notebook, hand-offs, facts) as bytes, which the
publishing host writes into the unit's run folder. Only the pack must be reachable from the workers
(the same path, or a warehouse URL). A worker that dies mid-task: its task is retried once on
another worker (``distributed.scheduler.allowed-failures`` = 1), then the section is marked failed
with the reason; nothing half-written is published.

A unit that fails (bad params, a damaged pack, every section failing) never blocks or damages
another: each publishes on its own. The run's exit code is 0 only when every unit succeeded.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsnb import batch
from opsnb import runfolder as rf
from opsnb.batch import KernelPool, RunResult, SectionResult
from opsnb.errors import OpsnbError, PeriodNotCovered
from opsnb.params import NOTEBOOKS
from opsnb.paths import params_dir, project_root
from opsnb.periods import is_relative

#: Files a section may read from the unit's earlier outputs (shipped to Dask workers).
#: ``{period}`` is the review period's label, ``{previous}`` the previous period's.
#: Tries of a Dask task whose worker died (the first try and one retry on another worker).
DASK_TRIES = 2


@dataclass
class UnitResult:
    """One unit's outcome in a many-unit run."""

    unit: str
    status: str = "pending"  # ok | failed
    error: str | None = None
    result: RunResult | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class UnitsResult:
    """Outcome of a many-unit run."""

    period: str | None
    scheduler: str
    units: list[UnitResult] = field(default_factory=list)
    duration_s: float = 0.0
    rollup: Path | None = None
    rollup_error: str | None = None
    #: units not run with the group, and why (another pack or currency, a period their data does not cover)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.units) and all(u.ok for u in self.units)


def discover(root: Path | None = None) -> list[str]:
    """Every unit with a ``params/<unit>.yaml`` (``default.yaml`` is the layer under them), sorted."""
    folder = params_dir(root or project_root())
    return sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "default")


def choose(units: str | Sequence[str], root: Path | None = None) -> list[str]:
    """``"all"`` → :func:`discover`; ``"east,south"`` or a list → those, checked against params/.

    Raises
    ------
    OpsnbError
        An unknown unit (naming the known ones), or no unit at all.
    """
    known = discover(root)
    if isinstance(units, str):
        wanted = known if units.strip() == "all" else [u.strip() for u in units.split(",") if u.strip()]
    else:
        wanted = list(units)
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise OpsnbError(f"no params/<unit>.yaml for unit(s) {', '.join(unknown)}; units: {', '.join(known) or 'none'}"
                         " (write params/<unit>.yaml, or `opsnb sample --units N` for a multi-unit sample)")
    if not wanted:
        raise OpsnbError("no units to run: params/ holds only default.yaml (write params/<unit>.yaml files)")
    return wanted


def fit(units: list[str], root: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """The units that form one group (same pack, same currency), and those left out with the reason.

    The group's pack is the one most of ``units`` share (ties: the first unit's); its currency the one most of
    those share. A group run never runs, publishes over or rolls up a unit of another pack or currency (a 2011
    UK shop beside this year's branches).
    """
    from collections import Counter

    from opsnb.params import load_params
    from opsnb.runspec import pack_path

    root = root or project_root()
    info = {}
    for u in units:
        s = load_params(unit=u, root=root)
        info[u] = (str(pack_path(s, root)), s.currency)
    packs = Counter(p for p, _ in info.values())
    pack = max(packs, key=lambda p: (packs[p], -[info[u][0] for u in units].index(p)))
    currencies = Counter(c for p, c in info.values() if p == pack)
    cur = max(currencies, key=lambda c: (currencies[c], -[info[u][1] for u in units].index(c)))
    keep, out = [], {}
    n = packs[pack]
    for u in units:
        p, c = info[u]
        if p != pack:
            out[u] = f"its pack {p} is not the group's ({pack}, {n} units)"
        elif c != cur:
            out[u] = f"its currency {c} is not the group's ({cur})"
        else:
            keep.append(u)
    return keep, out


# ---------------------------------------------------------------- schedulers


class LocalScheduler:
    """Every unit's sections on one shared pool of warm kernels (``workers`` of them)."""

    name = "local"

    def __init__(self, workers: int, *, root: Path, nb_dir: Path) -> None:
        env = dict(os.environ, OPSNB_HOME=str(root), OPSNB_BATCH="1")
        self.pool = KernelPool(workers, cwd=nb_dir, env=env)
        self.workers = workers
        self._run = batch.pool_runner(self.pool)

    def __call__(self, r: Any, section: str, title: str) -> SectionResult:
        return self._run(r, section, title)

    def close(self) -> None:
        self.pool.close()


def _inputs(r: Any, section: str) -> dict[str, bytes]:
    """The files a section of run ``r`` reads besides the pack, by path relative to the unit's folder or run."""
    out = {f"unit/{rel}": p.read_bytes() for rel, p in rf.unit_inputs(r.unit_dir, r.period.previous().label).items()}
    if section == "summary":  # the summary page reads what the sections handed over, and their status
        out |= {f"run/{name}": p.read_bytes() for name, p in rf.summary_inputs(r.run_dir).items()}
    return out


def _task(r: Any, section: str, title: str) -> dict[str, Any]:
    """Everything a worker needs to run ``section`` of ``r`` without the host's files."""
    params = dict(r.params_nb)
    return {"unit": r.settings.unit, "section": section, "title": title, "lang": r.lang, "header": r.header,
            "toc": r.toc, "timeout_s": r.settings.batch.timeout_s, "parameters": params,
            "notebook": (r.nb_dir / NOTEBOOKS[section]).read_text(encoding="utf-8"),
            "params_yaml": (r.run_dir / rf.PARAMS).read_text(encoding="utf-8"),
            "default_yaml": (params_dir(r.root) / "default.yaml").read_text(encoding="utf-8"),
            "inputs": _inputs(r, section)}


_WORKER: dict[str, Any] = {}  # per worker process: its project folder and its warm kernel


def _worker_home() -> Path:
    """This worker process's own project folder (params, notebooks, outputs it is handed)."""
    home = _WORKER.get("home")
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="opsnb-worker-"))
        (home / "params").mkdir()
        (home / "notebooks").mkdir()
        _WORKER["home"] = home
    return Path(home)


def remote_section(task: dict[str, Any]) -> dict[str, Any]:
    """Run one section on a Dask worker; returns its :class:`SectionResult` (as a dict) and the files it wrote.

    The worker keeps one warm kernel between tasks (a pool of one, recycled as the batch does).
    """
    import shutil
    from dataclasses import asdict

    home = _worker_home()
    (home / "params" / "default.yaml").write_text(task["default_yaml"], encoding="utf-8")
    name = NOTEBOOKS[task["section"]]
    (home / "notebooks" / name).write_text(task["notebook"], encoding="utf-8")
    unit_dir = home / "outputs" / task["unit"]
    shutil.rmtree(unit_dir, ignore_errors=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=home))
    for rel, data in task["inputs"].items():
        kind, _, path = rel.partition("/")
        dest = (unit_dir if kind == "unit" else run_dir) / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    (run_dir / rf.PARAMS).write_text(task["params_yaml"], encoding="utf-8")
    given = {f.name for f in run_dir.iterdir()}
    params = dict(task["parameters"], params_file=str(run_dir / rf.PARAMS), run_dir=str(run_dir))
    pool = _WORKER.get("pool")
    if pool is None:
        env = dict(os.environ, OPSNB_HOME=str(home), OPSNB_BATCH="1")
        pool = _WORKER["pool"] = KernelPool(1, cwd=home / "notebooks", env=env)
    try:
        km = pool.take()
        res = batch.execute_section(task["section"], nb_dir=home / "notebooks", run_dir=run_dir, parameters=params,
                                    timeout_s=task["timeout_s"], lang=task["lang"], header=task["header"],
                                    toc_title=task["toc"], title=task["title"], km=km, release=pool.give_back)
        files = {f.name: f.read_bytes() for f in run_dir.iterdir()
                 if f.is_file() and f.name not in given and not f.name.startswith(".")}
        return {"result": asdict(res), "files": files, "worker": os.getpid()}
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def close_worker() -> None:
    """Stop this worker's warm kernel and remove its folder (run on every worker at the end of a run)."""
    import shutil

    pool = _WORKER.pop("pool", None)
    if pool is not None:
        pool.close()
    home = _WORKER.pop("home", None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


class DaskScheduler:
    """Sections as Dask tasks: on a LocalCluster started for the run, or an existing cluster's address."""

    def __init__(self, address: str | None, workers: int, *, log: Callable[[str], None]) -> None:
        import dask
        from dask.distributed import Client, LocalCluster

        # a task whose worker died is retried once on another worker, then fails with KilledWorker
        dask.config.set({"distributed.scheduler.allowed-failures": DASK_TRIES - 1})
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
            self.name = "dask"
        else:
            try:
                self.client = Client(address, timeout=15)
            except OSError as exc:
                raise OpsnbError(f"cannot reach the Dask scheduler at {address}: {exc}; is it running "
                                 "(`dask scheduler`, with `dask worker {address}` on each machine)?") from None
            self.name = address
        info = self.client.scheduler_info().get("workers", {})
        self.workers = sum(int(w.get("nthreads", 1)) for w in info.values()) or workers
        # as many tasks in flight as the workers have threads: a worker holds no queue, so a worker that
        # dies takes one task with it (and that task alone is retried), and kernels never outnumber threads
        self._slots = threading.BoundedSemaphore(self.workers)
        self.log = log

    def __call__(self, r: Any, section: str, title: str) -> SectionResult:
        from dask.distributed import KilledWorker

        task = _task(r, section, title)
        key = f"opsnb-{r.settings.unit}-{section}-{r.run_id}"
        try:
            with self._slots:
                out = self.client.submit(remote_section, task, key=key, pure=False).result()
        except KilledWorker as exc:
            return SectionResult(section, "failed", notebook=NOTEBOOKS[section],
                                 error=f"KilledWorker: the worker running it died {DASK_TRIES} times ({exc}); "
                                       "nothing of it was published")
        except Exception as exc:  # noqa: BLE001 - a task that cannot run is that section's failure
            return SectionResult(section, "failed", notebook=NOTEBOOKS[section], error=f"{type(exc).__name__}: {exc}")
        for name, data in out["files"].items():  # the worker's files come home into the unit's run folder
            tmp = r.run_dir / f".{name}.part"
            tmp.write_bytes(data)
            os.replace(tmp, r.run_dir / name)
        res = SectionResult(**out["result"])
        return res

    def close(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):  # workers already gone have no kernel to stop
            self.client.run(close_worker)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------- the run


def run_units(units: str | Sequence[str], *, period: str | None = None, scheduler: str = "local",
              workers: int | None = None, lang: str | None = None, sections: list[str] | None = None,
              overrides: list[str] | None = None, root: Path | None = None, nb_dir: Path | None = None,
              log: Callable[[str], None] | None = None, progress: bool = True, force: bool = False,
              rollup: bool = True) -> UnitsResult:
    """Run ``period`` for many units on one scheduler, each unit publishing on its own; then the group roll-up.

    ``period`` None: each unit's own latest full month (the roll-up then uses the most common one).
    """
    from opsnb.paths import notebooks_dir

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    root = (root or project_root()).resolve()
    nb_dir = nb_dir or notebooks_dir(root)
    chosen, left_out = fit(choose(units, root), root)
    for name, why in left_out.items():
        log(f"[{name}] left out of the group: {why}")
    n = workers or max(1, min(os.cpu_count() or 1, 2 * len(chosen)))
    sched: Any
    if scheduler == "local":
        sched = LocalScheduler(n, root=root, nb_dir=nb_dir)
    elif scheduler == "dask":
        sched = DaskScheduler(None, n, log=log)
    elif scheduler.startswith("tcp://"):
        sched = DaskScheduler(scheduler, n, log=log)
    else:
        raise OpsnbError(f"unknown scheduler {scheduler!r}: use local, dask, or tcp://host:8786")
    out = UnitsResult(period, sched.name, left_out=left_out)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(chosen), desc=f"opsnb {len(chosen)} units", unit="unit", file=sys.stderr)
    lock = threading.Lock()
    failed = 0

    def one(unit: str) -> UnitResult:
        u = UnitResult(unit)
        t = time.perf_counter()
        try:
            res = batch.run(period=period, unit=unit, lang=lang, sections=sections, overrides=overrides, root=root,
                            nb_dir=nb_dir, log=lambda m, unit=unit: log(f"[{unit}] {m}"), progress=False,
                            force=force, runner=sched)
            u.result, u.status = res, "ok" if res.ok else "failed"
            if not res.ok:
                bad = [s for s in res.sections if not s.ok]
                u.error = "; ".join(f"{s.section}: {(s.error or s.status).splitlines()[0]}" for s in bad)
        except PeriodNotCovered as exc:  # its data does not cover the period: not part of this group run
            u.status, u.error = "left out", str(exc)
        except Exception as exc:  # noqa: BLE001 - one unit's failure (params, pack…) is that unit's alone
            u.status, u.error = "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
        u.duration_s = round(time.perf_counter() - t, 2)
        return u

    # set once for every unit thread (each batch.run saves and restores these: with them set already,
    # the threads' restores cannot unset them under one another)
    saved = {k: os.environ.get(k) for k in ("OPSNB_HOME", "OPSNB_BATCH")}
    os.environ.update(OPSNB_HOME=str(root), OPSNB_BATCH="1")
    try:
        # units wait on the scheduler's kernels/workers; a few more unit threads than workers keep them fed
        with ThreadPoolExecutor(max_workers=max(1, min(len(chosen), 2 * n + 1))) as pool:
            futures = [pool.submit(one, u) for u in chosen]
            for fut in as_completed(futures):
                u = fut.result()
                out.units.append(u)
                with lock:
                    failed += u.status == "failed"
                if bar is not None:
                    bar.set_postfix_str(f"done {len(out.units) - failed}, failed {failed}")
                    bar.update(1)
    finally:
        sched.close()
        if bar is not None:
            bar.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    order = {u: i for i, u in enumerate(chosen)}
    out.units.sort(key=lambda u: order[u.unit])
    for res in [x for x in out.units if x.status == "left out"]:
        out.left_out[res.unit] = res.error or ""
        out.units.remove(res)
    periods = [u.result.period for u in out.units if u.result is not None]
    # a relative period (last-month) was resolved by each unit in its own time zone: the roll-up takes theirs
    fixed = period if period and not is_relative(period) else None
    out.period = fixed or (max(set(periods), key=periods.count) if periods else None)
    if rollup and out.period is not None:
        try:
            from opsnb.params import load_params
            from opsnb.rollup import build_rollup  # type: ignore[import-not-found, unused-ignore]

            failed_units = {u.unit: u.error or u.status for u in out.units if not u.ok}
            out.rollup = build_rollup(root, out.period, [u.unit for u in out.units],
                                      lang=lang or load_params(root=root).lang, failed=failed_units)
        except Exception as exc:  # noqa: BLE001 - the units are published; the roll-up's failure is its own
            out.rollup_error = f"{type(exc).__name__}: {exc}"
            log(f"the group roll-up failed: {out.rollup_error}")
    out.duration_s = round(time.perf_counter() - t0, 2)
    return out
