"""02 campaigns."""

from __future__ import annotations

from pydantic import (
    Field,
)

from opsnb.params.base import _Model


class CampaignsSettings(_Model):
    after_effect_days: int = Field(default=30, ge=1)  # follow-up window after a campaign (repurchase, retention)
    top_n: int = Field(default=10, ge=1)  # content items listed; the rest is the long tail
    alpha: float = Field(default=0.05, gt=0, lt=1)  # A/B significance level
    ab_window_days: int | None = Field(default=None, ge=1)  # A/B conversion window; None: after_effect_days
    membership_term_months: int = Field(default=12, ge=1)  # a member is due for renewal one term after joining
    # campaigns.cost is booked inside channel_spend (media bought for the campaign); default false: a campaign's
    # own costs (prizes, coupons, gifts, events) come on top of channel spend
    cost_in_channel_spend: bool = False

    @property
    def ab_days(self) -> int:
        """The A/B conversion window in days."""
        return self.ab_window_days or self.after_effect_days
