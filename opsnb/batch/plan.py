"""A run's plan: its folder, its inputs and their fingerprints, and which pages it reuses or carries forward.

No kernel is started here: :func:`make_plan` decides the run folder and the sections' inputs;
:func:`reuse` brings over the asked-for sections whose inputs are unchanged since an earlier run of the
same review; :func:`carry` brings the newest earlier page of a section this run did not compute (not asked
for, or failed), marked with when it was computed and which of its inputs changed since.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.batch.results import RunResult, SectionResult, now_iso
from opsnb.errors import ParamsError
from opsnb.params import NOTEBOOKS, SECTIONS, Settings, load_params
from opsnb.periods import Period
from opsnb.runfolder import SHOWN


@dataclass
class RunPlan:
    """One run's state as it moves through the phases of :func:`run` (plan, reuse, execute, publish)."""

    settings: Settings
    pack_path: Path
    pack: Any
    period: Period
    root: Path
    nb_dir: Path
    log: Any
    t_start: float
    unit_dir: Path
    target: Path
    run_id: str
    run_dir: Path
    result: RunResult
    params_nb: dict[str, Any]
    header: list[tuple[str, str]]
    toc: str
    chosen: list[str]
    env: dict[str, str]
    started_at: str = ""
    #: the unit's own language (params without ``--lang``): its reviews are published under ``<period>``
    home_lang: str = "zh"
    #: every section of a whole review (``batch.sections``): those not ``chosen`` are carried forward
    full: list[str] = field(default_factory=list)
    code: str = ""
    #: each section's inputs (data, params, code, notebook, lang) as hashes, and their fingerprint
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    prints: dict[str, str | None] = field(default_factory=dict)
    #: earlier finished runs of this unit, period and language, newest first (reuse and carry come from them)
    history: list[rf.RunInfo] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.settings.lang


def code_fingerprint() -> str:
    """A hash of the opsnb package's code and catalogues (a changed helper invalidates reused sections)."""
    import hashlib

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]  # the opsnb package
    for f in sorted(pkg.rglob("*")):
        if f.suffix in (".py", ".yaml", ".j2", ".css", ".json") and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def section_fingerprint(*parts: str) -> str:
    """Inputs of one section: pack fingerprint, settings, notebook, code, language."""
    import hashlib

    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


#: Settings that change how a run is carried out or delivered, never what a page shows: left out of the
#: sections' fingerprints (so ``--sections goals`` or a new webhook does not make the other pages out of date).
NOT_SHOWN = ("batch", "publish", "notify", "alerts", "delivery")


def shown_params(settings: Settings) -> str:
    """The settings that decide what a page shows, as stable text (the ``params`` input of a fingerprint)."""
    data = {k: v for k, v in settings.model_dump(mode="json").items() if k not in NOT_SHOWN}
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The names of the inputs (data, params, code, notebook, lang) that differ; ``inputs`` if unknown."""
    if not old:
        return ["inputs"]
    return [k for k in new if old.get(k) != new[k]]


def home_lang(settings: Settings, root: Path) -> str:
    """The unit's own language: its params (``default.yaml`` and ``<unit>.yaml``) without ``--lang``."""
    try:
        return load_params(unit=settings.unit, root=root).lang
    except ParamsError:  # the unit's files alone may not validate (a required --set): the run's language
        return settings.lang


