"""Review periods: ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter) and ``YYYY`` (year).

A period is a half-open range of local calendar days ``[start, end)`` in the configured
timezone. Timestamps in a pack are stored as naive local wall-clock times (see
:mod:`opsnb.pack`), so a period filter is simply ``start <= ts < end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

Kind = Literal["month", "quarter", "year"]
_KINDS: tuple[Kind, ...] = get_args(Kind)
_MONTHS: dict[Kind, int] = {"month": 1, "quarter": 3, "year": 12}

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

PERIOD_FORMS = "YYYY-MM (e.g. 2026-10), YYYY-Qn (e.g. 2026-Q3) or YYYY (e.g. 2026)"


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period ``[start, end)``.

    Periods order by ``start``, then ``end`` (then ``kind``, so that the order is total and agrees
    with equality): ``2026-Q3 < 2026-08 < 2026-10 < 2026-Q4 < 2027``, and a partial period (see
    :meth:`clip`) comes before its full one.
    """

    start: date
    end: date
    kind: Kind

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; raise ``ValueError`` naming the forms."""
        s = str(text).strip()
        if m := _MONTH.match(s):
            return cls.containing(date(int(m[1]), int(m[2]), 1), "month")
        if m := _QUARTER.match(s):
            return cls.containing(date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1), "quarter")
        if m := _YEAR.match(s):
            return cls.containing(date(int(m[1]), 1, 1), "year")
        raise ValueError(f"period {text!r} is not valid; use {PERIOD_FORMS}")

    @classmethod
    def containing(cls, day: date, kind: Kind) -> Period:
        """The full month, quarter or year (``kind``) that holds ``day``.

        ``Period.containing(date(2026, 8, 15), "quarter")`` is ``2026-Q3``; raise ``ValueError``
        naming the known kinds for any other ``kind``.
        """
        if kind not in _MONTHS:
            raise ValueError(f"unknown period kind {kind!r}; known: {list(_KINDS)}")
        n = _MONTHS[kind]
        start = date(day.year, (day.month - 1) // n * n + 1, 1)
        return cls(start, _add_months(start, n), kind)

    @property
    def full(self) -> Period:
        """The whole calendar period of this one's kind that starts with it.

        Equal to the period itself unless it is partial: ``p.clip(last_day).full == p``, and
        ``year_to_date()`` of October is a partial year whose ``full`` is the calendar year.
        """
        return Period.containing(self.start, self.kind)

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
        """Number of calendar months in the period (of its kind: a partial period counts in full)."""
        return _MONTHS[self.kind]

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
        return Period.containing(self.start, "year")

    def year_to_date(self) -> Period:
        """From 1 January of this period's year to this period's end, as a year-kind range."""
        return Period(date(self.start.year, 1, 1), self.end, "year")

    def month_periods(self) -> list[Period]:
        """The months that make up this period."""
        return [Period.containing(_add_months(self.start, i), "month") for i in range(self.months)]

    def quarter_periods(self) -> list[Period]:
        """The quarters that overlap this period (for a month: its quarter)."""
        first = Period.containing(self.start, "quarter")
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
    month = Period.containing(last_day, "month")
    return month if last_day == month.last_day else month.previous()
