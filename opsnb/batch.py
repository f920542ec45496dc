"""Run a period: validate, execute sections in parallel, export HTML, summarise, publish atomically.

Layout of a unit's outputs::

    outputs/<unit>/<period>            → symlink to .runs/<period>-<run id> (swapped atomically)
    outputs/<unit>/.runs/<period>-<id>/ index.html, 01_goals.html …, *.ipynb, manifest.json
    outputs/<unit>/ledger.parquet       KPI values of every publication
    outputs/<unit>/.<period>.lock       held while a run works on that period

A reader therefore always sees the old complete report or the new complete one, never a mix.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsnb import facts
from opsnb import runfolder as rf
from opsnb.errors import NoData, OpsnbError, ParamsError, Problem
from opsnb.params import NOTEBOOKS, SECTIONS, Settings, load_params, merge_overrides
from opsnb.paths import notebooks_dir, outputs_dir, project_root
from opsnb.periods import Period
from opsnb.runfolder import SHOWN
from opsnb.runfolder import publish_link as publish  # the atomic swap of a unit's period (also the roll-up's)

#: files a section leaves in the run folder besides its notebook and HTML (copied when it is reused)
ARTEFACTS = {"goals": ("kpis.parquet", "handoff-kpi_cards.json", "handoff-wins.json", "handoff-kpis.json"),
             "problems": ("handoff-top_problems.json", "handoff-problems.json"),
             "plan": ("plan_targets.csv", "handoff-next_actions.json", "handoff-actions.json")}


@dataclass
class SectionResult:
    """Outcome of one section notebook."""

    section: str
    status: str = "pending"  # ok | failed | skipped
    duration_s: float = 0.0
    html: str | None = None
    notebook: str | None = None
    error: str | None = None
    failing_cell: int | None = None
    fingerprint: str | None = None
    reused_from: str | None = None
    #: where the time went: papermill execution and HTML export (seconds)
    execute_s: float = 0.0
    export_s: float = 0.0
    #: when the section got its kernel, in seconds from the start of the run (0 for reused sections)
    start_s: float = 0.0
    #: the pack tables whose absence left every subsection empty ("not applicable"); None when it showed data
    not_applicable: list[str] | None = None
    #: what the section asked of the pack's engine (:class:`opsnb.pack.engine.Usage`): engine, queries,
    #: rows brought back, seconds, the largest result and where it was asked; None when not recorded
    engine: dict[str, Any] | None = None
    #: when the page shown was computed (UTC, ISO) and by which run: this run for a fresh page, the earlier
    #: run for a reused or carried one
    computed_at: str | None = None
    computed_in: str | None = None
    #: the run whose folder the page was copied from when this run did not compute it (``carried``: not asked
    #: for; ``failed``: this run's attempt failed and the last good page stands, marked)
    carried_from: str | None = None
    #: the inputs of the page shown that changed since it was computed (data, params, code, notebook): out of date
    stale: list[str] = field(default_factory=list)
    #: hashes of the section's inputs (data, params, code, notebook, lang) when its page was computed
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in SHOWN

    @property
    def has_page(self) -> bool:
        """Whether the run folder holds a page for it (fresh, reused, or carried from an earlier run)."""
        return self.html is not None and (self.ok or self.carried_from is not None)


@dataclass
class RunResult:
    """Outcome of a batch run."""

    unit: str
    period: str
    out_dir: Path
    run_dir: Path
    sections: list[SectionResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """No section failed (a section never run, with nothing earlier to carry, is not a failure)."""
        return all(s.ok or s.status == "skipped" for s in self.sections)

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")  # orders runs finished within one second


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("opsnb", "pandas", "ibis-framework", "duckdb", "papermill", "nbconvert", "seaborn", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    return out


def _git_commit(root: Path) -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None


#: The exclusive lock on one output period (also the ledger's and the archive's): :class:`opsnb.runfolder.Lock`.
_Lock = rf.Lock


WARMUP = """
import matplotlib
import opsnb.nb, opsnb.sections.base
from opsnb.render import theme
theme.apply()
import opsnb.sections.{modules}
import gc as _gc
_gc.collect()
_gc.freeze()  # what the imports made lives as long as the kernel: never scanned again
_gc.set_threshold(50_000, 20, 100)  # a section makes millions of small objects: fewer, larger young passes
"""


def warmup_code() -> str:
    """:data:`WARMUP` with every section view module: what a pool kernel runs once after starting."""
    from opsnb.sections import MODULES

    return WARMUP.replace("{modules}", ", opsnb.sections.".join(sorted({m for ms in MODULES.values() for m in ms})))


#: Run in a kernel between two sections: the next notebook starts from an empty namespace.
RESET = """
import matplotlib.pyplot as _plt
_plt.close("all")
get_ipython().reset(new_session=False)
get_ipython().execution_count = 1
"""


class KernelPool:
    """A few kernels started ahead of time with the heavy modules imported, recycled between sections.

    As many kernels as sections run at once (``size``): each is started and warmed once, runs a
    section, and — if that section succeeded — has its namespace reset and goes back to the pool for
    the next section. Imports (pandas, Ibis, DuckDB, matplotlib, seaborn: ~3 s of CPU per kernel)
    are therefore paid ``size`` times, not once per section, and overlap with validation and ingest.
    A kernel whose section failed (an error, a timeout, a crash) is never reused: it is shut down and
    a fresh one is started in its place. A kernel that fails to start is reported as None and
    papermill then starts its own.
    """

    def __init__(self, size: int, *, cwd: Path, env: dict[str, str], warmup: str | None = None):
        import queue
        import threading

        self._warmup = warmup if warmup is not None else warmup_code()
        self._cwd, self._env = cwd, env
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.errors: list[str] = []  # why a warm kernel could not be had (papermill then started one)
        self.notes: list[str] = []  # why a kernel was not simply reset and reused after a clean section
        self.started = 0
        for _ in range(max(1, size)):
            self._spawn()

    def _spawn(self) -> None:
        import threading

        self.started += 1
        threading.Thread(target=self._start, daemon=True).start()

    def _start(self) -> None:
        import asyncio

        from jupyter_client.manager import AsyncKernelManager

        km = None
        try:
            # nbclient drives the kernel from its own event loop: it needs an *async* manager (a blocking one
            # would block that loop and hide a dead kernel).
            # IPC (unix sockets) rather than TCP: no port races between kernels started at once.
            import tempfile

            sock = Path(tempfile.mkdtemp(prefix="opsnb-kernel-")) / "k"
            km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(sock))
            _SOCKET_DIRS[id(km)] = sock.parent
            asyncio.run(_awaited(km.start_kernel(cwd=str(self._cwd), env=self._env)))
            _run_code(km, self._warmup, timeout=300)
            with self._lock:
                if not self._closed:
                    self._queue.put(km)
                    return
            stop_kernel(km)  # the pool was closed while this kernel started
        except Exception as exc:  # noqa: BLE001 - a warm kernel is an optimisation; papermill starts one instead
            self.errors.append(f"{type(exc).__name__}: {exc}")
            if km is not None:
                stop_kernel(km)
            self._queue.put(None)

    def take(self) -> Any:
        """A warm kernel manager (waits for one), or None when one could not be started."""
        return self._queue.get()

    def give_back(self, km: Any, ok: bool) -> None:
        """Return ``km`` after a section: reset and reuse it if the section succeeded, else replace it."""
        if km is None:
            self._queue.put(None)
            return
        try:
            if ok and not run_async(km.is_alive()):
                self.notes.append("a kernel died after a clean section: replaced")
            elif ok:
                try:  # it just ran a section: no readiness poll (saves ~0.2 s a section) …
                    _run_code(km, RESET, timeout=10, ready=False)
                except Exception as exc:  # noqa: BLE001 - … unless a new client's channels were slow to join
                    self.notes.append(f"reset without readiness poll failed ({type(exc).__name__}: {exc}): retried")
                    _run_code(km, RESET, timeout=60, ready=True)
                self._queue.put(km)
                return
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot be reset is replaced like a failed one
            self.notes.append(f"reset failed ({type(exc).__name__}: {exc}): kernel replaced")
        stop_kernel(km)
        self._spawn()

    def close(self) -> None:
        """Shut down every kernel in the pool (those still starting are shut down as they arrive)."""
        import queue

        with self._lock:
            self._closed = True
        while True:
            try:
                km = self._queue.get_nowait()
            except queue.Empty:
                break
            if km is not None:
                stop_kernel(km)


def _run_code(km: Any, code: str, *, timeout: float, ready: bool = True) -> None:
    """Run ``code`` in ``km``'s kernel and wait for it; raises if the kernel reports an error.

    ``ready``: first wait until the kernel answers (a just-started kernel); this polls and costs ~0.2 s.
    """
    kc = km.blocking_client()  # parent = km: liveness from the process, not a racy heartbeat
    kc.start_channels()
    try:
        if ready:
            kc.wait_for_ready(timeout=120)
        reply = kc.execute_interactive(code, timeout=timeout, store_history=False, output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise OpsnbError(f"kernel code failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    finally:
        kc.stop_channels()


_SOCKET_DIRS: dict[int, Path] = {}  # kernel manager → its private folder of IPC sockets


async def _awaited(aw: Any) -> Any:
    return await aw


def run_async(aw: Any) -> Any:
    """Wait for the awaitable ``aw`` from synchronous code, even where an asyncio loop is already running.

    ``asyncio.run`` refuses a thread with a running loop (a Jupyter kernel, an async caller, a Playwright
    session): such a caller would have had every pool kernel thrown away after its first section, as a
    kernel that "could not be reset". There the coroutine runs on a loop in a thread of its own.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_awaited(aw))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="opsnb-async") as pool:
        return pool.submit(asyncio.run, _awaited(aw)).result()


