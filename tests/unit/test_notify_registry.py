"""Channel kinds as a registry: one class per kind, the one list params validates against, no chain on kind names.

The contract tests at the end run over every registered kind (ibis-style: one suite, parametrised), so a new
kind gets them without a line here; its own module's test pins its payload and how it reads an answer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from opsnb.errors import OpsnbError, ParamsError
from opsnb.notify.channels import LIMITS, BaseChannel, Message, Webhook, get, kinds, payload, register, render_text
from opsnb.notify.channels import registry as reg
from opsnb.notify.channels.webhook import JSON_HEADERS
from opsnb.params import Channel, Settings, validate

PKG = Path(__file__).resolve().parents[2] / "opsnb"
SHIPPED = ("wecom", "dingtalk", "feishu", "slack", "email")


def valid(kind: str, **kw: Any) -> Channel:
    """A channel of ``kind`` with every setting any kind needs."""
    return Channel(**({"name": f"c-{kind}", "kind": kind, "webhook_env": "HOOK", "sender": "a@example.com",
                       "to": ["b@example.com"]} | kw))


# ---------------------------------------------------------------- the registry


def test_the_kinds_opsnb_ships_in_the_order_messages_list_them():
    assert kinds()[:len(SHIPPED)] == SHIPPED  # a kind added later comes after them
    assert [get(k).__name__ for k in SHIPPED] == ["WeCom", "DingTalk", "Feishu", "Slack", "Email"]
    assert {k: LIMITS[k] for k in SHIPPED} == {"wecom": 4096, "dingtalk": 20_000, "feishu": 18_000, "slack": 12_000,
                                               "email": 10_000_000}
    assert list(LIMITS) == list(kinds())
    assert reg.listed([k for k in SHIPPED if get(k).signs], "and") == "dingtalk and feishu"
    with pytest.raises(KeyError):
        LIMITS["fax"]


def test_an_unknown_kind_names_itself_and_the_known_ones():
    with pytest.raises(reg.UnknownChannelKind) as info:
        get("fax")
    assert str(info.value) == f"unknown channel kind 'fax'; known: {list(kinds())}"  # ['wecom', 'dingtalk', …]
    assert isinstance(info.value, ValueError) and isinstance(info.value, OpsnbError)


def test_register_refuses_a_bad_name_and_a_second_class_for_a_kind():
    r = reg.ChannelRegistry()
    r.register("pager", Pager)
    r.register("pager", Pager)  # the same class again: nothing changes
    assert r.kinds() == ("pager",)
    with pytest.raises(ValueError, match=r"channel kind 'pager' is already registered \(.*\.Pager\)"):
        r.register("pager", type("Other", (Pager,), {}))
    for bad in ("Pager", "pa ger", "", "1x"):
        with pytest.raises(ValueError, match="a channel kind is a lower-case word"):
            r.register(bad, Pager)


# ---------------------------------------------------------------- params ask the registry and the classes


def test_params_refuse_an_unknown_kind_exactly_as_a_literal_of_the_registered_kinds_does():
    literal = TypeAdapter(Literal[kinds()])  # type: ignore[valid-type]
    for bad in ("fax", "WeCom", 5, None, b"wecom"):
        with pytest.raises(ValidationError) as want:
            literal.validate_python(bad)
        with pytest.raises(ValidationError) as got:
            Channel(name="c", kind=bad, webhook_env="H")  # type: ignore[arg-type]
        (w,), errors = want.value.errors(), got.value.errors()
        kind_errors = [e for e in errors if e["loc"] == ("kind",)]
        assert [(e["type"], e["msg"], e["input"], e["ctx"]) for e in kind_errors] == [
            (w["type"], w["msg"], w["input"], w["ctx"])]
    with pytest.raises(ParamsError) as info:
        validate({"notify": [{"name": "c", "kind": "fax"}]})
    allowed = reg.listed([repr(k) for k in kinds()], "or")  # 'wecom', 'dingtalk', 'feishu', 'slack' or 'email'
    assert str(info.value) == f"invalid parameters: notify.0.kind: not an allowed value; allowed: {allowed} (got 'fax')"


@pytest.mark.parametrize("entry, message", [
    ({"kind": "wecom"}, "a wecom channel needs webhook_env: the name of the environment variable holding the bot's "
                        "webhook URL"),
    ({"kind": "slack", "secret_env": "S"}, "a slack channel needs webhook_env: the name of the environment variable "
                                           "holding the bot's webhook URL"),
    ({"kind": "slack", "webhook_env": "H", "secret_env": "S"},
     "secret_env signs {signing} messages; a slack channel has no signature"),
    ({"kind": "email", "secret_env": "S"}, "secret_env signs {signing} messages; a email channel has no signature"),
    ({"kind": "email", "sender": "a@x.cn"}, "an email channel needs sender and to (a list of addresses)"),
    ({"kind": "email", "to": ["b@x.cn"]}, "an email channel needs sender and to (a list of addresses)"),
])
def test_each_kind_says_what_its_settings_lack(entry: dict[str, Any], message: str):
    signing = reg.listed([k for k in kinds() if get(k).signs], "and")  # "dingtalk and feishu"
    with pytest.raises(ParamsError) as info:
        validate({"notify": [{"name": "c"} | entry]})
    assert [(p.where, p.message) for p in info.value.problems] == [("notify.0", message.format(signing=signing))]


@pytest.mark.parametrize("entry", [
    {"kind": "wecom", "webhook_env": "H"}, {"kind": "dingtalk", "webhook_env": "H", "secret_env": "S"},
    {"kind": "feishu", "webhook_env": "H", "secret_env": "S"}, {"kind": "slack", "webhook_env": "H"},
    {"kind": "email", "sender": "a@x.cn", "to": ["b@x.cn"]},
])
def test_complete_settings_pass(entry: dict[str, Any]):
    assert validate({"notify": [{"name": "c"} | entry]}).notify[0].kind == entry["kind"]


# ---------------------------------------------------------------- adding a channel (docs/delivery.md)


class Pager(Webhook):
    """The example of docs/delivery.md, "Adding a channel": a bot taking ``{"text": …}``."""

    limit = 8_000
    heading = True
    transient_codes = frozenset({429})

    def payload(self, msg: Message, *, now_ms: int, secret: str | None) -> tuple[str, dict[str, Any], dict[str, str]]:
        return "", {"text": self.render(msg).text}, dict(JSON_HEADERS)


class SignedPager(Pager):
    signs = True


@pytest.fixture
def pager(monkeypatch: pytest.MonkeyPatch) -> None:
    """``register("pager", Pager)`` for this test only."""
    monkeypatch.setattr(reg.channels, "_classes", dict(reg.channels._classes))
    register("pager", Pager)
    register("signed_pager", SignedPager)


def test_a_new_kind_is_one_class_and_one_line(pager: None):
    assert kinds()[-2:] == ("pager", "signed_pager")
    s = Settings.model_validate({"notify": [{"name": "p", "kind": "pager", "webhook_env": "PAGER_HOOK"}]})
    ch = s.notify[0]
    msg = Message(title="运营复盘", lines=("- GMV ¥1.2M",), link="https://r.example.com/x")
    assert render_text("pager", msg) == "### 运营复盘\n\n- GMV ¥1.2M\n\n[查看完整报告](https://r.example.com/x)"
    assert payload(ch, msg, now_ms=0, secret=None) == ("", {"text": render_text("pager", msg)}, JSON_HEADERS)
    assert LIMITS["pager"] == 8_000
    # what it needs comes from its class: a Webhook needs webhook_env; it does not sign, signed_pager does
    with pytest.raises(ParamsError, match="a pager channel needs webhook_env"):
        validate({"notify": [{"name": "p", "kind": "pager"}]})
    signing = reg.listed([k for k in kinds() if get(k).signs], "and")
    assert signing.endswith(" and signed_pager") and "dingtalk, feishu" in signing
    with pytest.raises(ParamsError, match=f"secret_env signs {signing} messages; a pager channel has no signature"):
        validate({"notify": [{"name": "p", "kind": "pager", "webhook_env": "H", "secret_env": "S"}]})
    assert get("pager")(ch).is_transient(429, "") and not get("pager")(ch).is_transient(400, "")


def test_a_kind_that_is_not_registered_is_refused_by_params():
    with pytest.raises(ParamsError, match="notify.0.kind: not an allowed value"):
        validate({"notify": [{"name": "p", "kind": "pager", "webhook_env": "H"}]})


# ---------------------------------------------------------------- no chain over kind names


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def _kind_names(tree: ast.AST, names: tuple[str, ...], *, register_lines: bool) -> list[int]:
    """Lines where a string equal to a kind's name appears, docstrings left out (and, if ``register_lines``,
    the first argument of a ``register(...)`` call)."""
    allowed = {id(n.args[0]) for n in ast.walk(tree) if register_lines and isinstance(n, ast.Call)
               and getattr(n.func, "id", getattr(n.func, "attr", "")) == "register" and n.args}
    skip = _docstrings(tree) | allowed
    return sorted(n.lineno for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and n.value in names and id(n) not in skip)


def _kind_branches(tree: ast.AST, names: tuple[str, ...]) -> list[int]:
    """Lines comparing (``==``, ``!=``, ``in``, ``not in``) or matching something called ``*kind*`` with a
    kind's name."""
    def named(n: ast.AST) -> bool:
        return any(isinstance(c, ast.Constant) and c.value in names for c in ast.walk(n))

    def kindish(n: ast.AST) -> bool:
        return "kind" in ast.unparse(n).lower()

    out = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Compare)
           and any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in n.ops)
           and any(kindish(a) for a in [n.left, *n.comparators]) and any(named(a) for a in n.comparators + [n.left])]
    out += [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Match) and kindish(n.subject) and named(n)]
    return sorted(out)


