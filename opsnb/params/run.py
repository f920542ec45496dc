"""How a run is carried out and published (``batch:``, ``publish:``)."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
)

from opsnb.params.base import SECTIONS, _Model, known_sections


class BatchSettings(_Model):
    workers: int = Field(default=2, ge=1, le=64)
    timeout_s: int = Field(default=600, ge=1)  # per section
    sections: list[str] = Field(default_factory=lambda: list(SECTIONS))

    @field_validator("sections")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return known_sections(v)


class PublishSettings(_Model):
    keep_runs: int = Field(default=3, ge=1, le=100)  # run folders kept per period and language
