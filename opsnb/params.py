"""Typed, validated settings: the one place defaults live.

Layering: model defaults → ``params/default.yaml`` → ``params/<unit>.yaml`` → an explicit
``params_file`` → ``--set key.path=value`` overrides. Everything is validated before any kernel
starts; :class:`~opsnb.errors.ParamsError` lists every problem at once with its key path, the
bad value and what is allowed.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from opsnb.errors import ParamsError, Problem
from opsnb.paths import params_dir
from opsnb.periods import PERIOD_FORMS, RELATIVE, Period, is_relative, resolve_period

Lang = Literal["zh", "en"]
#: Series the anomaly detector can check (daily dau, new_users, gmv, conversion; weekly churn).
AnomalySeries = Literal["dau", "new_users", "gmv", "conversion", "churn"]
_ANOMALY_SERIES: tuple[AnomalySeries, ...] = get_args(AnomalySeries)
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
        keys = [k.key for k in v]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"duplicate KPI keys {dup}")
        return v


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


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_NAMES = {**{d.lower(): i for i, d in enumerate(WEEKDAYS)},
                  **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                                 "saturday", "sunday"))}}


_NOT_A_WEEKDAY = "not a weekday; use Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)"


def _weekday(v: Any) -> int:
    """``Sat``, ``saturday`` or ``5`` → 5 (Monday = 0, as :meth:`datetime.date.weekday`)."""
    if isinstance(v, bool):  # YAML's yes/no: a bool is an int to Python, never a weekday here
        raise ValueError(_NOT_A_WEEKDAY)
    if isinstance(v, int) and 0 <= v <= 6:
        return v
    if isinstance(v, str) and v.strip().lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[v.strip().lower()]
    raise ValueError(_NOT_A_WEEKDAY)


def _day(v: Any) -> date:
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v).strip())


def _date_range(v: Any) -> tuple[date, date]:
    """``2011-12-25``, ``"2010-12-24..2011-01-03"`` or ``[first, last]`` → (first, last), inclusive."""
    try:
        if isinstance(v, list | tuple) and len(v) == 2:
            lo, hi = _day(v[0]), _day(v[1])
        elif isinstance(v, str) and ".." in v:
            a, b = v.split("..", 1)
            lo, hi = _day(a), _day(b)
        else:
            lo = hi = _day(v)
    except (TypeError, ValueError):
        raise ValueError("not a date or a date range; use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD "
                         "(first and last day, inclusive)") from None
    if hi < lo:
        raise ValueError(f"the range ends ({hi}) before it starts ({lo})")
    return lo, hi


#: A weekday, 0 (Monday) … 6 (Sunday), given as a number or an English name.
Weekday = Annotated[int, BeforeValidator(_weekday)]
#: Closed days (first, last), inclusive, given as a date, "first..last" or [first, last].
DateRange = Annotated[tuple[date, date], BeforeValidator(_date_range)]


class BusinessDays(_Model):
    """Days the unit does not trade: nothing recorded on them is expected, so they are not "missing".

    Default: every day is open. A day is closed when its weekday is in ``closed_weekdays``, it
    falls in one of ``closed_dates``, or ``closed_on_public_holidays`` is set and it is a public
    holiday of the calendar region (``calendar_region``; substitute days included).
    """

    closed_weekdays: list[Weekday] = Field(default_factory=list)  # Mon..Sun, Monday..Sunday or 0-6 (Monday = 0)
    # YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (first and last day, inclusive)
    closed_dates: list[DateRange] = Field(default_factory=list)
    # the calendar region's public holidays are closed days (substitute days included)
    closed_on_public_holidays: bool = False

    @field_validator("closed_weekdays", "closed_dates", mode="before")
    @classmethod
    def _listed(cls, v: Any) -> Any:
        return v if isinstance(v, list | tuple) else [v]  # one value stands for a list of one

    @field_validator("closed_weekdays", "closed_dates")
    @classmethod
    def _sorted(cls, v: list[Any]) -> list[Any]:
        return sorted(set(v))

    @property
    def all_open(self) -> bool:
        """Whether every day is open (the default)."""
        return not (self.closed_weekdays or self.closed_dates or self.closed_on_public_holidays)


#: Time zones whose country zone.tab does not name (links and old names), and the ones we rely on.
TIMEZONE_COUNTRIES = {
    "Asia/Shanghai": "CN", "Asia/Chongqing": "CN", "Asia/Chungking": "CN", "Asia/Harbin": "CN", "PRC": "CN",
    "Asia/Urumqi": "CN", "Asia/Hong_Kong": "HK", "Hongkong": "HK", "Asia/Macau": "MO", "Asia/Taipei": "TW",
    "ROC": "TW", "Europe/London": "GB", "GB": "GB", "GB-Eire": "GB", "Europe/Belfast": "GB",
    "Europe/Dublin": "IE", "Eire": "IE", "America/New_York": "US", "America/Chicago": "US",
    "America/Denver": "US", "America/Los_Angeles": "US", "US/Eastern": "US", "US/Central": "US",
    "US/Mountain": "US", "US/Pacific": "US",
}


@cache
def _zone_tab() -> dict[str, str]:
    """zone → country code from tzdata's ``zone.tab`` (system tz path first, then the tzdata package)."""
    import zoneinfo
    from importlib import resources

    text = None
    for d in zoneinfo.TZPATH:
        p = Path(d) / "zone.tab"
        if p.is_file():
            text = p.read_text(encoding="utf-8")
            break
    if text is None:
        try:
            text = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[2]] = parts[0]
    return out


