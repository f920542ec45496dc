"""Only periods the data covers are reviewed: refused in one line before any kernel starts."""

from __future__ import annotations

import pandas as pd
import pytest

from opsnb.errors import PeriodNotCovered
from opsnb.pack import from_frames
from opsnb.periods import Period
from opsnb.runspec import check_coverage

KPIS = pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [1.0]})


def _pack(*days: str):
    orders = pd.DataFrame({"order_id": [str(i) for i in range(len(days))], "user_id": "u1",
                           "ts": pd.to_datetime(list(days)), "amount": 1.0})
    return from_frames({"orders": orders, "kpis": KPIS})


# data: 2025-01-01 … 2026-10-31 with August 2026 empty
PACK_DAYS = ("2025-01-01 09:00", "2026-07-31 18:00", "2026-09-01 10:00", "2026-10-31 23:59")


@pytest.mark.parametrize(("period", "message"), [
    ("2027-01", "period 2027-01 is after the data (the data runs 2025-01-01 … 2026-10-31; "
                "the latest complete month is 2026-10)"),
    ("2026-11", "period 2026-11 is after the data"),
    ("2024-06", "period 2024-06 starts before the data (the data runs 2025-01-01 … 2026-10-31; the first complete "
                "month is 2025-01, the latest complete month is 2026-10)"),
    ("2024", "period 2024 starts before the data"),
    ("2026-08", "period 2026-08 holds no day of data (the data runs 2025-01-01 … 2026-10-31; "
                "the latest complete month is 2026-10)"),
    ("2027-Q1", "the latest complete quarter is 2026-Q3"),
    ("2027", "the latest complete year is 2025"),
])
def test_periods_outside_the_data_are_refused_naming_the_range(period, message):
    with pytest.raises(PeriodNotCovered) as exc:
        check_coverage(_pack(*PACK_DAYS), Period.parse(period))
    text = str(exc.value)
    assert message in text and "\n" not in text and text.endswith("nothing was run")


@pytest.mark.parametrize("period", ["2025-01", "2026-10", "2026-09", "2026-Q4", "2026", "2025"])
def test_covered_and_in_progress_periods_pass(period):
    """2026-Q4 and 2026 end after the data: deliberate to-date reviews (their pages say the days covered)."""
    check_coverage(_pack(*PACK_DAYS), Period.parse(period))


def test_a_year_with_no_complete_year_says_so():
    with pytest.raises(PeriodNotCovered, match="no year is complete in it"):
        check_coverage(_pack("2026-03-05 10:00", "2026-10-31 10:00"), Period.parse("2027"))


def test_events_alone_cover_a_period():
    events = pd.DataFrame({"user_id": ["u1"], "ts": pd.to_datetime(["2026-08-15 10:00"]), "event": ["visit"]})
    pack = from_frames({"events": events, "orders": _pack(*PACK_DAYS).table("orders").execute(), "kpis": KPIS})
    check_coverage(pack, Period.parse("2026-08"))
