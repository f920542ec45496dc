"""RFM parity with the R ``rfm`` package: ``quantile_breaks`` scoring, the ``r_rfm`` segment map and a settable
analysis date — exact values on hand-made data, and R's published numbers on R's example data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.metrics.rfm import quantile_breaks, quantile_scores, r_quantile, rfm_scores, rfm_segments
from opsnb.pack import from_frames
from opsnb.params import InsightsSettings, Label, RFMRule, r_rfm_segments
from opsnb.periods import Period

OCT = Period.parse("2026-10")
D = date(2026, 10, 20)  # an analysis date inside the period

# ten customers; the expected breaks and scores below are worked out by hand from R's type-7 quantile:
# index = 1 + 9p (n = 10) → 2.8, 4.6, 6.4, 8.2 for p = .2, .4, .6, .8; q = x[lo] + (index - lo)(x[hi] - x[lo]);
# breaks b = q + 1 (R rfm adds 1); bin = 1 + #{b <= x}; recency scores 6 - bin.
RECENCY = [0, 3, 3, 10, 20, 30, 45, 60, 90, 200]  # q = 3, 16, 36, 66 → b = 4, 17, 37, 67
R_SCORE = [5, 5, 5, 4, 3, 3, 2, 2, 1, 1]
FREQUENCY = [1, 1, 1, 2, 2, 3, 4, 5, 8, 10]  # q = 1, 2, 3.4, 5.6 → b = 2, 3, 4.4, 6.6
F_SCORE = [1, 1, 1, 2, 2, 3, 3, 4, 5, 5]  # ties share a score: bins of 3, 2, 2, 1, 2 customers
MONETARY = [5.5, 10.0, 10.0, 12.25, 40.0, 41.0, 99.9, 100.0, 250.0, 1000.0]  # q = 10, 28.9, 64.56, 130
M_SCORE = [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]


def test_r_quantile_type7() -> None:
    assert r_quantile([1, 2, 3, 4, 10], 0.2) == pytest.approx(1.8)  # R: quantile(c(1, 2, 3, 4, 10), .2)
    assert r_quantile([3, 1, 2], 0.5) == 2.0  # sorts
    assert r_quantile([7], 0.8) == 7.0
    assert r_quantile([1, 1, 1, 9], 0.4) == 1.0  # equal neighbours: no interpolation
    rng = np.random.default_rng(7)
    for n in (2, 5, 10, 995):
        x = rng.integers(0, 50, n).astype(float)
        for p in (0.2, 0.4, 0.6000000000000001, 0.8):
            assert r_quantile(x, p) == pytest.approx(float(np.quantile(x, p)), abs=1e-9)  # numpy "linear" = type 7
    with pytest.raises(ValueError, match="no values"):
        r_quantile([], 0.5)


def test_quantile_breaks_by_hand() -> None:
    assert quantile_breaks(RECENCY) == pytest.approx([4, 17, 37, 67])
    assert quantile_breaks(FREQUENCY) == pytest.approx([2, 3, 4.4, 6.6])
    assert quantile_breaks(MONETARY) == pytest.approx([11, 29.9, 65.56, 131])
    assert quantile_breaks([]) == []


def test_quantile_scores_by_hand() -> None:
    idx = [f"c{i}" for i in range(10)]
    assert quantile_scores(pd.Series(RECENCY, index=idx), reverse=True).tolist() == R_SCORE
    assert quantile_scores(pd.Series(FREQUENCY, index=idx)).tolist() == F_SCORE
    assert quantile_scores(pd.Series(MONETARY, index=idx)).tolist() == M_SCORE
    # R's "+ 1" on the breaks: 10.5 is above the 20 % quantile (10) but below its break (11)
    assert quantile_scores(pd.Series([*MONETARY, 10.5])).tolist()[-1] == 1
    # all equal: every break is above the value, everybody in bin 1 (recency: score 5)
    assert quantile_scores(pd.Series([4, 4, 4])).tolist() == [1, 1, 1]
    assert quantile_scores(pd.Series([4, 4, 4]), reverse=True).tolist() == [5, 5, 5]


def _pack_of(recency: list[int], frequency: list[int], monetary: list[float], day: date) -> object:
    """Customer ``c<i>``: ``frequency[i]`` paid orders, the last ``recency[i]`` days before ``day`` carrying
    all of ``monetary[i]``, the others a day apart before it with amount 0."""
    rows = []
    for i, (r, f, m) in enumerate(zip(recency, frequency, monetary, strict=True)):
        last = day - timedelta(days=r)
        for j in range(f):
            rows.append((f"c{i}", f"{last - timedelta(days=j)} 12:00", m if j == 0 else 0.0))
    orders = pd.DataFrame(rows, columns=["user_id", "ts", "amount"])
    orders.insert(0, "order_id", [f"o{k}" for k in range(len(orders))])
    orders["status"] = "paid"
    return from_frames({"orders": orders})


def test_quantile_breaks_scoring_on_a_pack() -> None:
    pack = _pack_of(RECENCY, FREQUENCY, MONETARY, D)
    s = rfm_scores(pack, OCT, scoring="quantile_breaks", analysis_date=D).execute()
    s = s.set_index("user_id").loc[[f"c{i}" for i in range(10)]]
    assert s["recency"].tolist() == RECENCY  # R: analysis_date - last order day; an order on D is 0 days
    assert s["frequency"].tolist() == FREQUENCY
    assert s["monetary"].tolist() == MONETARY
    assert (s["r"].tolist(), s["f"].tolist(), s["m"].tolist()) == (R_SCORE, F_SCORE, M_SCORE)
    # the default scoring is unchanged: quintiles of customers, two per score, ties split by user_id
    n = rfm_scores(pack, OCT, analysis_date=D).execute().set_index("user_id").loc[s.index]
    assert n["f"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert sorted(n["r"].value_counts().tolist()) == [2] * 5


def test_analysis_date_settable() -> None:
    # last paid orders on D, D - 5 and D - 19 (Oct 1); c0 also buys on D + 1
    orders = pd.DataFrame({
        "order_id": ["a", "b", "b2", "c", "late"],
        "user_id": ["c0", "c1", "c1", "c2", "c0"],
        "ts": ["2026-10-20 12:00", "2026-10-15 12:00", "2026-10-14 12:00", "2026-10-01 00:00", "2026-10-21 00:00"],
        "amount": [10.0, 20.0, 0.0, 30.0, 99.0],
        "status": "paid",
    })
    pack = from_frames({"orders": orders})
    at_d = rfm_scores(pack, OCT, analysis_date=D).execute().set_index("user_id").sort_index()
    # orders up to and including D count (c0's order on D), the one on D + 1 does not
    assert at_d["frequency"].tolist() == [1, 2, 1]
    assert at_d["monetary"].tolist() == [10.0, 20.0, 30.0]
    assert at_d["recency"].tolist() == [0, 5, 19]
    # the period end (default): the late order counts and recency runs from Nov 1, the day after the period
    end = rfm_scores(pack, OCT).execute().set_index("user_id").sort_index()
    assert end["frequency"].tolist() == [2, 2, 1]
    assert end["recency"].tolist() == [11, 17, 31]
    # the period's last day as the analysis date: the default's orders, recency one day less (R's convention)
    last = rfm_scores(pack, OCT, analysis_date=OCT.last_day).execute().set_index("user_id").sort_index()
    assert last["frequency"].tolist() == [2, 2, 1]
    assert last["recency"].tolist() == [10, 16, 30]
    # the lookback counts back from the end of the window: 6 days before D + 1 keeps D - 5 .. D
    lb = rfm_scores(pack, OCT, analysis_date=D, lookback_days=6).execute().set_index("user_id").sort_index()
    assert lb.index.tolist() == ["c0", "c1"] and lb["frequency"].tolist() == [1, 1]
    # the segments follow the date; before the first order there is nothing to score
    seg = rfm_segments(pack, OCT, r_rfm_segments(), scoring="quantile_breaks", analysis_date=D)
    assert int(seg["customers"].sum()) == 3 and float(seg["revenue"].sum()) == 60.0
    with pytest.raises(NoData, match="on or before 2026-09-30"):
        rfm_segments(pack, OCT, r_rfm_segments(), analysis_date=date(2026, 9, 30))


def test_params_scoring_map_and_date() -> None:
    s = InsightsSettings()
    assert (s.rfm_scoring, s.rfm_segment_map, s.rfm_analysis_date) == ("ntile", "default", None)
    assert s.rfm_rules == s.rfm_segments  # no published number changes by default
    r = InsightsSettings(rfm_scoring="quantile_breaks", rfm_segment_map="r_rfm", rfm_analysis_date="2006-12-31")
    assert r.rfm_analysis_date == date(2006, 12, 31)
    assert [x.segment for x in r.rfm_rules] == ["Champions", "Loyal Customers", "Potential Loyalist", "New Customers",
                                                "Promising", "Need Attention", "About To Sleep", "At Risk",
                                                "Can't Lose Them", "Lost"]
    assert all(x.label.zh and x.label.en == x.segment for x in r.rfm_rules)
    with pytest.raises(ValueError):
        InsightsSettings(rfm_scoring="quintiles")
    with pytest.raises(ValueError):
        InsightsSettings(rfm_segment_map="rfm")
    with pytest.raises(ValueError, match="unknown RFM scoring 'x'"):
        rfm_scores(_pack_of([1], [1], [1.0], D), OCT, scoring="x")  # type: ignore[arg-type]


def test_r_rfm_map_first_match_wins() -> None:
    from opsnb.metrics.rfm import segment_of

    rules = r_rfm_segments()
    assert segment_of(5, 5, 5, rules) == "Champions"
    assert segment_of(4, 3, 3, rules) == "Loyal Customers"  # also Potential Loyalist's R range, Loyal is first
    assert segment_of(3, 1, 1, rules) == "Potential Loyalist"  # before Promising (R 3-4, F 1, M 1)
    assert segment_of(2, 2, 2, rules) == "Need Attention"  # before About To Sleep and At Risk
    assert segment_of(1, 5, 5, rules) == "At Risk"  # Can't Lose Them (R 1, F/M 4-5) comes after At Risk in R's map
    assert segment_of(1, 1, 1, rules) == "Lost"
    assert segment_of(5, 1, 4, rules) == "Others"  # recent one-off big spender: no rule in R's map


# ---------------------------------------------------------------- R's example data and published numbers

REF = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "rfm_data_orders.csv"
R_DATE = date(2006, 12, 31)  # analysis_date <- as.Date("2006-12-31") in rfm's docs, tests and vignettes


@pytest.fixture(scope="module")
def r_pack() -> object:
    if not REF.is_file():
        pytest.skip("../shared/data/rfm_data_orders.csv (R rfm example) not present")
    raw = pd.read_csv(REF)
    orders = pd.DataFrame({"order_id": [str(i + 1) for i in range(len(raw))], "user_id": raw["customer_id"],
                           "ts": pd.to_datetime(raw["order_date"]), "amount": raw["revenue"].astype(float)})
    return from_frames({"orders": orders})


def _summary(seg: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """R's rfm_segment_summary columns: customers, orders, revenue (our frequency is the segment mean)."""
    seg = seg[seg["customers"] > 0]
    return {s: (int(c), round(float(f) * int(c)), round(float(r)))
            for s, c, f, r in zip(seg["segment"], seg["customers"], seg["frequency"], seg["revenue"], strict=True)}


