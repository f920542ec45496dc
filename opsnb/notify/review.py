"""A published review as delivery reads it: its manifest and the hand-offs its sections left.

Delivery never recomputes a number: every line of a message is text a section already wrote for the
summary page (``handoff-*.json`` in the run folder), so the card in the chat group says exactly what the
page says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.errors import OpsnbError


@dataclass
class Review:
    """One published review folder (``outputs/<unit>/<period>``, the published link, not the run folder)."""

    folder: Path
    unit: str
    period: str
    lang: str
    run_id: str
    manifest: dict[str, Any] = field(repr=False)

    def handoff(self, name: str) -> Any:
        """The hand-off ``name`` the run left (None when its section did not run or had nothing to say)."""
        return rf.read_handoff(self.folder, name)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Sections whose run failed this time (each with its ``error``), the summary included.

        A section carried forward from an earlier run (not asked for) or never run is not a failure.
        """
        rows = list(self.manifest.get("sections", []))
        summary = self.manifest.get("summary")
        if isinstance(summary, dict):
            rows.append(summary)
        return [s for s in rows if s.get("status") == "failed"]

    @property
    def name(self) -> str:
        """The unit as its people call it in the review's language: its ``unit_label`` (in the run's params), else
        its id."""
        label = (self.manifest.get("params") or {}).get("unit_label")
        return str(label.get(self.lang) or self.unit) if isinstance(label, dict) else self.unit

    def link(self, base_url: str | None) -> str:
        """The review's index page: ``<base_url>/<unit>/<period>/index.html`` (``<period>.en`` for a review in
        another language than the unit's), else its local path."""
        if base_url:
            return f"{base_url.rstrip('/')}/{self.unit}/{self.folder.name}/index.html"
        return str(self.folder / "index.html")


def load_review(folder: Path) -> Review:
    """The published review in ``folder``; a clear error when it is not one."""
    manifest_path = folder / rf.MANIFEST
    if not (folder / rf.INDEX).is_file() or not manifest_path.is_file():
        raise OpsnbError(f"{folder}: not a published review (no index.html / manifest.json); run `opsnb run` first")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise OpsnbError(f"{manifest_path}: not valid JSON ({exc}); rerun the review") from None
    params = manifest.get("params") or {}
    return Review(folder=folder, unit=str(manifest.get("unit", folder.parent.name)),
                  period=str(manifest.get("period", folder.name)), lang=str(params.get("lang") or "zh"),
                  run_id=str(manifest.get("run_id", "")), manifest=manifest)
