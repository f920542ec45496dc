"""The real Online Retail file imported end to end; numbers checked against plain DuckDB on the raw CSV.

The expected numbers are derived here, independently of the importer, from the raw file: exact
duplicate lines removed (``SELECT DISTINCT``), revenue lines = a CustomerID, an InvoiceNo not
starting with ``C``, a merchandise StockCode, a unit price above zero.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import SHARED_DATA

RAW = SHARED_DATA / "online_retail.csv.gz"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(not RAW.is_file(), reason=f"real data not present: {RAW} (see ../shared/data/README.md)"),
]

# The non-merchandise codes, written out here rather than imported, so the test states the rule itself.
NON_PRODUCT = ("POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS")


@pytest.fixture(scope="module")
def raw() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    codes = ", ".join(f"'{c}'" for c in NON_PRODUCT)
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{RAW}')")
    con.execute(f"""
        CREATE TABLE sales AS
        SELECT InvoiceNo, CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customer, InvoiceDate AS ts,
               Quantity * UnitPrice AS value, Country
        FROM (SELECT DISTINCT * FROM raw)
        WHERE CustomerID IS NOT NULL AND NOT starts_with(InvoiceNo, 'C') AND UnitPrice > 0
          AND upper(StockCode) NOT IN ({codes}) AND NOT starts_with(upper(StockCode), 'GIFT_')""")
    return con


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from opsnb.importers.online_retail import import_pack
    from opsnb.params import load_params

    out = tmp_path_factory.mktemp("online_retail")
    report = import_pack(RAW, out, settings=load_params(unit="online_retail"))
    print(f"\n{report.render('en')}")
    return report, out


@pytest.fixture(scope="module")
def pack(imported: tuple[Any, Path]) -> Any:
    from opsnb.pack import open_pack

    return open_pack(imported[1], tz="Europe/London")


@pytest.fixture(scope="module")
def settings() -> Any:
    from opsnb.params import load_params

    return load_params(unit="online_retail")


def _value(pack: Any, key: str, label: str) -> float:
    from opsnb.metrics.kpis import kpi_value
    from opsnb.periods import Period

    v = kpi_value(pack, key, Period.parse(label))
    assert v.value is not None, v.reason
    return float(v.value)


def test_import_is_fast_and_adds_up(imported):
    report, _ = imported
    report.check()
    assert report.rows_read == 541_909
    assert report.duplicate_rows == 5_268
    assert report.seconds < 15


def test_customers(raw, imported, pack):
    report, _ = imported
    ids = raw.execute("SELECT count(DISTINCT CustomerID) FROM raw").fetchone()[0]
    buyers = raw.execute("SELECT count(DISTINCT customer) FROM sales").fetchone()[0]
    assert report.customers_with_id == ids == 4372
    assert report.users == buyers
    assert pack.table("users").count().execute() == buyers


def test_invoices(raw, imported, pack):
    report, _ = imported
    assert report.invoices_with_customer == raw.execute(
        "SELECT count(DISTINCT InvoiceNo) FROM raw WHERE CustomerID IS NOT NULL").fetchone()[0]
    paid = raw.execute("SELECT count(DISTINCT InvoiceNo) FROM sales").fetchone()[0]
    assert report.orders_paid == paid
    o = pack.table("orders")
    assert o.filter(o.status == "paid").count().execute() == paid


def test_december_2010_cohort(raw, pack):
    cohort = raw.execute("""
        SELECT count(*) FROM (SELECT customer, min(ts) AS first FROM sales GROUP BY customer)
        WHERE first < TIMESTAMP '2011-01-01'""").fetchone()[0]
    assert _value(pack, "new_users", "2010-12") == cohort
    from opsnb.metrics.retention import retention
    from opsnb.periods import Period

    r = retention(pack, Period.parse("2011-11"), interval="month", cohorts=12)
    first = r[r["cohort_label"] == "2010-12"]
    assert len(first) and int(first["cohort_size"].iloc[0]) == cohort


def test_november_2011_gmv_and_peak(raw, pack):
    months = dict(raw.execute("SELECT strftime(ts, '%Y-%m'), sum(value) FROM sales GROUP BY 1").fetchall())
    assert _value(pack, "gmv", "2011-11") == pytest.approx(months["2011-11"], abs=0.005)
    assert max(months, key=months.__getitem__) == "2011-11"
    from opsnb.metrics.kpis import trend
    from opsnb.periods import Period

    t = trend(pack, "gmv", Period.parse("2011-12"), months=13)
    assert t.loc[t["actual"].astype(float).idxmax(), "month"] == "2011-11"


def test_uk_dominates(raw, pack):
    share = raw.execute("SELECT sum(value) FILTER (WHERE Country = 'United Kingdom') / sum(value) FROM sales"
                        ).fetchone()[0]
    nov = raw.execute("""SELECT sum(value) FILTER (WHERE Country = 'United Kingdom') / sum(value) FROM sales
                         WHERE strftime(ts, '%Y-%m') = '2011-11'""").fetchone()[0]
    assert share > 0.8
    from opsnb.metrics.regions import regions
    from opsnb.periods import Period

    res = regions(pack, Period.parse("2011-11"))
    assert res.top_region == "United Kingdom"
    # users.region is a customer's main country; invoices carry their own: close, not identical
    assert res.top_share == pytest.approx(nov, abs=0.005)


def test_targets_follow_the_rule(pack, settings):
    from opsnb.metrics.kpis import target_table

    t = target_table(pack)
    got = t.set_index(["metric", "period"])["target"]
    g = 1 + settings.plan.annual_growth
    # 2011-12 has a last year (2010-12); 2011-11 has not and uses 2011-10
    assert got["gmv", "2011-12"] == round(_value(pack, "gmv", "2010-12") * g, 2)
    assert got["gmv", "2011-11"] == round(_value(pack, "gmv", "2011-10") * g, 2)
    assert got["orders", "2011-11"] == round(_value(pack, "orders", "2011-10") * g)
    assert ("gmv", "2010-12") not in got.index
    # coherent targets: AOV = GMV target ÷ orders target; no new-customer target on the first month (all new)
    assert got["aov", "2011-11"] == pytest.approx(got["gmv", "2011-11"] / got["orders", "2011-11"], abs=0.005)
    assert ("new_users", "2011-01") not in got.index
    assert got["new_users", "2011-12"] == round(_value(pack, "new_users", "2011-11") * g)  # not 2010-12 × g


def _metric_jobs(pack: Any, settings: Any) -> dict[str, Callable[[], Any]]:
    from opsnb.metrics import anomalies, kpis, lifecycle, regions, retention, rfm, targets
    from opsnb.periods import Period

    p = Period.parse("2011-11")
    jobs: dict[str, Callable[[], Any]] = {
        "kpis.attainment": lambda: kpis.attainment(pack, p, settings),
        "kpis.ytd": lambda: kpis.ytd(pack, p, settings),
        "kpis.by_quarter": lambda: kpis.by_quarter(pack, p, settings),
        "retention.retention": lambda: retention.retention(pack, p),
        "retention.day_n_retention": lambda: retention.day_n_retention(pack, p),
        "rfm.rfm_segments": lambda: rfm.rfm_segments(pack, p, settings.insights.rfm_segments),
        "regions.regions": lambda: regions.regions(pack, p),
        "lifecycle.lifecycle": lambda: lifecycle.lifecycle(pack, p),
        "targets.annual_plan": lambda: targets.annual_plan(pack, p, settings),
    }
    for key in ("dau", "new_users", "gmv", "churn"):
        jobs[f"anomalies.{key}"] = lambda key=key: anomalies.robust_anomalies(
            anomalies.series_for(pack, key, p, settings.problems), 4 if key == "churn" else 7)
    return jobs


def test_metrics_run_on_the_pack(pack, settings):
    failed = {}
    for name, fn in _metric_jobs(pack, settings).items():
        try:
            fn()
        except Exception:  # collect every failure, then fail once listing them all
            failed[name] = traceback.format_exc(limit=2)
    assert not failed, "\n".join(f"{k}:\n{v}" for k, v in failed.items())


def test_attainment_has_every_kpi(pack, settings):
    from opsnb.metrics.kpis import attainment
    from opsnb.periods import Period

    a = attainment(pack, Period.parse("2011-11"), settings)
    assert list(a["key"]) == [k.key for k in settings.goals.kpis]
    assert a["target"].notna().all() and a["actual"].notna().all()
