from pathlib import Path

import pytest
import yaml

from opsnb.errors import ParamsError
from opsnb.params import Settings, load_params, merge_overrides, parse_overrides
from opsnb.periods import Period

ROOT = Path(__file__).resolve().parents[2]


def test_default_yaml_matches_model_defaults():
    """params/default.yaml documents every setting with the model's default value."""
    data = yaml.safe_load((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))
    assert Settings.model_validate(data).model_dump() == Settings().model_dump()
    assert set(data) == set(Settings.model_fields)


def test_default_yaml_comments_every_setting():
    """Every setting (not the fields of list items, which their list's comment explains) has a comment."""
    import re

    lines = (ROOT / "params" / "default.yaml").read_text(encoding="utf-8").splitlines()
    stack: list[str] = []
    missing = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)([A-Za-z_]+):", line)
        if not m:
            continue
        stack = stack[: len(m[1]) // 2] + [m[2]]
        if not lines[i - 1].lstrip().startswith("#"):
            missing.append(".".join(stack))
    in_lists = ("goals.kpis.", "insights.rfm_segments.")
    assert [k for k in missing if not k.startswith(in_lists)] == []


def test_layering_default_unit_file_overrides(tmp_path):
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params" / "default.yaml").write_text("lang: zh\ncurrency: '¥'\n", encoding="utf-8")
    (tmp_path / "params" / "east.yaml").write_text("lang: en\npack: data/east\n", encoding="utf-8")
    extra = tmp_path / "extra.yaml"
    extra.write_text("pack: data/override\nproblems: {anomaly_z: 4}\n", encoding="utf-8")
    s = load_params(unit="east", params_file=extra, overrides=["problems.anomaly_z=5", "period=2026-Q3"],
                    root=tmp_path)
    assert (s.unit, s.lang, s.pack, s.problems.anomaly_z, s.period) == ("east", "en", "data/override", 5.0,
                                                                         Period.parse("2026-Q3"))


def test_every_problem_listed_at_once_with_key_path_and_value():
    with pytest.raises(ParamsError) as err:
        load_params(overrides=["period=2026-13", "lang=fr", "timezone=Mars/Olympus", "batch.workers=0",
                               "goals.bands.nearly=2", "colour=red"], root=ROOT)
    msg = str(err.value)
    assert "6 problems" in msg
    for fragment in ("period", "'2026-13'", "YYYY-MM", "lang", "'fr'", "'zh' or 'en'", "timezone",
                     "Mars/Olympus", "batch.workers", "goals.bands", "colour", "unknown setting"):
        assert fragment in msg, fragment


def test_single_problem_is_one_line():
    with pytest.raises(ParamsError) as err:
        load_params(overrides=["period=2026-13"], root=ROOT)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("invalid parameters: period:")


def test_overrides_keep_text_values():
    assert parse_overrides(["period=202401"]) == {"period": "202401"}
    assert parse_overrides(["unit=华东"]) == {"unit": "华东"}
    assert parse_overrides(["problems.anomaly_z=3"]) == {"problems": {"anomaly_z": 3}}
    with pytest.raises(ParamsError, match="key.path=value"):
        parse_overrides(["no-equals-sign"])


def test_period_is_parsed_once_and_written_back_as_its_label():
    s = load_params(overrides=["period=2026-q4"], root=ROOT)
    assert s.period == Period.parse("2026-Q4")
    assert s.model_dump(mode="json")["period"] == "2026-Q4" and s.model_dump()["period"] == "2026-Q4"
    assert Settings.model_validate(s.model_dump(mode="json")).period == s.period
    assert load_params(overrides={"period": ""}, root=ROOT).period is None
    s.period = "2026-09"  # assignment is validated too
    assert s.period == Period.parse("2026-09")


@pytest.mark.parametrize("bad", [2026, 202401])
def test_period_as_a_yaml_number_is_not_text(bad):
    with pytest.raises(ParamsError, match=r"^invalid parameters: period: Input should be a valid string \(got "):
        load_params(overrides={"period": bad}, root=ROOT)


def test_merge_overrides_later_layers_win():
    assert merge_overrides(["batch.workers=4", "lang=en", "period=2026-10"], {"lang": "zh"}, None,
                           {"batch": {"sections": ["goals"]}}) == {
        "batch": {"workers": 4, "sections": ["goals"]}, "lang": "zh", "period": "2026-10"}
    assert merge_overrides() == {} and merge_overrides(None) == {}
    with pytest.raises(ParamsError, match="key.path=value"):
        merge_overrides(["lang"])


def test_period_202401_rejected_by_name():
    with pytest.raises(ParamsError, match="period"):
        load_params(overrides=["period=202401"], root=ROOT)


def test_unknown_kpi_names_known_ones():
    with pytest.raises(ParamsError, match="gmv"):
        Settings().kpi("nope")


def test_default_yaml_is_exactly_what_the_script_writes():
    """No drift: edit the model (opsnb/params/), then run scripts/build_default_params.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_default_params", ROOT / "scripts" / "build_default_params.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "params" / "default.yaml").read_text(encoding="utf-8") == mod.text()


def test_unit_label_is_both_languages_or_one_text_and_the_id_without_one():
    s = Settings(unit="beijing", unit_label={"zh": "北京分公司", "en": "Beijing branch"})
    assert (s.unit_name("zh"), s.unit_name("en"), s.unit_name()) == ("北京分公司", "Beijing branch", "北京分公司")
    assert Settings(unit="bj", unit_label="北京").unit_name("en") == "北京"
    assert Settings(unit="bj").unit_name("en") == "bj"
    with pytest.raises(ValueError, match="unit_label"):
        Settings(unit="bj", unit_label={"zh": "北京"})  # a label names both languages
