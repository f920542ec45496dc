"""Publishing a run: its facts and manifest, then (when publishable) the ledger, the atomic swap, pruning, links."""

from __future__ import annotations

import platform
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from opsnb import facts
from opsnb import runfolder as rf
from opsnb.batch.plan import RunPlan
from opsnb.batch.results import SectionResult, now_iso


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("opsnb", "pandas", "ibis-framework", "duckdb", "papermill", "nbconvert", "seaborn", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    return out


def _git_commit(root: Path) -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None



def append_ledger(r: RunPlan, goals: SectionResult | None) -> None:
    """Record the published KPI values in ``outputs/<unit>/ledger.parquet`` (restatements show next time).

    Only when this run computed (or re-published unchanged) the goals page: a carried page published nothing new.
    """
    kpis = rf.read_kpis(r.run_dir)
    if goals is None or goals.status not in ("ok", "reused") or kpis is None:
        return
    from opsnb.metrics.ledger import appended

    with rf.ledger_lock(r.unit_dir, r.log):  # runs of other periods append too
        ledger, _ = appended(rf.read_ledger(r.unit_dir), r.settings.unit, r.period.label, kpis, r.run_id, now_iso())
        rf.write_ledger(r.unit_dir, ledger)



def publishable(r: RunPlan, summary: SectionResult) -> str | None:
    """Why this run is not published (None: it is): readers keep the review they had."""
    if not summary.ok or not (r.run_dir / rf.INDEX).is_file():
        return "the summary page failed"
    if not any(s.status in ("ok", "reused") for s in r.result.sections if s.section in r.chosen):
        return "every section asked for failed"
    return None


def semantic_check(r: RunPlan, shown: list[facts.Fact]) -> list[str]:
    """The semantic invariants (:mod:`opsnb.invariants`) over the run's facts, one line per violation.

    The plan rule compares with the targets the next review will resolve: the kpis table, then the plan
    targets this run publishes (``plan_targets.csv``) where the table has none.
    """
    from opsnb import invariants as inv
    from opsnb.errors import NoData, ParamsError
    from opsnb.metrics.kpi_targets import resolve_target, target_table

    extra = rf.read_plan_targets(r.run_dir)
    extra = extra if len(extra) else None
    try:
        targets = target_table(r.pack, extra)
    except NoData:
        targets = None

    def target_of(key: str, period: Any) -> float | None:
        try:
            kpi = r.settings.kpi(key)
        except ParamsError:
            return None
        return None if targets is None else resolve_target(targets, kpi, period).value

    scope = inv.scope_of(r.settings, r.period, r.pack.day_range()[1], target_of)
    return inv.describe(inv.check(shown, scope))


def _manifest(r: RunPlan, shown: list[facts.Fact], clashes: list[str], broken: list[str]) -> dict[str, Any]:
    result = r.result
    return {
        "unit": r.settings.unit, "period": r.period.label, "lang": r.lang, "home_lang": r.home_lang,
        "published_as": r.target.name, "run_id": r.run_id, "started_at": r.started_at,
        "finished_at": now_iso(), "duration_s": result.duration_s, "ok": result.ok,
        "complete": all(s.has_page for s in result.sections),
        "asked": r.chosen, "params": r.settings.model_dump(mode="json"),
        "pack": {"path": str(r.pack_path), "engine": r.pack.engine.name, "fingerprint": r.pack.fingerprint,
                 "tables": r.pack.fingerprints},
        "versions": _versions(), "git_commit": _git_commit(r.root),
        "sections": [asdict(s) for s in result.sections],
        "facts": {"file": facts.FILE, "count": len(shown), "conflicts": clashes},
        "invariants": {"violations": broken},
        "published": False, "pruned": [],
    }


def publish_run(r: RunPlan, done: dict[str, SectionResult], summary: SectionResult) -> None:
    """The run's facts and manifest, then (when publishable) the ledger, the atomic swap, pruning, links, archive.

    Pruning runs after the swap (the new review is linked before anything old goes) and is logged in this
    run's manifest; the links between reviews and the archive page are refreshed last. A kill at any point
    leaves every published review whole: the swap is one ``os.replace``; a pruned folder is renamed first.
    """
    from opsnb import archive

    result = r.result
    result.sections.insert(0, summary)
    result.duration_s = round(time.perf_counter() - r.t_start, 2)
    shown = facts.merge(r.run_dir)
    clashes = facts.describe(facts.conflicts(shown))
    for line in clashes:
        r.log(f"warning: one figure, two values: {line}")
    broken = semantic_check(r, shown)
    for line in broken:
        r.log(f"warning: an analyst would query: {line}")
    manifest = _manifest(r, shown, clashes, broken)
    why_not = publishable(r, summary)
    manifest["published"] = why_not is None
    rf.write_json(r.run_dir / rf.MANIFEST, manifest)
    if why_not is not None:
        r.log(f"{why_not}: {r.target} keeps its previous review; this run is in {r.run_dir}")
    else:
        append_ledger(r, done.get("goals"))
        rf.publish_link(r.run_dir, r.target)
    try:  # the review is published (or kept): what follows tidies up and must not turn the run into a failure
        manifest["pruned"] = rf.prune(r.unit_dir, r.period.label, keep=r.settings.publish.keep_runs,
                                      current=r.run_dir, log=r.log)
        if manifest["pruned"]:
            rf.write_json(r.run_dir / rf.MANIFEST, manifest)
        if why_not is None:
            archive.refresh(r.root, unit=r.settings.unit, period=r.period.label, log=r.log)
    except OSError as exc:
        r.log(f"warning: the review is published, but tidying up failed ({exc.strerror or exc}: {exc.filename}); "
              "the next run prunes and rebuilds the archive")
