"""Fault injection for the batch: a failed section never looks successful and nothing published is lost."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from opsnb import batch
from opsnb import runfolder as rf
from opsnb.errors import LockedError
from opsnb.params import NOTEBOOKS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

PARAMS = 'period = ""\nunit = ""\npack = ""\nparams_file = ""\nlang = ""\nrun_dir = ""'
OK = 'from IPython.display import HTML\nHTML(\'<h2 id="x" class="opsnb-h">fine</h2>\')'
BODIES = {
    "raise": 'raise ValueError("planted failure")',
    "exit0": "import sys\nsys.exit(0)",
    "sigkill": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "sleep": "import time\ntime.sleep(30)",
    "ok": OK,
}


def _nb(body: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(PARAMS, metadata={"tags": ["parameters"]}), new_code_cell(body),
                             new_code_cell(OK)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "params" / "default.yaml").write_text("unit: t\npack: pack\n", encoding="utf-8")
    pack = root / "pack"
    pack.mkdir()
    (pack / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,100\n", encoding="utf-8")
    (pack / "orders.csv").write_text("order_id,user_id,ts,amount\n1,u1,2026-10-01 10:00:00,50\n"
                                    "2,u2,2026-11-30 10:00:00,20\n", encoding="utf-8")
    return root


def _write(root: Path, bodies: dict[str, str]) -> None:
    for section, name in NOTEBOOKS.items():
        nbformat.write(_nb(BODIES[bodies.get(section, "ok")]), root / "notebooks" / name)


def _run(root: Path, **kw):
    return batch.run(root=root, period="2026-10", progress=False, log=lambda m: None, **kw)


def test_failures_are_failures_and_others_publish(project: Path):
    _write(project, {"goals": "raise", "campaigns": "exit0", "insights": "sigkill"})
    res = _run(project, overrides=["batch.timeout_s=20"])
    status = {s.section: s.status for s in res.sections}
    assert status == {"summary": "ok", "goals": "failed", "campaigns": "failed", "insights": "failed",
                      "problems": "ok", "plan": "ok"}
    assert not res.ok
    by = {s.section: s for s in res.sections}
    assert "planted failure" in by["goals"].error and by["goals"].failing_cell == 1
    assert by["campaigns"].error  # sys.exit(0) stops the notebook early: not complete
    assert "Dead" in by["insights"].error or "died" in by["insights"].error.lower() or by["insights"].error
    out = project / "outputs" / "t" / "2026-10"
    assert (out / "index.html").is_file() and (out / "04_problems.html").is_file()
    for failed in ("01_goals.html", "02_campaigns.html", "03_insights.html"):
        assert not (out / failed).exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ok"] is False
    assert {s["section"]: s["status"] for s in manifest["sections"]}["goals"] == "failed"


def test_cli_exit_code_nonzero_on_failure(project: Path, monkeypatch, capsys):
    from opsnb import cli

    _write(project, {"plan": "raise"})
    monkeypatch.setenv("OPSNB_HOME", str(project))
    monkeypatch.chdir(project)
    assert cli.main(["run", "--period", "2026-10", "--quiet"]) == 1
    assert "planted failure" in capsys.readouterr().err


def test_timeout_marks_failed(project: Path):
    _write(project, {"plan": "sleep"})
    res = _run(project, overrides=["batch.timeout_s=2"], sections=["plan"])
    assert {s.section: s.status for s in res.sections}["plan"] == "failed"


def test_previous_output_untouched_when_everything_fails(project: Path):
    _write(project, {})
    first = _run(project, sections=["goals"])
    assert first.ok
    out = project / "outputs" / "t" / "2026-10"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _write(project, {s: "raise" for s in NOTEBOOKS})
    second = _run(project, sections=["goals"])
    assert not second.ok
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_other_period_untouched(project: Path):
    _write(project, {})
    _run(project, sections=["goals"])
    sept = project / "outputs" / "t" / "2026-10"
    before = {p.name: p.read_bytes() for p in sept.iterdir()}
    _write(project, {"goals": "raise"})
    batch.run(root=project, period="2026-11", progress=False, log=lambda m: None, sections=["goals"])
    assert {p.name: p.read_bytes() for p in sept.iterdir()} == before


def test_publish_is_a_single_atomic_swap(tmp_path: Path):
    a, b = tmp_path / ".runs" / "p-a", tmp_path / ".runs" / "p-b"
    for d, text in ((a, "old"), (b, "new")):
        d.mkdir(parents=True)
        (d / "index.html").write_text(text)
    target = tmp_path / "p"
    batch.publish(a, target)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add((target / "index.html").read_text())
            except FileNotFoundError:
                seen.add("MISSING")

    th = threading.Thread(target=reader)
    th.start()
    for _ in range(200):
        batch.publish(b, target)
        batch.publish(a, target)
    stop.set()
    th.join()
    assert seen <= {"old", "new"}


def test_second_run_fails_fast_with_no_wait(project: Path):
    lock = project / "outputs" / "t" / ".2026-10.lock"
    with rf.Lock(lock, wait=False, log=lambda m: None):
        with pytest.raises(LockedError, match="another opsnb run"):
            _run(project, wait=False, sections=["goals"])


def test_second_run_waits_for_the_first(project: Path):
    lock = project / "outputs" / "t" / ".2026-10.lock"
    msgs: list[str] = []
    holder = rf.Lock(lock, wait=False, log=lambda m: None).__enter__()
    threading.Timer(1.0, holder.__exit__, args=(None, None, None)).start()
    t0 = time.perf_counter()
    _write(project, {})
    batch.run(root=project, period="2026-10", progress=False, log=msgs.append, sections=["goals"])
    assert time.perf_counter() - t0 >= 0.9
    assert any("waiting" in m for m in msgs)


def test_env_isolated():
    assert os.environ.get("OPSNB_CACHE")


ECHO = ('import json\nfrom IPython.display import HTML\n'
        'HTML("<pre id=echo>" + json.dumps(dict(period=period, unit=unit, pack=pack, params_file=params_file, '
        'lang=lang, run_dir=run_dir), ensure_ascii=False).replace("<", "&lt;") + "</pre>")')


@pytest.mark.parametrize("value", ["202401", "nan", "it's \"quoted\"", "two\nlines", "华东·运营 ¥", "{{7*7}}"])
def test_parameter_values_round_trip(tmp_path: Path, value: str):
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    nbformat.write(_nb(ECHO), nb_dir / NOTEBOOKS["goals"])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    params = {"period": value, "unit": value, "pack": value, "params_file": value, "lang": value, "run_dir": value}
    res = batch.execute_section("goals", nb_dir=nb_dir, run_dir=run_dir, parameters=params, timeout_s=60, lang="zh",
                                header=[], toc_title="", title="t")
    assert res.status == "ok", res.error
    out = nbformat.read(run_dir / NOTEBOOKS["goals"], as_version=4)
    echoed = next(o for c in out.cells for o in c.get("outputs", []) if "echo" in o.get("data", {}).get("text/html", ""))
    text = echoed["data"]["text/html"].removeprefix("<pre id=echo>").removesuffix("</pre>").replace("&lt;", "<")
    assert json.loads(text) == params


def test_bad_period_starts_no_kernel(project: Path, monkeypatch, capsys):
    from opsnb import cli

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(batch, "KernelPool", boom)
    monkeypatch.setattr(batch, "execute_section", boom)
    monkeypatch.setenv("OPSNB_HOME", str(project))
    monkeypatch.chdir(project)
    assert cli.main(["run", "--period", "2026-13"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "period" in err and "YYYY-MM" in err and "YYYY-Qn" in err


def test_bad_pack_starts_no_kernel(project: Path, monkeypatch, capsys):
    from opsnb import cli

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    (project / "pack" / "orders.csv").write_text("order_id,user_id,ts,amount\n1,u1,not-a-date,abc\n", encoding="utf-8")
    monkeypatch.setattr(batch, "KernelPool", boom)
    monkeypatch.setattr(batch, "execute_section", boom)
    monkeypatch.setenv("OPSNB_HOME", str(project))
    monkeypatch.chdir(project)
    assert cli.main(["run", "--period", "2026-10"]) == 2
    err = capsys.readouterr().err
    assert "orders.csv" in err and "not-a-date" in err and "abc" in err


LEAK = "leaked = 'from an earlier section'\nimport matplotlib.pyplot as plt\nplt.figure()"
CLEAN = ("import matplotlib.pyplot as plt\n"
         "assert 'leaked' not in globals(), 'namespace of an earlier section is visible'\n"
         "assert plt.get_fignums() == [], plt.get_fignums()")


def test_pool_recycles_clean_kernels_and_replaces_failed_ones(tmp_path: Path):
    """One kernel runs section after section with an empty namespace; a failed section's kernel is not reused."""
    _recycles(tmp_path)


