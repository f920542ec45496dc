"""What the notebooks call: :func:`setup` builds a :class:`Context`, :func:`show` renders a subsection.

A section notebook stays thin (STYLE.md): a parameters cell, ``ctx = nb.setup(...)``,
``nb.title(ctx)``, then one ``nb.show(ctx, "<section>.<subsection>")`` per subsection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from opsnb import facts as _facts
from opsnb.errors import NoData
from opsnb.facts import Fact
from opsnb.pack import Pack, open_pack
from opsnb.params import Settings, load_params
from opsnb.paths import outputs_dir, project_root
from opsnb.periods import Period, latest_full_month
from opsnb.render import fmt as _fmt
from opsnb.render import i18n, ui


@dataclass
class Context:
    """Everything a section needs: settings, the opened pack, the period and the language."""

    settings: Settings
    pack: Pack
    period: Period
    section: str = ""
    data_first_day: date | None = None
    data_last_day: date | None = None
    root: Path = field(default_factory=project_root)
    run_dir: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def unit(self) -> str:
        return self.settings.unit

    @property
    def outputs(self) -> Path:
        """The unit's output folder ``outputs/<unit>`` (holds ledger and earlier periods)."""
        return outputs_dir(self.root) / self.unit

    @property
    def partial(self) -> bool:
        """Whether the pack ends inside the period."""
        return self.data_last_day is not None and self.data_last_day < self.period.last_day

    @property
    def effective_period(self) -> Period:
        """The period clipped to the pack's last day (equal to ``period`` unless partial)."""
        return self.period.clip(self.data_last_day)

    def t(self, key: str, **kwargs: Any) -> str:
        """Translate ``key`` in the run's language."""
        return i18n.t(key, self.lang, **kwargs)

    def fmt(self, x: Any, unit: str) -> str:
        """Format a number by KPI unit in the run's language."""
        return _fmt.value(x, unit, self.lang, currency=self.settings.currency)

    def record(self, shown: list[Fact]) -> None:
        """Add facts this notebook shows; in a batch run, (re)write ``facts-<section>.json``."""
        self.facts += shown
        if self.run_dir is not None and self.section:
            _facts.save(self.facts, self.run_dir / f"facts-{self.section}.json")

    def record_outcome(self, key: str, outcome: str) -> None:
        """Whether subsection ``key`` showed data (``ok``) or not (``no_table:<t>``, ``no_data``); in a batch
        run the section's outcomes go to ``outcomes-<section>.json`` (an all-missing section is "not applicable")."""
        outcomes = self.cache.setdefault("_outcomes", {})
        outcomes[key] = outcome
        if self.run_dir is not None and self.section:
            import json

            path = self.run_dir / f"outcomes-{self.section}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(outcomes), encoding="utf-8")
            tmp.replace(path)

    def memo(self, name: str, fn: Callable[[], Any]) -> Any:
        """Compute ``fn()`` once per notebook and reuse it (results shared between subsections)."""
        if name not in self.cache:
            self.cache[name] = fn()
        return self.cache[name]


def _resolve(path: str, root: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else root / p


def setup(*, section: str, period: str = "", unit: str = "", pack: str = "", params_file: str = "",
          lang: str = "", run_dir: str = "", settings: Settings | None = None, apply_theme: bool = True) -> Context:
    """Load and validate settings, open the pack (generating the default sample if absent), pick the period.

    Empty arguments fall back to the settings (``params/default.yaml`` and the unit's file).
    """
    root = project_root()
    if settings is None:
        overrides = {k: v for k, v in {"period": period, "pack": pack, "lang": lang}.items() if v}
        settings = load_params(unit=unit or None, params_file=params_file or None, overrides=overrides, root=root)
    _fmt.use_currency(settings.currency)
    if apply_theme:
        from opsnb.render import theme

        theme.apply()
    pack_path = _resolve(settings.pack, root)
    if not pack_path.exists() and settings.pack == "data/sample":
        from opsnb.sample import generate

        generate(pack_path)
    p = open_pack(pack_path, tz=settings.timezone)
    first, last = p.day_range()
    if settings.period:
        per = Period.parse(settings.period)
    elif last is not None:
        per = latest_full_month(last)
    else:
        raise NoData("events", "the pack has no events or orders to choose a period from; pass --period")
    return Context(settings, p, per, section, first, last, root, Path(run_dir) if run_dir else None)


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
    if ctx.run_dir is not None:  # batch run: leave what the summary page needs in the run folder
        from opsnb.sections.summary import produce

        produce(ctx)


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
