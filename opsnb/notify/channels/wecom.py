"""WeCom group bot (企业微信群机器人).

developer.work.weixin.qq.com/document/path/91770 "群机器人配置说明" (now also /document/path/99398):
``POST <webhook URL>`` ``{"msgtype": "markdown", "markdown": {"content": …}}``; "markdown内容，最长不超过4096个字节，
必须是utf8编码". The answer is HTTP 200 ``{"errcode": 0, "errmsg": "ok"}``; another errcode is a failure
(-1 "system busy" and 45009 "api freq out of limit" pass, so they are retried). 20 messages a minute per bot.
The webhook URL's ``key=`` is the bot's credential.
"""

from __future__ import annotations

from typing import Any

from opsnb.notify.channels.text import Message
from opsnb.notify.channels.webhook import JSON_HEADERS, Webhook


class WeCom(Webhook):
    """A WeCom group bot: one markdown message, the title as its heading."""

    limit = 4096  # the documented cap of markdown.content, in UTF-8 bytes
    heading = True
    transient_codes = frozenset({-1, 45009})

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``{"msgtype": "markdown", "markdown": {"content": …}}``; WeCom bots are not signed."""
        return "", {"msgtype": "markdown", "markdown": {"content": self.render(msg).text}}, dict(JSON_HEADERS)
