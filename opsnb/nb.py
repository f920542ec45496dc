"""What the notebooks call: :func:`setup` builds a :class:`Context`, :func:`show` renders a subsection.

A section notebook stays thin (STYLE.md): a parameters cell, ``ctx = nb.setup(...)``,
``nb.title(ctx)``, then one ``nb.show(ctx, "<section>.<subsection>")`` per subsection.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opsnb import facts as _facts
from opsnb.context import Context
from opsnb.errors import NoData
from opsnb.params import Settings
from opsnb.paths import project_root
from opsnb.render import fmt as _fmt
from opsnb.render import i18n, ui
from opsnb.runspec import resolve_run

__all__ = ["Context", "commentary", "render", "setup", "show", "title"]


def setup(*, section: str, period: str = "", unit: str = "", pack: str = "", params_file: str = "",
          lang: str = "", run_dir: str = "", settings: Settings | None = None, apply_theme: bool = True) -> Context:
    """Load and validate settings, open the pack (generating the default sample if absent), pick the period.

    Empty arguments fall back to the settings (``params/default.yaml`` and the unit's file); the
    batch resolves a run the same way (:func:`opsnb.runspec.resolve_run`).
    """
    root = project_root()
    spec = resolve_run(unit=unit, period=period, pack=pack, lang=lang, params_file=params_file, root=root,
                       settings=settings)
    _fmt.use_currency(spec.settings.currency)
    i18n.use_labels(spec.pack.labels, spec.settings.lang)  # the data's values by their display names
    if apply_theme:
        from opsnb.render import theme

        theme.apply()
    return Context(spec.settings, spec.pack, spec.period, section, spec.data_first_day, spec.data_last_day, root,
                   Path(run_dir) if run_dir else None)


def title(ctx: Context) -> None:
    """The section's H1, purpose sentence, partial-period note and analyst commentary."""
    from IPython.display import display

    key = f"sections.{ctx.section}"
    head = ctx.t(f"{key}.title") + " · " + ctx.period.label
    out: list[Any] = [ui.heading(head, level=1, anchor=ctx.section), ui.paragraph(ctx.t(f"{key}.purpose"))]
    if ctx.partial and ctx.data_last_day is not None:
        eff = ctx.effective_period
        out.append(ui.note(ctx.t("common.partial", last_day=ctx.data_last_day.isoformat(), covered=eff.days,
                                 days=ctx.period.days), kind="warn"))
    text = commentary_text(ctx)
    if text is not None:
        out.append(commentary(text, ctx))
    for o in out:
        display(o)


def commentary_path(ctx: Context) -> Path:
    """``params/commentary/<unit>/<period>/<section>.md``: analysts' own words, never overwritten by a run."""
    return ctx.root / "params" / "commentary" / ctx.unit / ctx.period.label / f"{ctx.section}.md"


def commentary_text(ctx: Context) -> str | None:
    """The analyst's commentary for this section and period, if any."""
    p = commentary_path(ctx)
    return p.read_text(encoding="utf-8") if p.is_file() else None


def commentary(text: str, ctx: Context) -> ui.Html:
    """Commentary rendered from Markdown with raw HTML disabled (so it shows as text)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    body = md.render(text)
    return ui.Html(f'<aside class="opsnb-commentary"><div class="opsnb-commentary-title">'
                   f'{ui.esc(ctx.t("common.commentary"))}</div>{body}</aside>', text)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def render(ctx: Context, key: str) -> tuple[Any, list[Any]]:
    """Compute subsection ``key`` and build its display objects (heading, purpose, chart, table, bullets)."""
    from opsnb import sections

    sub = sections.get(key)
    objs: list[Any] = [ui.heading(ctx.t(f"{key}.title"), level=2, anchor=key), ui.paragraph(ctx.t(f"{key}.purpose"))]
    try:
        result = sub.compute(ctx)
    except NoData as exc:
        missing = exc.reason in ("", "table not in pack")
        ctx.record_outcome(key, f"no_table:{exc.table}" if missing else "no_data")
        if missing:
            noted = ctx.cache.setdefault("_missing_tables", set())
            if exc.table in noted:  # said once per page: later subsections that need it are left out
                return None, []
            noted.add(exc.table)
            text = ctx.t("common.no_data_table", table=_fmt.table_name(exc.table, ctx.lang))
        elif ctx.lang == "zh" and not _CJK.search(exc.reason):
            # the metric's reason is English (metrics have no language): say it in Chinese; the detail
            # (with its ids) stays in the notebook's text output for analysts, not on the page
            return None, objs + [ui.Html(ui.note(ctx.t("common.no_data_generic"), kind="info")._repr_html_(),
                                         exc.reason)]
        else:
            text = ctx.t("common.no_data", what=exc.reason)
        objs.append(ui.note(text, kind="info"))
        return None, objs
    ctx.record_outcome(key, "ok")
    if sub.chart is not None:
        ax = sub.chart(result, ctx)
        if ax is not None:
            objs.append(ui.figure(ax, alt=ctx.t(f"{key}.title")))
    if sub.table is not None:
        tab = sub.table(result, ctx)
        if tab is not None:
            objs.append(tab)
            ctx.record(_facts.cells(tab, source=key, period=ctx.period.label))
    if sub.bullets is not None:
        objs.append(ui.bullets(sub.bullets(result, ctx)))
    if sub.facts is not None:
        ctx.record(sub.facts(result, ctx))
    return result, objs


def show(ctx: Context, key: str) -> Any:
    """Display subsection ``key`` and return its result (for analysts to explore further)."""
    from IPython.display import display

    result, objs = render(ctx, key)
    for o in objs:
        display(o)
    return result
