"""End to end: `opsnb run` publishes, then delivers to chat bots on a local HTTP server; `opsnb notify`.

One WeCom bot that accepts, one signed DingTalk bot that first answers HTTP 200 with an error code:
the run exits 4 (published, delivery failed) with the review intact, the send log says what happened,
`opsnb notify` delivers what is missing, an unchanged rerun sends nothing, and no planted secret is
written anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from pytest_httpserver import HTTPServer

from opsnb import cli
from opsnb.sample import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("delivery")]
ROOT = Path(__file__).resolve().parents[2]
KEY, TOKEN, SIGN = "PLANTED-wecom-key-7f3a", "PLANTED-ding-token-91bc", "SECPLANTED-sign-secret-55d0"
RUN = ["run", "--unit", "dlv", "--sections", "goals,problems,plan", "--quiet"]


@pytest.fixture(scope="module")
def server():
    s = HTTPServer(host="127.0.0.1", port=0)
    s.start()
    yield s
    s.clear()
    if s.is_running():
        s.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dlv")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    (root / "params").mkdir()
    (root / "params" / "default.yaml").symlink_to(ROOT / "params" / "default.yaml")
    generate(root / "pack", scale=0.1)
    unit = {"unit": "dlv", "pack": str(root / "pack"),
            "notify": [{"name": "group", "kind": "wecom", "webhook_env": "OPSNB_T_WECOM"},
                       {"name": "leaders", "kind": "dingtalk", "webhook_env": "OPSNB_T_DING",
                        "secret_env": "OPSNB_T_DING_SECRET", "digest": False}],
            "alerts": [{"name": "missed", "when": "kpi"}, {"name": "serious", "when": "problem", "severity": "high"}],
            "delivery": {"base_url": "https://reports.example.cn/ops", "tries": 2, "budget_s": 5}}
    (root / "params" / "dlv.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def published(project: Path) -> Path:
    """The unit's review, published once (without delivering: batch.run publishes, the CLI delivers)."""
    from opsnb import batch

    res = batch.run(root=project, unit="dlv", sections=["goals", "problems", "plan"], progress=False,
                    log=lambda m: None)
    assert res.ok
    return res.out_dir


@pytest.fixture
def env(project: Path, published: Path, server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSNB_HOME", str(project))
    monkeypatch.setenv("OPSNB_T_WECOM", server.url_for(f"/cgi-bin/webhook/send?key={KEY}"))
    monkeypatch.setenv("OPSNB_T_DING", server.url_for(f"/robot/send?access_token={TOKEN}"))
    monkeypatch.setenv("OPSNB_T_DING_SECRET", SIGN)


def _bots(server: HTTPServer, *, ding_ok: bool) -> None:
    server.clear()
    server.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    server.expect_request("/robot/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"} if ding_ok else {"errcode": 310000, "errmsg": "sign not match"})


def _sent(server: HTTPServer) -> list[tuple[str, dict[str, Any], dict[str, list[str]]]]:
    return [(r.path, json.loads(r.get_data()), parse_qs(urlparse(r.url).query)) for r, _ in server.log]


