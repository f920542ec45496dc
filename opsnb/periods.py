"""Review periods: ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter) and ``YYYY`` (year).

A period is a half-open range of local calendar days ``[start, end)`` in the configured
timezone. Timestamps in a pack are stored as naive local wall-clock times (see
:mod:`opsnb.pack`), so a period filter is simply ``start <= ts < end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Kind = Literal["month", "quarter", "year"]

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

PERIOD_FORMS = "YYYY-MM (e.g. 2026-10), YYYY-Qn (e.g. 2026-Q3) or YYYY (e.g. 2026)"


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period ``[start, end)``."""

    start: date
    end: date
    kind: Kind

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; raise ``ValueError`` naming the forms."""
        s = str(text).strip()
        if m := _MONTH.match(s):
            start = date(int(m[1]), int(m[2]), 1)
            return cls(start, _add_months(start, 1), "month")
        if m := _QUARTER.match(s):
            start = date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1)
            return cls(start, _add_months(start, 3), "quarter")
        if m := _YEAR.match(s):
            start = date(int(m[1]), 1, 1)
            return cls(start, date(start.year + 1, 1, 1), "year")
        raise ValueError(f"period {text!r} is not valid; use {PERIOD_FORMS}")

    @property
    def label(self) -> str:
        """The canonical text form, e.g. ``2026-10``, ``2026-Q3``, ``2026``."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    def __str__(self) -> str:
        return self.label

    @property
    def months(self) -> int:
        """Number of calendar months in the period."""
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The last day inside the period (``end - 1 day``)."""
        return self.end - timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period ``n`` periods of the same kind later (negative: earlier)."""
        start = _add_months(self.start, n * self.months)
        return Period(start, _add_months(start, self.months), self.kind)

    def previous(self) -> Period:
        """The period just before (MoM for months, QoQ for quarters)."""
        return self.shift(-1)

    def next(self) -> Period:
        """The period just after."""
        return self.shift(1)

    def last_year(self) -> Period:
        """The same period one year earlier (YoY)."""
        return self.shift(-12 // self.months)

    def year(self) -> Period:
        """The calendar year containing this period."""
        return Period.parse(str(self.start.year))

    def year_to_date(self) -> Period:
        """From 1 January of this period's year to this period's end, as a year-kind range."""
        return Period(date(self.start.year, 1, 1), self.end, "year")

    def month_periods(self) -> list[Period]:
        """The months that make up this period."""
        return [Period.parse(f"{d.year}-{d.month:02d}") for d in (
            _add_months(self.start, i) for i in range(self.months))]

    def quarter_periods(self) -> list[Period]:
        """The quarters that overlap this period (for a month: its quarter)."""
        first = Period.parse(f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}")
        out = [first]
        while out[-1].end < self.end:
            out.append(out[-1].next())
        return out

    def contains(self, d: date) -> bool:
        """Whether day ``d`` lies in the period."""
        return self.start <= d < self.end

    def clip(self, last_data_day: date | None) -> Period:
        """The part of the period up to and including ``last_data_day`` (for partial periods)."""
        if last_data_day is None or last_data_day >= self.last_day:
            return self
        end = max(self.start, last_data_day + timedelta(days=1))
        return Period(self.start, end, self.kind)


def latest_full_month(last_day: date) -> Period:
    """The latest month fully covered by data ending on ``last_day`` (inclusive)."""
    nxt = last_day + timedelta(days=1)
    if nxt.day == 1:
        return Period.parse(f"{last_day.year}-{last_day.month:02d}")
    prev = date(last_day.year, last_day.month, 1) - timedelta(days=1)
    return Period.parse(f"{prev.year}-{prev.month:02d}")