def make_plan(spec: Any, *, root: Path, nb_dir: Path, log: Any, t_start: float, unit_dir: Path,
          sections: list[str] | None = None) -> RunPlan:
    """The run folder, its ``params.yaml`` (exactly the validated settings), the notebooks' parameters."""
    import hashlib

    import yaml

    from opsnb.render.i18n import t

    settings, pack_path, the_pack, per = spec.settings, spec.pack_path, spec.pack, spec.period
    lang_ = settings.lang
    home = home_lang(settings, root)
    target = unit_dir / rf.published_name(per.label, lang_, home)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{os.urandom(3).hex()}"
    run_dir = unit_dir / rf.RUNS / per.label / run_id
    run_dir.mkdir(parents=True)
    # The kernels load exactly the settings validated here: one YAML file with every setting.
    effective = settings.model_dump(mode="json")
    effective.update(period=per.label, pack=str(pack_path))
    (run_dir / rf.PARAMS).write_text(yaml.safe_dump(effective, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    params_nb = {"period": per.label, "unit": settings.unit, "pack": str(pack_path),
                 "params_file": str(run_dir / rf.PARAMS), "lang": lang_, "run_dir": str(run_dir)}
    started = now.strftime("%Y-%m-%d %H:%M UTC")
    header = [(t("common.unit", lang_), settings.unit_name(lang_)), (t("common.period", lang_), per.label),
              (t("common.generated_at", lang_), started),
              (t("common.data_as_of", lang_), per.clip(the_pack.day_range()[1]).last_day.isoformat())]
    # Kernels inherit these: the project root, and batch mode (explorers render static fallbacks).
    env = dict(os.environ, OPSNB_HOME=str(root), OPSNB_BATCH="1")
    full = [s for s in SECTIONS if s in settings.batch.sections or s in (sections or [])]
    chosen = [s for s in full if s in (sections or full)]
    r = RunPlan(settings, pack_path, the_pack, per, root, nb_dir, log, t_start, unit_dir, target, run_id, run_dir,
             RunResult(settings.unit, per.label, target, run_dir), params_nb, header, t("common.contents", lang_),
             chosen, env, started_at=now_iso(), home_lang=home, full=full)
    r.code = code_fingerprint()
    shown = hashlib.sha256(shown_params(settings).encode()).hexdigest()[:16]
    for s in full:
        nb_text = (nb_dir / NOTEBOOKS[s]).read_text(encoding="utf-8")
        r.inputs[s] = {"data": the_pack.fingerprint, "params": shown, "code": r.code,
                       "notebook": hashlib.sha256(nb_text.encode()).hexdigest()[:16], "lang": lang_}
        r.prints[s] = section_fingerprint(*(f"{k}={v}" for k, v in r.inputs[s].items()))
    finished = [i for i in rf.runs_of(unit_dir, per.label) if i.finished and i.lang == lang_ and i.path != run_dir]
    r.history = sorted(finished, key=lambda i: i.finished_at, reverse=True)
    return r


def page_source(r: RunPlan, section: str) -> tuple[rf.RunInfo, dict[str, Any]] | None:
    """The newest earlier run of this review whose folder holds a page of ``section``, with its record."""
    for info in r.history:
        rec = info.section(section)
        if rec and rec.get("html") and (info.path / rec["html"]).is_file() and (
                rec.get("status") in SHOWN or rec.get("carried_from")):
            return info, rec
    return None


def bring(r: RunPlan, info: rf.RunInfo, rec: dict[str, Any], section: str) -> None:
    """Link (or copy) a section's page and what it handed over from an earlier run folder into this one."""
    for f in (rec["html"], rec.get("notebook") or "", *rf.section_files(section)):
        if f and (info.path / f).is_file():
            rf.link_or_copy(info.path / f, r.run_dir / f)


def reuse(r: RunPlan) -> dict[str, SectionResult]:
    """Chosen sections whose inputs are unchanged since an earlier run of this review: brought over, not executed."""
    reusable: dict[str, SectionResult] = {}
    for sec in r.chosen:
        found = page_source(r, sec)
        if found is None:
            continue
        info, old = found
        if old.get("fingerprint") != r.prints[sec] or old.get("status") not in ("ok", "reused"):
            continue
        bring(r, info, old, sec)
        reusable[sec] = SectionResult(sec, "reused", 0.0, old["html"], old.get("notebook"), fingerprint=r.prints[sec],
                                      reused_from=old.get("reused_from") or info.run_id,
                                      computed_at=old.get("computed_at") or info.finished_at,
                                      computed_in=old.get("computed_in") or info.run_id, inputs=r.inputs[sec])
    return reusable


def carry(r: RunPlan, section: str, failed: SectionResult | None = None) -> SectionResult | None:
    """The newest earlier page of ``section``, brought into this run and marked with when it was computed and
    which of its inputs changed since (out of date). ``failed``: this run's own attempt, which failed — its
    status and error stay, the last good page stands beside them. None when no earlier run has the page.
    """
    found = page_source(r, section)
    if found is None:
        return None
    info, old = found
    bring(r, info, old, section)
    kept = dict(old.get("inputs") or {})
    res = failed or SectionResult(section, "carried", 0.0)
    res.html, res.notebook = old["html"], old.get("notebook")
    res.carried_from = info.run_id
    res.computed_at = old.get("computed_at") or info.finished_at
    res.computed_in = old.get("computed_in") or info.run_id
    res.inputs = kept
    res.fingerprint = old.get("fingerprint")
    res.stale = [] if old.get("fingerprint") == r.prints[section] else changed_inputs(kept, r.inputs[section])
    return res



def settle(r: RunPlan, done: dict[str, SectionResult]) -> None:
    """Every section of the review after the executed ones: the others carried (or never run), a failed one
    beside its last good page; then ``status.json`` (what the summary page reads) and the summary's fingerprint."""
    from dataclasses import asdict

    from opsnb.batch.section import applicability

    for sec in r.full:  # not asked for, or failed this time: the newest earlier page stands, marked
        if sec not in done:
            done[sec] = carry(r, sec) or SectionResult(sec, "skipped", notebook=NOTEBOOKS[sec])
        elif done[sec].status == "failed":
            carry(r, sec, failed=done[sec])
    r.result.sections = [done[s] for s in r.full]
    for res in r.result.sections:
        res.not_applicable = applicability(r.run_dir, res.section) if res.has_page else None
    rf.write_json(r.run_dir / rf.STATUS, [asdict(s) for s in r.result.sections])
    r.prints["summary"] = section_fingerprint(
        *(f"{x.section}:{x.fingerprint}:{_shown_status(x)}:{x.computed_in}:{','.join(x.stale)}"
          for x in r.result.sections),
        r.pack.fingerprint, shown_params(r.settings), r.code, r.lang,
        (r.nb_dir / NOTEBOOKS["summary"]).read_text(encoding="utf-8"))


def _shown_status(res: SectionResult) -> str:
    """A section's status as the summary page shows it: a page reused unchanged reads like the run that computed it
    (:func:`opsnb.sections.summary.section_status`), so a rerun with nothing changed reuses the summary too."""
    return "ok" if res.status == "reused" else res.status


def reused_summary(r: RunPlan) -> SectionResult | None:
    """The summary page of an earlier run when nothing it shows changed (after :func:`settle`), else None."""
    found = page_source(r, "summary")
    if found is None or found[1].get("fingerprint") != r.prints["summary"]:
        return None
    info, old = found
    bring(r, info, old, "summary")
    return SectionResult("summary", "reused", 0.0, rf.INDEX, NOTEBOOKS["summary"], fingerprint=r.prints["summary"],
                         reused_from=info.run_id, computed_at=old.get("computed_at") or info.finished_at,
                         computed_in=old.get("computed_in") or info.run_id)
