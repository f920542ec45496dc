"""Delivery: a published review's card and alerts, sent to the team's chat groups and mailboxes.

``notify(folder)`` runs after every publish (``opsnb run``) and on demand (``opsnb notify``):

1. the review card (:func:`~opsnb.notify.messages.card`) to every channel with ``digest: true``;
2. the alert rules (:mod:`~opsnb.notify.alerts`) → findings → one digest per channel of the findings
   routed to it (its ``alerts`` names, ``severities`` and ``sections``) that are new or changed;
3. each message through :func:`~opsnb.notify.channels.send` (retries, the channel's own errors), each
   outcome appended to ``outputs/<unit>/deliveries.json`` (:mod:`~opsnb.notify.sendlog`).

Idempotent: what a channel already received for the period (same card text, same finding text) is not
sent again; ``resend`` sends anyway. A delivery that fails never touches the published review; the run's
exit code says so (``DELIVERY_FAILED`` in :mod:`opsnb.cli`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsnb.errors import OpsnbError
from opsnb.notify.channels import Delivery, Message, get, render_text, send

if TYPE_CHECKING:
    from opsnb.notify.messages import Finding
    from opsnb.notify.review import Review
    from opsnb.params import Channel, Settings

CARD = ("card", "card")  # the (rule, id) under which the review card is logged


@dataclass
class Sent:
    """One message to one channel (or, in a dry run, what would be sent)."""

    channel: str
    what: str  # card | alerts
    ok: bool
    error: str | None = None
    findings: int = 0
    preview: str = ""


@dataclass
class Report:
    unit: str
    period: str
    dry_run: bool = False
    sent: list[Sent] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # channels with nothing new to send

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sent)

    @property
    def failed(self) -> list[Sent]:
        return [s for s in self.sent if not s.ok]

    def text(self) -> str:
        """What happened, one line per message (the previews too in a dry run)."""
        head = f"{self.unit} {self.period}: "
        if not self.sent and not self.unchanged:
            return head + "no channel configured (notify: in params)"
        lines = []
        for s in self.sent:
            what = s.what + (f" ({s.findings} findings)" if s.what == "alerts" else "")
            state = "would send" if self.dry_run else "sent" if s.ok else f"FAILED: {s.error}"
            lines.append(f"{head}{s.channel}: {what} {state}")
            if self.dry_run and s.preview:
                lines.append(s.preview)
        lines += [f"{head}{c}: nothing new (already delivered)" for c in self.unchanged]
        return "\n".join(lines)


def _fingerprint(msg: Message) -> str:
    return hashlib.sha256("\n".join(msg.lines).encode("utf-8")).hexdigest()[:16]


def _routed(f: Finding, ch: Channel) -> bool:
    return ((ch.alerts is None or f.rule in ch.alerts) and f.severity in ch.severities
            and (f.section in ch.sections or f.section == "summary"))


def _with_pdf(review: Review, msg: Message) -> Message:
    """``msg`` with the review's one-file PDF attached (exported now if missing or older than the page)."""
    from dataclasses import replace

    from opsnb.export.pdf import export_review

    pdf = review.folder / "review.pdf"
    if not pdf.is_file() or pdf.stat().st_mtime < (review.folder / "index.html").stat().st_mtime:
        export_review(review.folder, pdf=True)
    return replace(msg, attachments=(pdf,))


def _failed_delivery(ch: Channel, error: str) -> Delivery:
    return Delivery(channel=ch.name, kind=ch.kind, ok=False, attempts=[], bytes=0, truncated=False, error=error)


def notify(folder: Path, *, settings: Settings | None = None, overrides: list[str] | None = None,
           params_file: str | None = None, dry_run: bool = False, resend: bool = False,
           log: Callable[[str], None] | None = None, env: Mapping[str, str] | None = None,
           sender: Callable[..., Delivery] | None = None) -> Report:
    """Send ``folder``'s review card and new or changed alerts to every channel in ``settings.notify``.

    ``settings``: default the unit's params (``params/<unit>.yaml`` + ``params_file`` + ``overrides``),
    so a channel fixed after the run is used. ``sender``: the transport (tests); ``env``: where secrets
    are read. Never raises for a failed delivery (see :attr:`Report.ok`).
    """
    # Imported here, not above: params asks opsnb.notify.channels for the channel kinds, and importing that
    # package runs this file first, which at its top needs only the transport (channels).
    from opsnb.notify import sendlog
    from opsnb.notify.alerts import evaluate
    from opsnb.notify.messages import alert_message, card
    from opsnb.notify.review import load_review
    from opsnb.params import load_params

    review = load_review(folder)
    s = settings or load_params(unit=review.unit, params_file=params_file, overrides=overrides)
    report = Report(review.unit, review.period, dry_run=dry_run)
    if not s.notify:
        return report
    findings = evaluate(review, s.alerts)
    env = os.environ if env is None else env
    transport = sender or send
    say = log or (lambda m: None)

    def deliver(ch: Channel, what: str, msg: Message, items: list[tuple[str, str, str]],
                records: list[dict[str, Any]]) -> None:
        n = len(items) if what == "alerts" else 0
        if dry_run:
            preview = f"--- {ch.name} ({ch.kind}) ---\n{render_text(ch.kind, msg)}"
            report.sent.append(Sent(ch.name, what, True, findings=n, preview=preview))
            return
        try:
            if get(ch.kind).attachments and ch.attach_pdf:
                msg = _with_pdf(review, msg)
            d = transport(ch, msg, env=env, tries=s.delivery.tries, budget_s=s.delivery.budget_s)
        except OpsnbError as exc:  # a missing secret, a PDF that could not be made: this channel only
            d = _failed_delivery(ch, str(exc))
        records.append({"period": review.period, "lang": review.lang, "run_id": review.run_id, "message": what,
                        "at": datetime.now(UTC).isoformat(timespec="seconds"), **d.to_json(),
                        "items": [{"rule": r, "id": i, "fingerprint": fp} for r, i, fp in items]})
        report.sent.append(Sent(ch.name, what, d.ok, d.error, findings=n))
        say(f"  {ch.name:<12} {what:<6} {'sent' if d.ok else 'FAILED: ' + (d.error or '')}")

    path = sendlog.log_path(folder)
    # a dry run reads the log without its lock and writes nothing
    with sendlog.locked(path) if not dry_run else nullcontext(sendlog.read(path)) as records:
        for ch in s.notify:
            before = len(report.sent)
            prev = sendlog.last_sent(records, period=review.period, channel=ch.name, lang=review.lang)
            if ch.digest:
                msg = card(review, ch, s.delivery)
                fp = _fingerprint(msg)
                if resend or prev.get(CARD) != fp:
                    if CARD in prev:
                        msg = card(review, ch, s.delivery, update=True)
                    deliver(ch, "card", msg, [(*CARD, fp)], records)
            todo = [(f, (f.rule, f.id) in prev) for f in findings
                    if _routed(f, ch) and (resend or prev.get((f.rule, f.id)) != f.fingerprint)]
            if todo:
                deliver(ch, "alerts", alert_message(review, todo, s.delivery),
                        [(f.rule, f.id, f.fingerprint) for f, _ in todo], records)
            if len(report.sent) == before:
                report.unchanged.append(ch.name)
    return report


__all__ = ["Report", "Sent", "notify"]
