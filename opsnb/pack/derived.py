"""The pack store and derived tables: a pack's tables laid out for analysis, built once per content.

**The store.** A folder pack's files are read where they are (Parquet) or from the Parquet cache
(CSV/TSV/XLSX after ingest). Every analysis then decompresses those files again: each kernel of a
batch, each query, each month of a trend. :func:`ensure_store` copies every table of the pack, once
per pack content, into one DuckDB database file in :func:`opsnb.paths.cache_dir` (DuckDB's own
storage scans about twice as fast as ZSTD Parquet: see ``benchmarks/README.md``), with the derived
tables below inside it. The pack's table names then point into that file, opened read-only, so any
number of kernels share it. The file is keyed by the tables' fingerprints (content and ``pack.yaml``
mapping), the timezone, the DuckDB version and the definitions below; it is written to a temporary
name and renamed under a file lock, so concurrent kernels build it once and never see half a file.
A damaged store file is deleted and rebuilt; when the cache cannot be written the pack keeps
reading its files (a warning says why). Only the :data:`STORE_KEEP` most recently used store files
are kept. :func:`open_pack` attaches an existing store by itself;
the batch (and :func:`opsnb.nb.setup`) build it with :func:`warm`. This module decides when and
where; writing and attaching the file is the local engine's (:meth:`LocalEngine.build_store
<opsnb.pack.engine.LocalEngine.build_store>`, :mod:`opsnb.pack.duckdb_engine`).

**Derived tables.** Most activity measures (DAU, MAU, stickiness, churn, retention, lifecycle,
day-30 retention) only need *which users were active on which local day*, not every event.
``user_days`` holds exactly that: one row per (user, local day) with the number of events, about
3.6× fewer rows than ``events`` on the sample pack, sorted by day so a date filter skips most of
it. It lives in the store; for in-memory and ``.duckdb`` packs (and without the cache) it is a
temporary table in the pack's own connection (:meth:`Engine.materialise
<opsnb.pack.engine.Engine.materialise>`). Definitions are Ibis expressions, so any engine builds them.

**User keys.** Analyses join, group and order by ``user_id`` (funnels, RFM, attribution paths), and
DuckDB does all three faster on integers than on strings (the funnel and RFM queries run 1.6–1.7×
faster at sample scale 10). Every store table with a
``user_id`` column therefore carries :data:`USER_KEY`, the rank of its ``user_id`` among all the
pack's user ids in byte order (DuckDB's order for ``VARCHAR``): equal keys ⇔ equal ids, and ordering
by the key orders by the id. The table names show the contract columns only; :meth:`Pack.keyed
<opsnb.pack.core.Pack.keyed>` adds the key (``user_id`` itself when the pack has no store, so an
analysis written against the key gives the same numbers either way).

**Event blocks.** Most event queries name one event (``visit``, ``register``, ``purchase``) in a
date range. The store copies ``events`` in blocks of :data:`_BATCH_ROWS` rows of the files' order
and, within a block, groups the rows by ``event`` (stable: otherwise in the files' order). DuckDB
keeps each column's min and max per row group of about 122k rows, so a query for one event then
reads only that event's row groups of the blocks in its date range, instead of every row group of
the range (the funnel's SQL at sample scale 10: 43 ms → 26 ms). Rows are only moved within a
block, so date filters still skip whole blocks when the files are in time order.

A derived table is a pure function of its sources: a number computed from it equals the number
computed from the source (``tests/unit/test_derived.py`` checks each against the events table, and
every store table against the file it copies).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from opsnb.pack.engine import EngineError, LocalEngine
from opsnb.pack.problems import problem
from opsnb.paths import atomic_write, cache_dir

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.pack.core import Pack

#: Bump when a derived definition below changes: old cache files are then ignored.
VERSION = "1"
#: Bump when the store's layout changes.
STORE_VERSION = "3"
#: Column of :meth:`Pack.keyed <opsnb.pack.core.Pack.keyed>` tables: the user key (see "User keys").
USER_KEY = "_opsnb_uk"
#: Rows per batch while the store's keyed tables are written (a block of "Event blocks").
_BATCH_ROWS = 1 << 20
#: Store tables whose rows are grouped by a column within each block (see "Event blocks").
CLUSTER = {"events": "event"}
#: Store files kept in the cache: the most recently used ones (one per pack content and timezone).
STORE_KEEP = 8


@dataclass(frozen=True)
class Derived:
    """A derived table: its source tables and the Ibis expression that builds it from them."""

    sources: tuple[str, ...]
    build: Callable[..., ibis.Table]
    doc: str


def _user_days(events: ibis.Table) -> ibis.Table:
    day = events.ts.truncate("D").cast("timestamp")
    return events.group_by(user_id=events.user_id, ts=day).aggregate(n=events.count()).order_by(["ts", "user_id"])


DERIVED: dict[str, Derived] = {
    "user_days": Derived(
        ("events",), _user_days,
        "one row per (user_id, local day ts at midnight) with n = that user's events that day",
    ),
}


def _name(name: str) -> str:
    return f"__derived_{name}"


def _expr(pack: Pack, name: str) -> ibis.Table:
    """Derived table ``name`` as an expression over the pack's whole tables (not a view's restriction)."""
    spec = DERIVED[name]
    return spec.build(*(pack.engine.table(s) for s in spec.sources))


def _local(pack: Pack) -> LocalEngine | None:
    """The pack's engine when it can keep a store (see :class:`~opsnb.pack.engine.LocalEngine`)."""
    return pack.engine if isinstance(pack.engine, LocalEngine) else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (kernels building the same file wait for the first)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the store