@pytest.mark.realdata
def test_r_rfm_published_scores(r_pack: object) -> None:
    """rfm's README: the first ten rows of rfm_table_order(rfm_data_orders, ..., as_date("2006-12-31"))."""
    got = rfm_scores(r_pack, Period.parse("2006"), scoring="quantile_breaks", analysis_date=R_DATE).execute()
    got = got.set_index("user_id")
    assert len(got) == 995
    published = {  # name (the CSV drops R's titles: "Abbey O'Reilly DVM") → recency_days, orders, amount, R, F, M
        "Abbey O'Reilly": (205, 6, 472, 3, 4, 3), "Add Senger": (140, 3, 340, 4, 1, 2),
        "Aden Lesch": (194, 4, 405, 3, 2, 3), "Admiral Senger": (132, 5, 448, 4, 3, 3),
        "Agness O'Keefe": (90, 9, 843, 5, 5, 5), "Aileen Barton": (84, 9, 763, 5, 5, 5),
        "Ailene Hermann": (281, 8, 699, 3, 5, 5), "Aiyanna Bruen": (246, 4, 157, 3, 2, 1),
        "Ala Schmidt": (349, 3, 363, 2, 1, 2), "Alannah Borer": (619, 4, 196, 1, 2, 1),
    }
    for name, want in published.items():
        row = got.loc[name]
        assert tuple(int(row[c]) for c in ("recency", "frequency", "monetary", "r", "f", "m")) == want, name
    # the breaks (quantiles + 1); rfm's custom-threshold example passes them rounded: recency_bins = c(115, 181,
    # 297, 482), frequency_bins = c(4, 5, 6, 8), monetary_bins = c(256, 382, 506, 666)
    values = got[["recency", "frequency", "monetary"]]
    assert quantile_breaks(values["recency"]) == pytest.approx([115, 181, 297.4, 482])
    assert quantile_breaks(values["frequency"]) == pytest.approx([4, 5, 6, 8])
    assert quantile_breaks(values["monetary"]) == pytest.approx([255.8, 382, 506.4, 666])


