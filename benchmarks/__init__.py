"""The opsnb benchmark harness: floor, batch, rerun, naive baseline, compute against pandas, scaling;
warehouse engines and the DuckDB batch at scale 30 (:mod:`benchmarks.warehouse`, opt-in).

Run it with ``python -m benchmarks`` (``make bench``); ``--help`` lists the options and
``benchmarks/README.md`` explains what each part measures. This module holds the parts as functions
(importable by tests); :mod:`benchmarks.__main__` is the command line. Nothing runs at import time.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(__file__).resolve().parent / ".work"
SEED = 7
#: The sections the batch executes besides the summary (which runs last), in notebook order.
SECTIONS = ("goals", "campaigns", "insights", "problems", "plan")


# ---------------------------------------------------------------- measuring


class RSSMonitor:
    """Peak resident memory of this process plus all its descendants, sampled every ``interval`` s.

    Use as a context manager; ``peak_mb`` is the largest sum seen (kernels and subprocesses included).
    ``pid``: watch that process's tree instead of this one's (a child started by the harness);
    ``peak_children`` is the largest sum seen over the descendants alone.
    """

    def __init__(self, interval: float = 0.2, pid: int | None = None):
        import psutil

        self.interval = interval
        self.proc = psutil.Process(pid or os.getpid())
        self.peak = 0
        self.peak_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> int:
        """Current RSS of the process tree, in bytes."""
        import psutil

        total = children = 0
        procs = [self.proc]
        try:
            procs += self.proc.children(recursive=True)
        except psutil.Error:
            pass
        for p in procs:
            try:
                rss = p.memory_info().rss
            except psutil.Error:  # a child that exited between listing and reading
                continue
            total += rss
            if p is not self.proc:
                children += rss
        self.peak_children = max(self.peak_children, children)
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> RSSMonitor:
        self.peak = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.sample())

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


def summarize(times: Sequence[float]) -> dict[str, Any]:
    """``{"min", "median", "runs"}`` of a list of durations in seconds (rounded to ms)."""
    if not times:
        return {"min": None, "median": None, "runs": []}
    return {"min": round(min(times), 3), "median": round(statistics.median(times), 3),
            "runs": [round(t, 3) for t in times]}


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den`` rounded to 2 decimals; None when either is missing or ``den`` is 0."""
    if num is None or den is None or den == 0:
        return None
    return round(num / den, 2)


def fit_power(scales: Sequence[float], times: Sequence[float]) -> dict[str, float] | None:
    """Least-squares fit of ``log t = log a + b · log scale``; ``{"a", "b"}`` or None with < 2 scales."""
    pts = [(math.log(s), math.log(t)) for s, t in zip(scales, times, strict=True) if s > 0 and t and t > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
    return {"a": round(math.exp(my - b * mx), 4), "b": round(b, 3)}


# ---------------------------------------------------------------- packs and projects


def pack_for(scale: float, *, seed: int = SEED, work: Path = WORK, log: Callable[[str], None] = print) -> Path:
    """The sample pack of ``scale`` under ``work`` (generated once, reused while seed and scale match)."""
    folder = work / f"pack-seed{seed}-scale{scale:g}"
    meta = folder / "scenario.json"
    if meta.is_file():
        try:
            s = json.loads(meta.read_text(encoding="utf-8"))
            if s.get("seed") == seed and float(s.get("scale")) == float(scale):
                return folder
        except (OSError, ValueError):
            pass
    from opsnb.sample import generate

    log(f"generating the sample pack at scale {scale:g} in {folder} …")
    t0 = time.perf_counter()
    tmp = work / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    generate(tmp, seed=seed, scale=scale)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    log(f"  generated in {time.perf_counter() - t0:.1f} s")
    return folder


@contextmanager
def project(work: Path = WORK) -> Iterator[Path]:
    """A throw-away project root (symlinks to the repo's params/ and notebooks/), removed afterwards.

    The working directory is restored on exit: papermill's ``cwd=`` is a process-wide ``os.chdir``,
    and with the batch's worker threads the process can be left inside the removed root.
    """
    work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="proj-", dir=work))
    here = os.getcwd()
    try:
        (root / "params").symlink_to(ROOT / "params")
        (root / "notebooks").symlink_to(ROOT / "notebooks")
        yield root
    finally:
        os.chdir(here)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def batch_env(root: Path) -> Iterator[dict[str, str]]:
    """The environment the batch gives kernels (restored afterwards: ``batch.run`` sets it globally)."""
    keep = {k: os.environ.get(k) for k in ("OPSNB_HOME", "OPSNB_BATCH", "MPLBACKEND")}
    os.environ.update(OPSNB_HOME=str(root), OPSNB_BATCH="1", MPLBACKEND=os.environ.get("MPLBACKEND") or "Agg")
    try:
        yield dict(os.environ)
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def fresh_cache() -> Iterator[Path]:
    """``OPSNB_CACHE`` pointed at a new empty folder (kernels inherit it), restored and deleted afterwards."""
    keep = os.environ.get("OPSNB_CACHE")
    try:
        with tempfile.TemporaryDirectory(prefix="opsnb-bench-cache-") as tmp:
            os.environ["OPSNB_CACHE"] = tmp
            yield Path(tmp)
    finally:
        if keep is None:
            os.environ.pop("OPSNB_CACHE", None)
        else:
            os.environ["OPSNB_CACHE"] = keep


