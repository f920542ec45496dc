"""A unit's published reviews and their run folders: the layout, the names, one atomic writer.

Layout of ``outputs/``::

    outputs/index.html                        the archive: every unit × period × language (opsnb.archive)
    outputs/<unit>/<period>                   → .runs/<period>/<run id>  (the unit's language; a symlink)
    outputs/<unit>/<period>.<lang>            → .runs/<period>/<run id>  (another language, side by side)
    outputs/<unit>/.runs/<period>/<run id>/   one run: index.html, 01_goals.html …, manifest.json, facts.json …
    outputs/<unit>/ledger.parquet             KPI values of every publication
    outputs/<unit>/.<period>.lock             held while a run works on that period (any language)
    outputs/_group/<period>[.<lang>]          the group roll-up, published the same way

A published link is swapped with one ``os.replace``, so a reader sees the old complete review or the new
one. A run folder says what it is in its ``manifest.json`` (unit, period, language, run id, whether it is
complete); pruning and the archive read that, never a folder name's prefix (``2026`` is a prefix of
``2026-10``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsnb.errors import LockedError
from opsnb.paths import atomic_write

__all__ = [
    "INDEX", "MANIFEST", "RUNS", "SHOWN", "Lock", "RunInfo", "atomic_write", "atomic_write_text", "link_or_copy",
    "newest_complete", "parse_published_name", "prune", "publish_link", "published", "published_name",
    "read_json", "read_run", "runs_of", "write_json",
]

#: The page readers open first, in every run folder (and the archive's name under ``outputs/``).
INDEX = "index.html"
#: What a run did: unit, period, language, sections and their status, inputs, facts, pruning.
MANIFEST = "manifest.json"
#: The sections' status for the summary page (written before it runs).
STATUS = "status.json"
#: The folder of a unit's run folders.
RUNS = ".runs"
#: Section statuses whose page is in the run folder and current as far as the run knows
#: (``carried``: copied from an earlier run of the same review, possibly out of date).
SHOWN = frozenset({"ok", "reused", "carried"})

_LEGACY = re.compile(r"^(?P<period>\d{4}(?:-(?:0[1-9]|1[0-2]|Q[1-4]))?)-\d{8}T\d{6}-")
_PUBLISHED = re.compile(r"^(?P<period>\d{4}(?:-(?:0[1-9]|1[0-2]|Q[1-4]))?)(?:\.(?P<lang>[a-z]{2}))?$")


# ---------------------------------------------------------------- writing


class Lock:
    """An exclusive lock on a file (``fcntl.flock``): a second holder waits or fails fast.

    Held on ``outputs/<unit>/.<period>.lock`` while a run works on that period (any language), on
    ``outputs/<unit>/.ledger.lock`` while the ledger is appended and on ``outputs/.archive.lock`` while links
    and the archive page are rewritten. The error of a second holder that does not wait names the folder.
    """

    def __init__(self, path: Path, *, wait: bool, log: Any):
        self.path, self.wait, self.log = path, wait, log
        self.fd: int | None = None

    def __enter__(self) -> Lock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.wait:
                os.close(self.fd)
                raise LockedError(f"another opsnb run is writing {self.path.parent}; it holds {self.path}. "
                                  "Wait for it, or rerun without --no-wait to queue behind it.") from None
            self.log(f"waiting for another run to finish with {self.path.parent} …")
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)



def atomic_write_text(target: Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(target: Path, obj: Any) -> None:
    """:func:`atomic_write` of ``obj`` as indented UTF-8 JSON (non-JSON values as their text)."""
    atomic_write_text(target, json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing or unreadable (a run killed mid-write)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (no bytes copied), else a copy (another file system)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish_link(run_dir: Path, target: Path) -> None:
    """Point ``target`` at ``run_dir`` with one atomic ``os.replace`` of a relative symlink.

    Readers of ``target`` see the old complete folder or the new one, never a mix. A plain folder
    already at ``target`` (an older layout) is kept, moved under ``.runs`` as ``<name>-legacy-<time>``.
    """
    import time

    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_symlink():
        legacy = target.parent / RUNS / f"{target.name}-legacy-{int(time.time())}"
        legacy.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, legacy)
    tmp = target.parent / f".{target.name}.link-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(run_dir, target.parent), tmp)
    os.replace(tmp, target)


# ---------------------------------------------------------------- artefacts

# Every file a run leaves in its folder, and a unit beside its runs, is named here and read and written through
# the functions below; no other module spells one (tests/unit/test_runfolder.py greps for them).

#: The KPI values the goals page showed, for the ledger and the group roll-up (one row per KPI).
KPIS = "kpis.parquet"
#: The targets this review's plan proposes; the next review's goals read them where the kpis table has none.
PLAN_TARGETS = "plan_targets.csv"
#: Every shown figure of the run, merged from the sections' records.
FACTS = "facts.json"
#: The run's resolved parameters (what every kernel of the run reads).
PARAMS = "params.yaml"
#: The group roll-up's data (``outputs/_group/<period>``), what its page shows.
ROLLUP = "rollup.json"
#: Beside a unit's runs: every published KPI value (:mod:`opsnb.metrics.ledger`) and what was sent where.
LEDGER = "ledger.parquet"
DELIVERIES = "deliveries.json"
#: What each section records for the run as it executes: its shown figures, whether each subsection had data,
#: what it asked of the engine (``<kind>-<section>.json``).
RECORDS = ("facts", "outcomes", "usage")

#: The hand-offs a section leaves for the summary page and delivery (``handoff-<name>.json``), and the other
#: artefacts it writes: all copied with its page when the section is reused or carried.
HANDOFFS = {"goals": ("kpi_cards", "wins", "kpis"), "problems": ("top_problems", "problems"),
            "plan": ("next_actions", "actions")}
_WRITES = {"goals": (KPIS,), "plan": (PLAN_TARGETS,)}

LEDGER_COLUMNS = ["unit", "period", "metric", "value", "target", "attainment", "status", "run_id", "published_at"]
PLAN_TARGET_COLUMNS = ["metric", "period", "target", "source"]


def handoff(folder: Path, name: str) -> Path:
    """The hand-off ``name`` in a run (or published) folder."""
    return folder / f"handoff-{name}.json"


def write_handoff(run_dir: Path, name: str, value: Any) -> None:
    """Write hand-off ``name`` (numpy scalars as Python values, other objects as their text), atomically."""
    def plain(o: Any) -> Any:
        return o.item() if hasattr(o, "item") else str(o)

    atomic_write_text(handoff(run_dir, name), json.dumps(value, ensure_ascii=False, default=plain))


def read_handoff(folder: Path, name: str) -> Any:
    """Hand-off ``name``; None when the section left none. A damaged one is a clear error naming the file."""
    from opsnb.errors import OpsnbError

    path = handoff(folder, name)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise OpsnbError(f"{path}: not valid JSON ({exc}); rerun the review to rewrite it") from None


def record(run_dir: Path, kind: str, section: str) -> Path:
    """What ``section`` recorded of ``kind`` (one of :data:`RECORDS`) in a run folder."""
    if kind not in RECORDS:
        raise ValueError(f"no record {kind!r}: one of {RECORDS}")
    return run_dir / f"{kind}-{section}.json"


def records(run_dir: Path, kind: str) -> list[Path]:
    """Every section's record of ``kind`` in a run folder, by file name."""
    return sorted(run_dir.glob(record(run_dir, kind, "*").name))


