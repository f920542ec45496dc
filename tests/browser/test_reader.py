"""Read the published review as its readers do (sample zh and en, and the Online Retail review).

Every check walks the visible text and the SVG text of every page (:mod:`tests.browser.reader`).
Where a class of defect is not fixed yet everywhere, its remaining instances are listed in
``KNOWN`` by page and text, so a *new* instance fails while the list says what is left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opsnb import facts
from tests.browser import reader as R
from tests.conftest import SHARED_DATA

RAW = SHARED_DATA / "online_retail.csv.gz"

#: Remaining instances, by check, of defect classes this layer found that are not fixed yet (issue 18): none.
KNOWN: dict[str, tuple[str, ...]] = {}


def _known(check: str, defects: list[str]) -> list[str]:
    return [d for d in defects if not any(k in d for k in KNOWN.get(check, ()))]


@pytest.fixture(scope="module")
def pages(report: tuple[str, Any]) -> tuple[str, Path, list[R.Page]]:
    lang, res = report
    return lang, res.out_dir, R.read_review(res.out_dir)


@pytest.fixture(scope="module")
def real_review(tmp_path_factory: pytest.TempPathFactory, new_project: Any) -> Path:
    if not RAW.is_file():
        pytest.skip(f"real data not present: {RAW}")
    from opsnb import batch
    from opsnb.importers.online_retail import import_pack
    from opsnb.params import load_params

    root = tmp_path_factory.mktemp("reader-real")
    (root / "params").symlink_to(Path(__file__).resolve().parents[2] / "params")
    (root / "notebooks").symlink_to(Path(__file__).resolve().parents[2] / "notebooks")
    import_pack(RAW, root / "pack", settings=load_params(unit="online_retail"))
    res = batch.run(root=root, pack=str(root / "pack"), unit="online_retail", period="2011-11", progress=False,
                    log=lambda m: None)
    assert {s.section: s.error for s in res.sections if not s.ok} == {}
    return res.out_dir


def _check_facts(run_dir: Path) -> None:
    shown = facts.load(run_dir / facts.FILE)
    assert shown, "the run recorded no facts"
    assert facts.describe(facts.conflicts(shown)) == []
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["facts"]["conflicts"] == [] and manifest["facts"]["count"] == len(shown)
    page_of = {"goals": "01_goals.html", "plan": "05_plan.html", "problems": "04_problems.html",
               "summary": "index.html", "insights": "03_insights.html"}
    texts = {p.name: p.text for p in R.read_review(run_dir)}
    for f in shown:  # a recorded fact is what the reader sees on its page
        page = page_of[f.source.split(".")[0]]
        assert f.text in texts[page], f"{f.key} = {f.text!r} not visible on {page}"


def test_every_fact_has_one_value_and_is_visible(pages):
    _check_facts(pages[1])


def test_every_fact_has_one_value_real_data(real_review):
    _check_facts(real_review)


def test_no_placeholder_for_data_values(pages, real_review):
    lang, _, ps = pages
    assert [d for p in ps for d in R.find_placeholders(p, "未知" if lang == "zh" else "unknown")] == []
    # Online Retail names no channel for anyone: said in a sentence, never a one-group "未知" split
    assert [d for p in R.read_review(real_review) for d in R.find_placeholders(p, "未知")] == []


def test_money_in_the_units_currency(pages, real_review):
    assert [d for p in pages[2] for d in R.find_foreign_currency(p, "¥")] == []
    assert [d for p in R.read_review(real_review) for d in R.find_foreign_currency(p, "£")] == []


def test_no_scientific_notation_or_offsets(pages, real_review):
    defects = [d for p in pages[2] + R.read_review(real_review) for d in R.find_raw_numbers(p)]
    assert defects == []


def test_direction_words_agree_with_signs(pages, real_review):
    defects = [d for p in pages[2] + R.read_review(real_review) for d in R.find_direction_mismatch(p)]
    assert defects == []


def test_no_sentence_twice_on_a_page(pages, real_review):
    defects = [d for p in pages[2] + R.read_review(real_review) for d in R.find_repeated_lines(p)]
    assert defects == []


def test_no_code_names_in_visible_text(pages, real_review):
    # the unit's id is the name its team gave it (params/<unit>.yaml): shown as they wrote it
    units = {f"browser_{pages[0]}", "online_retail"}
    defects = [d for p in pages[2] + R.read_review(real_review) for d in R.find_code_names(p, units)]
    assert _known("code", defects) == []


@pytest.mark.parametrize("report", ["zh"], indirect=True)
def test_no_untranslated_english_on_chinese_pages(pages):
    # the unit and the pack folder are named by their team (data values)
    defects = [d for p in pages[2] for d in R.find_english_in_zh(p, {"browser_zh", "pack"})]
    assert _known("english", defects) == []


@pytest.mark.parametrize("name", ["index.html", "01_goals.html", "02_campaigns.html", "03_insights.html",
                                  "04_problems.html", "05_plan.html"])
def test_tables_fit_1280px(report, open_page, name):
    """No table wider than its page at 1280 px (it scrolls inside its own box at most)."""
    _, res = report
    page, _ = open_page(res.out_dir / name, viewport={"width": 1280, "height": 900})
    overflow = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
        const r = t.getBoundingClientRect();
        return {right: Math.round(r.right), text: t.innerText.slice(0, 60)};
    }).filter(t => t.right > 1280)""")
    assert overflow == []


def test_no_legend_covers_data(pages, real_review):
    """ui.figure checks every chart at render time (legend box against bars, points and line vertices)."""
    marked = [f"{p.name}" for d in (pages[1], real_review) for p in sorted(d.glob("*.html"))
              if "data-legend-covers-data" in p.read_text(encoding="utf-8")]
    assert marked == []
