"""Secrets: read at send time from the variables a channel names, never shown.

The webhook URL (its path or ``key=`` carries the bot's credential), the signing secret and the SMTP password
are read from the environment variables the :class:`~opsnb.params.Channel` names. Nothing the transport
returns, raises or logs contains them: hosts are shown as ``qyapi.weixin.qq.com``, exception texts from
``requests`` (which quote the full URL) are never passed on, and every error text is scrubbed of the secrets
(:func:`scrub`) as a second guard.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opsnb.errors import ParamsError, Problem

if TYPE_CHECKING:
    from opsnb.params import Channel


def env_value(channel: Channel, attr: str, env: Mapping[str, str], what: str) -> str | None:
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


def host(url: str) -> str:
    """Only the host (and port) of a URL: what may be shown of a webhook."""
    parts = urllib.parse.urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "the webhook host"


def secrets_of(url: str | None, *others: str | None) -> list[str]:
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


def scrub(text: str | None, secrets: list[str]) -> str | None:
    """``text`` with every secret (as written, percent-encoded or form-encoded) replaced by ``***``."""
    if text is None:
        return None
    for s in secrets:
        for form in {s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s)}:
            text = text.replace(form, "***")
    return text
