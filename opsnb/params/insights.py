"""03 insights: retention, funnels, RFM, attribution, channel grades."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from opsnb.params.base import Label, _Model


class RFMRule(_Model):
    """A segment rule: inclusive score ranges; the first rule that matches wins."""

    segment: str
    label: Label
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)


def _default_rfm() -> list[RFMRule]:
    def r(seg: str, zh: str, rr: tuple[int, int], ff: tuple[int, int], mm: tuple[int, int] = (1, 5)) -> RFMRule:
        return RFMRule(segment=seg, label=Label(zh=zh, en=seg), r=rr, f=ff, m=mm)

    # Score ranges follow the common 5×5 RFM segment map (R against F·M), applied in order.
    return [
        r("Champions", "重要价值客户", (5, 5), (4, 5), (4, 5)),
        r("Loyal", "忠诚客户", (3, 5), (4, 5), (3, 5)),
        r("Potential Loyalist", "潜力客户", (4, 5), (2, 3), (2, 5)),
        r("New", "新客户", (5, 5), (1, 1)),
        r("Promising", "有潜力新客", (4, 4), (1, 1)),
        r("Need Attention", "需要关注", (3, 3), (2, 3), (2, 3)),
        r("About to Sleep", "即将沉睡", (2, 3), (1, 2)),
        # Narrow rules before the broad ones that contain them, or they could never match:
        # Can't Lose ⊂ At Risk and Lost ⊂ Hibernating.
        r("Can't Lose", "不可流失客户", (1, 1), (4, 5), (4, 5)),
        r("At Risk", "流失风险客户", (1, 2), (2, 5), (2, 5)),
        r("Lost", "已流失客户", (1, 1), (1, 1)),
        r("Hibernating", "沉睡客户", (1, 2), (1, 2)),
    ]


#: RFM scoring methods: ``ntile`` (equal-count quintiles) or ``quantile_breaks`` (R ``rfm``'s value breaks).
RFMScoring = Literal["ntile", "quantile_breaks"]


def r_rfm_segments() -> list[RFMRule]:
    """The segment map of the R ``rfm`` package's documentation and tests, in its order (first match wins).

    ``segment_names`` with ``recency/frequency/monetary_lower/upper`` as used by ``rfm_segment`` on
    ``rfm_data_orders`` (rfm's ``tests/testthat/test-rfm-segment.R``: 158 Champions); English
    names exactly as in R, Chinese labels as the default map's.
    """
    def r(seg: str, zh: str, rr: tuple[int, int], ff: tuple[int, int], mm: tuple[int, int]) -> RFMRule:
        return RFMRule(segment=seg, label=Label(zh=zh, en=seg), r=rr, f=ff, m=mm)

    return [
        r("Champions", "重要价值客户", (4, 5), (4, 5), (4, 5)),
        r("Loyal Customers", "忠诚客户", (2, 5), (3, 5), (3, 5)),
        r("Potential Loyalist", "潜力客户", (3, 5), (1, 3), (1, 3)),
        r("New Customers", "新客户", (4, 5), (1, 1), (1, 1)),
        r("Promising", "有潜力新客", (3, 4), (1, 1), (1, 1)),
        r("Need Attention", "需要关注", (2, 3), (2, 3), (2, 3)),
        r("About To Sleep", "即将沉睡", (2, 3), (1, 2), (1, 2)),
        r("At Risk", "流失风险客户", (1, 2), (2, 5), (2, 5)),
        r("Can't Lose Them", "不可流失客户", (1, 1), (4, 5), (4, 5)),
        r("Lost", "已流失客户", (1, 2), (1, 2), (1, 2)),
    ]


class InsightsSettings(_Model):
    retention_period: Literal["day", "week", "month"] = "month"
    retention_mode: Literal["first_time", "recurring"] = "first_time"
    retention_cohorts: int = Field(default=12, ge=1, le=60)
    funnel_steps: list[str] = Field(default_factory=lambda: ["visit", "register", "add_to_cart", "purchase"])
    funnel_window_days: int = Field(default=14, ge=1)
    funnel_breakdown: Literal["channel", "platform"] | None = "channel"  # users.channel or events.platform
    funnel_entry: Literal["new", "all"] = "new"
    retention_start_event: str | None = None  # event that enters a cohort (None: any event)
    retention_return_event: str | None = None  # event that counts as retained (None: any event)
    day_n: list[int] = Field(default_factory=lambda: [1, 7, 30], min_length=1)  # D-N retention days
    lifecycle_interval: Literal["week", "month"] = "week"
    lifecycle_periods: int = Field(default=12, ge=1, le=60)
    rfm_segments: list[RFMRule] = Field(default_factory=_default_rfm)
    # ntile: quintiles of customers; quantile_breaks: R rfm's breaks at the 20/40/60/80 % quantiles
    rfm_scoring: RFMScoring = "ntile"
    # default: the rules of rfm_segments; r_rfm: the R rfm package's documented map (r_rfm_segments)
    rfm_segment_map: Literal["default", "r_rfm"] = "default"
    # orders up to and including this day count, recency from it (R's analysis_date); None: period end
    rfm_analysis_date: date | None = None
    attribution_lookback_days: int = Field(default=30, ge=1)
    time_decay_half_life_days: float = Field(default=7.0, gt=0)
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
    channel_grade_weights: dict[str, float] = Field(default_factory=lambda: {"roi": 0.5, "cac": 0.3, "retention": 0.2})
    # Grade score = weighted mean of min-max normalised ROI, CAC (reversed) and retention among
    # paid channels (0..1); cuts are score thresholds for S, A, B (rest C).
    channel_grade_cuts: tuple[float, float, float] = (0.75, 0.5, 0.25)

    @property
    def rfm_rules(self) -> list[RFMRule]:
        """The RFM segment rules in force: ``rfm_segments``, or :func:`r_rfm_segments` for ``r_rfm``."""
        return r_rfm_segments() if self.rfm_segment_map == "r_rfm" else self.rfm_segments

    @field_validator("channel_grade_weights")
    @classmethod
    def _grade_weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - {"roi", "cac", "retention"})
        if bad:
            raise ValueError(f"unknown graded metric(s) {bad}; known: ['roi', 'cac', 'retention']")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return v

    @field_validator("channel_grade_cuts")
    @classmethod
    def _cuts(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if not 1 >= v[0] >= v[1] >= v[2] >= 0:
            raise ValueError("need 1 >= S cut >= A cut >= B cut >= 0")
        return v

    @field_validator("position_weights")
    @classmethod
    def _position(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(v) < 0 or abs(sum(v) - 1) > 1e-9 or v[0] + v[2] <= 0:
            raise ValueError("need (first, middle, last) >= 0 summing to 1, first + last > 0")
        return v
