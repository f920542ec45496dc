"""Feishu / Lark custom bot (飞书自定义机器人).

open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (same text on open.larksuite.com): an ``interactive``
card, title in the header, the body in one ``markdown`` element; a signed bot gets ``"timestamp": "<seconds>"`` and
``"sign": base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=""))`` in the body — key and message are the other
way round from DingTalk's. The answer is ``{"code": 0, …}``; 19021 (sign), 19022 (IP), 19024 (keyword), 9499 "Bad
Request" are final; 11232 "frequency limited" (and a 9499 whose ``msg`` says "too many requests") pass. The guide
caps the request body at 20 KB (the 30 KB figure is the card limit of the app-bot API, not of custom bots), hence
a limit that leaves room for the card's envelope. The hook id in the URL's path is the bot's credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from opsnb.notify.channels.text import Message
from opsnb.notify.channels.webhook import JSON_HEADERS, Webhook


def sign(timestamp_s: str, secret: str) -> str:
    """Feishu's signature: base64 of HmacSHA256 with key = ``"<timestamp s>\\n<secret>"`` over the empty message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Feishu(Webhook):
    """A Feishu / Lark custom bot: an interactive card, signed in the body when it has a secret."""

    limit = 18_000  # the request body may not exceed 20 KB: 2 KB left for the card JSON, title, signature, escapes
    signs = True
    transient_codes = frozenset({11232})

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The card (title in the header, the text in one markdown element); signed: ``timestamp`` and ``sign``."""
        body: dict[str, Any] = {}
        if secret:
            ts = str(now_ms // 1000)
            body = {"timestamp": ts, "sign": sign(ts, secret)}
        body |= {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": msg.title}, "template": "blue"},
            "elements": [{"tag": "markdown", "content": self.render(msg).text}],
        }}
        return "", body, dict(JSON_HEADERS)

    def code_of(self, data: dict[str, Any]) -> tuple[Any, str]:
        """``code`` / ``msg`` (older answers: ``StatusCode`` / ``StatusMessage``)."""
        return data.get("code", data.get("StatusCode")), str(data.get("msg", data.get("StatusMessage", "")))

    def is_transient(self, code: Any, text: str) -> bool:
        """11232, or a 9499 "Bad Request" that says it is a rate limit."""
        return super().is_transient(code, text) or (
            code == 9499 and re.search(r"too many|frequen|limit", text, re.I) is not None)
