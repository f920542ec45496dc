"""A proposal as text: the ``pack.yaml`` it proposes (evidence as comments, candidates commented out) and the
report ``opsnb map`` prints (what was found, with evidence and confidence, then what remains to fix).

Every sentence comes from the ``onboard`` catalogue (``opsnb/i18n/<lang>/onboard.yaml``).
"""

from __future__ import annotations

import yaml

from opsnb.errors import Problem
from opsnb.onboard.propose import ColumnProposal, Evidence, Proposal, TableProposal
from opsnb.pack.problems import format_problems, is_error
from opsnb.pack.schemas import SCHEMAS
from opsnb.render.i18n import t

#: Tables a pack must have (``opsnb.pack`` reports a pack without one: ``no_kpis``).
REQUIRED_TABLES = ("kpis",)
#: Validation warnings the report leaves out: the "not used" lines say the same.
QUIET_CODES = ("extra_column", "unknown_file")


def _ev(e: Evidence, lang: str) -> str:
    return t(f"onboard.{e.code}", lang, **e.kw).replace("\n", " ")


def _evs(items: list[Evidence], lang: str) -> str:
    return ("；" if lang == "zh" else "; ").join(_ev(e, lang) for e in items)


def _q(text: str) -> str:
    """``text`` as a YAML scalar (quoted only when it must be)."""
    return yaml.safe_dump(text, allow_unicode=True, width=10_000).removesuffix("...\n").strip()


