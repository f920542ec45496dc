"""Recall on the sample pack: every planted problem is detected, few others are flagged."""

from __future__ import annotations

import pytest

from opsnb.metrics import problems as pm
from opsnb.pack import open_pack
from opsnb.params import Settings
from opsnb.periods import Period

pytestmark = pytest.mark.slow

#: planted fact → the key the detectors give it (None: not a problem, must not be flagged)
PLANTED_KEYS = {
    "churn_spike": lambda p: "anomaly:churn",
    "low_roi_campaign": lambda p: f"roi:campaign:{p['campaign_id']}",
    "budget_imbalance": lambda p: f"channel:{p['channel']}",
    "overdue_action": lambda p: f"action:{p['action_id']}",
    "missed_kpi": lambda p: f"kpi:{p['metric']}",
    "exceeded_kpi": lambda p: None,
    "attribution_gap": lambda p: f"data:unattributed:{p['channel']}",
    "tracking_break": lambda p: f"data:tracking:{p['platform']}",
}


def planted_keys(scenario: dict) -> tuple[set[str], set[str]]:
    """(keys that must be found, keys that must not be flagged)."""
    must, must_not = set(), set()
    for p in scenario["planted"]:
        key = PLANTED_KEYS[p["kind"]](p)
        if key is None:
            must_not.add(f"kpi:{p['metric']}")
        else:
            must.add(key)
    return must, must_not


def test_every_planted_problem_is_found(tmp_path) -> None:
    sample = pytest.importorskip("opsnb.sample")
    scenario = sample.generate(tmp_path / "sample", seed=7, scale=0.1)
    pack = open_pack(tmp_path / "sample", use_cache=False)
    df = pm.detect_problems(pack, Period.parse(scenario["review_period"]), Settings())
    keys = set(df["key"])
    must, must_not = planted_keys(scenario)
    assert must <= keys, f"missed: {sorted(must - keys)}"  # recall 100 %
    assert not (must_not & keys)
    others = keys - must
    assert len(others) <= 3, f"too many other problems: {sorted(others)}"
    # the churn spike is found in its own week
    churn = df[df["key"] == "anomaly:churn"].iloc[0]["evidence"]
    week = next(p["week_start"] for p in scenario["planted"] if p["kind"] == "churn_spike")
    assert churn["date"] == week and churn["direction"] == "up"
