"""Delivery on a hand-made published review: the card's exact lines, alert rules, routing, idempotence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opsnb.notify import notify, sendlog
from opsnb.notify.alerts import evaluate
from opsnb.notify.channels import Delivery, Message
from opsnb.notify.messages import card
from opsnb.notify.review import load_review
from opsnb.params import Settings

CARDS = [
    {"key": "gmv", "label": "GMV", "value": "¥104.6万", "target": "目标 ¥96.8万", "attainment": "108.0%",
     "status": "exceeded", "status_text": "超额完成", "change": "▲ 环比 +28.4%", "headline": True},
    {"key": "new_users", "label": "新增用户", "value": "2,950", "target": "目标 3,471", "attainment": "85.0%",
     "status": "missed", "status_text": "未达成", "change": "▲ 环比 +8.3%", "headline": True},
]
KPIS = CARDS + [
    {"key": "aov", "label": "客单价", "value": "¥305.70", "target": "目标 —", "attainment": "—", "status": "n/a",
     "status_text": "不适用", "change": "▼ 环比 -0.2%", "headline": False},
    {"key": "orders", "label": "订单数", "value": "3,300", "target": "目标 3,340", "attainment": "98.8%",
     "status": "nearly", "status_text": "基本达成", "change": "▲ 环比 +24.2%", "headline": False},
]
PROBLEMS = [
    {"key": "anomaly:churn", "detector": "anomaly", "severity": "high", "area": "engagement", "owner": "用户运营团队",
     "severity_text": "高", "text": "周流失率升至51.6%。", "bullet": "【高】周流失率升至51.6%。"},
    {"key": "channel:KOL", "detector": "cac", "severity": "high", "area": "growth", "owner": "增长团队",
     "severity_text": "高", "text": "渠道“KOL”获客成本升至¥516.30。", "bullet": "…"},
    {"key": "service:slow", "detector": "service_slow", "severity": "medium", "area": "service", "owner": "客服团队",
     "severity_text": "中", "text": "退款工单p90解决时长96小时。", "bullet": "…"},
    {"key": "data:gap", "detector": "data_missing_days", "severity": "low", "area": "data", "owner": "数据团队",
     "severity_text": "低", "text": "10月3日没有事件数据。", "bullet": "…"},
]
ACTIONS = [
    {"action_id": "A09", "title": "抖音埋点补齐", "owner": "张思远", "due": "2026-10-15", "state": "overdue",
     "overdue": True, "days_late": 16, "text": "抖音埋点补齐（张思远，截止2026-10-15，已逾期）"},
    {"action_id": "A13", "title": "双十一筹备", "owner": "王晓雯", "due": "2026-11-15", "state": "in_progress",
     "overdue": False, "days_late": 0, "text": "双十一筹备（王晓雯，截止2026-11-15，进行中）"},
]


def _review(tmp_path: Path, *, lang: str = "zh", failed: str | None = None, problems: list[Any] = PROBLEMS,
            unit_label: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "outputs" / "east" / "2026-10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text("<html></html>", encoding="utf-8")
    sections = [{"section": s, "status": "failed" if s == failed else "ok",
                 "error": "ValueError: boom\nTraceback …" if s == failed else None}
                for s in ("goals", "campaigns", "insights", "problems", "plan")]
    manifest = {"unit": "east", "period": "2026-10", "run_id": "r1", "params": {"lang": lang, "unit_label": unit_label},
                "sections": sections}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name, value in (("kpi_cards", CARDS), ("kpis", KPIS), ("problems", problems), ("actions", ACTIONS)):
        (folder / f"handoff-{name}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return folder


def _settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {
        "notify": [{"name": "ops", "kind": "wecom", "webhook_env": "OPS_HOOK"}],
        "alerts": [{"name": "kpi-missed", "when": "kpi"}, {"name": "serious", "when": "problem", "severity": "high"},
                   {"name": "broken", "when": "section_failed"}],
        "delivery": {"base_url": "https://reports.example.com/opsnb/"},
    }
    base.update(kw)
    return Settings.model_validate(base)


class Recorder:
    """A transport that records what it was asked to send (and can fail)."""

    def __init__(self, ok: bool = True):
        self.ok, self.sent = ok, []

    def __call__(self, channel: Any, msg: Message, **kw: Any) -> Delivery:
        self.sent.append((channel.name, msg))
        return Delivery(channel=channel.name, kind=channel.kind, ok=self.ok, attempts=[], bytes=1, truncated=False,
                        error=None if self.ok else "wecom 93000: invalid webhook url")


def test_card_lines_are_the_hand_offs_in_the_template(tmp_path: Path):
    review = load_review(_review(tmp_path))
    s = _settings()
    msg = card(review, s.notify[0], s.delivery)
    assert msg.title == "运营复盘 · east · 2026-10"
    assert list(msg.lines) == [
        "**核心指标**",
        "- **GMV** ¥104.6万（目标 ¥96.8万）完成率108.0%，超额完成；▲ 环比 +28.4%",
        "- **新增用户** 2,950（目标 3,471）完成率85.0%，未达成；▲ 环比 +8.3%",
        "**主要问题**",
        "- 【高】周流失率升至51.6%。（负责人：用户运营团队）",
        "- 【高】渠道“KOL”获客成本升至¥516.30。（负责人：增长团队）",
        "- 【中】退款工单p90解决时长96小时。（负责人：客服团队）",
        "**逾期行动**",
        "- 抖音埋点补齐（张思远，截止2026-10-15，已逾期）",
    ]
    assert msg.link == "[查看完整报告](https://reports.example.com/opsnb/east/2026-10/index.html)"


def test_card_in_english_shows_only_the_channels_sections_and_failures_first(tmp_path: Path):
    review = load_review(_review(tmp_path, lang="en", failed="insights"))
    s = _settings(notify=[{"name": "ops", "kind": "slack", "webhook_env": "X", "sections": ["plan"]}],
                  delivery={"max_actions": 1})
    msg = card(review, s.notify[0], s.delivery)
    assert msg.title == "Operations review · east · 2026-10"
    assert list(msg.lines) == ["**Sections not completed**: 3. Data insights (see the report)", "**Overdue actions**",
                               "- 抖音埋点补齐（张思远，截止2026-10-15，已逾期）"]
    assert msg.link == f"Full review: {review.folder / 'index.html'}"  # no base_url: the local path


def test_alert_rules(tmp_path: Path):
    review = load_review(_review(tmp_path, failed="campaigns"))
    s = _settings(alerts=[{"name": "missed", "when": "kpi"}, {"name": "short", "when": "kpi", "below": "exceeded",
                                                               "kpis": ["orders", "gmv"]},
                          {"name": "growth", "when": "problem", "severity": "medium", "area": "growth"},
                          {"name": "medium_up", "when": "problem", "severity": "medium"},
                          {"name": "broken", "when": "section_failed", "sections": ["campaigns"]},
                          {"name": "plan-broken", "when": "section_failed", "sections": ["plan"]}])
    got = [(f.rule, f.id, f.severity, f.section) for f in evaluate(review, s.alerts)]
    assert got == [("missed", "kpi:new_users", "high", "goals"),
                   ("short", "kpi:orders", "high", "goals"),
                   ("growth", "problem:channel:KOL", "high", "problems"),
                   ("medium_up", "problem:anomaly:churn", "high", "problems"),
                   ("medium_up", "problem:channel:KOL", "high", "problems"),
                   ("medium_up", "problem:service:slow", "medium", "problems"),
                   ("broken", "section:campaigns", "high", "campaigns")]
    lines = {f.id: f.line for f in evaluate(review, s.alerts)}
    assert lines["kpi:new_users"] == "- [{tag}] **新增用户** 完成率85.0%，未达成（实际2,950，目标 3,471）"
    assert lines["section:campaigns"] == "- [{tag}] 章节“二、关键举措与成果”运行失败：ValueError: boom"


def test_notify_sends_once_and_updates_only_what_changed(tmp_path: Path):
    folder = _review(tmp_path)
    s, rec = _settings(), Recorder()
    first = notify(folder, settings=s, sender=rec)
    assert first.ok and [(x.channel, x.what, x.findings) for x in first.sent] == [("ops", "card", 0),
                                                                                 ("ops", "alerts", 3)]
    alert = rec.sent[1][1]
    assert alert.title == "预警 · east · 2026-10"
    assert list(alert.lines) == ["- [新] **新增用户** 完成率85.0%，未达成（实际2,950，目标 3,471）",
                                 "- [新] 【高】周流失率升至51.6%。（负责人：用户运营团队）",
                                 "- [新] 【高】渠道“KOL”获客成本升至¥516.30。（负责人：增长团队）"]
    log = json.loads((folder.parent / "deliveries.json").read_text(encoding="utf-8"))["deliveries"]
    assert [(r["message"], r["ok"], len(r["items"])) for r in log] == [("card", True, 1), ("alerts", True, 3)]

    # an unchanged rerun sends nothing
    again = notify(folder, settings=s, sender=rec)
    assert again.sent == [] and again.unchanged == ["ops"] and len(rec.sent) == 2

    # one finding changed (its numbers moved), one is new: an updated card and one alert with both
    changed = [dict(PROBLEMS[0], text="周流失率升至55.0%。")] + PROBLEMS[1:]
    _review(tmp_path, problems=changed, failed="plan")
    third = notify(folder, settings=s, sender=rec)
    assert [(x.what, x.findings) for x in third.sent] == [("card", 0), ("alerts", 2)]
    assert rec.sent[2][1].title == "【更新】运营复盘 · east · 2026-10"
    assert list(rec.sent[3][1].lines) == ["- [更新] 【高】周流失率升至55.0%。（负责人：用户运营团队）",
                                          "- [新] 章节“五、改进建议与后续计划”运行失败：ValueError: boom"]


def test_routing_by_rule_severity_and_section(tmp_path: Path):
    folder = _review(tmp_path)
    s = _settings(notify=[{"name": "leaders", "kind": "dingtalk", "webhook_env": "A", "digest": False,
                           "alerts": ["serious"]},
                          {"name": "growth", "kind": "feishu", "webhook_env": "B", "digest": False,
                           "sections": ["goals"]},
                          {"name": "digest-only", "kind": "slack", "webhook_env": "C", "alerts": []}])
    rec = Recorder()
    report = notify(folder, settings=s, sender=rec)
    first = {name: msg.lines[0] for name, msg in rec.sent}
    assert [(x.channel, x.what, x.findings) for x in report.sent] == [("leaders", "alerts", 2),
                                                                    ("growth", "alerts", 1),
                                                                    ("digest-only", "card", 0)]
    assert first["growth"].startswith("- [新] **新增用户**") and first["digest-only"] == "**核心指标**"


def test_a_failed_delivery_is_logged_and_tried_again_next_time(tmp_path: Path):
    folder = _review(tmp_path)
    s = _settings(alerts=[])
    bad = notify(folder, settings=s, sender=Recorder(ok=False))
    assert not bad.ok and bad.failed[0].error == "wecom 93000: invalid webhook url"
    log = sendlog.read(folder.parent / "deliveries.json")
    assert [(r["ok"], r["error"]) for r in log] == [(False, "wecom 93000: invalid webhook url")]
    rec = Recorder()
    assert notify(folder, settings=s, sender=rec).ok and len(rec.sent) == 1


def test_a_missing_secret_fails_that_channel_only_naming_the_variable(tmp_path: Path):
    folder = _review(tmp_path)
    s = _settings(alerts=[], notify=[{"name": "ops", "kind": "wecom", "webhook_env": "OPS_HOOK_UNSET"},
                                     {"name": "mail", "kind": "email", "sender": "a@x.cn", "to": ["b@x.cn"],
                                      "attach_pdf": False}])
    rec = Recorder()
    from opsnb.notify import channels

    def real_for_wecom(ch: Any, msg: Message, **kw: Any) -> Delivery:
        return channels.send(ch, msg, **kw) if ch.kind == "wecom" else rec(ch, msg, **kw)

    report = notify(folder, settings=s, sender=real_for_wecom, env={})
    assert [(x.channel, x.ok) for x in report.sent] == [("ops", False), ("mail", True)]
    assert "OPS_HOOK_UNSET" in (report.failed[0].error or "")


def test_dry_run_previews_and_writes_nothing(tmp_path: Path):
    folder = _review(tmp_path)
    report = notify(folder, settings=_settings(), dry_run=True, sender=Recorder())
    assert [(x.what, x.ok) for x in report.sent] == [("card", True), ("alerts", True)]
    assert "### 运营复盘 · east · 2026-10" in report.text() and "[新] **新增用户**" in report.text()
    assert not (folder.parent / "deliveries.json").exists()


def test_no_channel_is_not_an_error(tmp_path: Path):
    report = notify(_review(tmp_path), settings=Settings())
    assert report.ok and report.text() == "east 2026-10: no channel configured (notify: in params)"


def test_not_a_review(tmp_path: Path):
    from opsnb.errors import OpsnbError

    with pytest.raises(OpsnbError, match="not a published review"):
        notify(tmp_path, settings=_settings())


def test_many_units_each_deliver_to_their_own_channels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]):
    """`opsnb run --units`: after the run, each published unit's review goes to the channels of its params;
    one unit's failed delivery makes the exit code 4 without touching the other."""
    import yaml

    from opsnb import cli, units
    from opsnb.batch import RunResult

    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "params" / "default.yaml").symlink_to(Path(__file__).resolve().parents[2] / "params" / "default.yaml")
    reviews = {}
    for unit, env_name in (("east", "HOOK_EAST"), ("west", "HOOK_WEST")):
        folder = _review(tmp_path / unit)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        (folder / "manifest.json").write_text(json.dumps({**manifest, "unit": unit}), encoding="utf-8")
        reviews[unit] = folder
        (root / "params" / f"{unit}.yaml").write_text(yaml.safe_dump(
            {"notify": [{"name": f"{unit}-group", "kind": "wecom", "webhook_env": env_name}]}), encoding="utf-8")
    fake = units.UnitsResult(period="2026-10", scheduler="local", units=[
        units.UnitResult(u, "ok", result=RunResult(u, "2026-10", reviews[u], reviews[u])) for u in reviews])
    monkeypatch.setattr(units, "run_units", lambda *a, **kw: fake)
    monkeypatch.setenv("OPSNB_HOME", str(root))
    sent: list[tuple[str, str]] = []

    def transport(channel: Any, msg: Message, **kw: Any) -> Delivery:
        sent.append((channel.name, msg.title))
        ok = channel.name == "east-group"
        return Delivery(channel=channel.name, kind=channel.kind, ok=ok, attempts=[], bytes=1, truncated=False,
                        error=None if ok else "wecom 93000: invalid webhook url")

    monkeypatch.setattr("opsnb.notify.send", transport)
    assert cli.main(["run", "--units", "all", "--quiet"]) == cli.DELIVERY_FAILED
    assert sent == [("east-group", "运营复盘 · east · 2026-10"), ("west-group", "运营复盘 · west · 2026-10")]
    assert "delivery to west-group failed (card): wecom 93000: invalid webhook url" in capsys.readouterr().err


def test_a_misspelt_section_in_a_rule_or_channel_is_refused():
    from pydantic import ValidationError

    for bad in ({"alerts": [{"name": "a", "when": "section_failed", "sections": ["insight"]}]},
                {"notify": [{"name": "c", "kind": "slack", "webhook_env": "X", "sections": ["insight"]}]}):
        with pytest.raises(ValidationError, match=r"unknown sections \['insight'\]; known: \['goals'"):
            Settings.model_validate(bad)


@pytest.mark.parametrize(("lang", "card_title", "alert_title"), [
    ("zh", "运营复盘 · 华东分公司 · 2026-10", "预警 · 华东分公司 · 2026-10"),
    ("en", "Operations review · East branch · 2026-10", "Alert · East branch · 2026-10")])
def test_card_and_alerts_name_the_unit_by_its_label(tmp_path: Path, lang: str, card_title: str, alert_title: str):
    folder = _review(tmp_path, lang=lang, unit_label={"zh": "华东分公司", "en": "East branch"})
    s, rec = _settings(), Recorder()
    assert notify(folder, settings=s, sender=rec).ok
    assert [m.title for _, m in rec.sent] == [card_title, alert_title]
