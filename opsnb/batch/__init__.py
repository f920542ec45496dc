"""Run a period: validate, execute sections in parallel, export HTML, summarise, publish atomically.

The phases of :func:`run`: :func:`~opsnb.batch.plan.make_plan` (settings, pack, period, run folder, the
sections' inputs), :func:`~opsnb.batch.plan.reuse` (unchanged sections), :func:`execute` (the kernel pool,
the sections, the carried ones, then the summary), :func:`~opsnb.batch.publish.publish_run` (facts,
manifest, ledger, the atomic swap, pruning, links, the archive). The rooms: ``kernels`` (the warm pool),
``section`` (one notebook: papermill, checks, HTML), ``plan``, ``publish``, ``results``. The layout of
``outputs/`` is :mod:`opsnb.runfolder`'s (docs/publishing.md).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.batch.kernels import KernelPool, run_async, stop_kernel, warmup_code
from opsnb.batch.plan import RunPlan, make_plan, reuse, reused_summary, settle
from opsnb.batch.publish import publish_run
from opsnb.batch.results import RunResult, SectionResult, now_iso
from opsnb.batch.section import execute_section, with_handoff, without_handoff
from opsnb.errors import NoData, OpsnbError, ParamsError, Problem
from opsnb.params import SECTIONS, merge_overrides
from opsnb.paths import notebooks_dir, outputs_dir, project_root
from opsnb.runfolder import publish_link as publish  # the atomic swap of a unit's period (also the roll-up's)

__all__ = ["KernelPool", "RunPlan", "RunResult", "SectionResult", "SectionRunner", "execute_section", "pool_runner",
           "publish", "run", "run_async", "stop_kernel", "warmup_code", "with_handoff", "without_handoff"]

#: The exclusive lock on one output period (also the ledger's and the archive's): :class:`opsnb.runfolder.Lock`.
_Lock = rf.Lock

#: Runs one section of a run somewhere (a shared kernel pool, a Dask worker) and returns its result:
#: ``runner(run, section, title)``. None: the run's own pool of warm kernels.
SectionRunner = Callable[[RunPlan, str, str], SectionResult]

#: Relative section cost on the sample pack (seconds at scale 1), for ordering a first run.
TYPICAL_COST = {"goals": 5.0, "insights": 4.0, "campaigns": 2.5, "problems": 2.5, "plan": 1.0}


def run(*, period: str | None = None, unit: str | None = None, pack: str | None = None,
        sections: list[str] | None = None, lang: str | None = None, workers: int | None = None,
        params_file: str | None = None, overrides: list[str] | None = None, wait: bool = True,
        root: Path | None = None, nb_dir: Path | None = None, log: Any = None, progress: bool = True,
        force: bool = False, runner: SectionRunner | None = None) -> RunResult:
    """Run one period for one unit. Validates params, the pack and the period before any kernel starts.

    ``sections`` refreshes those sections only: the others of the review (``batch.sections``) are carried
    forward from the newest run of the same unit, period and language that has them, and the index says
    when each was computed and whether its inputs changed since. A review in another language than the
    unit's own is published beside it (``outputs/<unit>/<period>.<lang>``), never over it.

    Raises :class:`~opsnb.errors.ParamsError` / :class:`~opsnb.errors.PackError` /
    :class:`~opsnb.errors.PeriodNotCovered` (nothing started) and :class:`~opsnb.errors.LockedError`; a
    failing section is recorded, not raised. The phases: :func:`_plan` (settings, pack, period, run folder),
    :func:`_reuse` (sections whose inputs are unchanged), :func:`_execute` (the kernel pool, the sections,
    the carried ones, then the summary), :func:`_publish` (facts, manifest, ledger, the atomic swap, pruning,
    links, the archive). ``runner`` executes the sections elsewhere (many units sharing one kernel pool, or a
    Dask cluster: :mod:`opsnb.units`); by default the run starts its own pool.
    """
    from opsnb.runspec import NO_PERIOD, resolve_run

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    t_start = time.perf_counter()
    root = (root or project_root()).resolve()
    nb_dir = nb_dir or notebooks_dir(root)
    unknown = [s for s in sections or [] if s not in SECTIONS]
    if unknown:
        raise ParamsError([Problem("--sections", f"unknown sections {unknown}", expected=str(list(SECTIONS)))])
    over: dict[str, Any] = {}
    if workers:
        over.setdefault("batch", {})["workers"] = workers
    try:
        spec = resolve_run(unit=unit, period=period, pack=pack, lang=lang, params_file=params_file,
                           overrides=merge_overrides(list(overrides or []), over), root=root, log=log)
    except NoData as exc:
        if exc.reason != NO_PERIOD:
            raise
        raise OpsnbError("the pack has no dated events or orders; pass --period YYYY-MM") from None
    unit_dir = outputs_dir(root) / spec.settings.unit
    with _Lock(unit_dir / f".{spec.period.label}.lock", wait=wait, log=log):
        r = make_plan(spec, root=root, nb_dir=nb_dir, log=log, t_start=t_start, unit_dir=unit_dir, sections=sections)
        saved_env = {k: os.environ.get(k) for k in ("OPSNB_HOME", "OPSNB_BATCH")}
        os.environ["OPSNB_HOME"] = str(root)  # for kernels papermill starts itself (no warm kernel)
        os.environ["OPSNB_BATCH"] = "1"
        try:
            reusable = {} if force else reuse(r)
            done, summary = execute(r, reusable, progress=progress, runner=runner)
            publish_run(r, done, summary)
        except OSError as exc:  # a full disk, a read-only folder: before the swap, so readers keep what they had
            what = exc.strerror or type(exc).__name__
            raise OpsnbError(f"writing the run failed ({what}: {exc.filename or r.run_dir}); the published review "
                             f"is unchanged ({r.target}); this run's folder is {r.run_dir}") from None
        finally:
            for k, v in saved_env.items():  # the caller's environment is left as it was
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return r.result



def _longest_first(r: RunPlan, reusable: dict[str, SectionResult]) -> list[str]:
    """The sections to execute, longest first (fewest idle workers at the end): last run's durations, else typical."""
    cost = dict(TYPICAL_COST)
    for old in (r.history[0].manifest.get("sections", []) if r.history else []):
        if old.get("status") == "ok" and old.get("section") in cost:
            cost[old["section"]] = float(old.get("duration_s") or 0.0)
    return sorted((s for s in r.chosen if s not in reusable), key=lambda s: -cost.get(s, 0.0))


