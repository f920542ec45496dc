"""DingTalk custom robot (钉钉自定义机器人).

open.dingtalk.com/document/orgapp/custom-robot-access and /robot-message-type:
``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; a signed ("加签") bot takes
``&timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")))>`` on the URL.
HTTP 200 with ``errcode`` ≠ 0 is a failure: 310000 (sign, keyword or IP check) is final, 130101 "send too fast,
exceed 20 times per minute" and -1 "system busy" pass. The URL's ``access_token=`` is the bot's credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

from opsnb.notify.channels.text import Message
from opsnb.notify.channels.webhook import JSON_HEADERS, Webhook


def sign(timestamp_ms: str, secret: str) -> str:
    """DingTalk's signature: base64 of HmacSHA256 with key = the secret over ``"<timestamp ms>\\n<secret>"``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalk(Webhook):
    """A DingTalk custom robot: one markdown message (title and text), signed on the URL when it has a secret."""

    limit = 20_000  # bytes of markdown.text
    heading = True
    signs = True
    transient_codes = frozenset({-1, 130101})

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The markdown body; signed: ``timestamp=<ms>&sign=…`` as the query to append to the URL."""
        query = ""
        if secret:
            ts = str(now_ms)
            query = urllib.parse.urlencode({"timestamp": ts, "sign": sign(ts, secret)})
        body = {"msgtype": "markdown", "markdown": {"title": msg.title, "text": self.render(msg).text}}
        return query, body, dict(JSON_HEADERS)