def stop_kernel(km: Any) -> None:
    """Shut a pool kernel down now (it may already be dead)."""
    try:
        run_async(km.shutdown_kernel(now=True))
    except Exception:  # noqa: BLE001 - the kernel may be gone already; nothing else to release
        pass
    sock_dir = _SOCKET_DIRS.pop(id(km), None)
    if sock_dir is not None:
        shutil.rmtree(sock_dir, ignore_errors=True)


def code_fingerprint() -> str:
    """A hash of the opsnb package's code and catalogues (a changed helper invalidates reused sections)."""
    import hashlib

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for f in sorted(pkg.rglob("*")):
        if f.suffix in (".py", ".yaml", ".j2", ".css", ".json") and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def section_fingerprint(*parts: str) -> str:
    """Inputs of one section: pack fingerprint, settings, notebook, code, language."""
    import hashlib

    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


#: Settings that change how a run is carried out or delivered, never what a page shows: left out of the
#: sections' fingerprints (so ``--sections goals`` or a new webhook does not make the other pages out of date).
NOT_SHOWN = ("batch", "publish", "notify", "alerts", "delivery")


def shown_params(settings: Settings) -> str:
    """The settings that decide what a page shows, as stable text (the ``params`` input of a fingerprint)."""
    data = {k: v for k, v in settings.model_dump(mode="json").items() if k not in NOT_SHOWN}
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The names of the inputs (data, params, code, notebook, lang) that differ; ``inputs`` if unknown."""
    if not old:
        return ["inputs"]
    return [k for k in new if old.get(k) != new[k]]


#: Relative section cost on the sample pack (seconds at scale 1), for ordering a first run.
TYPICAL_COST = {"goals": 5.0, "insights": 4.0, "campaigns": 2.5, "problems": 2.5, "plan": 1.0}


def _append_ledger(r: _Run, goals: SectionResult | None) -> None:
    """Record the published KPI values in ``outputs/<unit>/ledger.parquet`` (restatements show next time).

    Only when this run computed (or re-published unchanged) the goals page: a carried page published nothing new.
    """
    kpis = r.run_dir / "kpis.parquet"
    if goals is None or goals.status not in ("ok", "reused") or not kpis.is_file():
        return
    import pandas as pd

    from opsnb.metrics.ledger import append_ledger

    with rf.Lock(r.unit_dir / ".ledger.lock", wait=True, log=r.log):  # runs of other periods append too
        append_ledger(r.unit_dir / "ledger.parquet", r.settings.unit, r.period.label, pd.read_parquet(kpis),
                      r.run_id, _now())


def applicability(run_dir: Path, section: str) -> list[str] | None:
    """The missing tables that left every subsection of ``section`` empty, from its ``outcomes-<section>.json``.

    None when a subsection showed data (or no outcomes were recorded): the section is applicable.
    """
    path = run_dir / f"outcomes-{section}.json"
    if not path.is_file():
        return None
    outcomes = json.loads(path.read_text(encoding="utf-8"))
    if not outcomes or any(o == "ok" for o in outcomes.values()):
        return None
    tables = sorted({o.split(":", 1)[1] for o in outcomes.values() if o.startswith("no_table:")})
    return tables or None


def _error_of(exc: BaseException) -> tuple[str, int | None]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue}", exc.cell_index
    return f"{type(exc).__name__}: {exc}", None


def _source_cell_index(executed: Path, index: int | None) -> int | None:
    """Map a cell index of the executed notebook back to the source notebook (papermill injects one cell)."""
    if index is None or not executed.is_file():
        return index
    import nbformat

    cells = [c for c in nbformat.read(executed, as_version=4).cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - 1 if injected and injected[0] < index else index


def _usage(run_dir: Path, section: str) -> dict[str, Any] | None:
    """What the section's kernel recorded of its engine use (``usage-<section>.json``), or None."""
    path = run_dir / f"usage-{section}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def execute_section(section: str, *, nb_dir: Path, run_dir: Path, parameters: dict[str, Any], timeout_s: int,
                    lang: str, header: list[tuple[str, str]], toc_title: str, title: str,
                    km: Any = None, release: Callable[[Any, bool], None] | None = None) -> SectionResult:
    """Execute one section notebook with papermill, check it is complete, export HTML into ``run_dir``.

    ``km`` is a started kernel manager to run in (papermill starts one when None); afterwards it is
    handed to ``release(km, ok)`` (a :class:`KernelPool` recycles it) or shut down.
    """
    import nbformat
    import papermill as pm

    from opsnb.export import export_html, notebook_problems

    name = NOTEBOOKS[section]
    res = SectionResult(section, notebook=name)
    t0 = time.perf_counter()
    out_nb = run_dir / name
    extra = {"km": km} if km is not None else {"shutdown_kernel": "immediate"}
    try:
        pm.execute_notebook(with_handoff(nbformat.read(nb_dir / name, as_version=4), section), str(out_nb),
                            parameters=parameters, kernel_name="python3", progress_bar=False, log_output=False,
                            execution_timeout=timeout_s, request_save_on_cell_execute=False, **extra)
        res.execute_s = round(time.perf_counter() - t0, 2)
        res.engine = _usage(run_dir, section)
        nb = without_handoff(nbformat.read(out_nb, as_version=4))
        nbformat.write(nb, out_nb)
        problems = notebook_problems(nb)
        if problems:
            raise OpsnbError("; ".join(problems))
        t1 = time.perf_counter()
        html = export_html(nb, lang=lang, title=title, header=header, toc_title=toc_title)
        html_name = "index.html" if section == "summary" else name.replace(".ipynb", ".html")
        tmp = run_dir / f".{html_name}.tmp"
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, run_dir / html_name)
        res.html = html_name
        res.export_s = round(time.perf_counter() - t1, 2)
        res.status = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure of one section is recorded, the others go on
        res.status = "failed"
        res.error, res.failing_cell = _error_of(exc)
        res.failing_cell = _source_cell_index(out_nb, res.failing_cell)
        if not isinstance(exc, OpsnbError):
            res.error += "\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]
    finally:
        if release is not None:
            release(km, res.status == "ok")
        elif km is not None:
            stop_kernel(km)
    res.duration_s = round(time.perf_counter() - t0, 2)
    return res


