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


# ---------------------------------------------------------------- regions: CN, GB and others


def test_region_defaults_to_the_country_of_the_time_zone():
    from opsnb.params import country_of_timezone

    assert [country_of_timezone(z) for z in ("Asia/Shanghai", "Europe/London", "America/New_York", "UTC")] == [
        "CN", "GB", "US", None]
    assert country_of_timezone("Europe/Berlin") == "DE"  # not in the explicit map: from tzdata's zone.tab
    assert Settings().region == "CN"
    assert Settings(timezone="Europe/London").region == "GB"
    assert Settings(timezone="Europe/London", calendar_region="gb-sct").region == "GB-SCT"
    assert Settings(timezone="UTC").region is None


def test_unknown_calendar_region_is_named():
    import pytest

    from opsnb.errors import ParamsError
    from opsnb.params import validate

    with pytest.raises(ParamsError) as err:
        validate({"calendar_region": "XX"})
    assert str(err.value) == ("invalid parameters: calendar_region: unknown calendar region 'XX': not a country "
                              "the holidays package supports (ISO 3166 code such as CN, GB, US, DE) (got 'XX')")
    with pytest.raises(ParamsError, match=r"unknown subdivision 'XYZ' of GB; known: \['ENG', 'NIR', 'SCT', 'WLS'\]"):
        validate({"calendar_region": "GB-XYZ"})


def test_gb_bank_holidays_2012_england_and_wales():
    df = public_holidays(date(2012, 1, 1), date(2013, 1, 1), region="GB")
    assert [(r.start, r.end, r.name_en, r.name_zh) for r in df.itertuples()] == [
        (date(2012, 1, 1), date(2012, 1, 2), "New Year's Day", "元旦"),  # a Sunday: substitute day Monday 2nd
        (date(2012, 4, 6), date(2012, 4, 6), "Good Friday", "耶稣受难日"),
        (date(2012, 4, 9), date(2012, 4, 9), "Easter Monday", "复活节星期一"),
        (date(2012, 5, 7), date(2012, 5, 7), "May Day", "五月初银行假日"),
        (date(2012, 6, 4), date(2012, 6, 4), "Spring Bank Holiday", "春季银行假日"),
        (date(2012, 6, 5), date(2012, 6, 5), "Diamond Jubilee of Elizabeth II", "伊丽莎白二世登基60周年庆典"),
        (date(2012, 8, 27), date(2012, 8, 27), "Late Summer Bank Holiday", "夏末银行假日"),
        (date(2012, 12, 25), date(2012, 12, 25), "Christmas Day", "圣诞节"),
        (date(2012, 12, 26), date(2012, 12, 26), "Boxing Day", "节礼日"),
    ]
    assert set(df.kind) == {"holiday"}
    sct = public_holidays(date(2012, 8, 1), date(2012, 9, 1), region="GB-SCT")
    assert list(zip(sct.start, sct.name_en, strict=True)) == [(date(2012, 8, 6), "Summer Bank Holiday")]


def test_gb_christmas_2011_substitute_day_listed_once():
    df = public_holidays(date(2011, 11, 1), date(2012, 1, 1), region="GB")
    # Christmas Day 2011 was a Sunday: Tuesday 27 December was its substitute bank holiday
    assert [(r.start, r.end, r.name_en) for r in df.itertuples()] == [
        (date(2011, 12, 25), date(2011, 12, 27), "Christmas Day"),
        (date(2011, 12, 26), date(2011, 12, 26), "Boxing Day")]


def test_gb_retail_moments():
    from opsnb.metrics.calendar import black_friday

    df, notes = festivals(date(2011, 11, 1), date(2012, 4, 1), region="GB")
    assert [(r.key, r.start, r.end) for r in df.itertuples()] == [
        ("black_friday", date(2011, 11, 25), date(2011, 11, 25)),
        ("cyber_monday", date(2011, 11, 28), date(2011, 11, 28)),
        ("christmas_shopping", date(2011, 12, 1), date(2011, 12, 24)),
        ("boxing_day_sales", date(2011, 12, 26), date(2011, 12, 31)),
        ("january_sales", date(2012, 1, 1), date(2012, 1, 31)),
        ("valentine", date(2012, 2, 14), date(2012, 2, 14)),
        ("mothers_day_uk", date(2012, 3, 18), date(2012, 3, 18)),  # Easter Sunday 2012-04-08 − 21 days
    ]
    assert notes == []
    spring, _ = festivals(date(2011, 4, 1), date(2011, 7, 1), region="GB")
    assert [(r.key, r.start, r.end) for r in spring.itertuples()] == [
        ("mothers_day_uk", date(2011, 4, 3), date(2011, 4, 3)), ("easter", date(2011, 4, 22), date(2011, 4, 25)),
        ("fathers_day_uk", date(2011, 6, 19), date(2011, 6, 19))]
    # the day after US Thanksgiving (4th Thursday of November): in 2013 that is the 5th Friday
    assert [black_friday(y) for y in (2011, 2013, 2024)] == [date(2011, 11, 25), date(2013, 11, 29), date(2024, 11, 29)]


