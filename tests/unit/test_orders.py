"""Order status: one definition of paid and refunded orders, the same in every analysis and in the checks."""

from __future__ import annotations

import duckdb
import pandas as pd

from opsnb.metrics.campaigns import campaign_results
from opsnb.metrics.kpis import kpi_value
from opsnb.metrics.orders import paid, paid_orders, refunded
from opsnb.metrics.rfm import rfm_scores
from opsnb.metrics.targets import monthly_actuals
from opsnb.pack import from_frames, open_pack, validate_pack
from opsnb.periods import Period

OCT = Period.parse("2026-10")
#: status → amount: powers of two, so every sum says exactly which rows it took
ROWS = [("paid", 1.0), (" Paid ", 2.0), ("PAID", 4.0), (None, 8.0), ("", 16.0),
        ("refunded", -32.0), ("Refunded ", -64.0), ("cancelled", 128.0), ("pending", 256.0)]
PAID = 1 + 2 + 4 + 8 + 16
#: the first and last order span the whole month, so October's KPIs are not partial
TS = ["2026-10-01 00:10"] + ["2026-10-05 10:00"] * (len(ROWS) - 2) + ["2026-10-31 23:50"]


def _orders(statuses: bool = True) -> pd.DataFrame:
    df = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(ROWS))],
        "user_id": [f"u{i}" for i in range(len(ROWS))],
        "ts": pd.to_datetime(TS),
        "amount": [a if statuses else abs(a) for _, a in ROWS],
        "campaign_id": "c1",
    })
    if statuses:
        df["status"] = pd.Series([s for s, _ in ROWS], dtype=object)
    return df


def _duckdb_pack(tmp_path):
    """A ``.duckdb`` pack: read as it is, so statuses keep their spaces and case."""
    path = tmp_path / "pack.duckdb"
    orders = _orders()  # noqa: F841 (read by DuckDB's replacement scan)
    campaigns = pd.DataFrame({"campaign_id": ["c1"], "name": ["双11"], "type": ["promo"],  # noqa: F841
                              "start": [pd.Timestamp("2026-10-01")], "end": [pd.Timestamp("2026-10-31")],
                              "cost": [10.0]})
    with duckdb.connect(str(path)) as c:
        c.execute("CREATE TABLE orders AS SELECT * FROM orders")
        c.execute("CREATE TABLE campaigns AS SELECT * FROM campaigns")
        c.execute("CREATE TABLE kpis AS SELECT 'gmv' AS metric, '2026-10' AS period, 100.0 AS target")
    pack = open_pack(path)
    assert pack.table("orders").status.execute().tolist()[1] == " Paid "  # nothing trimmed on the way
    return pack


def test_paid_and_refunded_compare_trimmed_and_lower_cased(tmp_path):
    pack = _duckdb_pack(tmp_path)
    o = pack.table("orders")
    assert float(paid(o).amount.sum().execute()) == PAID
    assert float(refunded(o).amount.sum().execute()) == -32 - 64
    assert float(paid_orders(pack).amount.sum().execute()) == PAID
    assert sorted(paid_orders(pack, keyed=True).user_id.execute()) == ["u0", "u1", "u2", "u3", "u4"]


def test_without_a_status_column_every_order_is_paid_and_none_refunded():
    pack = from_frames({"orders": _orders(statuses=False), "kpis": pd.DataFrame(
        {"metric": ["gmv"], "period": ["2026-10"], "target": [1.0]})})
    o = pack.table("orders")
    assert float(paid(o).amount.sum().execute()) == sum(abs(a) for _, a in ROWS)
    assert int(refunded(o).count().execute()) == 0


def test_every_analysis_counts_the_same_paid_orders(tmp_path):
    """GMV as a KPI, as the targets' monthly actual, as campaign revenue and as RFM monetary value agree."""
    pack = _duckdb_pack(tmp_path)
    assert kpi_value(pack, "gmv", OCT).value == PAID
    assert monthly_actuals(pack, "gmv", OCT.start, OCT.end).tolist() == [PAID]
    assert monthly_actuals(pack, "orders", OCT.start, OCT.end).tolist() == [5.0]
    assert monthly_actuals(pack, "refunds", OCT.start, OCT.end).tolist() == [-96.0]
    res = campaign_results(pack, OCT)
    assert res["gmv"].tolist() == [PAID] and res["orders"].tolist() == [5]
    assert float(rfm_scores(pack, OCT).monetary.sum().execute()) == PAID


def test_checks_read_statuses_like_the_analyses(tmp_path):
    """``PAID`` and `` Refunded `` are known statuses; only a status no analysis counts is warned about."""
    (tmp_path / "kpis.csv").write_text("metric,period,target\ngmv,2026-10,1\n")
    (tmp_path / "orders.csv").write_text("order_id,user_id,ts,amount,status\n"
                                         "A1,u1,2026-10-01,5,PAID\n"
                                         "A2,u1,2026-10-01,-5, Refunded \n"
                                         "A3,u1,2026-10-01,5,pending\n")
    problems = validate_pack(tmp_path)
    assert [(p.code, p.line, p.level) for p in problems] == [("unknown_status", 4, "warning")]
