"""The newcomer's path on DuckDB: ``opsnb init DIR --from EXPORTS`` (a team's own exports: Chinese headers, GBK,
Excel) → ``opsnb validate`` inside the workbook → ``opsnb run`` publishes a review whose pages name the unit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from opsnb import cli
from opsnb.params import NOTEBOOKS, SECTIONS
from opsnb.render.i18n import t
from opsnb.sample import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from onboard_exports import EXPECTED, read_pack_frames, write_exports  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("newcomer")]
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("newcomer")
    generate(base / "sample", scale=0.1)
    write_exports(base / "exports", read_pack_frames(base / "sample"))
    mp = pytest.MonkeyPatch()
    mp.delenv("OPSNB_HOME", raising=False)
    mp.chdir(base)
    try:
        assert cli.main(["init", "east_ops", "--from", "exports"]) == 0
    finally:
        mp.undo()
    return base / "east_ops"


def test_init_proposes_a_pack_yaml_for_every_table_of_the_exports(workbook: Path):
    spec = yaml.safe_load((workbook / "data" / "pack.yaml").read_text(encoding="utf-8"))
    assert set(spec["tables"]) == set(EXPECTED)
    for table, (file, sheet, columns) in EXPECTED.items():
        got = spec["tables"][table]
        assert (got["file"], got.get("sheet")) == (file, sheet)
        assert {v: k for k, v in got.get("columns", {}).items()} == {c: h for c, h in columns.items() if c != h}
    assert sorted(p.name for p in (workbook / "data").iterdir() if p.name != "pack.yaml") == sorted(
        [*{f for f, _, _ in EXPECTED.values()}, "商品表.csv", "说明.txt"])


def test_validate_then_run_inside_the_workbook_publishes_a_review_naming_the_unit(
        workbook: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.delenv("OPSNB_HOME", raising=False)
    unit_file = workbook / "params" / "east_ops.yaml"
    unit_file.write_text(unit_file.read_text(encoding="utf-8") + "unit_label: {zh: 华东运营部, en: East China ops}\n",
                         encoding="utf-8")
    monkeypatch.chdir(workbook / "notebooks")  # any folder inside the workbook
    assert cli.main(["validate"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{workbook / 'data'}: ok (with warnings)")
    assert cli.main(["run", "--quiet"]) == 0
    index = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert index == workbook / "outputs" / "east_ops" / "2026-10" / "index.html"
    for section in SECTIONS:
        html = (index.parent / NOTEBOOKS[section].replace(".ipynb", ".html")).read_text(encoding="utf-8")
        m = TITLE.search(html)
        assert m and m.group(1) == f"{t(f'sections.{section}.title', 'zh')} · 华东运营部 · 2026-10"
    summary = index.read_text(encoding="utf-8")
    assert "华东运营部" in summary and "east_ops" not in TITLE.search(summary).group(1)
    assert cli.main(["upgrade", "--check"]) == 0  # a run changes none of the files opsnb generated