def country_of_timezone(tz: str) -> str | None:
    """ISO country code of an IANA time zone (``Europe/London`` → ``GB``); None for UTC and unknown zones."""
    return TIMEZONE_COUNTRIES.get(tz) or _zone_tab().get(tz)


def _region(v: str) -> str:
    """Validate a calendar region: an ISO country code the holidays package knows, optionally ``-SUBDIVISION``."""
    import holidays

    code = v.strip().upper()
    country, _, sub = code.partition("-")
    known = holidays.list_supported_countries()
    if country not in known:
        raise ValueError(f"unknown calendar region {v!r}: not a country the holidays package supports "
                         "(ISO 3166 code such as CN, GB, US, DE)")
    if sub and sub not in known[country]:
        raise ValueError(f"unknown subdivision {sub!r} of {country}; known: {known[country]}")
    return code


def known_sections(v: list[str]) -> list[str]:
    """``v`` if every name is a section (``SECTIONS``); else an error naming the unknown and the known ones."""
    bad = [s for s in v if s not in SECTIONS]
    if bad:
        raise ValueError(f"unknown sections {bad}; known: {list(SECTIONS)}")
    return v


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


# ---------------------------------------------------------------- delivery (notify:, alerts:, delivery:)

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_NAME = r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$"


def _channel_kind(v: Any) -> str:
    """A kind registered in :mod:`opsnb.notify.channels` (the one list of kinds); else the error a Literal gives."""
    from opsnb.notify.channels import kinds
    from opsnb.notify.channels.registry import listed

    known = kinds()
    if isinstance(v, str) and v in known:
        return v
    expected = listed([repr(k) for k in known], "or")
    raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})


def _channel_kinds_schema(schema: dict[str, Any]) -> None:
    from opsnb.notify.channels import kinds

    schema.update({"enum": list(kinds()), "type": "string"})


#: ``notify[].kind``: one of the kinds registered in :mod:`opsnb.notify.channels`.
ChannelKind = Annotated[str, PlainValidator(_channel_kind, json_schema_input_type=str),
                        Field(json_schema_extra=_channel_kinds_schema)]


def _env_name(v: str | None, field: str) -> str | None:
    """An environment variable's *name*; a pasted URL or secret is refused (params files are shared)."""
    if v is not None and not re.match(_ENV_NAME, v):
        raise ValueError(f"{field} names an environment variable that holds the value (e.g. OPSNB_WECOM_OPS), "
                         "not the value itself: put the URL or secret in that variable, never in a params file")
    return v