def write_record(run_dir: Path, kind: str, section: str, obj: Any, *, indent: int | None = None) -> None:
    """Write ``section``'s record of ``kind`` atomically (a kernel killed mid-write leaves the previous one)."""
    atomic_write_text(record(run_dir, kind, section), json.dumps(obj, ensure_ascii=False, indent=indent))


def read_record(run_dir: Path, kind: str, section: str) -> Any:
    """``section``'s record of ``kind``, or None when it left none (or it is unreadable)."""
    return read_json(record(run_dir, kind, section))


def section_files(section: str) -> tuple[str, ...]:
    """The files besides its page and notebook that ``section`` leaves in a run folder (brought along with it)."""
    return (*(record(Path(), k, section).name for k in RECORDS),
            *(handoff(Path(), n).name for n in HANDOFFS.get(section, ())), *_WRITES.get(section, ()))


def write_kpis(run_dir: Path, df: Any) -> None:
    """The goals page's KPI values (``opsnb.metrics.kpis.attainment``'s frame) for the ledger and the roll-up."""
    atomic_write(run_dir / KPIS, lambda p: df.to_parquet(p, index=False))


def read_kpis(folder: Path) -> Any:
    """The KPI values a run (or published review) left; None when its goals page left none."""
    import pandas as pd

    path = folder / KPIS
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError):
        return None


def read_manifest(folder: Path) -> Any:
    """A run's (or published review's) manifest, or None when it has none or it is unreadable."""
    return read_json(folder / MANIFEST)


def ledger(unit_dir: Path) -> Path:
    """A unit's KPI ledger (beside its runs)."""
    return unit_dir / LEDGER


def deliveries(unit_dir: Path) -> Path:
    """A unit's send log (beside its runs)."""
    return unit_dir / DELIVERIES


