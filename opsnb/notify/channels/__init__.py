"""The transport layer of delivery: one message to one channel, with retries, and a record of every try.

What is sent, per kind (each checked against the provider's documentation):

* **WeCom group bot** (企业微信群机器人, developer.work.weixin.qq.com/document/path/91770 "群机器人配置说明",
  now also /document/path/99398):
  ``POST <webhook URL>`` ``{"msgtype": "markdown", "markdown": {"content": …}}``; "markdown内容，最长不超过4096个字节，
  必须是utf8编码". The answer is HTTP 200 ``{"errcode": 0, "errmsg": "ok"}``; another errcode is a failure
  (-1 "system busy" and 45009 "api freq out of limit" pass, so they are retried). 20 messages a minute per bot.
* **DingTalk custom robot** (钉钉自定义机器人, open.dingtalk.com/document/orgapp/custom-robot-access and
  /robot-message-type): ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; a signed ("加签") bot
  takes ``&timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")))>``
  on the URL. HTTP 200 with ``errcode`` ≠ 0 is a failure: 310000 (sign, keyword or IP check) is final,
  130101 "send too fast, exceed 20 times per minute" and -1 "system busy" pass.
* **Feishu / Lark custom bot** (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, same text on
  open.larksuite.com): an ``interactive`` card, title in the header, the body in one ``markdown`` element; a
  signed bot gets ``"timestamp": "<seconds>"`` and ``"sign": base64(HmacSHA256(key=f"{timestamp}\\n{secret}",
  msg=""))`` in the body — key and message are the other way round from DingTalk's. The answer is
  ``{"code": 0, …}``; 19021 (sign), 19022 (IP), 19024 (keyword), 9499 "Bad Request" are final; 11232
  "frequency limited" (and a 9499 whose ``msg`` says "too many requests") pass. The guide caps the request
  body at 20 KB (the 30 KB figure is the card limit of the app-bot API, not of custom bots), hence
  ``LIMITS["feishu"]`` leaves room for the card's envelope.
* **Slack incoming webhook** (api.slack.com/messaging/webhooks, /reference/block-kit/blocks): ``{"text":
  fallback, "blocks": [header, section(mrkdwn)…]}``; Slack answers 200 ``ok``, or 4xx with a short text
  (``invalid_payload``, ``no_service``, ``channel_is_archived``…), 429 when rate limited. A header block holds
  150 characters, a section 3000, and ``text`` is cut by Slack at 40 000 characters; ``**x**`` becomes ``*x*``.
* **Email**: stdlib ``smtplib`` and ``email.message.EmailMessage``: subject = title, a plain-text body with an
  HTML alternative, the PDF attached. SMTP 4xx replies, timeouts and dropped connections pass; 5xx is final.

Secrets: the webhook URL (its path or ``key=`` carries the bot's credential), the signing secret and the SMTP
password are read from the environment variables the :class:`~opsnb.params.Channel` names, at send time. Nothing
this module returns, raises or logs contains them: hosts are shown as ``qyapi.weixin.qq.com``, exception texts
from ``requests`` (which quote the full URL) are never passed on, and every error text is scrubbed of the
secrets as a second guard.

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

Covering all of that would mean subclassing each plugin and re-doing its ``send()``, that is writing this module
again on top of a dependency. ``requests`` (already installed, maintained) and the standard library suffice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import random
import re
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import requests

from opsnb.errors import ParamsError, Problem
from opsnb.params import Channel

log = logging.getLogger(__name__)

#: Bytes (UTF-8) of the message text each kind takes — title, body, "more" and link lines together.
#: wecom: the documented 4096-byte cap of ``markdown.content``. dingtalk: 20 000 bytes of ``markdown.text``.
#: feishu: the custom bot's request body may not exceed 20 KB; 18 000 bytes of text leaves 2 KB for the card
#: JSON, the title, signature and escapes. slack: ``text`` is cut at 40 000 characters by Slack and a section
#: holds 3000; a review card is a digest, so 12 000 bytes (≤ 12 000 characters) keeps well inside both, the
#: blocks and the fallback ``text`` together. email: no practical limit.
LIMITS: dict[str, int] = {
    "wecom": 4096,
    "dingtalk": 20_000,
    "feishu": 18_000,
    "slack": 12_000,
    "email": 10_000_000,
}

#: Slack: a section block's text holds 3000 characters; a longer line ends the message there.
SLACK_SECTION = 3000
#: Slack: a header block's plain text holds 150 characters.
SLACK_HEADER = 150

#: A retry starts only if, after its backoff, this much (or ``timeout_s`` if smaller) is left of the budget.
_MIN_TRY_S = 1.0
#: Backoff before retry n (0-based): ``_BACKOFF_S * 2**n`` plus up to 10 % jitter.
_BACKOFF_S = 1.0

#: Provider codes in a 200 body that mean "busy / rate limited, try again".
_TRANSIENT_CODES: dict[str, set[int]] = {
    "wecom": {-1, 45009},
    "dingtalk": {-1, 130101},
    "feishu": {11232},
}

_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Message:
    """One message, as the caller wrote it; each channel renders and cuts it to its own limit.

    ``lines`` are Markdown-ish (``**bold**``, ``- bullet``, ``[text](url)``) and already in the report's
    language, as are ``more`` (the line that replaces what had to be cut) and ``link_text`` (the label a
    bare-URL ``link`` is shown with; a ``link`` that is already a line is shown as written). ``attachments``
    go by email only.
    """

    title: str
    lines: tuple[str, ...]
    link: str | None = None  # the review's URL, or its whole link line already written ("[查看完整报告](url)")
    more: str = "…更多内容见报告"
    attachments: tuple[Path, ...] = ()
    link_text: str = "查看完整报告"


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


# ---------------------------------------------------------------- text: fit and render


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def fit(lines: list[str], limit_bytes: int, more: str, *, max_line: int | None = None) -> tuple[list[str], bool]:
    """Keep whole lines (UTF-8 bytes, joined with ``\\n``) so that kept + ``more`` fits in ``limit_bytes``.

    Returns the lines to show and whether anything was cut. Nothing cut: ``lines`` as they are, no ``more``.
    Cut: the longest leading run of lines that fits together with ``more``, then ``more`` (left out only if
    even it alone does not fit). A line is never split, so neither is a multi-byte character; lines are never
    skipped, so what is shown is a prefix. ``max_line`` (bytes): a longer line ends the kept run there.
    """
    too_long = next((i for i, ln in enumerate(lines) if max_line is not None and _nbytes(ln) > max_line), None)
    if too_long is None and _nbytes("\n".join(lines)) <= limit_bytes:
        return list(lines), False
    tail = [more] if more else []
    if _nbytes("\n".join(tail)) > limit_bytes:
        return [], True
    stop = len(lines) if too_long is None else too_long
    used = _nbytes(more) if more else -1  # -1: the first kept line needs no separator before it
    kept: list[str] = []
    for ln in lines[:stop]:
        size = used + 1 + _nbytes(ln)
        if size > limit_bytes:
            break
        kept.append(ln)
        used = size
    return kept + tail, True


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


def _slack(line: str) -> str:
    """Markdown-ish → Slack mrkdwn: escape ``& < >`` (Slack's rule), ``**x**`` → ``*x*``, links, bullets."""
    text = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BOLD.sub(r"*\1*", text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    if text.startswith("- "):
        text = "• " + text[2:]
    return text


def _plain(line: str) -> str:
    """Markdown-ish → plain text (email): bold markers dropped, ``[text](url)`` → ``text (url)``."""
    return _LINK.sub(r"\1 (\2)", _BOLD.sub(r"\1", line))


@dataclass(frozen=True)
class _Rendered:
    head: list[str]
    body: list[str]
    foot: list[str]
    truncated: bool

    @property
    def text(self) -> str:
        return "\n".join(self.head + self.body + self.foot)


def _link_line(link: str, label: str) -> str:
    """``link`` as its line: a bare URL becomes ``[label](url)``; a line already written (a Markdown link in
    the report's language, or "Full review: <path>") is kept as it is."""
    return f"[{label}]({link})" if re.fullmatch(r"(https?|file)://\S+", link) else link


def _render(kind: str, msg: Message) -> _Rendered:
    """Title, fitted body and link lines as ``kind`` shows them; the whole text is within ``LIMITS[kind]``.

    Slack lines are converted to mrkdwn before fitting (escapes lengthen them); email keeps the Markdown-ish
    lines (its plain text, :func:`_plain`, is never longer, and the HTML is rendered from them).
    """
    if kind not in LIMITS:
        raise ValueError(f"unknown channel kind {kind!r}; known: {list(LIMITS)}")
    convert: Callable[[str], str] = _slack if kind == "slack" else str
    head = [f"### {msg.title}", ""] if kind in ("wecom", "dingtalk") else []
    foot = ["", convert(_link_line(msg.link, msg.link_text))] if msg.link else []
    budget = LIMITS[kind]
    budget -= _nbytes("\n".join(head)) + 1 if head else 0
    budget -= _nbytes("\n".join(foot)) + 1 if foot else 0
    body, truncated = fit([convert(ln) for ln in msg.lines], budget, convert(msg.more),
                          max_line=SLACK_SECTION if kind == "slack" else None)
    return _Rendered(head, body, foot, truncated)


def render_text(channel_kind: str, msg: Message) -> str:
    """The message text as ``channel_kind`` will show it, after :func:`fit` (for ``--dry-run``).

    WeCom / DingTalk: the markdown with the title as a heading; Feishu: the card's markdown (its title is in
    the card header); Slack: the mrkdwn, title first in bold; email: the plain-text body (the title is the subject).
    """
    r = _render(channel_kind, msg)
    if channel_kind == "slack":
        return "\n".join([f"*{_slack(msg.title)}*", *r.body, *r.foot])
    if channel_kind == "email":
        return "\n".join(_plain(ln) for ln in r.body + r.foot)
    return r.text


def _slack_blocks(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """A header, then sections of whole lines, each ≤ ``SLACK_SECTION`` characters (lines were fitted to that)."""
    head = title if len(title) <= SLACK_HEADER else title[: SLACK_HEADER - 1] + "…"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": head, "emoji": True}}]
    chunks: list[list[str]] = []
    size = 0
    for ln in lines:
        if chunks and size + 1 + len(ln) <= SLACK_SECTION:
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


def _email_html(title: str, markdown: str) -> str:
    """The HTML alternative: the title escaped, the body through markdown-it with raw HTML disabled."""
    from markdown_it import MarkdownIt

    from opsnb.render.ui import esc

    lines: list[str] = []
    for ln in markdown.split("\n"):  # a plain line after a bullet starts a paragraph, not a lazy continuation
        if lines and lines[-1].startswith(("- ", "* ")) and ln and not ln.startswith(("- ", "* ")):
            lines.append("")
        lines.append(ln)
    body = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable("image").render("\n".join(lines))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
            f'<body style="font-family: sans-serif"><h2>{esc(title)}</h2>{body}</body></html>')


# ---------------------------------------------------------------- payloads (pure)


def _dingtalk_sign(timestamp_ms: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _feishu_sign(timestamp_s: str, secret: str) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def payload(channel: Channel, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any],
                                                                                        dict[str, str]]:
    """``(query, body, headers)``: exactly what is POSTed — pure, for tests and ``--dry-run``.

    ``query`` is appended to the webhook URL (DingTalk's ``timestamp=…&sign=…`` when signed, else ``""``);
    ``body`` is the JSON body; ``headers`` the request headers. ``now_ms`` is the signing time (ms since the
    epoch), ``secret`` the signing secret or None (unsigned). For email, ``body`` describes the message
    (subject, from, to, text, html, attachment file names) and ``query`` and ``headers`` are empty.
    """
    kind = channel.kind
    r = _render(kind, msg)
    if kind == "wecom":
        return "", {"msgtype": "markdown", "markdown": {"content": r.text}}, dict(_JSON_HEADERS)
    if kind == "dingtalk":
        query = ""
        if secret:
            ts = str(now_ms)
            query = urllib.parse.urlencode({"timestamp": ts, "sign": _dingtalk_sign(ts, secret)})
        return query, {"msgtype": "markdown", "markdown": {"title": msg.title, "text": r.text}}, dict(_JSON_HEADERS)
    if kind == "feishu":
        body: dict[str, Any] = {}
        if secret:
            ts = str(now_ms // 1000)
            body = {"timestamp": ts, "sign": _feishu_sign(ts, secret)}
        body |= {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": msg.title}, "template": "blue"},
            "elements": [{"tag": "markdown", "content": r.text}],
        }}
        return "", body, dict(_JSON_HEADERS)
    if kind == "slack":
        text = render_text("slack", msg)
        return "", {"text": text, "blocks": _slack_blocks(msg.title, r.body + r.foot)}, dict(_JSON_HEADERS)
    # email
    return "", {
        "subject": msg.title,
        "from": channel.sender,
        "to": list(channel.to),
        "text": render_text("email", msg),
        "html": _email_html(msg.title, r.text),
        "attachments": [p.name for p in msg.attachments],
    }, {}


# ---------------------------------------------------------------- secrets


def _env(channel: Channel, attr: str, env: Mapping[str, str], what: str) -> str | None:
    """The value of the variable ``channel.<attr>`` names (None if it names none); unset or empty → ParamsError."""
    name = getattr(channel, attr)
    if not name:
        return None
    value = env.get(name, "")
    if not value.strip():
        raise ParamsError([Problem(f"notify.{channel.name}.{attr}",
                                   f"environment variable {name} is not set or empty; the {channel.kind} channel "
                                   f"{channel.name!r} reads its {what} from it",
                                   expected=f"export {name}=… in the environment of the run")])
    return value.strip()


def _host(url: str) -> str:
    """Only the host (and port) of a URL: what may be shown of a webhook."""
    parts = urllib.parse.urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "the webhook host"


def _secrets_of(url: str | None, *others: str | None) -> list[str]:
    """What must never be shown (longest first): the webhook URL, its query values and token-like path
    segments (WeCom ``key=``, DingTalk ``access_token=``, Feishu's hook id, Slack's ``T…/B…/token``), the
    signing secret, the password. Short path words (``webhook``, ``send``) stay, so errors remain readable."""
    out: set[str] = {s for s in others if s}
    if url:
        parts = urllib.parse.urlsplit(url)
        out |= {url, urllib.parse.unquote(url)}
        out |= {seg for seg in parts.path.split("/") if len(seg) >= 16}
        out |= {v for vals in urllib.parse.parse_qs(parts.query).values() for v in vals if len(v) >= 8}
        if len(parts.query) >= 8:
            out.add(parts.query)
        if parts.password:
            out.add(parts.password)
    out.discard("")
    return sorted(out, key=len, reverse=True)


def _scrub(text: str | None, secrets: list[str]) -> str | None:
    if text is None:
        return None
    for s in secrets:
        for form in {s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s)}:
            text = text.replace(form, "***")
    return text


# ---------------------------------------------------------------- one attempt


@dataclass
class _Outcome:
    ok: bool
    status: int | None
    error: str | None  # the channel's own words, for Attempt.error
    final: str | None  # for Delivery.error
    transient: bool


def _body_text(resp: requests.Response, limit: int = 300) -> str:
    text = resp.text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _classify(kind: str, resp: requests.Response) -> _Outcome:
    """An HTTP answer → ok, or the channel's error and whether it is worth retrying."""
    status = resp.status_code
    data: Any = None
    try:
        data = resp.json()
    except ValueError:
        pass
    if status >= 300 or status < 200:
        if isinstance(data, dict) and ("errmsg" in data or "msg" in data):
            code = data.get("errcode", data.get("code"))
            said = f"{code}: {data.get('errmsg', data.get('msg'))}" if code is not None else str(data.get("msg"))
        else:
            said = _body_text(resp) or resp.reason or ""
        transient = status == 429 or status >= 500
        return _Outcome(False, status, said, f"{kind} HTTP {status}: {said}", transient)
    if kind == "slack":
        return _Outcome(True, status, None, None, False)
    if not isinstance(data, dict):
        said = f"unexpected answer: {_body_text(resp, 120)!r}"
        return _Outcome(False, status, said, f"{kind} HTTP {status}: {said}", False)
    if kind == "feishu":
        code = data.get("code", data.get("StatusCode"))
        text = str(data.get("msg", data.get("StatusMessage", "")))
    else:
        code, text = data.get("errcode"), str(data.get("errmsg", ""))
    if code in (0, None):
        return _Outcome(True, status, None, None, False)
    said = f"{code}: {text}"
    transient = code in _TRANSIENT_CODES.get(kind, set()) or (
        kind == "feishu" and code == 9499 and re.search(r"too many|frequen|limit", text, re.I) is not None)
    return _Outcome(False, status, said, f"{kind} {said}", transient)


def _reason(exc: BaseException) -> str:
    """The innermost OS-level cause of a connection error ("Connection refused"), never a URL."""
    found = ""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 20:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.strerror:
            found = e.strerror
        nxt = [e.__cause__, e.__context__, getattr(e, "reason", None), *(a for a in e.args[:1])]
        todo += [x for x in nxt if isinstance(x, BaseException)]
    return found or type(exc).__name__


def _post(kind: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> _Outcome:
    host = _host(url)
    try:
        resp = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        said = f"timeout after {timeout:g} s"
        return _Outcome(False, None, said, f"{kind} {host}: {said}", True)
    except requests.ConnectionError as exc:
        said = f"connection error ({_reason(exc)})"
        return _Outcome(False, None, said, f"{kind} {host}: {said}", True)
    except requests.RequestException as exc:  # a malformed URL and the like: not worth a retry
        said = f"request failed ({type(exc).__name__})"
        return _Outcome(False, None, said, f"{kind} {host}: {said}", False)
    return _classify(kind, resp)


def _smtp_reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}".strip()


def _smtp(channel: Channel, mail: EmailMessage, password: str | None, timeout: float) -> _Outcome:
    """One SMTP session: connect (ssl / starttls / none), log in if a user is set, send, quit."""
    host = f"{channel.smtp_host}:{channel.smtp_port}"
    server: smtplib.SMTP | None = None
    try:
        if channel.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout)
        if channel.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if channel.smtp_user:
            server.login(channel.smtp_user, password or "")
        refused = server.send_message(mail)
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the message was accepted (250 to DATA); a failed goodbye does not undo that
        if refused:
            said = "; ".join(f"{rcpt}: {_smtp_reply(code, text)}" for rcpt, (code, text) in refused.items())
            return _Outcome(False, 250, f"refused {said}", f"email {host}: refused {said}", False)
        return _Outcome(True, 250, None, None, False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        said = "; ".join(f"{rcpt}: {_smtp_reply(code, text)}" for rcpt, (code, text) in exc.recipients.items())
        transient = all(400 <= c < 500 for c in codes)
        return _Outcome(False, codes[0] if codes else None, said, f"email {host}: {said}", transient)
    except smtplib.SMTPResponseException as exc:  # auth, sender, data refusals: the server's reply code
        said = _smtp_reply(exc.smtp_code, exc.smtp_error)
        transient = 400 <= exc.smtp_code < 500
        return _Outcome(False, exc.smtp_code, said, f"email {host}: {said}", transient)
    except smtplib.SMTPNotSupportedError as exc:  # e.g. STARTTLS or AUTH not offered: a settings problem
        said = f"not supported by the server: {exc}"
        return _Outcome(False, None, said, f"email {host}: {said}", False)
    except ssl.SSLError as exc:
        said = f"TLS failed ({exc.reason or type(exc).__name__})"
        return _Outcome(False, None, said, f"email {host}: {said}", False)
    except TimeoutError:
        said = f"timeout after {timeout:g} s"
        return _Outcome(False, None, said, f"email {host}: {said}", True)
    except smtplib.SMTPServerDisconnected:
        said = "the server closed the connection"
        return _Outcome(False, None, said, f"email {host}: {said}", True)
    except smtplib.SMTPException as exc:
        said = f"{type(exc).__name__}: {exc}"
        return _Outcome(False, None, said, f"email {host}: {said}", False)
    except OSError as exc:  # refused, unreachable, name not resolved
        said = f"connection error ({exc.strerror or type(exc).__name__})"
        return _Outcome(False, None, said, f"email {host}: {said}", True)
    finally:
        if server is not None:
            try:
                server.close()
            except OSError:
                pass


def _mail(desc: dict[str, Any], attachments: tuple[Path, ...], now: float) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = desc["subject"]
    mail["From"] = desc["from"]
    mail["To"] = ", ".join(desc["to"])
    mail["Date"] = formatdate(now, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=str(desc["from"]).rpartition("@")[2] or None)
    mail.set_content(desc["text"], charset="utf-8")
    mail.add_alternative(desc["html"], subtype="html", charset="utf-8")
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail


# ---------------------------------------------------------------- send


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    kind = channel.kind
    url = _env(channel, "webhook_env", env, "webhook URL") if kind != "email" else None
    secret = _env(channel, "secret_env", env, "signing secret")
    password = _env(channel, "password_env", env, "SMTP password") if kind == "email" else None
    secrets = _secrets_of(url, secret, password)
    delivery = Delivery(channel=channel.name, kind=kind, ok=False, attempts=[])

    def fail(error: str) -> Delivery:
        delivery.error = _scrub(error, secrets)
        log.warning("delivery to %s failed: %s", channel.name, delivery.error)
        return delivery

    if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return fail(f"{kind}: ${channel.webhook_env} does not hold an http(s) URL")

    delivery.truncated = _render(kind, msg).truncated
    mail: EmailMessage | None = None
    start = clock()
    for n in range(tries):
        t0 = clock()
        timeout = max(0.001, min(channel.timeout_s, budget_s - (t0 - start)))
        query, body, headers = payload(channel, msg, now_ms=int(t0 * 1000), secret=secret)  # re-signed each try
        if kind == "email":
            if mail is None:  # built once: a retry resends the same message (same Message-ID)
                try:
                    mail = _mail(body, msg.attachments, t0)
                except OSError as exc:
                    return fail(f"email: cannot read attachment ({exc.strerror or type(exc).__name__})")
                delivery.bytes = len(mail.as_bytes())
            outcome = _smtp(channel, mail, password, timeout)
        else:
            assert url is not None
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            delivery.bytes = len(data)
            target = url if not query else url + ("&" if urllib.parse.urlsplit(url).query else "?") + query
            outcome = _post(kind, target, data, headers, timeout)
        delivery.attempts.append(Attempt(at=_iso(t0), status=outcome.status, error=_scrub(outcome.error, secrets),
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
        log.info("delivery to %s: %s; retrying in %.1f s", channel.name, _scrub(outcome.error, secrets), delay)
        sleep(delay)
    return fail(f"{kind}: no attempt made (tries={tries})")