#: The tag of the cell the batch appends to a section notebook that hands results to the summary page.
HANDOFF_TAG = "opsnb-handoff"


def with_handoff(nb: Any, section: str) -> Any:
    """``nb`` with a last cell that writes the section's hand-offs for the summary page and its engine use.

    The batch adds it (the notebooks in git stay free of it, and a notebook opened in JupyterLab does
    not write into a run folder): the section's kernel already holds the results, so handing them
    over there costs nothing, while the summary kernel recomputing them would sit on the critical path.
    The cell also writes ``usage-<section>.json`` (:meth:`opsnb.context.Context.save_usage`): the
    queries the section ran in the pack's engine and the rows they brought back, for the manifest.
    """
    import nbformat

    from opsnb.sections.summary import HANDOFFS

    # a notebook of one's own may not build a ``ctx``: then there is nothing to hand over
    lines = ['if globals().get("ctx") is not None:']
    if section in HANDOFFS:
        lines.append("    from opsnb.sections.summary import produce\n    produce(ctx)")
    lines.append("    ctx.save_usage()")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [HANDOFF_TAG]
    nb.cells.append(cell)
    return nb


def without_handoff(nb: Any) -> Any:
    """``nb`` without the cell :func:`with_handoff` added (the published notebook is the section's own)."""
    nb.cells = [c for c in nb.cells if HANDOFF_TAG not in c.get("metadata", {}).get("tags", [])]
    return nb


