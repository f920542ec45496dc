"""Relative periods (last-month …) resolved in the unit's time zone at the moment of the run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from opsnb.errors import ParamsError
from opsnb.params import load_params, validate
from opsnb.periods import NOW_ENV, Period, current_time, is_relative, resolve_period

ROOT = Path(__file__).resolve().parents[2]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _no_env_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NOW_ENV, raising=False)


# ---------------------------------------------------------------- Period.relative: the calendar alone


@pytest.mark.parametrize(
    ("word", "today", "label"),
    [
        ("last-month", date(2026, 11, 1), "2026-10"),
        ("last-month", date(2026, 10, 31), "2026-09"),
        ("last-month", date(2027, 1, 1), "2026-12"),  # January → the previous December
        ("last-month", date(2027, 1, 31), "2026-12"),
        ("last-month", date(2026, 3, 1), "2026-02"),
        ("this-month", date(2026, 11, 1), "2026-11"),
        ("this-month", date(2026, 10, 31), "2026-10"),
        ("last-quarter", date(2026, 10, 1), "2026-Q3"),
        ("last-quarter", date(2026, 9, 30), "2026-Q2"),
        ("last-quarter", date(2027, 2, 15), "2026-Q4"),  # Q1 → the previous Q4
        ("last-quarter", date(2027, 1, 1), "2026-Q4"),
        ("this-quarter", date(2027, 3, 31), "2027-Q1"),
        ("last-year", date(2027, 1, 1), "2026"),
        ("last-year", date(2026, 12, 31), "2025"),
        ("this-year", date(2026, 12, 31), "2026"),
        ("Last-Month", date(2026, 11, 1), "2026-10"),  # words in any case, as 2026-q4 is
        (" last-quarter ", date(2026, 11, 1), "2026-Q3"),
    ],
)
def test_relative_on_a_day(word, today, label):
    assert Period.relative(word, today).label == label


def test_relative_periods_are_whole_periods():
    p = Period.relative("this-month", date(2026, 11, 15))
    assert p == Period.parse("2026-11") and (p.start, p.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert Period.relative("last-year", date(2027, 1, 1)) == Period.parse("2026")


# ---------------------------------------------------------------- resolve_period: the local date in the unit's zone


@pytest.mark.parametrize(
    ("word", "tz", "now", "label"),
    [
        # Asia/Shanghai (UTC+8, no DST): 2026-11-01 00:05 local = 2026-10-31 16:05 UTC
        ("last-month", "Asia/Shanghai", utc(2026, 10, 31, 16, 5), "2026-10"),
        ("last-month", "Asia/Shanghai", utc(2026, 10, 31, 15, 59), "2026-09"),  # 23:59 on 31 Oct locally
        ("last-quarter", "Asia/Shanghai", utc(2026, 9, 30, 16, 0), "2026-Q3"),  # 00:00 on 1 Oct locally
        ("last-quarter", "Asia/Shanghai", utc(2026, 9, 30, 15, 59, 59), "2026-Q2"),
        ("last-year", "Asia/Shanghai", utc(2026, 12, 31, 16, 5), "2026"),  # 00:05 on 1 Jan 2027 locally
        ("last-year", "Asia/Shanghai", utc(2026, 12, 31, 15, 59), "2025"),
        ("last-month", "Asia/Shanghai", utc(2026, 12, 31, 16, 5), "2026-12"),
        # Europe/London in summer time (BST = UTC+1): 1 Aug 00:30 local = 31 Jul 23:30 UTC
        ("last-month", "Europe/London", utc(2026, 7, 31, 23, 30), "2026-07"),
        ("last-month", "Europe/London", utc(2026, 7, 31, 22, 59), "2026-06"),
        # Europe/London in winter (GMT = UTC): local is UTC
        ("last-month", "Europe/London", utc(2026, 12, 1, 0, 5), "2026-11"),
        ("last-month", "Europe/London", utc(2026, 11, 30, 23, 59), "2026-10"),
        ("last-year", "Europe/London", utc(2027, 1, 1, 0, 0), "2026"),
        # America/Los_Angeles (PDT = UTC-7): UTC is already in November, local is still October
        ("last-month", "America/Los_Angeles", utc(2026, 11, 1, 6, 59), "2026-09"),  # 31 Oct 23:59 PDT
        ("last-month", "America/Los_Angeles", utc(2026, 11, 1, 7, 5), "2026-10"),  # 1 Nov 00:05 PDT
        ("this-month", "America/Los_Angeles", utc(2026, 11, 1, 3, 0), "2026-10"),  # 31 Oct 20:00 PDT
        # 1 Nov 2026 is also the day US summer time ends (02:00 PDT → 01:00 PST): 01:30 happens twice
        ("last-month", "America/Los_Angeles", utc(2026, 11, 1, 8, 30), "2026-10"),  # 01:30 PDT
        ("last-month", "America/Los_Angeles", utc(2026, 11, 1, 9, 30), "2026-10"),  # 01:30 PST
        ("last-month", "America/Los_Angeles", utc(2026, 12, 1, 7, 59), "2026-10"),  # 30 Nov 23:59 PST (UTC-8)
        ("last-month", "America/Los_Angeles", utc(2026, 12, 1, 8, 0), "2026-11"),
        # Europe/London on the day summer time starts (29 Mar 2026, 01:00 GMT → 02:00 BST) and ends (25 Oct)
        ("this-month", "Europe/London", utc(2026, 3, 29, 0, 59), "2026-03"),
        ("last-month", "Europe/London", utc(2026, 10, 31, 23, 59), "2026-09"),  # GMT again: still 31 Oct
        ("last-month", "Europe/London", utc(2026, 4, 30, 23, 0), "2026-04"),  # 1 May 00:00 BST
    ],
)
def test_resolve_in_the_units_time_zone(word, tz, now, label):
    assert resolve_period(word, tz, now).label == label


def test_resolve_takes_any_aware_now_and_a_tzinfo():
    from zoneinfo import ZoneInfo

    shanghai_midnight = datetime.fromisoformat("2026-11-01T00:05:00+08:00")
    assert resolve_period("last-month", "Asia/Shanghai", shanghai_midnight).label == "2026-10"
    # the same instant in London is 31 Oct 16:05 GMT: September is the latest complete month there
    assert resolve_period("last-month", ZoneInfo("Europe/London"), shanghai_midnight).label == "2026-09"


def test_absolute_periods_pass_through_without_a_clock():
    assert resolve_period("2026-q3", "Asia/Shanghai") == Period.parse("2026-Q3")
    assert resolve_period("2026", "UTC", utc(2030, 1, 1)).label == "2026"


def test_default_now_is_the_clock():
    before = datetime.now(UTC).date()
    got = resolve_period("this-month", "UTC")
    assert got.contains(before) or got.contains(datetime.now(UTC).date())  # (a test run across midnight UTC)


def test_opsnb_now_sets_the_clock(monkeypatch):
    monkeypatch.setenv(NOW_ENV, "2026-11-01T00:05:00+08:00")
    assert current_time() == utc(2026, 10, 31, 16, 5)
    assert resolve_period("last-month", "Asia/Shanghai").label == "2026-10"
    assert resolve_period("last-month", "Europe/London").label == "2026-09"
    assert resolve_period("last-month", "Asia/Shanghai", utc(2026, 12, 1, 0, 0)).label == "2026-11"  # now wins


@pytest.mark.parametrize("bad", ["2026-11-01", "2026-11-01T00:05:00", "yesterday"])
def test_opsnb_now_must_be_an_aware_time(monkeypatch, bad):
    monkeypatch.setenv(NOW_ENV, bad)
    with pytest.raises(ValueError, match=r"OPSNB_NOW=.* is not a time with a UTC offset"):
        resolve_period("last-month", "UTC")
    assert resolve_period("2026-10", "UTC").label == "2026-10"  # absolute periods never read it


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_period("last-month", "Asia/Shanghai", datetime(2026, 11, 1, 0, 5))


@pytest.mark.parametrize("bad", ["last-week", "this-week", "yesterday", "last month", "previous-month", "last-"])
def test_unknown_words_name_the_accepted_forms(bad):
    with pytest.raises(ValueError, match="YYYY-MM .*last-month, last-quarter, last-year, this-month"):
        resolve_period(bad, "Asia/Shanghai", utc(2026, 11, 1))
    with pytest.raises(ValueError, match="last-month"):
        Period.relative(bad, date(2026, 11, 1))


def test_weeks_are_not_periods():
    with pytest.raises(ValueError, match=r"weeks are not review periods"):
        resolve_period("last-week", "UTC", utc(2026, 11, 1))


def test_parse_stays_pure():
    assert is_relative("last-month") and is_relative("THIS-YEAR") and not is_relative("2026-10")
    assert not is_relative(None) and not is_relative(2026)
    with pytest.raises(ValueError, match="relative to the day of the run; resolve it with resolve_period"):
        Period.parse("last-month")


# ---------------------------------------------------------------- settings: --set, params files, the unit's zone


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params" / "default.yaml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    (tmp_path / "params" / "london.yaml").write_text("timezone: Europe/London\n", encoding="utf-8")
    (tmp_path / "params" / "monthly.yaml").write_text("period: last-month\n", encoding="utf-8")
    return tmp_path


def test_set_period_last_month(project, monkeypatch):
    monkeypatch.setenv(NOW_ENV, "2026-11-01T00:05:00+08:00")
    s = load_params(overrides=["period=last-month"], root=project)
    assert s.period == Period.parse("2026-10")
    assert s.model_dump(mode="json")["period"] == "2026-10" and s.model_dump()["period"] == "2026-10"
    assert load_params(overrides=["period=last-quarter"], root=project).period == Period.parse("2026-Q3")
    assert load_params(overrides=["period=this-year"], root=project).period == Period.parse("2026")
    assert load_params(overrides={"period": "last-year"}, root=project).period == Period.parse("2025")


def test_set_period_follows_the_units_time_zone(project, monkeypatch):
    monkeypatch.setenv(NOW_ENV, "2026-11-01T00:05:00+08:00")  # 31 Oct 16:05 in London
    assert load_params(unit="london", overrides=["period=last-month"], root=project).period.label == "2026-09"
    assert load_params(overrides=["period=last-month", "timezone=Europe/London"], root=project).period.label == "2026-09"
    monkeypatch.setenv(NOW_ENV, "2026-11-01T00:05:00+00:00")
    assert load_params(unit="london", overrides=["period=last-month"], root=project).period.label == "2026-10"


def test_period_last_month_in_a_params_file(project, monkeypatch, tmp_path):
    monkeypatch.setenv(NOW_ENV, "2027-01-01T00:05:00+08:00")
    assert load_params(unit="monthly", root=project).period.label == "2026-12"
    extra = tmp_path / "extra.yaml"
    extra.write_text("period: last-quarter\ntimezone: America/Los_Angeles\n", encoding="utf-8")
    # 2026-12-31 08:05 in Los Angeles: the latest complete quarter there is Q3
    assert load_params(params_file=extra, root=project).period.label == "2026-Q3"


def test_settings_validation_resolves_with_the_clock_argument_free(monkeypatch):
    monkeypatch.setenv(NOW_ENV, "2026-10-31T23:59:00+08:00")
    assert validate({"period": "last-month"}).period.label == "2026-09"  # default timezone Asia/Shanghai
    assert validate({"period": "2026-10", "timezone": "UTC"}).period.label == "2026-10"


def test_unknown_word_in_settings_is_a_one_line_params_error(project):
    with pytest.raises(ParamsError, match=r"^invalid parameters: period: not a period; accepted forms: YYYY-MM") as err:
        load_params(overrides=["period=yesterday"], root=project)
    assert "last-month" in str(err.value) and "'yesterday'" in str(err.value)
    with pytest.raises(ParamsError, match=r"period: not a period \(weeks are not review periods\); accepted forms"):
        load_params(overrides=["period=last-week"], root=project)


def test_relative_period_with_a_bad_time_zone_says_why(project):
    with pytest.raises(ParamsError) as err:
        load_params(overrides=["period=last-month", "timezone=Mars/Olympus"], root=project)
    text = str(err.value)
    assert "timezone: unknown IANA timezone" in text
    assert "period: 'last-month' is resolved in the unit's timezone, which is not valid" in text


def test_bad_opsnb_now_is_a_params_error_on_period(project, monkeypatch):
    monkeypatch.setenv(NOW_ENV, "tomorrow")
    with pytest.raises(ParamsError, match=r"period: OPSNB_NOW='tomorrow' is not a time with a UTC offset"):
        load_params(overrides=["period=last-month"], root=project)


def test_assigning_a_relative_word_says_how():
    s = validate({"period": "2026-10"})
    with pytest.raises(ValueError, match=r"resolve_period\('last-month', settings.timezone\)"):
        s.period = "last-month"  # type: ignore[assignment]


# ---------------------------------------------------------------- export / notify: the published folder


def test_published_resolves_relative_periods_in_the_units_zone(project, monkeypatch):
    from opsnb.cli import _published

    monkeypatch.setenv("OPSNB_HOME", str(project))
    for unit, label in (("sample", "2026-10"), ("london", "2026-09")):
        folder = project / "outputs" / unit / label
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("<html></html>", encoding="utf-8")
    monkeypatch.setenv(NOW_ENV, "2026-11-01T00:05:00+08:00")
    assert _published(None, "last-month") == project / "outputs" / "sample" / "2026-10"
    assert _published("london", "last-month") == project / "outputs" / "london" / "2026-09"
    assert _published(None, "2026-10") == project / "outputs" / "sample" / "2026-10"
    with pytest.raises(ParamsError, match=r"--period: period 'last-week' is not valid"):
        _published(None, "last-week")
