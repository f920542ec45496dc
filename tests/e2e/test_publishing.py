"""Nothing lost: partial runs complete the review, languages side by side, pruning keeps what readers reach,
the archive links every review, and every fault leaves each published review whole.

Most tests drive :func:`opsnb.batch.run` with a runner that writes each page directly (no kernel), so the
publishing machinery is exercised exactly while each run costs milliseconds; the fault tests at the end run
the real command (``python -m opsnb.cli run``, real kernels) and kill it at each publish step.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from opsnb import archive, batch
from opsnb import runfolder as rf
from opsnb.errors import PeriodNotCovered
from opsnb.params import NOTEBOOKS, SECTIONS

# No xdist group: every test builds its own project in its own tmp_path and runs the batch with the fake
# runner (no kernels); FAIL is reset around each test. Grouped, the ~20 tests (the soak and the concurrent
# runs among them, minutes together) ran one after another on one worker.

PARAMS = 'period = ""\nunit = ""\npack = ""\nparams_file = ""\nlang = ""\nrun_dir = ""'
OK = 'from IPython.display import HTML\nHTML(\'<h2 id="x" class="opsnb-h">fine</h2>\')'
ORDERS = "order_id,user_id,ts,amount\n1,u1,2026-09-01 10:00:00,50\n2,u2,2026-10-31 10:00:00,60\n"


def _nb(body: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(PARAMS, metadata={"tags": ["parameters"]}), new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _project(root: Path, units: dict[str, str] | None = None) -> Path:
    (root / "params").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "params" / "default.yaml").write_text("unit: t\npack: pack\nlang: zh\n", encoding="utf-8")
    for unit, text in (units or {}).items():
        (root / "params" / f"{unit}.yaml").write_text(text, encoding="utf-8")
    pack = root / "pack"
    pack.mkdir()
    (pack / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,100\n", encoding="utf-8")
    (pack / "orders.csv").write_text(ORDERS, encoding="utf-8")
    for name in NOTEBOOKS.values():
        nbformat.write(_nb(OK), root / "notebooks" / name)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path / "proj")


#: Sections the fake runner fails (module state, set per test).
FAIL: set[str] = set()


def fake_runner(r: batch.RunPlan, section: str, title: str) -> batch.SectionResult:
    """Write the section's page (the summary: links to every section page in ``status.json``), no kernel."""
    name = NOTEBOOKS[section]
    if section in FAIL:
        return batch.SectionResult(section, "failed", 0.01, notebook=name, error="ValueError: planted")
    html = rf.INDEX if section == "summary" else name.replace(".ipynb", ".html")
    body = f"<h2>{section} {r.lang} {r.run_id}</h2>"
    if section == "summary":
        rows = json.loads((r.run_dir / rf.STATUS).read_text(encoding="utf-8"))
        body += "".join(f'<a href="{s["html"]}">{s["section"]}</a>' for s in rows if s.get("html"))
    page = f'<html><body><nav class="opsnb-nav">{archive.NAV_OPEN}{archive.NAV_CLOSE}</nav>{body}</body></html>'
    (r.run_dir / html).write_text(page, encoding="utf-8")
    (r.run_dir / name).write_text("{}", encoding="utf-8")
    (r.run_dir / f"facts-{section}.json").write_text(json.dumps([{
        "key": f"{section}.runs@{r.period.label}", "definition": "", "value": 1.0, "unit": "count",
        "period": r.period.label, "source": section, "text": "1"}]), encoding="utf-8")
    return batch.SectionResult(section, "ok", 0.01, html, name)


def _run(root: Path, **kw) -> batch.RunResult:
    kw.setdefault("period", "2026-10")
    return batch.run(root=root, progress=False, log=lambda m: None, runner=fake_runner, **kw)


def _manifest(root: Path, name: str = "2026-10", unit: str = "t") -> dict:
    return json.loads((root / "outputs" / unit / name / rf.MANIFEST).read_text(encoding="utf-8"))


def _status(root: Path, name: str = "2026-10") -> dict[str, dict]:
    return {s["section"]: s for s in _manifest(root, name)["sections"]}


@pytest.fixture(autouse=True)
def _no_failures():
    FAIL.clear()
    yield
    FAIL.clear()


# ---------------------------------------------------------------- partial runs complete the review


