"""Measure first and second ``open_pack`` of a pack with a 2M-row events file (CSV and Parquet).

``python tests/badinput/bench_cache.py [ROWS]`` — writes into a temporary folder, prints seconds.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_events(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = np.datetime64("2026-09-01T00:00:00", "s")
    ts = start + rng.integers(0, 61 * 86400, n).astype("timedelta64[s]")
    return pd.DataFrame({
        "user_id": pd.Series(rng.integers(1, 200_000, n)).map("{:07d}".format),
        "ts": pd.to_datetime(ts),
        "event": rng.choice(["visit", "view_item", "add_to_cart", "purchase"], n),
    })


def timed(fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(n: int) -> None:
    from opsnb.pack import open_pack

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["OPSNB_CACHE"] = str(root / "cache")
        ev = make_events(n)
        for kind in ("csv", "parquet"):
            pack = root / kind
            pack.mkdir()
            (pack / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,100\n", encoding="utf-8")
            if kind == "csv":
                ev.assign(ts=ev.ts.dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(pack / "events.csv", index=False)
            else:
                ev.assign(ts=ev.ts.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")).to_parquet(
                    pack / "events.parquet", index=False)
            size = sum(p.stat().st_size for p in pack.iterdir()) / 1e6
            first = timed(lambda p=pack: open_pack(p).table("events").count().execute())
            second = timed(lambda p=pack: open_pack(p).table("events").count().execute())
            p = open_pack(pack)
            assert p.table("events").count().execute() == n
            lo, hi = p.day_range()
            print(f"{kind:8s} {n:,} rows, {size:.0f} MB: first open {first:.2f} s, second open {second:.2f} s "
                  f"(days {lo}..{hi})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)
