"""Slack incoming webhook.

api.slack.com/messaging/webhooks, /reference/block-kit/blocks: ``{"text": fallback, "blocks": [header,
section(mrkdwn)…]}``; Slack answers 200 ``ok``, or 4xx with a short text (``invalid_payload``, ``no_service``,
``channel_is_archived``…), 429 when rate limited. A header block holds 150 characters, a section 3000, and
``text`` is cut by Slack at 40 000 characters; ``**x**`` becomes ``*x*``. The ``T…/B…/token`` path of the URL is
the credential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsnb.notify.channels.base import Outcome
from opsnb.notify.channels.text import BOLD, LINK, Message
from opsnb.notify.channels.webhook import JSON_HEADERS, Webhook

if TYPE_CHECKING:
    import requests

#: A section block's text holds 3000 characters; a longer line ends the message there.
SECTION = 3000
#: A header block's plain text holds 150 characters.
HEADER = 150


def _blocks(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """A header, then sections of whole lines, each ≤ ``SECTION`` characters (lines were fitted to that)."""
    head = title if len(title) <= HEADER else title[: HEADER - 1] + "…"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": head, "emoji": True}}]
    chunks: list[list[str]] = []
    size = 0
    for ln in lines:
        if chunks and size + 1 + len(ln) <= SECTION:
            chunks[-1].append(ln)
            size += 1 + len(ln)
        else:
            chunks.append([ln])
            size = len(ln)
    for chunk in chunks:
        text = "\n".join(chunk)
        if text.strip():  # Slack refuses an empty section
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return blocks


class Slack(Webhook):
    """A Slack incoming webhook: header and mrkdwn section blocks, with the text as the fallback."""

    # Slack cuts ``text`` at 40 000 characters and a section holds 3000; a review card is a digest, so 12 000
    # bytes (≤ 12 000 characters) keeps well inside both, the blocks and the fallback ``text`` together.
    limit = 12_000
    max_line = SECTION

    @classmethod
    def line(cls, text: str) -> str:
        """Markdown-ish → Slack mrkdwn: escape ``& < >`` (Slack's rule), ``**x**`` → ``*x*``, links, bullets."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = BOLD.sub(r"*\1*", text)
        text = LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
        if text.startswith("- "):
            text = "• " + text[2:]
        return text

    @classmethod
    def text(cls, msg: Message) -> str:
        """The mrkdwn, title first in bold."""
        r = cls.render(msg)
        return "\n".join([f"*{cls.line(msg.title)}*", *r.body, *r.foot])

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``{"text": …, "blocks": […]}``; Slack webhooks are not signed."""
        r = self.render(msg)
        return "", {"text": self.text(msg), "blocks": _blocks(msg.title, r.body + r.foot)}, dict(JSON_HEADERS)

    def classify_body(self, resp: requests.Response, data: Any) -> Outcome:
        """Slack says ``ok`` in a 200; its errors come as 4xx (read by :meth:`Webhook.classify`)."""
        return Outcome(True, resp.status_code, None, None, False)
