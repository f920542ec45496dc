"""Derived tables: equal to what the source gives, built once per pack content, safe to share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.pack import derived as dv
from opsnb.pack import from_frames, open_pack
from opsnb.paths import cache_dir

EVENTS = pd.DataFrame({
    "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
    "ts": ["2026-10-01 00:00:00", "2026-10-01 23:59:59", "2026-10-02 08:00:00",
           "2026-10-01 12:00:00", "2026-10-03 00:00:01", "2026-09-30 23:59:59"],
    "event": ["view", "view", "pay", "view", "view", "view"],
})
KPIS = pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [1.0]})


def _rows(t) -> list[tuple[str, str, int]]:
    df = t.execute().sort_values(["ts", "user_id"])
    return [(u, pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M"), int(n))
            for u, ts, n in zip(df["user_id"], df["ts"], df["n"], strict=True)]


def test_user_days_counts_events_per_user_and_local_day():
    pack = from_frames({"events": EVENTS, "kpis": KPIS})
    assert _rows(pack.derived("user_days")) == [
        ("u3", "2026-09-30 00:00", 1),
        ("u1", "2026-10-01 00:00", 2),  # midnight and 23:59:59 are the same local day
        ("u2", "2026-10-01 00:00", 1),
        ("u1", "2026-10-02 00:00", 1),
        ("u2", "2026-10-03 00:00", 1),
    ]


def test_unknown_name_and_absent_source():
    pack = from_frames({"kpis": KPIS})
    with pytest.raises(KeyError, match="unknown derived table 'nope'; known: \\['user_days'\\]"):
        pack.derived("nope")
    with pytest.raises(NoData, match="events"):
        pack.derived("user_days")
    assert dv.warm(pack) == []


def _folder(tmp_path: Path, events: pd.DataFrame = EVENTS) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    events.to_csv(folder / "events.csv", index=False)
    KPIS.to_csv(folder / "kpis.csv", index=False)
    return folder


def _derived_files() -> set[str]:
    return {p.name for p in cache_dir().glob("derived-user_days-*.parquet")}


def test_folder_pack_writes_one_cache_file_and_reuses_it(tmp_path):
    folder = _folder(tmp_path)
    before = _derived_files()
    first = open_pack(folder)
    assert dv.warm(first) == ["user_days"]
    made = _derived_files() - before
    assert len(made) == 1
    # a second opening of the same content reads the same file (no new one), with the same rows
    again = open_pack(folder)
    assert _rows(again.derived("user_days")) == _rows(first.derived("user_days"))
    assert _derived_files() - before == made
    # another timezone is another table: the local days differ
    other = open_pack(folder, tz="UTC")
    other.derived("user_days")
    assert len(_derived_files() - before) == 2
    # without the cache nothing is written
    n = len(_derived_files())
    open_pack(folder, use_cache=False).derived("user_days")
    assert len(_derived_files()) == n


def test_changed_content_or_mapping_changes_the_key(tmp_path):
    folder = _folder(tmp_path)
    pack = open_pack(folder)
    key = dv._key(pack, "user_days", dv.DERIVED["user_days"])
    changed = EVENTS.assign(event="view")
    changed.to_csv(folder / "events.csv", index=False)
    assert dv._key(open_pack(folder), "user_days", dv.DERIVED["user_days"]) != key
    # the same bytes read with other pack.yaml settings: another fingerprint (and derived key) too
    before = open_pack(folder)
    (folder / "pack.yaml").write_text("tables:\n  events: {file: events.csv, encoding: utf-8}\n", encoding="utf-8")
    configured = open_pack(folder)
    assert configured.fingerprints["events"] != before.fingerprints["events"]
    assert configured.fingerprints["kpis"] == before.fingerprints["kpis"]
    assert _rows(configured.derived("user_days")) == _rows(before.derived("user_days"))


def test_concurrent_builders_agree(tmp_path):
    """Two processes opening the same new pack at once: one builds under the lock, both read it."""
    folder = _folder(tmp_path, pd.concat([EVENTS] * 200, ignore_index=True))
    code = ("import sys; from opsnb.pack import open_pack; p = open_pack(sys.argv[1]); "
            "t = p.derived('user_days'); print(int(t.n.sum().execute()))")
    env_cache = str(cache_dir())
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True,
                              env={"OPSNB_CACHE": env_cache, "PATH": "/usr/bin:/bin"}) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == [str(6 * 200)] * 2
    assert not list(cache_dir().glob(".derived-*.tmp"))


def test_read_only_duckdb_pack_gets_a_temporary_table(tmp_path):
    import duckdb

    path = tmp_path / "pack.duckdb"
    con = duckdb.connect(str(path))
    con.register("ev", EVENTS.assign(ts=pd.to_datetime(EVENTS["ts"])))
    con.execute("CREATE TABLE events AS SELECT * FROM ev")
    con.register("k", KPIS)
    con.execute("CREATE TABLE kpis AS SELECT * FROM k")
    con.close()
    before = _derived_files()
    pack = open_pack(path)
    assert _rows(pack.derived("user_days")) == _rows(from_frames({"events": EVENTS, "kpis": KPIS}).derived("user_days"))
    assert _derived_files() == before  # nothing written beside a read-only database


def test_file_hashes_are_remembered_until_the_file_changes(tmp_path):
    import os

    folder = _folder(tmp_path)
    first = open_pack(folder).fingerprints["events"]
    notes = list(cache_dir().glob("hash-*.txt"))
    assert notes
    # same size, other bytes, a new modification time: hashed again, not taken from the note
    path = folder / "events.csv"
    text = path.read_text(encoding="utf-8").replace("view", "VIEW", 1)
    st = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == st.st_size
    assert open_pack(folder).fingerprints["events"] != first
    # without the cache the bytes are always read
    assert open_pack(folder, use_cache=False).fingerprints["events"] == open_pack(folder).fingerprints["events"]
