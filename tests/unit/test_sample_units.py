"""The multi-unit sample pack: one pack shared by city branches, each opening as its own unit.

The planted differences are checked through the review's own functions: the goals engine's
attainment (as the goals section computes it) and the problem detectors (as the problems section
runs them), on runs resolved from the generated ``params/<unit>.yaml`` files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from opsnb.metrics import kpis as km
from opsnb.metrics import problems as pm
from opsnb.pack import open_pack
from opsnb.runspec import resolve_run
from opsnb.sample import generate_units
from opsnb.sample.units import CITIES, PARAMS_MARKER, SHARED_TABLES, UNIT_TABLES, planted_units

ROOT = Path(__file__).resolve().parents[2]
UNITS, SCALE = 4, 0.03


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("units-project")
    (root / "params").mkdir()
    shutil.copy(ROOT / "params" / "default.yaml", root / "params" / "default.yaml")
    scenario = generate_units(root / "data" / "units", units=UNITS, seed=7, scale=SCALE, params_dir=root / "params")
    return root, scenario


@pytest.fixture(scope="module")
def reviews(project: tuple[Path, dict]) -> dict[str, dict]:
    """Each unit's run resolved from its params file: KPI attainment (as the goals section computes it)
    and problems (as the problems section detects them: every detector for the planted units, the
    service checks for the others)."""
    root, scenario = project
    planted = {p["unit"] for p in scenario["planted"]}
    out = {}
    for u in scenario["units"]:
        spec = resolve_run(unit=u["unit"], root=root)
        detect = pm.detect_problems if u["unit"] in planted else pm.service_problems
        out[u["unit"]] = {"spec": spec, "attainment": km.attainment(spec.pack, spec.period, spec.settings),
                          "problems": detect(spec.pack, spec.period, spec.settings)}
    return out


def _planted(scenario: dict, kind: str) -> dict:
    return next(p for p in scenario["planted"] if p["kind"] == kind)


def test_every_unit_opens_on_its_own_without_problems(project):
    root, scenario = project
    folder = root / "data" / "units"
    written = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    assert written == {k: v for k, v in scenario.items() if k != "params"}
    assert scenario["params"] == [f"{c.unit}.yaml" for c in CITIES[:UNITS]]
    assert [u["unit"] for u in scenario["units"]] == [c.unit for c in CITIES[:UNITS]]
    for u in scenario["units"]:
        pack = open_pack(folder, unit=("unit", u["unit"]))
        assert pack.warnings == []
        assert set(pack.names) == set(UNIT_TABLES) | set(SHARED_TABLES)
        users = pack.table("users").execute()
        assert "unit" not in users.columns and len(users) == u["row_counts"]["users"]
        assert users["user_id"].str.startswith(u["id_prefix"]).all()
        kpis = pack.table("kpis").execute()
        assert len(kpis) == u["row_counts"]["kpis"]  # the unit's own targets
        assert int(pack.table("content").count().execute()) == scenario["row_counts"]["content"]  # shared


def test_unit_column_is_in_the_unit_tables_only(project):
    root, _ = project
    folder = root / "data" / "units"
    for name in UNIT_TABLES:
        path = folder / f"{name}.parquet"
        cols = pq.read_schema(path).names if path.exists() else pd.read_csv(folder / f"{name}.csv", nrows=1).columns
        assert cols[0] == "unit", name
    for name in SHARED_TABLES:
        assert "unit" not in pd.read_csv(folder / f"{name}.csv", nrows=1).columns, name


def test_units_have_different_sizes(project):
    _, scenario = project
    users = [u["row_counts"]["users"] for u in scenario["units"]]
    sizes = [u["size"] for u in scenario["units"]]
    assert len(set(users)) == UNITS and all(0.3 <= s <= 2.0 for s in sizes)
    assert users == sorted(users, reverse=True) and users[0] > 1.2 * users[-1]  # the first cities are the largest
    assert all(0.3 <= c.size <= 2.0 for c in CITIES)
    assert len({c.unit for c in CITIES}) == len({c.code for c in CITIES}) == len(CITIES)


def test_ids_never_collide_across_units(project):
    root, _ = project
    folder = root / "data" / "units"
    for name, col in (("users", "user_id"), ("orders", "order_id")):
        t = pq.read_table(folder / f"{name}.parquet", columns=["unit", col]).to_pandas()
        assert t[col].is_unique, name
        assert (t.groupby(col)["unit"].nunique() == 1).all()
    for name, col in (("campaigns", "campaign_id"), ("feedback", "ticket_id")):
        df = pd.read_csv(folder / f"{name}.csv", dtype=str)
        assert df[col].is_unique, name
    orders = pq.read_table(folder / "orders.parquet", columns=["unit", "campaign_id"]).to_pandas().dropna()
    prefix = {u.unit: f"{u.code}-" for u in CITIES}
    assert all(c.startswith(prefix[u]) for u, c in zip(orders["unit"], orders["campaign_id"], strict=True))


def test_params_files_run_each_unit(project, reviews):
    root, scenario = project
    for u in scenario["units"]:
        text = (root / "params" / f"{u['unit']}.yaml").read_text(encoding="utf-8")
        assert text.startswith(PARAMS_MARKER)
        spec = reviews[u["unit"]]["spec"]
        assert spec.settings.unit == u["unit"] and spec.settings.unit_column == "unit"
        assert spec.settings.pack == "data/units" and spec.period.label == scenario["review_period"]
        assert spec.settings.unit_name("zh") == u["label"] == f"{u['city']}分公司"  # 北京分公司 …
    names = {u["unit"]: reviews[u["unit"]]["spec"].settings.unit_name("en") for u in scenario["units"]}
    assert names["beijing"] == "Beijing branch" and names["shanghai"] == "Shanghai branch"


def test_behind_target_unit_is_far_below_the_others(project, reviews):
    _, scenario = project
    fact = _planted(scenario, "behind_target")
    spike_i, behind_i = planted_units(UNITS)
    assert fact["unit"] == CITIES[behind_i].unit
    gmv = {u: r["attainment"].set_index("key").loc["gmv"] for u, r in reviews.items()}
    behind = gmv[fact["unit"]]
    assert behind["status"] == "missed"
    assert float(behind["attainment"]) == pytest.approx(fact["attainment"]["gmv"], abs=0.005)
    assert float(behind["attainment"]) == pytest.approx(0.6, abs=0.03)
    others = [float(r["attainment"]) for u, r in gmv.items() if u != fact["unit"]]
    assert min(others) >= 0.95 and max(others) <= 1.12
    assert min(others) - float(behind["attainment"]) > 0.3
    for key in ("orders", "new_users"):
        row = reviews[fact["unit"]]["attainment"].set_index("key").loc[key]
        assert row["status"] == "missed" and float(row["attainment"]) < 0.75
    found = reviews[fact["unit"]]["problems"].set_index("key")
    assert (found.loc[["kpi:gmv", "kpi:orders", "kpi:new_users"], "severity"] == "high").all()
    for u, r in reviews.items():  # nobody else misses a KPI
        if u != fact["unit"]:
            assert not (r["attainment"]["status"] == "missed").any(), u


def test_spike_unit_has_a_high_severity_service_problem_of_the_planted_category(project, reviews):
    _, scenario = project
    fact = _planted(scenario, "service_spike")
    spike_i, _ = planted_units(UNITS)
    assert fact["unit"] == CITIES[spike_i].unit and fact["category"] == "物流"

    def service_highs(unit: str) -> pd.DataFrame:
        df = reviews[unit]["problems"]
        return df[(df["area"] == "service") & (df["severity"] == "high")]

    highs = service_highs(fact["unit"])
    assert {e.get("category") for e in highs["evidence"]} - {None} == {fact["category"]}  # (+ the backlog)
    # one problem per category: the surge leads, the resolution rate is its evidence; the slow handling too when it
    # rests on at least min_base (30) resolved tickets (a p90 of fewer gets no verdict)
    found = {d: e for d, e in zip(highs["detector"], highs["evidence"], strict=True)}
    for e in highs["evidence"]:
        found.update({r["detector"]: r["evidence"] for r in e.get("also_rows", [])})
    res = found["service_resolution"]
    assert res["tickets"] == fact["tickets"] and res["rate"] < 0.9
    assert ("service_slow" in found) == (res["resolved"] >= 30)
    for u in reviews:
        if u != fact["unit"]:
            assert service_highs(u).empty, u
    assert fact["tickets"] > 3 * fact["others_max_tickets"]


def test_same_arguments_give_byte_identical_files(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_units(a, units=2, seed=3, scale=0.01)
    generate_units(b, units=2, seed=3, scale=0.01)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_params_of_others_are_kept_and_stale_branches_removed(tmp_path: Path):
    params = tmp_path / "params"
    params.mkdir()
    generate_units(tmp_path / "data" / "u", units=3, scale=0.01, params_dir=params)
    assert sorted(p.stem for p in params.glob("*.yaml")) == ["beijing", "guangzhou", "shanghai"]
    (params / "other.yaml").write_text("unit: other\npack: data/u\n", encoding="utf-8")
    generate_units(tmp_path / "data" / "u", units=2, scale=0.01, params_dir=params)
    assert sorted(p.stem for p in params.glob("*.yaml")) == ["beijing", "other", "shanghai"]  # guangzhou: stale
    (params / "shanghai.yaml").write_text("unit: shanghai\npack: elsewhere\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="shanghai.yaml"):
        generate_units(tmp_path / "data" / "v", units=2, scale=0.01, params_dir=params)
    assert not (tmp_path / "data" / "v").exists()  # nothing written
    assert (params / "shanghai.yaml").read_text(encoding="utf-8") == "unit: shanghai\npack: elsewhere\n"


def test_arguments_are_checked(tmp_path: Path):
    with pytest.raises(ValueError, match="scale must be > 0"):
        generate_units(tmp_path, scale=0)
    with pytest.raises(ValueError, match="units must be between 2 and 36"):
        generate_units(tmp_path, units=1)
