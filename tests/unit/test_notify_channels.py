"""The transport's pure parts: fit (whole lines, UTF-8 bytes), what each kind renders, the exact payloads.

Signatures are recomputed here from the providers' documented algorithms with hmac/hashlib/base64, never
with the module's own signing functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from pathlib import Path

import pytest

from opsnb.errors import ParamsError
from opsnb.notify.channels import LIMITS, Delivery, Message, fit, payload, render_text, send
from opsnb.params import Channel

ZH = "运营复盘"  # 4 characters, 12 bytes
MSG = Message(title="运营复盘 · sample · 2026-10",
              lines=("**核心指标**", "- GMV ¥1.2M（达成 95%）", "- 复购率 31%"),
              link="https://review.example.com/sample/2026-10/index.html")


def b(text: str) -> int:
    return len(text.encode("utf-8"))


def ch(kind: str, **kw: object) -> Channel:
    base: dict[str, object] = {"name": f"t-{kind}", "kind": kind}
    if kind == "email":
        base |= {"sender": "ops@example.com", "to": ["boss@example.com"]}
    else:
        base |= {"webhook_env": "HOOK"}
    return Channel(**(base | kw))


# ---------------------------------------------------------------- fit


def test_fit_keeps_everything_when_it_fits_and_adds_no_more_line():
    lines = [ZH, ZH, ZH]
    limit = b("\n".join(lines))  # exactly at the limit: 3 × 12 bytes + 2 newlines
    assert limit == 38
    assert fit(lines, limit, "…更多") == (lines, False)


def test_fit_one_byte_short_cuts_whole_lines_and_adds_more():
    lines = [ZH, ZH, ZH]
    kept, cut = fit(lines, 37, "…更多")
    assert cut is True
    assert kept == [ZH, ZH, "…更多"]
    assert b("\n".join(kept)) <= 37


def test_fit_exactly_at_the_limit_with_more_line():
    more = "…更多内容见报告"  # 3 + 7 × 3 = 24 bytes
    lines = ["甲" * 10, "乙" * 10, "丙" * 10]  # 30 bytes each
    limit = 30 + 1 + 30 + 1 + b(more)  # two lines and more, to the byte
    kept, cut = fit(lines, limit, more)
    assert (kept, cut) == (["甲" * 10, "乙" * 10, more], True)
    assert b("\n".join(kept)) == limit
    kept, cut = fit(lines, limit - 1, more)  # one byte less: the second line goes
    assert kept == ["甲" * 10, more]


def test_fit_never_splits_a_multibyte_character():
    lines = ["a" * 5, "汉字汉字"]  # the second line would fit 1–11 of its 12 bytes: it must go whole
    for limit in range(6, b("a" * 5 + "\n汉字汉字")):
        kept, cut = fit(lines, limit, "")
        assert cut is True
        assert kept == ["a" * 5]
        "\n".join(kept).encode("utf-8").decode("utf-8")  # still valid UTF-8


def test_fit_a_single_over_long_first_line_leaves_only_more():
    kept, cut = fit(["长" * 5000], 4096, "…更多内容见报告")
    assert (kept, cut) == (["…更多内容见报告"], True)


def test_fit_stops_at_an_over_long_line_rather_than_skipping_it():
    kept, cut = fit(["a", "长" * 5000, "b"], 4096, "more")
    assert kept == ["a", "more"]  # "b" is not shown out of order after a gap
    assert cut


def test_fit_more_that_does_not_fit_alone_is_left_out():
    assert fit(["abcdef"], 3, "…更多") == ([], True)


def test_fit_max_line():
    assert fit(["ok", "x" * 10, "z"], 1000, "m", max_line=5) == (["ok", "m"], True)
    assert fit(["ok", "z"], 1000, "m", max_line=5) == (["ok", "z"], False)


def test_more_line_only_when_truncated():
    short = Message(title="t", lines=("一", "二"), more="…更多内容见报告")
    for kind in LIMITS:
        assert "更多内容见报告" not in render_text(kind, short)
    long = Message(title="t", lines=tuple(f"- 第{i}行 " + "数据" * 50 for i in range(400)), more="…更多内容见报告")
    for kind in ("wecom", "dingtalk", "feishu", "slack"):
        text = render_text(kind, long)
        assert "更多内容见报告" in text
        assert b(text) <= LIMITS[kind]


# ---------------------------------------------------------------- render_text


def test_render_text_per_kind():
    assert render_text("wecom", MSG) == (
        "### 运营复盘 · sample · 2026-10\n\n**核心指标**\n- GMV ¥1.2M（达成 95%）\n- 复购率 31%\n\n"
        "[查看完整报告](https://review.example.com/sample/2026-10/index.html)")
    assert render_text("dingtalk", MSG) == render_text("wecom", MSG)
    assert render_text("feishu", MSG).startswith("**核心指标**\n")  # the title is in the card header
    assert render_text("slack", MSG) == (
        "*运营复盘 · sample · 2026-10*\n*核心指标*\n• GMV ¥1.2M（达成 95%）\n• 复购率 31%\n\n"
        "<https://review.example.com/sample/2026-10/index.html|查看完整报告>")
    assert render_text("email", MSG) == (
        "核心指标\n- GMV ¥1.2M（达成 95%）\n- 复购率 31%\n\n"
        "查看完整报告 (https://review.example.com/sample/2026-10/index.html)")


def test_a_link_already_written_as_a_line_is_kept():
    m = Message(title="t", lines=("x",), link="[Open the full review](https://r.example.com/a)")
    assert render_text("wecom", m).endswith("\n\n[Open the full review](https://r.example.com/a)")
    assert render_text("slack", m).endswith("\n\n<https://r.example.com/a|Open the full review>")
    local = Message(title="t", lines=("x",), link="Full review: /srv/outputs/a/2026-10/index.html")
    assert render_text("feishu", local).endswith("Full review: /srv/outputs/a/2026-10/index.html")


def test_slack_escapes_its_control_characters():
    m = Message(title="t", lines=("a & b <script> **粗**",))
    assert render_text("slack", m).splitlines()[1] == "a &amp; b &lt;script&gt; *粗*"


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown channel kind 'fax'"):
        render_text("fax", MSG)


def test_wecom_content_at_the_limit_counts_title_and_link():
    line = "汉" * 100  # 300 bytes
    m = Message(title="运营复盘", lines=tuple([line] * 40), link="https://r.example.com/x")
    content = payload(ch("wecom"), m, now_ms=0, secret=None)[1]["markdown"]["content"]
    assert b(content) <= 4096
    assert content.startswith("### 运营复盘\n\n")
    assert content.endswith("…更多内容见报告\n\n[查看完整报告](https://r.example.com/x)")
    kept = content.count(line)
    assert 4096 - b(content) < 301  # one more line would not have fitted
    assert 0 < kept < 40


# ---------------------------------------------------------------- payloads


def test_wecom_payload():
    query, body, headers = payload(ch("wecom"), MSG, now_ms=1_700_000_000_000, secret=None)
    assert query == ""
    assert body == {"msgtype": "markdown", "markdown": {"content": render_text("wecom", MSG)}}
    assert headers == {"Content-Type": "application/json; charset=utf-8"}


def test_dingtalk_payload_signed_as_documented():
    secret = "SECabc123"
    query, body, _ = payload(ch("dingtalk", secret_env="SIG"), MSG, now_ms=1_700_000_000_123, secret=secret)
    assert body == {"msgtype": "markdown", "markdown": {"title": MSG.title, "text": render_text("dingtalk", MSG)}}
    q = urllib.parse.parse_qs(query)
    assert q["timestamp"] == ["1700000000123"]
    # DingTalk: HmacSHA256 with key = secret over "timestamp\nsecret", base64, then URL-encoded
    expected = base64.b64encode(hmac.new(secret.encode(), b"1700000000123\n" + secret.encode(),
                                         hashlib.sha256).digest()).decode()
    assert q["sign"] == [expected]
    assert f"sign={urllib.parse.quote_plus(expected)}" in query


def test_dingtalk_signature_matches_a_published_vector():
    """The dingding crate's test vector (docs.rs/crate/dingding, signature.rs): ts 1700000000000, "secret"."""
    query, _, _ = payload(ch("dingtalk", secret_env="SIG"), MSG, now_ms=1_700_000_000_000, secret="secret")
    assert query == "timestamp=1700000000000&sign=OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"


