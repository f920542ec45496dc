"""Review periods: ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter) and ``YYYY`` (year).

A period is a half-open range of local calendar days ``[start, end)`` in the configured
timezone. Timestamps in a pack are stored as naive local wall-clock times (see
:mod:`opsnb.pack`), so a period filter is simply ``start <= ts < end``.

For schedulers, a period may also be given relative to the day of the run: ``last-month``,
``last-quarter``, ``last-year`` (the latest complete one) and ``this-month``, ``this-quarter``,
``this-year`` (the one in progress: a to-date review). :func:`resolve_period` turns such a word into
a period on the calendar of the unit's time zone at the moment of the run; :meth:`Period.parse`
itself never looks at the clock.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal, get_args
from zoneinfo import ZoneInfo

Kind = Literal["month", "quarter", "year"]
_KINDS: tuple[Kind, ...] = get_args(Kind)
_MONTHS: dict[Kind, int] = {"month": 1, "quarter": 3, "year": 12}

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

#: Words for a period relative to the day of the run: (kind, periods from the one holding that day).
RELATIVE: dict[str, tuple[Kind, int]] = {
    "last-month": ("month", -1), "last-quarter": ("quarter", -1), "last-year": ("year", -1),
    "this-month": ("month", 0), "this-quarter": ("quarter", 0), "this-year": ("year", 0),
}

PERIOD_FORMS = ("YYYY-MM (e.g. 2026-10), YYYY-Qn (e.g. 2026-Q3), YYYY (e.g. 2026), or relative to the day of "
                "the run in the unit's timezone: " + ", ".join(RELATIVE))

#: Environment variable: the moment a run takes as "now" for relative periods (ISO 8601 with a UTC offset,
#: e.g. ``2026-11-01T00:05:00+08:00``); for tests and backfills. Unset: the system clock.
NOW_ENV = "OPSNB_NOW"


def _not_a_period(text: object) -> str:
    hint = " (weeks are not review periods)" if "week" in str(text).lower() else ""
    return f"period {text!r} is not valid{hint}; use {PERIOD_FORMS}"


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
        """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; raise ``ValueError`` naming the forms.

        A relative word (``last-month`` …) is not parsed here: it needs a clock and a time zone, see
        :func:`resolve_period`.
        """
        s = str(text).strip()
        if m := _MONTH.match(s):
            return cls.containing(date(int(m[1]), int(m[2]), 1), "month")
        if m := _QUARTER.match(s):
            return cls.containing(date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1), "quarter")
        if m := _YEAR.match(s):
            return cls.containing(date(int(m[1]), 1, 1), "year")
        if is_relative(s):  # pure: the clock and time zone are resolve_period's
            raise ValueError(f"period {text!r} is relative to the day of the run; resolve it with resolve_period()")
        raise ValueError(_not_a_period(text))

    @classmethod
    def relative(cls, word: str, today: date) -> Period:
        """The period that ``word`` (``last-month`` … ``this-year``, see :data:`RELATIVE`) means on ``today``.

        ``Period.relative("last-month", date(2027, 1, 1))`` is ``2026-12``; ``"last-quarter"`` on
        ``2027-02-15`` is ``2026-Q4``; ``"this-month"`` on ``2026-11-01`` is ``2026-11`` (the full month:
        a run clips it to the pack's last day, as for any period in progress). Raise ``ValueError``
        naming the accepted forms for any other word.
        """
        key = str(word).strip().lower()
        if key not in RELATIVE:
            raise ValueError(_not_a_period(word))
        kind, n = RELATIVE[key]
        return cls.containing(today, kind).shift(n)

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
    return latest_full(last_day, "month")


def latest_full(last_day: date, kind: Kind) -> Period:
    """The latest month, quarter or year (``kind``) fully covered by data ending on ``last_day`` (inclusive)."""
    p = Period.containing(last_day, kind)
    return p if last_day == p.last_day else p.previous()


def first_full(first_day: date, kind: Kind) -> Period:
    """The first month, quarter or year (``kind``) fully covered by data starting on ``first_day``."""
    p = Period.containing(first_day, kind)
    return p if first_day == p.start else p.next()


def is_relative(text: object) -> bool:
    """Whether ``text`` is one of the relative words (``last-month`` …), in any case."""
    return isinstance(text, str) and text.strip().lower() in RELATIVE


def current_time() -> datetime:
    """Now, as an aware datetime: ``$OPSNB_NOW`` if set (see :data:`NOW_ENV`), else the system clock in UTC.

    Raise ``ValueError`` naming the variable when it is not an ISO 8601 time with a UTC offset.
    """
    raw = os.environ.get(NOW_ENV, "").strip()
    if not raw:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(raw)
    except ValueError:
        now = None
    if now is None or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{NOW_ENV}={raw!r} is not a time with a UTC offset; use e.g. 2026-11-01T00:05:00+08:00")
    return now


def resolve_period(text: str, tz: str | tzinfo, now: datetime | None = None) -> Period:
    """Parse ``text`` as :meth:`Period.parse` does, or resolve a relative word on the calendar of ``tz`` at ``now``.

    Parameters
    ----------
    text : str
        ``2026-10``, ``2026-Q3``, ``2026`` or one of ``last-month``, ``last-quarter``, ``last-year``,
        ``this-month``, ``this-quarter``, ``this-year``.
    tz : str or tzinfo
        The unit's time zone (IANA name, e.g. ``Asia/Shanghai``): "last month" is the one before the
        local date of ``now`` there.
    now : datetime, optional
        The moment of the run, timezone-aware; default :func:`current_time` (the clock, or ``$OPSNB_NOW``).

    Returns
    -------
    Period
        E.g. ``resolve_period("last-month", "Asia/Shanghai", datetime(2026, 10, 31, 16, 5, tzinfo=UTC))``
        is ``2026-10`` (00:05 on 1 November in Shanghai); at 15:59 UTC (23:59 local) it is ``2026-09``.

    Raises
    ------
    ValueError
        Text that is no period (naming the accepted forms), a naive ``now``, or a bad ``$OPSNB_NOW``.
    """
    if not is_relative(text):
        return Period.parse(text)
    moment = current_time() if now is None else now
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware to resolve {text!r}, got {moment.isoformat()}")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return Period.relative(text, moment.astimezone(zone).date())
