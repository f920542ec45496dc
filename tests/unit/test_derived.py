"""The pack store and derived tables: equal to what the files give, built once per pack content, safe to share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opsnb.errors import NoData
from opsnb.pack import derived as dv
from opsnb.pack import from_frames, open_pack
from opsnb.pack.duckdb_engine import STORE
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
    attached = STORE in set(pack.engine.raw.execute("SELECT database_name FROM duckdb_databases()").fetchnumpy()
                            ["database_name"].tolist())
    assert attached == (pack.engine.store is not None)  # the engine knows what its connection holds
    return attached


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


def _store_order(df: pd.DataFrame, column: str | None, block: int) -> pd.DataFrame:
    """``df`` in the store's row order: blocks of ``block`` rows, each grouped by ``column`` in order of
    first appearance (a missing value last), the files' order otherwise."""
    if column is None:
        return df
    pos = np.arange(len(df))
    blocks = pos // block
    codes = np.empty(len(df), dtype="int64")
    for b in np.unique(blocks):
        sel = blocks == b
        c, _ = pd.factorize(df[column].to_numpy()[sel], use_na_sentinel=True)
        codes[sel] = np.where(c < 0, len(df), c)
    return df.iloc[np.lexsort((pos, codes, blocks))].reset_index(drop=True)


def test_store_order_helper():
    """The test's model of the store order, on a hand-made case (blocks of 3 rows)."""
    df = pd.DataFrame({"event": ["b", "a", "b", None, "c", "c", "a"], "i": range(7)})
    assert _store_order(df, "event", 3)["i"].tolist() == [0, 2, 1, 4, 5, 3, 6]
    assert _store_order(df, None, 3)["i"].tolist() == list(range(7))


def test_store_tables_equal_the_files(tmp_path, monkeypatch):
    """Every table read through the store equals the same table read from the files, row for row, in the
    files' order, except that ``events`` is grouped by event within each block (several blocks here)."""
    from opsnb.sample import generate

    block = 4096
    monkeypatch.setattr(dv, "_BATCH_ROWS", block)
    # a cache of its own: the same 0.02 pack's store built by another test (another block size) has another order
    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "sample"
    generate(folder, scale=0.02)
    plain = open_pack(folder, use_cache=False)
    stored = open_pack(folder)
    dv.warm(stored)
    assert _in_store(stored)
    assert sorted(stored.names) == sorted(plain.names) and "events" in plain.names
    assert dv.CLUSTER == {"events": "event"}
    for name in plain.names:
        a, b = plain.table(name).execute(), stored.table(name).execute()
        assert list(a.columns) == list(b.columns), name
        assert dict(plain.table(name).schema()) == dict(stored.table(name).schema()), name
        pd.testing.assert_frame_equal(_store_order(a, dv.CLUSTER.get(name), block), b, check_dtype=True, obj=name)
    events = plain.table("events").execute()
    assert len(events) > 3 * block
    # the grouping moved rows (else this test could not tell the two orders apart), within blocks only
    assert not events["event"].equals(stored.table("events").execute()["event"])



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


# ---------------------------------------------------------------- user keys

# ids whose byte order differs from their order in the files and from any numeric reading
IDS = ["u9", "u10", "U2", "张三", "Zed", "a", "u1", "李四"]


def _keyed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "keyed"
    folder.mkdir()
    n = len(IDS)
    pd.DataFrame({"user_id": IDS, "signup_at": ["2026-09-01 10:00"] * n,
                  "channel": ["seo", "ads", "seo", None, "ads", "seo", "ads", "seo"]}).to_csv(folder / "users.csv",
                                                                                            index=False)
    steps = ["visit", "register", "add_to_cart", "purchase"]
    rows = []
    for i, u in enumerate(IDS):  # user i gets through i % 5 steps, an hour apart
        rows += [(u, f"2026-10-{1 + i:02d} {8 + k:02d}:00", s, "ios" if i % 2 else "web")
                 for k, s in enumerate(steps[:i % 5])]
    pd.DataFrame(rows, columns=["user_id", "ts", "event", "platform"]).to_csv(folder / "events.csv", index=False)
    # equal recency, frequency and monetary for several customers: only user_id breaks the ties
    pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "user_id": IDS,
                  "ts": ["2026-10-20 12:00"] * n, "amount": [50.0] * n,
                  "status": ["paid"] * n}).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame({"user_id": IDS * 2, "ts": ["2026-10-19 09:00"] * n + ["2026-10-20 11:00"] * n,
                  "channel": ["seo", "ads"] * n}).to_csv(folder / "touchpoints.csv", index=False)
    KPIS.to_csv(folder / "kpis.csv", index=False)
    return folder


