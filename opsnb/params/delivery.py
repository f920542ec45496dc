"""Delivery: channels (``notify:``), alert rules (``alerts:``) and ``delivery:``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PlainValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from opsnb.params.base import SECTIONS, _Model, known_sections

# ---------------------------------------------------------------- delivery (notify:, alerts:, delivery:)

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_NAME = r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$"


def _channel_kind(v: Any) -> str:
    """A kind registered in :mod:`opsnb.notify.channels` (the one list of kinds); else the error a Literal gives."""
    from opsnb.notify.channels import kinds
    from opsnb.notify.channels.registry import listed

    known = kinds()
    if isinstance(v, str) and v in known:
        return v
    expected = listed([repr(k) for k in known], "or")
    raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})


def _channel_kinds_schema(schema: dict[str, Any]) -> None:
    from opsnb.notify.channels import kinds

    schema.update({"enum": list(kinds()), "type": "string"})


#: ``notify[].kind``: one of the kinds registered in :mod:`opsnb.notify.channels`.
ChannelKind = Annotated[str, PlainValidator(_channel_kind, json_schema_input_type=str),
                        Field(json_schema_extra=_channel_kinds_schema)]


def _env_name(v: str | None, field: str) -> str | None:
    """An environment variable's *name*; a pasted URL or secret is refused (params files are shared)."""
    if v is not None and not re.match(_ENV_NAME, v):
        raise ValueError(f"{field} names an environment variable that holds the value (e.g. OPSNB_WECOM_OPS), "
                         "not the value itself: put the URL or secret in that variable, never in a params file")
    return v


class Channel(_Model):
    """One place a review goes: a chat group's bot (WeCom, DingTalk, Feishu/Lark, Slack) or mailboxes (SMTP).

    Secrets never live here: ``webhook_env`` / ``secret_env`` / ``password_env`` name environment
    variables holding the webhook URL (it carries the bot's key), the signing secret, the SMTP password.
    """

    name: str = Field(pattern=_NAME)
    kind: ChannelKind
    webhook_env: str | None = None  # chat bots: env var with the webhook URL
    secret_env: str | None = None  # "signed" bots (a kind that signs): env var with the signing secret
    digest: bool = True  # send the review card after each publish
    sections: list[str] = Field(default_factory=lambda: list(SECTIONS))  # what the card shows
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES))  # alerts it receives
    alerts: list[str] | None = None  # alert rules routed here by name (None: every rule)
    timeout_s: float = Field(default=10.0, gt=0, le=120)  # one HTTP request / SMTP session
    # email
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    password_env: str | None = None
    sender: str | None = None
    to: list[str] = Field(default_factory=list)
    attach_pdf: bool = True  # email: the one-file PDF of the review (``opsnb export --pdf``)

    @field_validator("webhook_env", "secret_env", "password_env")
    @classmethod
    def _env(cls, v: str | None, info: Any) -> str | None:
        return _env_name(v, info.field_name)

    @field_validator("sections")
    @classmethod
    def _sections(cls, v: list[str]) -> list[str]:
        return known_sections(v)

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        """The kind's class says what its settings lack (webhook_env, sender and to …)."""
        from opsnb.notify.channels import get

        problem = get(self.kind).settings_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class AlertRule(_Model):
    """A finding worth a message the day the run sees it (sent once per finding; a changed finding is an update).

    ``when``: ``kpi`` — a KPI's attainment status below ``below`` (``nearly``: the KPI missed;
    ``exceeded``: nearly or missed), for ``kpis`` (default: every KPI with a target);
    ``problem`` — a problem of at least ``severity`` (and of ``area`` / ``detector`` if given);
    ``section_failed`` — a section (of ``sections``, default any) failed in the run.
    """

    name: str = Field(pattern=_NAME)
    when: Literal["kpi", "problem", "section_failed"]
    below: Literal["exceeded", "nearly"] = "nearly"
    kpis: list[str] | None = None
    severity: Severity = "high"  # problem: the least severity that alerts; others: the alert's severity
    area: str | None = None
    detector: str | None = None
    sections: list[str] | None = None

    @field_validator("sections")
    @classmethod
    def _sections(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else known_sections(v)


class DeliverySettings(_Model):
    base_url: str | None = None  # the link in messages: <base_url>/<unit>/<period>/index.html
    tries: int = Field(default=3, ge=1, le=10)  # a 5xx or timeout is retried, with backoff …
    budget_s: float = Field(default=30.0, gt=0, le=600)  # … within this many seconds per message
    max_problems: int = Field(default=3, ge=0, le=20)  # on the review card
    max_actions: int = Field(default=3, ge=0, le=20)