def test_a_partial_run_carries_the_other_sections_and_says_when(project: Path):
    first = _run(project)
    assert first.ok
    time.sleep(1.1)  # the second run's pages are computed a second later
    second = _run(project, sections=["goals"], force=True)
    m = _manifest(project)
    status = _status(project)
    assert m["run_id"] == second.run_dir.name and m["complete"] is True and m["asked"] == ["goals"]
    assert status["goals"]["status"] == "ok" and status["goals"]["computed_in"] == second.run_dir.name
    for sec in ("campaigns", "insights", "problems", "plan"):
        assert status[sec]["status"] == "carried"
        assert status[sec]["carried_from"] == first.run_dir.name == status[sec]["computed_in"]
        assert status[sec]["computed_at"] < status["goals"]["computed_at"]
        assert status[sec]["stale"] == []  # nothing changed: carried, not out of date
    out = project / "outputs" / "t" / "2026-10"
    index = (out / rf.INDEX).read_text(encoding="utf-8")
    for name in ("01_goals.html", "02_campaigns.html", "03_insights.html", "04_problems.html", "05_plan.html"):
        assert (out / name).is_file() and f'href="{name}"' in index
    assert archive.check(project / "outputs") == []


def test_carried_pages_are_out_of_date_when_their_inputs_changed(project: Path):
    _run(project)
    with (project / "pack" / "orders.csv").open("a", encoding="utf-8") as f:
        f.write("3,u3,2026-10-30 11:00:00,70\n")
    _run(project, sections=["goals"])
    status = _status(project)
    assert status["goals"]["stale"] == [] and status["goals"]["status"] == "ok"
    for sec in ("campaigns", "insights", "problems", "plan"):
        assert status[sec]["stale"] == ["data"], status[sec]
    _run(project, sections=["plan"], overrides=["goals.bands.nearly=0.9"])
    status = _status(project)
    assert status["goals"]["stale"] == ["params"] and status["plan"]["stale"] == []
    assert status["campaigns"]["stale"] == ["data", "params"]
    rows = json.loads((project / "outputs" / "t" / "2026-10" / rf.STATUS).read_text(encoding="utf-8"))
    assert {r["section"]: r["stale"] for r in rows}["campaigns"] == ["data", "params"]  # what the index reads


def test_options_that_change_no_page_do_not_make_pages_out_of_date(project: Path):
    _run(project)
    _run(project, sections=["goals"], overrides=["batch.workers=1", "publish.keep_runs=5", "batch.timeout_s=99"])
    assert all(s["stale"] == [] for s in _status(project).values())


def test_with_nothing_to_carry_the_index_says_which_sections_never_ran(project: Path):
    _run(project, sections=["goals"])
    m, status = _manifest(project), _status(project)
    assert m["complete"] is False
    assert {s: status[s]["status"] for s in SECTIONS} == {"goals": "ok", "campaigns": "skipped", "insights": "skipped",
                                                         "problems": "skipped", "plan": "skipped"}
    _run(project, sections=["plan"])
    status = _status(project)
    assert status["goals"]["status"] == "carried" and status["plan"]["status"] == "ok"
    assert status["insights"]["status"] == "skipped"
    _run(project)
    assert _manifest(project)["complete"] is True


def test_a_failed_section_keeps_its_last_good_page_marked_failed(project: Path):
    good = _run(project)
    FAIL.add("insights")
    res = _run(project, force=True)
    assert not res.ok
    status = _status(project)
    assert status["insights"]["status"] == "failed" and "planted" in status["insights"]["error"]
    assert status["insights"]["carried_from"] == good.run_dir.name and status["insights"]["html"]
    assert (project / "outputs" / "t" / "2026-10" / "03_insights.html").is_file()
    assert _manifest(project)["complete"] is True and _manifest(project)["ok"] is False
    assert archive.check(project / "outputs") == []
    archive_page = (project / "outputs" / rf.INDEX).read_text(encoding="utf-8")
    assert "1个章节最近一次运行失败" in archive_page


def test_a_partial_run_whose_sections_all_fail_publishes_nothing(project: Path):
    _run(project)
    before = os.readlink(project / "outputs" / "t" / "2026-10")
    FAIL.add("goals")
    res = _run(project, sections=["goals"], force=True)
    assert not res.ok and os.readlink(project / "outputs" / "t" / "2026-10") == before
    assert json.loads((res.run_dir / rf.MANIFEST).read_text(encoding="utf-8"))["published"] is False


