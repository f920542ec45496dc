"""GMV driver tree with an additive LMDI decomposition.

GMV = active users × paying conversion × orders per payer × AOV, where

* active users     = distinct users with an event in the period (``mau`` of the period),
* paying conversion = paying users ÷ active users,
* orders per payer = paid orders ÷ paying users,
* AOV              = GMV ÷ paid orders.

The product of the four factors is GMV exactly. The change ``GMV₁ − GMV₀`` is split with the
additive logarithmic mean Divisia index (LMDI-I, Ang 2004)::

    contribution_i = L(GMV₁, GMV₀) · ln(x_i1 / x_i0),   L(a, b) = (a − b) / (ln a − ln b),  L(a, a) = a

so the contributions add up to the change exactly (no residual).

Zeros: LMDI needs every factor positive in both periods. When a factor is zero (no orders, no
payers…), the factors after it are 0/0. The fallback is the analytical limit of LMDI with the
zeros replaced by δ → 0 (Ang & Liu 2007): the whole change goes to the factor that is zero in
the period where GMV is zero — in this chain the first zero factor, since every factor after it
is 0/0 — and the other factors get 0. When GMV is zero in both periods every contribution is 0.
``DriverResult.method`` says which rule was used (``"lmdi"`` or ``"zero_fallback"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics import kpis as _k
from opsnb.pack.core import Pack
from opsnb.periods import Period

__all__ = ["DRIVERS", "DriverResult", "drivers", "lmdi", "log_mean"]

#: The factors of the chain, in order.
DRIVERS = ("active_users", "conversion", "orders_per_payer", "aov")


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean ``(a − b) / (ln a − ln b)``, ``a`` when ``a == b`` (both positive)."""
    if a <= 0 or b <= 0:
        raise ValueError("the logarithmic mean needs two positive numbers")
    if math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0):
        return a
    return (a - b) / (math.log(a) - math.log(b))


def _factors(active: float, payers: float, orders: float, gmv: float) -> list[float | None]:
    """The four factors; ``None`` where a ratio is 0/0 (undefined)."""
    def div(n: float, d: float) -> float | None:
        return None if d == 0 else n / d

    return [active, div(payers, active), div(orders, payers), div(gmv, orders)]


def lmdi(base: list[float | None], current: list[float | None]) -> tuple[list[float], str]:
    """Additive LMDI contributions of each factor to ``Π current − Π base``.

    Parameters
    ----------
    base, current : list of float or None
        The factors in the base and the current period (``None``: undefined, after a zero).

    Returns
    -------
    (contributions, method)
        ``method`` is ``"lmdi"`` or ``"zero_fallback"`` (see the module docstring).
    """
    n = len(base)

    def prod(xs: list[float | None]) -> float:
        out = 1.0
        for x in xs:
            if x is None or x == 0:
                return 0.0
            out *= x
        return out

    v0, v1 = prod(base), prod(current)
    if all(x is not None and x > 0 for x in base + current):
        w = log_mean(v1, v0)
        return [w * math.log(c / b) for b, c in zip(base, current, strict=True)], "lmdi"  # type: ignore[operator,arg-type]
    contrib = [0.0] * n
    if v0 == v1:
        return contrib, "zero_fallback"
    zero_side = base if v0 == 0 else current
    first = next(i for i, x in enumerate(zero_side) if x is None or x == 0)
    contrib[first] = v1 - v0
    return contrib, "zero_fallback"


@dataclass(frozen=True)
class DriverResult:
    """The driver tree of GMV between a base period and the current period."""

    period: str
    base_period: str
    gmv_base: float
    gmv_current: float
    table: pd.DataFrame  # driver, base, current, change (relative), contribution, share
    method: str  # "lmdi" | "zero_fallback"
    top: str | None  # the driver with the largest absolute contribution
    partial: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def change(self) -> float:
        """GMV change (current − base); equals the sum of the contributions."""
        return self.gmv_current - self.gmv_base


def drivers(pack: Pack, period: Period, *, base: Period | None = None) -> DriverResult:
    """Decompose the GMV change from ``base`` (default: the previous period) to ``period``.

    When the data ends inside ``period``, both periods are compared over the same first days.
    Raises :class:`NoData` when the pack has no orders or no events.
    """
    for t in ("orders", "events"):
        if not pack.has(t):
            raise NoData(t, "table not in pack")  # the driver tree needs orders and events
    cur = period.clip(_k.as_of_day(pack, period))  # never a day after the review's as-of day
    partial = cur.end < period.end
    b = base if base is not None else period.previous()
    if partial:
        b = _k._same_days(b, cur.days)
    reason = _k._coverage_reason(pack, b)
    if reason is not None:
        raise NoData("orders", f"base period {b.label} not covered by the pack ({reason})")
    periods = [b, cur]
    stats = _k._orders_stats(pack, periods)
    mau = _k._mau_counts(pack, periods)
    f0 = _factors(float(mau[0]), float(stats["payers"][0]), float(stats["orders"][0]), float(stats["gmv"][0]))
    f1 = _factors(float(mau[1]), float(stats["payers"][1]), float(stats["orders"][1]), float(stats["gmv"][1]))
    contrib, method = lmdi(f0, f1)
    g0, g1 = float(stats["gmv"][0]), float(stats["gmv"][1])
    total = g1 - g0
    rel = [None if (x0 is None or x1 is None or x0 == 0) else (x1 - x0) / x0 for x0, x1 in zip(f0, f1, strict=True)]
    table = pd.DataFrame({
        "driver": list(DRIVERS),
        "base": pd.Series(f0, dtype="object"),
        "current": pd.Series(f1, dtype="object"),
        "change": pd.Series(rel, dtype="object"),
        "contribution": contrib,
        "share": pd.Series([None if total == 0 else c / total for c in contrib], dtype="object"),
    })
    top = None
    if any(c != 0 for c in contrib):
        top = DRIVERS[max(range(len(contrib)), key=lambda i: abs(contrib[i]))]
    return DriverResult(period.label, b.label, g0, g1, table, method, top, partial,
                        {"covered_days": cur.days})