def review_period(pack: Path) -> str:
    """The review period of a sample pack (``scenario.json``)."""
    return str(json.loads((pack / "scenario.json").read_text(encoding="utf-8"))["review_period"])


# ---------------------------------------------------------------- (a) the floor


def _trivial_notebook() -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    src = "\n".join(f'{k} = ""' for k in ("period", "unit", "pack", "params_file", "lang", "run_dir"))
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _warm_pool(size: int, cwd: Path, env: dict[str, str]) -> Any:
    """The batch's :class:`~opsnb.batch.KernelPool` of ``size`` kernels, but its kernels import nothing."""
    from opsnb.batch import KernelPool

    return KernelPool(size, cwd=cwd, env=env, warmup="pass")


def floor_once(workers: int = 2, work: Path = WORK) -> dict[str, Any]:
    """One run of the batch's machinery on trivial notebooks: ``workers`` recycled kernels, papermill, HTML export.

    Five section notebooks on ``workers`` threads, then the summary, exactly as ``batch.run`` orders
    them; each notebook holds only the parameters cell. Returns ``{"s", "ok"}``.
    """
    import nbformat

    from opsnb.batch import execute_section
    from opsnb.params import NOTEBOOKS

    with project(work) as root, batch_env(root) as env:
        nb_dir, run_dir = root / "trivial", root / "run"
        nb_dir.mkdir()
        run_dir.mkdir()
        for s in (*SECTIONS, "summary"):
            nbformat.write(_trivial_notebook(), nb_dir / NOTEBOOKS[s])
        params = {"period": "2026-10", "unit": "floor", "pack": "", "params_file": "", "lang": "zh",
                  "run_dir": str(run_dir)}
        t0 = time.perf_counter()
        pool = _warm_pool(workers, nb_dir, env)

        def one(s: str) -> Any:
            return execute_section(s, nb_dir=nb_dir, run_dir=run_dir, parameters=params, timeout_s=120, lang="zh",
                                   header=[], toc_title="", title=s, km=pool.take(), release=pool.give_back)

        try:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                results = list(ex.map(one, SECTIONS))
            results.append(one("summary"))
        finally:
            pool.close()
        dt = time.perf_counter() - t0
    bad = {r.section: r.error for r in results if not r.ok}
    return {"s": dt, "ok": not bad, "errors": bad}


def bench_floor(repeats: int, work: Path = WORK, log: Callable[[str], None] = print) -> dict[str, Any]:
    """(a) ``repeats`` floor runs: min/median seconds and peak RSS of the process tree."""
    times, errors, peak = [], {}, 0.0
    for i in range(repeats):
        with RSSMonitor() as mon:
            r = floor_once(work=work)
        times.append(r["s"])
        errors.update(r["errors"])
        peak = max(peak, mon.peak_mb)
        log(f"  floor run {i + 1}/{repeats}: {r['s']:.2f} s, peak RSS {mon.peak_mb:.0f} MB")
    return {"wall_s": summarize(times), "rss_peak_mb": peak, "ok": not errors, "errors": errors}


