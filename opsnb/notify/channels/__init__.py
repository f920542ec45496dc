"""The transport layer of delivery: one message to one channel, with retries, and a record of every try.

A channel kind is one class in one module, registered under its name as papermill registers an engine
(``papermill_engines.register(name, Engine)``):

========== =================== ==========================================================================
kind       module              what is sent (each module's docstring quotes the provider's documentation)
========== =================== ==========================================================================
wecom      ``wecom.py``        a markdown message (企业微信群机器人), 4096 bytes
dingtalk   ``dingtalk.py``     a markdown message (钉钉自定义机器人), signed on the URL
feishu     ``feishu.py``       an interactive card (飞书 / Lark 自定义机器人), signed in the body
slack      ``slack.py``        header and mrkdwn section blocks (incoming webhook)
email      ``email.py``        subject, plain text + HTML, the PDF attached (SMTP)
========== =================== ==========================================================================

:mod:`~opsnb.notify.channels.base` holds what they share (fit to the limit, the retry loop within the time
budget, the attempt records), :mod:`~opsnb.notify.channels.webhook` the chat bots' HTTP transport,
:mod:`~opsnb.notify.channels.redact` the handling of secrets (read from the environment at send time, never
shown), :mod:`~opsnb.notify.channels.registry` the kinds. A new kind: a module with a subclass of
:class:`~opsnb.notify.channels.webhook.Webhook` (or :class:`~opsnb.notify.channels.base.BaseChannel`), one
``register`` line below, its test (docs/delivery.md, "Adding a channel"); params learns the kind from the registry.

Decision — Apprise (2.3.0, read in full for the five plugins) is **not** used; ``requests`` + ``smtplib`` are:

* its ``send()`` returns only ``True``/``False``: no HTTP status, no errcode, no provider message, no attempt
  record for ``deliveries.json`` (the reason goes to its logger, at debug level);
* every chat plugin builds the URL from a fixed host (``qyapi.weixin.qq.com``, ``oapi.dingtalk.com``,
  ``open.feishu.cn``, ``open.larksuite.com`` as a separate plugin, ``hooks.slack.com``) from the token it parses
  out of the URL: no private deployment or proxy, and no local test server;
* WeCom (``wecombot``) sends ``msgtype: text`` only (no markdown) and treats any HTTP 200 as delivered, so a
  refusal such as ``{"errcode": 93000}`` counts as success; DingTalk signs correctly but also ignores the
  errcode in a 200 body (a keyword or IP refusal, 310000, is "sent"); Feishu and Lark do not implement the
  signature at all, so a signed bot can't be used;
* its retries are a fixed count with a fixed wait; we need a time budget and backoff within it.

Covering all of that would mean subclassing each plugin and re-doing its ``send()``, that is writing this package
again on top of a dependency. ``requests`` (already installed, maintained) and the standard library suffice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opsnb.notify.channels.base import Attempt, BaseChannel, Delivery
from opsnb.notify.channels.dingtalk import DingTalk
from opsnb.notify.channels.email import Email
from opsnb.notify.channels.feishu import Feishu
from opsnb.notify.channels.registry import LIMITS, UnknownChannelKind, get, kinds, register
from opsnb.notify.channels.slack import Slack
from opsnb.notify.channels.text import Message, fit
from opsnb.notify.channels.webhook import Webhook
from opsnb.notify.channels.wecom import WeCom

if TYPE_CHECKING:
    from opsnb.params import Channel

# The kinds opsnb ships, in the order error messages list them.
register("wecom", WeCom)
register("dingtalk", DingTalk)
register("feishu", Feishu)
register("slack", Slack)
register("email", Email)


def render_text(channel_kind: str, msg: Message) -> str:
    """The message text as ``channel_kind`` will show it, after :func:`fit` (for ``--dry-run``).

    WeCom / DingTalk: the markdown with the title as a heading; Feishu: the card's markdown (its title is in
    the card header); Slack: the mrkdwn, title first in bold; email: the plain-text body (the title is the subject).
    """
    return get(channel_kind).text(msg)


def payload(channel: Channel, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any],
                                                                                        dict[str, str]]:
    """``(query, body, headers)``: exactly what is POSTed — pure, for tests and ``--dry-run``.

    ``query`` is appended to the webhook URL (DingTalk's ``timestamp=…&sign=…`` when signed, else ``""``);
    ``body`` is the JSON body; ``headers`` the request headers. ``now_ms`` is the signing time (ms since the
    epoch), ``secret`` the signing secret or None (unsigned). For email, ``body`` describes the message
    (subject, from, to, text, html, attachment file names) and ``query`` and ``headers`` are empty.
    """
    return get(channel.kind)(channel).payload(msg, now_ms=now_ms, secret=secret)


def send(channel: Channel, msg: Message, *, env: Mapping[str, str] = os.environ, tries: int = 3, budget_s: float = 30.0,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> Delivery:
    """Send ``msg`` to ``channel``, retrying what is worth retrying; return the record of it.

    Never raises for a delivery failure: it returns ``ok=False`` with the channel's reason. HTTP 5xx, 429,
    timeouts, connection errors, the providers' "busy / too fast" codes and SMTP 4xx are retried with
    exponential backoff (1 s, 2 s, 4 s … plus up to 10 % jitter), at most ``tries`` attempts, and a retry
    starts only if it can finish within ``budget_s`` of the first attempt's start (each request's timeout is
    ``timeout_s`` cut to what is left). Other 4xx and errors in a 200 body are final at once.

    Raises
    ------
    ParamsError
        A variable named by ``webhook_env`` / ``secret_env`` / ``password_env`` is unset or empty (the error
        names the variable and the channel, never a value).
    """
    return get(channel.kind)(channel).send(msg, env=env, tries=tries, budget_s=budget_s, sleep=sleep, clock=clock)


__all__ = ["LIMITS", "Attempt", "BaseChannel", "Delivery", "Message", "UnknownChannelKind", "Webhook", "fit", "get",
           "kinds", "payload", "register", "render_text", "send"]
