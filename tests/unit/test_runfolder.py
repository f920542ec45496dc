"""The run folder layout: published names, runs of a period, pruning that keeps what readers can reach."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from opsnb import runfolder as rf
from opsnb.errors import OpsnbError


def _run(unit_dir: Path, period: str, run_id: str, *, lang: str | None = "zh", complete: bool = True,
         finished_at: str | None = None, legacy: bool = False) -> Path:
    """A run folder; ``lang=None``: one killed before it wrote its manifest."""
    path = unit_dir / rf.RUNS / (f"{period}-{run_id}" if legacy else f"{period}/{run_id}")
    path.mkdir(parents=True)
    (path / rf.INDEX).write_text("<html></html>", encoding="utf-8")
    if lang is not None:
        manifest = {"unit": unit_dir.name, "period": period, "lang": lang, "run_id": run_id, "ok": complete,
                    "finished_at": finished_at or f"2026-12-07T10:{run_id[-2:]}:00+00:00"}
        if not legacy:
            manifest["complete"] = complete
        (path / rf.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_published_names_put_other_languages_beside_the_units_own():
    assert rf.published_name("2026-10", "zh", "zh") == "2026-10"
    assert rf.published_name("2026-10", "en", "zh") == "2026-10.en"
    assert rf.published_name("2011-11", "en", "en") == "2011-11"
    assert rf.parse_published_name("2026-Q4.en") == ("2026-Q4", "en")
    assert rf.parse_published_name("2026") == ("2026", None)
    for other in (".runs", "ledger.parquet", ".2026-10.lock", "2026-13", "deliveries.json"):
        assert rf.parse_published_name(other) is None


def test_runs_of_a_year_are_not_the_runs_of_its_months(tmp_path: Path):
    """``2026`` is a prefix of ``2026-10-…``: the old pruning by name prefix deleted a year's months."""
    unit = tmp_path / "u"
    month = _run(unit, "2026-10", "20261201T000000-1-aaaa01")
    legacy_month = _run(unit, "2026-10", "20261201T000000-1-aaaa02", legacy=True)
    year = _run(unit, "2026", "20261202T000000-1-bbbb03")
    legacy_year = _run(unit, "2026", "20261202T000000-1-bbbb04", legacy=True)
    assert [r.path for r in rf.runs_of(unit, "2026")] == [year, legacy_year]
    assert [r.path for r in rf.runs_of(unit, "2026-10")] == [month, legacy_month]


def test_prune_keeps_linked_and_newest_complete_runs_per_language(tmp_path: Path):
    unit = tmp_path / "u"
    old_zh = [_run(unit, "2026-10", f"r-zh-{i:02d}") for i in range(1, 5)]  # complete, oldest first
    partial = _run(unit, "2026-10", "r-zh-05", complete=False)  # newest zh, incomplete
    en = [_run(unit, "2026-10", f"r-en-{i:02d}", lang="en") for i in range(6, 8)]
    dead = _run(unit, "2026-10", "r-xx-09", lang=None)  # killed: no manifest
    other_period = _run(unit, "2026-09", "r-zh-10")
    rf.publish_link(old_zh[0], unit / "2026-10")  # a reader's link points at the oldest run
    rf.publish_link(en[0], unit / "2026-10.en")
    gone = rf.prune(unit, "2026-10", keep=2, current=partial)
    left = {p.name for p in (unit / rf.RUNS / "2026-10").iterdir()}
    # zh: linked (01), newest complete (04), current (05) stay although keep=2; 02 and 03 go
    # en: both linked/newest-complete or within keep=2; the dead run is debris
    assert left == {"r-zh-01", "r-zh-04", "r-zh-05", "r-en-06", "r-en-07"}
    assert sorted(g["run_id"] for g in gone) == ["r-xx-09", "r-zh-02", "r-zh-03"]
    assert other_period.is_dir() and dead.exists() is False
    assert all(not p.name.startswith(".trash") for p in (unit / rf.RUNS / "2026-10").iterdir())


def test_a_removal_killed_midway_leaves_trash_that_the_next_prune_empties(tmp_path: Path):
    unit = tmp_path / "u"
    keep = _run(unit, "2026-10", "r-zh-01")
    trash = unit / rf.RUNS / "2026-10" / ".trash-r-zh-00"
    trash.mkdir()
    (trash / "01_goals.html").write_text("half", encoding="utf-8")
    rf.prune(unit, "2026-10", keep=3, current=keep)
    assert not trash.exists() and keep.is_dir()
    assert [r.path for r in rf.runs_of(unit, "2026-10")] == [keep]  # trash is never a run