@pytest.mark.realdata
def test_r_rfm_default_segment_map_champions(r_pack: object) -> None:
    """rfm's tests/testthat/test-rfm-segment.R: with its documented map, Champions = 158 customers, 1,234
    orders, 120,178 revenue; 995 customers in all."""
    settings = InsightsSettings(rfm_scoring="quantile_breaks", rfm_segment_map="r_rfm", rfm_analysis_date=R_DATE)
    seg = rfm_segments(r_pack, Period.parse("2006"), settings.rfm_rules, scoring=settings.rfm_scoring,
                       analysis_date=settings.rfm_analysis_date)
    got = _summary(seg)
    assert got["Champions"] == (158, 1234, 120178)  # published by R
    assert int(seg["customers"].sum()) == 995
    # the other segments are not published by R for this map; pinned here (same scores, same rules) against drift
    assert got == {"Champions": (158, 1234, 120178), "Loyal Customers": (278, 1708, 166712),
                   "Potential Loyalist": (229, 801, 65873), "Need Attention": (35, 144, 13287),
                   "About To Sleep": (50, 127, 10914), "At Risk": (86, 438, 44178), "Lost": (111, 244, 20955),
                   "Others": (48, 210, 22061)}


@pytest.mark.realdata
def test_r_rfm_current_docs_segment_summary(r_pack: object) -> None:
    """rfm's current reference page for rfm_segment_summary (rfm.rsquaredacademy.com): its other documented map
    on the same scores, every segment's customers, orders and revenue as published."""
    names = ["Champions", "Potential Loyalist", "Loyal Customers", "Promising", "New Customers", "Can't Lose Them",
             "At Risk", "Need Attention", "About To Sleep", "Lost"]
    r_lo, r_hi = [5, 3, 2, 3, 4, 1, 1, 1, 2, 1], [5, 5, 4, 4, 5, 2, 2, 3, 3, 1]
    f_lo, f_hi = [5, 3, 2, 1, 1, 3, 2, 3, 1, 1], [5, 5, 4, 3, 3, 4, 5, 5, 3, 5]
    m_lo, m_hi = [5, 2, 2, 3, 1, 4, 4, 3, 1, 1], [5, 5, 4, 5, 5, 5, 5, 5, 4, 5]
    rules = [RFMRule(segment=n, label=Label(zh=n, en=n), r=(r_lo[i], r_hi[i]), f=(f_lo[i], f_hi[i]),
                     m=(m_lo[i], m_hi[i])) for i, n in enumerate(names)]
    seg = rfm_segments(r_pack, Period.parse("2006"), rules, scoring="quantile_breaks", analysis_date=R_DATE)
    assert _summary(seg) == {
        "About To Sleep": (102, 283, 23449), "At Risk": (28, 216, 22227), "Can't Lose Them": (47, 274, 32446),
        "Champions": (35, 316, 31646), "Lost": (148, 393, 35324), "Loyal Customers": (170, 799, 76562),
        "Need Attention": (10, 57, 4562), "New Customers": (104, 329, 28837),
        "Potential Loyalist": (342, 2211, 204856), "Promising": (9, 28, 4249),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_uses_the_settings(lang: str) -> None:
    """The insights RFM subsection passes scoring, map and date through; labels come from the rules (zh/en)."""
    from opsnb.nb import Context
    from opsnb.params import Settings
    from opsnb.sections.insights_customers import _rfm, rfm_table

    settings = Settings(lang=lang, insights={"rfm_scoring": "quantile_breaks", "rfm_segment_map": "r_rfm",
                                             "rfm_analysis_date": "2026-10-20"})
    ctx = Context(settings, _pack_of(RECENCY, FREQUENCY, MONETARY, D), OCT)
    df = _rfm(ctx)
    # (r, f, m) by hand: c0-c2 (5,1,1), c3 (4,2,2), c4 (3,2,3) → Potential Loyalist (before New Customers in R's
    # order); c5 (3,3,3), c6 (2,3,4), c7 (2,4,4) → Loyal Customers; c8, c9 (1,5,5) → At Risk (before Can't Lose Them)
    counts = dict(zip(df["segment"], df["customers"], strict=True))
    assert {k: v for k, v in counts.items() if v} == {"Potential Loyalist": 5, "Loyal Customers": 3, "At Risk": 2}
    assert list(counts) == [r.segment for r in r_rfm_segments()] + ["Others"]
    labels = dict(zip(df["segment"], df["label"], strict=True))
    assert labels["Champions"] == ("重要价值客户" if lang == "zh" else "Champions")
    assert labels["Others"] == ("其他" if lang == "zh" else "Others")
    cap = rfm_table(df, ctx).caption or ""  # the base (customers and analysis date) is the table's caption
    assert ("2026年10月20日" if lang == "zh" else "20 Oct 2026") in cap and "10" in cap

