"""Loading and layering: defaults → ``params/default.yaml`` → ``params/<unit>.yaml`` → ``params_file`` → ``--set``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)
from pydantic_core import ErrorDetails

from opsnb.errors import ParamsError, Problem
from opsnb.params.settings import Settings
from opsnb.paths import params_dir

# ---------------------------------------------------------------- loading and layering


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def merge_overrides(*layers: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """Merge layers of overrides, each ``--set`` items (``["lang=en"]``) or a nested mapping; later layers win.

    ``merge_overrides(["batch.workers=4", "lang=en"], {"lang": "zh"})`` is
    ``{"batch": {"workers": 4}, "lang": "zh"}``; a bad ``--set`` item raises :class:`ParamsError`.
    """
    out: dict[str, Any] = {}
    for layer in layers:
        out = _merge(out, parse_overrides(layer) if isinstance(layer, list) else dict(layer or {}))
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError([Problem(str(path), f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ParamsError([Problem(str(path), "top level must be a mapping of settings", type(data).__name__)])
    return data


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``["goals.bands.nearly=0.9", "lang=en"]`` into a nested mapping (values parsed as YAML)."""
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            problems.append(Problem("--set", "expected key.path=value", item))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if key in {"period", "unit", "pack"}:
            value = raw  # keep "202401" or "2026" as text
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    if problems:
        raise ParamsError(problems)
    return out


def _describe(err: ErrorDetails) -> Problem:
    loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown setting; check the spelling against params/default.yaml"
    elif err["type"] == "literal_error":
        msg = "not an allowed value; " + msg.replace("Input should be", "allowed:")
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return Problem(loc, msg, err.get("input"))


def validate(data: dict[str, Any]) -> Settings:
    """Validate a settings mapping; raise :class:`ParamsError` listing every problem."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ParamsError([_describe(e) for e in exc.errors()]) from None


def load_params(
    *,
    unit: str | None = None,
    params_file: str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    root: Path | None = None,
) -> Settings:
    """Load settings with layering: defaults → default.yaml → <unit>.yaml → params_file → overrides."""
    pdir = params_dir(root)
    data: dict[str, Any] = {}
    default = pdir / "default.yaml"
    if default.is_file():
        data = _merge(data, _read_yaml(default))
    over = merge_overrides(overrides)
    unit = unit or over.get("unit") or data.get("unit")
    if unit:
        unit_file = pdir / f"{unit}.yaml"
        if unit_file.is_file():
            data = _merge(data, _read_yaml(unit_file))
        data["unit"] = unit
    if params_file:
        path = Path(params_file)
        if not path.is_file():
            raise ParamsError([Problem("params_file", "file not found", str(path))])
        data = _merge(data, _read_yaml(path))
    data = _merge(data, over)
    return validate(data)
