"""RFM scores and segments: exact numbers on a hand-made pack and on the R ``rfm`` example data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.rfm import rfm_scores, rfm_segments
from opsnb.pack import from_frames
from opsnb.params import InsightsSettings, Label, RFMRule
from opsnb.periods import Period

OCT = Period.parse("2026-10")
RULES = InsightsSettings().rfm_segments


def _pack() -> object:
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(1, 12)],
        "user_id": ["u1", "u1", "u2", "u3", "u3", "u4", "u5", "u6", "u6", "u8", "u3"],
        "ts": ["2026-10-31 23:00", "2026-09-01 00:00", "2026-10-01 00:00", "2026-10-15 00:00", "2026-08-01 00:00", "2026-10-02 00:00",
               "2026-11-05 00:00", "2026-10-20 09:00", "2026-10-20 10:00", "2026-10-31 08:00", "2026-10-16 00:00"],
        "amount": [100.0, 50, 10, -20, 300, 70, 90, 40, 10, 5, 99],
        "status": ["paid", None, "paid", "refunded", "paid", "cancelled", "paid", "paid", "paid", "paid", "cancelled"],
    })
    users = pd.DataFrame({"user_id": ["u1", "u7"], "signup_at": ["2026-01-01 00:00", "2026-10-01 00:00"]})
    return from_frames({"orders": orders, "users": users})


def test_scores_exact() -> None:
    s = rfm_scores(_pack(), OCT).execute().set_index("user_id").sort_index()
    # u4 (cancelled only), u5 (after the period), u7 (no order) have no RFM row; refunds not netted
    assert list(s.index) == ["u1", "u2", "u3", "u6", "u8"]
    assert s["recency"].tolist() == [1, 31, 92, 12, 1]
    assert s["frequency"].tolist() == [2, 1, 1, 2, 1]
    assert s["monetary"].tolist() == [150.0, 10.0, 300.0, 50.0, 5.0]
    # recency ties (u1, u8 both 1 day) broken by user_id: u1 lower score
    assert s["r"].tolist() == [4, 2, 1, 3, 5]
    assert s["f"].tolist() == [4, 1, 2, 5, 3]
    assert s["m"].tolist() == [4, 2, 5, 3, 1]


def test_scores_lookback() -> None:
    s = rfm_scores(_pack(), OCT, lookback_days=31).execute().set_index("user_id").sort_index()
    assert list(s.index) == ["u1", "u2", "u6", "u8"]  # u3's only paid order is older than 31 days
    assert s["frequency"].tolist() == [1, 1, 2, 1]
    assert s["monetary"].tolist() == [100.0, 10.0, 50.0, 5.0]


def test_segments_default_rules() -> None:
    seg = rfm_segments(_pack(), OCT, RULES).set_index("segment")
    assert list(seg.index) == [r.segment for r in RULES] + ["Others"]
    assert seg.loc["Loyal", "customers"] == 2  # u1 (4,4,4), u6 (3,5,3)
    assert seg.loc["About to Sleep", "customers"] == 1  # u2 (2,1,2)
    assert seg.loc["At Risk", "customers"] == 1  # u3 (1,2,5)
    assert seg.loc["Others", "customers"] == 1  # u8 (5,3,1) matches no rule
    assert seg["customers"].sum() == 5
    assert seg.loc["Loyal", "share"] == pytest.approx(0.4)
    assert seg.loc["Loyal", "revenue"] == 200.0
    assert seg.loc["Loyal", "revenue_share"] == pytest.approx(200 / 515)
    assert seg.loc["Loyal", "recency"] == pytest.approx(6.5)
    assert seg.loc["Champions", "customers"] == 0
    assert seg.loc["Champions", "recency"] is None


def test_segments_first_match_wins_and_custom_rules() -> None:
    rules = [
        RFMRule(segment="Big", label=Label(zh="大", en="Big"), m=(4, 5)),
        RFMRule(segment="Bigger", label=Label(zh="更大", en="Bigger"), m=(5, 5)),  # shadowed by Big
    ]
    seg = rfm_segments(_pack(), OCT, rules).set_index("segment")
    assert seg["customers"].to_dict() == {"Big": 2, "Bigger": 0, "Others": 3}
    assert seg.loc["Big", "revenue"] == 450.0


def test_default_rules_all_reachable() -> None:
    # every default rule can match some score triple (no rule is fully shadowed by an earlier one)
    triples = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    hit = set()
    for t in triples:
        for rule in RULES:
            if all(lo <= v <= hi for v, (lo, hi) in zip(t, (rule.r, rule.f, rule.m), strict=True)):
                hit.add(rule.segment)
                break
    assert hit == {r.segment for r in RULES}


def test_empty_period_and_missing_table() -> None:
    with pytest.raises(NoData):
        rfm_segments(_pack(), Period.parse("2025-01"), RULES)
    with pytest.raises(NoData):
        rfm_segments(from_frames({"users": pd.DataFrame({"user_id": ["a"], "signup_at": ["2026-01-01 00:00"]})}),
                     OCT, RULES)


REF = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "rfm_data_orders.csv"


@pytest.mark.realdata
@pytest.mark.skipif(not REF.is_file(), reason="../shared/data/rfm_data_orders.csv (R rfm example) not present")
def test_reference_rfm_package_data() -> None:
    raw = pd.read_csv(REF)
    assert raw["order_date"].max() < "2007-01-01"  # so the analysis date 2007-01-01 = end of period 2006
    orders = pd.DataFrame({"order_id": [str(i + 1) for i in range(len(raw))], "user_id": raw["customer_id"],
                           "ts": pd.to_datetime(raw["order_date"]), "amount": raw["revenue"].astype(float)})
    got = rfm_scores(from_frames({"orders": orders}), Period.parse("2006")).execute().set_index("user_id")

    # independent plain-pandas derivation
    d = raw.assign(order_date=pd.to_datetime(raw["order_date"]))
    exp = d.groupby("customer_id").agg(last=("order_date", "max"), frequency=("order_date", "size"),
                                       monetary=("revenue", "sum"))
    exp["recency"] = (pd.Timestamp("2007-01-01") - exp["last"]).dt.days
    assert len(got) == len(exp) == 995
    for name in ["Abbey O'Reilly", "Add Senger", "Aden Murphy", "Brion Stark", "Ethyl Botsford"]:
        assert got.loc[name, "recency"] == exp.loc[name, "recency"], name
        assert got.loc[name, "frequency"] == exp.loc[name, "frequency"], name
        assert got.loc[name, "monetary"] == exp.loc[name, "monetary"], name
    assert (got.loc["Abbey O'Reilly", ["recency", "frequency", "monetary"]].tolist() == [206, 6, 472.0])

    def quintile(values: pd.Series, ascending: bool) -> pd.Series:
        frame = pd.DataFrame({"v": values, "id": values.index})
        order = frame.sort_values(["v", "id"], ascending=[ascending, True])
        rank = pd.Series(range(len(order)), index=order.index)
        return (rank * 5 // len(order) + 1).reindex(values.index)

    for col, score, asc in (("recency", "r", False), ("frequency", "f", True), ("monetary", "m", True)):
        want = quintile(exp[col], asc)
        assert (got[score].reindex(exp.index) == want).all(), score
        assert got[score].value_counts().sort_index().tolist() == [199] * 5
    assert got["recency"].min() == exp["recency"].min() == 2


def test_segment_rules_in_python_and_in_the_backend_agree() -> None:
    """rfm_segments maps score cells to segments in Python; the explorer maps customers in Ibis."""
    import ibis

    from opsnb.metrics.rfm import _segment_expr, segment_of

    cells = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                         columns=["r", "f", "m"])
    for rules in (RULES, [], [RFMRule(segment="Low", r=(1, 2), f=(1, 5), m=(1, 5), label=Label(zh="低", en="Low"))]):
        t = ibis.memtable(cells)
        got = t.mutate(segment=_segment_expr(t, rules)).execute()
        want = [segment_of(r, f, m, rules) for r, f, m in zip(got["r"], got["f"], got["m"], strict=True)]
        assert got["segment"].tolist() == want
    assert segment_of(5, 5, 5, RULES) == "Champions" and segment_of(5, 3, 1, RULES) == "Others"