def _present(pack: Pack) -> list[str]:
    """Derived tables whose sources the pack has."""
    return [n for n, spec in DERIVED.items() if all(pack.has(s) for s in spec.sources)]


def store_path(pack: Pack) -> Path:
    """The store file of ``pack`` (whether or not it exists yet)."""
    parts = [STORE_VERSION, VERSION, pack.engine.version, pack.tz,
             *(f"{n}={pack.fingerprints.get(n, '')}" for n in pack.names),
             *(f"{n}:{ibis.to_sql(_expr(pack, n))}" for n in _present(pack))]
    return cache_dir() / f"store-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:24]}.duckdb"


def _attach(pack: Pack, engine: LocalEngine, path: Path) -> None:
    """Read every table of the pack from the store ``path`` from now on (raises EngineError when damaged).

    Idempotent per engine: copies of a Pack object (the channel explorer's, the benchmark's)
    share the engine and find the store attached already.
    """
    engine.attach_store(path, [*pack.names, *(_name(d) for d in _present(pack))], key_column=USER_KEY)
    pack.__dict__.pop("_opsnb_keyed_tables", None)  # made before the store was attached: use the key now
    pack.__dict__["_opsnb_store"] = path
    with contextlib.suppress(OSError):
        os.utime(path)  # "recently used", for prune_stores


