"""Marketing calendar: holidays from the holidays package, festivals, planned campaigns, themes."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pandas as pd

from opsnb.metrics.calendar import QIXI, festivals, marketing_calendar, public_holidays, qixi, spring_festival
from opsnb.pack import from_frames
from opsnb.params import Settings
from opsnb.periods import Period


def test_holidays_package_2026_spring_festival():
    h = holidays.China(years=2026, language="zh_CN")
    assert h.get(date(2026, 2, 17)) == "春节"
    assert [d for d, n in sorted(h.items()) if n == "春节"] == [date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19)]
    assert spring_festival(2026) == date(2026, 2, 17)
    assert h.get(date(2026, 9, 25)) == "中秋节"


def test_public_holidays_ranges_without_swapped_days():
    df = public_holidays(date(2026, 2, 1), date(2026, 3, 1))
    spring = df[df.name_zh == "春节"].iloc[0]
    assert (spring.start, spring.end, spring.name_en) == (date(2026, 2, 17), date(2026, 2, 19),
                                                          "Chinese New Year (Spring Festival)")
    assert not df.name_zh.str.contains("休息日").any()
    oct_ = public_holidays(date(2026, 10, 1), date(2026, 11, 1))
    nd = oct_[oct_.name_zh == "国庆节"].iloc[0]
    assert (nd.start, nd.end) == (date(2026, 10, 1), date(2026, 10, 5))  # observed day merged across the weekend


def test_qixi_table_is_consistent_with_mid_autumn():
    from holidays.calendars.chinese import _ChineseLunisolar

    lunar = _ChineseLunisolar()
    for y, d in QIXI.items():
        assert (lunar.mid_autumn_date(y)[0] - d).days in (37, 38), y
    assert qixi(2026) == (date(2026, 8, 19), True)
    assert qixi(2040)[1] is False


def test_festivals_nianhuo_before_spring_festival():
    df, notes = festivals(date(2026, 1, 1), date(2026, 4, 1))
    nh = df[df.key == "nianhuo"].iloc[0]
    assert (nh.start, nh.end) == (date(2026, 1, 27), date(2026, 2, 16))
    assert set(df.key) == {"nianhuo", "valentine", "womens_day"}
    assert notes == []


def test_marketing_calendar_window_campaigns_and_themes():
    camps = pd.DataFrame(dict(campaign_id=["c1", "c2"], name=["冬季拉新", "十月活动"], type=["growth", "promo"],
                              start=["2026-11-05", "2026-10-05"], end=["2026-11-20", "2026-10-10"], cost=[1.0, 1.0]))
    cal = marketing_calendar(from_frames({"campaigns": camps}), Period.parse("2026-10"), Settings())
    assert (cal.start, cal.end) == (date(2026, 11, 1), date(2027, 2, 1))
    ev = cal.events
    assert list(ev[ev.kind == "campaign"].key) == ["c1"]
    assert {"double_11", "double_12", "nianhuo"} <= set(ev[ev.kind == "festival"].key)
    assert "元旦" in set(ev[ev.kind == "holiday"].name_zh)
    assert ev[ev.key == "double_11"].iloc[0].quarter == "2026-Q4"
    assert list(cal.themes.quarter) == ["2026-Q4", "2027-Q1"]
    assert list(cal.themes.theme) == ["reactivation", "acquisition"]
    assert ev[ev.name_zh == "元旦"].iloc[0].theme == "acquisition"
    assert ev.start.is_monotonic_increasing
    assert all(e >= cal.start - timedelta(days=60) for e in ev.start)