# ---------------------------------------------------------------- (a') the work itself


def work_once(folder: str | Path) -> dict[str, Any]:
    """The five section notebooks' own work, in this process, one after another: no kernel, no export.

    Imports first (what each batch kernel runs once: :func:`opsnb.batch.warmup_code`), then every
    code cell of each section notebook with the batch's parameters, every displayed object rendered
    to HTML as the kernel would. The batch cannot be faster than ``floor + imports + total / workers``;
    :func:`bench_work` runs this in a fresh process. ``cpu_s`` is the CPU time of all threads (DuckDB
    uses both cores here; in the batch two kernels share them); ``gc_s`` the part of the wall time spent
    in Python's garbage collector (the kernels' GC settings come with the warm-up imports).
    """
    import tempfile

    os.environ["OPSNB_BATCH"] = "1"
    os.environ.setdefault("MPLBACKEND", "agg")
    t0 = time.perf_counter()
    from opsnb.batch import warmup_code

    exec(warmup_code(), {})  # what each batch kernel imports
    imports = time.perf_counter() - t0
    import IPython.display
    import matplotlib.pyplot as plt
    import nbformat

    from opsnb.params import NOTEBOOKS

    def display(*objs: Any, **_: Any) -> None:
        for o in objs:
            for method in ("_repr_html_", "_repr_markdown_", "_repr_svg_"):
                f = getattr(o, method, None)
                if f is not None:
                    f()
                    break

    IPython.display.display = display
    folder = Path(folder)
    per: dict[str, float] = {}
    cpu: dict[str, float] = {}
    collected = {"s": 0.0, "t": 0.0}

    def on_gc(phase: str, _: dict[str, int]) -> None:  # time in Python's cyclic garbage collector
        now = time.perf_counter()
        if phase == "start":
            collected["t"] = now
        else:
            collected["s"] += now - collected["t"]

    gc.callbacks.append(on_gc)
    with tempfile.TemporaryDirectory(prefix="opsnb-work-") as run_dir:
        params = {"period": review_period(folder), "unit": "", "pack": str(folder), "params_file": "",
                  "lang": "", "run_dir": run_dir}
        for sec in SECTIONS:
            nb = nbformat.read(ROOT / "notebooks" / NOTEBOOKS[sec], as_version=4)
            ns: dict[str, Any] = {**params, "display": display}
            t, c = time.perf_counter(), time.process_time()
            for cell in nb.cells:
                if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                    exec(compile(cell.source, f"<{sec}>", "exec"), ns)
            plt.close("all")
            per[sec], cpu[sec] = time.perf_counter() - t, time.process_time() - c
    gc.callbacks.remove(on_gc)
    return {"imports_s": imports, "sections_s": per, "total_s": sum(per.values()), "cpu_s": sum(cpu.values()),
            "gc_s": collected["s"]}


