"""A/B comparisons: conversion per variant, Newcombe's interval for the difference and a pooled z-test.

The optional ``experiments`` table holds one assignment per user and experiment
(``experiment, variant, user_id, ts``). A user **converts** when they place a paid order within
``window_days`` days after their assignment (``ts <= order.ts < ts + window_days``) and by the
review period's last day (the as-of day: nothing after it is read; assignment is random, so a window
cut short cuts both arms alike). Experiments whose assignments fall in the review period are
analysed. Each variant is compared with the experiment's control: the variant named ``control`` (or
``A``, ``a``, ``baseline``), else the first variant in sorted order.

The difference is **established** (``significant``) when Newcombe's hybrid score interval at
``1 - alpha`` (:func:`opsnb.metrics.rates.newcombe`, the interval every rate comparison of the review
uses) excludes 0; the pooled two-proportion z-test's p-value is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd
from scipy.stats import norm

from opsnb.errors import NoData
from opsnb.metrics.campaigns import nullable_float, ts
from opsnb.metrics.orders import paid_orders
from opsnb.metrics.rates import newcombe
from opsnb.pack import Pack
from opsnb.periods import Period

CONTROL_NAMES = ("control", "a", "baseline")


@dataclass(frozen=True)
class ZTest:
    """Result of :func:`two_proportion_ztest`; every statistic is None with ``reason`` when undefined."""

    p1: float | None
    p2: float | None
    diff: float | None
    z: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    alpha: float
    reason: str | None = None

    @property
    def significant(self) -> bool | None:
        """Whether ``p_value < alpha`` (None when the test is undefined)."""
        return None if self.p_value is None else self.p_value < self.alpha


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int, alpha: float = 0.05) -> ZTest:
    """Pooled two-proportion z-test of ``p1 = x1/n1`` against ``p2 = x2/n2`` (two-sided).

    ``z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2))`` with the pooled ``p = (x1+x2)/(n1+n2)``, as in
    ``statsmodels.stats.proportion.proportions_ztest``; the confidence interval for ``p1 - p2`` at
    ``1 - alpha`` is the unpooled Wald interval. Undefined cases are reported, never as p = 1:
    ``no_traffic`` (n1 or n2 is 0) and ``no_variation`` (both 0% or both 100%).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    for x, n in ((x1, n1), (x2, n2)):
        if n < 0 or x < 0 or x > n:
            raise ValueError(f"need 0 <= successes <= trials, got {x} of {n}")
    if n1 == 0 or n2 == 0:
        p1 = x1 / n1 if n1 else None
        p2 = x2 / n2 if n2 else None
        return ZTest(p1, p2, None, None, None, None, None, alpha, "no_traffic")
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return ZTest(p1, p2, diff, None, None, None, None, alpha, "no_variation")
    z = diff / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = float(2 * norm.sf(abs(z)))
    half = float(norm.ppf(1 - alpha / 2)) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return ZTest(p1, p2, diff, z, p_value, diff - half, diff + half, alpha)


def _control(variants: list[str]) -> str:
    for v in sorted(variants):
        if v.lower() in CONTROL_NAMES:
            return v
    return sorted(variants)[0]


def ab_tests(pack: Pack, period: Period, alpha: float = 0.05, *, window_days: int = 30) -> pd.DataFrame:
    """Conversion per variant and the test of each variant against its experiment's control.

    Columns: ``experiment, variant, is_control, users, converters, conversion, control,
    control_users, control_converters, control_conversion, diff, z, p_value, ci_low, ci_high,
    significant, reason``. ``ci_low``/``ci_high`` are Newcombe's interval of ``diff`` at ``1 - alpha``
    and ``significant`` says it excludes 0; ``z``/``p_value`` are the pooled z-test's. Control rows carry
    ``reason = "control"`` and no test statistics.

    Raises
    ------
    NoData
        No experiments table, or no assignment in the period.
    """
    ex = pack.table("experiments")
    ex = ex.filter((ex.ts >= ts(period.start)) & (ex.ts < ts(period.end)) & ex.user_id.notnull())
    # one assignment per user and experiment: the first one
    ex = ex.group_by("experiment", "user_id").aggregate(variant=ex.variant.argmin(ex.ts), at=ex.ts.min())
    conv: ibis.Table
    if pack.has("orders"):
        po = paid_orders(pack)
        _, last = pack.day_range()
        as_of = ts(min(period.end, last + timedelta(days=1)) if last is not None else period.end)
        hit = ex.join(po, [ex.user_id == po.user_id, po.ts >= ex.at,
                           po.ts < ex.at + ibis.interval(days=window_days), po.ts < ibis.literal(as_of)])
        conv = hit.select(ex.experiment, ex.user_id).distinct().mutate(conv=ibis.literal(1))
        ex = ex.left_join(conv, ["experiment", "user_id"]).select(ex, c=conv.conv.fill_null(0))
    else:
        ex = ex.mutate(c=ibis.literal(0))
    agg = ex.group_by("experiment", "variant").aggregate(users=ex.user_id.count(), converters=ex.c.sum()).execute()
    if agg.empty:
        raise NoData("experiments", f"no assignment in {period.label}")
    rows: list[dict[str, Any]] = []
    for exp, g in agg.groupby("experiment", sort=True):
        g = g.set_index("variant")
        ctrl = _control([str(v) for v in g.index])
        cn, cx = int(g.loc[ctrl, "users"]), int(g.loc[ctrl, "converters"])
        for v in sorted(g.index, key=lambda s: (s != ctrl, s)):
            n, x = int(g.loc[v, "users"]), int(g.loc[v, "converters"])
            row: dict[str, Any] = {"experiment": exp, "variant": v, "is_control": v == ctrl, "users": n,
                                   "converters": x, "conversion": x / n if n else None, "control": ctrl,
                                   "control_users": cn, "control_converters": cx,
                                   "control_conversion": cx / cn if cn else None}
            if v == ctrl:
                row.update(diff=None, z=None, p_value=None, ci_low=None, ci_high=None, significant=None,
                           reason="control")
            else:
                t = two_proportion_ztest(x, n, cx, cn, alpha)
                ci = newcombe(x, n, cx, cn, confidence=1 - alpha) if t.reason is None else None
                row.update(diff=t.diff, z=t.z, p_value=t.p_value, ci_low=None if ci is None else ci[0],
                           ci_high=None if ci is None else ci[1],
                           significant=None if ci is None else bool(ci[0] > 0 or ci[1] < 0), reason=t.reason)
            rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("conversion", "control_conversion", "diff", "z", "p_value", "ci_low", "ci_high"):
        out[c] = nullable_float(out[c])
    out["significant"] = pd.array(out["significant"].tolist(), dtype="boolean")
    return out
