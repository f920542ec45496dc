"""Scheduling: ``opsnb run --period last-month`` as a timer runs it, and the example scheduler files."""

from __future__ import annotations

import ast
import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from opsnb.sample import generate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


# ---------------------------------------------------------------- the real command, with the clock set


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("schedule")
    (root / "params").symlink_to(ROOT / "params")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    generate(root / "pack", scale=0.1)
    return root


def _opsnb(project: Path, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSNB_HOME": str(project), "OPSNB_NOW": now, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "opsnb.cli", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def published(project: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    # 2026-11-01 00:05 in Shanghai is still 31 October in UTC: the unit's time zone decides
    r = _opsnb(project, "2026-11-01T00:05:00+08:00", "run", "--unit", "e2e_schedule", "--pack", str(project / "pack"),
               "--period", "last-month", "--sections", "goals", "--quiet")
    return r, project / "outputs" / "e2e_schedule"


@pytest.mark.slow
def test_last_month_at_0005_on_the_first_in_shanghai_publishes_october(published):
    r, unit_dir = published
    assert r.returncode == 0, r.stderr
    out = unit_dir / "2026-10"
    assert Path(r.stdout.strip()) == out / "index.html"
    assert (out / "index.html").is_file() and (out / "01_goals.html").is_file()
    assert yaml.safe_load((out / "params.yaml").read_text(encoding="utf-8"))["period"] == "2026-10"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["period"] == "2026-10" and manifest["params"]["period"] == "2026-10"
    assert "last-month" not in (out / "params.yaml").read_text(encoding="utf-8")
    assert not any("last-month" in p.name for p in unit_dir.rglob("*"))


@pytest.mark.slow
def test_export_and_notify_find_it_as_last_month_until_the_next_month_begins(published, monkeypatch):
    """``opsnb export/notify --period last-month`` look the folder up the same way (``cli._published``)."""
    from opsnb.cli import _published
    from opsnb.errors import OpsnbError

    _, unit_dir = published
    monkeypatch.setenv("OPSNB_HOME", str(unit_dir.parents[1]))
    monkeypatch.setenv("OPSNB_NOW", "2026-11-30T23:59:00+08:00")
    assert _published("e2e_schedule", "last-month") == unit_dir / "2026-10"
    monkeypatch.setenv("OPSNB_NOW", "2026-10-31T23:59:00+08:00")  # a minute before November in Shanghai
    with pytest.raises(OpsnbError, match=r"no published review at .*e2e_schedule/2026-09.*--period 2026-09"):
        _published("e2e_schedule", "last-month")


def test_unknown_word_is_exit_code_2_naming_the_forms(project: Path):
    r = _opsnb(project, "2026-11-01T00:05:00+08:00", "run", "--unit", "e2e_schedule", "--period", "last-week")
    assert r.returncode == 2
    assert "period" in r.stderr and "YYYY-MM" in r.stderr and "last-month" in r.stderr
    assert "weeks are not review periods" in r.stderr


def test_help_lists_the_relative_periods(capsys):
    from opsnb import cli

    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "last-month" in capsys.readouterr().out


# ---------------------------------------------------------------- the example files in docs/examples


def _unit_file(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    cp.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    cp.read(EXAMPLES / name, encoding="utf-8")
    return cp


def test_systemd_timer_runs_at_0005_on_the_first_in_shanghai():
    timer = _unit_file("opsnb-review.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-01 00:05:00 Asia/Shanghai"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "opsnb-review.service"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_service_runs_last_month_for_every_unit():
    service = _unit_file("opsnb-review.service")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"].split()
    assert exec_start[0].endswith("/opsnb") and exec_start[1] == "run"
    assert exec_start[exec_start.index("--period") + 1] == "last-month"
    assert exec_start[exec_start.index("--units") + 1] == "all"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not available")
def test_systemd_files_verify(tmp_path: Path):
    service = (EXAMPLES / "opsnb-review.service").read_text(encoding="utf-8")
    # verify checks that ExecStart exists: point it at this environment's opsnb
    opsnb = Path(sys.executable).with_name("opsnb")
    (tmp_path / "opsnb-review.service").write_text(
        service.replace("/srv/opsnb/.venv/bin/opsnb", str(opsnb) if opsnb.exists() else "/bin/true"), encoding="utf-8")
    shutil.copy(EXAMPLES / "opsnb-review.timer", tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", "opsnb-review.timer", "opsnb-review.service"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cal = subprocess.run(["systemd-analyze", "calendar", "*-*-01 00:05:00 Asia/Shanghai"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "TZ": "UTC"})
    assert cal.returncode == 0, cal.stderr
    assert "16:05:00 UTC" in cal.stdout  # the last day of a month, 16:05 UTC = the 1st, 00:05 in Shanghai


def test_airflow_dag_compiles_with_the_documented_schedule():
    source = (EXAMPLES / "airflow_opsnb_dag.py").read_text(encoding="utf-8")
    compile(source, "airflow_opsnb_dag.py", "exec")
    strings = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert "5 0 1 * *" in strings and "Asia/Shanghai" in strings
    assert "catchup=False" in source and "BashOperator" in source and "pendulum.datetime" in source
    assert "--period {{ data_interval_start.in_timezone('Asia/Shanghai').strftime('%Y-%m') }}" in source
    assert "--period last-month" in source