def test_gb_marketing_calendar_has_no_chinese_festival():
    from opsnb.metrics.targets import Note

    cal = marketing_calendar(from_frames({}), Period.parse("2011-10"), Settings(timezone="Europe/London"))
    assert (cal.start, cal.end) == (date(2011, 11, 1), date(2012, 2, 1))
    ev = cal.events
    assert list(ev[ev.kind == "retail"].key) == ["black_friday", "cyber_monday", "christmas_shopping",
                                                   "boxing_day_sales", "january_sales"]
    assert list(zip(ev[ev.kind == "holiday"].start, ev[ev.kind == "holiday"].name_en, strict=True)) == [
        (date(2011, 12, 25), "Christmas Day"), (date(2011, 12, 26), "Boxing Day"), (date(2012, 1, 1), "New Year's Day")]
    assert not set(ev.name_zh.dropna()) & {"春节", "农历除夕", "元旦（补假）"}
    assert cal.notes == [Note("plan.note.region", {"region": "GB-ENG"})]


def test_region_without_festival_set_gets_public_holidays_only():
    from opsnb.metrics.targets import Note

    cal = marketing_calendar(from_frames({}), Period.parse("2011-10"), Settings(timezone="America/New_York"))
    ev = cal.events
    assert set(ev.kind) == {"holiday"}
    assert list(zip(ev.start, ev.name_en, strict=True)) == [
        (date(2011, 11, 11), "Veterans Day"), (date(2011, 11, 24), "Thanksgiving Day"),
        (date(2011, 12, 25), "Christmas Day"), (date(2012, 1, 1), "New Year's Day"),
        (date(2012, 1, 16), "Martin Luther King Jr. Day")]
    # Chinese names from the catalogue where a name is known (plan.holiday.<slug>), else the English one
    assert ev.name_zh.tolist() == ["Veterans Day", "Thanksgiving Day", "圣诞节", "元旦", "Martin Luther King Jr. Day"]
    assert cal.notes == [Note("plan.note.region_no_festivals", {"region": "US"})]
    assert festivals(date(2011, 1, 1), date(2012, 1, 1), region=None)[0].empty
    assert public_holidays(date(2011, 1, 1), date(2012, 1, 1), region=None).empty


def test_cn_calendar_lists_each_holiday_once():
    # 2012: 农历除夕 (1/22) had its substitute day on 1/25, after 春节 (1/23–1/24); it was listed twice
    df = public_holidays(date(2011, 12, 1), date(2012, 3, 1))
    assert [(r.start, r.end, r.name_zh, r.name_en) for r in df.itertuples()] == [
        (date(2012, 1, 1), date(2012, 1, 2), "元旦", "New Year's Day"),
        (date(2012, 1, 22), date(2012, 1, 25), "农历除夕", "Chinese New Year's Eve"),
        (date(2012, 1, 23), date(2012, 1, 24), "春节", "Chinese New Year (Spring Festival)")]
    # 2020: 中秋节 and 国庆节 share 10/1 (one "中秋节; 国庆节" entry in the package); each is listed once
    oct20 = public_holidays(date(2020, 9, 1), date(2020, 11, 1))
    assert [(r.start, r.end, r.name_zh) for r in oct20.itertuples()] == [
        (date(2020, 10, 1), date(2020, 10, 1), "中秋节"), (date(2020, 10, 1), date(2020, 10, 5), "国庆节")]
    # 2015: 中秋节 on Sunday 9/27, its day off in lieu on 10/6 inside 国庆节: not listed a second time
    oct15 = public_holidays(date(2015, 9, 20), date(2015, 11, 1))
    assert [(r.start, r.end, r.name_zh) for r in oct15.itertuples()] == [
        (date(2015, 9, 27), date(2015, 9, 27), "中秋节"), (date(2015, 10, 1), date(2015, 10, 5), "国庆节")]


def test_no_duplicate_events_in_any_year():
    for region in ("CN", "GB", "US"):
        for y in range(2010, 2031):
            df = public_holidays(date(y, 1, 1), date(y + 1, 1, 1), region=region)
            # one row per occurrence: two rows of one holiday are months apart (US 2010: New Year's Day
            # 2010-01-01 and 2011's, observed on Friday 2010-12-31)
            for name, g in df.groupby("name_en"):
                starts = g.start.tolist()
                gaps = [(b - a).days for a, b in zip(starts, starts[1:], strict=False)]
                assert all(x > 300 for x in gaps), (region, y, name, list(g.start))
            fest, _ = festivals(date(y, 1, 1), date(y + 1, 1, 1), region=region)
            assert not fest.duplicated(["key", "start"]).any(), (region, y)


def test_every_festival_key_has_a_name():
    from opsnb.render.i18n import t

    for region in ("CN", "GB"):
        df, _ = festivals(date(2026, 1, 1), date(2027, 1, 1), region=region)
        for key in df.key:
            assert t(f"plan.festival.{key}", "zh") and t(f"plan.festival.{key}", "en")
