"""``opsnb init`` / ``opsnb upgrade`` and finding the workbook from the current folder (opsnb/workbook/, opsnb/paths.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsnb import cli
from opsnb.errors import OpsnbError
from opsnb.params import load_params
from opsnb.paths import find_workbook, project_root, require_workbook
from opsnb.workbook import apply, init_workbook, pending, plan
from opsnb.workbook import generated as gen
from opsnb.workbook import upgrade as up
from opsnb.workbook.defaults import WORKBOOK_HEADER
from opsnb.workbook.defaults import text as default_yaml
from opsnb.workbook.notebooks import files as notebook_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nohome(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSNB_HOME", raising=False)


@pytest.fixture
def wb(tmp_path: Path, nohome: None) -> Path:
    init_workbook(tmp_path / "east_ops", lang="en")
    return tmp_path / "east_ops"


def test_init_writes_a_workbook_the_package_generates(wb: Path):
    files = sorted(str(p.relative_to(wb)) for p in wb.rglob("*") if p.is_file() and ".opsnb" not in p.parts)
    assert files == [".gitignore", "README.md", "data/README.md", "notebooks/00_summary.ipynb",
                     "notebooks/01_goals.ipynb", "notebooks/02_campaigns.ipynb", "notebooks/03_insights.ipynb",
                     "notebooks/04_problems.ipynb", "notebooks/05_plan.ipynb", "params/commentary/README.md",
                     "params/default.yaml", "params/east_ops.yaml"]
    answers = {"unit": "east_ops", "lang": "en", "pack": "data"}
    assert (wb / "params/default.yaml").read_text(encoding="utf-8") == default_yaml(answers, header=WORKBOOK_HEADER)
    for rel, text in notebook_files().items():
        assert (wb / rel).read_text(encoding="utf-8") == text
    assert "outputs/" in (wb / ".gitignore").read_text(encoding="utf-8").splitlines()
    s = load_params(root=wb)
    assert (s.unit, s.lang, s.pack, s.unit_label) == ("east_ops", "en", "data", None)
    record = json.loads((wb / ".opsnb/generated.json").read_text(encoding="utf-8"))
    assert record["answers"] == answers and sorted(record["files"]) == sorted(gen.generated_files(answers))


def test_the_default_params_differ_from_the_repositorys_only_in_header_and_answers(wb: Path):
    def settings(path: Path) -> list[str]:
        return [x for x in path.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]

    changed = {(a, b) for a, b in zip(settings(ROOT / "params/default.yaml"), settings(wb / "params/default.yaml"),
                                      strict=True) if a != b}
    assert changed == {("unit: sample", "unit: east_ops"), ("pack: data/sample", "pack: data"),
                       ("lang: zh", "lang: en")}


def test_init_never_writes_into_a_folder_with_files(tmp_path: Path, nohome: None):
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OpsnbError, match="not empty"):
        init_workbook(tmp_path / "team", lang="en")
    assert [p.name for p in (tmp_path / "team").iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["team"]  # no half-built folder left beside it


def test_the_workbook_is_found_from_any_folder_below_it_and_opsnb_home_wins(wb: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    deep = wb / "params" / "commentary"
    assert find_workbook(deep) == wb.resolve() and require_workbook(deep) == wb.resolve()
    monkeypatch.chdir(deep)
    assert project_root() == wb.resolve() and load_params().unit == "east_ops"
    assert find_workbook(tmp_path) is None
    with pytest.raises(OpsnbError, match="not inside an opsnb workbook"):
        require_workbook(tmp_path)
    monkeypatch.setenv("OPSNB_HOME", str(ROOT))
    assert project_root(deep) == ROOT and require_workbook(tmp_path) == ROOT


def test_cli_commands_that_need_a_workbook_say_so_outside_one(tmp_path: Path, nohome: None,
                                                              monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["upgrade", "--check"]) == 2
    assert "opsnb init DIR" in capsys.readouterr().err


def _new_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next opsnb: one more code cell in the goals notebook, one more comment line in default.yaml."""
    real = gen.generated_files

    def files(answers):
        out = dict(real(answers))
        nb = json.loads(out["notebooks/01_goals.ipynb"])
        nb["cells"].append({"cell_type": "code", "id": "goals-99", "metadata": {}, "execution_count": None,
                            "outputs": [], "source": 'new = nb.show(ctx, "goals.new")'})
        out["notebooks/01_goals.ipynb"] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        out["params/default.yaml"] += "# a new line of the next version\n"
        return out

    monkeypatch.setattr(up, "generated_files", files)


def test_upgrade_check_is_quiet_when_current_then_shows_a_new_versions_diff_and_writes_nothing(
        wb: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(wb)
    assert cli.main(["upgrade", "--check"]) == 0
    assert "current" in capsys.readouterr().out
    before = {p: p.read_bytes() for p in wb.rglob("*") if p.is_file()}
    _new_version(monkeypatch)
    assert cli.main(["upgrade", "--check"]) == 1
    out = capsys.readouterr().out
    assert "notebooks/01_goals.ipynb: would be updated" in out and "params/default.yaml: would be updated" in out
    assert '+new = nb.show(ctx, "goals.new")' in out and "+# a new line of the next version" in out
    assert "2 file(s) would be written, 0 left alone" in out
    assert {p: p.read_bytes() for p in wb.rglob("*") if p.is_file()} == before  # --check writes nothing


def test_upgrade_replaces_unedited_files_and_leaves_the_teams_edits_alone(wb: Path, monkeypatch: pytest.MonkeyPatch):
    goals = wb / "notebooks/01_goals.ipynb"
    nb = json.loads(goals.read_text(encoding="utf-8"))
    nb["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "run in JupyterLab"}]
    nb["cells"][3]["execution_count"] = 4
    goals.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")  # run and saved: not an edit
    defaults = wb / "params/default.yaml"
    mine = defaults.read_text(encoding="utf-8").replace("currency: ¥", "currency: HK$")
    defaults.write_text(mine, encoding="utf-8")  # the team edited it
    _new_version(monkeypatch)
    _, files = plan(wb)
    states = {f.path: f.state for f in files if f.state != "current"}
    assert states == {"notebooks/01_goals.ipynb": "update", "params/default.yaml": "edited"}
    edited = next(f for f in files if f.path == "params/default.yaml")
    assert edited.changed and "+# a new line of the next version" in edited.diff and "HK$" not in edited.diff
    apply(wb)
    assert 'new = nb.show(ctx, \\"goals.new\\")' in goals.read_text(encoding="utf-8")
    assert defaults.read_text(encoding="utf-8") == mine  # never over the team's work
    _, again = plan(wb)
    assert [(f.path, f.state) for f in again if f.state != "current"] == [("params/default.yaml", "edited")]
    assert pending(again)  # the edited file's change is still there to merge by hand


def test_upgrade_needs_a_workbook_made_by_init(tmp_path: Path):
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(OpsnbError, match="opsnb init"):
        plan(tmp_path)
