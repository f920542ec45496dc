"""The Online Retail importer on a tiny hand-made CSV: every bucket of the waterfall, exact tables."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from opsnb.errors import PackError
from opsnb.importers.online_retail import ImportReport, import_pack
from opsnb.pack import open_pack
from opsnb.params import load_params

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
LINES = [
    "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # product 15.30
    "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",  # product 20.34
    "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",  # exact duplicate
    "536365,POST,POSTAGE,1,2010-12-01 08:27:00,18.00,17850.0,United Kingdom",  # non-product; later time
    "536366,22633,HAND WARMER,10,2010-12-02 09:00:00,1.85,13047.0,France",  # product 18.50
    "536366,22632,FREEBIE,1,2010-12-02 09:00:00,0,13047.0,France",  # zero price
    "C536367,85123A,HEART,-2,2010-12-03 10:00:00,2.55,17850.0,United Kingdom",  # cancellation -5.10
    "536368,22000,THING,3,2010-12-03 11:00:00,4.00,,United Kingdom",  # no customer: 12.00
    "536369,22001,BAG,2,2011-01-05 12:00:00,5.00,13047.0,United Kingdom",  # product 10.00
    "C536371,22003,MUG,-1,2011-01-07 10:00:00,3.00,12345.0,Germany",  # only-cancellation customer
    "536372,M,Manual,1,2011-01-08 10:00:00,50.0,12345.0,Germany",  # invoice of a non-product only
    "A536373,B,Adjust bad debt,1,2011-01-09 10:00:00,-100.00,,United Kingdom",  # no customer, negative
    "536374,22004,ODD,1,2011-01-10 10:00:00,-1.00,17850.0,United Kingdom",  # negative price
    "536375,22005,BAD,abc,2011-01-11 10:00:00,1.0,17850.0,United Kingdom",  # unreadable quantity
    "536376,gift_0001_10,Voucher,1,2011-01-12 10:00:00,10.0,17850.0,United Kingdom",  # voucher (prefix)
]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "retail.csv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        f.write("\n".join([HEADER, *LINES]) + "\n")
    return p


@pytest.fixture
def settings():
    return load_params(unit="online_retail", overrides=["lang=en"])


@pytest.fixture
def imported(src: Path, tmp_path: Path, settings) -> tuple[ImportReport, Path]:
    out = tmp_path / "pack"
    return import_pack(src, out, settings=settings), out


def test_report_waterfall_counts(imported):
    r, _ = imported
    assert (r.rows_read, r.unreadable_rows, r.duplicate_rows, r.no_customer_rows, r.non_product_rows,
            r.zero_price_rows, r.negative_price_rows, r.product_rows) == (15, 1, 1, 2, 3, 1, 1, 6)
    assert r.cancellation_rows == 2
    assert (r.no_customer_invoices, r.no_customer_gmv) == (2, 12.0)
    assert (r.invoices_with_customer, r.invoices_without_product, r.invoices_bad_sign, r.invoices_multi_time) == (
        8, 3, 0, 1)
    assert (r.orders_paid, r.gmv, r.orders_refunded, r.refunded_amount) == (3, 64.14, 2, -8.10)
    assert (r.customers_with_id, r.users, r.customers_without_purchase, r.customers_multi_country) == (3, 2, 1, 1)
    assert (r.events, r.kpi_rows) == (6, 6)  # no new-customer target on the first month's base
    assert (r.first_day, r.last_day) == ("2010-12-01", "2011-01-07")
    assert (r.zero_price_rows_all, r.negative_price_rows_all) == (1, 2)


def test_report_lists_non_product_codes(imported):
    r, _ = imported
    codes = {c["code"]: (c["lines"], c["amount"], c["lines_with_customer"], c["amount_with_customer"])
             for c in r.non_product_codes}
    assert codes == {"POST": (1, 18.0, 1, 18.0), "M": (1, 50.0, 1, 50.0), "B": (1, -100.0, 0, 0.0),
                     "GIFT_0001_10": (1, 10.0, 1, 10.0)}


def test_orders_users_events_exact(imported):
    _, out = imported
    pack = open_pack(out, tz="Europe/London", use_cache=False)
    assert pack.names == ["events", "kpis", "orders", "users"]
    o = pack.table("orders").order_by("order_id").execute()
    assert list(o["order_id"]) == ["536365", "536366", "536369", "C536367", "C536371"]
    assert list(o["user_id"]) == ["17850", "13047", "13047", "17850", "12345"]
    assert list(o["amount"]) == [35.64, 18.5, 10.0, -5.1, -3.0]
    assert list(o["status"]) == ["paid", "paid", "paid", "refunded", "refunded"]
    assert list(o["ts"]) == [pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-02 09:00"),
                             pd.Timestamp("2011-01-05 12:00"), pd.Timestamp("2010-12-03 10:00"),
                             pd.Timestamp("2011-01-07 10:00")]
    assert o["channel"].isna().all()
    u = pack.table("users").order_by("user_id").execute()
    assert list(u["user_id"]) == ["13047", "17850"]
    assert list(u["signup_at"]) == [pd.Timestamp("2010-12-02 09:00"), pd.Timestamp("2010-12-01 08:26")]
    # 13047: one paid order in France, one in the UK → tie broken alphabetically
    assert list(u["region"]) == ["France", "United Kingdom"]
    e = pack.table("events").order_by(["ts", "event"]).execute()
    assert len(e) == 6
    assert list(e["event"][:2]) == ["purchase", "visit"]
    assert set(e["platform"]) == {"Web"}
    assert sorted(e.loc[e["event"] == "visit", "user_id"]) == ["13047", "13047", "17850"]


def test_kpis_targets_follow_the_rule(imported):
    _, out = imported
    k = pd.read_csv(out / "kpis.csv", dtype={"period": str})
    # Only 2010-12 is a complete month: 2011-01's targets are 2010-12 × 1.1 (no 2010-01 in the data).
    got = dict(zip(k["metric"], k["target"], strict=True))
    assert set(k["period"]) == {"2011-01"}
    # no new-customer target: the only base is the data's first month, where every customer is new
    # average DAU over December 2010's 20 open days (no Saturdays, closed from 24 December): 2 user-days / 20 × 1.1
    assert got == {"gmv": 59.55, "orders": 2.0, "aov": 29.78, "mau": 2.0, "active_users": 0.11,
                   "repurchase_rate": 0.0}
    assert got["aov"] == 29.78  # = GMV target ÷ orders target = 59.55 / 2 = 29.775, half up: coherent


def test_timestamps_are_instants(imported):
    """The file's UK local times become the business timezone's local times when opened elsewhere."""
    _, out = imported
    pack = open_pack(out, tz="Asia/Shanghai", use_cache=False)
    o = pack.table("orders").order_by("order_id").execute()
    assert o["ts"].iloc[0] == pd.Timestamp("2010-12-01 16:26")


def test_report_json_and_text(imported):
    r, out = imported
    data = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    assert data["rows_read"] == 15 and data["gmv"] == 64.14
    text = str(r)
    assert "Exact duplicate lines (removed)" in text and "£64.14" in text and "GIFT_0001_10" in text
    zh = r.render("zh")
    assert "完全重复的行（去重）" in zh and "-£8.10" in zh


def test_rerun_replaces_the_pack(src: Path, tmp_path: Path, settings):
    out = tmp_path / "pack"
    import_pack(src, out, settings=settings)
    r = import_pack(src, out, settings=settings)
    assert r.orders_paid == 3
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "import_report.json", "kpis.csv",
                                                      "orders.parquet", "users.parquet"]


def test_missing_column_names_it(tmp_path: Path, settings):
    p = tmp_path / "bad.csv"
    p.write_text("InvoiceNo,StockCode,Quantity\n1,2,3\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"columns \['Description', 'InvoiceDate'"):
        import_pack(p, tmp_path / "out", settings=settings)


def test_missing_file(tmp_path: Path, settings):
    with pytest.raises(PackError, match="file not found"):
        import_pack(tmp_path / "nope.csv.gz", tmp_path / "out", settings=settings)


def test_cli_import(src: Path, tmp_path: Path, capsys):
    from opsnb.cli import main

    assert main(["import", "online-retail", str(src), "--out", str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out
    assert "Rows read" in printed and "£64.14" in printed  # the unit's language (en) and currency
    assert (tmp_path / "cli" / "orders.parquet").is_file()
