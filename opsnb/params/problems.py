"""04 problems: the detectors' thresholds and analysts' own problems."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from opsnb.params.base import Label, _Model

#: Series the anomaly detector can check (daily dau, new_users, gmv, conversion; weekly churn).
AnomalySeries = Literal["dau", "new_users", "gmv", "conversion", "churn"]
_ANOMALY_SERIES: tuple[AnomalySeries, ...] = get_args(AnomalySeries)


class ManualProblem(_Model):
    title: Label
    severity: Literal["high", "medium", "low"] = "medium"
    owner: str = ""
    suggestion: Label | None = None


class ProblemsSettings(_Model):
    """Thresholds of the problem detectors (04 问题与挑战); every one is documented here.

    Each detector turns its finding into a *score*: 1.0 means "clearly serious" (severity high,
    ≥ ``severity_high``), 0.5 the threshold of "medium" (≥ ``severity_medium``), below that low.
    """

    # anomalies: STL(robust) baseline + modified z-score of the residuals
    anomaly_z: float = Field(default=3.5, gt=0)  # flag |0.6745·(r − median)/MAD| above this
    anomaly_consecutive: int = Field(default=1, ge=1)  # flag only runs of at least N breaches
    anomaly_min_seasons: int = Field(default=2, ge=2)  # shorter history → "too short" note
    anomaly_series: list[AnomalySeries] = Field(default_factory=lambda: list(_ANOMALY_SERIES))
    anomaly_history_days: int = Field(default=182, ge=14)  # daily history fed to STL (period 7)
    anomaly_history_weeks: int = Field(default=52, ge=8)  # weekly history fed to STL
    anomaly_weekly_period: int = Field(default=4, ge=2)  # weekly season: ~a month (52 needs 2 years)
    anomaly_stl_seasonal: int = Field(default=35, ge=7)  # STL seasonal smoother (odd); trend = 4·period+1
    anomaly_both_directions: bool = False  # False: only adverse moves (drops; churn rises) are problems
    # KPIs: score = (1 − attainment) ÷ kpi_gap_high (a 20 % shortfall is high)
    kpi_gap_high: float = Field(default=0.2, gt=0)
    # channels and campaigns
    roi_threshold: float = Field(default=1.0, ge=0)  # ROI (GMV ÷ cost) below this is low
    cac_rise_threshold: float = Field(default=0.2, ge=0)  # relative rise month over month
    min_spend_share: float = Field(default=0.02, ge=0, le=1)  # ignore channels below this budget share
    budget_gap_pp: float = Field(default=15.0, ge=0)  # budget share minus return share, points
    # actions
    overdue_days_high: int = Field(default=30, ge=1)  # an action this many days overdue is high
    # service (feedback)
    resolution_rate_min: float = Field(default=0.9, ge=0, le=1)
    resolution_p90_hours: float = Field(default=72.0, gt=0)  # p90 time to resolve per category
    satisfaction_min: float = Field(default=3.5, ge=0)
    backlog_growth_max: float = Field(default=0.5, ge=0)  # open tickets end vs start of period
    complaint_rise_max: float = Field(default=0.5, ge=0)  # tickets per category, vs previous period
    service_min_tickets: int = Field(default=20, ge=1)  # categories with fewer tickets are not judged
    # data gaps
    unattributed_max: float = Field(default=0.2, ge=0, le=1)  # paid orders with no prior touchpoint
    unattributed_min_orders: int = Field(default=20, ge=1)
    tracking_min_daily: int = Field(default=20, ge=1)  # "normally many": trailing 28-day median ≥ this
    tracking_drop_share: float = Field(default=0.0, ge=0, lt=1)  # a day ≤ share × normal is a break
    # ranking
    severity_high: float = Field(default=1.0, gt=0)
    severity_medium: float = Field(default=0.5, gt=0)
    max_problems: int = Field(default=20, ge=1)
    max_bullets: int = Field(default=5, ge=1)  # problems detailed per subsection; the rest named in one line
    manual: list[ManualProblem] = Field(default_factory=list)

    @field_validator("anomaly_stl_seasonal")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("must be odd (an STL smoother length)")
        return v

    @model_validator(mode="after")
    def _cuts(self) -> ProblemsSettings:
        if self.severity_medium > self.severity_high:
            raise ValueError("need severity_medium <= severity_high")
        return self
