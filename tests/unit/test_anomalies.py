"""Anomaly detection: STL baseline + modified z-score, on hand-made series and a tiny pack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opsnb.metrics.anomalies import (
    _runs_at_least,
    daily_series,
    in_period,
    modified_z,
    robust_anomalies,
    weekly_churn,
)
from opsnb.pack import from_frames
from opsnb.periods import Period

WEEK = np.array([100.0, 104.0, 98.0, 101.0, 99.0, 130.0, 135.0])


def seasonal(n: int = 126, start: str = "2026-09-01", seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    v = np.resize(WEEK, n) + np.round(rng.normal(0, 3, n), 1)
    return pd.Series(v, index=pd.date_range(start, periods=n, freq="D"))


def test_modified_z_exact() -> None:
    z, med, mad = modified_z(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert (med, mad) == (3.0, 1.0)
    assert z.round(4).tolist() == [-1.349, -0.6745, 0.0, 0.6745, 65.4265]


def test_modified_z_mad_zero_is_not_computable() -> None:
    z, med, mad = modified_z(pd.Series([2.0, 2.0, 2.0, 9.0]))
    assert z is None and med == 2.0 and mad == 0.0


def test_spike_is_the_only_flagged_point() -> None:
    s = seasonal()
    s.iloc[113] += 60  # 2026-12-23
    r = robust_anomalies(s, 7)
    assert r.attrs["status"] == "ok"
    flagged = r.index[r["flagged"]]
    assert [d.date().isoformat() for d in flagged] == ["2026-12-23"]
    assert r.loc["2026-12-23", "value"] == s.iloc[113]
    # the expected value ("常态") is the weekly pattern of that weekday (day 113 ≡ 1 mod 7 → 104) within noise
    assert r.loc["2026-12-23", "expected"] == pytest.approx(104.0, abs=4.0)
    assert float(r.loc["2026-12-23", "z"]) > 10


def test_flat_series_is_not_computable() -> None:
    s = pd.Series(5.0, index=pd.date_range("2026-09-01", periods=28, freq="D"))
    r = robust_anomalies(s, 7)
    assert r.attrs["status"] == "not_computable"
    assert r.attrs["mad"] == pytest.approx(0.0, abs=1e-9)
    assert not r["flagged"].any()
    assert r["z"].isna().all()
    # the first two weeks are the warm-up (a baseline needs two seasons before a point); the rest has MAD 0
    assert set(r["reason"].iloc[:14]) == {"warm_up"} and set(r["reason"].iloc[14:]) == {"mad_zero"}


def test_series_shorter_than_two_seasons_is_too_short() -> None:
    s = seasonal(13)
    r = robust_anomalies(s, 7)
    assert r.attrs["status"] == "too_short"
    assert set(r["reason"]) == {"too_short"}
    assert not r["flagged"].any()
    assert robust_anomalies(seasonal(14), 7).attrs["status"] != "too_short"


def test_missing_days_and_nan_values_are_never_flagged() -> None:
    s = seasonal()
    s.iloc[113] += 60
    s.iloc[10] = np.nan
    s = s.drop(s.index[20])  # a missing day
    r = robust_anomalies(s, 7)
    assert len(r) == 126  # the missing day is put back on the calendar
    assert r.loc["2026-09-21", "reason"] == "missing" and pd.isna(r.loc["2026-09-21", "value"])
    assert r.loc["2026-09-11", "reason"] == "missing"
    assert not r.loc[["2026-09-11", "2026-09-21"], "flagged"].any()
    assert [d.date().isoformat() for d in r.index[r["flagged"]]] == ["2026-12-23"]


def test_consecutive_breaches() -> None:
    s = seasonal()
    s.iloc[113] += 60
    assert not robust_anomalies(s, 7, consecutive=2)["flagged"].any()
    s.iloc[114] += 60
    r = robust_anomalies(s, 7, consecutive=2)
    assert [d.date().isoformat() for d in r.index[r["flagged"]]] == ["2026-12-23", "2026-12-24"]


def test_runs_at_least() -> None:
    m = np.array([1, 1, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert _runs_at_least(m, 2).astype(int).tolist() == [1, 1, 0, 0, 0, 1, 1, 1]
    assert _runs_at_least(m, 3).astype(int).tolist() == [0, 0, 0, 0, 0, 1, 1, 1]


def test_weekly_churn_exact() -> None:
    ev = pd.DataFrame({"user_id": ["a", "b", "c", "a", "b", "a", "d"],
                       "ts": ["2026-09-07 10:00", "2026-09-08", "2026-09-09", "2026-09-14", "2026-09-15",
                              "2026-09-21", "2026-09-29"], "event": "visit"})
    s = weekly_churn(from_frames({"events": ev}), Period.parse("2026-09"))
    # week of 14 Sep: a, b, c active the week before, c gone → 1/3; week of 21 Sep: b gone → 1/2.
    # The week of 28 Sep ends in October: not complete by the period's end, so not included.
    assert s.round(6).to_dict() == {pd.Timestamp("2026-09-14"): 0.333333, pd.Timestamp("2026-09-21"): 0.5}


def test_daily_series_fill_policy() -> None:
    ev = pd.DataFrame({"user_id": ["a", "b", "a", "a"], "ts": ["2026-09-01", "2026-09-01", "2026-09-02", "2026-09-04"],
                       "event": "visit"})
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_at": ["2026-09-01", "2026-09-03"]})
    orders = pd.DataFrame({"order_id": ["1", "2", "3"], "user_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
                           "ts": ["2026-09-01", "2026-09-02", "2026-09-02"], "status": ["paid", "refunded", None]})
    pack = from_frames({"events": ev, "users": users, "orders": orders})
    p = Period.parse("2026-09")
    dau = daily_series(pack, "dau", p)
    assert dau.iloc[:4].tolist()[:2] == [2.0, 1.0]
    assert np.isnan(dau.iloc[2])  # no events at all on 3 Sep: a data gap, left missing
    assert len(dau) == 30 and dau.index[0] == pd.Timestamp("2026-09-01")
    nu = daily_series(pack, "new_users", p)
    assert nu.iloc[:4].tolist() == [1.0, 0.0, 1.0, 0.0]  # a day without sign-ups is a real 0
    gmv = daily_series(pack, "gmv", p)
    assert gmv.iloc[:3].tolist() == [10.0, 7.0, 0.0]  # refund row not netted
    conv = daily_series(pack, "conversion", p)
    assert conv.iloc[0] == 0.5 and conv.iloc[1] == 1.0 and np.isnan(conv.iloc[2]) and conv.iloc[3] == 0.0


def test_in_period_weeks_by_sunday() -> None:
    idx = pd.DatetimeIndex(["2026-09-28", "2026-10-19", "2026-10-26"])
    assert in_period(idx, Period.parse("2026-10"), "week").tolist() == [True, True, False]
    assert in_period(idx, Period.parse("2026-10"), "day").tolist() == [False, True, True]


def test_the_first_seasons_are_the_warm_up_never_judged() -> None:
    s = seasonal()
    s.iloc[5] += 60  # a spike in the first week: no baseline to call it a spike yet
    r = robust_anomalies(s, 7)
    assert r.attrs["warmup"] == 14 and r.attrs["first_judged"] == pd.Timestamp("2026-09-15")
    assert set(r["reason"].iloc[:14]) == {"warm_up"} and r["z"].iloc[:14].isna().all()
    assert not r["flagged"].any()
    assert robust_anomalies(s, 7, warmup=0)["flagged"].iloc[5]  # without a warm-up it would be a finding


def test_excluded_points_stay_out_of_the_fit_and_are_never_flagged() -> None:
    s = seasonal()
    s.iloc[100] -= 80  # a data incident's day
    excl = pd.Series(False, index=s.index)
    excl.iloc[100] = True
    r = robust_anomalies(s, 7, exclude=excl)
    assert r["reason"].iloc[100] == "excluded" and not r["flagged"].any()
    assert float(r["z"].iloc[100]) < -10  # scored for the record: the incident's echo
    # the expected value of the day comes from its neighbours, not from the broken value
    assert r["expected"].iloc[100] == pytest.approx(WEEK[100 % 7], abs=5)


def test_weekly_churn_starts_after_the_first_complete_week() -> None:
    # data from Wednesday 2 Sep: the week of 31 Aug is partial; the first complete week is 7–13 Sep
    ev = pd.DataFrame({"user_id": ["a", "b", "a", "a", "b", "a"],
                       "ts": ["2026-09-02", "2026-09-03", "2026-09-08", "2026-09-15", "2026-09-16", "2026-09-22"],
                       "event": "visit"})
    s = weekly_churn(from_frames({"events": ev}), Period.parse("2026-09"))
    # 14 Sep: a of {a} came back → 0; 21 Sep: of {a, b}, b is gone → 1/2 (the week of 7 Sep, after a partial week, is out)
    assert s.round(6).to_dict() == {pd.Timestamp("2026-09-14"): 0.0, pd.Timestamp("2026-09-21"): 0.5}


def test_counts_on_a_small_usual_level_carry_no_verdict() -> None:
    from opsnb.metrics.anomalies import judge_counts

    s = seasonal()
    s.iloc[113] += 60
    r = robust_anomalies(s, 7)
    assert judge_counts(r, min_base=30)["flagged"].iloc[113]  # a usual level of ~100: judged
    small = judge_counts(robust_anomalies(s / 10, 7), min_base=30)  # the same shape around 10 a day
    assert not small["flagged"].any() and small["reason"].iloc[113] == "small_base"
