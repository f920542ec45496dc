"""One catalogue per language; both define exactly the same keys and the same placeholders."""

from opsnb.render.i18n import catalogue, t


def test_same_keys_in_both_languages():
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) - set(en)) == [], "keys missing in en"
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh"


def test_every_subsection_has_title_and_purpose():
    from opsnb.sections import MODULES, subsections

    for section in MODULES:
        for sub in subsections(section):
            for lang in ("zh", "en"):
                assert t(f"{sub.key}.title", lang)
                assert t(f"{sub.key}.purpose", lang)


def test_missing_key_fails_loudly():
    import pytest

    with pytest.raises(KeyError, match="no text for key 'nope.nothing' in the 'en' catalogue"):
        t("nope.nothing", "en")