def test_an_unknown_section_is_refused_before_anything_runs(project: Path):
    from opsnb.errors import ParamsError

    with pytest.raises(ParamsError, match="unknown sections"):
        _run(project, sections=["goal"])
    assert not (project / "outputs").exists()


# ---------------------------------------------------------------- languages side by side


def test_each_language_is_its_own_review_and_they_link_each_other(project: Path):
    zh = _run(project)
    en = _run(project, lang="en")
    assert zh.out_dir.name == "2026-10" and en.out_dir.name == "2026-10.en"
    again = _run(project, sections=["goals"], force=True)  # zh again: the English review is untouched
    out = project / "outputs" / "t"
    assert os.readlink(out / "2026-10.en").endswith(en.run_dir.name)
    assert os.readlink(out / "2026-10").endswith(again.run_dir.name)
    assert _manifest(project, "2026-10.en")["lang"] == "en"
    # a partial English run carries English pages only
    _run(project, lang="en", sections=["plan"])
    status = {s["section"]: s for s in _manifest(project, "2026-10.en")["sections"]}
    assert status["goals"]["carried_from"] == en.run_dir.name
    nav_zh = (out / "2026-10" / rf.INDEX).read_text(encoding="utf-8")
    nav_en = (out / "2026-10.en" / rf.INDEX).read_text(encoding="utf-8")
    assert 'href="../2026-10.en/index.html">English<' in nav_zh and 'href="../2026-10/index.html">中文<' in nav_en
    assert archive.check(project / "outputs") == []


def test_a_unit_whose_language_is_english_publishes_chinese_beside_it(tmp_path: Path):
    root = _project(tmp_path / "p", {"uk": "lang: en\ncurrency: '£'\n"})
    en = _run(root, unit="uk")
    zh = _run(root, unit="uk", lang="zh")
    assert en.out_dir.name == "2026-10" and zh.out_dir.name == "2026-10.zh"


# ---------------------------------------------------------------- pruning keeps what readers can reach


def test_pruning_never_deletes_a_linked_or_the_newest_complete_run(project: Path):
    first = _run(project, overrides=["publish.keep_runs=1"])
    _run(project, lang="en", overrides=["publish.keep_runs=1"])
    FAIL.add("goals")
    failed = _run(project, sections=["goals"], overrides=["publish.keep_runs=1"], force=True)  # not published
    FAIL.clear()
    runs = {p.name for p in (project / "outputs" / "t" / rf.RUNS / "2026-10").iterdir()}
    assert first.run_dir.name in runs  # linked and newest complete: kept though keep_runs=1
    assert failed.run_dir.name in runs  # the current run is never pruned by itself
    third = _run(project, sections=["plan"], overrides=["publish.keep_runs=1"])
    runs = {p.name for p in (project / "outputs" / "t" / rf.RUNS / "2026-10").iterdir()}
    en_run = os.readlink(project / "outputs" / "t" / "2026-10.en").rsplit("/", 1)[-1]
    assert runs == {third.run_dir.name, en_run}  # the zh source of the carried pages went; hard links keep them
    pruned = _manifest(project)["pruned"]
    assert sorted(p["run_id"] for p in pruned) == sorted([first.run_dir.name, failed.run_dir.name])
    assert all((project / "outputs" / "t" / "2026-10" / f).is_file() for f in ("02_campaigns.html", "05_plan.html"))
    assert archive.check(project / "outputs") == []


# ---------------------------------------------------------------- the archive and the links between reviews


def test_the_archive_lists_every_review_and_reviews_link_their_neighbours(project: Path):
    _run(project, period="2026-09")
    _run(project, period="2026-10")
    _run(project, period="2026-10", lang="en")
    _run(project, period="2026-Q4")
    out = project / "outputs"
    page = (out / rf.INDEX).read_text(encoding="utf-8")
    for name in ("2026-09", "2026-10", "2026-10.en", "2026-Q4"):
        assert f'href="t/{name}/index.html"' in page
    sept = (out / "t" / "2026-09" / rf.INDEX).read_text(encoding="utf-8")
    octo = (out / "t" / "2026-10" / "01_goals.html").read_text(encoding="utf-8")
    assert 'href="../2026-10/index.html">下一期 2026-10 →<' in sept  # added when October was published
    assert 'href="../2026-09/index.html">← 上一期 2026-09<' in octo and 'href="../../index.html"' in octo
    assert archive.check(out) == []


