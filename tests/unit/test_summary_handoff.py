"""The summary page reads what the section kernels handed over, and computes it itself otherwise."""

import json

import pandas as pd

from opsnb.nb import Context
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period
from opsnb.sections import summary


def _ctx(tmp_path, section, run_dir=True):
    pack = from_frames({"kpis": pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [100.0]})})
    return Context(Settings(), pack, Period.parse("2026-10"), section=section, root=tmp_path,
                   run_dir=tmp_path if run_dir else None)


def test_summary_uses_the_handed_over_result(tmp_path):
    (tmp_path / "handoff-top_problems.json").write_text(json.dumps(["渠道“抖音”归因缺口"]), encoding="utf-8")
    assert summary._problems(_ctx(tmp_path, "summary")) == ["渠道“抖音”归因缺口"]


def test_produce_writes_the_sections_handoffs(tmp_path):
    ctx = _ctx(tmp_path, "plan")
    summary.produce(ctx)
    handed = json.loads((tmp_path / "handoff-next_actions.json").read_text(encoding="utf-8"))
    assert handed == summary._next_actions(ctx)


def test_without_a_run_folder_nothing_is_written_and_it_computes(tmp_path):
    ctx = _ctx(tmp_path, "plan", run_dir=False)
    summary.produce(ctx)
    assert list(tmp_path.glob("handoff-*")) == []
    assert summary._actions(ctx) == summary._next_actions(ctx)


def test_in_a_batch_a_section_that_handed_nothing_is_not_recomputed(tmp_path):
    """The problems section failed (or never ran): the summary says so instead of running its analyses again."""
    import pytest

    from opsnb.errors import NoData

    with pytest.raises(NoData) as exc:
        summary._problems(_ctx(tmp_path, "summary"))
    assert exc.value.reason == "四、问题与挑战本次没有可用的结果（原因见下方的章节状态）"
