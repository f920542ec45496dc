"""The :class:`Context` a section notebook works in: settings, the opened pack, the period, the language.

Its own module so that both :mod:`opsnb.nb` (which builds it) and :mod:`opsnb.sections` (which read it)
depend on it, and not on each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from opsnb import facts as _facts
from opsnb import runfolder as rf
from opsnb.facts import Fact
from opsnb.pack import Pack
from opsnb.params import Settings
from opsnb.paths import outputs_dir, project_root
from opsnb.periods import Period
from opsnb.render import fmt as _fmt
from opsnb.render import i18n

__all__ = ["Context"]


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
            _facts.save(self.facts, rf.record(self.run_dir, "facts", self.section))

    def record_outcome(self, key: str, outcome: str) -> None:
        """Whether subsection ``key`` showed data (``ok``) or not (``no_table:<t>``, ``no_data``); in a batch
        run the section's outcomes go to ``outcomes-<section>.json`` (an all-missing section is "not applicable")."""
        outcomes = self.cache.setdefault("_outcomes", {})
        outcomes[key] = outcome
        if self.run_dir is not None and self.section:
            rf.write_record(self.run_dir, "outcomes", self.section, outcomes)

    def save_usage(self) -> None:
        """In a batch run, write what this notebook asked of the pack's engine to ``usage-<section>.json``."""
        if self.run_dir is not None and self.section:
            rf.write_record(self.run_dir, "usage", self.section, self.pack.engine.usage.as_dict())

    def memo(self, name: str, fn: Callable[[], Any]) -> Any:
        """Compute ``fn()`` once per notebook and reuse it (results shared between subsections)."""
        if name not in self.cache:
            self.cache[name] = fn()
        return self.cache[name]
