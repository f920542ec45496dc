from datetime import date, timedelta

import pytest

from opsnb.periods import Period, latest_full_month


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 11, 1), "month", "2026-10"),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "month", "2026-12"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 10, 1), "quarter", "2026-Q3"),
        ("2026-q4", date(2026, 10, 1), date(2027, 1, 1), "quarter", "2026-Q4"),
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "year", "2026"),
    ],
)
def test_parse(text, start, end, kind, label):
    p = Period.parse(text)
    assert (p.start, p.end, p.kind, p.label) == (start, end, kind, label)


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "202610", "2026-Q5", "26-10", "", "2026-1", "nan"])
def test_parse_rejects_with_accepted_forms(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse(bad)


def test_navigation():
    p = Period.parse("2026-01")
    assert p.previous().label == "2025-12"
    assert p.next().label == "2026-02"
    assert p.last_year().label == "2025-01"
    assert Period.parse("2026-Q1").previous().label == "2025-Q4"
    assert Period.parse("2026-Q3").last_year().label == "2025-Q3"
    assert Period.parse("2026").previous().label == "2025"
    assert p.days == 31 and Period.parse("2026-02").days == 28 and Period.parse("2024-02").days == 29
    assert [m.label for m in Period.parse("2026-Q2").month_periods()] == ["2026-04", "2026-05", "2026-06"]
    assert [q.label for q in Period.parse("2026-08").quarter_periods()] == ["2026-Q3"]
    assert Period.parse("2026-10").year_to_date().start == date(2026, 1, 1)


def test_clip_and_latest_full_month():
    p = Period.parse("2026-10")
    assert p.clip(date(2026, 10, 9)).end == date(2026, 10, 10)
    assert p.clip(date(2026, 10, 9)).days == 9
    assert p.clip(date(2026, 11, 5)) == p
    assert latest_full_month(date(2026, 10, 31)).label == "2026-10"
    assert latest_full_month(date(2026, 11, 9)).label == "2026-10"
    assert latest_full_month(date(2011, 12, 9)).label == "2011-11"


@pytest.mark.parametrize(
    ("day", "kind", "start", "end"),
    [
        (date(2026, 1, 1), "month", date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 12, 31), "month", date(2026, 12, 1), date(2027, 1, 1)),
        (date(2024, 2, 29), "month", date(2024, 2, 1), date(2024, 3, 1)),
        (date(2026, 2, 28), "month", date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 31), "quarter", date(2026, 1, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), "quarter", date(2026, 4, 1), date(2026, 7, 1)),
        (date(2026, 9, 30), "quarter", date(2026, 7, 1), date(2026, 10, 1)),
        (date(2026, 12, 31), "quarter", date(2026, 10, 1), date(2027, 1, 1)),
        (date(2024, 2, 29), "year", date(2024, 1, 1), date(2025, 1, 1)),
        (date(2026, 12, 31), "year", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_containing(day, kind, start, end):
    assert Period.containing(day, kind) == Period(start, end, kind)


def test_containing_agrees_with_parse_on_every_day_of_a_leap_year():
    d = date(2024, 1, 1)
    while d.year == 2024:
        assert Period.containing(d, "month") == Period.parse(f"{d.year}-{d.month:02d}")
        assert Period.containing(d, "quarter") == Period.parse(f"{d.year}-Q{(d.month - 1) // 3 + 1}")
        assert Period.containing(d, "year") == Period.parse("2024")
        d += timedelta(days=1)
    assert Period.containing(date(2024, 2, 29), "month").days == 29
    assert Period.containing(date(2024, 2, 29), "quarter").days == 91
    assert Period.containing(date(2024, 2, 29), "year").days == 366
    assert Period.containing(date(2026, 2, 1), "quarter").days == 90


def test_containing_names_the_known_kinds():
    with pytest.raises(ValueError, match=r"unknown period kind 'week'; known: \['month', 'quarter', 'year'\]"):
        Period.containing(date(2026, 10, 1), "week")  # type: ignore[arg-type]


def test_full_of_a_partial_period():
    oct_ = Period.parse("2026-10")
    assert oct_.clip(date(2026, 10, 9)).full == oct_
    assert oct_.full == oct_
    assert Period.parse("2026-Q4").clip(date(2026, 11, 15)).full == Period.parse("2026-Q4")
    assert oct_.year_to_date() == Period(date(2026, 1, 1), date(2026, 11, 1), "year")
    assert oct_.year_to_date().full == Period.parse("2026")
    assert Period.parse("2024-02").clip(date(2024, 2, 1)).full == Period(date(2024, 2, 1), date(2024, 3, 1), "month")


def test_order_by_start_then_end():
    labels = ["2027", "2026-Q4", "2026-10", "2026-08", "2026-Q3", "2025-12", "2026"]
    ordered = sorted(Period.parse(s) for s in labels)
    assert [p.label for p in ordered] == ["2025-12", "2026", "2026-Q3", "2026-08", "2026-10", "2026-Q4", "2027"]
    oct_ = Period.parse("2026-10")
    partial = oct_.clip(date(2026, 10, 9))
    assert partial < oct_ < Period.parse("2026-Q4") < Period.parse("2026-11")
    assert max([Period.parse("2026-Q3"), Period.parse("2026-07"), Period.parse("2026-09")]).label == "2026-09"
    # same days, different kinds: ordered (by kind) and unequal, so the order is total
    ytd_jan = Period.parse("2026-01").year_to_date()
    assert ytd_jan != Period.parse("2026-01") and Period.parse("2026-01") < ytd_jan


@pytest.mark.parametrize(
    ("last_day", "label"),
    [(date(2024, 2, 29), "2024-02"), (date(2024, 2, 28), "2024-01"), (date(2026, 12, 31), "2026-12"),
     (date(2027, 1, 1), "2026-12"), (date(2026, 3, 1), "2026-02")],
)
def test_latest_full_month_at_month_ends(last_day, label):
    assert latest_full_month(last_day) == Period.parse(label)
