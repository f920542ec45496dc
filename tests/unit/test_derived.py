"""The pack store and derived tables: equal to what the files give, built once per pack content, safe to share."""

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
    folder.mkdir(parents=True)
    events.to_csv(folder / "events.csv", index=False)
    KPIS.to_csv(folder / "kpis.csv", index=False)
    return folder


def _stores() -> set[str]:
    return {p.name for p in cache_dir().glob("store-*.duckdb")}


def _in_store(pack) -> bool:
    return dv.STORE in set(pack.con.con.execute("SELECT database_name FROM duckdb_databases()").fetchnumpy()
                           ["database_name"].tolist())


def test_folder_pack_builds_one_store_and_reuses_it(tmp_path):
    folder = _folder(tmp_path)
    before = _stores()
    first = open_pack(folder)
    assert not _in_store(first)  # opening alone builds nothing
    assert dv.warm(first) == ["user_days"]
    made = _stores() - before
    assert len(made) == 1 and _in_store(first)
    # a second opening of the same content reads the same store (no new one), with the same rows
    again = open_pack(folder)
    assert _in_store(again)
    assert _rows(again.derived("user_days")) == _rows(first.derived("user_days"))
    assert _stores() - before == made
    # store=False reads the files although a store exists, and builds none
    files = open_pack(folder, store=False)
    assert _rows(files.derived("user_days")) == _rows(first.derived("user_days")) and not _in_store(files)
    # another timezone is another store: the local days differ
    other = open_pack(folder, tz="UTC")
    other.derived("user_days")
    assert len(_stores() - before) == 2
    # without the cache nothing is written and nothing is attached
    n = len(_stores())
    plain = open_pack(folder, use_cache=False)
    plain.derived("user_days")
    assert len(_stores()) == n and not _in_store(plain)
    assert not list(cache_dir().glob(".store-*"))


def test_store_tables_equal_the_files(tmp_path):
    """Every table read through the store equals the same table read from the files, row for row."""
    from opsnb.sample import generate

    folder = tmp_path / "sample"
    generate(folder, scale=0.02)
    plain = open_pack(folder, use_cache=False)
    stored = open_pack(folder)
    dv.warm(stored)
    assert _in_store(stored)
    assert sorted(stored.names) == sorted(plain.names) and "events" in plain.names
    for name in plain.names:
        a, b = plain.table(name).execute(), stored.table(name).execute()
        assert list(a.columns) == list(b.columns), name
        assert dict(plain.table(name).schema()) == dict(stored.table(name).schema()), name
        key = list(a.columns)
        pd.testing.assert_frame_equal(a.sort_values(key, ignore_index=True), b.sort_values(key, ignore_index=True),
                                      check_dtype=True, obj=name)
    assert len(plain.table("events").execute()) > 1000


def test_changed_content_or_mapping_changes_the_store(tmp_path):
    folder = _folder(tmp_path)
    pack = open_pack(folder)
    path = dv.store_path(pack)
    changed = EVENTS.assign(event="view")
    changed.to_csv(folder / "events.csv", index=False)
    assert dv.store_path(open_pack(folder)) != path
    # the same bytes read with other pack.yaml settings: another fingerprint (and store) too
    before = open_pack(folder)
    (folder / "pack.yaml").write_text("tables:\n  events: {file: events.csv, encoding: utf-8}\n", encoding="utf-8")
    configured = open_pack(folder)
    assert configured.fingerprints["events"] != before.fingerprints["events"]
    assert configured.fingerprints["kpis"] == before.fingerprints["kpis"]
    assert dv.store_path(configured) != dv.store_path(before)
    assert _rows(configured.derived("user_days")) == _rows(before.derived("user_days"))


def test_concurrent_builders_agree(tmp_path):
    """Two processes opening the same new pack at once: one builds under the lock, both read it."""
    folder = _folder(tmp_path, pd.concat([EVENTS] * 200, ignore_index=True))
    code = ("import sys; from opsnb.pack import open_pack; p = open_pack(sys.argv[1]); "
            "t = p.derived('user_days'); print(int(t.n.sum().execute()), p.table('events').count().execute())")
    env_cache = str(cache_dir())
    before = _stores()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True,
                              env={"OPSNB_CACHE": env_cache, "PATH": "/usr/bin:/bin"}) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == [f"{6 * 200} {6 * 200}"] * 2
    assert len(_stores() - before) == 1
    assert not list(cache_dir().glob(".store-*"))


