"""Regions: users and GMV per region (``users.region``), growth vs the previous period, concentration.

* ``users`` — registered users (``signup_at`` before the period end); ``new_users`` — signups in
  the period; ``active_users`` — distinct users with an event in the period (``None`` without
  an events table); ``gmv`` — paid orders in the period, by the buyer's region.
  ``buyers`` — distinct users with a paid order in the period (the base of GMV growth).
* ``*_prev`` and ``*_growth`` — the same for the previous period and the relative change
  ``(now - prev) / prev`` (``None`` with reason ``no_base`` when prev is 0). The base of a growth is
  its previous value (buyers for GMV); with ``min_base``, a growth on a smaller base is ``None``
  with reason ``small_base`` (a region of one customer does not "grow 395 %").
* Rows: a region with nothing in it — no new user, active user, buyer or GMV in either period —
  is left out (its registered users alone are not news). With ``min_base``, regions whose base
  (active users, else buyers, else registered users) is under it are folded into one ``(other)``
  row when there are at least two of them and at least one region stays; the row sums their figures, and its growth follows the
  same rule on the summed base.
* Concentration (of GMV, and of users when there is no GMV): share of the top region and the
  Herfindahl–Hirschman index Σ sᵢ² of the shares (1 = one region, 1/n = even over n regions),
  over every region before folding.

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
OTHER = "(other)"
#: The base of each growth: the previous value of this column.
GROWTH_BASE = {"users": "users", "new_users": "new_users", "active_users": "active_users", "gmv": "buyers"}


@dataclass
class RegionsResult:
    """Per-region table plus concentration of ``basis`` (``gmv`` or ``users``)."""

    table: pd.DataFrame
    basis: str
    top_region: str | None
    top_share: float | None
    hhi: float | None
    na: dict[str, str] = field(default_factory=dict)
    regions: int = 0  # regions with a positive basis (before folding)
    folded: int = 0  # regions folded into the (other) row
    min_base: int | None = None


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
        frames.append(j.group_by("region").aggregate(gmv=money_sum(j.amount), buyers=j.user_id.nunique()).execute())
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on="region", how="outer")
    return out


def regions(pack: Pack, period: Period, *, min_base: int | None = None) -> RegionsResult:
    """Users, GMV and growth per region, and how concentrated GMV is.

    Parameters
    ----------
    pack, period
        The data pack and the review period.
    min_base
        Fold regions with a smaller base into ``(other)`` and give no growth on a smaller base
        (``settings.min_base``); None: every region with something in it, every growth.

    Returns
    -------
    RegionsResult
        ``table`` columns: ``region, users, new_users, active_users, gmv, buyers, share`` and for each
        of ``users, new_users, active_users, gmv, buyers`` a ``<x>_prev``, and for the first four a
        ``<x>_growth``; plus ``na`` (dict metric → reason). Sorted by GMV (or users) descending,
        ``(other)`` last.

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
    metrics = [c for c in ("users", "new_users", "active_users", "gmv", "buyers") if c in now.columns]
    for c in metrics:
        for col in (c, f"{c}_prev"):
            df[col] = df[col].fillna(0).astype("float64" if c == "gmv" else "int64")
    activity = [c for c in metrics if c != "users"] or ["users"]
    df = df[df[activity + [f"{c}_prev" for c in activity]].to_numpy().sum(axis=1) > 0].reset_index(drop=True)
    if df.empty:
        raise NoData("users", f"no user and no order by the end of {period.label}")
    basis = "gmv" if "gmv" in df and float(df["gmv"].sum()) > 0 else "users"
    total = float(df[basis].astype("float64").sum())
    na: dict[str, str] = {}
    top_region: str | None
    top_share: float | None
    hhi: float | None
    n_regions = int((df[basis] > 0).sum())
    if total > 0:
        shares = df[basis].astype("float64") / total
        order = df.assign(_s=shares).sort_values(["_s", "region"], ascending=[False, True])
        top_region, top_share = str(order["region"].iloc[0]), float(order["_s"].iloc[0])
        hhi = float((shares ** 2).sum())
    else:
        top_region = top_share = hhi = None
        na["concentration"] = "no_base"
    folded = 0
    if min_base is not None:
        base_col = next(c for c in ("active_users", "buyers", "users") if c in df)
        small = df[base_col] < min_base
        if 2 <= int(small.sum()) < len(df):  # folding every region would leave nothing to compare
            folded = int(small.sum())
            other = df[small].drop(columns="region").sum(numeric_only=True)
            df = pd.concat([df[~small], pd.DataFrame([{"region": OTHER, **other.to_dict()}])], ignore_index=True)
            for c in metrics:
                for col in (c, f"{c}_prev"):
                    df[col] = df[col].astype("float64" if c == "gmv" else "int64")
    df["na"] = [{} for _ in range(len(df))]
    for c in ("users", "new_users", "active_users", "gmv"):
        if c not in metrics:
            continue
        base = df[f"{GROWTH_BASE[c]}_prev"] if f"{GROWTH_BASE[c]}_prev" in df else df[f"{c}_prev"]
        ok = (df[f"{c}_prev"] > 0) & ((base >= min_base) if min_base is not None else True)
        g = (df[c].astype("float64") - df[f"{c}_prev"]) / df[f"{c}_prev"].where(df[f"{c}_prev"] > 0, 1)
        df[f"{c}_growth"] = g.astype(object).where(ok, None)
        for i in df.index[~ok]:
            df.at[i, "na"][f"{c}_growth"] = "no_base" if df.at[i, f"{c}_prev"] == 0 else "small_base"
    for c in ("active_users", "gmv", "buyers"):
        if c not in df:
            df[c] = df[f"{c}_prev"] = None
            if c != "buyers":
                df[f"{c}_growth"] = None
    df["share"] = df[basis].astype("float64") / total if total > 0 else None
    df["_other"] = df["region"] == OTHER
    df = df.sort_values(["_other", basis, "region"], ascending=[True, False, True]).reset_index(drop=True)
    cols = ["region", "users", "new_users", "active_users", "gmv", "buyers", "share"]
    cols += [f"{c}_{s}" for c in ("users", "new_users", "active_users", "gmv") for s in ("prev", "growth")]
    cols += ["buyers_prev"]
    return RegionsResult(df[cols + ["na"]], basis, top_region, top_share, hhi, na, n_regions, folded, min_base)
