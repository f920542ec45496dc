"""ROI has one display (投入产出比 ``1:4.5``) on every page, card and message, and its changes are ``+0.6``.

A Chinese operations team writes 投入产出比 as 1:x; a change of it is a difference of x, never a
percentage or percentage points. Every route a figure takes to a reader — the KPI's unit (goals
table, cards, roll-up, delivery messages through ``fmt.value``), table formats (``ui.table``), chart
axes and sentences — ends in :func:`opsnb.render.fmt.ratio_x`.
"""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.metrics.kpis import change
from opsnb.params import Settings
from opsnb.render import fmt, ui
from opsnb.sections import goals as G


def test_the_roi_kpi_is_declared_in_its_own_unit():
    roi = next(k for k in Settings().goals.kpis if k.key == "roi")
    assert roi.unit == "roi"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_route_shows_one_to_x(lang):
    assert fmt.ratio_x(4.504, lang) == "1:4.5"
    assert fmt.value(4.504, "roi", lang) == "1:4.5"  # KPI tables, cards, roll-up, messages
    assert ui.table(pd.DataFrame({"r": [4.504]}), lang, formats={"r": "roi"}).formatted()["r"].tolist() == ["1:4.5"]
    assert fmt.value(None, "roi", lang) == fmt.na(lang)


def test_a_change_of_roi_is_the_difference_of_x_as_shown():
    # 1:4.46 and 1:5.04 are shown as 1:4.5 and 1:5.0: the change the reader can check is +0.5, not +0.58
    assert fmt.change(5.04, 4.46, "roi", "zh") == "+0.5"
    assert fmt.change(4.504, 4.615, "roi", "en") == "-0.1"
    assert fmt.change(4.504, 4.502, "roi", "zh") == "+0.0"  # never "-0.0", never "个百分点"
    assert fmt.shown_difference(5.04, 4.46, "roi") == pytest.approx(0.5)
    assert fmt.delta(0.6, "diff", "zh") == "+0.6" and fmt.delta(0.03, "pp", "zh") == "+3.0个百分点"
    with pytest.raises(ValueError, match="diff"):
        fmt.delta(0.1, "ratio", "zh")


def test_goals_changes_of_roi_use_the_same_route():
    value, kind, why = change(5.04, 4.46, "roi")
    assert kind == "diff" and value == pytest.approx(0.58) and why is None
    r = {"mom": value, "mom_kind": kind, "actual": 5.04, "previous": 4.46, "last_year": None, "yoy": None,
         "yoy_kind": kind, "unit": "roi"}
    assert G.change_text(G.shown_change(r, "mom"), kind, "zh", None) == "+0.5"
    assert G.change_text(G.shown_change(r, "mom"), kind, "en", None) == "+0.5"
    assert change(0.2536, 0.2164, "ratio")[1] == "pp" and change(110.0, 100.0, "currency")[1] == "relative"