def prune_stores(keep: int = STORE_KEEP) -> list[Path]:
    """Delete all but the ``keep`` most recently used store files; returns the deleted paths.

    A process still reading a deleted store keeps reading it (the file lives until it is closed).
    """
    def used(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:  # pruned by another process meanwhile
            return 0.0

    stores = sorted(cache_dir().glob("store-*.duckdb"), key=used, reverse=True)
    gone = []
    for old in stores[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
            old.with_suffix(".lock").unlink(missing_ok=True)
            gone.append(old)
    return gone


def _user_tables(pack: Pack) -> list[str]:
    return [n for n in pack.names if "user_id" in pack.engine.columns(n)]


def _write(pack: Pack, tmp: Path) -> None:
    """Write the pack's store into the new file ``tmp`` (through the pack's local engine)."""
    engine = _local(pack)
    if engine is None:  # pragma: no cover - cached packs are read by the local engine
        raise EngineError(f"the {pack.engine.name} engine keeps no store")
    engine.build_store(tmp, tables=pack.names, keyed=_user_tables(pack),
                       derived={_name(d): _expr(pack, d) for d in _present(pack)},
                       key_column=USER_KEY, cluster=CLUSTER, batch_rows=_BATCH_ROWS)


def attach_store(pack: Pack) -> bool:
    """Use the pack's store if it was built already (:func:`open_pack` calls this); True when in use."""
    engine = _local(pack)
    if not pack.cached or engine is None:
        return False
    if "_opsnb_store" in pack.__dict__:
        return True
    path = store_path(pack)
    if not path.is_file():
        return False
    try:
        _attach(pack, engine, path)
    except EngineError:  # damaged (a disk that filled up, a copy cut short): rebuilt by ensure_store
        with contextlib.suppress(OSError), _locked(path.with_suffix(".lock")):  # an unwritable cache too
            path.unlink()
        return False
    return True


def ensure_store(pack: Pack) -> bool:
    """Build the pack's store unless it exists, then use it; False for packs without a cache.

    When the store cannot be written (read-only or full disk) the pack keeps reading its files and
    a ``cache_unwritable`` warning is added to ``pack.warnings``.
    """
    if not pack.cached or "_opsnb_store_failed" in pack.__dict__:
        return False
    if attach_store(pack):
        return True
    path = store_path(pack)
    try:
        with _locked(path.with_suffix(".lock")):
            if not path.is_file():  # another process may have built it while we waited
                atomic_write(path, lambda tmp: _write(pack, tmp))
                prune_stores()
    except Exception as exc:  # noqa: BLE001 - the store is an optimisation: the files still answer
        pack.warnings.append(problem("cache_unwritable", file=path.name, level="warning",
                                     error=f"{type(exc).__name__}: {exc}"))
        pack.__dict__["_opsnb_store_failed"] = True  # once per pack: the next table reads the files at once
        return False
    return attach_store(pack)


# ---------------------------------------------------------------- user keys and derived tables


def keyed(pack: Pack, name: str) -> ibis.Table:
    """Table ``name`` plus :data:`USER_KEY`: the store's integer key, or ``user_id`` itself without a store.

    Raises
    ------
    KeyError
        When table ``name`` has no ``user_id`` column.
    """
    tables: dict[str, ibis.Table] = pack.__dict__.setdefault("_opsnb_keyed_tables", {})
    if name not in tables:
        t = pack.table(name)
        if "user_id" not in t.columns:
            raise KeyError(f"pack table {name!r} has no user_id column")
        engine = _local(pack)  # copies of a Pack share the engine, and so its store
        stored = None if engine is None else engine.keyed_table(name)
        tables[name] = pack.restricted(stored) if stored is not None else t.mutate(**{USER_KEY: t.user_id})
    return tables[name]


def derived(pack: Pack, name: str) -> ibis.Table:
    """The derived table ``name`` of ``pack`` as an Ibis table (built on first use, then reused).

    Raises
    ------
    KeyError
        For an unknown name.
    opsnb.errors.NoData
        When a source table is not in the pack.
    """
    if name not in DERIVED:
        raise KeyError(f"unknown derived table {name!r}; known: {sorted(DERIVED)}")
    spec = DERIVED[name]
    for s in spec.sources:
        pack.table(s)  # raises NoData for an absent source
    done: set[str] = pack.__dict__.setdefault("_opsnb_derived", set())
    if pack.unit is not None:
        # one unit of a shared pack: its own temporary table, built from its rows (the store's is every unit's)
        unit_name = f"{_name(name)}_{hashlib.sha256(repr(pack.unit).encode()).hexdigest()[:10]}"
        if name not in done:
            pack.engine.materialise(unit_name, spec.build(*(pack.table(s) for s in spec.sources)))
            done.add(name)
        return pack.engine.table(unit_name)
    if name not in done:
        if not ensure_store(pack):
            # copies of a Pack object share its engine, and so its temporary table
            pack.engine.materialise(_name(name), _expr(pack, name))
        done.add(name)
    return pack.engine.table(_name(name))


def warm(pack: Pack) -> list[str]:
    """Build the pack's store and every derived table its sources allow (the batch calls this once)."""
    ensure_store(pack)
    built = _present(pack)
    for name in built:
        derived(pack, name)  # from the store, or a temporary table for packs without one
    return built
