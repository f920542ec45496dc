"""The sample brand's calendar: day grid, seasonality, weekly and hour-of-day profiles.

Everything is a numpy array over the day grid ``START .. END`` (inclusive, local days);
day ``0`` is 2025-01-01. Multipliers are smooth so that only the planted facts stand out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

START = date(2025, 1, 1)
END = date(2026, 10, 31)  # inclusive: the last day with data
REVIEW_PERIOD = "2026-10"
N_DAYS = (END - START).days + 1
DAY = 86_400

# Share of sessions (and sign-ups) per hour of day: quiet nights, lunch bump, evening peak.
HOUR_WEIGHTS = np.array([0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 2.6, 2.8, 3.0,
                         3.4, 3.2, 2.8, 2.7, 2.8, 3.0, 3.2, 3.8, 4.6, 5.2, 4.6, 2.4])
# Monday .. Sunday; weekends are busier.
WEEKDAY_WEIGHTS = np.array([0.95, 0.94, 0.95, 0.97, 1.03, 1.09, 1.07])

# 春节 (Chinese New Year's day) in the data range.
CNY = (date(2025, 1, 29), date(2026, 2, 17))


def day_index(d: date) -> int:
    """Index of local day ``d`` on the grid (may fall outside ``0 .. N_DAYS - 1``)."""
    return (d - START).days


def sec(d: date) -> int:
    """Seconds from the grid's origin to local midnight of ``d``."""
    return day_index(d) * DAY


@dataclass(frozen=True)
class Calendar:
    """Daily multipliers of the sample brand (arrays of length ``N_DAYS``)."""

    weekday: np.ndarray     # 0 = Monday
    activity: np.ndarray    # session intensity of an alive user
    conversion: np.ndarray  # purchase propensity per cart
    signup: np.ndarray      # relative number of sign-ups (growth × season × weekday)
    aov: np.ndarray         # order value multiplier


def _window(days: np.ndarray, start: date, end: date) -> np.ndarray:
    """Boolean mask of grid days in ``[start, end]`` (inclusive)."""
    return (days >= day_index(start)) & (days <= day_index(end))


def build_calendar() -> Calendar:
    """The multipliers: growth, 春节 dip, 618, 双十一, 双十二 and campaign days, weekly cycle."""
    days = np.arange(N_DAYS)
    weekday = (days + START.weekday()) % 7
    wk = WEEKDAY_WEIGHTS[weekday]
    t = days / (N_DAYS - 1)

    activity = np.ones(N_DAYS)
    conversion = np.ones(N_DAYS) * (1.0 + 0.12 * t)      # the brand gets better at selling
    # launch push fading over the first months, then steady growth (~2.2× by the end)
    signup = 1.0 + 1.0 * t + 0.2 * t * t + 3.0 * np.exp(-days / 25.0)
    aov = np.ones(N_DAYS) * (1.0 + 0.06 * t)
    # a gentle summer lull and a winter high
    yearly = 1.0 + 0.04 * np.cos(2 * np.pi * (days - 330) / 365.25)
    activity = activity * yearly

    for y in (2025, 2026):
        for cny in CNY:
            if cny.year != y:
                continue
            c = day_index(cny)
            dist = np.abs(days - c)
            dip = np.exp(-0.5 * (dist / 5.0) ** 2)            # ±1 week around 春节
            activity *= 1 - 0.18 * dip
            conversion *= 1 - 0.35 * dip
            signup *= 1 - 0.35 * dip
            pre = (days >= c - 21) & (days <= c - 9)          # 年货节 before the holiday
            conversion[pre] *= 1.12
        # 618: run-up from 1 June, peak on the 18th
        m = _window(days, date(y, 6, 1), date(y, 6, 18))
        ramp = np.clip((days - day_index(date(y, 6, 1))) / 17.0, 0, 1)
        activity[m] *= 1.08 + 0.08 * ramp[m]
        conversion[m] *= 1.35 + 0.5 * ramp[m]
        signup[m] *= 1.25
        aov[m] *= 1.06
        pk = day_index(date(y, 6, 18))
        if 0 <= pk < N_DAYS:
            conversion[pk] *= 1.6
        # 周年庆 (anniversary) in late April
        m = _window(days, date(y, 4, 18), date(y, 4, 27))
        conversion[m] *= 1.2
        signup[m] *= 1.1
        # 七夕 / summer deals: small bumps
        m = _window(days, date(y, 7, 10), date(y, 7, 25))
        conversion[m] *= 1.08
    # 双十一 and 双十二 (only 2025 is inside the data range)
    m = _window(days, date(2025, 11, 1), date(2025, 11, 11))
    ramp = np.clip((days - day_index(date(2025, 11, 1))) / 10.0, 0, 1)
    activity[m] *= 1.12 + 0.12 * ramp[m]
    conversion[m] *= 1.8 + 0.8 * ramp[m]
    signup[m] *= 1.35
    aov[m] *= 1.1
    conversion[day_index(date(2025, 11, 11))] *= 1.8
    m = _window(days, date(2025, 12, 8), date(2025, 12, 12))
    activity[m] *= 1.05
    conversion[m] *= 1.2
    conversion[day_index(date(2025, 12, 12))] *= 1.3
    signup[m] *= 1.1
    return Calendar(weekday=weekday, activity=activity * wk, conversion=conversion,
                    signup=signup * wk, aov=aov)


def month_starts() -> list[date]:
    """First day of every month from ``START`` to ``END``."""
    out, y, m = [], START.year, START.month
    while date(y, m, 1) <= END:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_of_day() -> np.ndarray:
    """Month number (0 = 2025-01) of every grid day."""
    days = np.arange(N_DAYS)
    d = np.datetime64(START.isoformat()) + days
    m = d.astype("datetime64[M]").astype(int)
    return m - m[0]
