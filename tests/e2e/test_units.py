"""Many units in one run: a shared kernel pool, a real Dask cluster (with a worker killed mid-run)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from opsnb.sample import generate
from opsnb.units import choose, run_units
from tests.parity import published

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("units")]
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("units")
    (root / "params").mkdir()
    (root / "params" / "default.yaml").write_text((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"),
                                                   encoding="utf-8")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    generate(root / "pack", scale=0.05)
    for unit in ("east", "south"):
        (root / "params" / f"{unit}.yaml").write_text(f"unit: {unit}\npack: pack\n", encoding="utf-8")
    (root / "params" / "damaged.yaml").write_text("unit: damaged\npack: damaged_pack\n", encoding="utf-8")
    (root / "damaged_pack").mkdir()
    (root / "damaged_pack" / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,abc\n", encoding="utf-8")
    return root


def test_units_are_chosen_from_params(project):
    assert choose("all", project) == ["damaged", "east", "south"]
    assert choose("east, south", project) == ["east", "south"]
    with pytest.raises(Exception, match=r"no params/<unit>.yaml for unit\(s\) north; units: damaged, east, south"):
        choose("east,north", project)


@pytest.fixture(scope="module")
def local_run(project):
    """Every unit on the shared local pool; with what east published (normalised), to compare Dask's with."""
    res = run_units("all", period=PERIOD, root=project, workers=2, progress=False, log=lambda m: None)
    return res, published(project / "outputs" / "east" / PERIOD)


def test_a_damaged_unit_of_another_pack_is_left_out_and_the_group_publishes(project, local_run):
    res, _ = local_run
    status = {u.unit: u.status for u in res.units}
    # the damaged unit reads another pack: a group run leaves it out with the reason and runs the group's units
    assert status == {"east": "ok", "south": "ok"}
    assert list(res.left_out) == ["damaged"] and "damaged_pack" in res.left_out["damaged"]
    for unit in ("east", "south"):
        assert (project / "outputs" / unit / PERIOD / "index.html").is_file()
    assert not (project / "outputs" / "damaged" / PERIOD).exists()
    # the group roll-up is the group's: the unit of another pack is not in it
    import json

    data = json.loads((res.rollup.parent / "rollup.json").read_text(encoding="utf-8"))
    status = {u["unit"]: u["status"] for u in data["units"]}
    assert status == {"east": "ok", "south": "ok"}
    assert {r["unit"] for r in data["ranking"]} == {"east", "south"}


def _executing(dask_worker) -> tuple[int, list[str]]:  # runs on each worker
    return os.getpid(), [str(ts.key) for ts in dask_worker.state.executing]


def test_on_dask_a_killed_worker_is_retried_once_then_the_section_fails(project, local_run):
    """East's insights task loses its worker once (retried elsewhere: published); south's goals twice (failed)."""
    import dask
    from dask.distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=50)
        client = Client(cluster)
        kills: dict[str, int] = {"east-insights": 1, "south-goals": 2}
        killed: list[tuple[str, int]] = []
        stop = threading.Event()

        def killer() -> None:
            while not stop.is_set() and any(kills.values()):
                try:
                    # (pid, keys the worker is executing now): not merely assigned to it
                    now = client.run(_executing)
                    for pid, keys in now.values():
                        for key in keys:
                            for what, left in kills.items():
                                if left and f"opsnb-{what}-" in key:
                                    time.sleep(1.0)  # mid-run: the kernel is executing the notebook
                                    os.kill(pid, signal.SIGKILL)
                                    kills[what] -= 1
                                    killed.append((what, pid))
                except Exception:  # noqa: BLE001 - a worker restarting answers nothing for a moment
                    pass
                time.sleep(0.2)

        t = threading.Thread(target=killer, daemon=True)
        t.start()
        try:
            res = run_units("east,south", period=PERIOD, root=project, scheduler=cluster.scheduler_address,
                            progress=False, log=lambda m: None, force=True, rollup=False)
        finally:
            stop.set()
            t.join(5)
            client.close()
            cluster.close()
    assert [w for w, _ in killed].count("east-insights") == 1 and [w for w, _ in killed].count("south-goals") == 2
    east, south = res.units
    assert east.ok, east.error
    assert (project / "outputs" / "east" / PERIOD / "03_insights.html").is_file()
    # the pages that travelled back from the workers are the pages the local pool published
    assert published(project / "outputs" / "east" / PERIOD) == local_run[1]
    goals = next(s for s in south.result.sections if s.section == "goals")
    assert goals.status == "failed" and "KilledWorker" in goals.error and "died 2 times" in goals.error
    assert not south.ok and (project / "outputs" / "south" / PERIOD / "03_insights.html").is_file()
    # the failed section's last good page (the local run's) stands beside its failure, marked as such
    assert goals.carried_from and (project / "outputs" / "south" / PERIOD / "01_goals.html").is_file()
