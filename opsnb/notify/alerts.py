"""Alert rules (``alerts:`` in params) evaluated on a published review's hand-offs and manifest.

A rule yields :class:`~opsnb.notify.messages.Finding` s: a KPI whose status is below the rule's band,
a problem of at least its severity (and area / detector), a section that failed. A finding's ``id``
(``kpi:gmv``, ``problem:channel:KOL``, ``section:insights``) is what stays the same across reruns; its
fingerprint is the text, so a finding whose numbers moved is an update and an unchanged one is not
sent again (:mod:`opsnb.notify.sendlog`).
"""

from __future__ import annotations

from typing import Any

from opsnb.notify.messages import SEVERITY_RANK, Finding, section_title
from opsnb.notify.review import Review
from opsnb.params import AlertRule
from opsnb.render.i18n import t

#: ``below``: the statuses that are below that band.
BELOW = {"nearly": ("missed",), "exceeded": ("missed", "nearly")}


def _kpis(review: Review, rule: AlertRule) -> list[Finding]:
    cards: list[dict[str, Any]] = review.handoff("kpis") or review.handoff("kpi_cards") or []
    out = []
    for c in cards:
        if c.get("status") not in BELOW[rule.below] or (rule.kpis is not None and c["key"] not in rule.kpis):
            continue
        line = t("notify.alert.kpi", review.lang, tag="{tag}", label=c["label"], attainment=c["attainment"],
                 status=c["status_text"], value=c["value"], target=c["target"])
        out.append(Finding(rule.name, f"kpi:{c['key']}", "goals", rule.severity, line))
    return out


def _problems(review: Review, rule: AlertRule) -> list[Finding]:
    out = []
    for p in review.handoff("problems") or []:
        if SEVERITY_RANK.get(p["severity"], 3) > SEVERITY_RANK[rule.severity]:
            continue
        if (rule.area and p["area"] != rule.area) or (rule.detector and p["detector"] != rule.detector):
            continue
        line = t("notify.alert.problem", review.lang, tag="{tag}", severity=p["severity_text"], text=p["text"],
                 owner=p["owner"])
        out.append(Finding(rule.name, f"problem:{p['key']}", "problems", p["severity"], line))
    return out


def _failed(review: Review, rule: AlertRule) -> list[Finding]:
    out = []
    for s in review.failed:
        name = s["section"]
        if rule.sections is not None and name not in rule.sections:
            continue
        error = (s.get("error") or s.get("status") or "").strip().splitlines()
        line = t("notify.alert.section_failed", review.lang, tag="{tag}", section=section_title(name, review.lang),
                 error=error[0] if error else "")
        out.append(Finding(rule.name, f"section:{name}", name, rule.severity, line))
    return out


_RULES = {"kpi": _kpis, "problem": _problems, "section_failed": _failed}


def evaluate(review: Review, rules: list[AlertRule]) -> list[Finding]:
    """Every finding of every rule on ``review`` (a finding named by two rules is listed under each)."""
    return [f for rule in rules for f in _RULES[rule.when](review, rule)]