def test_run_publishes_then_delivers_and_notify_completes_it(project: Path, server: HTTPServer, env: None,
                                                             capsys: pytest.CaptureFixture[str]):
    _bots(server, ding_ok=False)
    assert cli.main(RUN) == cli.DELIVERY_FAILED
    out, err = capsys.readouterr()
    review = project / "outputs" / "dlv" / out.strip().splitlines()[-1].split("/")[-2]
    assert (review / "index.html").is_file() and json.loads((review / "manifest.json").read_text())["ok"]
    assert "delivery to leaders failed (alerts): dingtalk 310000: sign not match" in err

    sent = _sent(server)
    assert [p for p, _, _ in sent] == ["/cgi-bin/webhook/send", "/cgi-bin/webhook/send", "/robot/send"]
    card, alerts = sent[0][1]["markdown"]["content"], sent[1][1]["markdown"]["content"]
    period = review.name
    assert card.startswith(f"### 运营复盘 · dlv · {period}\n") and "**核心指标**" in card and "**逾期行动**" in card
    assert card.endswith(f"[查看完整报告](https://reports.example.cn/ops/dlv/{period}/index.html)")
    # every KPI line is the summary page's card, every problem line the problems page's record
    cards = json.loads((review / "handoff-kpi_cards.json").read_text(encoding="utf-8"))
    assert all(f"**{c['label']}** {c['value']}" in card for c in cards)
    problems = json.loads((review / "handoff-problems.json").read_text(encoding="utf-8"))
    assert problems[0]["text"] in card
    assert len(card.encode("utf-8")) <= 4096
    assert alerts.startswith(f"### 预警 · dlv · {period}") and "[新]" in alerts
    assert sent[2][1]["msgtype"] == "markdown" and {"timestamp", "sign"} <= set(sent[2][2])  # signed

    log = json.loads((project / "outputs" / "dlv" / "deliveries.json").read_text(encoding="utf-8"))["deliveries"]
    assert [(r["channel"], r["message"], r["ok"]) for r in log] == [("group", "card", True), ("group", "alerts", True),
                                                                    ("leaders", "alerts", False)]
    assert log[2]["attempts"][0]["status"] == 200 and len(log[2]["attempts"]) == 1  # an error in a 200: no retry

    # the bot is fixed: notify sends what is missing, and only that
    _bots(server, ding_ok=True)
    assert cli.main(["notify", "--unit", "dlv", "--dry-run"]) == 0
    assert server.log == [] and "leaders: alerts" in capsys.readouterr().out
    assert cli.main(["notify", "--unit", "dlv"]) == 0
    assert [p for p, _, _ in _sent(server)] == ["/robot/send"]
    assert "group: nothing new (already delivered)" in capsys.readouterr().out

    # an unchanged rerun: every section reused, nothing sent again
    _bots(server, ding_ok=True)
    assert cli.main(RUN) == 0
    assert server.log == []

    # no planted secret anywhere: outputs, logs, captured output
    out, err = capsys.readouterr()
    texts = [out, err] + [p.read_bytes().decode("utf-8", "replace") for p in (project / "outputs").rglob("*")
                          if p.is_file()]
    for secret in (KEY, TOKEN, SIGN):
        assert not [t[:80] for t in texts if secret in t], secret


def test_a_bot_that_is_down_is_retried_then_reported(project: Path, server: HTTPServer, env: None,
                                                      capsys: pytest.CaptureFixture[str]):
    server.clear()
    server.expect_request("/cgi-bin/webhook/send").respond_with_data("upstream down", status=503)
    assert cli.main(["notify", "--unit", "dlv", "--resend", "--set", "alerts=[]",
                     "--set", "notify=[{name: group, kind: wecom, webhook_env: OPSNB_T_WECOM}]"]) == cli.DELIVERY_FAILED
    assert len(server.log) == 2  # tries: 2
    assert "FAILED" in capsys.readouterr().out
    review = sorted((project / "outputs" / "dlv").glob("20*"))[-1]
    assert (review / "index.html").is_file()  # untouched


@pytest.mark.browser
def test_email_carries_the_review_pdf(project: Path, env: None, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]):
    """A real SMTP exchange: the card as the mail, review.pdf (exported for it) attached, Chinese searchable."""
    import email
    import io
    import socket

    from aiosmtpd.controller import Controller
    from pypdf import PdfReader

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
            self.messages.append(envelope.content)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setenv("OPSNB_T_SMTP_PW", "PLANTED-smtp-password")
    try:
        mail = (f"notify=[{{name: mail, kind: email, smtp_host: 127.0.0.1, smtp_port: {port}, smtp_security: none, "
                "sender: review@example.cn, to: [leads@example.cn]}]")
        assert cli.main(["notify", "--unit", "dlv", "--set", mail, "--set", "alerts=[]"]) == 0
    finally:
        ctl.stop()
    review = sorted((project / "outputs" / "dlv").glob("20*"))[-1]
    msg = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert msg["Subject"] == f"运营复盘 · dlv · {review.name}" and msg["To"] == "leads@example.cn"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    cards = json.loads((review / "handoff-kpi_cards.json").read_text(encoding="utf-8"))
    assert f"{cards[0]['label']} {cards[0]['value']}" in body.replace("**", "")
    (pdf,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    data = pdf.get_content()
    assert data == (review / "review.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 3 and cards[0]["label"] in reader.pages[0].extract_text()
    assert "新增用户" in "".join(p.extract_text() for p in reader.pages[:2])
