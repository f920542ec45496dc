"""Open a pack (folder of files or a .duckdb file) as an Ibis DuckDB connection."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis
import pandas as pd

from opsnb.errors import NoData, PackError, Problem
from opsnb.pack.coerce import coerce_frame
from opsnb.pack.schemas import SCHEMAS
from opsnb.paths import cache_dir

CACHE_VERSION = "1"
SUFFIXES = (".parquet", ".csv", ".tsv", ".xlsx")


@dataclass
class Pack:
    """An opened data pack: an Ibis connection with one table per present pack table."""

    con: ibis.BaseBackend
    tz: str = "Asia/Shanghai"
    source: str = "<memory>"
    fingerprints: dict[str, str] = field(default_factory=dict)
    _names: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Names of the contract tables present in this pack."""
        return list(self._names)

    def has(self, name: str) -> bool:
        """Whether table ``name`` is present (and non-empty)."""
        return name in self._names

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name``; raises :class:`NoData` when the pack has no such table."""
        if name not in SCHEMAS:
            raise KeyError(f"unknown pack table {name!r}; known: {sorted(SCHEMAS)}")
        if name not in self._names:
            raise NoData(name, "table not in pack")
        return self.con.table(name)

    @property
    def fingerprint(self) -> str:
        """One hash over every table's content hash (for manifests and run caching)."""
        h = hashlib.sha256()
        for k in sorted(self.fingerprints):
            h.update(f"{k}={self.fingerprints[k]};".encode())
        return h.hexdigest()[:16]

    def day_range(self) -> tuple[date | None, date | None]:
        """First and last local day with activity (events or orders)."""
        lo: list[date] = []
        hi: list[date] = []
        for name in ("events", "orders"):
            if self.has(name):
                t = self.table(name)
                r = t.aggregate(lo=t.ts.min(), hi=t.ts.max()).execute()
                if pd.notna(r["lo"][0]):
                    lo.append(pd.Timestamp(r["lo"][0]).date())
                    hi.append(pd.Timestamp(r["hi"][0]).date())
        return (min(lo) if lo else None, max(hi) if hi else None)

    @property
    def last_day(self) -> date | None:
        """Last local day with activity."""
        return self.day_range()[1]


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _find_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in SUFFIXES or p.name.startswith((".", "~$")):
            continue
        name = p.stem
        if name not in SCHEMAS:
            continue
        if name in found:
            problems.append(Problem(str(p), f"table '{name}' given twice", p.name, f"one file; also {found[name].name}"))
            continue
        found[name] = p
    return found, problems


def read_raw(path: Path) -> pd.DataFrame:
    """Read a pack file as text columns (CSV/TSV/XLSX) or typed columns (Parquet)."""
    suf = path.suffix.lower()
    if suf == ".parquet":
        return pd.read_parquet(path)
    if suf == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    sep = "\t" if suf == ".tsv" else ","
    return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")


def _ingest_file(name: str, path: Path, tz: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    raw = read_raw(path)
    if raw.empty:
        return None, [Problem(str(path), "no rows", None, "a header line and at least one row")]
    return coerce_frame(raw, SCHEMAS[name], tz=tz, where=str(path))


def _cached(name: str, path: Path, tz: str, use_cache: bool) -> tuple[Path | pd.DataFrame | None, str, list[Problem]]:
    digest = _hash_file(path)
    key = hashlib.sha256(f"{CACHE_VERSION}|{name}|{tz}|{digest}".encode()).hexdigest()[:24]
    target = cache_dir() / f"{name}-{key}.parquet"
    if use_cache and target.is_file():
        return target, digest, []
    df, problems = _ingest_file(name, path, tz)
    if problems or df is None:
        return None, digest, problems
    if not use_cache:
        return df, digest, []
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{id(df)}")
    df.to_parquet(tmp, index=False)
    tmp.replace(target)
    return target, digest, []


def open_pack(path: str | Path, *, tz: str = "Asia/Shanghai", use_cache: bool = True) -> Pack:
    """Open a pack folder (or ``.duckdb`` file); raise :class:`PackError` listing every problem."""
    src = Path(path)
    if not src.exists():
        raise PackError([Problem(str(src), "pack not found", None,
                                 "a folder of CSV/TSV/XLSX/Parquet files or a .duckdb file (run `opsnb sample` for one)")])
    if src.is_file() and src.suffix == ".duckdb":
        con = ibis.duckdb.connect(str(src), read_only=True)
        names = [n for n in con.list_tables() if n in SCHEMAS]
        return Pack(con, tz, str(src), {n: "duckdb" for n in names}, names)
    files, problems = _find_files(src)
    if "kpis" not in files:
        problems.append(Problem(str(src), "the pack has no kpis table", None, "a file kpis.csv (metric, period, target)"))
    con = ibis.duckdb.connect()
    names, prints = [], {}
    for name, p in files.items():
        obj, digest, probs = _cached(name, p, tz, use_cache)
        problems += probs
        prints[name] = digest[:16]
        if obj is None:
            continue
        if isinstance(obj, Path):
            con.read_parquet(obj, table_name=name)
        else:
            con.create_table(name, obj)
        names.append(name)
    if problems:
        raise PackError(problems)
    return Pack(con, tz, str(src), prints, sorted(names))


def validate_pack(path: str | Path, *, tz: str = "Asia/Shanghai") -> list[Problem]:
    """Every problem of a pack, without raising (for ``opsnb validate``)."""
    try:
        open_pack(path, tz=tz)
    except PackError as exc:
        return exc.problems
    return []


def from_frames(frames: dict[str, pd.DataFrame], *, tz: str = "Asia/Shanghai") -> Pack:
    """A pack from in-memory frames (tests, notebooks), coerced exactly as files are."""
    con = ibis.duckdb.connect()
    problems: list[Problem] = []
    names = []
    for name, df in frames.items():
        if name not in SCHEMAS:
            raise KeyError(f"unknown pack table {name!r}; known: {sorted(SCHEMAS)}")
        typed, probs = coerce_frame(df, SCHEMAS[name], tz=tz, where=f"<{name}>")
        problems += probs
        if not probs:
            con.create_table(name, typed)
            names.append(name)
    if problems:
        raise PackError(problems)
    return Pack(con, tz, "<memory>", {n: "memory" for n in names}, sorted(names))
