"""KPI ledger: appends (pure, on frames), the file through opsnb.runfolder (atomic), previous publication,
restatements."""

from __future__ import annotations

import pandas as pd

from opsnb import runfolder as rf
from opsnb.metrics.ledger import appended, previous_publications
from opsnb.periods import Period


def append_ledger(unit_dir, *args):
    """What the batch does when it publishes: read, append, write back (atomic)."""
    led, rows = appended(rf.read_ledger(unit_dir), *args)
    rf.write_ledger(unit_dir, led)
    return rows


def _res(gmv: float, cac: float | None) -> pd.DataFrame:
    return pd.DataFrame({"key": ["gmv", "cac"], "actual": pd.Series([gmv, cac], dtype="object"),
                         "target": pd.Series([150.0, None], dtype="object"),
                         "attainment": pd.Series([gmv / 150.0, None], dtype="object"), "status": ["exceeded", "n/a"]})


def test_append_and_restatement(tmp_path):
    path = tmp_path / "u"
    append_ledger(path, "u", Period.parse("2026-09"), _res(180.0, 40.0), "run1", "2026-10-02 08:00")
    append_ledger(path, "u", "2026-09", _res(180.0, 40.0), "run1", "2026-10-02 08:00")  # same run: replaced
    led = rf.read_ledger(path)
    assert len(led) == 2 and set(led["metric"]) == {"gmv", "cac"}
    assert [p.name for p in path.iterdir()] == ["ledger.parquet"]  # no temp file left
    append_ledger(path, "u", "2026-09", _res(190.0, 40.0), "run2", "2026-10-05 08:00")  # late data: GMV restated
    append_ledger(path, "u", "2026-10", _res(200.0, 35.0), "run3", "2026-11-02 08:00")
    assert len(rf.read_ledger(path)) == 6
    prev = previous_publications(rf.read_ledger(path), Period.parse("2026-10")).set_index("metric")
    assert prev.loc["gmv", "period"] == "2026-09"
    assert prev.loc["gmv", "value"] == 190.0 and prev.loc["gmv", "first_value"] == 180.0
    assert bool(prev.loc["gmv", "restated"]) and prev.loc["gmv", "publications"] == 2
    assert not bool(prev.loc["cac", "restated"])
    assert prev.loc["gmv", "run_id"] == "run2"


def test_restatement_against_current_values(tmp_path):
    append_ledger(tmp_path, "u", "2026-09", _res(180.0, None), "r1", "2026-10-02")
    cur = pd.DataFrame({"metric": ["gmv", "cac"], "value": [180.0, 41.0]})
    prev = previous_publications(rf.read_ledger(tmp_path), "2026-10", current=cur).set_index("metric")
    assert not bool(prev.loc["gmv", "restated"])
    assert bool(prev.loc["cac", "restated"])  # published n/a, now 41
    assert prev.loc["cac", "value"] is None


def test_nothing_published_before(tmp_path):
    assert previous_publications(rf.read_ledger(tmp_path / "none"), "2026-10").empty
    append_ledger(tmp_path, "u", "2026-10", _res(1.0, 1.0), "r1", "2026-11-02")
    assert previous_publications(rf.read_ledger(tmp_path), "2026-10").empty


def test_a_publication_time_with_its_zone_joins_a_ledger_kept_in_naive_utc(tmp_path):
    append_ledger(tmp_path, "u", "2026-09", _res(180.0, 40.0), "r1", "2026-10-02 08:00")
    rows = append_ledger(tmp_path, "u", "2026-10", _res(200.0, 35.0), "r2", "2026-11-02T08:00:00.123456+08:00")
    assert str(rows["published_at"].iloc[0]) == "2026-11-02 00:00:00.123456"
    led = rf.read_ledger(tmp_path)
    assert list(led["published_at"].map(str)) == ["2026-10-02 08:00:00"] * 2 + ["2026-11-02 00:00:00.123456"] * 2


def test_the_previous_review_is_of_the_same_kind(tmp_path):
    """A month's previous review is the last month published, never the quarter that ended before it."""
    append_ledger(tmp_path, "u", "2026-08", _res(150.0, 40.0), "r1", "2026-09-02")
    append_ledger(tmp_path, "u", "2026-Q3", _res(450.0, 41.0), "r2", "2026-10-02")
    led = rf.read_ledger(tmp_path)
    assert set(previous_publications(led, "2026-10")["period"]) == {"2026-08"}
    assert set(previous_publications(led, "2026-Q4")["period"]) == {"2026-Q3"}
    assert previous_publications(led, "2026").empty


def test_a_restatement_a_reader_cannot_see_is_not_called_one():
    from opsnb.sections import goals as G

    labels = {"roi": ("ROI", "ROI", "roi"), "gmv": ("GMV", "GMV", "currency")}
    prev = pd.DataFrame([
        {"metric": "roi", "period": "2026-09", "value": 4.5000001, "target": None, "status": "n/a",
         "first_value": 4.5, "current": None, "restated": True, "published_at": "2026-10-02"},
        {"metric": "gmv", "period": "2026-09", "value": 190.0, "target": 150.0, "status": "exceeded",
         "first_value": 180.0, "current": None, "restated": True, "published_at": "2026-10-05"}])
    assert G.ledger_bullets(prev, "en", labels) == ["GMV (2026-09) restated: published as ¥180.00, now ¥190.00."]
    table = G.ledger_table(prev, "en", labels)
    assert list(table.data["Restated"]) == ["", "✔"]
    assert "Target then" in table.data.columns and "Target" not in table.data.columns  # not the month's own target
    # a unit in pounds reads its published figures in pounds
    assert G.ledger_bullets(prev, "en", labels, "£") == ["GMV (2026-09) restated: published as £180.00, now £190.00."]
    assert list(G.ledger_table(prev, "en", labels, "£").data["Target then"]) == ["n/a", "£150.00"]