class Channel(_Model):
    """One place a review goes: a chat group's bot (WeCom, DingTalk, Feishu/Lark, Slack) or mailboxes (SMTP).

    Secrets never live here: ``webhook_env`` / ``secret_env`` / ``password_env`` name environment
    variables holding the webhook URL (it carries the bot's key), the signing secret, the SMTP password.
    """

    name: str = Field(pattern=_NAME)
    kind: ChannelKind
    webhook_env: str | None = None  # chat bots: env var with the webhook URL
    secret_env: str | None = None  # "signed" bots (a kind that signs): env var with the signing secret
    digest: bool = True  # send the review card after each publish
    sections: list[str] = Field(default_factory=lambda: list(SECTIONS))  # what the card shows
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES))  # alerts it receives
    alerts: list[str] | None = None  # alert rules routed here by name (None: every rule)
    timeout_s: float = Field(default=10.0, gt=0, le=120)  # one HTTP request / SMTP session
    # email
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    password_env: str | None = None
    sender: str | None = None
    to: list[str] = Field(default_factory=list)
    attach_pdf: bool = True  # email: the one-file PDF of the review (``opsnb export --pdf``)

    @field_validator("webhook_env", "secret_env", "password_env")
    @classmethod
    def _env(cls, v: str | None, info: Any) -> str | None:
        return _env_name(v, info.field_name)

    @field_validator("sections")
    @classmethod
    def _sections(cls, v: list[str]) -> list[str]:
        return known_sections(v)

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        """The kind's class says what its settings lack (webhook_env, sender and to …)."""
        from opsnb.notify.channels import get

        problem = get(self.kind).settings_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class AlertRule(_Model):
    """A finding worth a message the day the run sees it (sent once per finding; a changed finding is an update).

    ``when``: ``kpi`` — a KPI's attainment status below ``below`` (``nearly``: the KPI missed;
    ``exceeded``: nearly or missed), for ``kpis`` (default: every KPI with a target);
    ``problem`` — a problem of at least ``severity`` (and of ``area`` / ``detector`` if given);
    ``section_failed`` — a section (of ``sections``, default any) failed in the run.
    """

    name: str = Field(pattern=_NAME)
    when: Literal["kpi", "problem", "section_failed"]
    below: Literal["exceeded", "nearly"] = "nearly"
    kpis: list[str] | None = None
    severity: Severity = "high"  # problem: the least severity that alerts; others: the alert's severity
    area: str | None = None
    detector: str | None = None
    sections: list[str] | None = None

    @field_validator("sections")
    @classmethod
    def _sections(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else known_sections(v)


class DeliverySettings(_Model):
    base_url: str | None = None  # the link in messages: <base_url>/<unit>/<period>/index.html
    tries: int = Field(default=3, ge=1, le=10)  # a 5xx or timeout is retried, with backoff …
    budget_s: float = Field(default=30.0, gt=0, le=600)  # … within this many seconds per message
    max_problems: int = Field(default=3, ge=0, le=20)  # on the review card
    max_actions: int = Field(default=3, ge=0, le=20)


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
        names = [x.name for x in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate names {dup}")
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


# ---------------------------------------------------------------- loading and layering


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def merge_overrides(*layers: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """Merge layers of overrides, each ``--set`` items (``["lang=en"]``) or a nested mapping; later layers win.

    ``merge_overrides(["batch.workers=4", "lang=en"], {"lang": "zh"})`` is
    ``{"batch": {"workers": 4}, "lang": "zh"}``; a bad ``--set`` item raises :class:`ParamsError`.
    """
    out: dict[str, Any] = {}
    for layer in layers:
        out = _merge(out, parse_overrides(layer) if isinstance(layer, list) else dict(layer or {}))
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError([Problem(str(path), f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ParamsError([Problem(str(path), "top level must be a mapping of settings", type(data).__name__)])
    return data


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``["goals.bands.nearly=0.9", "lang=en"]`` into a nested mapping (values parsed as YAML)."""
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            problems.append(Problem("--set", "expected key.path=value", item))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if key in {"period", "unit", "pack"}:
            value = raw  # keep "202401" or "2026" as text
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    if problems:
        raise ParamsError(problems)
    return out


def _describe(err: ErrorDetails) -> Problem:
    loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown setting; check the spelling against params/default.yaml"
    elif err["type"] == "literal_error":
        msg = "not an allowed value; " + msg.replace("Input should be", "allowed:")
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return Problem(loc, msg, err.get("input"))


def validate(data: dict[str, Any]) -> Settings:
    """Validate a settings mapping; raise :class:`ParamsError` listing every problem."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ParamsError([_describe(e) for e in exc.errors()]) from None


def load_params(
    *,
    unit: str | None = None,
    params_file: str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    root: Path | None = None,
) -> Settings:
    """Load settings with layering: defaults → default.yaml → <unit>.yaml → params_file → overrides."""
    pdir = params_dir(root)
    data: dict[str, Any] = {}
    default = pdir / "default.yaml"
    if default.is_file():
        data = _merge(data, _read_yaml(default))
    over = merge_overrides(overrides)
    unit = unit or over.get("unit") or data.get("unit")
    if unit:
        unit_file = pdir / f"{unit}.yaml"
        if unit_file.is_file():
            data = _merge(data, _read_yaml(unit_file))
        data["unit"] = unit
    if params_file:
        path = Path(params_file)
        if not path.is_file():
            raise ParamsError([Problem("params_file", "file not found", str(path))])
        data = _merge(data, _read_yaml(path))
    data = _merge(data, over)
    return validate(data)