def test_newest_complete_and_the_legacy_manifest(tmp_path: Path):
    unit = tmp_path / "u"
    legacy = _run(unit, "2026-10", "20261130T000000-1-aaaa01", legacy=True, finished_at="2026-11-30T00:00:00+00:00")
    assert rf.newest_complete(unit, "2026-10", "zh").path == legacy  # ok: true and no "complete": complete
    _run(unit, "2026-10", "r-zh-02", complete=False, finished_at="2026-12-01T00:00:00+00:00")
    assert rf.newest_complete(unit, "2026-10", "zh").path == legacy
    newer = _run(unit, "2026-10", "r-zh-03", finished_at="2026-12-02T00:00:00+00:00")
    assert rf.newest_complete(unit, "2026-10", "zh").path == newer
    assert rf.newest_complete(unit, "2026-10", "en") is None


def test_link_or_copy_shares_bytes_and_replacing_one_leaves_the_other(tmp_path: Path):
    a, b = tmp_path / "a" / "p.html", tmp_path / "b" / "p.html"
    a.parent.mkdir()
    a.write_text("old", encoding="utf-8")
    rf.link_or_copy(a, b)
    assert os.stat(a).st_ino == os.stat(b).st_ino
    rf.atomic_write_text(b, "new")  # the nav of the carrying run is rewritten …
    assert a.read_text(encoding="utf-8") == "old" and b.read_text(encoding="utf-8") == "new"  # … never the source


def test_lock_fails_fast_naming_the_folder(tmp_path: Path):
    from opsnb.errors import LockedError

    path = tmp_path / "u" / ".2026-10.lock"
    with rf.Lock(path, wait=False, log=lambda m: None):
        with pytest.raises(LockedError, match="another opsnb run is writing .*u"):
            rf.Lock(path, wait=False, log=lambda m: None).__enter__()


# ---------------------------------------------------------------- the declared artefacts

_NAMES = [rf.INDEX, rf.MANIFEST, rf.STATUS, rf.KPIS, rf.PLAN_TARGETS, rf.FACTS, rf.PARAMS, rf.ROLLUP, rf.LEDGER,
          rf.DELIVERIES]
_PREFIXES = [f"{k}-" for k in rf.RECORDS] + ["handoff-"]


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module but its docstrings (prose may name a file), with its line."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_no_module_but_the_run_folder_spells_an_artefact_name():
    pkg = Path(rf.__file__).parent
    found = []
    for path in sorted(pkg.rglob("*.py")):
        if path == Path(rf.__file__):
            continue
        for line, s in _string_literals(path):
            words = s.replace("/", " ").replace("`", " ").split()
            if any(n in words for n in _NAMES if n != rf.INDEX) or any(w.startswith(tuple(_PREFIXES)) for w in words):
                found.append(f"{path.relative_to(pkg.parent)}:{line}: {s!r}")
    assert found == []


def test_the_sections_hand_off_what_the_run_folder_declares():
    from opsnb.sections import summary

    assert {s: tuple(fns) for s, fns in summary.HANDOFFS.items()} == rf.HANDOFFS
    assert set(summary.WRITES) == {"goals", "plan"}
    assert rf.section_files("goals") == ("facts-goals.json", "outcomes-goals.json", "usage-goals.json",
                                         "handoff-kpi_cards.json", "handoff-wins.json", "handoff-kpis.json",
                                         "kpis.parquet")
    assert rf.section_files("insights") == ("facts-insights.json", "outcomes-insights.json", "usage-insights.json")
    with pytest.raises(ValueError, match="no record 'notes'"):
        rf.record(Path("run"), "notes", "goals")


def test_a_unit_ships_only_its_ledger_and_the_previous_plan_to_a_worker(tmp_path):
    import pandas as pd

    unit = tmp_path / "shop"
    assert rf.unit_inputs(unit, "2026-09") == {}
    rf.write_plan_targets(unit / "2026-09", pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"],
                                                          "target": [1.5], "source": ["plan 2026-09"]}))
    rf.write_plan_targets(unit / "2026-08", pd.DataFrame(columns=rf.PLAN_TARGET_COLUMNS))  # an older review
    rf.write_ledger(unit, pd.DataFrame({c: [] for c in rf.LEDGER_COLUMNS}))
    assert rf.unit_inputs(unit, "2026-09") == {"ledger.parquet": unit / "ledger.parquet",
                                              "2026-09/plan_targets.csv": unit / "2026-09" / "plan_targets.csv"}
    back = rf.previous_plan_targets(unit, "2026-10", "2026-09")
    assert back.to_dict("records") == [{"metric": "gmv", "period": "2026-10", "target": 1.5, "source": "plan 2026-09"}]
    run = tmp_path / "run"
    rf.write_handoff(run, "kpi_cards", [{"value": 1}])
    rf.write_record(run, "facts", "goals", [])
    rf.write_json(run / rf.STATUS, [])
    (run / "01_goals.html").write_text("<html></html>", encoding="utf-8")  # a page: not the summary's input
    assert sorted(rf.summary_inputs(run)) == ["facts-goals.json", "handoff-kpi_cards.json", "status.json"]
    (run / "handoff-wins.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(OpsnbError, match="handoff-wins.json: not valid JSON"):
        rf.read_handoff(run, "wins")