@dataclass
class _Run:
    """One run's state as it moves through the phases of :func:`run` (plan, reuse, execute, publish)."""

    settings: Settings
    pack_path: Path
    pack: Any
    period: Period
    root: Path
    nb_dir: Path
    log: Any
    t_start: float
    unit_dir: Path
    target: Path
    run_id: str
    run_dir: Path
    result: RunResult
    params_nb: dict[str, Any]
    header: list[tuple[str, str]]
    toc: str
    chosen: list[str]
    env: dict[str, str]
    started_at: str = ""
    #: the unit's own language (params without ``--lang``): its reviews are published under ``<period>``
    home_lang: str = "zh"
    #: every section of a whole review (``batch.sections``): those not ``chosen`` are carried forward
    full: list[str] = field(default_factory=list)
    code: str = ""
    #: each section's inputs (data, params, code, notebook, lang) as hashes, and their fingerprint
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    prints: dict[str, str | None] = field(default_factory=dict)
    #: earlier finished runs of this unit, period and language, newest first (reuse and carry come from them)
    history: list[rf.RunInfo] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.settings.lang


#: Runs one section of a run somewhere (a shared kernel pool, a Dask worker) and returns its result:
#: ``runner(run, section, title)``. None: the run's own pool of warm kernels.
SectionRunner = Callable[["_Run", str, str], SectionResult]


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
        r = _plan(spec, root=root, nb_dir=nb_dir, log=log, t_start=t_start, unit_dir=unit_dir, sections=sections)
        saved_env = {k: os.environ.get(k) for k in ("OPSNB_HOME", "OPSNB_BATCH")}
        os.environ["OPSNB_HOME"] = str(root)  # for kernels papermill starts itself (no warm kernel)
        os.environ["OPSNB_BATCH"] = "1"
        try:
            reusable = {} if force else _reuse(r)
            done, summary = _execute(r, reusable, progress=progress, runner=runner)
            _publish(r, done, summary)
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


