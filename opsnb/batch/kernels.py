"""Warm kernels: a pool of Jupyter kernels started ahead, with the heavy modules imported, recycled between sections."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from opsnb.errors import OpsnbError

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

