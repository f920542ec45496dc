"""Every setting of a run in one model, and the review period it is about."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from opsnb.errors import ParamsError, Problem
from opsnb.params.base import Label, Lang, _Model, unique
from opsnb.params.calendar import BusinessDays, _region, country_of_timezone
from opsnb.params.campaigns import CampaignsSettings
from opsnb.params.delivery import AlertRule, Channel, DeliverySettings
from opsnb.params.goals import KPI, GoalsSettings
from opsnb.params.insights import InsightsSettings
from opsnb.params.plan import PlanSettings
from opsnb.params.problems import ProblemsSettings
from opsnb.params.run import BatchSettings, PublishSettings
from opsnb.periods import PERIOD_FORMS, RELATIVE, Period, is_relative, resolve_period


class _Unresolved(str):
    """A relative period word (``last-month`` …) that could not be resolved; ``reason`` is the error for ``period``."""

    reason = ""


def _unresolved(word: str, reason: str) -> _Unresolved:
    out = _Unresolved(word)
    out.reason = reason
    return out


def _period(v: Any) -> Period | None:
    """``"2026-10"``, ``"2026-Q3"`` or ``"2026"`` → a :class:`Period` (parsed here, once); empty → None.

    A relative word (``last-month`` …) arrives here already resolved by :meth:`Settings._relative_period`,
    which knows the unit's time zone.
    """
    if isinstance(v, _Unresolved):
        raise ValueError(v.reason)
    if v is None or v == "" or isinstance(v, Period):
        return v or None
    if isinstance(v, bytes | bytearray):
        v = v.decode()
    if not isinstance(v, str):  # as a ``str`` field says it (YAML reads 2026 as a number)
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if is_relative(v):  # Settings resolves it first, except on assignment (which sees no timezone)
        raise ValueError(f"{v!r} is relative to the day of the run; assign "
                         f"opsnb.periods.resolve_period({v!r}, settings.timezone) instead")
    try:
        return Period.parse(v)
    except ValueError:
        hint = " (weeks are not review periods)" if "week" in v.lower() else ""
        raise ValueError(f"not a period{hint}; accepted forms: {PERIOD_FORMS}") from None


#: The review period: given as text (YYYY-MM, YYYY-Qn, YYYY, or last-month … resolved in the unit's time zone
#: when the settings are validated), held as a Period, written back as its label (never as "last-month").
ReviewPeriod = Annotated[
    Period | None,
    PlainValidator(_period),
    PlainSerializer(lambda p: p.label if p is not None else None, return_type=str | None),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d{4}(-(0[1-9]|1[0-2])|-[Qq][1-4])?$"},
                              {"enum": list(RELATIVE)}, {"type": "null"}]}),
]


class Settings(_Model):
    """Every setting of a run. ``params/default.yaml`` documents each one."""

    unit: str = Field(default="sample", pattern=r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")
    # the unit's name on its pages' titles, the cards, alerts and the group page: {zh: 北京分公司, en: Beijing
    # branch}, or one text for both languages; null = the unit's id
    unit_label: Label | None = None
    period: ReviewPeriod = None  # None: the latest full month of the pack
    pack: str = "data/sample"
    # A pack shared by several units: the column saying which unit a row belongs to, and this unit's
    # value in it (default: the unit's name). Tables without the column are shared by every unit.
    unit_column: str | None = None
    unit_value: str | None = None
    lang: Lang = "zh"
    timezone: str = "Asia/Shanghai"
    currency: str = "¥"
    # ISO country code (CN, GB, US …, optionally -SUBDIVISION: GB-SCT) of the public holidays and
    # marketing calendar; null = the country of the timezone (Asia/Shanghai → CN, Europe/London → GB)
    calendar_region: str | None = None
    # days the unit does not trade (not counted as missing data); default: every day is open
    business_days: BusinessDays = Field(default_factory=BusinessDays)
    # rates and growth on fewer than this many members of their base (users, orders, tickets …) are shown
    # with their n and no verdict (opsnb.metrics.rates)
    min_base: int = Field(default=30, ge=1)
    goals: GoalsSettings = Field(default_factory=GoalsSettings)
    campaigns: CampaignsSettings = Field(default_factory=CampaignsSettings)
    insights: InsightsSettings = Field(default_factory=InsightsSettings)
    problems: ProblemsSettings = Field(default_factory=ProblemsSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    notify: list[Channel] = Field(default_factory=list)
    alerts: list[AlertRule] = Field(default_factory=list)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    @field_validator("notify", "alerts")
    @classmethod
    def _unique_names(cls, v: list[Any]) -> list[Any]:
        unique([x.name for x in v], "names")
        return v

    @model_validator(mode="before")
    @classmethod
    def _relative_period(cls, data: Any) -> Any:
        """``period: last-month`` (… ``this-year``) → that period on the calendar of ``timezone``, now.

        "Now" is :func:`opsnb.periods.current_time`: the clock, or ``$OPSNB_NOW`` for tests and backfills.
        """
        if not isinstance(data, dict) or not is_relative(data.get("period")):
            return data
        word = data["period"]
        tz = data.get("timezone", cls.model_fields["timezone"].default)
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            return {**data, "period": _unresolved(word, f"{word!r} is resolved in the unit's timezone, "
                                                         "which is not valid")}
        try:
            return {**data, "period": resolve_period(word, zone)}
        except ValueError as exc:  # a bad $OPSNB_NOW
            return {**data, "period": _unresolved(word, str(exc))}

    @field_validator("unit_label", mode="before")
    @classmethod
    def _one_label(cls, v: Any) -> Any:
        """``unit_label: 北京分公司`` is the name in both languages."""
        return {"zh": v, "en": v} if isinstance(v, str) else v

    def unit_name(self, lang: str | None = None) -> str:
        """The unit as people call it in ``lang`` (default: the settings' language): ``unit_label``, else its id."""
        return self.unit_label(lang or self.lang) if self.unit_label is not None else self.unit

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown IANA timezone (e.g. Asia/Shanghai, Europe/London, UTC)") from None
        return v

    @field_validator("calendar_region")
    @classmethod
    def _calendar_region(cls, v: str | None) -> str | None:
        return _region(v) if v else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def region(self) -> str | None:
        """The calendar region in use: ``calendar_region``, else the time zone's country (None: unknown)."""
        return self.calendar_region or country_of_timezone(self.timezone)

    def kpi(self, key: str) -> KPI:
        """The KPI declared under ``key``; a clear error naming the known keys otherwise."""
        for k in self.goals.kpis:
            if k.key == key:
                return k
        raise ParamsError([Problem("goals.kpis", f"no KPI {key!r}", expected=str([k.key for k in self.goals.kpis]))])
