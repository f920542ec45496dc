"""Derived tables: small, exact summaries of a pack's big tables, built once per pack content.

Most activity measures (DAU, MAU, stickiness, churn, retention, lifecycle, day-30 retention) only
need *which users were active on which local day*, not every event. ``user_days`` holds exactly
that — one row per (user, local day) with the number of events — about 3.6× fewer rows than
``events`` on the sample pack, sorted by day so a date filter skips most of the file.

Where it lives:

* folder packs opened with the cache: a Parquet file in :func:`opsnb.paths.cache_dir` keyed by
  the source tables' content hashes, the timezone and :data:`VERSION`, written atomically under a
  file lock, so the batch builds it once and every section kernel (and the next run) reads it;
* in-memory packs and ``.duckdb`` packs: a temporary table in the pack's own connection.

A derived table is a pure function of its sources: a number computed from it equals the number
computed from the source (``tests/unit/test_derived.py`` checks each against the events table).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsnb.pack.core import _atomic_write, _sql_str
from opsnb.paths import cache_dir

if TYPE_CHECKING:  # pragma: no cover
    import ibis

    from opsnb.pack.core import Pack

#: Bump when a definition below changes: old cache files are then ignored.
VERSION = "1"


@dataclass(frozen=True)
class Derived:
    """A derived table: its source tables and the SQL that builds it from them."""

    sources: tuple[str, ...]
    sql: str
    doc: str


DERIVED: dict[str, Derived] = {
    "user_days": Derived(
        ("events",),
        'SELECT user_id, CAST(date_trunc(\'day\', ts) AS TIMESTAMP) AS ts, count(*) AS n '
        'FROM "events" GROUP BY ALL ORDER BY ts, user_id',
        "one row per (user_id, local day ts at midnight) with n = that user's events that day",
    ),
}


def _name(name: str) -> str:
    return f"__derived_{name}"


def _key(pack: Pack, name: str, spec: Derived) -> str:
    parts = [VERSION, name, pack.tz, spec.sql, *(f"{s}={pack.fingerprints.get(s, '')}" for s in spec.sources)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (kernels building the same table wait for the first)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
    rel = _name(name)
    if name not in done:
        duck = pack.con.con  # type: ignore[attr-defined]
        if pack.cached:
            target = cache_dir() / f"derived-{name}-{_key(pack, name, spec)}.parquet"
            if not target.is_file():
                with _locked(target.with_suffix(".lock")):
                    if not target.is_file():  # another process may have built it while we waited
                        _atomic_write(target, lambda tmp: duck.execute(
                            f"COPY ({spec.sql}) TO {_sql_str(str(tmp))} (FORMAT parquet)"))
            duck.execute(f'CREATE OR REPLACE VIEW "{rel}" AS SELECT * FROM read_parquet({_sql_str(str(target))})')
        else:
            duck.execute(f'CREATE OR REPLACE TEMP TABLE "{rel}" AS {spec.sql}')
        done.add(name)
    return pack.con.table(rel)


def warm(pack: Pack) -> list[str]:
    """Build every derived table whose sources the pack has (the batch calls this once up front)."""
    built = []
    for name, spec in DERIVED.items():
        if all(pack.has(s) for s in spec.sources):
            derived(pack, name)
            built.append(name)
    return built