def test_dingtalk_unsigned_has_no_query():
    assert payload(ch("dingtalk"), MSG, now_ms=1, secret=None)[0] == ""


def test_feishu_payload_signed_as_documented():
    secret = "feishu-secret"
    query, body, headers = payload(ch("feishu", secret_env="SIG"), MSG, now_ms=1_700_000_000_999, secret=secret)
    assert query == ""
    assert body["timestamp"] == "1700000000"  # seconds, as a string
    # Feishu: HmacSHA256 with key = "timestamp\nsecret" over the empty message, base64
    expected = base64.b64encode(hmac.new(b"1700000000\n" + secret.encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"] == {"tag": "plain_text", "content": MSG.title}
    assert body["card"]["elements"] == [{"tag": "markdown", "content": render_text("feishu", MSG)}]
    assert headers["Content-Type"].startswith("application/json")


def test_feishu_unsigned_has_no_signature_fields():
    body = payload(ch("feishu"), MSG, now_ms=1, secret=None)[1]
    assert "sign" not in body and "timestamp" not in body


def test_feishu_body_stays_under_20_kb():
    m = Message(title="t", lines=tuple(f"- 第{i}行 \"引号\" " + "数据" * 60 for i in range(500)))
    body = payload(ch("feishu", secret_env="SIG"), m, now_ms=1, secret="s")[1]
    assert len(json.dumps(body, ensure_ascii=False).encode("utf-8")) < 20 * 1024


def test_slack_payload_blocks():
    _, body, _ = payload(ch("slack"), MSG, now_ms=0, secret=None)
    assert body["text"] == render_text("slack", MSG)
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": MSG.title, "emoji": True}}
    assert body["blocks"][1] == {"type": "section", "text": {"type": "mrkdwn", "text": (
        "*核心指标*\n• GMV ¥1.2M（达成 95%）\n• 复购率 31%\n\n"
        "<https://review.example.com/sample/2026-10/index.html|查看完整报告>")}}


def test_slack_sections_and_header_respect_block_limits():
    m = Message(title="T" * 200, lines=tuple("x" * 1000 for _ in range(30)))
    _, body, _ = payload(ch("slack"), m, now_ms=0, secret=None)
    assert len(body["blocks"][0]["text"]["text"]) == 150
    sections = [blk["text"]["text"] for blk in body["blocks"][1:]]
    assert all(0 < len(s) <= 3000 for s in sections)
    assert len(body["blocks"]) <= 50
    assert sections[-1].endswith("…更多内容见报告")


def test_email_payload(tmp_path: Path):
    pdf = tmp_path / "review.pdf"
    m = Message(title=MSG.title, lines=MSG.lines + ("<b>raw</b> & co",), link=MSG.link, attachments=(pdf,))
    query, body, headers = payload(ch("email"), m, now_ms=0, secret=None)
    assert (query, headers) == ("", {})
    assert body["subject"] == MSG.title
    assert body["from"] == "ops@example.com" and body["to"] == ["boss@example.com"]
    assert body["attachments"] == ["review.pdf"]
    assert "核心指标\n- GMV" in body["text"]
    html = body["html"]
    assert "<strong>核心指标</strong>" in html
    assert "<li>GMV ¥1.2M（达成 95%）</li>" in html
    assert "&lt;b&gt;raw&lt;/b&gt; &amp; co" in html and "<b>raw" not in html  # raw HTML shown as text
    assert '<a href="https://review.example.com/sample/2026-10/index.html">查看完整报告</a>' in html


# ---------------------------------------------------------------- records and secrets


def test_delivery_to_json_is_plain():
    from opsnb.notify.channels import Attempt

    d = Delivery(channel="ops", kind="wecom", ok=False, attempts=[Attempt("2026-10-01T00:00:00Z", 500, "busy", 0.1)],
                 bytes=10, truncated=False, error="wecom HTTP 500: busy")
    assert json.loads(json.dumps(d.to_json())) == {
        "channel": "ops", "kind": "wecom", "ok": False, "bytes": 10, "truncated": False,
        "error": "wecom HTTP 500: busy",
        "attempts": [{"at": "2026-10-01T00:00:00Z", "status": 500, "error": "busy", "seconds": 0.1}]}


@pytest.mark.parametrize("kind, attr, var", [
    ("wecom", "webhook_env", "HOOK"),
    ("dingtalk", "secret_env", "SIG"),
    ("email", "password_env", "SMTP_PW"),
])
def test_missing_env_var_names_the_variable_and_channel(kind: str, attr: str, var: str):
    extra = {attr: var} | ({"smtp_user": "u"} if kind == "email" else {})
    c = ch(kind, **extra)
    env = {"HOOK": "https://h.example.com/x?key=k-123456"} if attr != "webhook_env" else {}
    for value in (None, "", "   "):
        e = dict(env) if value is None else dict(env) | {var: value}
        with pytest.raises(ParamsError) as info:
            send(c, MSG, env=e, sleep=lambda s: None)
        assert var in str(info.value) and c.name in str(info.value)
        assert "k-123456" not in str(info.value)


def test_a_webhook_that_is_not_a_url_fails_without_showing_it():
    d = send(ch("wecom"), MSG, env={"HOOK": "qyapi-key-PLANTED-9f8e"}, sleep=lambda s: None)
    assert not d.ok and d.attempts == []
    assert "$HOOK" in (d.error or "") and "PLANTED" not in repr(d)
