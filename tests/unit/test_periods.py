from datetime import date

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
