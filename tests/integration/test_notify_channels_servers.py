"""Every channel kind against a real local server: pytest-httpserver for the chat bots, aiosmtpd for email.

Checked on the wire: the exact JSON body, the Content-Type, DingTalk's query (timestamp, sign) and Feishu's
body signature, recomputed here from the documented algorithms. Retries, the budget, final errors, and the
planted secrets (webhook key, signing secret, SMTP password) that must never show in what ``send`` returns
or raises. Backoff sleeps go to a fake clock, so the file runs in seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from opsnb.errors import ParamsError
from opsnb.notify.channels import Delivery, Message, render_text, send
from opsnb.params import Channel
from tests.servers import free_port

KEY = "wk-PLANTED-7f3a9c2e51"  # the webhook's key (in its query or path)
SECRET = "SECsig-PLANTED-b81d44"  # the signing secret
PASSWORD = "smtp-PLANTED-pw-0c5e"  # the SMTP password
T0 = 1_700_000_000.0  # the fake clock's start (2023-11-14T22:13:20Z)
JSON_CT = "application/json; charset=utf-8"

MSG = Message(title="运营复盘 · sample · 2026-10",
              lines=("**核心指标**", "- GMV ¥1.2M（达成 95%）", "- 复购率 31%"),
              link="https://review.example.com/sample/2026-10/index.html")


class FakeClock:
    """``clock`` and ``sleep`` for ``send``: sleeping moves the clock, instantly."""

    def __init__(self) -> None:
        self.t = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # threaded: a slow handler doesn't block the next
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server.clear()
    yield server
    server.check_assertions()


def chat(kind: str, **kw: Any) -> Channel:
    return Channel(**({"name": f"ops-{kind}", "kind": kind, "webhook_env": "HOOK", "timeout_s": 2.0} | kw))


def run(channel: Channel, env: dict[str, str], msg: Message = MSG, **kw: Any) -> tuple[Delivery, FakeClock]:
    clock = FakeClock()
    d = send(channel, msg, env=env, sleep=clock.sleep, clock=clock, **kw)
    return d, clock


def assert_secret_free(d: Delivery) -> None:
    for text in (repr(d), json.dumps(d.to_json(), ensure_ascii=False)):
        for secret in (KEY, SECRET, PASSWORD):
            assert secret not in text


def sent_body(server: HTTPServer, i: int = -1) -> dict[str, Any]:
    req = server.log[i][0]
    return json.loads(req.get_data())


# ---------------------------------------------------------------- each kind: the request on the wire


def test_wecom_markdown(http: HTTPServer):
    body = {"msgtype": "markdown", "markdown": {"content": render_text("wecom", MSG)}}
    http.expect_request("/cgi-bin/webhook/send", method="POST", query_string={"key": KEY}, json=body,
                        headers={"Content-Type": JSON_CT}).respond_with_json({"errcode": 0, "errmsg": "ok"})
    d, clock = run(chat("wecom"), {"HOOK": http.url_for(f"/cgi-bin/webhook/send?key={KEY}")})
    assert d.ok and d.error is None and not d.truncated
    assert [(a.status, a.error) for a in d.attempts] == [(200, None)]
    assert d.attempts[0].at == "2023-11-14T22:13:20Z"
    assert d.bytes == len(http.log[0][0].get_data())
    assert "GMV ¥1.2M（达成 95%）" in http.log[0][0].get_data().decode("utf-8")  # UTF-8 on the wire, not \u escapes
    assert clock.slept == []


def test_dingtalk_signed(http: HTTPServer):
    ts = str(int(T0 * 1000))
    sign = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
    body = {"msgtype": "markdown", "markdown": {"title": MSG.title, "text": render_text("dingtalk", MSG)}}
    http.expect_request("/robot/send", method="POST", json=body, headers={"Content-Type": JSON_CT},
                        query_string={"access_token": KEY, "timestamp": ts, "sign": sign},
                        ).respond_with_json({"errcode": 0, "errmsg": "ok"})
    env = {"HOOK": http.url_for(f"/robot/send?access_token={KEY}"), "DT_SECRET": SECRET}
    d, _ = run(chat("dingtalk", secret_env="DT_SECRET"), env)
    assert d.ok, d.error
    raw_query = http.log[0][0].query_string.decode()
    assert raw_query.startswith(f"access_token={KEY}&timestamp={ts}&sign=")  # appended with "&"
    assert "+" not in raw_query.split("sign=")[1] and "/" not in raw_query.split("sign=")[1]  # URL-encoded
    assert_secret_free(d)


def test_feishu_signed_card(http: HTTPServer):
    ts = str(int(T0))
    sign = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    body = {"timestamp": ts, "sign": sign, "msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": MSG.title}, "template": "blue"},
        "elements": [{"tag": "markdown", "content": render_text("feishu", MSG)}]}}
    http.expect_request(f"/open-apis/bot/v2/hook/{KEY}", method="POST", json=body,
                        headers={"Content-Type": JSON_CT}).respond_with_json({"code": 0, "msg": "success", "data": {}})
    env = {"HOOK": http.url_for(f"/open-apis/bot/v2/hook/{KEY}"), "FS_SECRET": SECRET}
    d, _ = run(chat("feishu", secret_env="FS_SECRET"), env)
    assert d.ok, d.error
    assert_secret_free(d)


def test_slack_blocks(http: HTTPServer):
    path = f"/services/T000/B000/{KEY}"  # Slack's token is the last path segment
    http.expect_request(path, method="POST", headers={"Content-Type": JSON_CT}).respond_with_data("ok")
    d, _ = run(chat("slack"), {"HOOK": http.url_for(path)})
    assert d.ok, d.error
    body = sent_body(http)
    assert body["text"] == render_text("slack", MSG)
    assert body["blocks"][0]["type"] == "header" and body["blocks"][0]["text"]["text"] == MSG.title
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"
    assert body["blocks"][1]["text"]["text"].startswith("*核心指标*\n• GMV")


def test_long_message_is_truncated_and_recorded(http: HTTPServer):
    http.expect_request("/wecom").respond_with_json({"errcode": 0, "errmsg": "ok"})
    long = Message(title="t", lines=tuple(f"- 第{i}行 " + "数据" * 40 for i in range(200)))
    d, _ = run(chat("wecom"), {"HOOK": http.url_for("/wecom")}, msg=long)
    assert d.ok and d.truncated
    content = sent_body(http)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and "…更多内容见报告" in content


# ---------------------------------------------------------------- retries and the budget


def test_500_then_ok_is_two_attempts(http: HTTPServer):
    http.expect_ordered_request("/hook").respond_with_data("upstream busy", status=500)
    http.expect_ordered_request("/hook").respond_with_json({"errcode": 0, "errmsg": "ok"})
    d, clock = run(chat("wecom"), {"HOOK": http.url_for("/hook")})
    assert d.ok and d.error is None
    assert [(a.status, a.error) for a in d.attempts] == [(500, "upstream busy"), (200, None)]
    assert len(clock.slept) == 1 and 1.0 <= clock.slept[0] <= 1.1


def test_three_500s_fail_after_three_attempts_within_budget(http: HTTPServer):
    http.expect_request("/hook").respond_with_data("oops", status=503)
    d, clock = run(chat("dingtalk"), {"HOOK": http.url_for("/hook")}, tries=3, budget_s=30.0)
    assert not d.ok
    assert [a.status for a in d.attempts] == [503, 503, 503]
    assert d.error == "dingtalk HTTP 503: oops"
    assert len(clock.slept) == 2 and 1.0 <= clock.slept[0] <= 1.1 and 2.0 <= clock.slept[1] <= 2.2
    assert clock.t - T0 <= 30.0


def test_429_is_retried(http: HTTPServer):
    http.expect_ordered_request("/hook").respond_with_data("rate_limited", status=429)
    http.expect_ordered_request("/hook").respond_with_data("ok")
    d, _ = run(chat("slack"), {"HOOK": http.url_for("/hook")})
    assert d.ok and [a.status for a in d.attempts] == [429, 200]


def test_budget_spent_early(http: HTTPServer):
    http.expect_request("/hook").respond_with_data("down", status=502)
    d, clock = run(chat("feishu"), {"HOOK": http.url_for("/hook")}, tries=5, budget_s=2.5)
    # attempt 1, sleep ~1 s, attempt 2; a sleep of ~2 s more would leave no time for attempt 3
    assert [a.status for a in d.attempts] == [502, 502]
    assert len(clock.slept) == 1
    assert d.error == "feishu HTTP 502: down (retry budget of 2.5 s spent after 2 attempts)"
    assert clock.t - T0 <= 2.5


def test_400_is_not_retried_and_slack_text_is_the_error(http: HTTPServer):
    http.expect_request("/hook").respond_with_data("invalid_payload", status=400, content_type="text/plain")
    d, clock = run(chat("slack"), {"HOOK": http.url_for("/hook")})
    assert not d.ok and len(d.attempts) == 1 and clock.slept == []
    assert (d.attempts[0].status, d.attempts[0].error) == (400, "invalid_payload")
    assert d.error == "slack HTTP 400: invalid_payload"


def test_timeout_is_retried(http: HTTPServer):
    calls: list[float] = []

    def slow_then_ok(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(0.6)  # past timeout_s=0.2
        return Response(json.dumps({"errcode": 0, "errmsg": "ok"}), content_type="application/json")

    http.expect_request("/hook").respond_with_handler(slow_then_ok)
    d, clock = run(chat("wecom", timeout_s=0.2), {"HOOK": http.url_for(f"/hook?key={KEY}")})
    assert d.ok, d.error
    assert [(a.status, a.error) for a in d.attempts] == [(None, "timeout after 0.2 s"), (200, None)]
    assert d.attempts[0].seconds >= 0 and len(clock.slept) == 1
    assert_secret_free(d)


def test_connection_refused_is_retried_and_secret_free():
    port = free_port()  # nobody listens there
    d, clock = run(chat("wecom"), {"HOOK": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={KEY}"}, tries=2)
    assert not d.ok and len(d.attempts) == 2 and len(clock.slept) == 1
    assert all(a.status is None and "connection error" in (a.error or "") for a in d.attempts)
    assert d.error is not None and d.error.startswith(f"wecom 127.0.0.1:{port}: connection error")
    assert_secret_free(d)


# ---------------------------------------------------------------- errors in a 200 body


@pytest.mark.parametrize("kind, answer, expected", [
    ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}, "wecom 93000: invalid webhook url"),
    ("dingtalk", {"errcode": 310000, "errmsg": "keywords not in content"}, "dingtalk 310000: keywords not in content"),
    ("feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"},
     "feishu 19021: sign match fail or timestamp is not within one hour from current time"),
])
def test_error_in_a_200_body_is_final(http: HTTPServer, kind: str, answer: dict[str, Any], expected: str):
    http.expect_request("/cgi-bin/webhook/send").respond_with_json(answer)
    d, clock = run(chat(kind), {"HOOK": http.url_for(f"/cgi-bin/webhook/send?key={KEY}")})
    assert not d.ok and d.error == expected
    assert len(d.attempts) == 1 and d.attempts[0].status == 200 and clock.slept == []
    assert d.attempts[0].error == expected.split(" ", 1)[1]  # words of the URL ("webhook") are not scrubbed
    assert_secret_free(d)


@pytest.mark.parametrize("kind, busy", [
    ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}),
    ("dingtalk", {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
    ("feishu", {"code": 11232, "msg": "frequency limited"}),
])
def test_rate_limit_codes_in_a_200_body_are_retried(http: HTTPServer, kind: str, busy: dict[str, Any]):
    http.expect_ordered_request("/hook").respond_with_json(busy)
    http.expect_ordered_request("/hook").respond_with_json({"errcode": 0, "code": 0, "errmsg": "ok"})
    d, _ = run(chat(kind), {"HOOK": http.url_for("/hook")})
    assert d.ok and len(d.attempts) == 2


# ---------------------------------------------------------------- secrets


def test_secrets_never_in_errors_even_if_the_server_echoes_them(http: HTTPServer):
    http.expect_request("/robot/send").respond_with_data(
        f"bad token {KEY} for sign with {SECRET}", status=403)
    env = {"HOOK": http.url_for(f"/robot/send?access_token={KEY}"), "DT_SECRET": SECRET}
    d, _ = run(chat("dingtalk", secret_env="DT_SECRET"), env)
    assert not d.ok and d.error == "dingtalk HTTP 403: bad token *** for sign with ***"
    assert_secret_free(d)


def test_missing_env_var_raises_params_error_without_values():
    with pytest.raises(ParamsError) as info:
        run(chat("dingtalk", secret_env="DT_SECRET"), {"HOOK": f"https://oapi.dingtalk.com/robot/send?access_token={KEY}"})
    text = str(info.value)
    assert "DT_SECRET" in text and "ops-dingtalk" in text and KEY not in text
    with pytest.raises(ParamsError, match="HOOK"):
        run(chat("slack"), {})


# ---------------------------------------------------------------- email (aiosmtpd)


class Inbox:
    """An aiosmtpd handler keeping what it got; ``replies`` are answered to DATA in turn (default 250)."""

    def __init__(self, replies: list[str] | None = None) -> None:
        self.replies = list(replies or [])
        self.got: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.got.append(msg)
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"opsbot" and auth_data.password == \
        PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtpd() -> Iterator[tuple[Inbox, Controller, int]]:
    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_auth, auth_require_tls=False)
    ctl.start()
    yield inbox, ctl, port
    ctl.stop()


def mail_channel(port: int, **kw: Any) -> Channel:
    return Channel(**({"name": "ops-mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                       "smtp_security": "none", "sender": "opsnb@example.com",
                       "to": ["boss@example.com", "ops@example.com"], "timeout_s": 5.0} | kw))


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    p = tmp_path / "review.pdf"
    p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    return p


def _check_mail(got: EmailMessage, pdf: Path) -> None:
    assert got["Subject"] == MSG.title
    assert got["From"] == "opsnb@example.com"
    assert got["To"] == "boss@example.com, ops@example.com"
    plain = got.get_body(preferencelist=("plain",))
    html = got.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert "- GMV ¥1.2M（达成 95%）" in text and "核心指标" in text
    assert "查看完整报告 (https://review.example.com/sample/2026-10/index.html)" in text
    assert "<strong>核心指标</strong>" in html.get_content()
    files = list(got.iter_attachments())
    assert [(f.get_filename(), f.get_content_type()) for f in files] == [("review.pdf", "application/pdf")]
    assert files[0].get_content() == pdf.read_bytes()


def test_email_with_login_and_pdf(smtpd: tuple[Inbox, Controller, int], pdf: Path):
    inbox, _, port = smtpd
    msg = Message(MSG.title, MSG.lines, MSG.link, attachments=(pdf,))
    ch = mail_channel(port, smtp_user="opsbot", password_env="SMTP_PW")
    d, _ = run(ch, {"SMTP_PW": PASSWORD}, msg=msg)
    assert d.ok, d.error
    assert [(a.status, a.error) for a in d.attempts] == [(250, None)]
    assert inbox.envelopes == [("opsnb@example.com", ["boss@example.com", "ops@example.com"])]
    _check_mail(inbox.got[0], pdf)
    assert d.bytes > len(pdf.read_bytes())


def test_email_without_auth(smtpd: tuple[Inbox, Controller, int], pdf: Path):
    inbox, _, port = smtpd
    d, _ = run(mail_channel(port), {}, msg=Message(MSG.title, MSG.lines, MSG.link, attachments=(pdf,)))
    assert d.ok, d.error
    _check_mail(inbox.got[0], pdf)


def test_email_wrong_password_is_final_and_secret_free(smtpd: tuple[Inbox, Controller, int]):
    inbox, _, port = smtpd
    wrong = PASSWORD + "-x"
    d, clock = run(mail_channel(port, smtp_user="opsbot", password_env="SMTP_PW"), {"SMTP_PW": wrong})
    assert not d.ok and len(d.attempts) == 1 and clock.slept == []
    assert d.attempts[0].status == 535
    assert wrong not in repr(d) and wrong not in json.dumps(d.to_json())
    assert inbox.got == []


def test_email_550_is_not_retried(smtpd: tuple[Inbox, Controller, int]):
    inbox, _, port = smtpd
    inbox.replies = ["550 5.7.1 message refused by policy"]
    d, clock = run(mail_channel(port), {})
    assert not d.ok and len(d.attempts) == 1 and clock.slept == []
    assert (d.attempts[0].status, d.attempts[0].error) == (550, "550 5.7.1 message refused by policy")
    assert d.error == f"email 127.0.0.1:{port}: 550 5.7.1 message refused by policy"


def test_email_451_is_retried(smtpd: tuple[Inbox, Controller, int]):
    inbox, _, port = smtpd
    inbox.replies = ["451 4.3.0 try again later"]
    d, clock = run(mail_channel(port), {})
    assert d.ok, d.error
    assert [a.status for a in d.attempts] == [451, 250] and len(clock.slept) == 1
    assert len(inbox.got) == 1


def test_email_starttls_not_offered_is_final(smtpd: tuple[Inbox, Controller, int]):
    _, _, port = smtpd
    d, clock = run(mail_channel(port, smtp_security="starttls"), {})
    assert not d.ok and len(d.attempts) == 1 and clock.slept == []
    assert "STARTTLS" in (d.error or "")


def test_email_server_down_is_retried():
    port = free_port()
    d, clock = run(mail_channel(port, smtp_user="opsbot", password_env="SMTP_PW"), {"SMTP_PW": PASSWORD}, tries=2)
    assert not d.ok and [a.status for a in d.attempts] == [None, None] and len(clock.slept) == 1
    assert "connection error" in (d.error or "")
    assert_secret_free(d)


def test_email_missing_password_var():
    with pytest.raises(ParamsError, match="SMTP_PW") as info:
        run(mail_channel(25, smtp_user="opsbot", password_env="SMTP_PW"), {})
    assert "ops-mail" in str(info.value)


def test_path_token_scrubbed_from_an_echoing_server(http: HTTPServer):
    """Feishu and Slack carry the credential in the path: an echo of it is scrubbed too."""
    path = f"/open-apis/bot/v2/hook/{KEY}"
    http.expect_request(path).respond_with_data(f"no such hook {KEY} at {path}", status=404)
    d, _ = run(chat("feishu"), {"HOOK": http.url_for(path)})
    assert not d.ok and len(d.attempts) == 1
    assert d.error == "feishu HTTP 404: no such hook *** at /open-apis/bot/v2/hook/***"
    assert_secret_free(d)


def test_email_missing_attachment_fails_without_attempt(tmp_path: Path):
    gone = tmp_path / "missing.pdf"
    d, _ = run(mail_channel(free_port()), {}, msg=Message(MSG.title, MSG.lines, attachments=(gone,)))
    assert not d.ok and d.attempts == []
    assert d.error == "email: cannot read attachment (No such file or directory)"
