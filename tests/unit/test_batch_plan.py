"""A run's plan, reuse and carry-forward: decided before any kernel starts (opsnb.batch.plan)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsnb.batch import plan
from opsnb.batch.results import SectionResult
from opsnb.params import SECTIONS, Settings
from opsnb.runspec import resolve_run

NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params" / "default.yaml").write_text("unit: t\npack: pack\nlang: zh\n", encoding="utf-8")
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,100\n", encoding="utf-8")
    (tmp_path / "pack" / "orders.csv").write_text("order_id,user_id,ts,amount\n1,u1,2026-10-01 10:00,5\n"
                                                  "2,u2,2026-10-31 10:00,6\n", encoding="utf-8")
    from opsnb.params import NOTEBOOKS

    for name in NOTEBOOKS.values():
        (tmp_path / "notebooks" / name).write_text(NB, encoding="utf-8")
    return tmp_path


def _plan(project: Path, **kw) -> plan.RunPlan:
    sections = kw.pop("sections", None)
    spec = resolve_run(period="2026-10", root=project, **kw)
    return plan.make_plan(spec, root=project, nb_dir=project / "notebooks", log=lambda m: None, t_start=0.0,
                          unit_dir=project / "outputs" / "t", sections=sections)


def test_settings_that_show_nothing_are_not_inputs():
    a, b = Settings(), Settings(batch={"workers": 7, "sections": ["goals"]}, publish={"keep_runs": 9})
    assert plan.shown_params(a) == plan.shown_params(b)
    assert plan.shown_params(a) != plan.shown_params(Settings(min_base=5))


def test_changed_inputs_name_what_changed():
    old = {"data": "1", "params": "2", "code": "3", "notebook": "4", "lang": "zh"}
    assert plan.changed_inputs(old, {**old, "data": "9", "code": "8"}) == ["data", "code"]
    assert plan.changed_inputs({}, old) == ["inputs"]  # a page from before inputs were recorded


def test_a_partial_plan_knows_every_section_of_the_review(project: Path):
    r = _plan(project, sections=["plan", "goals"])
    assert r.chosen == ["goals", "plan"] and r.full == list(SECTIONS)
    assert set(r.inputs) == set(SECTIONS) and len({r.prints[s] for s in SECTIONS}) == 1  # same notebooks
    assert r.target == project / "outputs" / "t" / "2026-10" and r.run_dir.parent.name == "2026-10"
    en = _plan(project, lang="en")
    assert en.target.name == "2026-10.en" and en.home_lang == "zh"
    assert en.prints["goals"] != r.prints["goals"]  # the language is an input


def _finished(r: plan.RunPlan, statuses: dict[str, str]) -> None:
    """Pretend ``r`` ran and wrote its manifest: a page per section with the given status."""
    rows = []
    for s, st in statuses.items():
        (r.run_dir / f"{s}.html").write_text(s, encoding="utf-8")
        rows.append({"section": s, "status": st, "html": f"{s}.html", "fingerprint": r.prints[s],
                     "inputs": r.inputs[s], "computed_at": "2026-12-01T00:00:00+00:00", "computed_in": r.run_id})
    (r.run_dir / "index.html").write_text("i", encoding="utf-8")
    (r.run_dir / "manifest.json").write_text(json.dumps({
        "unit": "t", "period": "2026-10", "lang": r.lang, "run_id": r.run_id, "complete": True, "ok": True,
        "finished_at": "2026-12-01T00:00:01+00:00", "sections": rows}), encoding="utf-8")


def test_reuse_takes_unchanged_pages_and_carry_marks_changed_ones(project: Path):
    first = _plan(project)
    _finished(first, {s: "ok" for s in SECTIONS})
    again = _plan(project, sections=["goals"])
    reused = plan.reuse(again)
    assert list(reused) == ["goals"] and reused["goals"].reused_from == first.run_id
    assert (again.run_dir / "goals.html").read_text(encoding="utf-8") == "goals"
    changed = _plan(project, sections=["goals"], overrides=["min_base=5"])
    assert plan.reuse(changed) == {}  # a setting that shows changed: executed again
    carried = plan.carry(changed, "plan")
    assert (carried.status, carried.carried_from, carried.stale) == ("carried", first.run_id, ["params"])
    failed = SectionResult("insights", "failed", error="boom")
    plan.carry(changed, "insights", failed=failed)
    assert (failed.status, failed.html, failed.carried_from) == ("failed", "insights.html", first.run_id)
    en = _plan(project, lang="en", sections=["goals"])
    assert plan.reuse(en) == {} and plan.carry(en, "plan") is None  # other languages are other reviews
