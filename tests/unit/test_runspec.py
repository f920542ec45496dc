"""opsnb.runspec.resolve_run: the one place a run's settings, pack and period are resolved."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import opsnb.sample
from opsnb.errors import NoData, OpsnbError, ParamsError
from opsnb.periods import Period
from opsnb.runspec import NO_PERIOD, resolve_run

ORDERS = ("order_id,user_id,ts,amount\n1,u1,2026-07-01 10:00,5.0\n2,u2,2026-08-03 10:00,5.0\n"
          "3,u3,2026-09-03 10:00,5.0\n4,u4,2026-10-13 10:00,5.0\n5,u5,2026-11-09 12:00,7.0\n")
KPIS = "metric,period,target\ngmv,2026-10,100\n"


def _pack(folder: Path, **tables: str) -> None:
    folder.mkdir(parents=True)
    for name, text in {"kpis": KPIS, **tables}.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")


def _undated_pack(project: Path) -> None:
    """A pack with users but neither events nor orders: no day to choose a period from."""
    _pack(project / "data" / "users", users="user_id,signup_at\nu1,2026-10-01\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with default settings naming ``data/p``: orders from 1 July to 9 November 2026."""
    monkeypatch.setenv("OPSNB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "default.yaml").write_text("pack: data/p\nlang: zh\n", encoding="utf-8")
    _pack(tmp_path / "data" / "p", orders=ORDERS)
    return tmp_path


def test_no_period_is_the_latest_full_month_of_the_data(project: Path) -> None:
    spec = resolve_run(root=project)
    assert spec.period == Period.parse("2026-10")
    assert spec.pack_path == project / "data" / "p"
    assert (spec.data_first_day, spec.data_last_day) == (date(2026, 7, 1), date(2026, 11, 9))
    assert (spec.unit, spec.lang) == ("sample", "zh")


def test_explicit_period_is_the_settings_own_period(project: Path) -> None:
    spec = resolve_run(period="2026-q3", root=project)
    assert spec.period == Period.parse("2026-Q3")
    assert spec.period is spec.settings.period  # parsed once, by the settings' validator


def test_explicit_choices_win_over_overrides(project: Path) -> None:
    spec = resolve_run(period="2026-09", lang="en",
                       overrides=["period=2026-08", "lang=zh", "problems.anomaly_z=4"], root=project)
    assert (spec.period.label, spec.lang, spec.settings.problems.anomaly_z) == ("2026-09", "en", 4.0)
    assert resolve_run(overrides={"period": "2026-08"}, root=project).period.label == "2026-08"


def test_given_settings_are_used_as_they_are(project: Path) -> None:
    settings = resolve_run(period="2026-09", root=project).settings
    spec = resolve_run(period="2026-01", lang="en", settings=settings, root=project)
    assert spec.settings is settings and spec.period.label == "2026-09" and spec.lang == "zh"


def test_invalid_settings_fail_before_the_pack_is_opened(project: Path) -> None:
    with pytest.raises(ParamsError, match=r"^invalid parameters: period: not a period"):
        resolve_run(period="2026-13", pack="data/missing", root=project)


def test_no_dated_rows_and_no_period_is_no_data(project: Path) -> None:
    _undated_pack(project)
    with pytest.raises(NoData) as err:
        resolve_run(pack="data/users", root=project)
    assert (err.value.table, err.value.reason) == ("events", NO_PERIOD)
    assert resolve_run(pack="data/users", period="2026-10", root=project).period.label == "2026-10"


def test_the_batch_keeps_its_own_words_for_no_period(project: Path) -> None:
    from opsnb import batch

    _undated_pack(project)
    with pytest.raises(OpsnbError) as err:
        batch.run(pack="data/users", root=project, nb_dir=project, progress=False, log=lambda _: None)
    assert str(err.value) == "the pack has no dated events or orders; pass --period YYYY-MM"


def test_the_default_sample_is_generated_when_absent(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []

    def fake_generate(out: Path) -> None:
        made.append(out)
        _pack(out, orders=ORDERS)

    monkeypatch.setattr(opsnb.sample, "generate", fake_generate)
    told: list[str] = []
    spec = resolve_run(pack="data/sample", root=project, log=told.append)
    assert made == [project / "data" / "sample"] and spec.pack_path == made[0]
    assert told == [f"generating the sample pack in {made[0]} …"]
    resolve_run(pack="data/sample", root=project, log=told.append)  # present now: not generated again
    assert len(made) == 1 and len(told) == 1
