"""End to end: the review of the two planted branches of the multi-unit sample shows what was planted.

A project root with the generated ``params/<unit>.yaml`` files; each planted unit runs the
single-unit batch with the sections that hand the summary page its KPI cards (goals) and top
problems (problems) — the summary always runs — and the hand-offs are read from the published
folder ``outputs/<unit>/<period>/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from opsnb import batch
from opsnb.sample import generate_units

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("units-sample")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("units-proj")
    (root / "params").mkdir()
    shutil.copy(ROOT / "params" / "default.yaml", root / "params" / "default.yaml")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    scenario = generate_units(root / "data" / "units", units=4, seed=7, scale=0.03, params_dir=root / "params")
    return root, scenario


@pytest.fixture(scope="module")
def planted(project: tuple[Path, dict]) -> dict[str, dict]:
    """kind → the planted fact, its unit's batch result and published hand-offs."""
    root, scenario = project
    out = {}
    for fact in scenario["planted"]:
        res = batch.run(root=root, unit=fact["unit"], sections=["goals", "problems"], progress=False,
                        log=lambda m: None)
        published = root / "outputs" / fact["unit"] / scenario["review_period"]
        handoffs = {name: json.loads((published / f"handoff-{name}.json").read_text(encoding="utf-8"))
                    for name in ("kpi_cards", "top_problems")}
        out[fact["kind"]] = {"fact": fact, "result": res, "published": published, **handoffs}
    return out


def _card(cards: list[dict], key: str) -> dict:
    return next(c for c in cards if c["key"] == key)


def _attainment(card: dict) -> float:
    return next(f["value"] for f in card["facts"] if f["key"].startswith(f"kpi.{card['key']}.attainment@"))


def test_both_planted_units_publish_their_sections(planted, project):
    _, scenario = project
    for p in planted.values():
        res = p["result"]
        assert {s.section: s.status for s in res.sections if not s.ok} == dict.fromkeys(
            ("campaigns", "insights", "plan"), "skipped")  # not asked for, never run in the unit: named as such
        assert {s.section for s in res.sections if s.ok} == {"summary", "goals", "problems"}
        assert res.unit == p["fact"]["unit"] and res.period == scenario["review_period"]
        assert res.out_dir == p["published"] and res.index.is_file()


def test_each_planted_unit_keeps_the_invariants(planted):
    """One figure, one value, and nothing an analyst would query (opsnb.invariants), on each planted unit."""
    for p in planted.values():
        manifest = json.loads((p["published"] / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["facts"]["conflicts"] == [], p["fact"]["unit"]
        assert manifest["invariants"]["violations"] == [], p["fact"]["unit"]


def test_summary_cards_show_the_unit_far_behind_its_targets(planted):
    behind = planted["behind_target"]
    cards = behind["kpi_cards"]
    for key in ("gmv", "new_users"):
        card = _card(cards, key)
        assert card["status"] == "missed", key
        assert _attainment(card) == pytest.approx(behind["fact"]["attainment"][key], abs=0.005)
    assert _attainment(_card(cards, "gmv")) == pytest.approx(0.6, abs=0.03)
    assert _card(cards, "gmv")["attainment"] == "60.0%"
    spike_gmv = _card(planted["service_spike"]["kpi_cards"], "gmv")  # the other planted unit is on target
    assert spike_gmv["status"] != "missed" and _attainment(spike_gmv) > 0.95


def test_summary_top_problems_show_each_planted_fact(planted):
    behind = planted["behind_target"]["top_problems"]
    assert any(b.startswith("【高】GMV未达成目标") and "完成率60.0%" in b for b in behind), behind
    spike = planted["service_spike"]
    top = spike["top_problems"]
    assert any(b.startswith("【高】") and f"“{spike['fact']['category']}”类工单" in b for b in top), top
    # the service surge leads the unit's list, one problem with its resolution rate as evidence (the slow handling
    # rests on 21 resolved tickets, under min_base: no verdict on it)
    assert top[0].startswith("【高】") and "工单" in top[0] and "解决率" in top[0] and "处理慢" not in top[0], top
    assert not any("未达成目标" in b for b in top)
