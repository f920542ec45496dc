"""What every channel kind shares: fitting the text to its limit, and sending with retries inside a time budget.

A kind is a subclass of :class:`BaseChannel` (``wecom.py`` … ``email.py``): its limit and its markup as class
attributes, how it renders, what it sends (:meth:`~BaseChannel.payload`), how one try goes and how it reads the
answer (:meth:`~BaseChannel.attempt`; :class:`~opsnb.notify.channels.webhook.Webhook` for the chat bots), which
settings it needs (:meth:`~BaseChannel.settings_problem`, asked by params). :meth:`BaseChannel.send` is the one
retry loop: backoff within the budget, every attempt recorded, secrets scrubbed from everything it returns.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from opsnb.notify.channels.redact import env_value, scrub, secrets_of
from opsnb.notify.channels.registry import get, kinds, listed
from opsnb.notify.channels.text import Message, Rendered, fit, link_line, nbytes

if TYPE_CHECKING:
    from opsnb.params import Channel

log = logging.getLogger("opsnb.notify.channels")

#: A retry starts only if, after its backoff, this much (or ``timeout_s`` if smaller) is left of the budget.
_MIN_TRY_S = 1.0
#: Backoff before retry n (0-based): ``_BACKOFF_S * 2**n`` plus up to 10 % jitter.
_BACKOFF_S = 1.0


@dataclass
class Attempt:
    """One request (one SMTP session): when, the HTTP status or SMTP reply code, the channel's own error text."""

    at: str
    status: int | None
    error: str | None
    seconds: float


@dataclass
class Delivery:
    """The outcome of sending one message to one channel, every attempt included; secret-free."""

    channel: str
    kind: str
    ok: bool
    attempts: list[Attempt] = field(default_factory=list)
    bytes: int = 0
    truncated: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for ``deliveries.json``."""
        return asdict(self)


@dataclass
class Outcome:
    """One attempt's result: ok, or the channel's own words and whether a retry may help."""

    ok: bool
    status: int | None
    error: str | None  # the channel's own words, for Attempt.error
    final: str | None  # for Delivery.error
    transient: bool


class Undeliverable(Exception):
    """The message cannot be sent at all (e.g. its attachment is unreadable): no attempt is recorded."""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BaseChannel:
    """One channel kind; an instance is one configured channel (``notify:`` entry) about to be sent to.

    Class attributes say what differs between kinds without code: ``limit`` (UTF-8 bytes of the whole text),
    ``heading`` (the title as a ``### `` line above the body), ``max_line`` (bytes; a longer line ends the
    message there), ``signs`` (``secret_env`` is allowed), ``attachments`` (files go with the message),
    ``reads`` (the settings naming environment variables it reads at send time, in order, with what each holds).
    """

    limit: ClassVar[int]
    heading: ClassVar[bool] = False
    max_line: ClassVar[int | None] = None
    signs: ClassVar[bool] = False
    attachments: ClassVar[bool] = False
    reads: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.kind = channel.kind

    # ------------------------------------------------------------ settings (params asks)

    @classmethod
    def settings_problem(cls, channel: Channel) -> str | None:
        """What ``channel``'s settings lack for this kind (params raises it), or None."""
        if channel.secret_env and not cls.signs:
            signing = [k for k in kinds() if get(k).signs] or ["no kind's"]
            return (f"secret_env signs {listed(signing, 'and')} messages; a {channel.kind} channel "
                    "has no signature")
        return None

    # ------------------------------------------------------------ text (pure)

    @classmethod
    def line(cls, text: str) -> str:
        """A Markdown-ish line in this kind's markup (as written, unless the kind has its own)."""
        return text

    @classmethod
    def render(cls, msg: Message) -> Rendered:
        """Title, fitted body and link lines as this kind shows them; the whole text is within ``limit``."""
        head = [f"### {msg.title}", ""] if cls.heading else []
        foot = ["", cls.line(link_line(msg.link, msg.link_text))] if msg.link else []
        budget = cls.limit
        budget -= nbytes("\n".join(head)) + 1 if head else 0
        budget -= nbytes("\n".join(foot)) + 1 if foot else 0
        body, truncated = fit([cls.line(ln) for ln in msg.lines], budget, cls.line(msg.more), max_line=cls.max_line)
        return Rendered(head, body, foot, truncated)

    @classmethod
    def text(cls, msg: Message) -> str:
        """The message text as this kind shows it, after :func:`~opsnb.notify.channels.text.fit`."""
        return cls.render(msg).text

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``(query, body, headers)``: exactly what is sent (see :func:`opsnb.notify.channels.payload`)."""
        raise NotImplementedError

    # ------------------------------------------------------------ transport

    def secrets(self, values: Mapping[str, str | None]) -> list[str]:
        """What must never be shown, from the values read (``reads``)."""
        return secrets_of(None, *values.values())

    def unusable(self, values: Mapping[str, str | None]) -> str | None:
        """Why the values read cannot be used at all (no attempt is made), or None."""
        return None

    def attempt(self, msg: Message, values: Mapping[str, str | None], *, t0: float,
                timeout: float) -> tuple[Outcome, int]:
        """One try at ``t0`` within ``timeout`` seconds: its outcome and the bytes sent.

        Raises :class:`Undeliverable` when the message cannot be sent at all.
        """
        raise NotImplementedError

    def send(self, msg: Message, *, env: Mapping[str, str], tries: int, budget_s: float,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> Delivery:
        """Send ``msg``, retrying what is worth retrying; the record of it (see :func:`opsnb.notify.channels.send`)."""
        channel, kind = self.channel, self.kind
        values = {attr: env_value(channel, attr, env, what) for attr, what in self.reads}
        secrets = self.secrets(values)
        delivery = Delivery(channel=channel.name, kind=kind, ok=False, attempts=[])

        def fail(error: str) -> Delivery:
            delivery.error = scrub(error, secrets)
            log.warning("delivery to %s failed: %s", channel.name, delivery.error)
            return delivery

        problem = self.unusable(values)
        if problem:
            return fail(problem)
        delivery.truncated = self.render(msg).truncated
        start = clock()
        for n in range(tries):
            t0 = clock()
            timeout = max(0.001, min(channel.timeout_s, budget_s - (t0 - start)))
            try:
                outcome, delivery.bytes = self.attempt(msg, values, t0=t0, timeout=timeout)
            except Undeliverable as exc:
                return fail(str(exc))
            delivery.attempts.append(Attempt(at=_iso(t0), status=outcome.status, error=scrub(outcome.error, secrets),
                                             seconds=round(clock() - t0, 3)))
            if outcome.ok:
                delivery.ok = True
                log.info("delivered to %s (%s) in %d attempt(s)", channel.name, kind, n + 1)
                return delivery
            final = outcome.final or f"{kind}: failed"
            if not outcome.transient or n + 1 >= tries:
                return fail(final)
            delay = _BACKOFF_S * 2**n * (1 + random.uniform(0, 0.1))
            if clock() - start + delay + min(channel.timeout_s, _MIN_TRY_S) > budget_s:
                return fail(f"{final} (retry budget of {budget_s:g} s spent after {n + 1} attempts)")
            log.info("delivery to %s: %s; retrying in %.1f s", channel.name, scrub(outcome.error, secrets), delay)
            sleep(delay)
        return fail(f"{kind}: no attempt made (tries={tries})")
