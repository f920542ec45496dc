"""Straightforward pandas implementations of opsnb's analyses: the peers the benchmark compares against.

Each peer reads the pack's files with pandas (``<table>.parquet`` or ``<table>.csv``, as the sample
pack writes them), computes the *same definition* as the opsnb function named in its docstring, with
idiomatic vectorised pandas (groupby, merge, drop_duplicates — no Python loop over rows), and returns
a small frame shaped for comparison with ours (:func:`compare`). ``tests/unit/test_peers.py`` checks
that every peer gives numbers identical (within 1e-9) to opsnb on a small sample pack, so the timing
comparison is like for like.

These are reference implementations for measurement only: they assume a clean pack (the sample),
without opsnb's ingest checks, column mapping or time-zone handling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opsnb.periods import Period

#: Timestamp columns of the small (CSV) tables the peers read.
_DATES = {"kpis": [], "channel_spend": ["date"], "feedback": ["created_at", "resolved_at"]}


# ---------------------------------------------------------------- reading


def read(folder: str | Path, name: str, columns: Sequence[str] | None = None, *,
         since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Table ``name`` of a pack folder: ``name.parquet`` (only ``columns``) or ``name.csv`` (dates parsed).

    ``since``/``until`` keep Parquet rows with ``since <= ts < until`` (pushed down to the reader, as a
    pandas user would with ``filters=``).
    """
    folder = Path(folder)
    pq = folder / f"{name}.parquet"
    if pq.is_file():
        filters = [("ts", ">=", _ts(since))] if since is not None else []
        filters += [("ts", "<", _ts(until))] if until is not None else []
        return pd.read_parquet(pq, columns=list(columns) if columns is not None else None, filters=filters or None)
    df = pd.read_csv(folder / f"{name}.csv", usecols=list(columns) if columns is not None else None,
                     dtype={"user_id": "string", "metric": "string", "period": "string", "channel": "string"})
    for c in _DATES.get(name, []):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


def last_day(folder: str | Path) -> date:
    """Last local day with an event or an order (``Pack.day_range()[1]``)."""
    hi = max(read(folder, "events", ["ts"])["ts"].max(), read(folder, "orders", ["ts"])["ts"].max())
    return pd.Timestamp(hi).date()


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _between(df: pd.DataFrame, col: str, start: date | None, end: date | None) -> pd.DataFrame:
    m = pd.Series(True, index=df.index)
    if start is not None:
        m &= df[col] >= _ts(start)
    if end is not None:
        m &= df[col] < _ts(end)
    return df[m]


# ---------------------------------------------------------------- retention


def _month_index(ts: pd.Series) -> pd.Series:
    return ((ts.dt.year - 1970) * 12 + ts.dt.month - 1).astype("int64")


