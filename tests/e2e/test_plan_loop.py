"""Closing the loop: the plan published for one month is what the next month's review judges by (the kpis
table where it has a target, the plan's own split where it has none)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opsnb import batch
from opsnb.sample import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("plan-loop")]
ROOT = Path(__file__).resolve().parents[2]


def test_second_month_goals_check_first_month_plan_targets(tmp_path: Path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "params").symlink_to(ROOT / "params")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    pack = root / "pack"
    generate(pack, scale=0.1)
    kpis = pd.read_csv(pack / "kpis.csv", dtype=str)
    # The pack's kpis table has no October target for orders: the September plan must supply it.
    kpis[~((kpis["metric"] == "orders") & (kpis["period"] == "2026-10"))].to_csv(pack / "kpis.csv", index=False)

    kw = dict(root=root, pack=str(pack), unit="loop", progress=False, log=lambda m: None)
    sept = batch.run(period="2026-09", sections=["goals", "plan"], **kw)
    assert sept.ok, [s.error for s in sept.sections if not s.ok]
    planned = pd.read_csv(sept.out_dir / "plan_targets.csv")
    assert set(planned["period"]) == {"2026-10"} and set(planned["source"]) == {"plan 2026-09"}
    orders_target = float(planned.loc[planned["metric"] == "orders", "target"].iloc[0])

    octo = batch.run(period="2026-10", sections=["goals"], **kw)
    assert octo.ok, [s.error for s in octo.sections if not s.ok]
    att = pd.read_parquet(octo.out_dir / "kpis.parquet").set_index("key")
    assert att.loc["orders", "target"] == pytest.approx(orders_target)
    assert att.loc["orders", "target_source"] == "plan 2026-09"
    assert att.loc["gmv", "target_source"] != "plan 2026-09"  # the kpis table still wins where it has a target
    # one plan: every target the September plan published for October is the one October's review judges by
    for metric, target in zip(planned["metric"], planned["target"], strict=True):
        assert att.loc[metric, "target"] == pytest.approx(target), metric
    assert "plan 2026-09" in (octo.out_dir / "01_goals.html").read_text(encoding="utf-8")
    ledger = pd.read_parquet(root / "outputs" / "loop" / "ledger.parquet")
    assert set(ledger["period"]) == {"2026-09", "2026-10"}
