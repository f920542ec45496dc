"""Typed, validated settings: the one place defaults live (a room per part of the review).

Layering: model defaults → ``params/default.yaml`` → ``params/<unit>.yaml`` → an explicit
``params_file`` → ``--set key.path=value`` overrides. Everything is validated before any kernel
starts; :class:`~opsnb.errors.ParamsError` lists every problem at once with its key path, the
bad value and what is allowed. The rooms: ``base`` (the model base, texts, sections), one module per
section (``goals``, ``campaigns``, ``insights``, ``problems``, ``plan``), ``calendar`` (trading days; the
time-zone → country table is data: ``timezones.yaml``), ``run`` (``batch:``, ``publish:``), ``delivery``
(``notify:``, ``alerts:``, ``delivery:``), ``settings`` (the whole :class:`Settings`) and ``load`` (layering).
"""

from opsnb.errors import ParamsError, Problem
from opsnb.params.base import NOTEBOOKS, SECTIONS, Label, Lang, known_sections
from opsnb.params.calendar import WEEKDAYS, BusinessDays, DateRange, Weekday, country_of_timezone, timezone_countries
from opsnb.params.campaigns import CampaignsSettings
from opsnb.params.delivery import SEVERITIES, AlertRule, Channel, ChannelKind, DeliverySettings, Severity
from opsnb.params.goals import KPI, GoalsSettings, StatusBands
from opsnb.params.insights import InsightsSettings, RFMRule, RFMScoring, r_rfm_segments
from opsnb.params.load import load_params, merge_overrides, parse_overrides, validate
from opsnb.params.plan import ManualAction, ManualRisk, PlanSettings, QuarterTheme
from opsnb.params.problems import AnomalySeries, ManualProblem, ProblemsSettings
from opsnb.params.run import BatchSettings, PublishSettings
from opsnb.params.settings import ReviewPeriod, Settings

__all__ = ["AlertRule", "AnomalySeries", "BatchSettings", "BusinessDays", "CampaignsSettings", "Channel", "ChannelKind", "DateRange", "DeliverySettings", "GoalsSettings", "InsightsSettings", "KPI", "Label", "Lang", "ManualAction", "ManualProblem", "ManualRisk", "NOTEBOOKS", "ParamsError", "PlanSettings", "Problem", "ProblemsSettings", "PublishSettings", "QuarterTheme", "RFMRule", "RFMScoring", "ReviewPeriod", "SECTIONS", "SEVERITIES", "Settings", "Severity", "StatusBands", "WEEKDAYS", "Weekday", "country_of_timezone", "timezone_countries", "known_sections", "load_params", "merge_overrides", "parse_overrides", "r_rfm_segments", "validate"]
