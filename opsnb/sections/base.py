"""Subsections: what a notebook cell shows (heading, purpose, chart, table, bullets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from opsnb.context import Context
    from opsnb.facts import Fact


@dataclass(frozen=True)
class Subsection:
    """One subsection of a section notebook.

    ``key`` is the i18n prefix: ``<key>.title`` and ``<key>.purpose`` must exist in both catalogues.
    ``compute(ctx)`` returns the result (or raises :class:`~opsnb.errors.NoData`); ``chart``,
    ``table`` and ``bullets`` take ``(result, ctx)`` and return an Axes, a table and a list of
    sentences respectively (any may be None). ``facts(result, ctx)`` returns the headline figures
    the subsection shows (:class:`opsnb.facts.Fact`), recorded in the run's table of facts so that a
    figure shown on two pages can be checked to have one value.
    """

    key: str
    compute: Callable[[Context], Any]
    chart: Callable[[Any, Context], Any] | None = None
    table: Callable[[Any, Context], Any] | None = None
    bullets: Callable[[Any, Context], list[str]] | None = None
    facts: Callable[[Any, Context], list[Fact]] | None = None
