"""The chat bots' transport: one JSON ``POST`` to the webhook URL, and the provider's answer read.

A webhook kind (``wecom``, ``dingtalk``, ``feishu``, ``slack``) subclasses :class:`Webhook` and says only what
is its own: its limit, its payload, where its answer carries the error code (:meth:`Webhook.code_of`) and which
codes mean "busy, try again" (``transient_codes``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from opsnb.notify.channels.base import BaseChannel, Outcome
from opsnb.notify.channels.redact import host, secrets_of
from opsnb.notify.channels.text import Message

if TYPE_CHECKING:
    import requests

    from opsnb.params import Channel

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def _body_text(resp: requests.Response, limit: int = 300) -> str:
    text = resp.text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


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


class Webhook(BaseChannel):
    """A chat bot reached by ``POST <webhook URL>``: the URL comes from ``webhook_env``, a signing secret (for
    kinds that sign) from ``secret_env``.

    ``transient_codes``: provider codes in an HTTP 200 body that mean "busy / rate limited, try again".
    """

    reads = (("webhook_env", "webhook URL"), ("secret_env", "signing secret"))
    transient_codes: ClassVar[frozenset[int]] = frozenset()

    @classmethod
    def settings_problem(cls, channel: Channel) -> str | None:
        """A webhook kind needs ``webhook_env``; then what every kind checks."""
        if not channel.webhook_env:
            return (f"a {channel.kind} channel needs webhook_env: the name of the environment variable "
                    "holding the bot's webhook URL")
        return super().settings_problem(channel)

    def secrets(self, values: Mapping[str, str | None]) -> list[str]:
        """The URL's credentials (its query, its long path segments) and the signing secret."""
        return secrets_of(values.get("webhook_env"), *(v for k, v in values.items() if k != "webhook_env"))

    def unusable(self, values: Mapping[str, str | None]) -> str | None:
        """``$webhook_env`` must hold an http(s) URL (its value is never shown)."""
        url = values.get("webhook_env")
        if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            return f"{self.kind}: ${self.channel.webhook_env} does not hold an http(s) URL"
        return None

    def attempt(self, msg: Message, values: Mapping[str, str | None], *, t0: float,
                timeout: float) -> tuple[Outcome, int]:
        """Sign (again, each try) and ``POST`` the payload; the outcome and the body's size."""
        url = values.get("webhook_env")
        assert url is not None
        query, body, headers = self.payload(msg, now_ms=int(t0 * 1000), secret=values.get("secret_env"))
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        target = url if not query else url + ("&" if urllib.parse.urlsplit(url).query else "?") + query
        return self.post(target, data, headers, timeout), len(data)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        """One request; a network failure is the channel's error (host only, never the URL)."""
        import requests  # here: params loads this module to validate a channel, and needs no HTTP client

        kind, where = self.kind, host(url)
        try:
            resp = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
        except requests.Timeout:
            said = f"timeout after {timeout:g} s"
            return Outcome(False, None, said, f"{kind} {where}: {said}", True)
        except requests.ConnectionError as exc:
            said = f"connection error ({_reason(exc)})"
            return Outcome(False, None, said, f"{kind} {where}: {said}", True)
        except requests.RequestException as exc:  # a malformed URL and the like: not worth a retry
            said = f"request failed ({type(exc).__name__})"
            return Outcome(False, None, said, f"{kind} {where}: {said}", False)
        return self.classify(resp)

    def classify(self, resp: requests.Response) -> Outcome:
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
            return Outcome(False, status, said, f"{self.kind} HTTP {status}: {said}", transient)
        return self.classify_body(resp, data)

    def classify_body(self, resp: requests.Response, data: Any) -> Outcome:
        """A 2xx answer: ok when its error code (:meth:`code_of`) is 0 or absent; else final, unless transient."""
        status = resp.status_code
        if not isinstance(data, dict):
            said = f"unexpected answer: {_body_text(resp, 120)!r}"
            return Outcome(False, status, said, f"{self.kind} HTTP {status}: {said}", False)
        code, text = self.code_of(data)
        if code in (0, None):
            return Outcome(True, status, None, None, False)
        said = f"{code}: {text}"
        return Outcome(False, status, said, f"{self.kind} {said}", self.is_transient(code, text))

    def code_of(self, data: dict[str, Any]) -> tuple[Any, str]:
        """The provider's error code and message in a 200 body (``errcode`` / ``errmsg``)."""
        return data.get("errcode"), str(data.get("errmsg", ""))

    def is_transient(self, code: Any, text: str) -> bool:
        """Whether a provider error code means "busy, try again"."""
        return code in self.transient_codes
