"""The KPI ledger: every published KPI value, so a review can show what the previous one said.

One Parquet file per business unit (``outputs/<unit>/ledger.parquet``, read and written by
:mod:`opsnb.runfolder`: these functions take and return frames, no file). Each publication appends one row
per KPI:

    unit, period, metric, value, target, attainment, status, run_id, published_at

A *restatement* is the same metric and period published again with a different value (data
arrived late, a definition was fixed); :func:`previous_publications` flags it.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from opsnb.periods import Period
from opsnb.runfolder import LEDGER_COLUMNS

__all__ = ["LEDGER_COLUMNS", "appended", "previous_publications"]

_REL_TOL = 1e-9


def appended(ledger: pd.DataFrame, unit: str, period: Period | str, results: pd.DataFrame, run_id: str,
             published_at: datetime | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger with one publication's KPI values appended, and the rows appended.

    Parameters
    ----------
    ledger : the unit's ledger as it is (:func:`opsnb.runfolder.read_ledger`).
    unit : business unit.
    period : the reviewed period.
    results : the :func:`opsnb.metrics.kpis.attainment` frame (key, actual, target, attainment, status).
    run_id : identifier of the run; rows of the same run, unit and period are replaced (a rerun of
        the same run is idempotent).
    published_at : publication time.
    """
    label = period.label if isinstance(period, Period) else Period.parse(str(period)).label
    when = pd.Timestamp(published_at)
    if when.tzinfo is not None:  # kept as naive UTC
        when = when.tz_convert("UTC").tz_localize(None)
    rows = pd.DataFrame({
        "unit": unit, "period": label, "metric": results["key"].astype("string"),
        "value": results["actual"].to_list(), "target": results["target"].to_list(),
        "attainment": results["attainment"].to_list(), "status": results["status"].astype("string"),
        "run_id": run_id, "published_at": when.as_unit("us"),
    })[LEDGER_COLUMNS]
    keep = ledger[~((ledger["run_id"] == run_id) & (ledger["unit"] == unit) & (ledger["period"] == label))]
    frames = [f for f in (keep, rows) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else ledger.iloc[0:0]
    return out, rows.reset_index(drop=True)


def _differs(a: float | None, b: float | None) -> bool:
    na, nb = a is None or pd.isna(a), b is None or pd.isna(b)
    if na or nb:
        return na != nb
    return not math.isclose(float(a), float(b), rel_tol=_REL_TOL, abs_tol=1e-12)  # type: ignore[arg-type]


def previous_publications(ledger: pd.DataFrame, period: Period | str, *, unit: str | None = None,
                          current: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the previous review published (in ``ledger``, :func:`opsnb.runfolder.read_ledger`), restatements flagged.

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
    led = ledger
    if unit is not None:
        led = led[led["unit"] == unit]
    published = {s: Period.parse(str(s)) for s in led["period"].unique()}  # each label read once
    # the previous review of the same kind: a month's is a month's, never the quarter that ended before it
    before = led[led["period"].map(lambda s: published[s].kind == cur_period.kind
                                   and published[s].start < cur_period.start)]
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