def bench_work(scale: float, repeats: int, work: Path = WORK, log: Callable[[str], None] = print) -> dict[str, Any]:
    """(a') :func:`work_once` on the pack of ``scale`` in a fresh process, ``repeats`` times (the store built first)."""
    from opsnb.pack import open_pack
    from opsnb.pack.derived import warm

    pack = pack_for(scale, work=work, log=log)
    warm(open_pack(pack, tz=_settings().timezone))  # as the batch does before its sections start
    code = "import json, sys, benchmarks; print(json.dumps(benchmarks.work_once(sys.argv[1])))"
    runs = []
    for i in range(repeats):
        out = subprocess.run([sys.executable, "-c", code, str(pack)], cwd=ROOT, capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(r)
        log(f"  work scale {scale:g} run {i + 1}/{repeats}: imports {r['imports_s']:.2f} s, sections "
            f"{r['total_s']:.2f} s, CPU {r['cpu_s']:.2f} s of which garbage collection {r['gc_s']:.2f} s ("
            + ", ".join(f"{k} {v:.1f}" for k, v in r["sections_s"].items()) + ")")
    return {"scale": scale, "imports_s": summarize([r["imports_s"] for r in runs]),
            "total_s": summarize([r["total_s"] for r in runs]), "cpu_s": summarize([r["cpu_s"] for r in runs]),
            "gc_s": summarize([r["gc_s"] for r in runs]),
            "sections_s": {s: summarize([r["sections_s"][s] for r in runs]) for s in SECTIONS}}


# ---------------------------------------------------------------- (b) our batch


def bench_batch(scale: float, repeats: int, work: Path = WORK, log: Callable[[str], None] = print) -> dict[str, Any]:
    """(b) ``batch.run(force=True)`` ``repeats`` times on the pack of ``scale``, then reruns without force.

    Then ``repeats`` cold runs: the first run after the pack's content changed (every month's run), with
    an empty cache, so the pack's store is built inside the run (``cold_s``).
    """
    from opsnb import batch

    pack = pack_for(scale, work=work, log=log)
    forced: list[float] = []
    per_section: dict[str, list[float]] = {}
    peak, failed = 0.0, {}
    rerun: list[float] = []
    cold: list[float] = []
    cold_stores: list[int] = []  # store files each cold run left in its empty cache (1: it built one)
    rerun_status: dict[str, str] = {}
    rerun_reused: list[bool] = []
    with project(work) as root, batch_env(root):
        for i in range(repeats):
            with RSSMonitor() as mon:
                t0 = time.perf_counter()
                res = batch.run(root=root, pack=str(pack), unit="bench", progress=False, log=lambda m: None,
                                force=True)
                dt = time.perf_counter() - t0
            forced.append(dt)
            peak = max(peak, mon.peak_mb)
            for s in res.sections:
                per_section.setdefault(s.section, []).append(s.duration_s)
                if not s.ok:
                    failed[s.section] = (s.error or "")[:300]
            log(f"  batch scale {scale:g} run {i + 1}/{repeats}: {dt:.2f} s, peak RSS {mon.peak_mb:.0f} MB"
                + (f", FAILED {sorted(failed)}" if failed else ""))
        for i in range(repeats):
            t0 = time.perf_counter()
            res = batch.run(root=root, pack=str(pack), unit="bench", progress=False, log=lambda m: None)
            rerun.append(time.perf_counter() - t0)
            rerun_status = {s.section: s.status for s in res.sections}
            rerun_reused.append(all(v == "reused" for v in rerun_status.values()))
            log(f"  rerun (nothing changed) {i + 1}/{repeats}: {rerun[-1]:.2f} s"
                + ("" if rerun_reused[-1] else f" — re-executed {[k for k, v in rerun_status.items() if v != 'reused']}"
                   " (inputs changed: is someone editing opsnb/ or params/?)"))
        for i in range(repeats):
            with fresh_cache() as tmp:
                t0 = time.perf_counter()
                res = batch.run(root=root, pack=str(pack), unit="bench", progress=False, log=lambda m: None,
                                force=True)
                cold.append(time.perf_counter() - t0)
                cold_stores.append(len(list(tmp.glob("store-*.duckdb"))))
            if not res.ok:
                failed.update({s.section: (s.error or "")[:300] for s in res.sections if not s.ok})
            log(f"  cold (new pack content: empty cache, store built in the run) {i + 1}/{repeats}: {cold[-1]:.2f} s")
    return {
        "scale": scale, "pack": str(pack), "wall_s": summarize(forced), "rss_peak_mb": peak,
        "sections_s": {k: summarize(v) for k, v in per_section.items()},
        "ok": not failed, "errors": failed,
        "rerun_s": summarize(rerun), "rerun_all_reused": all(rerun_reused), "rerun_reused": rerun_reused,
        "rerun_status": rerun_status, "cold_s": summarize(cold),
        "cold_stores_built": cold_stores,
    }


# ---------------------------------------------------------------- (c) the naive baseline


def naive_once(pack: Path, work: Path = WORK) -> dict[str, Any]:
    """papermill CLI then ``jupyter nbconvert --to html``, per notebook, one after another."""
    from opsnb.params import NOTEBOOKS

    bindir = Path(sys.executable).parent
    period = review_period(pack)
    errors = {}
    with project(work) as root, batch_env(root) as env:
        out = root / "naive"
        out.mkdir()
        t0 = time.perf_counter()
        for s in (*SECTIONS, "summary"):
            name = NOTEBOOKS[s]
            cmds = [
                [str(bindir / "papermill"), str(root / "notebooks" / name), str(out / name), "-p", "period", period,
                 "-p", "pack", str(pack), "-p", "unit", "naive", "-p", "lang", "zh", "-p", "run_dir", str(out),
                 "--cwd", str(root / "notebooks"), "--no-progress-bar"],
                [str(bindir / "jupyter"), "nbconvert", "--to", "html", str(out / name)],
            ]
            for cmd in cmds:
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    errors[s] = r.stderr.strip()[-300:]
                    break
        dt = time.perf_counter() - t0
    return {"s": dt, "ok": not errors, "errors": errors}


def bench_naive(scale: float, repeats: int, work: Path = WORK, log: Callable[[str], None] = print) -> dict[str, Any]:
    """(c) ``repeats`` naive runs on the pack of ``scale``: min/median seconds, peak RSS."""
    pack = pack_for(scale, work=work, log=log)
    times, errors, peak = [], {}, 0.0
    for i in range(repeats):
        with RSSMonitor() as mon:
            r = naive_once(pack, work)
        times.append(r["s"])
        errors.update(r["errors"])
        peak = max(peak, mon.peak_mb)
        log(f"  naive scale {scale:g} run {i + 1}/{repeats}: {r['s']:.2f} s, peak RSS {mon.peak_mb:.0f} MB"
            + (f", FAILED {sorted(r['errors'])}" if r["errors"] else ""))
    return {"scale": scale, "wall_s": summarize(times), "rss_peak_mb": peak, "ok": not errors, "errors": errors}


# ---------------------------------------------------------------- (d) compute: ours against pandas


@dataclasses.dataclass(frozen=True)
class Analysis:
    """One analysis: our call on an opened pack, the pandas peer on the folder, and their comparison."""

    name: str
    ours: Callable[[Any, Any, Any], Any]  # (pack, period, settings) -> result
    peer: Callable[[Path, Any, Any], Any]  # (folder, period, settings) -> result
    check: Callable[[Any, Any], list[str]]  # (ours, peer) -> differences


def _ours_retention(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.retention import retention

    s = settings.insights
    return retention(pack, period, interval=s.retention_period, mode=s.retention_mode, cohorts=s.retention_cohorts,
                     start_event=s.retention_start_event, return_event=s.retention_return_event)


def _ours_funnel(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.funnel import funnel

    s = settings.insights
    return funnel(pack, period, steps=s.funnel_steps, window_days=s.funnel_window_days, entry=s.funnel_entry)


def _ours_rfm(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.rfm import rfm_segments

    return rfm_segments(pack, period, settings.insights.rfm_segments)


def _ours_attribution(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.attribution import attribution

    return attribution(pack, period, settings.insights)


def _ours_anomalies(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.anomalies import series_for

    return {k: series_for(pack, k, period, settings.problems) for k in ("dau", "new_users", "gmv", "conversion",
                                                                       "churn")}


def _ours_kpis(pack: Any, period: Any, settings: Any) -> Any:
    from opsnb.metrics.kpis import attainment

    return attainment(pack, period, settings)


def _peer(name: str) -> Callable[[Path, Any, Any], Any]:
    from benchmarks import peers

    def run(folder: Path, period: Any, settings: Any) -> Any:
        ins, pr = settings.insights, settings.problems
        if name == "retention":
            return peers.retention(folder, period, cohorts=ins.retention_cohorts)
        if name == "funnel":
            return peers.funnel(folder, period, steps=ins.funnel_steps, window_days=ins.funnel_window_days,
                                entry=ins.funnel_entry)
        if name == "rfm":
            return peers.rfm_segments(folder, period, ins.rfm_segments)
        if name == "attribution":
            return peers.attribution(folder, period, lookback_days=ins.attribution_lookback_days,
                                     half_life_days=ins.time_decay_half_life_days,
                                     position_weights=ins.position_weights)
        if name == "anomalies":
            return peers.anomaly_series(folder, period, history_days=pr.anomaly_history_days,
                                        history_weeks=pr.anomaly_history_weeks)
        return peers.attainment(folder, period, settings.goals.kpis)

    return run


def _check_retention(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare

    return compare(a, b, ["cohort_label", "period"], ["cohort_size", "users", "rate", "complete"])


def _check_funnel(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare

    return compare(a, b, ["step"], ["event", "users", "overall", "step_rate"])


def _check_rfm(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare

    return compare(a, b, ["segment"], ["customers", "share", "revenue", "revenue_share", "recency", "frequency",
                                       "monetary"])


def _check_attribution(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare

    d = compare(a, b, ["channel"], ["first", "last", "linear", "time_decay", "position", "markov"])
    if list(a["channel"]) != list(b["channel"]):
        d.append(f"channel order: ours {list(a['channel'])} peer {list(b['channel'])}")
    for k in ("conversions", "attributed"):
        if a.attrs.get(k) != b.attrs.get(k):
            d.append(f"{k}: ours {a.attrs.get(k)} peer {b.attrs.get(k)}")
    return d


def _check_anomalies(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare_series

    return [f"{k}: {x}" for k in a for x in compare_series(a[k], b[k])]


def _check_kpis(a: Any, b: Any) -> list[str]:
    from benchmarks.peers import compare

    return compare(a, b, ["key"], ["actual", "target", "attainment", "previous", "last_year", "mom", "yoy"])


ANALYSES: dict[str, Analysis] = {a.name: a for a in [
    Analysis("retention", _ours_retention, _peer("retention"), _check_retention),
    Analysis("funnel", _ours_funnel, _peer("funnel"), _check_funnel),
    Analysis("rfm", _ours_rfm, _peer("rfm"), _check_rfm),
    Analysis("attribution", _ours_attribution, _peer("attribution"), _check_attribution),
    Analysis("anomalies", _ours_anomalies, _peer("anomalies"), _check_anomalies),
    Analysis("kpis", _ours_kpis, _peer("kpis"), _check_kpis),
]}


def timed(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any, float]:
    """``repeats`` timed calls of ``call``, then one more under :class:`RSSMonitor` for the peak memory.

    Returns (seconds per timed call, the last result, peak RSS in MB). The monitor's thread walks the
    process tree while holding the GIL: running it during calls of a tenth of a second would charge
    its cost to them, the most to the fastest side, so the timed calls run without it.
    """
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    with RSSMonitor() as mon:
        call()
    return times, result, mon.peak_mb


def _fresh_call(fn: Callable[[Any, Any, Any], Any], pack: Any, period: Any, settings: Any) -> Any:
    return fn(fresh(pack), period, settings)


def fresh(pack: Any) -> Any:
    """A new Pack object on the same connection: no per-pack memo (KPI components, last day) carried over."""
    return dataclasses.replace(pack)


def _settings() -> Any:
    from opsnb.params import load_params

    return load_params(root=ROOT)


def time_ours(folder: Path, repeats: int, names: Sequence[str] | None = None, *,
              store: bool = True) -> dict[str, dict[str, Any]]:
    """Our analyses on an opened pack of ``folder``: per analysis seconds (fresh Pack object per call).

    ``store=True`` reads the pack's DuckDB store (built first if missing, as the batch does before
    its sections run); ``store=False`` reads the pack's files, with ``user_days`` built once up front.
    """
    from opsnb.pack import open_pack
    from opsnb.pack.derived import warm
    from opsnb.periods import Period

    settings, period = _settings(), Period.parse(review_period(folder))
    pack = open_pack(folder, tz=settings.timezone, store=store)
    warm(pack)
    out: dict[str, dict[str, Any]] = {}
    for name in names or list(ANALYSES):
        a = ANALYSES[name]
        times, result, peak = timed(partial(_fresh_call, a.ours, pack, period, settings), repeats)
        out[name] = {"s": summarize(times), "rss_peak_mb": peak, "result": result}
    return out


def time_store(folder: Path, repeats: int) -> dict[str, Any]:
    """Building the pack's store from scratch (what the first run after a pack change pays once).

    The store (see :mod:`opsnb.pack.derived`) holds every table of the pack and the derived
    ``user_days``; our analyses read it. Measured in a throw-away cache so the real one is untouched;
    ``user_days_s`` is the derived table alone, built from the files.
    """
    from opsnb.pack import open_pack
    from opsnb.pack.derived import warm

    settings = _settings()
    times: list[float] = []
    ud_times: list[float] = []
    with fresh_cache() as tmp:
        pack = None
        for _ in range(repeats):
            for f in tmp.glob("store-*"):
                f.unlink()
            pack = open_pack(folder, tz=settings.timezone)
            t0 = time.perf_counter()
            warm(pack)
            times.append(time.perf_counter() - t0)
            files = open_pack(folder, tz=settings.timezone, store=False)
            t0 = time.perf_counter()
            warm(files)
            ud_times.append(time.perf_counter() - t0)
        assert pack is not None
        rows = int(pack.derived("user_days").count().execute())
        events = int(pack.table("events").count().execute())
        size = sum(f.stat().st_size for f in tmp.glob("store-*.duckdb"))
    return {"store": {"s": summarize(times), "bytes": size},
            "user_days": {"s": summarize(ud_times), "rows": rows, "events_rows": events}}


def bench_compute(scale: float, repeats: int, work: Path = WORK,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """(d) per analysis: ours against the pandas peer on the pack of ``scale``, with an identity check."""
    from opsnb.periods import Period

    folder = pack_for(scale, work=work, log=log)
    settings, period = _settings(), Period.parse(review_period(folder))
    ours = time_ours(folder, repeats)
    files = time_ours(folder, repeats, store=False)
    out: dict[str, Any] = {}
    for name, a in ANALYSES.items():
        times, result, peak = timed(partial(a.peer, folder, period, settings), repeats)
        diffs = a.check(ours[name]["result"], result) + a.check(files[name]["result"], result)
        out[name] = {"ours_s": ours[name]["s"], "ours_files_s": files[name]["s"], "pandas_s": summarize(times),
                     "ours_rss_peak_mb": ours[name]["rss_peak_mb"], "pandas_rss_peak_mb": peak,
                     "pandas_over_ours": ratio(summarize(times)["min"], ours[name]["s"]["min"]),
                     "pandas_over_ours_files": ratio(summarize(times)["min"], files[name]["s"]["min"]),
                     "identical": not diffs, "differences": diffs[:10]}
        log(f"  {name}: ours {ours[name]['s']['min']:.3f} s (reading the files {files[name]['s']['min']:.3f} s), "
            f"pandas {summarize(times)['min']:.3f} s, identical {not diffs}")
    derived = time_store(folder, repeats)
    st, ud = derived["store"], derived["user_days"]
    log(f"  store (built once per pack content, then read by every analysis and run): {st['s']['min']:.3f} s, "
        f"{st['bytes'] / 1e6:.0f} MB; of which user_days alone {ud['s']['min']:.3f} s, "
        f"{ud['rows']:,} rows from {ud['events_rows']:,} events")
    return {"scale": scale, "period": period.label, "analyses": out, "derived": derived}


# ---------------------------------------------------------------- (e) scaling


def bench_scaling(scales: Sequence[float], repeats: int, work: Path = WORK,
                  known: dict[float, dict[str, float]] | None = None,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """(e) our compute time per analysis at each scale, and the fitted ``time ≈ a · scale^b``.

    ``known`` maps a scale to already measured ``{analysis: min seconds}`` (reused, not re-run).
    """
    per_scale: dict[str, dict[str, float]] = {}
    for sc in scales:
        if known and sc in known:
            mins = dict(known[sc])
        else:
            folder = pack_for(sc, work=work, log=log)
            mins = {k: v["s"]["min"] for k, v in time_ours(folder, repeats).items()}
        mins["total"] = round(sum(v for k, v in mins.items() if k != "total"), 3)
        per_scale[f"{sc:g}"] = mins
        log(f"  scale {sc:g}: total {mins['total']:.3f} s")
    fits = {}
    for name in [*ANALYSES, "total"]:
        fits[name] = fit_power(list(scales), [per_scale[f"{s:g}"][name] for s in scales])
    return {"scales": list(scales), "seconds": per_scale, "fit": fits}


# ---------------------------------------------------------------- (f) warehouse packs, (g) DuckDB at scale 30

from benchmarks.warehouse import bench_duckdb30 as bench_duckdb30  # noqa: E402  (re-exported)
from benchmarks.warehouse import bench_warehouse as bench_warehouse  # noqa: E402