def home_lang(settings: Settings, root: Path) -> str:
    """The unit's own language: its params (``default.yaml`` and ``<unit>.yaml``) without ``--lang``."""
    try:
        return load_params(unit=settings.unit, root=root).lang
    except ParamsError:  # the unit's files alone may not validate (a required --set): the run's language
        return settings.lang


def _plan(spec: Any, *, root: Path, nb_dir: Path, log: Any, t_start: float, unit_dir: Path,
          sections: list[str] | None = None) -> _Run:
    """The run folder, its ``params.yaml`` (exactly the validated settings), the notebooks' parameters."""
    import hashlib

    import yaml

    from opsnb.render.i18n import t

    settings, pack_path, the_pack, per = spec.settings, spec.pack_path, spec.pack, spec.period
    lang_ = settings.lang
    home = home_lang(settings, root)
    target = unit_dir / rf.published_name(per.label, lang_, home)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{os.urandom(3).hex()}"
    run_dir = unit_dir / rf.RUNS / per.label / run_id
    run_dir.mkdir(parents=True)
    # The kernels load exactly the settings validated here: one YAML file with every setting.
    effective = settings.model_dump(mode="json")
    effective.update(period=per.label, pack=str(pack_path))
    (run_dir / "params.yaml").write_text(yaml.safe_dump(effective, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    params_nb = {"period": per.label, "unit": settings.unit, "pack": str(pack_path),
                 "params_file": str(run_dir / "params.yaml"), "lang": lang_, "run_dir": str(run_dir)}
    started = now.strftime("%Y-%m-%d %H:%M UTC")
    header = [(t("common.unit", lang_), settings.unit), (t("common.period", lang_), per.label),
              (t("common.generated_at", lang_), started),
              (t("common.data_as_of", lang_), str(the_pack.day_range()[1]))]
    # Kernels inherit these: the project root, and batch mode (explorers render static fallbacks).
    env = dict(os.environ, OPSNB_HOME=str(root), OPSNB_BATCH="1")
    full = [s for s in SECTIONS if s in settings.batch.sections or s in (sections or [])]
    chosen = [s for s in full if s in (sections or full)]
    r = _Run(settings, pack_path, the_pack, per, root, nb_dir, log, t_start, unit_dir, target, run_id, run_dir,
             RunResult(settings.unit, per.label, target, run_dir), params_nb, header, t("common.contents", lang_),
             chosen, env, started_at=_now(), home_lang=home, full=full)
    r.code = code_fingerprint()
    shown = hashlib.sha256(shown_params(settings).encode()).hexdigest()[:16]
    for s in full:
        nb_text = (nb_dir / NOTEBOOKS[s]).read_text(encoding="utf-8")
        r.inputs[s] = {"data": the_pack.fingerprint, "params": shown, "code": r.code,
                       "notebook": hashlib.sha256(nb_text.encode()).hexdigest()[:16], "lang": lang_}
        r.prints[s] = section_fingerprint(*(f"{k}={v}" for k, v in r.inputs[s].items()))
    finished = [i for i in rf.runs_of(unit_dir, per.label) if i.finished and i.lang == lang_ and i.path != run_dir]
    r.history = sorted(finished, key=lambda i: i.finished_at, reverse=True)
    return r


def _page_source(r: _Run, section: str) -> tuple[rf.RunInfo, dict[str, Any]] | None:
    """The newest earlier run of this review whose folder holds a page of ``section``, with its record."""
    for info in r.history:
        rec = info.section(section)
        if rec and rec.get("html") and (info.path / rec["html"]).is_file() and (
                rec.get("status") in SHOWN or rec.get("carried_from")):
            return info, rec
    return None


def _bring(r: _Run, info: rf.RunInfo, rec: dict[str, Any], section: str) -> None:
    """Link (or copy) a section's page and what it handed over from an earlier run folder into this one."""
    for f in (rec["html"], rec.get("notebook") or "", f"facts-{section}.json", f"outcomes-{section}.json",
              f"usage-{section}.json", *ARTEFACTS.get(section, ())):
        if f and (info.path / f).is_file():
            rf.link_or_copy(info.path / f, r.run_dir / f)


def _reuse(r: _Run) -> dict[str, SectionResult]:
    """Chosen sections whose inputs are unchanged since an earlier run of this review: brought over, not executed."""
    reusable: dict[str, SectionResult] = {}
    for sec in r.chosen:
        found = _page_source(r, sec)
        if found is None:
            continue
        info, old = found
        if old.get("fingerprint") != r.prints[sec] or old.get("status") not in ("ok", "reused"):
            continue
        _bring(r, info, old, sec)
        reusable[sec] = SectionResult(sec, "reused", 0.0, old["html"], old.get("notebook"), fingerprint=r.prints[sec],
                                      reused_from=old.get("reused_from") or info.run_id,
                                      computed_at=old.get("computed_at") or info.finished_at,
                                      computed_in=old.get("computed_in") or info.run_id, inputs=r.inputs[sec])
    return reusable


def _carry(r: _Run, section: str, failed: SectionResult | None = None) -> SectionResult | None:
    """The newest earlier page of ``section``, brought into this run and marked with when it was computed and
    which of its inputs changed since (out of date). ``failed``: this run's own attempt, which failed — its
    status and error stay, the last good page stands beside them. None when no earlier run has the page.
    """
    found = _page_source(r, section)
    if found is None:
        return None
    info, old = found
    _bring(r, info, old, section)
    kept = dict(old.get("inputs") or {})
    res = failed or SectionResult(section, "carried", 0.0)
    res.html, res.notebook = old["html"], old.get("notebook")
    res.carried_from = info.run_id
    res.computed_at = old.get("computed_at") or info.finished_at
    res.computed_in = old.get("computed_in") or info.run_id
    res.inputs = kept
    res.fingerprint = old.get("fingerprint")
    res.stale = [] if old.get("fingerprint") == r.prints[section] else changed_inputs(kept, r.inputs[section])
    return res


def _execute(r: _Run, reusable: dict[str, SectionResult], *, progress: bool,
             runner: SectionRunner | None = None) -> tuple[dict[str, SectionResult], SectionResult]:
    """The sections on a pool of warm kernels (longest first), the others carried, then the summary."""
    from opsnb.render.i18n import t

    # Longest first (fewest idle workers at the end): last run's durations, else typical ones.
    cost = dict(TYPICAL_COST)
    for old in (r.history[0].manifest.get("sections", []) if r.history else []):
        if old.get("status") == "ok" and old.get("section") in cost:
            cost[old["section"]] = float(old.get("duration_s") or 0.0)
    to_run = sorted((s for s in r.chosen if s not in reusable), key=lambda s: -cost.get(s, 0.0))
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
        title = f"{t(f'sections.{section}.title', r.lang)} · {r.period.label}"
        res = (runner or pool_runner(kpool))(r, section, title)
        res.fingerprint, res.start_s = r.prints.get(section), started
        if res.status == "ok":
            res.computed_at, res.computed_in, res.inputs = _now(), r.run_id, r.inputs.get(section, {})
        return res

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(r.chosen) + 1, desc=f"opsnb {r.settings.unit} {r.period.label}", unit="section",
                   file=sys.stderr, leave=True)
    done: dict[str, SectionResult] = dict(reusable)
    if bar is not None and reusable:
        bar.update(len(reusable))
    try:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = {pool.submit(one, s): s for s in to_run}
            for fut in as_completed(futures):
                res = fut.result()
                done[res.section] = res
                if bar is not None:
                    bar.set_postfix_str(f"{res.section}: {res.status}")
                    bar.update(1)
        for sec in r.full:  # not asked for, or failed this time: the newest earlier page stands, marked
            if sec not in done:
                done[sec] = _carry(r, sec) or SectionResult(sec, "skipped", notebook=NOTEBOOKS[sec])
            elif done[sec].status == "failed":
                _carry(r, sec, failed=done[sec])
        r.result.sections = [done[s] for s in r.full]
        for res in r.result.sections:
            res.not_applicable = applicability(r.run_dir, res.section) if res.has_page else None
        rf.write_json(r.run_dir / rf.STATUS, [asdict(s) for s in r.result.sections])
        r.prints["summary"] = section_fingerprint(
            *(f"{x.section}:{x.fingerprint}:{x.status}:{x.computed_in}:{','.join(x.stale)}"
              for x in r.result.sections),
            r.pack.fingerprint, shown_params(r.settings), r.code, r.lang,
            (r.nb_dir / NOTEBOOKS["summary"]).read_text(encoding="utf-8"))
        found = _page_source(r, "summary") if not to_run else None
        if found is not None and found[1].get("fingerprint") == r.prints["summary"]:
            info, old = found
            _bring(r, info, old, "summary")
            summary = SectionResult("summary", "reused", 0.0, rf.INDEX, NOTEBOOKS["summary"],
                                    fingerprint=r.prints["summary"], reused_from=info.run_id,
                                    computed_at=old.get("computed_at") or info.finished_at,
                                    computed_in=old.get("computed_in") or info.run_id)
            if kpool is not None:
                kpool.close()
        else:
            summary = one("summary")
            summary.fingerprint = r.prints["summary"]
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
    def run_here(r: _Run, section: str, title: str) -> SectionResult:
        km = kpool.take() if kpool is not None else None
        return execute_section(section, nb_dir=r.nb_dir, run_dir=r.run_dir, parameters=r.params_nb,
                               timeout_s=r.settings.batch.timeout_s, lang=r.lang, header=r.header, toc_title=r.toc,
                               title=title, km=km, release=kpool.give_back if kpool is not None else None)

    return run_here


def _publishable(r: _Run, summary: SectionResult) -> str | None:
    """Why this run is not published (None: it is): readers keep the review they had."""
    if not summary.ok or not (r.run_dir / rf.INDEX).is_file():
        return "the summary page failed"
    if not any(s.status in ("ok", "reused") for s in r.result.sections if s.section in r.chosen):
        return "every section asked for failed"
    return None


def _manifest(r: _Run, shown: list[facts.Fact], clashes: list[str]) -> dict[str, Any]:
    result = r.result
    return {
        "unit": r.settings.unit, "period": r.period.label, "lang": r.lang, "home_lang": r.home_lang,
        "published_as": r.target.name, "run_id": r.run_id, "started_at": r.started_at,
        "finished_at": _now(), "duration_s": result.duration_s, "ok": result.ok,
        "complete": all(s.has_page for s in result.sections),
        "asked": r.chosen, "params": r.settings.model_dump(mode="json"),
        "pack": {"path": str(r.pack_path), "engine": r.pack.engine.name, "fingerprint": r.pack.fingerprint,
                 "tables": r.pack.fingerprints},
        "versions": _versions(), "git_commit": _git_commit(r.root),
        "sections": [asdict(s) for s in result.sections],
        "facts": {"file": facts.FILE, "count": len(shown), "conflicts": clashes},
        "published": False, "pruned": [],
    }


def _publish(r: _Run, done: dict[str, SectionResult], summary: SectionResult) -> None:
    """The run's facts and manifest, then (when publishable) the ledger, the atomic swap, pruning, links, archive.

    Pruning runs after the swap (the new review is linked before anything old goes) and is logged in this
    run's manifest; the links between reviews and the archive page are refreshed last. A kill at any point
    leaves every published review whole: the swap is one ``os.replace``; a pruned folder is renamed first.
    """
    from opsnb import archive

    result = r.result
    result.sections.insert(0, summary)
    result.duration_s = round(time.perf_counter() - r.t_start, 2)
    shown = facts.merge(r.run_dir)
    clashes = facts.describe(facts.conflicts(shown))
    for line in clashes:
        r.log(f"warning: one figure, two values: {line}")
    manifest = _manifest(r, shown, clashes)
    why_not = _publishable(r, summary)
    manifest["published"] = why_not is None
    rf.write_json(r.run_dir / rf.MANIFEST, manifest)
    if why_not is not None:
        r.log(f"{why_not}: {r.target} keeps its previous review; this run is in {r.run_dir}")
    else:
        _append_ledger(r, done.get("goals"))
        publish(r.run_dir, r.target)
    try:  # the review is published (or kept): what follows tidies up and must not turn the run into a failure
        manifest["pruned"] = rf.prune(r.unit_dir, r.period.label, keep=r.settings.publish.keep_runs,
                                      current=r.run_dir, log=r.log)
        if manifest["pruned"]:
            rf.write_json(r.run_dir / rf.MANIFEST, manifest)
        if why_not is None:
            archive.refresh(r.root, unit=r.settings.unit, period=r.period.label, log=r.log)
    except OSError as exc:
        r.log(f"warning: the review is published, but tidying up failed ({exc.strerror or exc}: {exc.filename}); "
              "the next run prunes and rebuilds the archive")
