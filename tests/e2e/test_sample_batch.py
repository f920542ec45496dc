"""End to end: the whole batch on a small sample pack, in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from opsnb import batch
from opsnb.params import NOTEBOOKS, SECTIONS
from opsnb.render.i18n import t
from opsnb.sample import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sample-batch")]
ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import\s+(?:url\()?["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proj")
    (root / "params").symlink_to(ROOT / "params")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    generate(root / "pack", scale=0.1)
    return root


@pytest.fixture(scope="module", params=["zh", "en"])
def run(request: pytest.FixtureRequest, project: Path) -> tuple[str, batch.RunResult]:
    lang = request.param
    res = batch.run(root=project, pack=str(project / "pack"), lang=lang, unit=f"e2e_{lang}", progress=False,
                    log=lambda m: None)
    return lang, res


def test_every_section_succeeds(run):
    lang, res = run
    failed = {s.section: s.error for s in res.sections if not s.ok}
    assert failed == {}
    assert res.period == "2026-10"  # the sample's latest full month


def test_every_section_html_exists_with_headings_and_is_linked(run):
    lang, res = run
    index = (res.out_dir / "index.html").read_text(encoding="utf-8")
    assert f"<html lang=\"{lang}\"" in index
    for section in SECTIONS:
        name = NOTEBOOKS[section].replace(".ipynb", ".html")
        html = (res.out_dir / name).read_text(encoding="utf-8")
        assert t(f"sections.{section}.title", lang) in html
        assert f'href="{name}"' in index
        assert 'class="opsnb-toc"' in html  # table of contents
        assert "jp-InputArea" not in html and "In&nbsp;[" not in html  # no code cells
        assert "<script" not in html.lower()
        assert len(html.encode()) < 1.5 * 1024 * 1024


def test_no_network_references_in_any_output(run):
    _, res = run
    for f in res.out_dir.glob("*.html"):
        found = EXTERNAL.findall(f.read_text(encoding="utf-8"))
        assert found == [], f"{f.name}: {found[:3]}"


def test_manifest_records_the_run(run):
    _, res = run
    m = json.loads((res.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["ok"] is True and m["period"] == "2026-10"
    assert set(m["pack"]["tables"]) >= {"users", "events", "orders", "kpis", "campaigns"}
    assert {s["section"] for s in m["sections"]} == {"summary", *SECTIONS}
    assert all(s["duration_s"] > 0 for s in m["sections"])
    assert m["versions"]["papermill"] and m["params"]["lang"] in ("zh", "en")


def test_report_finds_planted_facts(run, project):
    from opsnb.pack.config import load_labels

    lang, res = run
    scenario = json.loads((project / "pack" / "scenario.json").read_text(encoding="utf-8"))
    problems = (res.out_dir / "04_problems.html").read_text(encoding="utf-8")
    campaigns = (res.out_dir / "02_campaigns.html").read_text(encoding="utf-8")
    labels, _ = load_labels(project / "pack")

    def shown(value: str) -> str:  # the page names a value of the data by its display name (pack.yaml labels)
        return labels.get(value, {}).get(lang, value)

    for item in scenario["planted"]:
        if item["kind"] == "low_roi_campaign":
            assert shown(item["name"]) in campaigns
        if item["kind"] in ("budget_imbalance", "attribution_gap"):
            assert shown(item["channel"]) in problems
        if item["kind"] == "tracking_break":
            assert shown(item["platform"]) in problems


def test_no_missing_glyph_warnings_in_any_kernel(run):
    """Chinese chart text needs a CJK font: a missing glyph warning in any executed notebook fails the run."""
    import nbformat

    _, res = run
    for name in NOTEBOOKS.values():
        nb = nbformat.read(res.run_dir / name, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                text = out.get("text", "") if out.get("output_type") == "stream" else ""
                assert "missing from font" not in text and "Glyph" not in text, (name, text[:300])


def test_rerun_gives_identical_html_but_for_timestamps(project):
    """Same inputs, forced re-execution: the same numbers, byte for byte, apart from the generation time."""
    kw = dict(root=project, pack=str(project / "pack"), unit="e2e_rerun", sections=["goals", "problems"],
              progress=False, log=lambda m: None, force=True)
    first = batch.run(**kw)
    second = batch.run(**kw)
    assert first.ok and second.ok
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
    for name in ("01_goals.html", "04_problems.html"):
        a = stamp.sub("", (first.run_dir / name).read_text(encoding="utf-8"))
        b = stamp.sub("", (second.run_dir / name).read_text(encoding="utf-8"))
        assert a == b, name


def test_unchanged_rerun_reuses_every_section(project):
    kw = dict(root=project, pack=str(project / "pack"), unit="e2e_reuse", sections=["plan"], progress=False,
              log=lambda m: None)
    first = batch.run(**kw)
    second = batch.run(**kw)
    assert first.ok and second.ok
    # the sections not asked for, never run in this unit, are listed as such (the summary names them "not run")
    assert {s.section: s.status for s in second.sections} == {"summary": "reused", "plan": "reused", **dict.fromkeys(
        ("goals", "campaigns", "insights", "problems"), "skipped")}
    assert (second.out_dir / "index.html").read_bytes() == (first.run_dir / "index.html").read_bytes()
