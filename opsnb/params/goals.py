"""01 goals: the KPI registry and the status bands."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from opsnb.params.base import Label, _Model, unique


class KPI(_Model):
    """One key performance indicator of the registry."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Label
    unit: Literal["count", "currency", "ratio", "roi", "hours", "score"]  # roi: GMV ÷ cost, shown 1:4.5
    direction: Literal["higher", "lower"] = "higher"
    source: str = "builtin"  # "builtin" (key names a built-in definition) or "table" (kpis table)
    builtin: str | None = None  # built-in definition name when it differs from key
    headline: bool = False  # shown as a card on the summary page
    additive: bool | None = None  # table KPIs: months add up to quarters/years (None: count/currency units do)

    @property
    def definition(self) -> str:
        return self.builtin or self.key


class StatusBands(_Model):
    """Attainment bands: ≥ exceeded → 超额完成; ≥ nearly → 基本达成; else 未达成."""

    exceeded: float = 1.0
    nearly: float = 0.95

    @model_validator(mode="after")
    def _ordered(self) -> StatusBands:
        if not 0 < self.nearly <= self.exceeded:
            raise ValueError("need 0 < nearly <= exceeded")
        return self


def _default_kpis() -> list[KPI]:
    def k(key: str, zh: str, en: str, unit: str, direction: str = "higher", **kw: Any) -> KPI:
        return KPI(key=key, label=Label(zh=zh, en=en), unit=unit, direction=direction, **kw)  # type: ignore[arg-type]

    return [
        k("gmv", "GMV", "GMV", "currency", headline=True),
        k("orders", "订单数", "Orders", "count"),
        k("aov", "客单价", "Average order value", "currency"),
        k("new_users", "新增用户", "New users", "count", headline=True),
        k("active_users", "日均活跃用户", "Average DAU", "count", headline=True),
        k("mau", "月活跃用户", "MAU", "count"),
        k("paying_users", "付费用户", "Paying users", "count"),
        k("conversion_rate", "付费转化率", "Paying conversion", "ratio", headline=True),
        k("repurchase_rate", "复购率", "Repurchase rate", "ratio"),
        k("retention_d30", "注册用户第30日留存率", "Sign-ups' day-30 retention", "ratio"),
        k("churn_rate", "流失率", "Churn rate", "ratio", "lower"),
        k("cac", "获客成本", "CAC", "currency", "lower"),
        k("roi", "投放ROI", "Marketing ROI", "roi"),
        k("resolution_rate", "工单解决率", "Ticket resolution rate", "ratio"),
        k("resolution_hours", "平均解决时长(小时)", "Mean resolution time (h)", "hours", "lower"),
        k("satisfaction", "满意度", "Satisfaction", "score"),
        k("nps", "NPS", "NPS", "score", source="table"),
    ]


class GoalsSettings(_Model):
    kpis: list[KPI] = Field(default_factory=_default_kpis)
    bands: StatusBands = Field(default_factory=StatusBands)
    trend_months: int = Field(default=12, ge=3, le=60)

    @field_validator("kpis")
    @classmethod
    def _unique(cls, v: list[KPI]) -> list[KPI]:
        unique([k.key for k in v], "KPI keys")
        return v
