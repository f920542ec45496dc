"""The KPI ledger: every published KPI value, so a review can show what the previous one said.

One Parquet file per business unit (``outputs/<unit>/ledger.parquet``; the caller passes the
path). Each publication appends one row per KPI:

    unit, period, metric, value, target, attainment, status, run_id, published_at

A *restatement* is the same metric and period published again with a different value (data
arrived late, a definition was fixed); :func:`previous_publications` flags it.
"""

from __future__ import annotations

import math
import os
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from opsnb.periods import Period

__all__ = ["LEDGER_COLUMNS", "append_ledger", "previous_publications", "read_ledger"]

LEDGER_COLUMNS = ["unit", "period", "metric", "value", "target", "attainment", "status", "run_id", "published_at"]
_REL_TOL = 1e-9


def _empty() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": pd.Series([], dtype="string"), "period": pd.Series([], dtype="string"),
        "metric": pd.Series([], dtype="string"), "value": pd.Series([], dtype="float64"),
        "target": pd.Series([], dtype="float64"), "attainment": pd.Series([], dtype="float64"),
        "status": pd.Series([], dtype="string"), "run_id": pd.Series([], dtype="string"),
        "published_at": pd.Series([], dtype="datetime64[us]"),
    })


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for c in ("unit", "period", "metric", "status", "run_id"):
        out[c] = df[c].astype("string")
    for c in ("value", "target", "attainment"):
        out[c] = pd.Series([float("nan") if v is None or pd.isna(v) else float(v) for v in df[c]], index=df.index,
                           dtype="float64")
    ts = pd.to_datetime(df["published_at"])
    if getattr(ts.dt, "tz", None) is not None:  # stored as naive UTC
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    out["published_at"] = ts.astype("datetime64[us]")
    return out[LEDGER_COLUMNS]


def read_ledger(path: str | Path) -> pd.DataFrame:
    """The whole ledger (empty frame with the ledger columns when the file does not exist)."""
    p = Path(path)
    if not p.is_file():
        return _empty()
    return _typed(pd.read_parquet(p))


def append_ledger(path: str | Path, unit: str, period: Period | str, results: pd.DataFrame, run_id: str,
                  published_at: datetime | str) -> pd.DataFrame:
    """Append one publication's KPI values to the ledger at ``path`` (atomic: tmp file + ``os.replace``).

    Parameters
    ----------
    path : path of ``ledger.parquet`` (its folder is created).
    unit : business unit.
    period : the reviewed period.
    results : the :func:`opsnb.metrics.kpis.attainment` frame (key, actual, target, attainment, status).
    run_id : identifier of the run; rows of the same run, unit and period are replaced (a rerun of
        the same run is idempotent).
    published_at : publication time.

    Returns
    -------
    pandas.DataFrame
        The rows appended.
    """
    label = period.label if isinstance(period, Period) else Period.parse(str(period)).label
    rows = _typed(pd.DataFrame({
        "unit": unit, "period": label, "metric": results["key"].astype("string"),
        "value": results["actual"].to_list(), "target": results["target"].to_list(),
        "attainment": results["attainment"].to_list(), "status": results["status"].astype("string"),
        "run_id": run_id, "published_at": pd.Timestamp(published_at),
    }))
    p = Path(path)
    old = read_ledger(p)
    keep = old[~((old["run_id"] == run_id) & (old["unit"] == unit) & (old["period"] == label))]
    frames = [f for f in (keep, rows) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else _empty()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".parquet", dir=p.parent)
    os.close(fd)
    try:
        out.to_parquet(tmp, index=False)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return rows.reset_index(drop=True)


def _differs(a: float | None, b: float | None) -> bool:
    na, nb = a is None or pd.isna(a), b is None or pd.isna(b)
    if na or nb:
        return na != nb
    return not math.isclose(float(a), float(b), rel_tol=_REL_TOL, abs_tol=1e-12)  # type: ignore[arg-type]


def previous_publications(path: str | Path, period: Period | str, *, unit: str | None = None,
                          current: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the previous review published, with restated values flagged.

    The previous review is the latest publication of the most recent period before ``period``
    in the ledger. For each of its metrics: the value first published for that metric and
    period, the latest published value, and ``restated`` — True when a later publication (or
    ``current``, a frame of metric/value recomputed now) differs from the first one.

    Returns
    -------
    pandas.DataFrame
        period, metric, value (latest published), target, attainment, status, run_id,
        published_at, first_value, first_published_at, current (recomputed, when given),
        restated (bool), publications (count). Empty when nothing was published before.
    """
    cur_period = period if isinstance(period, Period) else Period.parse(str(period))
    led = read_ledger(path)
    if unit is not None:
        led = led[led["unit"] == unit]
    published = {s: Period.parse(str(s)) for s in led["period"].unique()}  # each label read once
    before = led[led["period"].map(lambda s: published[s].start < cur_period.start)]
    cols = ["period", "metric", "value", "target", "attainment", "status", "run_id", "published_at",
            "first_value", "first_published_at", "current", "restated", "publications"]
    if before.empty:
        return pd.DataFrame({c: [] for c in cols})
    # the most recent period: the latest start, then the latest end (a quarter after its first month)
    prev_label = max(before["period"].unique(), key=published.__getitem__)
    rows = before[before["period"] == prev_label].sort_values("published_at", kind="stable")
    first = rows.groupby("metric", sort=False).head(1).set_index("metric")
    latest = rows.groupby("metric", sort=False).tail(1).set_index("metric")
    count = rows.groupby("metric", sort=False).size()
    cur = {} if current is None else dict(zip(current["metric"], current["value"], strict=True))
    out = []
    for m, r in latest.iterrows():
        fv = first.loc[m, "value"]
        cv = cur.get(m)
        restated = _differs(r["value"], fv) or (m in cur and _differs(cv, fv))
        out.append({
            "period": prev_label, "metric": m, "value": None if pd.isna(r["value"]) else float(r["value"]),
            "target": None if pd.isna(r["target"]) else float(r["target"]),
            "attainment": None if pd.isna(r["attainment"]) else float(r["attainment"]),
            "status": r["status"], "run_id": r["run_id"], "published_at": r["published_at"],
            "first_value": None if pd.isna(fv) else float(fv), "first_published_at": first.loc[m, "published_at"],
            "current": None if cv is None or pd.isna(cv) else float(cv), "restated": bool(restated),
            "publications": int(count[m]),
        })
    df = pd.DataFrame(out, columns=cols)
    for c in ("value", "target", "attainment", "first_value", "current"):
        df[c] = pd.Series([None if pd.isna(x) else float(x) for x in df[c]], dtype="object", index=df.index)
    return df