def read_ledger(unit_dir: Path) -> Any:
    """A unit's ledger, typed (:data:`LEDGER_COLUMNS`); empty with those columns when it has none."""
    import pandas as pd

    path = ledger(unit_dir)
    return _typed_ledger(pd.read_parquet(path)) if path.is_file() else _typed_ledger(
        pd.DataFrame({c: [] for c in LEDGER_COLUMNS}))


def write_ledger(unit_dir: Path, df: Any) -> None:
    """Replace a unit's ledger with ``df`` (typed first), atomically; the caller holds the ledger lock."""
    frame = _typed_ledger(df)
    atomic_write(ledger(unit_dir), lambda p: frame.to_parquet(p, index=False))


def ledger_lock(unit_dir: Path, log: Any) -> Lock:
    """The lock held while a unit's ledger is read and rewritten (runs of other periods append too)."""
    return Lock(unit_dir / ".ledger.lock", wait=True, log=log)


def _typed_ledger(df: Any) -> Any:
    import pandas as pd

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


def write_plan_targets(run_dir: Path, df: Any) -> Path:
    """The targets this review's plan proposes (:data:`PLAN_TARGET_COLUMNS`), atomically; returns the path."""
    missing = [c for c in PLAN_TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"plan targets need columns {PLAN_TARGET_COLUMNS}; missing {missing}")
    path = run_dir / PLAN_TARGETS
    frame = df[PLAN_TARGET_COLUMNS]
    atomic_write(path, lambda p: frame.to_csv(p, index=False, float_format="%.10g", encoding="utf-8"))
    return path


def read_plan_targets(folder: Path) -> Any:
    """The plan targets a run (or published review) left, typed; empty with the columns when it left none."""
    import pandas as pd

    path = folder / PLAN_TARGETS
    if not path.is_file():
        return pd.DataFrame({"metric": pd.Series(dtype="string"), "period": pd.Series(dtype="string"),
                             "target": pd.Series(dtype="float64"), "source": pd.Series(dtype="string")})
    df = pd.read_csv(path, dtype={"metric": "string", "period": "string", "source": "string"},
                     keep_default_na=False, encoding="utf-8")
    df["target"] = df["target"].astype("float64")
    return df[PLAN_TARGET_COLUMNS]


def previous_plan_targets(unit_dir: Path, label: str, previous: str) -> Any:
    """The targets for period ``label`` that the review of period ``previous`` published (the unit's home language;
    empty when it published none)."""
    df = read_plan_targets(unit_dir / previous)
    return df[df["period"] == label].reset_index(drop=True)


def unit_inputs(unit_dir: Path, previous: str) -> dict[str, Path]:
    """What a unit's section reads from the unit's folder besides the pack: the ledger and the previous review's
    plan targets, by path relative to the unit's folder (what the Dask path ships to a worker)."""
    out = {LEDGER: ledger(unit_dir), f"{previous}/{PLAN_TARGETS}": unit_dir / previous / PLAN_TARGETS}
    return {rel: p for rel, p in out.items() if p.is_file()}


def summary_inputs(run_dir: Path) -> dict[str, Path]:
    """What the summary page reads from its run folder: the sections' hand-offs and records and the status."""
    names = [STATUS, *(handoff(run_dir, n).name for ns in HANDOFFS.values() for n in ns)]
    out = {n: run_dir / n for n in names} | {p.name: p for k in RECORDS for p in records(run_dir, k)}
    return {n: p for n, p in out.items() if p.is_file()}


# ---------------------------------------------------------------- names


def published_name(label: str, lang: str, home_lang: str) -> str:
    """The published link of a review: ``2026-10`` in the unit's language, ``2026-10.en`` in another."""
    return label if lang == home_lang else f"{label}.{lang}"


def parse_published_name(name: str) -> tuple[str, str | None] | None:
    """``"2026-10.en"`` → ``("2026-10", "en")``; ``"2026-10"`` → ``("2026-10", None)`` (the unit's language);
    None for anything else (``.runs``, ``ledger.parquet``, lock files)."""
    m = _PUBLISHED.match(name)
    return None if m is None else (m["period"], m["lang"])


# ---------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunInfo:
    """What a run folder says of itself (its manifest); ``manifest`` is empty for a run that never finished."""

    path: Path
    period: str
    manifest: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.path.name)

    @property
    def lang(self) -> str | None:
        lang = self.manifest.get("lang") or (self.manifest.get("params") or {}).get("lang")
        return str(lang) if lang else None

    @property
    def finished(self) -> bool:
        """Whether the run wrote its manifest (a run killed before that left debris, never a review)."""
        return bool(self.manifest)

    @property
    def finished_at(self) -> str:
        return str(self.manifest.get("finished_at") or "")

    @property
    def complete(self) -> bool:
        """Every section of the review has its page, and the index is there: a review a reader can open whole."""
        if not self.finished or not (self.path / INDEX).is_file():
            return False
        if "complete" in self.manifest:
            return bool(self.manifest["complete"])
        return bool(self.manifest.get("ok"))  # a manifest of an earlier layout: complete when every section was ok

    def section(self, name: str) -> dict[str, Any] | None:
        """The manifest's record of section ``name`` (None: not in this run)."""
        return next((s for s in self.manifest.get("sections", []) if s.get("section") == name), None)


