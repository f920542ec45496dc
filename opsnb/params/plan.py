"""05 plan: actions, risks, targets split, the marketing calendar."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from opsnb.params.base import _Model


class ManualAction(_Model):
    """An action kept in YAML (``plan.actions`` or ``params/actions/<unit>.yaml``), same fields as the pack's table."""

    action_id: str
    title: str
    owner: str
    start: date
    due: date  # inclusive; start == due is a milestone
    status: Literal["planned", "in_progress", "done", "delayed"] = "planned"
    done_at: date | None = None
    horizon: Literal["short", "mid", "long"] | None = None  # None: derived from the due date
    metric: str | None = None
    target: float | None = None
    budget: float | None = Field(default=None, ge=0)
    problem: str | None = None

    @field_validator("action_id", mode="before")
    @classmethod
    def _id_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @model_validator(mode="after")
    def _dates(self) -> ManualAction:
        if self.due < self.start:
            raise ValueError(f"due {self.due} is before start {self.start}")
        return self


class ManualRisk(_Model):
    """A risk kept in YAML (``plan.risks``), merged with the pack's risks table."""

    risk: str
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    mitigation: str = ""
    owner: str = ""


class QuarterTheme(_Model):
    """The marketing theme of a quarter and the KPI that measures it."""

    theme: Literal["acquisition", "activation", "retention", "reactivation"]
    metric: str


def _default_themes() -> list[QuarterTheme]:
    # Q1 春节/年货节 traffic → 拉新; Q2 618 → 促活; Q3 summer → 留存; Q4 双十一/双十二 → 召回.
    return [QuarterTheme(theme="acquisition", metric="new_users"),
            QuarterTheme(theme="activation", metric="active_users"),
            QuarterTheme(theme="retention", metric="repurchase_rate"),
            QuarterTheme(theme="reactivation", metric="gmv")]


class PlanSettings(_Model):
    split_method: Literal["shares", "seasonal_indices"] = "shares"
    annual_growth: float = Field(default=0.1, gt=-1)  # next year's target = this year's actual × (1 + g)
    volume_kpis: list[str] = Field(default_factory=lambda: ["gmv", "orders", "new_users"])  # split by seasonality
    copy_kpis: list[str] = Field(default_factory=lambda: ["aov", "conversion_rate", "repurchase_rate"])  # copied
    history_years: int = Field(default=3, ge=1, le=10)  # years of monthly history for seasonal shares
    reallocation_share: float = Field(default=0.1, ge=0, le=1)
    short_term_months: int = Field(default=3, ge=1)
    long_term_months: int = Field(default=6, ge=1)
    calendar_months: int = Field(default=3, ge=1, le=12)  # marketing calendar window after the period end
    year_festival_days: int = Field(default=21, ge=1, le=60)  # 年货节 runs this many days before 春节
    quarter_themes: list[QuarterTheme] = Field(default_factory=_default_themes, min_length=4, max_length=4)
    actions: list[ManualAction] = Field(default_factory=list)
    risks: list[ManualRisk] = Field(default_factory=list)

    @model_validator(mode="after")
    def _horizons(self) -> PlanSettings:
        if self.long_term_months < self.short_term_months:
            raise ValueError("long_term_months must be >= short_term_months")
        return self
