"""Shared pieces of the settings: the model base, texts in two languages, the sections."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
)

Lang = Literal["zh", "en"]


SECTIONS = ("goals", "campaigns", "insights", "problems", "plan")
NOTEBOOKS = {
    "summary": "00_summary.ipynb",
    "goals": "01_goals.ipynb",
    "campaigns": "02_campaigns.ipynb",
    "insights": "03_insights.ipynb",
    "problems": "04_problems.ipynb",
    "plan": "05_plan.ipynb",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Label(_Model):
    """A text in both languages."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def unique(values: list[str], what: str) -> None:
    """Raise naming the ``what`` that occur more than once in ``values`` (a list of KPIs, channels, alert rules)."""
    dup = sorted({v for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"duplicate {what} {dup}")


def known_sections(v: list[str]) -> list[str]:
    """``v`` if every name is a section (``SECTIONS``); else an error naming the unknown and the known ones."""
    bad = [s for s in v if s not in SECTIONS]
    if bad:
        raise ValueError(f"unknown sections {bad}; known: {list(SECTIONS)}")
    return v
