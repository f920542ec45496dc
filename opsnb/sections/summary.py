"""The summary page (00 总结): headline KPI cards, wins, problems, next actions, section health, run metadata.

It is run last by the batch, which passes ``run_dir`` so the page can read each section's status.
Each block borrows the section modules' own summary functions, so every number has one source.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from opsnb import runfolder as rf
from opsnb.context import Context
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.params import NOTEBOOKS, SECTIONS
from opsnb.render import ui
from opsnb.render.fmt import table_name
from opsnb.sections.base import Subsection


def _kpi_cards(ctx: Context) -> list[dict[str, Any]]:
    from opsnb.sections.goals import kpi_cards

    return kpi_cards(ctx)


def _kpi_status(ctx: Context) -> list[dict[str, Any]]:
    from opsnb.sections.goals import kpi_cards

    return [{k: v for k, v in c.items() if k != "facts"} for c in kpi_cards(ctx, every=True)]


def _wins(ctx: Context) -> list[str]:
    from opsnb.sections.goals import wins

    return wins(ctx)


def _top_problems(ctx: Context) -> list[str]:
    from opsnb.sections.problems import top_problems

    return top_problems(ctx, n=3)


def _problem_records(ctx: Context) -> list[dict[str, Any]]:
    from opsnb.sections.problems import problem_records

    return problem_records(ctx)


def _action_records(ctx: Context) -> list[dict[str, Any]]:
    from opsnb.sections.plan import action_records

    return action_records(ctx)


def _next_actions(ctx: Context) -> list[str]:
    from opsnb.sections.plan import next_actions

    return next_actions(ctx, n=3)


#: What each section hands to the summary page through the run folder, so the summary kernel (on the
#: batch's critical path) reads results instead of recomputing them. Outside a batch it computes them.
HANDOFFS: dict[str, dict[str, Any]] = {
    "goals": {"kpi_cards": _kpi_cards, "wins": _wins, "kpis": _kpi_status},  # kpis: every KPI, for delivery
    "problems": {"top_problems": _top_problems, "problems": _problem_records},  # records: for delivery
    "plan": {"next_actions": _next_actions, "actions": _action_records},
}


def _hand_off_kpis(ctx: Context) -> None:
    from opsnb.sections.goals import ledger_values

    assert ctx.run_dir is not None
    rf.write_kpis(ctx.run_dir, ledger_values(ctx))


def _hand_off_plan_targets(ctx: Context) -> None:
    from opsnb.sections.plan import published_targets

    assert ctx.run_dir is not None
    rf.write_plan_targets(ctx.run_dir, published_targets(ctx))


#: What a section leaves in the run folder for later runs besides its hand-offs: the goals page's KPI values
#: (the ledger, the group roll-up) and the plan's targets (the next review's goals).
WRITES: dict[str, Any] = {"goals": _hand_off_kpis, "plan": _hand_off_plan_targets}


def produce(ctx: Context) -> None:
    """Write this section's hand-offs for the summary page and what it leaves for later runs (the batch appends a
    cell calling it): results handed back through :mod:`opsnb.runfolder`, never as a side effect of a compute.

    See :func:`opsnb.batch.section.with_handoff`.
    """
    if ctx.run_dir is None:
        return
    for name, fn in HANDOFFS.get(ctx.section, {}).items():
        try:
            value = fn(ctx)
        except NoData:
            continue
        rf.write_handoff(ctx.run_dir, name, value)
    write = WRITES.get(ctx.section)
    if write is not None:
        try:
            write(ctx)
        except NoData:
            pass  # nothing to leave: the page said why


def handed(ctx: Context, name: str) -> Any:
    """A section's hand-off, as the batch left it in the run folder; computed here outside a batch.

    In a batch a section that left none (it failed, was never run, or had nothing to say) is not recomputed by the
    summary kernel — that would repeat its failure (a row cap, a timeout) and fail the index with it: the subsection
    says the section has no result and the sections' status below says why.
    """
    section = next(s for s, items in HANDOFFS.items() if name in items)
    if ctx.run_dir is not None:
        value = rf.read_handoff(ctx.run_dir, name)
        if value is None:
            raise NoData(section, ctx.t("summary.not_handed", section=ctx.t(f"sections.{section}.title")))
        return value
    return HANDOFFS[section][name](ctx)


def _cards(ctx: Context) -> list[dict[str, Any]]:
    cards = handed(ctx, "kpi_cards")
    if not cards:
        raise NoData("kpis", ctx.t("summary.no_kpis"))
    return cards


def _cards_table(cards: list[dict[str, Any]], ctx: Context) -> ui.Html:
    return ui.cards(cards)


def _card_facts(cards: list[dict[str, Any]], ctx: Context) -> list[Fact]:
    """The figures on the KPI cards, as the goals section handed them over (checked against its page)."""
    return [Fact(**f) for c in cards for f in c.get("facts", [])]


def _wins_list(ctx: Context) -> list[str]:
    return handed(ctx, "wins")


def _problems(ctx: Context) -> list[str]:
    return handed(ctx, "top_problems")


def _actions(ctx: Context) -> list[str]:
    return handed(ctx, "next_actions")


def _as_bullets(items: list[str], ctx: Context) -> list[str]:
    return items if items else [ctx.t("summary.none")]


def _when(iso: str | None) -> str:
    """``2026-12-07T10:02:11+00:00`` → ``2026-12-07 10:02 UTC`` (the header's form); empty when unknown."""
    from datetime import datetime

    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(iso)


def section_status(ctx: Context) -> pd.DataFrame:
    """One row per section: status, when its page was computed, whether it is out of date, duration, error, link.

    From the batch's ``status.json``: a section this run did not compute (not asked for, or failed this time)
    shows the newest earlier page, with when it was computed and which of its inputs changed since.
    """
    from opsnb.runfolder import SHOWN, STATUS

    if ctx.run_dir is None or not (ctx.run_dir / STATUS).is_file():
        raise NoData("status", ctx.t("summary.no_status"))
    rows = json.loads((ctx.run_dir / STATUS).read_text(encoding="utf-8"))
    by = {r["section"]: r for r in rows}
    sep = "、" if ctx.lang == "zh" else ", "
    out = []
    for s in SECTIONS:
        r = by.get(s, {"status": "skipped", "duration_s": None, "error": None, "html": None})
        na = r.get("not_applicable")
        has_page = bool(r.get("html")) and (r["status"] in SHOWN or bool(r.get("carried_from")))
        # a page brought over unchanged is the same page as when it was computed: up to date, like one computed now
        status = "ok" if r["status"] == "reused" else r["status"]
        out.append({"section": s, "title": ctx.t(f"sections.{s}.title"), "status": status,
                    "not_applicable": sep.join(table_name(x, ctx.lang) for x in na) if na else "",
                    "computed_at": _when(r.get("computed_at")) if has_page else "",
                    "carried": bool(r.get("carried_from")),
                    "stale": sep.join(ctx.t(f"summary.input.{x}") for x in r.get("stale") or []),
                    "duration_s": r.get("duration_s") if r["status"] == "ok" else None,
                    "error": (r.get("error") or "").splitlines()[0][:300] if r.get("error") else "",
                    "html": (r.get("html") or NOTEBOOKS[s].replace(".ipynb", ".html")) if has_page else "",
                    "commentary": (ctx.root / "params" / "commentary" / ctx.unit / ctx.period.label /
                                   f"{s}.md").is_file()})
    return pd.DataFrame(out)


def _state(r: Any, ctx: Context) -> str:
    """A section's state in words: what ran, what stands from when, what is out of date."""
    if r.not_applicable:
        return ctx.t("summary.not_applicable", tables=r.not_applicable)
    if r.status == "failed" and r.carried:
        text = ctx.t("summary.status.failed_carried", at=r.computed_at)
    elif r.status == "carried":
        text = ctx.t("summary.status.carried", at=r.computed_at)
    else:
        text = ctx.t("summary.status." + r.status)
    if r.stale:
        text += ctx.t("summary.stale_mark", inputs=r.stale)
    return text


def _status_links(df: pd.DataFrame, ctx: Context) -> ui.Html:
    items = []
    for r in df.itertuples():
        label = f"{r.title} — {_state(r, ctx)}"
        if r.computed_at:
            label += ctx.t("summary.computed_at", at=r.computed_at)
        if r.commentary:
            label += f" · {ctx.t('common.commentary')}"
        href = r.html or f"#{ui.slug('summary.sections')}"
        kind = "failed" if r.status == "failed" else "stale" if r.stale else r.status
        items.append((href, label, kind))
    return ui.link_list(items)


def _status_bullets(df: pd.DataFrame, ctx: Context) -> list[str]:
    sep = "、" if ctx.lang == "zh" else ", "
    fresh = df[df["status"].isin(["ok", "reused"])]
    carried = df[df["status"] == "carried"]
    out = [ctx.t("summary.health", ok=len(fresh), total=len(df))]
    if len(carried):
        out.append(ctx.t("summary.carried", n=len(carried), sections=sep.join(carried["title"])))
    stale = df[df["stale"] != ""]
    if len(stale):
        out.append(ctx.t("summary.stale", sections=sep.join(stale["title"])))
    skipped = df[df["status"] == "skipped"]
    if len(skipped):
        out.append(ctx.t("summary.not_run", sections=sep.join(skipped["title"])))
    for r in df[df["status"] == "failed"].itertuples():
        out.append(ctx.t("summary.failed", section=r.title, error=r.error))
    return out


def run_metadata(ctx: Context) -> pd.DataFrame:
    """Parameters, data fingerprints and versions of this run (from the manifest inputs)."""
    from importlib.metadata import version

    rows = [
        (ctx.t("common.unit"), ctx.settings.unit_name(ctx.lang)), (ctx.t("common.period"), ctx.period.label),
        (ctx.t("summary.info.pack"), ctx.pack.label),  # its full path is in manifest.json
        (ctx.t("summary.info.engine"), f"{getattr(ctx.pack.engine, 'label', ctx.pack.engine.name)} "
                                       f"{ctx.pack.engine.version}"),
        (ctx.t("summary.info.fingerprint"), ctx.pack.fingerprint),
        # the review's as-of day (the period's last day, or the data's when earlier), and what the pack holds
        (ctx.t("common.data_as_of"), ctx.effective_period.last_day.isoformat()),
        (ctx.t("summary.info.data_range"), f"{ctx.data_first_day} … {ctx.data_last_day}"),
        (ctx.t("summary.info.timezone"), ctx.settings.timezone),
        (ctx.t("summary.info.lang"), ctx.lang), ("opsnb", version("opsnb")), ("pandas", version("pandas")),
        ("ibis", version("ibis-framework")),  # the engine's version is the engine row's
    ]
    # each table's fingerprint stays in the run's manifest (ids are metadata, not reading)
    rows.append((ctx.t("summary.info.tables"), ctx.t("summary.info.tables_value", n=len(ctx.pack.fingerprints))))
    return pd.DataFrame(rows, columns=[ctx.t("summary.info.key"), ctx.t("summary.info.value")])


SUBSECTIONS = [
    Subsection("summary.kpis", _cards, table=_cards_table, facts=_card_facts),
    Subsection("summary.wins", _wins_list, bullets=_as_bullets),
    Subsection("summary.problems", _problems, bullets=_as_bullets),
    Subsection("summary.actions", _actions, bullets=_as_bullets),
    Subsection("summary.sections", section_status, table=_status_links, bullets=_status_bullets),
    Subsection("summary.meta", run_metadata, table=lambda df, ctx: ui.table(df, ctx.lang)),
]