def test_the_group_page_is_linked_from_its_units_and_listed(tmp_path: Path):
    from opsnb.rollup import build_rollup

    root = _project(tmp_path / "p", {"a": "unit_column: null\n", "b": "unit_column: null\n"})
    for unit in ("a", "b"):
        _run(root, unit=unit)
    build_rollup(root, "2026-10", ["a", "b"], lang="zh")
    out = root / "outputs"
    assert (out / "_group" / "2026-10" / rf.INDEX).is_file()
    for unit in ("a", "b"):  # every page of each unit's review, not only its index
        for page in sorted((out / unit / "2026-10").glob("*.html")):
            assert 'href="../../_group/2026-10/index.html"' in page.read_text(encoding="utf-8"), page
    assert 'href="_group/2026-10/index.html"' in (out / rf.INDEX).read_text(encoding="utf-8")
    assert archive.check(out) == []


def test_check_names_each_planted_defect(project: Path):
    _run(project, period="2026-09")
    _run(project)
    out = project / "outputs"
    assert archive.check(out) == []
    review = out / "t" / "2026-10"
    (review / "02_campaigns.html").unlink()
    page = review / "01_goals.html"
    page.write_text(page.read_text(encoding="utf-8") + '<a href="../2026-08/index.html">x</a>', encoding="utf-8")
    facts_file = review / "facts.json"
    facts_file.write_text("[]", encoding="utf-8")
    (out / "t" / "2027-01").symlink_to(".runs/2027-01/none")
    arch = out / rf.INDEX
    arch.write_text(arch.read_text(encoding="utf-8").replace('href="t/2026-09/index.html"', ""), encoding="utf-8")
    found = "\n".join(archive.check(out))
    assert "t/2026-10: section campaigns is listed with page 02_campaigns.html, which is missing" in found
    assert "t/2026-10/index.html: link 02_campaigns.html opens nothing" in found
    assert "t/2026-10/01_goals.html: link ../2026-08/index.html opens nothing" in found
    assert "t/2026-10: facts.json holds 0 facts, the manifest says 6" in found
    assert "t/2027-01: a published link that points nowhere" in found
    assert "index.html: the archive does not list t/2026-09" in found


def test_opsnb_check_exit_codes(project: Path, monkeypatch, capsys):
    from opsnb import cli

    _run(project)
    assert cli.main(["check", str(project / "outputs")]) == 0
    assert "1 published reviews, every one whole" in capsys.readouterr().out
    (project / "outputs" / "t" / "2026-10" / "05_plan.html").unlink()
    assert cli.main(["check", str(project / "outputs")]) == 1
    assert "05_plan.html" in capsys.readouterr().err


# ---------------------------------------------------------------- periods and groups