def test_damaged_store_is_rebuilt(tmp_path):
    folder = _folder(tmp_path, pd.concat([EVENTS] * 2, ignore_index=True))
    pack = open_pack(folder)
    dv.warm(pack)
    path = dv.store_path(pack)
    expected = _rows(pack.derived("user_days"))
    path.write_bytes(b"not a database" * 100)  # a copy cut short, a disk that filled up
    again = open_pack(folder)  # cannot use it: reads the files, drops the damaged store
    assert not _in_store(again) and not path.exists()
    assert _rows(again.derived("user_days")) == expected  # rebuilt on first use
    assert path.is_file() and _in_store(again)


def test_damaged_store_in_a_read_only_cache_still_opens(tmp_path, monkeypatch):
    folder = _folder(tmp_path, pd.concat([EVENTS] * 4, ignore_index=True))
    pack = open_pack(folder)
    dv.warm(pack)
    dv.store_path(pack).write_bytes(b"not a database")

    def read_only(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(dv, "_locked", read_only)
    again = open_pack(folder)  # neither the damaged store nor the unwritable cache stops it
    assert not _in_store(again)
    assert _rows(again.derived("user_days"))[0] == ("u3", "2026-09-30 00:00", 4)
    assert any(getattr(w, "code", "") == "cache_unwritable" for w in again.warnings)


def test_unwritable_store_falls_back_to_the_files(tmp_path, monkeypatch):
    folder = _folder(tmp_path, pd.concat([EVENTS] * 3, ignore_index=True))  # content no other test stored

    def full_disk(pack, tmp):
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dv, "_write", full_disk)
    pack = open_pack(folder)
    assert _rows(pack.derived("user_days"))[0] == ("u3", "2026-09-30 00:00", 3)
    assert not _in_store(pack) and not dv.store_path(pack).exists()
    assert not list(cache_dir().glob(".store-*"))  # the half-written file is removed
    assert [w.code for w in pack.warnings if getattr(w, "code", "") == "cache_unwritable"] == ["cache_unwritable"]
    assert "No space left on device" in str(pack.warnings[-1])


def test_copies_of_a_pack_share_its_store(tmp_path):
    import dataclasses

    folder = _folder(tmp_path)
    pack = open_pack(folder)
    dv.warm(pack)
    copy = dataclasses.replace(pack)  # same connection, fresh per-object memo (explorer, benchmark)
    assert _rows(copy.derived("user_days")) == _rows(pack.derived("user_days"))
    assert dv.store_path(pack).is_file()


def test_read_only_duckdb_pack_gets_a_temporary_table(tmp_path):
    import duckdb

    path = tmp_path / "pack.duckdb"
    con = duckdb.connect(str(path))
    con.register("ev", EVENTS.assign(ts=pd.to_datetime(EVENTS["ts"])))
    con.execute("CREATE TABLE events AS SELECT * FROM ev")
    con.register("k", KPIS)
    con.execute("CREATE TABLE kpis AS SELECT * FROM k")
    con.close()
    before = _stores()
    pack = open_pack(path)
    assert _rows(pack.derived("user_days")) == _rows(from_frames({"events": EVENTS, "kpis": KPIS}).derived("user_days"))
    assert _stores() == before and not _in_store(pack)  # nothing written beside a read-only database


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


def test_only_the_most_recently_used_stores_are_kept(tmp_path, monkeypatch):
    import os
    import time

    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))
    paths = []
    for i in range(3):
        folder = _folder(tmp_path / f"p{i}", pd.concat([EVENTS] * (i + 1), ignore_index=True))
        pack = open_pack(folder)
        paths.append(dv.store_path(pack))
        dv.warm(pack)
        old = time.time() - 1000 + i * 100  # built in this order, an age apart
        os.utime(paths[-1], (old, old))
    assert all(p.is_file() for p in paths)
    open_pack(tmp_path / "p0" / "pack")  # using the oldest makes it the most recent
    assert dv.prune_stores(keep=2) == [paths[1]]
    assert [p.is_file() for p in paths] == [True, False, True]
