"""The multi-unit sample end to end: `opsnb sample --units`, every unit on the shared pool, the roll-up finds the plants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsnb import cli
from opsnb.pack import open_pack
from opsnb.units import run_units

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("units-rollup")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    root = tmp_path_factory.mktemp("group")
    (root / "params").mkdir()
    (root / "params" / "default.yaml").write_text((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"),
                                                   encoding="utf-8")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    import os

    old = os.environ.get("OPSNB_HOME")
    os.environ["OPSNB_HOME"] = str(root)
    try:
        assert cli.main(["sample", "--units", "4", "--scale", "0.03", "--out", str(root / "shared")]) == 0
    finally:
        if old is None:
            os.environ.pop("OPSNB_HOME")
        else:
            os.environ["OPSNB_HOME"] = old
    scenario = json.loads((root / "shared" / "scenario.json").read_text(encoding="utf-8"))
    res = run_units("all", root=root, workers=2, progress=False, log=lambda m: None, lang="zh")
    assert res.ok, [(u.unit, u.error) for u in res.units]
    data = json.loads((res.rollup.parent / "rollup.json").read_text(encoding="utf-8"))
    return root, scenario, data


def _planted(scenario: dict, kind: str) -> dict:
    return next(p for p in scenario["planted"] if p["kind"] == kind)


def test_the_roll_up_ranks_the_unit_behind_target_last_with_its_planted_attainment(group):
    _, scenario, data = group
    behind = _planted(scenario, "behind_target")
    assert data["ranking"][-1]["unit"] == behind["unit"]
    cell = data["cells"][behind["unit"]]["gmv"]
    assert cell["attainment"] == pytest.approx(behind["attainment"]["gmv"], abs=5e-4)
    assert cell["status"] == "missed"
    others = [data["cells"][u["unit"]]["gmv"]["attainment"] for u in data["units"] if u["unit"] != behind["unit"]]
    assert min(others) > 0.9


def test_the_roll_up_lists_the_spike_units_planted_category_as_high_severity(group):
    _, scenario, data = group
    spike = _planted(scenario, "service_spike")
    mine = [p for p in data["problems"] if p["unit"] == spike["unit"]]
    assert any(spike["category"] in p["text"] and p["severity"] == "high" for p in mine)
    assert not any(spike["category"] in p["text"] for p in data["problems"] if p["unit"] != spike["unit"])


def test_group_totals_add_up_and_distinct_users_are_counted_once_on_the_union(group):
    root, _, data = group
    gmv = next(k for k in data["kpis"] if k["key"] == "gmv")["group"]
    assert gmv["how"] == "sum"
    assert gmv["value_minor"] == sum(round(data["cells"][u["unit"]]["gmv"]["actual"] * 100) for u in data["units"])
    contrib = next(c for c in data["contributions"] if c["key"] == "gmv")
    assert sum(p["change_minor"] for p in contrib["units"]) == contrib["change_minor"]
    assert sum(p["points_tenths"] for p in contrib["units"]) == contrib["points_tenths"]
    mau = next((k for k in data["kpis"] if k["key"] == "active_users"), None)
    if mau is not None:
        assert mau["group"]["how"] == "recomputed"
    # the union of the shared pack: every branch at once, keys unique per branch, ids never shared
    units = tuple(u["unit"] for u in data["units"])
    pack = open_pack(root / "shared", unit=("unit", units))
    whole = pack.table("orders").count().execute()
    assert whole == sum(open_pack(root / "shared", unit=("unit", u)).table("orders").count().execute() for u in units)
