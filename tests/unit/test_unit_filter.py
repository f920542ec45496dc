"""One pack shared by several units: a unit column declared in params restricts every table that has it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opsnb.errors import PackError
from opsnb.pack import USER_KEY, open_pack
from opsnb.pack.derived import warm


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    pd.DataFrame({"metric": ["gmv", "gmv"], "period": ["2026-10", "2026-10"], "target": [100.0, 50.0],
                  "region": ["east", "south"]}).to_csv(folder / "kpis.csv", index=False)
    pd.DataFrame({"order_id": ["o1", "o2", "o3"], "user_id": ["u1", "u2", "u3"],
                  "ts": ["2026-10-01 10:00", "2026-10-02 11:00", "2026-10-03 12:00"],
                  "amount": [10.0, 20.0, 40.0], "status": ["paid"] * 3,
                  "region": ["east", "east", "south"]}).to_csv(folder / "orders.csv", index=False)
    pd.DataFrame({"user_id": ["u1", "u1", "u2", "u3", "u3"], "event": ["visit"] * 5,
                  "ts": ["2026-10-01 09:00", "2026-10-01 10:00", "2026-10-02 09:00", "2026-10-03 09:00",
                         "2026-10-04 09:00"],
                  "region": ["east", "east", "east", "south", "south"]}).to_csv(folder / "events.csv", index=False)
    pd.DataFrame({"campaign_id": ["c1"], "name": ["双十一"], "type": ["promo"], "start": ["2026-10-01"],
                  "end": ["2026-10-10"], "cost": [5.0]}).to_csv(folder / "campaigns.csv", index=False)
    return folder


def test_each_unit_sees_its_rows_and_the_shared_tables(shared):
    east = open_pack(shared, unit=("region", "east"))
    south = open_pack(shared, unit=("region", "south"))
    assert east.table("orders").amount.sum().execute() == 30.0
    assert south.table("orders").amount.sum().execute() == 40.0
    assert "region" not in east.table("orders").columns
    assert east.table("kpis").target.execute().tolist() == [100.0]
    assert int(east.table("campaigns").count().execute()) == int(south.table("campaigns").count().execute()) == 1
    assert east.day_range() == (pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-10-02").date())
    assert not any(getattr(w, "column", "") == "region" for w in east.warnings)  # declared: no "extra column"
    assert east.fingerprint != south.fingerprint


def test_derived_tables_and_user_keys_are_the_units_even_with_the_shared_store(shared):
    east = open_pack(shared, unit=("region", "east"))
    warm(east)  # the store holds every unit's rows (and every unit's user_days)
    assert east.__dict__.get("_opsnb_store") is not None
    ud = east.derived("user_days").order_by(["ts", "user_id"]).execute()
    assert ud["user_id"].tolist() == ["u1", "u2"] and ud["n"].tolist() == [2, 1]
    keyed = east.keyed("orders").execute()
    assert sorted(keyed["user_id"]) == ["u1", "u2"] and USER_KEY in keyed.columns and "region" not in keyed.columns
    south = open_pack(shared, unit=("region", "south"))
    assert south.__dict__.get("_opsnb_store") == east.__dict__["_opsnb_store"]  # one store for every unit
    assert south.derived("user_days").count().execute() == 2  # u3 on two days
    assert south.keyed("events").execute()["user_id"].tolist() == ["u3", "u3"]


def test_the_whole_of_a_shared_pack_has_duplicate_keys_and_each_unit_none(shared):
    with pytest.raises(PackError, match=r"duplicate key \(metric, period\)"):
        open_pack(shared)
    open_pack(shared, unit=("region", "south"))  # (region, metric, period) is unique


def test_a_unit_value_absent_from_the_column_is_named_with_the_values_present(shared):
    with pytest.raises(PackError, match=r"no row has 'west' in the unit column 'region'; values found: east, south"):
        open_pack(shared, unit=("region", "west"))


def test_a_unit_column_in_no_table_is_named(shared):
    kpis = pd.read_csv(shared / "kpis.csv")
    kpis[kpis.region == "east"].drop(columns="region").to_csv(shared / "kpis.csv", index=False)
    with pytest.raises(PackError, match=r"the unit column 'store_id' is in no table of the pack"):
        open_pack(shared, unit=("store_id", "east"))


def test_several_units_together_see_their_rows_and_a_missing_one_is_named(shared):
    both = open_pack(shared, unit=("region", ("east", "south")))
    assert both.table("orders").amount.sum().execute() == 70.0
    assert sorted(both.table("kpis").target.execute()) == [50.0, 100.0]
    assert both.derived("user_days").count().execute() == 4  # u1, u2 on one day each; u3 on two
    with pytest.raises(PackError, match=r"no row has 'west' in the unit column 'region'"):
        open_pack(shared, unit=("region", ("east", "west")))
