"""The deterministic sample data pack of the fictional home-goods brand 栖木家居.

>>> scenario = generate("data/sample", seed=7, scale=1.0)   # ≈ 50k users, ≈ 2M events, a few seconds
>>> [p["kind"] for p in scenario["planted"]]
['churn_spike', 'low_roi_campaign', 'budget_imbalance', 'overdue_action', 'missed_kpi', 'exceeded_kpi',
 'attribution_gap', 'tracking_break']

The pack covers 2025-01-01 .. 2026-10-31 (naive Asia/Shanghai local time) with growth, 春节/618/
双十一/双十二 seasonality, weekly and hour-of-day cycles, decaying user lifetimes, a purchase funnel,
orders with refunds and cancellations, marketing touches, campaigns, daily channel spend, content,
service tickets, KPI targets, actions and risks. A handful of facts are planted in the review
period 2026-10 and described in ``scenario.json`` so tests can check the report finds them.
Same ``seed`` and ``scale`` → byte-identical files.

:func:`generate_units` (:mod:`opsnb.sample.units`) writes a pack shared by many business units (city
branches with a ``unit`` column), with planted differences between them.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opsnb.sample import behaviour, brand, tables
from opsnb.sample.calendar import END, REVIEW_PERIOD, START, Calendar, build_calendar
from opsnb.sample.shared import BIG_TABLES, SMALL_TABLES
from opsnb.sample.shared import attribution_gap as _attribution_gap
from opsnb.sample.shared import weekly_churn as _weekly_churn
from opsnb.sample.shared import write_csv as _write_csv
from opsnb.sample.shared import write_pack_yaml as _write_pack_yaml
from opsnb.sample.shared import write_parquet as _write_parquet
from opsnb.sample.units import generate_units

__all__ = ["BIG_TABLES", "SMALL_TABLES", "generate", "generate_units"]

GENERATOR_VERSION = "1"


def _write_big(sim: behaviour.Simulation, folder: Path) -> dict[str, int]:
    counts = {}
    for name, table in tables.big_tables(sim).items():
        _write_parquet(table, folder / f"{name}.parquet")
        counts[name] = table.num_rows
    return counts


def _small_tables(sim: behaviour.Simulation, cal: Calendar,
                  rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], tuple[dict, dict, dict, list[dict]]]:
    camp_df, low_roi = tables.campaigns(sim, rng)
    spend_df, imbalance = tables.channel_spend(sim, cal, rng)
    kpi_df, kpi_facts, _ = tables.kpis(sim, rng)
    action_df, overdue = tables.actions()
    small = {"campaigns": camp_df, "channel_spend": spend_df, "content": tables.content(cal, rng),
             "feedback": tables.feedback(sim, rng), "kpis": kpi_df, "actions": action_df, "risks": tables.risks()}
    return small, (low_roi, imbalance, overdue, kpi_facts)


def _checks(sim: behaviour.Simulation) -> tuple[pd.Series, dict[str, float]]:
    return _weekly_churn(sim), _attribution_gap(sim)


def generate(out: str | Path, *, seed: int = 7, scale: float = 1.0) -> dict[str, Any]:
    """Write the sample pack into folder ``out`` and return its scenario.

    Parameters
    ----------
    out
        Folder to write (created if missing); existing pack files in it are overwritten.
    seed
        Seed of the ``numpy.random.Generator(PCG64(seed))`` that drives everything.
    scale
        Size: 1 ≈ 50k users and 2M events; 0.1 for fast tests; 10 ≈ 500k users and 20M events.

    Returns
    -------
    dict
        The scenario also written to ``scenario.json``: seed, scale, date range, review period,
        row counts per table and the ``planted`` facts (each with a ``kind``).
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    cal = build_calendar()
    sim = behaviour.simulate(rng, cal, scale)

    # the Parquet files are built and written on a second thread while the small tables are made
    with ThreadPoolExecutor(max_workers=1) as pool:
        big_counts = pool.submit(_write_big, sim, folder)
        small, planted_small = _small_tables(sim, cal, rng)
        planted_checks = _checks(sim)
        counts = big_counts.result() | {name: len(df) for name, df in small.items()}
    for name, df in small.items():
        _write_csv(df, folder / f"{name}.csv")
    churn, gap = planted_checks
    week = behaviour.CHURN_WEEK.isoformat()
    before = churn.loc[:week].iloc[-9:-1]
    low_roi, imbalance, overdue, kpi_facts = planted_small
    planted = [
        {"kind": "churn_spike", "metric": "weekly_churn", "week_start": week,
         "churn": round(float(churn.loc[week]), 4), "usual": round(float(before.median()), 4)},
        low_roi,
        imbalance,
        overdue,
        *kpi_facts,
        {"kind": "attribution_gap", "channel": behaviour.GAP_CHANNEL,
         "share_without_touch": gap[behaviour.GAP_CHANNEL],
         "others_max": max(v for k, v in gap.items() if k != behaviour.GAP_CHANNEL)},
        {"kind": "tracking_break", "platform": "Web", "date": behaviour.TRACKING_BREAK.isoformat()},
    ]
    scenario: dict[str, Any] = {
        "name": f"{brand.BRAND} sample pack",
        "brand": brand.BRAND,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "timezone": "Asia/Shanghai",
        "currency": "CNY",
        "review_period": REVIEW_PERIOD,
        "experiment": {"name": sim.info["experiment"], "variants": ["A", "B"],
                       "first_day": sim.info["experiment_window"][0], "last_day": sim.info["experiment_window"][1],
                       "better": "B"},
        "row_counts": counts,
        "planted": planted,
    }
    (folder / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(_readme(scenario), encoding="utf-8")
    _write_pack_yaml(folder / "pack.yaml")
    return scenario


def _readme(s: dict[str, Any]) -> str:
    counts = "\n".join(f"| {k} | {v:,} |" for k, v in s["row_counts"].items())
    facts = "\n".join(f"- `{json.dumps(p, ensure_ascii=False)}`" for p in s["planted"])
    return f"""# {s['brand']} — sample data pack (样例数据包)

A fictional direct-to-consumer home-goods brand, generated by `opsnb.sample.generate`
(seed {s['seed']}, scale {s['scale']}). Every number is synthetic. Same seed and scale give
byte-identical files.

虚构的家居品牌"{s['brand']}"的运营数据，用于演示和测试 opsnb 运营复盘。所有数据均为模拟生成。

- Range: {s['start']} .. {s['end']} (naive local time, {s['timezone']}); review period {s['review_period']}.
- Big tables are Parquet (`timestamp[us]`, ids as text); small tables are UTF-8 CSV.
- Shape: growth over 22 months, 春节 dip, 618 / 双十一 / 双十二 peaks, weekend and evening highs,
  geometric user lifetimes, funnel visit → view_item → add_to_cart → purchase, refunds and
  cancellations, 1–5 marketing touches before a purchase, daily spend per channel.

| table | rows |
| --- | --- |
{counts}

## Planted facts in {s['review_period']} (see scenario.json)

{facts}
"""