def _month_start(i: int) -> date:
    return date(1970 + i // 12, i % 12 + 1, 1)


def retention(folder: str | Path, period: Period, *, cohorts: int = 12) -> pd.DataFrame:
    """Peer of ``opsnb.metrics.retention.retention`` (interval month, mode first_time, any event).

    Returns the long table: ``cohort_label, period, cohort_size, users, rate, complete``.
    """
    ref_end = min(period.end, last_day(folder) + timedelta(days=1))
    ref_last = ref_end - timedelta(days=1)
    last = (ref_last.year - 1970) * 12 + ref_last.month - 1
    first = last - cohorts + 1
    ev = read(folder, "events", ["user_id", "ts"])
    ev = ev[ev["ts"] < _ts(ref_end)]
    t0 = ev.groupby("user_id", sort=False)["ts"].min()
    members = pd.DataFrame({"user_id": t0.index, "c": _month_index(t0).to_numpy()})
    members = members[(members["c"] >= first) & (members["c"] <= last)]
    act = ev[ev["ts"] >= _ts(_month_start(first))]
    active = pd.DataFrame({"user_id": act["user_id"], "a": _month_index(act["ts"])}).drop_duplicates()
    j = members.merge(active, on="user_id")
    j = j[j["a"] > j["c"]]
    cells = j.groupby([j["c"], (j["a"] - j["c"]).rename("k")]).size()
    sizes = members.groupby("c").size()
    rows = []
    for c in range(first, last + 1):
        size = int(sizes.get(c, 0))
        for k in range(0, last - c + 1):
            complete = _month_start(c + k + 1) <= ref_end
            users = size if k == 0 else int(cells.get((c, k), 0))
            rate = users / size if complete and size else float("nan")
            rows.append((_month_start(c).strftime("%Y-%m"), k, size, users, rate, complete))
    return pd.DataFrame(rows, columns=["cohort_label", "period", "cohort_size", "users", "rate", "complete"])


# ---------------------------------------------------------------- funnel


def funnel(folder: str | Path, period: Period, *,
           steps: Sequence[str] = ("visit", "register", "add_to_cart", "purchase"),
           window_days: int = 14, entry: str = "new") -> pd.DataFrame:
    """Peer of ``opsnb.metrics.funnel.funnel`` (no breakdown): ``step, event, users, overall, step_rate``.

    ``entry="new"``: users who had done a later step before their entry are left out; nothing after the
    as-of day (the period's end, or the day after the data's last day) is read.
    """
    steps = list(steps)
    ref_end = min(period.end, last_day(folder) + timedelta(days=1))
    ev = read(folder, "events", ["user_id", "ts", "event"], until=ref_end)
    ev = ev[ev["event"].isin(steps)]
    window = pd.Timedelta(days=window_days)
    first = _between(ev[ev["event"] == steps[0]], "ts", period.start, ref_end)
    cur = first.groupby("user_id", sort=False)["ts"].min().rename("t1").reset_index()
    if entry == "new":
        t0 = ev[ev["event"].isin(steps[1:])].groupby("user_id", sort=False)["ts"].min().rename("t0").reset_index()
        cur = cur.merge(t0, on="user_id", how="left")
        cur = cur[cur["t0"].isna() | (cur["t0"] >= cur["t1"])].drop(columns="t0")
    cur["t"] = cur["t1"]
    counts = [len(cur)]
    for k in range(1, len(steps)):
        nxt = ev.loc[ev["event"] == steps[k], ["user_id", "ts"]]
        j = cur.merge(nxt, on="user_id")
        after = j["ts"] > j["t"] if steps[k] == steps[k - 1] else j["ts"] >= j["t"]
        j = j[after & (j["ts"] <= j["t1"] + window)]
        cur = j.groupby(["user_id", "t1"], sort=False)["ts"].min().rename("t").reset_index()
        counts.append(len(cur))
    rows = []
    for k, (name, n) in enumerate(zip(steps, counts, strict=True), start=1):
        prev = counts[k - 2] if k > 1 else counts[0]
        rows.append((k, name, n, n / counts[0] if counts[0] else float("nan"), n / prev if prev else float("nan")))
    return pd.DataFrame(rows, columns=["step", "event", "users", "overall", "step_rate"])


# ---------------------------------------------------------------- RFM


def _ntile5(n: int) -> np.ndarray:
    """``NTILE(5)`` buckets (1..5) of rows 0..n-1 in order: the first ``n % 5`` buckets get one extra."""
    q, r = divmod(n, 5)
    i = np.arange(n)
    big = r * (q + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        small = r + (i - big) // max(q, 1)
    return np.where(i < big, i // (q + 1), small) + 1


def _score(df: pd.DataFrame, by: str, ascending: bool) -> pd.Series:
    order = df.sort_values([by, "user_id"], ascending=[ascending, True], kind="stable").index
    return pd.Series(_ntile5(len(df)), index=order).reindex(df.index)


def rfm_segments(folder: str | Path, period: Period, rules: Sequence[Any]) -> pd.DataFrame:
    """Peer of ``opsnb.metrics.rfm.rfm_segments`` (all history): one row per segment, rule order then Others."""
    o = read(folder, "orders", ["user_id", "ts", "amount", "status"])
    st = o["status"]
    o = o[st.isna() | (st.str.lower().str.strip() == "paid")]
    o = o[o["ts"] < _ts(period.end)]
    per = o.groupby("user_id").agg(last_order=("ts", "max"), frequency=("ts", "size"), monetary=("amount", "sum"))
    per = per.reset_index()
    per["recency"] = (_ts(period.end) - per["last_order"].dt.normalize()).dt.days.astype("int64")
    per["r"] = _score(per, "recency", ascending=False)
    per["f"] = _score(per, "frequency", ascending=True)
    per["m"] = _score(per, "monetary", ascending=True)

    def within(col: str, rng: tuple[int, int]) -> pd.Series:
        return per[col].between(rng[0], rng[1])

    conds = [within("r", rule.r) & within("f", rule.f) & within("m", rule.m) for rule in rules]
    per["segment"] = np.select(conds, [rule.segment for rule in rules], default="Others") if conds else "Others"
    agg = per.groupby("segment").agg(customers=("user_id", "size"), revenue=("monetary", "sum"),
                                     recency=("recency", "mean"), frequency=("frequency", "mean"),
                                     monetary=("monetary", "mean"))
    order = list(dict.fromkeys([r.segment for r in rules] + ["Others"]))
    out = agg.reindex(order)
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    out["share"] = out["customers"] / out["customers"].sum()
    out["revenue_share"] = out["revenue"] / out["revenue"].sum()
    out.index.name = "segment"
    return out.reset_index()[["segment", "customers", "share", "revenue", "revenue_share", "recency", "frequency",
                              "monetary"]]


# ---------------------------------------------------------------- attribution

_START, _CONV, _NULL = "(start)", "(conversion)", "(null)"


def _positions(t: pd.DataFrame) -> pd.DataFrame:
    t = t.sort_values(["user_id", "ts", "channel"], kind="stable")
    g = t.groupby("user_id", sort=False)
    return t.assign(pos=g.cumcount(), n=g["ts"].transform("size"))


def _markov(trans: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """P(conversion) of the absorbing chain and each channel's removal effect (own solve, numpy)."""
    chans = sorted((set(trans["src"]) | set(trans["dst"])) - {_START, _CONV, _NULL})
    states = [_START, *chans]
    k = len(states)
    cols = {**{s: i for i, s in enumerate(states)}, _CONV: k, _NULL: k + 1}
    m = np.zeros((k, k + 2))
    np.add.at(m, (trans["src"].map(cols).to_numpy(), trans["dst"].map(cols).to_numpy()),
              trans["count"].to_numpy(dtype="float64"))
    tot = m.sum(axis=1, keepdims=True)
    p = np.divide(m, tot, out=np.zeros_like(m), where=tot > 0)
    p[tot[:, 0] == 0, k + 1] = 1.0

    def conv(pm: np.ndarray) -> float:
        return float(np.linalg.solve(np.eye(k) - pm[:, :k], pm[:, k])[0])

    base = conv(p)
    eff = {}
    for i, ch in enumerate(states[1:], start=1):
        q = p.copy()
        q[i, :] = 0.0
        q[i, k + 1] = 1.0
        eff[ch] = 1.0 - conv(q) / base if base > 0 else 0.0
    return base, eff


def attribution(folder: str | Path, period: Period, *, lookback_days: int = 30, half_life_days: float = 7.0,
                position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4)) -> pd.DataFrame:
    """Peer of ``opsnb.metrics.attribution.attribution``: ``channel`` + six models; attrs conversions, attributed."""
    o = read(folder, "orders", ["user_id", "ts", "status"])
    o = o[o["status"].isna() | (o["status"].str.lower().str.strip() == "paid")]
    o = _between(o, "ts", period.start, period.end)
    conv = o.groupby("user_id")["ts"].min().rename("conv_ts").reset_index()
    tp = read(folder, "touchpoints", ["user_id", "ts", "channel"])
    j = tp.merge(conv, on="user_id")
    j = j[(j["ts"] <= j["conv_ts"]) & (j["ts"] >= j["conv_ts"] - pd.Timedelta(days=lookback_days))]
    t = _positions(j)
    a, b, c = position_weights
    first, last = t["pos"] == 0, t["pos"] == t["n"] - 1
    dt = (t["conv_ts"] - t["ts"]).dt.total_seconds() / 86400.0
    decay = np.power(2.0, -dt / half_life_days)
    nf = t["n"].astype("float64")
    position = np.select([t["n"] == 1, (t["n"] == 2) & first, t["n"] == 2, first, last],
                         [1.0, a / (a + c), c / (a + c), a, c], default=b / (nf - 2).where(nf > 2, 1.0))
    w = pd.DataFrame({"channel": t["channel"], "first": first.astype("float64"), "last": last.astype("float64"),
                      "linear": 1.0 / nf, "time_decay": decay / decay.groupby(t["user_id"]).transform("sum"),
                      "position": position})
    rules = w.groupby("channel").sum()

    lost = _between(tp, "ts", period.start, period.end)
    lost = _positions(lost[~lost["user_id"].isin(conv["user_id"])]).assign(outcome=_NULL)
    won = t[["user_id", "ts", "channel", "pos", "n"]].assign(outcome=_CONV)
    paths = pd.concat([won, lost[["user_id", "ts", "channel", "pos", "n", "outcome"]]], ignore_index=True)
    paths = paths.sort_values(["user_id", "outcome", "pos"], kind="stable")
    nxt = paths.groupby(["user_id", "outcome"], sort=False)["channel"].shift(-1)
    dst = nxt.where(paths["pos"] != paths["n"] - 1, paths["outcome"])
    edges = pd.concat([pd.DataFrame({"src": _START, "dst": paths.loc[paths["pos"] == 0, "channel"]}),
                       pd.DataFrame({"src": paths["channel"], "dst": dst})], ignore_index=True)
    trans = edges.groupby(["src", "dst"]).size().rename("count").reset_index()
    attributed = int(t["user_id"].nunique())
    p, eff = _markov(trans)
    chans = sorted((set(trans["src"]) | set(trans["dst"])) - {_START, _CONV, _NULL})
    out = pd.DataFrame({"channel": chans}).merge(rules, left_on="channel", right_index=True, how="left").fillna(0.0)
    total = sum(eff.values())
    out["markov"] = [eff.get(ch, 0.0) / total * attributed if total > 0 else 0.0 for ch in out["channel"]]
    out = out.sort_values(["markov", "last", "channel"], ascending=[False, False, True]).reset_index(drop=True)
    out.attrs.update(conversions=len(conv), attributed=attributed, p_conversion=p)
    return out[["channel", "first", "last", "linear", "time_decay", "position", "markov"]]


# ---------------------------------------------------------------- anomaly series


def anomaly_series(folder: str | Path, period: Period, *, history_days: int = 182,
                   history_weeks: int = 52) -> dict[str, pd.Series]:
    """Peer of ``opsnb.metrics.anomalies.series_for`` for dau, new_users, gmv, conversion and churn."""
    lo, hi = period.end - timedelta(days=history_days), period.end
    days = pd.date_range(lo, period.last_day, freq="D")
    last_sunday = period.last_day - timedelta(days=(period.last_day.weekday() + 1) % 7)
    end = last_sunday + timedelta(days=1)
    wlo = end - timedelta(weeks=history_weeks + 1)
    ev = read(folder, "events", ["user_id", "ts"], since=min(lo, wlo), until=max(hi, end))
    e = _between(ev, "ts", lo, hi)
    dau = e.assign(day=e["ts"].dt.normalize()).groupby("day")["user_id"].nunique().astype("float64").sort_index()
    out: dict[str, pd.Series] = {}
    out["dau"] = dau.reindex(days)[lambda s: s.index >= dau.index.min()]
    u = _between(read(folder, "users", ["user_id", "signup_at"]), "signup_at", lo, hi)
    nu = u.groupby(u["signup_at"].dt.normalize())["user_id"].nunique().astype("float64")
    out["new_users"] = nu.reindex(days).fillna(0.0)[lambda s: s.index >= nu.index.min()]
    o = read(folder, "orders", ["user_id", "ts", "amount", "status"], since=lo, until=hi)
    o = o[o["status"].isna() | (o["status"].str.lower() == "paid")]
    od = o["ts"].dt.normalize()
    gmv = o.groupby(od)["amount"].sum()
    out["gmv"] = gmv.reindex(days).fillna(0.0)[lambda s: s.index >= gmv.index.min()]
    pay = o.groupby(od)["user_id"].nunique().astype("float64")
    d = dau.reindex(days)
    p = pay.reindex(days).fillna(0.0).where(d.notna())
    out["conversion"] = (p / d).where(d > 0)[lambda s: s.index >= dau.index.min()]

    w = _between(ev, "ts", wlo, end)
    wk = pd.DataFrame({"user_id": w["user_id"],
                       "week": w["ts"].dt.normalize() - pd.to_timedelta(w["ts"].dt.day_of_week, unit="D")})
    wk = wk.drop_duplicates()
    prev = wk.assign(week=wk["week"] + pd.Timedelta(days=7))
    j = prev.merge(wk.assign(here=1), on=["user_id", "week"], how="left")
    j["lost"] = j["here"].isna()
    g = j.groupby("week").agg(base=("user_id", "size"), churned=("lost", "sum"))
    churn = (g["churned"] / g["base"]).where(g["base"] > 0).sort_index()
    keep = (churn.index <= _ts(end - timedelta(days=7))) & (churn.index > _ts(wlo + timedelta(days=6)))
    churn = churn[keep]
    out["churn"] = churn.reindex(pd.date_range(churn.index.min(), end - timedelta(days=7), freq="7D"))
    return out


# ---------------------------------------------------------------- KPI attainment


def _covered(p: Period, first: date, last: date) -> str | None:
    if p.end <= first or p.start > last:
        return "not_covered"
    if p.start < first:
        return "partly_covered"
    return None


def _div(num: float, den: float) -> float | None:
    return None if den == 0 or pd.isna(den) else float(num) / float(den)


def kpi_values(folder: str | Path, p: Period, prev: Period, first: date, last: date,
               frames: dict[str, pd.DataFrame]) -> dict[str, float | None]:
    """Built-in KPI values of period ``p`` (definitions of ``opsnb.metrics.kpis``; ``prev`` for churn)."""
    if _covered(p, first, last):
        return {}
    users, ev, orders = frames["users"], frames["events"], frames["orders"]
    spend, fb, kt = frames["channel_spend"], frames["feedback"], frames["kpis"]
    new = float(_between(users, "signup_at", p.start, p.end)["user_id"].nunique())
    days = ev[(ev["day"] >= _ts(p.start)) & (ev["day"] < _ts(p.end))]
    mau = float(days["user_id"].nunique())
    st = orders["status"].str.strip().str.lower()
    paid = orders[st.isna() | (st == "paid") | (st == "")]
    po = _between(paid, "ts", p.start, p.end)
    gmv, n_orders, payers = float(po["amount"].sum()), float(po["order_id"].count()), float(po["user_id"].nunique())
    per_user = po.groupby("user_id")["order_id"].count()
    d30 = users.loc[users["user_id"].notna(), ["user_id"]].assign(day=users["signup_at"].dt.normalize()
                                                                  + pd.Timedelta(days=30))
    d30 = d30[(d30["day"] >= _ts(p.start)) & (d30["day"] < _ts(p.end))]
    kept = d30.merge(days, on=["user_id", "day"], how="inner")
    before = ev[(ev["day"] >= _ts(prev.start)) & (ev["day"] < _ts(prev.end))]["user_id"].drop_duplicates()
    cost = float(_between(spend, "date", p.start, p.end)["cost"].sum())
    ch = po["channel"].str.strip()
    roi_gmv = float(po.loc[ch.notna() & (ch != ""), "amount"].sum())
    f = _between(fb, "created_at", p.start, p.end)
    done = f["resolved_at"].notna() & (f["resolved_at"] < _ts(p.end))
    hours = ((f["resolved_at"] - f["created_at"]).dt.total_seconds() / 3600.0)[done].sum()
    nps = kt[(kt["metric"] == "nps") & (kt["period"] == p.label)]["actual"].dropna()
    return {
        "gmv": gmv, "orders": n_orders, "aov": _div(gmv, n_orders), "new_users": new,
        "active_users": len(days) / p.days, "mau": mau, "paying_users": payers,
        "conversion_rate": _div(payers, mau), "repurchase_rate": _div(float((per_user >= 2).sum()), float(len(per_user))),
        "retention_d30": _div(float(len(kept)), float(len(d30))),
        "churn_rate": None if _covered(prev, first, last) else _div(
            float((~before.isin(days["user_id"])).sum()), float(len(before))),
        "cac": _div(cost, new), "roi": _div(roi_gmv, cost),
        "resolution_rate": _div(float(done.sum()), float(len(f))), "resolution_hours": _div(hours, float(done.sum())),
        "satisfaction": _div(float(f["satisfaction"].sum()), float(f["satisfaction"].count())),
        "nps": float(nps.iloc[-1]) if len(nps) else None,
    }


def attainment(folder: str | Path, period: Period, kpis: Sequence[Any]) -> pd.DataFrame:
    """Peer of ``opsnb.metrics.kpis.attainment`` for a full (not to-date) month and the default registry.

    Returns ``key, actual, target, attainment, previous, last_year, mom, yoy`` (None where undefined).
    """
    ts = pd.concat([read(folder, "events", ["ts"])["ts"], read(folder, "orders", ["ts"])["ts"]])
    first, last = ts.min().date(), ts.max().date()
    if period.end > last + timedelta(days=1):
        raise ValueError("the pandas peer only covers full periods")
    cur, prev, ly = period, period.previous(), period.last_year()
    lo = min(cur.start, prev.previous().start, ly.previous().start)
    ev = read(folder, "events", ["user_id", "ts"], since=lo, until=cur.end)
    ev = pd.DataFrame({"user_id": ev["user_id"], "day": ev["ts"].dt.normalize()}).drop_duplicates()
    kt = read(folder, "kpis")
    kt["metric"] = kt["metric"].str.strip()
    kt["period"] = kt["period"].str.strip().map(lambda s: Period.parse(s).label)
    frames = {"users": read(folder, "users", ["user_id", "signup_at"]), "events": ev,
              "orders": read(folder, "orders", ["order_id", "user_id", "ts", "amount", "status", "channel"]),
              "channel_spend": read(folder, "channel_spend", ["date", "cost"]), "feedback": read(folder, "feedback"),
              "kpis": kt}
    vals = {p: kpi_values(folder, p, p.previous(), first, last, frames) for p in (cur, prev, ly)}
    rows = []
    for k in kpis:
        actual, pv, lv = (vals[p].get(k.key) for p in (cur, prev, ly))
        hit = kt[(kt["metric"] == k.key) & (kt["period"] == period.label)]["target"].dropna()
        target = float(hit.iloc[0]) if len(hit) else None
        att = None
        if actual is not None and target is not None:
            num, den = (actual, target) if k.direction == "higher" else (target, actual)
            att = num / den if den > 0 and num >= 0 else None

        def change(old: float | None, new: float | None = actual, unit: str = k.unit) -> float | None:
            if new is None or old is None:
                return None
            if unit in ("ratio", "roi"):  # points for ratios, the difference of x for ROI (1:x)
                return new - old
            return (new - old) / abs(old) if old != 0 else None

        rows.append({"key": k.key, "actual": actual, "target": target, "attainment": att, "previous": pv,
                     "last_year": lv, "mom": change(pv), "yoy": change(lv)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- comparison


def _num(x: Any) -> float | None:
    if x is None or x is pd.NA:
        return None
    if isinstance(x, (bool, np.bool_)):
        return float(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def compare(ours: pd.DataFrame, peer: pd.DataFrame, key: Sequence[str], cols: Sequence[str],
            tol: float = 1e-9) -> list[str]:
    """Differences between two result frames on ``cols``, rows matched on ``key``; empty when identical.

    Numbers agree when both are missing (None/NaN/NA) or within ``tol`` (absolute, or relative to the
    larger magnitude); other values must be equal.
    """
    a = ours.set_index(list(key))
    b = peer.set_index(list(key))
    diffs = []
    if set(a.index) != set(b.index):
        diffs.append(f"rows differ: only ours {sorted(set(a.index) - set(b.index))[:5]}, "
                     f"only peer {sorted(set(b.index) - set(a.index))[:5]}")
    for idx in a.index.intersection(b.index):
        for c in cols:
            x, y = a.at[idx, c], b.at[idx, c]
            if isinstance(x, str) or isinstance(y, str):
                if x != y:
                    diffs.append(f"{idx} {c}: ours {x!r} peer {y!r}")
                continue
            fx, fy = _num(x), _num(y)
            if fx is None or fy is None:
                if (fx is None) != (fy is None):
                    diffs.append(f"{idx} {c}: ours {'missing' if fx is None else fx} peer {'missing' if fy is None else fy}")
                continue
            if abs(fx - fy) > tol * max(1.0, abs(fx), abs(fy)):
                diffs.append(f"{idx} {c}: ours {fx!r} peer {fy!r}")
    return diffs


def compare_series(ours: pd.Series, peer: pd.Series, tol: float = 1e-9) -> list[str]:
    """Differences between two date-indexed series (same index; NaN equals NaN)."""
    a = ours.rename("v").rename_axis("d").reset_index()
    b = peer.rename("v").rename_axis("d").reset_index()
    a["d"], b["d"] = pd.to_datetime(a["d"]), pd.to_datetime(b["d"])
    return compare(a, b, ["d"], ["v"], tol)
