"""environment.yml and pyproject.toml list the same runtime packages with the same lower bounds."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name(spec: str) -> str:
    name = re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return {"ibis-framework-duckdb": "ibis-framework"}.get(name, name)


def _bounds(spec: str) -> str:
    return re.sub(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?", "", spec.strip()).replace(" ", "")


def test_same_runtime_packages_and_bounds():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str) and not d.startswith(("python=", "pip"))]
    assert {_name(d): _bounds(d) for d in py} == {_name(d): _bounds(d) for d in conda}


def test_security_lower_bounds():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "nbconvert>=7.17.2" in deps
    assert "jupyter_server>=2.20" in deps
    for required in ("jupyterlab", "papermill", "pandas", "seaborn", "nbconvert", "ipywidgets"):
        assert any(_name(d) == required for d in deps), required
