"""What a channel receives: the review card and the alert digest, in the report's language.

Every line is a hand-off a section wrote for the summary page (KPI cards, problem records, action
records) put into a template of ``opsnb/i18n/<lang>/notify.yaml``: nothing here computes a number.
Length limits are the transport's (:func:`opsnb.notify.channels.fit`): whole lines are cut from the
end and replaced by "…更多内容见报告".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opsnb.notify.channels import Message
from opsnb.notify.review import Review
from opsnb.params import Channel, DeliverySettings
from opsnb.render.i18n import t

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def kpi_line(card: dict[str, Any], lang: str) -> str:
    """One KPI card of the summary page as a line (its value, target, attainment, status and change)."""
    if card.get("status") in (None, "n/a"):
        return t("notify.kpi_no_target", lang, label=card["label"], value=card["value"], change=card["change"])
    return t("notify.kpi", lang, label=card["label"], value=card["value"], target=card["target"],
             attainment=card["attainment"], status=card["status_text"], change=card["change"])


def problem_line(p: dict[str, Any], lang: str) -> str:
    return t("notify.problem", lang, severity=p["severity_text"], text=p["text"], owner=p["owner"])


def section_title(name: str, lang: str) -> str:
    """A section's title as its page shows it (the summary included)."""
    return t("summary.title", lang) if name == "summary" else t(f"sections.{name}.title", lang)


def _section_titles(names: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(section_title(n, lang) for n in names)


def link_line(review: Review, delivery: DeliverySettings) -> str:
    return t("notify.link" if delivery.base_url else "notify.link_local", review.lang,
             link=review.link(delivery.base_url))


def card(review: Review, channel: Channel, delivery: DeliverySettings, *, update: bool = False) -> Message:
    """The review card of ``review`` for ``channel``: headline KPIs, top problems with owners, overdue
    actions, sections that failed, and the link; only the sections the channel asked for."""
    lang, want = review.lang, set(channel.sections)
    lines: list[str] = []
    failed = [s["section"] for s in review.failed]
    if failed:
        lines.append(t("notify.failed", lang, sections=_section_titles(failed, lang)))
    cards = review.handoff("kpi_cards") if "goals" in want else None
    if cards:
        lines += [t("notify.kpis", lang)] + [kpi_line(c, lang) for c in cards]
    problems = review.handoff("problems") if "problems" in want else None
    if problems is not None:
        top = problems[:delivery.max_problems]
        lines += [t("notify.problems", lang)] + ([problem_line(p, lang) for p in top] or [t("notify.no_problems", lang)])
    actions = review.handoff("actions") if "plan" in want else None
    if actions is not None:
        overdue = [a for a in actions if a.get("overdue")][:delivery.max_actions]
        lines += [t("notify.actions", lang)] + ([f"- {a['text']}" for a in overdue] or [t("notify.no_overdue", lang)])
    title = t("notify.title_update" if update else "notify.title", lang, unit=review.name, period=review.period)
    return Message(title=title, lines=tuple(lines), link=link_line(review, delivery), more=t("notify.more", lang))


@dataclass(frozen=True)
class Finding:
    """One thing an alert rule found: ``id`` names it across reruns, ``line`` says it (its fingerprint)."""

    rule: str
    id: str
    section: str
    severity: str
    line: str  # the alert line without its new/updated tag

    @property
    def fingerprint(self) -> str:
        import hashlib

        return hashlib.sha256(self.line.encode("utf-8")).hexdigest()[:16]


def alert_message(review: Review, items: list[tuple[Finding, bool]], delivery: DeliverySettings) -> Message:
    """One message with every new (``False``) or changed (``True``) finding, most severe first (then as the
    rules are listed in params)."""
    lang = review.lang
    ordered = sorted(items, key=lambda x: SEVERITY_RANK.get(x[0].severity, 3))  # stable: rules in params order
    lines = tuple(f.line.replace("{tag}", t("notify.changed" if changed else "notify.new", lang), 1)
                  for f, changed in ordered)
    return Message(title=t("notify.alert_title", lang, unit=review.name, period=review.period), lines=lines,
                   link=link_line(review, delivery), more=t("notify.more", lang))
