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


def test_an_english_count_of_one_reads_in_the_singular():
    from opsnb.render.i18n import singular_after_one, t

    assert t("problems.more_points.day", "en", n=1, dates="2 Oct") == " Unusual on 1 day this period: 2 Oct."
    assert t("problems.more_points.day", "en", n=21, dates="…") == " Unusual on 21 days this period: …."
    assert t("campaigns.spend.row.campaigns", "en", n=1) == "Campaign costs (1 campaign, this period's share)"
    assert singular_after_one("1 of 1 campaigns met their GMV target") == "1 of 1 campaign met their GMV target"
    assert [singular_after_one(x) for x in ("11 pairs", "1.1 days", "+1 users", "1 people")] == \
        ["11 pairs", "1.1 days", "+1 users", "1 person"]
    assert t("problems.more_points.day", "zh", n=1, dates="10月2日") == "本期共1天异常：10月2日。"  # no plural in Chinese
