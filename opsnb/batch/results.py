"""What a run records of each section and of itself (kept in the run's ``manifest.json`` and ``status.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsnb.runfolder import SHOWN


def now_iso() -> str:
    """Now, in UTC, to the microsecond (orders runs that finish within one second)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class SectionResult:
    """Outcome of one section notebook."""

    section: str
    status: str = "pending"  # ok | failed | skipped
    duration_s: float = 0.0
    html: str | None = None
    notebook: str | None = None
    error: str | None = None
    failing_cell: int | None = None
    fingerprint: str | None = None
    reused_from: str | None = None
    #: where the time went: papermill execution and HTML export (seconds)
    execute_s: float = 0.0
    export_s: float = 0.0
    #: when the section got its kernel, in seconds from the start of the run (0 for reused sections)
    start_s: float = 0.0
    #: the pack tables whose absence left every subsection empty ("not applicable"); None when it showed data
    not_applicable: list[str] | None = None
    #: what the section asked of the pack's engine (:class:`opsnb.pack.engine.Usage`): engine, queries,
    #: rows brought back, seconds, the largest result and where it was asked; None when not recorded
    engine: dict[str, Any] | None = None
    #: when the page shown was computed (UTC, ISO) and by which run: this run for a fresh page, the earlier
    #: run for a reused or carried one
    computed_at: str | None = None
    computed_in: str | None = None
    #: the run whose folder the page was copied from when this run did not compute it (``carried``: not asked
    #: for; ``failed``: this run's attempt failed and the last good page stands, marked)
    carried_from: str | None = None
    #: the inputs of the page shown that changed since it was computed (data, params, code, notebook): out of date
    stale: list[str] = field(default_factory=list)
    #: hashes of the section's inputs (data, params, code, notebook, lang) when its page was computed
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in SHOWN

    @property
    def has_page(self) -> bool:
        """Whether the run folder holds a page for it (fresh, reused, or carried from an earlier run)."""
        return self.html is not None and (self.ok or self.carried_from is not None)


@dataclass
class RunResult:
    """Outcome of a batch run."""

    unit: str
    period: str
    out_dir: Path
    run_dir: Path
    sections: list[SectionResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """No section failed (a section never run, with nothing earlier to carry, is not a failure)."""
        return all(s.ok or s.status == "skipped" for s in self.sections)

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"
