"""The group roll-up: exact numbers from a hand-made output tree of three units (no kernels, no pack),
failed and partial units named, links that open, both languages; and the union recompute on a tiny shared pack."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from opsnb import runfolder as rf
from opsnb.metrics.ledger import appended
from opsnb.params import Settings
from opsnb.render.i18n import t
from opsnb.rollup import FILE, build_rollup, largest_remainder, parse_problem, rollup_data
from opsnb.runfolder import publish_link
from tests.browser import reader as R

PERIOD = "2026-10"
LABELS = {"gmv": ("GMV", "GMV", "currency"), "orders": ("订单数", "Orders", "count"),
          "new_users": ("新增用户", "New users", "count"), "conversion_rate": ("付费转化率", "Paying conversion", "ratio"),
          "mau": ("月活跃用户", "MAU", "count")}


def _kpi(key: str, actual: float | None, target: float | None, attainment: float | None, status: str,
         previous: float | None, *, headline: bool = True) -> dict:
    zh, en, unit = LABELS[key]
    return {"key": key, "label": zh, "label_zh": zh, "label_en": en, "unit": unit, "direction": "higher",
            "period": PERIOD, "actual": actual, "target": target, "attainment": attainment, "status": status,
            "previous": previous, "headline": headline, "partial": False}


def _problem(severity: str, text: str, owner: str, lang: str = "zh") -> str:
    return t("problems.bullet", lang, severity=t(f"problems.severity.{severity}", lang), text=text,
             suggestion="核对数据。" if lang == "zh" else "Check the data.", owner=owner)


def publish(root: Path, unit: str, kpis: list[dict], problems: list[str], *, ok: bool = True,
            failed_sections: tuple[str, ...] = (), run: str = "r1", **params) -> Path:
    """A unit's published folder as the batch leaves it (the files the roll-up reads), behind its symlink."""
    run_dir = root / "outputs" / unit / ".runs" / f"{PERIOD}-{run}"
    run_dir.mkdir(parents=True)
    settings = Settings(unit=unit, **params)
    sections = [{"section": s, "status": "failed" if s in failed_sections else "ok"}
                for s in ("summary", "goals", "campaigns", "insights", "problems", "plan")]
    manifest = {"unit": unit, "period": PERIOD, "run_id": run, "ok": ok, "params": settings.model_dump(mode="json"),
                "pack": {"path": str(params.get("pack", f"/packs/{unit}"))}, "sections": sections}
    (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    pd.DataFrame(kpis).to_parquet(run_dir / "kpis.parquet", index=False)
    (run_dir / "handoff-top_problems.json").write_text(json.dumps(problems, ensure_ascii=False), encoding="utf-8")
    (run_dir / "index.html").write_text("<html><body>review</body></html>", encoding="utf-8")
    publish_link(run_dir, root / "outputs" / unit / PERIOD)
    return run_dir


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """east, west, north (separate packs); south failed in the batch; lost never published."""
    publish(tmp_path, "east", [
        _kpi("gmv", 1000.10, 800.08, 1.25, "exceeded", 900.05),
        _kpi("orders", 40.0, 10.0, 4.0, "exceeded", 30.0, headline=False),
        _kpi("new_users", 150.0, 200.0, 0.75, "missed", 100.0),
        _kpi("conversion_rate", 0.25, None, None, "n/a", 0.2),
    ], [_problem("high", "渠道“抖音”归因缺口扩大。", "数据团队"), _problem("medium", "工单积压。", "客服团队")])
    publish(tmp_path, "west", [
        _kpi("gmv", 500.20, 1000.40, 0.5, "missed", 600.30),
        _kpi("new_users", 300.0, 200.0, 1.5, "exceeded", 320.0),
        _kpi("conversion_rate", 0.125, None, None, "n/a", 0.1),
    ], [t("problems.none", "zh")])
    publish(tmp_path, "north", [
        _kpi("gmv", 250.35, 333.80, 0.75, "missed", 200.00),
        _kpi("new_users", 93.0, 96.0, 0.96875, "nearly", 90.0),
        _kpi("conversion_rate", 0.5, None, None, "n/a", 0.5),
    ], [_problem("high", "周流失率升至51.6%。", "用户运营团队"), _problem("high", "KOL获客成本上升。", "增长团队")])
    # what east published for September (the ledger): restated since, 900.00 → 900.05
    east = tmp_path / "outputs" / "east"
    rf.write_ledger(east, appended(rf.read_ledger(east), "east", "2026-09",
                    pd.DataFrame({"key": ["gmv"], "actual": [900.00], "target": [850.0], "attainment": [900 / 850],
                                  "status": ["exceeded"]}), "r0", "2026-10-01T00:00:00")[0])
    return tmp_path


UNITS = ["east", "west", "north", "south", "lost"]
FAILED = {"south": "PackError: orders.csv: unreadable"}  # the batch's words: English, on a zh page too


def test_every_number_exact_on_a_hand_made_three_unit_tree(tree):
    d = rollup_data(tree, PERIOD, UNITS, lang="zh", failed=FAILED)
    assert [(u["unit"], u["status"]) for u in d["units"]] == [
        ("east", "ok"), ("west", "ok"), ("north", "ok"), ("south", "failed"), ("lost", "failed")]
    assert [k["key"] for k in d["kpis"]] == ["gmv", "new_users", "conversion_rate"]  # headline only
    assert {u: {k: c["attainment"] for k, c in cells.items()} for u, cells in d["cells"].items()} == {
        "east": {"gmv": 1.25, "new_users": 0.75, "conversion_rate": None},
        "west": {"gmv": 0.5, "new_users": 1.5, "conversion_rate": None},
        "north": {"gmv": 0.75, "new_users": 0.96875, "conversion_rate": None}}
    assert d["cells"]["north"]["new_users"]["status"] == "nearly"

    gmv, new, conv = (k["group"] for k in d["kpis"])
    assert gmv == {"how": "sum", "scale": 100, "value_minor": 100010 + 50020 + 25035, "value": 1750.65,
                   "target_minor": 80008 + 100040 + 33380, "target": 2134.28, "attainment": 175065 / 213428,
                   "status": "missed"}
    assert new == {"how": "sum", "scale": 1, "value_minor": 543, "value": 543.0, "target_minor": 496,
                   "target": 496.0, "attainment": 543 / 496, "status": "exceeded"}
    assert conv["how"] == "no_union" and conv["value"] is None  # a ratio, and every unit has its own pack

    # mean attainment over the headline KPIs with a target; east and west tie at 1.0: by name
    assert [(r["rank"], r["unit"], r["mean_attainment"], r["counted"], r["exceeded"], r["missed"])
            for r in d["ranking"]] == [(1, "east", 1.0, 2, 1, 1), (2, "west", 1.0, 2, 1, 1),
                                       (3, "north", 0.859375, 2, 0, 1)]
    assert d["unranked"] == []

    c_gmv, c_new = d["contributions"]
    assert [(p["unit"], p["previous_minor"], p["actual_minor"], p["change_minor"], p["share_parts"])
            for p in c_gmv["units"]] == [("east", 90005, 100010, 10005, 1989), ("west", 60030, 50020, -10010, -1990),
                                         ("north", 20000, 25035, 5035, 1001)]
    assert c_gmv["change_minor"] == 5030 == sum(p["change_minor"] for p in c_gmv["units"])
    assert c_gmv["actual_minor"] - c_gmv["previous_minor"] == c_gmv["change_minor"]
    assert c_gmv["actual_minor"] == gmv["value_minor"]  # one total, wherever it is shown
    assert sum(p["share_parts"] for p in c_gmv["units"]) == 1000
    assert c_gmv["restated"] == [{"unit": "east", "published_minor": 90000, "now_minor": 90005}]
    assert [(p["unit"], p["change_minor"], p["share_parts"]) for p in c_new["units"]] == [
        ("east", 50, 1515), ("west", -20, -606), ("north", 3, 91)]
    assert c_new["change_minor"] == 33 and sum(p["share_parts"] for p in c_new["units"]) == 1000
    assert c_new["relative"] == 33 / 510
    # contributions to the group's growth, in tenths of a point: each unit's change over the group's previous
    # total (east 10005/170035 = 5.88 points …), rounded so they add up to the group's growth (+3.0%, +6.5%)
    assert [p["points_tenths"] for p in c_gmv["units"]] == [59, -59, 30] and c_gmv["points_tenths"] == 30
    assert [p["points_tenths"] for p in c_new["units"]] == [98, -39, 6] and c_new["points_tenths"] == 65

    assert [(p["unit"], p["text"], p["owner"]) for p in d["problems"]] == [
        ("east", "渠道“抖音”归因缺口扩大。", "数据团队"), ("north", "周流失率升至51.6%。", "用户运营团队"),
        ("north", "KOL获客成本上升。", "增长团队")]


def test_failed_and_unpublished_units_are_named_not_dropped(tree):
    d = rollup_data(tree, PERIOD, UNITS, lang="zh", failed=FAILED)
    by = {u["unit"]: u for u in d["units"]}
    assert by["south"]["reason"] == t("rollup.reason.run_failed", "zh") and by["south"]["href"] is None
    assert by["south"]["error"] == FAILED["south"]  # the batch's words, for the operator
    assert by["lost"]["reason"] == t("rollup.reason.missing", "zh") and by["lost"]["error"] is None
    assert "south" not in d["cells"] and "lost" not in d["cells"]
    page = build_rollup(tree, PERIOD, UNITS, lang="zh", failed=FAILED).read_text(encoding="utf-8")
    assert t("rollup.excluded_item", "zh", unit="south", reason=t("rollup.reason.run_failed", "zh")) in page
    assert t("rollup.excluded_item", "zh", unit="lost", reason=t("rollup.reason.missing", "zh")) in page


def test_a_partial_unit_counts_and_a_failed_unit_links_its_earlier_review(tmp_path):
    publish(tmp_path, "east", [_kpi("gmv", 10.0, 10.0, 1.0, "exceeded", 5.0)], [], ok=False,
            failed_sections=("campaigns",))
    publish(tmp_path, "west", [_kpi("gmv", 20.0, 10.0, 2.0, "exceeded", 5.0)], [])
    publish(tmp_path, "north", [_kpi("gmv", 30.0, 10.0, 3.0, "exceeded", 5.0)], [], ok=False,
            failed_sections=("goals",))
    (tmp_path / "outputs" / "north" / PERIOD / "kpis.parquet").unlink()  # the goals section left none
    publish(tmp_path, "south", [_kpi("gmv", 40.0, 10.0, 4.0, "exceeded", 5.0)], [], ok=False,
            failed_sections=("plan",))
    units = ["east", "west", "north", "south"]
    # the batch names every unit that did not fully succeed: west published nothing this time (its folder, ok,
    # is an earlier review), south published all but its plan
    failed = {"west": "PackError: orders.csv unreadable", "south": "plan: RuntimeError: boom"}
    d = rollup_data(tmp_path, PERIOD, units, lang="en", failed=failed)
    by = {u["unit"]: u for u in d["units"]}
    assert by["east"]["status"] == "partial"
    assert by["east"]["reason"] == t("rollup.reason.sections", "en", sections=t("sections.campaigns.title", "en"))
    assert by["west"]["status"] == "failed" and by["west"]["reason"] == t("rollup.reason.run_failed", "en")
    assert by["west"]["href"] == f"../../west/{PERIOD}/index.html"
    assert by["north"]["status"] == "failed"
    assert by["north"]["reason"] == t("rollup.reason.sections", "en", sections=t("sections.goals.title", "en"))
    assert by["south"]["status"] == "partial"
    assert by["south"]["reason"] == t("rollup.reason.sections", "en", sections=t("sections.plan.title", "en"))
    assert list(d["cells"]) == ["east", "south"] and d["kpis"][0]["group"]["value_minor"] == 5000
    page = R.read_page(build_rollup(tmp_path, PERIOD, units, lang="en", failed=failed))
    assert t("rollup.links.earlier", "en", unit="west", reason=by["west"]["reason"]) in page.lines
    assert t("rollup.links.partial", "en", unit="south", reason=by["south"]["reason"]) in page.lines
    assert any(line.startswith("south " + t("rollup.status.partial", "en") + " | 400.0%") for line in page.lines)


def test_links_open_each_units_review_from_the_published_symlink(tree):
    index = build_rollup(tree, PERIOD, UNITS, lang="zh", failed=FAILED)
    assert index == tree / "outputs" / "_group" / PERIOD / "index.html"
    assert (tree / "outputs" / "_group" / PERIOD).is_symlink()
    data = json.loads((index.parent / FILE).read_text(encoding="utf-8"))
    hrefs = {u["unit"]: u["href"] for u in data["units"]}
    assert hrefs == {"east": f"../../east/{PERIOD}/index.html", "west": f"../../west/{PERIOD}/index.html",
                     "north": f"../../north/{PERIOD}/index.html", "south": None, "lost": None}
    html = index.read_text(encoding="utf-8")
    assert 'href=""' not in html  # nothing to open: the unit is named without a link
    for href in filter(None, hrefs.values()):
        assert f'href="{href}"' in html
        # a browser resolves the link against the symlink's path, not the run folder it points to
        assert Path(os.path.normpath(index.parent / unquote(href))).is_file()


def test_each_build_is_a_new_run_folder_behind_the_swapped_link(tree):
    for _ in range(4):
        build_rollup(tree, PERIOD, UNITS, lang="zh", failed=FAILED)
    runs = sorted((tree / "outputs" / "_group" / ".runs" / PERIOD).iterdir())
    assert len(runs) == 3  # older ones pruned (publish.keep_runs)
    assert (tree / "outputs" / "_group" / PERIOD).resolve() in runs


def test_the_zh_page_is_chinese_and_the_en_page_english(tree):
    zh = R.read_page(build_rollup(tree, PERIOD, UNITS, lang="zh", failed=FAILED))
    data_values = set(UNITS)
    assert R.find_english_in_zh(zh, data_values) == []
    assert R.find_code_names(zh) == []
    assert any(line.startswith("集团汇总 · 2026-10") for line in zh.lines)
    assert "east | 125.0% ¥1,000.10 | 75.0% 150 | 无目标 25.0%" in zh.lines
    assert "集团 | 82.0% 合计 ¥1,750.65 | 109.5% 合计 543 | — 不可加总" in zh.lines
    assert "north | ¥200.00 | ¥250.35 | +¥50.35 | +3.0个百分点" in zh.lines
    assert "west | ¥600.30 | ¥500.20 | -¥100.10 | -5.9个百分点" in zh.lines
    assert "集团 | ¥1,700.35 | ¥1,750.65 | +¥50.30 | +3.0个百分点" in zh.lines
    assert t("rollup.rank.rule", "zh") in zh.lines
    assert any("集团GMV较上期增加¥50.30（+3.0%）" in line and "east（+¥100.05，拉动集团增速+5.9个百分点）" in line for line in zh.lines)
    assert any("west的变化与集团方向相反（合计-¥100.10）" in line for line in zh.lines)
    assert R.find_direction_mismatch(zh) == []

    en = R.read_page(build_rollup(tree, PERIOD, UNITS, lang="en", failed=FAILED))
    assert any(line.startswith("Group roll-up · 2026-10") for line in en.lines)
    assert "Group | 82.0% sum ¥1,750.65 | 109.5% sum 543 | — not additive" in en.lines
    assert any(line.startswith("GMV, group: up ¥50.30 (+3.0%)") for line in en.lines)
    assert R.find_direction_mismatch(en) == []
    # the units reviewed in Chinese: their problems are quoted as they are, and the page says so
    assert t("rollup.problems.quoted", "en") in en.lines


def test_shares_add_up_to_the_whole_by_largest_remainder():
    assert largest_remainder([1, 1, 1], 3) == [334, 333, 333]
    assert largest_remainder([10005, -10010, 5035], 5030) == [1989, -1990, 1001]
    assert largest_remainder([-5, -5], -10) == [500, 500]
    assert sum(largest_remainder([7, 11, 13, -2], 29)) == 1000


def test_problem_lines_are_read_back_in_either_language():
    assert parse_problem(_problem("high", "A。", "数据团队")) == {"severity": "high", "text": "A。",
                                                                "suggestion": "核对数据。", "owner": "数据团队"}
    assert parse_problem(_problem("medium", "Churn rose.", "Growth team", "en"))["severity"] == "medium"
    assert parse_problem(t("problems.none", "zh")) is None


# ---------------------------------------------------------------- the union of units sharing one pack


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """u1 is active in both units (counted once in the union), u2 in east only, u3 in south only."""
    folder = tmp_path / "shared"
    folder.mkdir()
    pd.DataFrame({"metric": ["gmv", "gmv"], "period": [PERIOD, PERIOD], "target": [10.0, 20.0],
                  "region": ["east", "south"]}).to_csv(folder / "kpis.csv", index=False)
    pd.DataFrame({"order_id": ["o1", "o2"], "user_id": ["u1", "u3"], "ts": ["2026-10-01 10:00", "2026-10-03 12:00"],
                  "amount": [10.0, 40.0], "status": ["paid"] * 2, "region": ["east", "south"]}
                 ).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame({"user_id": ["u1", "u2", "u1", "u3"], "event": ["visit"] * 4,
                  "ts": ["2026-10-01 09:00", "2026-10-02 09:00", "2026-10-02 09:00", "2026-10-03 09:00"],
                  "region": ["east", "east", "south", "south"]}).to_csv(folder / "events.csv", index=False)
    return folder


def test_non_additive_kpis_are_recomputed_on_the_union_of_a_shared_pack(tmp_path, shared):
    # as each unit's goals section computed them: east mau 2 (u1, u2), payers 1; south mau 2 (u1, u3), payers 1
    for unit in ("east", "south"):
        publish(tmp_path, unit, [_kpi("gmv", 10.0 if unit == "east" else 40.0, None, None, "n/a", 0.0),
                                 _kpi("mau", 2.0, None, None, "n/a", 0.0),
                                 _kpi("conversion_rate", 0.5, None, None, "n/a", None)], [],
                pack=str(shared), unit_column="region")
    d = rollup_data(tmp_path, PERIOD, ["east", "south"], lang="zh")
    assert d["shared_pack"] == {"column": "region", "values": ["east", "south"]}
    group = {k["key"]: k["group"] for k in d["kpis"]}
    assert group["gmv"]["how"] == "sum" and group["gmv"]["value"] == 50.0
    assert group["mau"]["how"] == "recomputed" and group["mau"]["value"] == 3.0  # not 2 + 2: u1 once
    assert group["conversion_rate"]["how"] == "recomputed" and group["conversion_rate"]["value"] == 2 / 3
    page = R.read_page(build_rollup(tmp_path, PERIOD, ["east", "south"], lang="zh"))
    assert "集团 | 无目标 合计 ¥50.00 | 无目标 重算 3 | 无目标 重算 66.7%" in page.lines
    assert any(line.startswith("月活跃用户、付费转化率：不可加总") for line in page.lines)


def test_a_union_limited_to_the_units_of_the_roll_up(tmp_path, shared):
    """A unit of the pack that is not in the roll-up (or failed) is not in the group's union either."""
    for unit in ("east", "south"):
        publish(tmp_path, unit, [_kpi("mau", 2.0, None, None, "n/a", 0.0)], [], pack=str(shared),
                unit_column="region")
    d = rollup_data(tmp_path, PERIOD, ["east", "south"], lang="zh", failed={"south": "超时"})
    assert d["kpis"][0]["group"]["value"] == 2.0  # east alone: u1, u2


def test_contribution_table_has_one_scale_each_figure_computed_then_shown():
    """One format on the page (issue 32: "¥148,116.93" beside "¥18.6万" in the heat table): the contributions
    table's amounts in one scale across its columns, each figure computed exactly, then rounded for display
    (a change shown is its exact change rounded, never adjusted to make a sum)."""
    from opsnb.rollup import _shown

    def con(unit: str, scale: int, *pairs: tuple[int, int]) -> dict:
        units = [{"previous_minor": p, "actual_minor": a, "change_minor": a - p} for p, a in pairs]
        return {"unit": unit, "scale": scale, "units": units,
                **{f: sum(u[f] for u in units) for f in ("previous_minor", "actual_minor", "change_minor")}}

    gmv = con("currency", 100, (14811693, 18555750), (15345151, 20729345))  # beijing, shanghai 2026-10
    assert _shown(gmv, "previous", "zh", "¥") == (["¥14.8万", "¥15.3万"], "¥30.2万")  # 14.81 + 15.35 = 30.16
    assert _shown(gmv, "actual", "zh", "¥") == (["¥18.6万", "¥20.7万"], "¥39.3万")
    assert _shown(gmv, "change", "zh", "¥", signed=True) == (["+¥3.7万", "+¥5.4万"], "+¥9.1万")  # not +¥37,441
    assert _shown(gmv, "change", "en", "¥", signed=True) == (["+¥37.4K", "+¥53.8K"], "+¥91.3K")
    small = con("currency", 100, (90005, 100010), (60030, 50020))
    assert _shown(small, "actual", "en", "£") == (["£1,000.10", "£500.20"], "£1,500.30")
    assert _shown(small, "change", "en", "£", signed=True, part=[1]) == (["+£100.05", "-£100.10"], "-£100.10")
    users = con("count", 1, (502, 582), (534, 463))
    assert _shown(users, "change", "zh", "¥", signed=True) == (["+80", "-71"], "+9")


def test_the_group_page_names_each_unit_by_its_label(tmp_path):
    publish(tmp_path, "east", [_kpi("gmv", 1000.10, 800.08, 1.25, "exceeded", 900.05)],
            [_problem("high", "工单积压。", "客服团队")], unit_label={"zh": "华东分公司", "en": "East branch"})
    publish(tmp_path, "west", [_kpi("gmv", 500.20, 1000.40, 0.5, "missed", 600.30)], [t("problems.none", "zh")],
            unit_label="西区")  # one text for both languages
    zh = R.read_page(build_rollup(tmp_path, PERIOD, ["east", "west"], lang="zh"))
    assert "华东分公司 | 125.0% ¥1,000.10" in zh.lines and "西区 | 50.0% ¥500.20" in zh.lines
    assert "华东分公司 | ¥900.05 | ¥1,000.10 | +¥100.05 | +6.7个百分点" in zh.lines
    assert "华东分公司 | 1 | 125.0% | 1 | 1 | 0" in zh.lines and "华东分公司 | 工单积压。 | 客服团队" in zh.lines
    assert any("拖累最大的是西区（-¥100.10" in line for line in zh.lines)
    assert "西区的前三个问题中没有高严重度问题。" in zh.lines and "西区 — 已发布" in zh.lines
    assert "业务单元 2个：华东分公司、西区" in zh.lines
    assert not any(line.startswith(("east |", "west |")) for line in zh.lines)
    en_index = build_rollup(tmp_path, PERIOD, ["east", "west"], lang="en")
    assert any(line.startswith("East branch | 125.0%") for line in R.read_page(en_index).lines)
    data = json.loads((en_index.parent / FILE).read_text(encoding="utf-8"))
    assert data["names"] == {"east": "East branch", "west": "西区"}
    assert [u["unit"] for u in data["units"]] == ["east", "west"]  # ids stay the keys
