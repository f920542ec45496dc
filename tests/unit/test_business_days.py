"""Business days: the settings' shape and errors, closed days, and the missing-days detector."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from opsnb.errors import ParamsError
from opsnb.metrics import problems as pm
from opsnb.metrics.calendar import BusinessCalendar, business_calendar
from opsnb.pack import from_frames
from opsnb.params import Settings, validate
from opsnb.periods import Period

OCT = Period.parse("2026-10")  # 2026-10-01 is a Thursday: Saturdays 3, 10, 17, 24, 31


def test_weekdays_by_name_or_number_and_ranges():
    s = Settings(business_days={"closed_weekdays": ["Sat", "sunday", 0, "SAT"],
                                "closed_dates": ["2010-12-24..2011-01-03", date(2011, 4, 24), ["2011-05-01", "2011-05-02"]]})
    bd = s.business_days
    assert bd.closed_weekdays == [0, 5, 6]
    assert bd.closed_dates == [(date(2010, 12, 24), date(2011, 1, 3)), (date(2011, 4, 24), date(2011, 4, 24)),
                               (date(2011, 5, 1), date(2011, 5, 2))]
    assert Settings(business_days={"closed_weekdays": "Sat"}).business_days.closed_weekdays == [5]
    assert Settings().business_days.all_open and business_calendar(Settings()).all_open


def test_bad_business_days_are_each_named():
    with pytest.raises(ParamsError) as err:
        validate({"business_days": {"closed_weekdays": ["Sat", "Samstag", 7, True],
                                    "closed_dates": ["Christmas", "2011-02-01..2011-01-01"],
                                    "closed_on_weekends": True}})
    assert str(err.value).splitlines() == [
        "invalid parameters: 6 problems",
        "  - business_days.closed_weekdays.1: not a weekday; use Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)"
        " (got 'Samstag')",
        "  - business_days.closed_weekdays.2: not a weekday; use Mon..Sun, Monday..Sunday or 0-6 (Monday = 0) (got 7)",
        "  - business_days.closed_weekdays.3: not a weekday; use Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)"
        " (got True)",
        "  - business_days.closed_dates.0: not a date or a date range; use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
        " (first and last day, inclusive) (got 'Christmas')",
        "  - business_days.closed_dates.1: the range ends (2011-01-01) before it starts (2011-02-01)"
        " (got '2011-02-01..2011-01-01')",
        "  - business_days.closed_on_weekends: unknown setting; check the spelling against params/default.yaml"
        " (got True)",
    ]


def test_closed_days_weekdays_dates_and_public_holidays():
    bc = BusinessCalendar(frozenset({5}), ((date(2011, 12, 28), date(2011, 12, 29)),), True, "GB")
    closed = bc.closed(date(2011, 12, 19), date(2012, 1, 3))
    assert sorted(closed) == [date(2011, 12, 24), date(2011, 12, 25), date(2011, 12, 26), date(2011, 12, 27),
                              date(2011, 12, 28), date(2011, 12, 29), date(2011, 12, 31), date(2012, 1, 1),
                              date(2012, 1, 2)]
    assert bc.open_days(date(2011, 12, 19), date(2011, 12, 26)) == [date(2011, 12, 19 + i) for i in range(5)]
    assert not bc.is_open(date(2011, 12, 27)) and bc.is_open(date(2011, 12, 30))
    # closed_on_public_holidays follows the settings' region (Europe/London → GB = England and Wales)
    s = Settings(timezone="Europe/London", business_days={"closed_on_public_holidays": True})
    assert business_calendar(s).closed(date(2012, 8, 1), date(2012, 9, 1)) == {date(2012, 8, 27)}
    assert business_calendar(s.problems).all_open  # only the problems part: every day open


def _events_without(skip: set[pd.Timestamp]) -> pd.DataFrame:
    days = pd.date_range("2026-09-01", "2026-11-01", freq="D")  # the data go on after the period
    return pd.DataFrame([{"user_id": f"{p}{k}", "ts": d + pd.Timedelta(hours=9 + k % 8), "event": "visit",
                          "platform": p}
                         for d in days if d not in skip for p in ("web", "app") for k in range(25)])


def test_missing_days_ignore_closed_saturdays_but_flag_an_open_weekday():
    saturdays = set(pd.date_range("2026-09-05", "2026-11-01", freq="7D"))
    assert {d.day_name() for d in saturdays} == {"Saturday"}
    pack = from_frames({"events": _events_without(saturdays | {pd.Timestamp("2026-10-14")})})  # a Wednesday
    shut = Settings(business_days={"closed_weekdays": ["Sat"]})
    df = pm.data_gap_problems(pack, OCT, shut)
    assert df["key"].tolist() == ["data:missing_days:events"]  # no tracking break on Saturdays either
    r = df.iloc[0]
    assert r["evidence"] == {"table": "events", "days": ["2026-10-14"], "n_days": 1}
    assert (r["score"], r["severity"]) == (0.5, "medium")
    # every day open (the default): the Saturdays of October are missing too — but not the 31st: the data end
    # on Friday the 30th, and a day after the data's last day is not read (the review is as of the 30th)
    open_all = pm.data_gap_problems(pack, OCT, Settings()).iloc[0]["evidence"]
    assert open_all["days"] == ["2026-10-03", "2026-10-10", "2026-10-14", "2026-10-17", "2026-10-24"]


def test_closed_day_no_gap_when_the_data_are_complete():
    saturdays = set(pd.date_range("2026-09-05", "2026-11-01", freq="7D"))
    pack = from_frames({"events": _events_without(saturdays | {pd.Timestamp("2026-10-14")})})
    shut = Settings(business_days={"closed_weekdays": [5], "closed_dates": ["2026-10-14"]})
    assert pm.data_gap_problems(pack, OCT, shut).empty


def test_online_retail_unit_is_closed_on_saturdays_and_uk_bank_holidays():
    from pathlib import Path

    from opsnb.params import load_params

    s = load_params(unit="online_retail", root=Path(__file__).resolve().parents[2])
    assert (s.region, s.business_days.closed_weekdays, s.business_days.closed_on_public_holidays) == ("GB", [5], True)
    closed = business_calendar(s).closed(date(2011, 11, 1), date(2011, 12, 1))
    assert sorted(closed) == [date(2011, 11, 5), date(2011, 11, 12), date(2011, 11, 19), date(2011, 11, 26)]
    xmas = business_calendar(s).closed(date(2010, 12, 20), date(2011, 1, 10))
    assert sorted(xmas) == [date(2010, 12, 24 + i) for i in range(8)] + [date(2011, 1, d) for d in (1, 2, 3, 8)]
