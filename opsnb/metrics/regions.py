"""Regions: users and GMV per region (``users.region``), growth vs the previous period, concentration.

* ``users`` — registered users (``signup_at`` before the period end); ``new_users`` — signups in
  the period; ``active_users`` — distinct users with an event in the period (``None`` without
  an events table); ``gmv`` — paid orders in the period, by the buyer's region.
* ``*_prev`` and ``*_growth`` — the same for the previous period and the relative change
  ``(now - prev) / prev`` (``None`` with reason ``no_base`` when prev is 0).
* Concentration (of GMV, and of users when there is no GMV): share of the top region and the
  Herfindahl–Hirschman index Σ sᵢ² of the shares (1 = one region, 1/n = even over n regions).

Users without a region, and orders of users missing from the users table, count under
``(unknown)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import pandas as pd

from opsnb.errors import NoData
from opsnb.metrics.activity import ts_literal
from opsnb.metrics.orders import paid_orders
from opsnb.pack import Pack
from opsnb.pack.expr import flag, money_sum
from opsnb.periods import Period

UNKNOWN = "(unknown)"


@dataclass
class RegionsResult:
    """Per-region table plus concentration of ``basis`` (``gmv`` or ``users``)."""

    table: pd.DataFrame
    basis: str
    top_region: str | None
    top_share: float | None
    hhi: float | None
    na: dict[str, str] = field(default_factory=dict)


def _period_figures(pack: Pack, users: ibis.Table, period: Period) -> pd.DataFrame:
    start, end = ts_literal(period.start), ts_literal(period.end)
    reg = users.group_by("region").aggregate(
        users=flag(users.signup_at < end).sum(),
        new_users=flag((users.signup_at >= start) & (users.signup_at < end)).sum(),
    ).execute()
    frames = [reg]
    if pack.has("events"):
        e = pack.table("events")
        act = e.filter((e.ts >= start) & (e.ts < end)).select("user_id").distinct()
        a = act.left_join(users, "user_id")
        a = a.mutate(region=a.region.fill_null(UNKNOWN))
        frames.append(a.group_by("region").aggregate(active_users=a.count()).execute())
    if pack.has("orders"):
        o = paid_orders(pack)
        o = o.filter((o.ts >= start) & (o.ts < end))
        j = o.left_join(users, "user_id")
        j = j.mutate(region=j.region.fill_null(UNKNOWN))
        frames.append(j.group_by("region").aggregate(gmv=money_sum(j.amount)).execute())
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on="region", how="outer")
    return out


def regions(pack: Pack, period: Period) -> RegionsResult:
    """Users, GMV and growth per region, and how concentrated GMV is.

    Returns
    -------
    RegionsResult
        ``table`` columns: ``region, users, new_users, active_users, gmv, share`` and for each of
        ``users, new_users, active_users, gmv`` a ``<x>_prev`` and ``<x>_growth``; plus ``na``
        (dict metric → reason). Sorted by GMV (or users) descending.

    Raises
    ------
    NoData
        No users table, no ``region`` column, or no user registered by the period end.
    """
    u = pack.table("users")
    if "region" not in u.columns:
        raise NoData("users", "no region column")
    users = u.select("user_id", "signup_at", region=u.region.fill_null(UNKNOWN))
    now = _period_figures(pack, users, period)
    prev = _period_figures(pack, users, period.previous())
    df = now.merge(prev, on="region", how="outer", suffixes=("", "_prev"))
    metrics = [c for c in ("users", "new_users", "active_users", "gmv") if c in now.columns]
    for c in metrics:
        for col in (c, f"{c}_prev"):
            df[col] = df[col].fillna(0).astype("float64" if c == "gmv" else "int64")
    df = df[df[metrics].to_numpy().sum(axis=1) > 0].reset_index(drop=True)
    if df.empty:
        raise NoData("users", f"no user and no order by the end of {period.label}")
    df["na"] = [{} for _ in range(len(df))]
    for c in metrics:
        ok = df[f"{c}_prev"] > 0
        g = (df[c].astype("float64") - df[f"{c}_prev"]) / df[f"{c}_prev"].where(ok, 1)
        df[f"{c}_growth"] = g.astype(object).where(ok, None)
        for i in df.index[~ok]:
            df.at[i, "na"][f"{c}_growth"] = "no_base"
    for c in ("active_users", "gmv"):
        if c not in df:
            df[c] = df[f"{c}_prev"] = df[f"{c}_growth"] = None
    basis = "gmv" if df["gmv"].notna().any() and float(df["gmv"].astype("float64").sum()) > 0 else "users"
    total = float(df[basis].astype("float64").sum())
    na: dict[str, str] = {}
    top_region: str | None
    top_share: float | None
    hhi: float | None
    if total > 0:
        df["share"] = df[basis].astype("float64") / total
        df = df.sort_values([basis, "region"], ascending=[False, True]).reset_index(drop=True)
        top_region, top_share = str(df.at[0, "region"]), float(df.at[0, "share"])
        hhi = float((df["share"] ** 2).sum())
    else:
        df["share"] = None
        top_region = top_share = hhi = None
        na["concentration"] = "no_base"
    cols = ["region", "users", "new_users", "active_users", "gmv", "share"]
    cols += [f"{c}_{s}" for c in ("users", "new_users", "active_users", "gmv") for s in ("prev", "growth")]
    return RegionsResult(df[cols + ["na"]], basis, top_region, top_share, hhi, na)
