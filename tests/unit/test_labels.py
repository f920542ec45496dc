"""Display names of the data's values (``pack.yaml`` ``labels``): read, validated, and shown through one route."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsnb.pack.config import load_config, load_labels
from opsnb.render import fmt, i18n


@pytest.fixture(autouse=True)
def _no_labels_after():
    yield
    i18n.use_labels({}, "zh")


def _pack_yaml(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pack.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_labels_by_column_and_by_table_column(tmp_path):
    folder = _pack_yaml(tmp_path, """
labels:
  platform: {小程序: {en: Mini program}, App: {zh: App, en: App}}
  feedback.category: {物流: {en: Logistics, zh: 物流}}
  campaigns.type: {直播: {en: Livestream}}
  content.type: {直播: {en: Livestream}}
""")
    labels, problems = load_labels(folder)
    assert problems == []
    assert labels == {"小程序": {"en": "Mini program"}, "App": {"zh": "App", "en": "App"},
                      "物流": {"en": "Logistics", "zh": "物流"}, "直播": {"en": "Livestream"}}
    assert load_config(folder) == ({}, [])  # a pack.yaml with labels only maps no table


@pytest.mark.parametrize(("text", "code", "said"), [
    ("labels: [a, b]", "config_labels_not_mapping", "'labels' must be a mapping"),
    ("labels: {chanel: {抖音: {en: Douyin}}}", "config_label_unknown_column", "labels.chanel"),
    ("labels: {orderz.channel: {抖音: {en: Douyin}}}", "config_unknown_table", "'orderz'"),
    ("labels: {users.category: {物流: {en: Logistics}}}", "config_label_unknown_column", "labels.users.category"),
    ("labels: {channel: [抖音]}", "config_label_values_not_mapping", "labels.channel must"),
    ("labels: {channel: {抖音: Douyin}}", "config_label_names_not_mapping", "labels.channel.抖音"),
    ("labels: {channel: {抖音: {fr: Douyin}}}", "config_label_unknown_lang", "unknown language 'fr'"),
    ("labels: {channel: {抖音: {en: ' '}}}", "config_label_empty", "labels.channel.抖音.en is empty"),
    ("labels: {channel: {直播: {en: Live}}, content.type: {直播: {en: Livestream}}}", "config_label_conflict",
     "'直播' is named 'Live' in labels.channel and 'Livestream' in labels.content.type"),
])
def test_bad_labels_are_reported_with_their_place(tmp_path, text, code, said):
    labels, problems = load_labels(_pack_yaml(tmp_path, text))
    assert labels == {} and [p.code for p in problems] == [code]
    assert said in problems[0].message and problems[0].where == "pack.yaml"


def test_a_misspelt_column_gets_a_suggestion(tmp_path):
    _, problems = load_labels(_pack_yaml(tmp_path, "labels: {chanel: {抖音: {en: Douyin}}}"))
    assert "did you mean 'channel'" in problems[0].message


def test_one_route_for_sentences_cells_and_joined_values():
    i18n.use_labels({"小程序": {"en": "Mini program"}, "微信私域": {"en": "WeChat private traffic"},
                     "老带新": {"en": "Referrals"}}, "en")
    assert i18n.display_name("小程序") == "Mini program"
    assert i18n.display_name("小程序", "zh") == "小程序"  # no zh name: the value itself
    assert i18n.display_name("微信私域+老带新") == "WeChat private traffic+Referrals"
    assert i18n.display_name("微信私域+抖音") == "WeChat private traffic+抖音"  # a part without a name: as it is
    assert i18n.display_name("A · 小程序") == "A · Mini program" and i18n.display_name("A/B") == "A/B"
    assert i18n.display_name("小程序改版") == "小程序改版"  # a value inside a word is not a value
    assert fmt.label("小程序", "en") == "Mini program" and fmt.label(None, "en") == "unknown"
    # a value passed into a sentence is named; the template's own words and numbers are not touched
    assert i18n.t("common.na_reason", "en", reason="小程序") == i18n.t("common.na_reason", "en", reason="Mini program")


def test_without_labels_values_show_as_they_are():
    i18n.use_labels({}, "en")
    assert i18n.display_name("小程序") == "小程序"
    assert fmt.label("华东", "en") == "华东"


def test_open_pack_carries_the_labels_and_fingerprints_them(tmp_path):
    import pandas as pd

    from opsnb.pack import open_pack

    pd.DataFrame({"metric": ["gmv"], "period": ["2026-10"], "target": [1.0]}).to_csv(tmp_path / "kpis.csv", index=False)
    bare = open_pack(tmp_path, use_cache=False)
    _pack_yaml(tmp_path, "labels: {channel: {抖音: {en: Douyin}}}")
    named = open_pack(tmp_path, use_cache=False)
    assert bare.labels == {} and named.labels == {"抖音": {"en": "Douyin"}}
    assert bare.fingerprint != named.fingerprint  # renamed pages are rendered again, never reused