@pytest.mark.parametrize("period", ["2027-01", "2026-11", "2024-06", "2026-08"])
def test_a_period_the_data_does_not_cover_publishes_nothing(project: Path, period: str, monkeypatch, capsys):
    from opsnb import cli

    with pytest.raises(PeriodNotCovered, match="the data runs 2026-09-01 … 2026-10-31"):
        _run(project, period=period)
    assert not (project / "outputs").exists()
    monkeypatch.setenv("OPSNB_HOME", str(project))
    monkeypatch.chdir(project)
    assert cli.main(["run", "--period", period, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"period {period}" in err and "the latest complete month is 2026-10" in err


def test_a_group_takes_only_units_of_its_pack_and_currency(tmp_path: Path):
    from opsnb.units import fit

    root = _project(tmp_path / "p", {"a": "lang: zh\n", "b": "lang: zh\n", "c": "lang: zh\n",
                                     "uk": "pack: other\ncurrency: '£'\nlang: en\n", "usd": "currency: $\n"})
    keep, out = fit(["a", "b", "c", "uk", "usd"], root)
    assert keep == ["a", "b", "c"]
    assert out == {"uk": f"its pack {root / 'other'} is not the group's ({root / 'pack'}, 4 units)",
                   "usd": "its currency $ is not the group's (¥)"}


# ---------------------------------------------------------------- faults on the real command


#: Run the command's sections with :func:`fake_runner` (the publishing path is the command's own; no kernel).
FAKE = (f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import functools, opsnb.batch as _b\nfrom test_publishing import fake_runner\n"
        "_b.run = functools.partial(_b.run, runner=fake_runner)\n")


def _cli(root: Path, *args: str, patch: str = "", kernels: bool = False) -> subprocess.CompletedProcess:
    """``opsnb <args>`` in a process of its own, after ``patch`` (a fault); without ``kernels``, sections are
    written by :func:`fake_runner`."""
    code = f"import sys\n{'' if kernels else FAKE}{patch}\nfrom opsnb.cli import main\nsys.exit(main({list(args)!r}))"
    env = dict(os.environ, OPSNB_HOME=str(root), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)


KILL = "import os, signal\ndef _die(*a, **k):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
STEPS = {
    # every section exported, before the summary and anything is published
    "export": KILL + "import opsnb.batch.section as s\ns.applicability = _die",
    # between the new symlink and the os.replace that makes it the published one
    "swap": KILL + ("import os, opsnb.runfolder as rf\n"
                    "def _swap(run_dir, target):\n"
                    "    tmp = target.parent / f'.{target.name}.link-{os.getpid()}'\n"
                    "    os.symlink(os.path.relpath(run_dir, target.parent), tmp)\n"
                    "    _die()\n"
                    "rf.publish_link = _swap"),
    # an old run renamed to .trash-*, half removed
    "prune": KILL + ("import shutil, os, opsnb.runfolder as rf\n"
                     "def _half(path):\n"
                     "    trash = path.parent / ('.trash-' + path.name)\n"
                     "    os.replace(path, trash)\n"
                     "    next(trash.glob('*.html')).unlink()\n"
                     "    _die()\n"
                     "rf._remove = _half"),
    # the archive half rewritten
    "archive": KILL + "import opsnb.archive as a\na.build_archive = _die",
}


def _reachable(root: Path) -> dict[str, tuple[str, bool]]:
    """Each published review: its run id and whether it is complete."""
    return {r.folder: (r.run.run_id, r.run.complete) for r in archive.reviews(root / "outputs")}


@pytest.mark.slow
@pytest.mark.parametrize("step", list(STEPS))
def test_kill_at_each_publish_step_leaves_every_review_whole(tmp_path: Path, step: str):
    root = _project(tmp_path / "p")
    _run(root, overrides=["publish.keep_runs=1"])
    _run(root, sections=["goals"], force=True)
    before = _reachable(root)
    killed = _cli(root, "run", "--period", "2026-10", "--quiet", "--force", "--sections", "plan",
                  "--set", "publish.keep_runs=1", patch=STEPS[step])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = _reachable(root)
    assert after["t/2026-10"][1] is True  # a complete review is published: the old one or the new one
    if step in ("export", "swap"):
        assert after == before
    assert archive.check(root / "outputs") == []
    _run(root, sections=["plan"], overrides=["publish.keep_runs=1"])
    assert archive.check(root / "outputs") == []
    runs = root / "outputs" / "t" / rf.RUNS / "2026-10"
    assert not list(runs.glob(".trash-*"))  # a half removal is finished by the next run …
    assert not list((root / "outputs" / "t").glob(".*.link-*"))  # … and a half swap's new link removed


@pytest.mark.slow
def test_no_space_left_during_export_keeps_the_last_good_page(tmp_path: Path):
    root = _project(tmp_path / "p")
    _run(root)
    patch = ("import errno, opsnb.export as e, opsnb.batch as b\n"
             "_real = e.export_html\n"
             "def _full(nb, **kw):\n"
             "    if 'goals' in kw.get('title', '') or '目标' in kw.get('title', ''):\n"
             "        raise OSError(errno.ENOSPC, 'No space left on device')\n"
             "    return _real(nb, **kw)\n"
             "e.export_html = _full\n")
    res = _cli(root, "run", "--period", "2026-10", "--quiet", "--force", patch=patch, kernels=True)
    assert res.returncode == 1 and "No space left on device" in res.stderr
    status = _status(root)
    assert status["goals"]["status"] == "failed" and status["goals"]["carried_from"]
    assert (root / "outputs" / "t" / "2026-10" / "01_goals.html").is_file()
    assert archive.check(root / "outputs") == []


@pytest.mark.slow
def test_no_space_left_when_writing_the_manifest_publishes_nothing_and_says_so(tmp_path: Path):
    root = _project(tmp_path / "p")
    _run(root)
    before = _reachable(root)
    patch = ("import errno, opsnb.runfolder as rf\n"
             "_real = rf.write_json\n"
             "def _full(target, obj):\n"
             "    if target.name == 'manifest.json':\n"
             "        raise OSError(errno.ENOSPC, 'No space left on device', str(target))\n"
             "    return _real(target, obj)\n"
             "rf.write_json = _full\n")
    res = _cli(root, "run", "--period", "2026-10", "--quiet", "--force", "--sections", "goals", patch=patch)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "No space left on device" in res.stderr
    assert "the published review is unchanged" in res.stderr
    assert _reachable(root) == before and archive.check(root / "outputs") == []


@pytest.mark.slow
def test_two_concurrent_runs_with_other_sections_and_languages(tmp_path: Path):
    root = _project(tmp_path / "p")
    _run(root)
    env = dict(os.environ, OPSNB_HOME=str(root), MPLBACKEND="Agg")
    cmds = [["run", "--period", "2026-10", "--quiet", "--sections", "goals", "--lang", "en"],
            ["run", "--period", "2026-10", "--quiet", "--sections", "plan,insights", "--force"]]
    procs = [subprocess.Popen([sys.executable, "-m", "opsnb.cli", *c], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert any("waiting for another run" in err for _, err in outs)
    reach = _reachable(root)
    assert reach["t/2026-10"][1] and set(reach) == {"t/2026-10", "t/2026-10.en"}
    en = {s["section"]: s["status"] for s in _manifest(root, "2026-10.en")["sections"]}
    assert en["goals"] == "ok" and en["plan"] == "skipped"  # nothing in English to carry yet
    assert archive.check(root / "outputs") == []


# ---------------------------------------------------------------- soak


def _soak_step(root: str, kind: str, seed: int) -> None:
    """One step of the soak, in a forked child (the parent may kill it at any moment)."""
    rng = random.Random(seed)
    FAIL.clear()
    if rng.random() < 0.15:
        FAIL.add(rng.choice(SECTIONS))
    base = Path(root)
    period = rng.choice(["2026-09", "2026-10", "2026-Q4"])
    if kind == "group":
        from opsnb.rollup import build_rollup

        for unit in ("a", "b"):
            _run(base, unit=unit, period=period)
        build_rollup(base, period, ["a", "b"], lang="zh")
        return
    kw = {"full": {}, "partial": {"sections": rng.sample(SECTIONS, rng.randint(1, 3)), "force": True},
          "lang": {"lang": "en", "sections": rng.sample(SECTIONS, rng.randint(1, 5))}}[kind]
    _run(base, unit=rng.choice(["a", "b"]), period=period, overrides=["publish.keep_runs=2"], **kw)


def soak(root: Path, steps: int = 40, seed: int = 20261207) -> int:
    """The soak loop (in a process of its own, which forks each step: it starts no thread, so a fork is safe).

    Returns the number of steps killed; raises AssertionError at the first step that lost or broke anything.
    """
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("fork")
    kinds = ["full", "partial", "lang", "group"]
    kills = 0
    for step in range(steps):
        before = _reachable(root)
        child = ctx.Process(target=_soak_step, args=(str(root), kinds[step % 4], rng.randrange(1 << 30)))
        child.start()
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, 0.6))
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)
                kills += 1
        child.join(120)
        assert child.exitcode is not None, f"step {step} hung"
        after = _reachable(root)
        for folder, (run_id, complete) in before.items():  # nothing a reader could open is gone …
            assert folder in after, f"step {step}: {folder} disappeared"
            if complete:  # … and a complete review is only ever replaced by a complete one
                assert after[folder][1], f"step {step}: {folder} was complete ({run_id}), now {after[folder]}"
        problems = [p for p in archive.check(root / "outputs") if "archive" not in p or child.exitcode == 0]
        assert problems == [], f"step {step} ({kinds[step % 4]}, exit {child.exitcode}): {problems}"
    return kills


@pytest.mark.slow
def test_soak_forty_runs_with_random_kills_lose_nothing(tmp_path: Path):
    root = _project(tmp_path / "p", {"a": "lang: zh\n", "b": "lang: zh\n"})
    code = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\nfrom pathlib import Path\n"
            f"import test_publishing as t\nprint('kills', t.soak(Path({str(root)!r})))")
    env = dict(os.environ, OPSNB_HOME=str(root), MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    kills = int(res.stdout.split("kills")[-1])
    assert kills >= 5
    final = archive.check(root / "outputs")
    assert all("archive" in p for p in final)  # at most the archive lags a killed last step