def _cands(cands: list, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(f"{c.header} ({c.score:.2f})" for c in cands)


def _label(tp: TableProposal) -> str:
    return tp.source.label


# ---------------------------------------------------------------- pack.yaml


def _column_lines(cp: ColumnProposal, lang: str) -> list[str]:
    if cp.state == "mapped" and cp.chosen is not None:
        if cp.chosen.header == cp.column:
            return [f"# {cp.column}: {_evs(cp.chosen.evidence, lang)}"]
        return [f"{_q(cp.chosen.header)}: {cp.column}  # {cp.chosen.score:.2f} {_evs(cp.chosen.evidence, lang)}"]
    if cp.state in ("ambiguous", "weak"):
        cands = ([cp.chosen] if cp.chosen else []) + cp.others
        if cp.state == "ambiguous":
            cands = [c for c in cands if c.score >= (cp.chosen.score if cp.chosen else 0) - 0.1]
        key = "onboard.yaml.ambiguous" if cp.state == "ambiguous" else "onboard.yaml.weak"
        return [f"# {t(key, lang, column=cp.column)}"] + [
            f"# {_q(c.header)}: {cp.column}  # {c.score:.2f} {_evs(c.evidence, lang)}" for c in cands]
    if cp.state == "left_out" and cp.chosen is not None and cp.why is not None:
        return [f"# {t('onboard.yaml.left_out', lang, column=cp.column, why=_ev(cp.why, lang))}"]
    if cp.state == "missing" and cp.required:
        return [f"# {t('onboard.yaml.missing', lang, column=cp.column)}"]
    return []


def _block(tp: TableProposal, lang: str) -> list[str]:
    out = [f"{tp.table}:  # {tp.score:.2f} {_evs(tp.evidence, lang)}", f"  file: {_q(tp.source.file)}"]
    if tp.source.sheet is not None:
        out.append(f"  sheet: {_q(tp.source.sheet)}")
    cols = [line for cp in tp.columns for line in _column_lines(cp, lang)]
    if cols:
        out.append("  columns:")
        out += [f"    {line}" for line in cols]
    if tp.unused:
        out.append(f"  # {t('onboard.yaml.unused', lang, headers=', '.join(tp.unused))}")
    out += [f"  # {_ev(n, lang)}" for n in tp.notes]
    return out


def pack_yaml(p: Proposal, lang: str) -> str:
    """The proposed ``pack.yaml``: written mappings active, candidates and reasons as comments."""
    lines = [f"# {line}" if line else "#" for line in t("onboard.yaml.head", lang, folder=p.folder.name).splitlines()]
    lines.append("tables:")
    for table in SCHEMAS:
        if table in p.tables:
            lines += [f"  {line}" for line in _block(p.tables[table], lang)]
        elif table in p.ambiguous:
            lines.append(f"  # {t('onboard.yaml.table_ambiguous', lang, table=table)}")
            for tp in p.ambiguous[table]:
                lines += [f"  # {line}" for line in _block(tp, lang)]
        elif table in REQUIRED_TABLES and table in p.missing:
            lines.append(f"  # {t('onboard.yaml.table_missing', lang, table=table, columns=', '.join(SCHEMAS[table].required))}")
    for tp in p.extra_sheets:
        lines.append(f"  # {t('onboard.yaml.extra_sheet', lang, source=_label(tp), table=tp.table)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- what remains to fix


def fixes(p: Proposal, lang: str, folder: str) -> list[str]:
    """What a user must do before the pack validates, in the order they meet it in pack.yaml."""
    out: list[str] = []
    for s in p.sources:
        out += [t(f"onboard.note.{code}", lang, **kw) for code, kw in s.notes]
    out += [f"{k.file}: {t(f'onboard.skip.{k.code}', lang, **k.kw)}" for k in p.skipped if k.code == "unsupported"]
    for table in SCHEMAS:
        if table in p.tables:
            tp = p.tables[table]
            for cp in tp.columns:
                cands = ([cp.chosen] if cp.chosen else []) + cp.others
                kw = {"table": table, "column": cp.column, "source": _label(tp)}
                if cp.state == "ambiguous":
                    out.append(t("onboard.fix.ambiguous", lang, candidates=_cands(cands, lang), **kw))
                elif cp.state == "weak" and cp.required:
                    out.append(t("onboard.fix.weak", lang, candidates=_cands(cands, lang), **kw))
                elif cp.state == "missing" and cp.required:
                    out.append(t("onboard.fix.missing", lang, **kw))
                elif cp.state == "left_out" and cp.why is not None:
                    out.append(t("onboard.fix.left_out", lang, why=_ev(cp.why, lang), **kw))
            out += [_ev(n, lang) for n in tp.notes]
        elif table in p.ambiguous:
            names = ("、" if lang == "zh" else ", ").join(f"{tp.source.label} ({tp.score:.2f})" for tp in p.ambiguous[table])
            out.append(t("onboard.fix.table_ambiguous", lang, table=table, candidates=names))
        elif table in REQUIRED_TABLES and table in p.missing:
            out.append(t(f"onboard.fix.missing_{table}", lang, columns=", ".join(SCHEMAS[table].required)))
    out += [t("onboard.fix.extra_sheet", lang, source=_label(tp), table=tp.table, folder=folder)
            for tp in p.extra_sheets]
    return out


def _covered(q: Problem, p: Proposal) -> bool:
    """Whether validation error ``q`` is one a fix of the proposal already names (a column left for the user …)."""
    code = getattr(q, "code", "")
    if code == "no_kpis":
        return "kpis" in p.missing or "kpis" in p.ambiguous
    if code in ("missing_column", "unknown_column_suggest"):
        return any(tp.source.file == getattr(q, "file", "") and (tp.source.sheet or "") == getattr(q, "sheet", "")
                   and tp.column(getattr(q, "column", "")).state in ("ambiguous", "weak", "missing")
                   for tp in p.tables.values() if getattr(q, "column", "") in SCHEMAS[tp.table].names)
    return False


def report(p: Proposal, problems: list[Problem], lang: str, *, folder: str, written: str | None,
           sample_rows: int) -> str:
    """The text ``opsnb map`` prints: found tables with evidence, the rest, validation, what remains to fix."""
    files = {s.file for s in p.sources}
    lines = [t("onboard.report.head", lang, folder=folder, n_sources=len(p.sources), n_files=len(files),
               rows=sample_rows), ""]
    for table in SCHEMAS:
        if table in p.tables:
            lines += _table_report(p.tables[table], lang)
        elif table in p.ambiguous:
            names = ("、" if lang == "zh" else ", ").join(f"{tp.source.label} ({tp.score:.2f})" for tp in p.ambiguous[table])
            lines.append(t("onboard.report.table_ambiguous", lang, table=table, candidates=names))
        elif table in REQUIRED_TABLES and table in p.missing:
            lines.append(t("onboard.report.table_missing", lang, table=table,
                           columns=", ".join(SCHEMAS[table].required)))
    optional = [x for x in p.missing if x not in REQUIRED_TABLES]
    if optional:
        lines.append(t("onboard.report.optional_missing", lang, tables=", ".join(optional)))
    for tp in p.extra_sheets:
        lines.append(t("onboard.report.extra_sheet", lang, source=_label(tp), table=tp.table, score=f"{tp.score:.2f}"))
    for s, best in p.others:
        if best is None:
            lines.append(t("onboard.report.other", lang, source=s.label))
        else:
            lines.append(t("onboard.report.other_close", lang, source=s.label, table=best.table,
                           score=f"{best.score:.2f}"))
    for k in p.skipped:
        lines.append(t("onboard.report.skipped", lang, file=k.file, why=t(f"onboard.skip.{k.code}", lang, **k.kw)))
    lines.append("")
    lines.append(t("onboard.report.written", lang, path=written) if written else t("onboard.report.not_written", lang))
    shown = [q for q in problems if getattr(q, "code", "") not in QUIET_CODES]
    errors = sum(is_error(q) and not _covered(q, p) for q in problems)
    lines += ["", t("onboard.report.validation", lang, folder=folder), format_problems(shown, lang)]
    todo = fixes(p, lang, folder)
    if errors:
        todo.append(t("onboard.fix.validation", lang, n=errors, folder=folder))
    lines.append("")
    if todo:
        lines.append(t("onboard.report.fixes", lang, n=len(todo)))
        lines += [f"  {i}. {line}" for i, line in enumerate(todo, start=1)]
    else:
        lines.append(t("onboard.report.nothing", lang))
    return "\n".join(lines)


def _table_report(tp: TableProposal, lang: str) -> list[str]:
    enc = t(f"onboard.report.encoding.{tp.source.encoding}", lang) if tp.source.encoding else ""
    out = [t("onboard.report.table", lang, table=tp.table, source=_label(tp) + enc, score=f"{tp.score:.2f}",
             evidence=_evs(tp.evidence, lang))]
    width = max([len(c.column) for c in tp.columns] or [1])
    for cp in tp.columns:
        col = cp.column.ljust(width)
        if cp.state == "mapped" and cp.chosen is not None:
            line = t("onboard.report.mapped", lang, column=col, header=cp.chosen.header,
                     score=f"{cp.chosen.score:.2f}", evidence=_evs(cp.chosen.evidence, lang))
            if cp.others:
                line += t("onboard.report.also", lang, others=_cands(cp.others[:3], lang))
            out.append(line)
        elif cp.state in ("ambiguous", "weak"):
            cands = ([cp.chosen] if cp.chosen else []) + cp.others
            out.append(t(f"onboard.report.{cp.state}", lang, column=col, candidates=_cands(cands[:4], lang)))
        elif cp.state == "left_out" and cp.chosen is not None and cp.why is not None:
            out.append(t("onboard.report.left_out", lang, column=col, header=cp.chosen.header, why=_ev(cp.why, lang)))
        elif cp.state == "missing" and cp.required:
            out.append(t("onboard.report.missing", lang, column=col))
    if tp.unused:
        out.append(t("onboard.report.unused", lang, headers=", ".join(tp.unused)))
    out += [f"    {_ev(n, lang)}" for n in tp.notes]
    return out