def test_store_user_keys_stand_for_user_ids(tmp_path):
    """Equal keys ⇔ equal ids across every table, keys sort like ids, rows in the store's order."""
    from opsnb.pack import USER_KEY

    folder = _keyed_folder(tmp_path)
    plain = open_pack(folder, use_cache=False)
    stored = open_pack(folder)
    dv.warm(stored)
    assert _in_store(stored)
    pairs = []
    for name in ("users", "events", "orders", "touchpoints"):
        k = stored.keyed(name).execute()
        assert str(stored.keyed(name).schema()[USER_KEY]) == "int32", name
        assert USER_KEY not in stored.table(name).columns, name  # the contract columns only
        expected = _store_order(plain.table(name).execute(), dv.CLUSTER.get(name), dv._BATCH_ROWS)
        pd.testing.assert_frame_equal(k.drop(columns=USER_KEY), expected, obj=name)
        pairs.append(k[["user_id", USER_KEY]])
        f = plain.keyed(name).execute()  # without a store the key is the id itself
        assert f[USER_KEY].tolist() == f["user_id"].tolist(), name
    ids = pd.concat(pairs).drop_duplicates()
    assert len(ids) == len(IDS) and ids[USER_KEY].is_unique
    assert ids.sort_values(USER_KEY)["user_id"].tolist() == sorted(IDS)  # code point = UTF-8 byte order
    with pytest.raises(KeyError, match="no user_id column"):
        stored.keyed("kpis")


def test_keyed_analyses_equal_on_store_and_files(tmp_path):
    """Funnels, RFM and attribution use the key: the same numbers from the store and from the files."""
    from opsnb.metrics.attribution import attribution
    from opsnb.metrics.funnel import funnel
    from opsnb.metrics.rfm import rfm_scores, rfm_segments
    from opsnb.params import InsightsSettings
    from opsnb.periods import Period

    folder = _keyed_folder(tmp_path)
    plain = open_pack(folder, store=False)
    stored = open_pack(folder)
    dv.warm(stored)
    assert _in_store(stored) and not _in_store(plain)
    oct_ = Period.parse("2026-10")
    settings = InsightsSettings()
    for by in (None, "channel", "platform"):
        for entry in ("new", "all"):  # the entry population's join runs on the key too
            pd.testing.assert_frame_equal(funnel(stored, oct_, by=by, entry=entry), funnel(plain, oct_, by=by, entry=entry),
                                          obj=f"{by} {entry}")
    # user i does the first i % 5 steps: i = 1, 2, 3, 4, 6, 7 visit; 2, 3, 4, 7 register; 3, 4 add; 4 buys
    assert funnel(stored, oct_)["users"].tolist() == [6, 4, 2, 1]
    # groups by entered users, ties by name (3 ios, 3 web), a missing channel last
    assert funnel(stored, oct_, by="platform")["group"].unique().tolist() == ["ios", "web"]
    assert funnel(plain, oct_, by="channel")["group"].unique().tolist() == ["ads", "seo", None]
    a = rfm_scores(stored, oct_).execute().sort_values("user_id", ignore_index=True)
    b = rfm_scores(plain, oct_).execute().sort_values("user_id", ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    # every customer ties on R, F and M: user_id (byte order) breaks the ties, so each score rises with it
    assert a["user_id"].tolist() == sorted(IDS)
    for score in ("r", "f", "m"):
        assert a[score].tolist() == [1, 1, 2, 2, 3, 3, 4, 5], score
    pd.testing.assert_frame_equal(rfm_segments(stored, oct_, settings.rfm_segments),
                                  rfm_segments(plain, oct_, settings.rfm_segments))
    x, y = attribution(stored, oct_, settings), attribution(plain, oct_, settings)
    pd.testing.assert_frame_equal(x, y)
    assert x.attrs == y.attrs and x.attrs["attributed"] == len(IDS)


def test_keyed_tables_made_before_the_store_use_it_once_attached(tmp_path):
    from opsnb.pack import USER_KEY

    folder = _keyed_folder(tmp_path)
    KPIS.assign(target=2.0).to_csv(folder / "kpis.csv", index=False)  # content no other test stored
    pack = open_pack(folder)
    assert not _in_store(pack)
    assert str(pack.keyed("orders").schema()[USER_KEY]) == "string"  # the id itself until the store exists
    dv.warm(pack)
    assert str(pack.keyed("orders").schema()[USER_KEY]) == "int32"