def execute(r: RunPlan, reusable: dict[str, SectionResult], *, progress: bool,
            runner: SectionRunner | None = None) -> tuple[dict[str, SectionResult], SectionResult]:
    """The sections on a pool of warm kernels (longest first), the others carried, then the summary."""
    from opsnb.render.i18n import t

    to_run = _longest_first(r, reusable)
    n_workers = max(1, min(r.settings.batch.workers, len(to_run) or 1))
    if runner is not None:  # sections wait for the shared runner's kernels or workers, not for this run's threads
        n_workers = max(1, len(to_run))
    # no kernel at all when every section is reused (the summary then is too, or gets papermill's own)
    kpool = KernelPool(n_workers, cwd=r.nb_dir, env=r.env) if to_run and runner is None else None
    if to_run:  # while the kernels start: import what the workers use, build the pack's derived tables once
        import nbformat  # noqa: F401
        import papermill  # noqa: F401 - ~1-2 s of imports, otherwise paid by the first sections

        import opsnb.export  # noqa: F401
        from opsnb.pack.derived import warm

        warm(r.pack)

    def one(section: str) -> SectionResult:
        started = round(time.perf_counter() - r.t_start, 2)
        # the unit and the period in every page's <title> (browser tabs, PDF bookmarks tell the units apart)
        title = f"{t(f'sections.{section}.title', r.lang)} · {r.settings.unit_name(r.lang)} · {r.period.label}"
        res = (runner or pool_runner(kpool))(r, section, title)
        res.fingerprint, res.start_s = r.prints.get(section), started
        if res.status == "ok":
            res.computed_at, res.computed_in, res.inputs = now_iso(), r.run_id, r.inputs.get(section, {})
        return res

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(r.chosen) + 1, desc=f"opsnb {r.settings.unit} {r.period.label}", unit="section",
                   file=sys.stderr, leave=True, initial=len(reusable))
    done: dict[str, SectionResult] = dict(reusable)
    try:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for fut in as_completed([pool.submit(one, s) for s in to_run]):
                res = fut.result()
                done[res.section] = res
                if bar is not None:
                    bar.set_postfix_str(f"{res.section}: {res.status}")
                    bar.update(1)
        settle(r, done)
        summary = reused_summary(r) if not to_run else None
        if summary is None:
            summary = one("summary")
    finally:
        if kpool is not None:
            kpool.close()
    for why in (kpool.errors if kpool is not None else []):
        r.log(f"note: a warm kernel could not be started ({why}); papermill started one")
    for why in (kpool.notes if kpool is not None else []):
        r.log(f"note: kernel pool: {why}")
    if bar is not None:
        bar.update(1)
        bar.close()
    return done, summary


def pool_runner(kpool: KernelPool | None) -> SectionRunner:
    """A :data:`SectionRunner` on a pool of warm kernels (None: papermill starts a kernel per section)."""
    def run_here(r: RunPlan, section: str, title: str) -> SectionResult:
        km = kpool.take() if kpool is not None else None
        return execute_section(section, nb_dir=r.nb_dir, run_dir=r.run_dir, parameters=r.params_nb,
                               timeout_s=r.settings.batch.timeout_s, lang=r.lang, header=r.header, toc_title=r.toc,
                               title=title, km=km, release=kpool.give_back if kpool is not None else None)

    return run_here