def test_no_code_branches_on_a_channel_kind():
    """A kind's name is written once, in its register line: in the notify room and params no other string is a
    kind's name (no table keyed by kind), and nowhere in opsnb is a kind compared or matched with a name."""
    found = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(PKG.parent).as_posix()
        if rel.startswith(("opsnb/notify/", "opsnb/params/")):
            found += [f"{rel}:{n}: a kind's name" for n in _kind_names(
                tree, kinds(), register_lines=rel == "opsnb/notify/channels/__init__.py")]
        found += [f"{rel}:{n}: a branch on a kind" for n in _kind_branches(tree, kinds())]
    assert found == []


def test_the_kind_checks_can_fail():
    src = ('"""wecom"""\nregister("wecom", WeCom)\nif ch.kind == "email":\n    pass\n'
           'ok = channel_kind not in ("dingtalk", "feishu")\nLIMITS = {"slack": 1}\nif period.kind == "month":\n'
           '    pass\nmatch c.kind:\n    case "slack": pass\n')
    tree = ast.parse(src)
    assert _kind_names(tree, SHIPPED, register_lines=True) == [3, 5, 5, 6, 10]
    assert _kind_names(tree, SHIPPED, register_lines=False) == [2, 3, 5, 5, 6, 10]
    assert _kind_branches(tree, SHIPPED) == [3, 5, 9]


