"""The unit's trading days and calendar region (time zone → country: ``timezones.yaml``)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
)

from opsnb.params.base import _Model

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_NAMES = {**{d.lower(): i for i, d in enumerate(WEEKDAYS)},
                  **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                                 "saturday", "sunday"))}}


_NOT_A_WEEKDAY = "not a weekday; use Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)"


def _weekday(v: Any) -> int:
    """``Sat``, ``saturday`` or ``5`` → 5 (Monday = 0, as :meth:`datetime.date.weekday`)."""
    if isinstance(v, bool):  # YAML's yes/no: a bool is an int to Python, never a weekday here
        raise ValueError(_NOT_A_WEEKDAY)
    if isinstance(v, int) and 0 <= v <= 6:
        return v
    if isinstance(v, str) and v.strip().lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[v.strip().lower()]
    raise ValueError(_NOT_A_WEEKDAY)


def _day(v: Any) -> date:
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v).strip())


def _date_range(v: Any) -> tuple[date, date]:
    """``2011-12-25``, ``"2010-12-24..2011-01-03"`` or ``[first, last]`` → (first, last), inclusive."""
    try:
        if isinstance(v, list | tuple) and len(v) == 2:
            lo, hi = _day(v[0]), _day(v[1])
        elif isinstance(v, str) and ".." in v:
            a, b = v.split("..", 1)
            lo, hi = _day(a), _day(b)
        else:
            lo = hi = _day(v)
    except (TypeError, ValueError):
        raise ValueError("not a date or a date range; use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD "
                         "(first and last day, inclusive)") from None
    if hi < lo:
        raise ValueError(f"the range ends ({hi}) before it starts ({lo})")
    return lo, hi


#: A weekday, 0 (Monday) … 6 (Sunday), given as a number or an English name.
Weekday = Annotated[int, BeforeValidator(_weekday)]
#: Closed days (first, last), inclusive, given as a date, "first..last" or [first, last].
DateRange = Annotated[tuple[date, date], BeforeValidator(_date_range)]


class BusinessDays(_Model):
    """Days the unit does not trade: nothing recorded on them is expected, so they are not "missing".

    Default: every day is open. A day is closed when its weekday is in ``closed_weekdays``, it
    falls in one of ``closed_dates``, or ``closed_on_public_holidays`` is set and it is a public
    holiday of the calendar region (``calendar_region``; substitute days included).
    """

    closed_weekdays: list[Weekday] = Field(default_factory=list)  # Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)
    # YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (first and last day, inclusive)
    closed_dates: list[DateRange] = Field(default_factory=list)
    # the calendar region's public holidays are closed days (substitute days included)
    closed_on_public_holidays: bool = False

    @field_validator("closed_weekdays", "closed_dates", mode="before")
    @classmethod
    def _listed(cls, v: Any) -> Any:
        return v if isinstance(v, list | tuple) else [v]  # one value stands for a list of one

    @field_validator("closed_weekdays", "closed_dates")
    @classmethod
    def _sorted(cls, v: list[Any]) -> list[Any]:
        return sorted(set(v))

    @property
    def all_open(self) -> bool:
        """Whether every day is open (the default)."""
        return not (self.closed_weekdays or self.closed_dates or self.closed_on_public_holidays)


@cache
def timezone_countries() -> dict[str, str]:
    """Time zone → country for the zones ``zone.tab`` does not name, and the ones we rely on (``timezones.yaml``)."""
    from importlib import resources

    text = (resources.files("opsnb") / "params" / "timezones.yaml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()}


@cache
def _zone_tab() -> dict[str, str]:
    """zone → country code from tzdata's ``zone.tab`` (system tz path first, then the tzdata package)."""
    import zoneinfo
    from importlib import resources

    text = None
    for d in zoneinfo.TZPATH:
        p = Path(d) / "zone.tab"
        if p.is_file():
            text = p.read_text(encoding="utf-8")
            break
    if text is None:
        try:
            text = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[2]] = parts[0]
    return out


def country_of_timezone(tz: str) -> str | None:
    """ISO country code of an IANA time zone (``Europe/London`` → ``GB``); None for UTC and unknown zones."""
    return timezone_countries().get(tz) or _zone_tab().get(tz)


def _region(v: str) -> str:
    """Validate a calendar region: an ISO country code the holidays package knows, optionally ``-SUBDIVISION``."""
    import holidays

    code = v.strip().upper()
    country, _, sub = code.partition("-")
    known = holidays.list_supported_countries()
    if country not in known:
        raise ValueError(f"unknown calendar region {v!r}: not a country the holidays package supports "
                         "(ISO 3166 code such as CN, GB, US, DE)")
    if sub and sub not in known[country]:
        raise ValueError(f"unknown subdivision {sub!r} of {country}; known: {known[country]}")
    return code
