"""What the single-unit and the multi-unit sample generators share: table names, file writers and the
planted facts measured on a simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from opsnb.sample import behaviour, brand
from opsnb.sample.calendar import DAY, START, sec

BIG_TABLES = ("users", "events", "orders", "touchpoints", "experiments")
SMALL_TABLES = ("campaigns", "channel_spend", "content", "feedback", "kpis", "actions", "risks")
ROW_GROUP = 1 << 20


def write_parquet(table: pa.Table, path: Path) -> None:
    # fixed row groups, no pandas or Arrow schema metadata, no timestamps: the bytes depend on the
    # data only; dictionary-encoded text columns are read back as plain strings
    low_cardinality = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, path, row_group_size=ROW_GROUP, compression="zstd", use_dictionary=low_cardinality,
                   write_statistics=True, store_schema=False)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def weekly_churn(sim: behaviour.Simulation) -> pd.Series:
    """Share of each ISO week's predecessor's active users with no event in the week (index: Monday)."""
    n = len(sim.signup)
    offset = START.weekday()  # grid day 0 is a Wednesday: week 0 starts two days before it
    week = (sim.ev_ts // DAY + offset) // 7
    pairs = np.sort(pd.unique(week * n + sim.ev_user))
    w, u = pairs // n, pairs % n
    nxt = (w + 1) * n + u
    pos = np.minimum(np.searchsorted(pairs, nxt), len(pairs) - 1)
    back = pairs[pos] == nxt
    n_weeks = int(w.max()) + 1
    active = np.bincount(w, minlength=n_weeks)
    returning = np.bincount(w, weights=back, minlength=n_weeks)
    churn = 1 - returning[:-1] / np.maximum(active[:-1], 1)
    mondays = pd.to_datetime(START) + pd.to_timedelta(np.arange(1, n_weeks) * 7 - offset, unit="D")
    return pd.Series(churn, index=mondays.strftime("%Y-%m-%d"))


def attribution_gap(sim: behaviour.Simulation) -> dict[str, float]:
    """Share of each channel's users' paid review-period orders with no touch at or before them."""
    n = len(sim.signup)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, sim.tp_user, sim.tp_ts)
    sel = (sim.or_status == 0) & (sim.or_ts >= sec(behaviour.REVIEW_START))
    no_touch = first[sim.or_user[sel]] > sim.or_ts[sel]
    ch = sim.channel[sim.or_user[sel]]
    k = len(brand.CHANNELS)
    share = np.bincount(ch, weights=no_touch, minlength=k) / np.maximum(np.bincount(ch, minlength=k), 1)
    return {c: round(float(share[i]), 4) for i, c in enumerate(brand.CHANNELS)}


def write_pack_yaml(path: Path) -> None:
    """``pack.yaml`` with the display names of the sample's category values (:data:`brand.LABELS`), in English."""
    import yaml

    labels = {col: {v: {"en": name} for v, name in values.items()} for col, values in brand.LABELS.items()}
    head = ("# Display names of the sample's category values (docs/ingest.md, \"Display names\"): en pages show\n"
            "# these; zh pages show the values as they are.\n")
    path.write_text(head + yaml.safe_dump({"labels": labels}, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None),
                    encoding="utf-8")
