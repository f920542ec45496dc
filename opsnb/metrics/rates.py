"""Rates on a stated base: numerator, base population and base size, and when a rate may carry a verdict.

An analyst reading "转化率 25.4%" asks *of whom* and *out of how many*. A :class:`Rate` keeps the
answer beside the number: ``num`` of ``base`` members of ``population`` (a short key naming who is
counted, e.g. ``"insights.funnel.entrants"``, translated where shown). Two rules hang on it:

* **small bases** — a rate on fewer than ``settings.min_base`` members is shown with its n and no
  verdict (:meth:`Rate.small`); growth on such a base is not claimed either;
* **differences** — a sentence may say that a rate differs from another (or from a benchmark) only
  when the interval says so: Wilson's score interval for one proportion (:func:`wilson`), Newcombe's
  hybrid score interval built from two Wilson intervals for a difference (:func:`newcombe`).

References: E. B. Wilson (1927), "Probable inference, the law of succession, and statistical
inference", JASA 22:209-212; R. G. Newcombe (1998), "Interval estimation for the difference between
independent proportions: comparison of eleven methods", Statistics in Medicine 17:873-890 (method 10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

__all__ = ["Rate", "newcombe", "wilson"]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(num: int, base: int, *, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of ``num`` successes in ``base`` trials (None when ``base`` is 0).

    >>> lo, hi = wilson(1, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.0179, 0.4042)
    """
    if base <= 0:
        return None
    if not 0 <= num <= base:
        raise ValueError(f"a proportion needs 0 <= num <= base, got {num} of {base}")
    z = _z(confidence)
    p = num / base
    denom = 1 + z * z / base
    centre = (p + z * z / (2 * base)) / denom
    half = z * math.sqrt(p * (1 - p) / base + z * z / (4 * base * base)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(num1: int, base1: int, num2: int, base2: int, *,
             confidence: float = 0.95) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for ``p1 − p2`` (method 10), from the two Wilson intervals.

    None when either base is 0. The difference is established when the interval excludes 0.
    """
    w1, w2 = wilson(num1, base1, confidence=confidence), wilson(num2, base2, confidence=confidence)
    if w1 is None or w2 is None:
        return None
    p1, p2 = num1 / base1, num2 / base2
    (l1, u1), (l2, u2) = w1, w2
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper


@dataclass(frozen=True)
class Rate:
    """``num`` of ``base`` members of ``population``: a proportion that says what it is a share of.

    ``population`` is a catalogue key or short name of who is counted (shown where the base is not the
    obvious one). ``value`` is None when the base is empty: a rate of nobody is undefined, never 0.
    """

    num: int
    base: int
    population: str = ""

    def __post_init__(self) -> None:
        if self.base < 0 or self.num < 0:
            raise ValueError(f"a rate needs non-negative counts, got {self.num} of {self.base}")

    @property
    def value(self) -> float | None:
        return self.num / self.base if self.base else None

    def small(self, min_base: int) -> bool:
        """Whether the base is under ``min_base``: shown with its n, never given a verdict."""
        return self.base < min_base

    def interval(self, *, confidence: float = 0.95) -> tuple[float, float] | None:
        """Wilson score interval of the rate (None on an empty base)."""
        return wilson(self.num, self.base, confidence=confidence)

    def differs_from(self, other: Rate | float, *, confidence: float = 0.95) -> bool:
        """Whether the data establish a difference: from another rate (Newcombe's interval excludes 0) or
        from a fixed benchmark (this rate's Wilson interval excludes it). False on an empty base."""
        if isinstance(other, Rate):
            ci = newcombe(self.num, self.base, other.num, other.base, confidence=confidence)
            return ci is not None and (ci[0] > 0 or ci[1] < 0)
        ci = self.interval(confidence=confidence)
        return ci is not None and not ci[0] <= float(other) <= ci[1]