def read_run(path: Path, period: str | None = None) -> RunInfo:
    """The :class:`RunInfo` of run folder ``path`` (its manifest, if it finished)."""
    manifest = read_json(path / MANIFEST)
    manifest = manifest if isinstance(manifest, dict) else {}
    return RunInfo(path, str(manifest.get("period") or period or path.parent.name), manifest)


def runs_of(unit_dir: Path, period: str) -> list[RunInfo]:
    """Every run folder of ``period`` in ``unit_dir/.runs`` (both layouts), oldest first."""
    runs = unit_dir / RUNS
    found = [p for p in (runs / period).glob("*") if p.is_dir() and not p.name.startswith(".")]
    found += [p for p in runs.glob(f"{period}-*") if p.is_dir() and (m := _LEGACY.match(p.name)) and m["period"] == period]
    infos = [read_run(p, period) for p in found]
    return sorted(infos, key=lambda r: (r.finished_at or "~", r.path.name))


def published(unit_dir: Path) -> dict[str, Path]:
    """The unit's published links (``2026-10``, ``2026-10.en`` …) and the run folders they point at."""
    out: dict[str, Path] = {}
    if not unit_dir.is_dir():
        return out
    for p in unit_dir.iterdir():
        if p.is_symlink() and parse_published_name(p.name) is not None and p.exists():
            out[p.name] = p.resolve()
    return out


def newest_complete(unit_dir: Path, period: str, lang: str) -> RunInfo | None:
    """The newest complete run of ``period`` in ``lang``: what a partial run completes itself from."""
    done = [r for r in runs_of(unit_dir, period) if r.lang == lang and r.complete]
    return done[-1] if done else None


def prune(unit_dir: Path, period: str, *, keep: int, current: Path,
          log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Delete old run folders of ``period`` so at most ``keep`` remain per language; returns what was deleted.

    Never deleted: a run any published link of the unit points at, the newest complete run of each
    language, ``current``. A run that never finished (killed) is debris and goes first. A folder is
    renamed before it is removed, so a kill mid-way leaves a ``.trash-*`` folder, never half a review.
    """
    linked = set(published(unit_dir).values())
    runs = runs_of(unit_dir, period)
    protected = {current.resolve(), *linked}
    for lang in {r.lang for r in runs}:
        newest = [r for r in runs if r.lang == lang and r.complete]
        if newest:
            protected.add(newest[-1].path.resolve())
    gone: list[dict[str, Any]] = []
    by_lang: dict[str | None, list[RunInfo]] = {}
    for r in runs:
        by_lang.setdefault(r.lang if r.finished else None, []).append(r)
    for lang, rs in by_lang.items():
        budget = 0 if lang is None else keep  # unfinished runs are never kept for their own sake
        kept = [r for r in rs if r.path.resolve() in protected]
        others = [r for r in rs if r.path.resolve() not in protected]
        excess = max(0, len(others) + len(kept) - budget)
        for r in others[:excess]:  # oldest first
            _remove(r.path)
            gone.append({"run_id": r.run_id, "lang": r.lang, "finished_at": r.finished_at or None,
                         "complete": r.complete if r.finished else False})
            if log is not None:
                log(f"pruned {r.path.name} ({r.lang or 'unfinished'})")
    _empty_trash(unit_dir / RUNS)
    for tmp in [*unit_dir.glob(f".{period}.link-*"), *unit_dir.glob(f".{period}.*.link-*")]:
        if tmp.is_symlink():  # a swap killed between its new link and the os.replace (we hold the period's lock)
            tmp.unlink()
    return gone


def _remove(path: Path) -> None:
    trash = path.parent / f".trash-{path.name}"
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _empty_trash(runs: Path) -> None:
    """Finish removals a killed run left half done."""
    for trash in [*runs.glob(".trash-*"), *runs.glob("*/.trash-*")]:
        shutil.rmtree(trash, ignore_errors=True)


def units_of(outputs: Path, skip: Iterable[str] = ()) -> list[Path]:
    """The unit folders under ``outputs`` (not hidden, not ``_group``-like, not in ``skip``), sorted."""
    if not outputs.is_dir():
        return []
    return sorted(p for p in outputs.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "_")) and p.name not in skip)