def test_pool_recycles_kernels_where_an_event_loop_is_running(tmp_path: Path):
    """A caller with a running asyncio loop (a Jupyter kernel, an async program, a Playwright session) gets the
    same reuse: ``asyncio.run`` refused such a thread and every kernel was replaced as "not resettable"."""
    import asyncio

    async def caller() -> None:
        _recycles(tmp_path)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: this test worker may already run a loop
        pool.submit(asyncio.run, caller()).result()


def _recycles(tmp_path: Path) -> None:
    nb_dir, run_dir = tmp_path / "nb", tmp_path / "run"
    nb_dir.mkdir()
    run_dir.mkdir()
    for section, body in (("goals", LEAK), ("campaigns", CLEAN), ("insights", "raise ValueError('x')"),
                          ("problems", CLEAN)):
        nbformat.write(_nb(body), nb_dir / NOTEBOOKS[section])
    params = {"period": "2026-10", "unit": "t", "pack": "", "params_file": "", "lang": "zh", "run_dir": str(run_dir)}
    pool = batch.KernelPool(1, cwd=nb_dir, env=dict(os.environ), warmup="pass")
    pids = []

    def one(section: str) -> batch.SectionResult:
        km = pool.take()
        assert km is not None, pool.errors
        pids.append(km.provisioner.pid)
        return batch.execute_section(section, nb_dir=nb_dir, run_dir=run_dir, parameters=params, timeout_s=60,
                                     lang="zh", header=[], toc_title="", title=section, km=km,
                                     release=pool.give_back)

    try:
        status = {s: one(s) for s in ("goals", "campaigns", "insights", "problems")}
    finally:
        pool.close()
    assert {s: r.status for s, r in status.items()} == {"goals": "ok", "campaigns": "ok", "insights": "failed",
                                                       "problems": "ok"}, status["campaigns"].error
    # goals, campaigns and insights ran in the first kernel; after the failure a new one was started
    assert pids[0] == pids[1] == pids[2] != pids[3], pool.notes
    assert pool.started == 2
    # the recycled kernel numbers its cells from 1 again, like a fresh one
    counts = [c.execution_count for c in nbformat.read(run_dir / NOTEBOOKS["campaigns"], as_version=4).cells
              if c.cell_type == "code"]
    assert counts == [1, 2, 3, 4]