# ---------------------------------------------------------------- the notify room stays small and low


def test_notify_modules_and_functions_stay_small():
    too_big = []
    for path in sorted((PKG / "notify").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 500:
            too_big.append(f"{path.name}: {len(text.splitlines())} lines")
        too_big += [f"{path.name}:{n.name}: {n.end_lineno - n.lineno + 1} lines" for n in ast.walk(ast.parse(text))
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > 80]
    assert too_big == []


def test_validating_a_channel_loads_the_transports_and_no_other_part_of_notify():
    """params asks opsnb.notify.channels (ranked with params); importing it runs opsnb/notify/__init__.py, whose
    top needs only the transports: the cards, alerts, reviews and the send log are not loaded, nor the HTTP and
    SMTP clients (a kernel validating its settings pays for neither)."""
    code = ("import sys, json; from opsnb.params import Channel; "
            "Channel(name='c', kind='wecom', webhook_env='H'); "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('opsnb', 'requests', 'smtplib')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout
    loaded = set(json.loads(out))
    notify = {m for m in loaded if m.startswith("opsnb.notify")}
    assert notify - {"opsnb.notify", "opsnb.notify.channels"} == {
        f"opsnb.notify.channels.{m}" for m in ("base", "dingtalk", "email", "feishu", "redact", "registry",
                                               "slack", "text", "webhook", "wecom")}
    assert not {m for m in loaded if m.split(".")[1:2] in (["pack"], ["metrics"], ["sections"], ["export"])}
    assert not {m for m in loaded if m.startswith(("requests", "smtplib"))}  # clients load when a message is sent


# ---------------------------------------------------------------- every kind: the shared contract


LONG = Message(title="运营复盘 · t · 2026-10", lines=tuple(f"- 第{i}行 **粗** [链接](https://x.example.com/{i}) " + "数据" * 60
                                                       for i in range(600)), link="https://r.example.com/x")
SHORT = Message(title="t", lines=("**核心指标**", "- GMV ¥1.2M"), link="https://r.example.com/x")


@pytest.mark.parametrize("kind", kinds())
def test_every_kind_fits_its_limit_and_cuts_only_when_needed(kind: str):
    cls = get(kind)
    assert issubclass(cls, BaseChannel)
    assert cls.render(SHORT).truncated is False and "更多内容见报告" not in render_text(kind, SHORT)
    r = cls.render(LONG)
    assert len(r.text.encode("utf-8")) <= cls.limit
    long = len("\n".join(LONG.lines).encode("utf-8"))
    assert r.truncated is (long > cls.limit) is ("更多内容见报告" in render_text(kind, LONG))


@pytest.mark.parametrize("kind", kinds())
def test_every_kind_sends_json_a_provider_can_read(kind: str):
    ch = valid(kind, secret_env="S") if get(kind).signs else valid(kind)
    query, body, headers = payload(ch, SHORT, now_ms=1_700_000_000_000, secret="s" if get(kind).signs else None)
    json.dumps(body, ensure_ascii=False)
    assert isinstance(query, str) and isinstance(headers, dict)
    assert get(kind).settings_problem(ch) is None
