"""The bad-input corpus (tests/badinput/cases.yaml): every case's report names what is wrong and where."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from opsnb.errors import PackError
from opsnb.pack import format_problems, open_pack, validate_pack
from opsnb.pack.problems import is_error

CORPUS = Path(__file__).resolve().parents[1] / "badinput"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name):
    case = CASES[name]
    path = CORPUS / case["path"]
    if case.get("errors"):
        problems = validate_pack(path)
        assert any(is_error(p) for p in problems)
    else:
        pack = open_pack(path)  # raises PackError (listing every problem) when the case has errors
        problems = pack.warnings
    report = format_problems(problems)
    for frag in case.get("errors", []) + case.get("warnings", []):
        assert frag in report, f"{name}: {frag!r} not in\n{report}"
    if case.get("errors"):
        return
    assert bool(pack.warnings) == bool(case.get("warnings")), report
    for ref, expected in case.get("values", {}).items():
        table, column = ref.split(".")
        got = pack.table(table)[column].execute().tolist()
        got = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in got]
        got = [str(v) if isinstance(v, pd.Timestamp) else v for v in got]
        assert got == expected, f"{name}: {ref}"


@pytest.mark.parametrize("name", ["bad_dates_mixed", "misspelled_column", "latin1_fails", "yaml_unknown_table"])
def test_open_pack_raises_with_every_fragment(name):
    with pytest.raises(PackError) as exc:
        open_pack(CORPUS / CASES[name]["path"])
    for frag in CASES[name]["errors"]:
        assert frag in str(exc.value)


def test_second_open_uses_cache(tmp_path):
    path = CORPUS / CASES["yaml_mapping_ok"]["path"]
    first = open_pack(path)
    files = sorted((tmp_path / "cache").glob("*.parquet"))
    assert len(files) == 2  # kpis and orders
    second = open_pack(path)
    assert second.fingerprint == first.fingerprint
    assert second.table("orders").amount.execute().tolist() == [1200.0]


def test_zh_report_is_translated():
    problems = validate_pack(CORPUS / CASES["misspelled_column"]["path"])
    zh = format_problems(problems, "zh")
    assert "未知列“user id”；是否想用“user_id”？" in zh
    assert "个错误" in zh


def test_no_errors_coerce_anywhere_in_package():
    root = Path(__file__).resolve().parents[2] / "opsnb"
    hits = [str(p) for p in root.rglob("*.py")
            if re.search(r"errors\s*=\s*['\"]coerce['\"]", p.read_text(encoding="utf-8"))]
    assert hits == []
