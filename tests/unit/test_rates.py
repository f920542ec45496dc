"""Rates on a stated base: Wilson and Newcombe intervals against their published examples; small bases."""

from __future__ import annotations

import pytest

from opsnb.metrics.rates import Rate, newcombe, wilson


@pytest.mark.parametrize(("num", "base", "lo", "hi"), [
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I (Wilson score, no continuity correction)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_table(num, base, lo, hi):
    got = wilson(num, base)
    assert got == pytest.approx((lo, hi), abs=1e-4)


@pytest.mark.parametrize(("a", "b", "lo", "hi"), [
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score)
    ((56, 70), (48, 80), 0.0524, 0.3339),
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((6, 7), (2, 7), 0.0582, 0.8062),
    ((5, 56), (0, 29), -0.0381, 0.1926),
])
def test_newcombe_matches_published_intervals(a, b, lo, hi):
    assert newcombe(*a, *b) == pytest.approx((lo, hi), abs=1e-4)


def test_empty_base_is_undefined_not_zero():
    r = Rate(0, 0, "insights.funnel.entrants")
    assert r.value is None and r.interval() is None and not r.differs_from(0.5)
    assert wilson(0, 0) is None and newcombe(1, 2, 0, 0) is None


def test_small_base_and_differences():
    one = Rate(1, 1)
    assert one.small(30) and not Rate(30, 30).small(30)
    # 1 of 1 customer: 100% but nothing established against 40%
    assert not one.differs_from(0.4)
    assert Rate(400, 1000).differs_from(0.3) and not Rate(400, 1000).differs_from(0.39)
    assert Rate(56, 70).differs_from(Rate(48, 80))
    assert not Rate(5, 56).differs_from(Rate(0, 29))


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="0 <= num <= base"):
        wilson(5, 3)
    with pytest.raises(ValueError, match="non-negative"):
        Rate(-1, 3)
