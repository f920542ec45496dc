"""The benchmark harness in --quick mode runs end to end and writes a complete results file.

On packs smaller than --quick's own (batch, work and compute at scale 0.02, the scaling fit over 0.01 and
0.02): what is tested is that every part runs and reports every field, not how long scale 0.1 takes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bench-quick")]
SCALE = 0.02
AT = f"{SCALE:g}"


def test_quick_mode_measures_every_part_and_finds_identical_numbers(tmp_path):
    from benchmarks.__main__ import main

    out = tmp_path / "results.json"
    rc = main(["--quick", "--only", "floor,work,batch,compute,scaling", "--scales", f"{SCALE:g}",
               "--scaling", f"{SCALE / 2:g},{SCALE:g}", "--work", str(tmp_path / "work"), "--out", str(out)])
    res = json.loads(out.read_text(encoding="utf-8"))
    assert rc == 0, res
    assert res["settings"]["repeats"] == 1 and res["settings"]["scales"] == [SCALE]
    assert res["floor"]["ok"] and res["floor"]["wall_s"]["min"] > 0
    b = res["batch"][AT]
    assert b["ok"] and b["rerun_all_reused"] and b["rss_peak_mb"] > 0
    assert b["cold_s"]["min"] > 0 and b["cold_stores_built"] == [1]  # the cold run built the pack's store
    assert res["ratios"][f"cold/batch@{AT}"] > 0
    assert set(b["sections_s"]) == {"summary", "goals", "campaigns", "insights", "problems", "plan"}
    assert all(a["identical"] for a in res["compute"]["analyses"].values())
    assert res["scaling"]["fit"]["total"]["b"] is not None
    assert res["ratios"][f"batch/floor@{AT}"] > 0
    w = res["work"][AT]
    assert set(w["sections_s"]) == {"goals", "campaigns", "insights", "problems", "plan"}
    assert w["cpu_s"]["min"] > 0 and w["imports_s"]["min"] > 0
    assert 0 <= w["gc_s"]["min"] < w["total_s"]["min"]
    bound = res["floor"]["wall_s"]["min"] + w["imports_s"]["min"] + w["cpu_s"]["min"] / 2
    assert res["ratios"][f"bound@{AT}"] == pytest.approx(bound, abs=0.01)
    assert res["ratios"][f"batch/bound@{AT}"] > 0
    a = res["compute"]["analyses"]["rfm"]
    assert a["ours_files_s"]["min"] > 0 and a["pandas_over_ours_files"] > 0
    st = res["compute"]["derived"]["store"]
    assert st["s"]["min"] > 0 and st["bytes"] > 0
