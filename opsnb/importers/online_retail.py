"""Import the UCI "Online Retail" invoice lines as an opsnb pack.

>>> from pathlib import Path
>>> report = import_pack(Path("../shared/data/online_retail.csv.gz"), Path("data/online_retail"))
>>> print(report)                       # the import report, a readable table (zh or en)

Input: one row per invoice line, header ``InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country`` (CSV, optionally gzip-compressed; the file is read
by DuckDB directly). ``InvoiceDate`` is local UK time (``YYYY-MM-DD HH:MM:SS``; the UCI original
``MM/DD/YYYY HH:MM`` is accepted too).

Every row lands in exactly one bucket of a waterfall, counted in :class:`ImportReport`:

1. ``unreadable``: a quantity, price or date that does not parse, or no invoice number;
2. ``duplicate``: an exact copy (all eight columns) of an earlier line — one copy is kept;
3. ``no_customer``: no CustomerID. Orders need a user, so these lines are not in the pack; the
   report gives the merchandise value they carry (``no_customer_gmv``);
4. ``non_product``: a StockCode in :data:`NON_PRODUCT_CODES` (postage, fees, manual adjustments,
   discounts, samples, bank charges, commissions, gift vouchers …); listed code by code with
   their amounts. They are not merchandise, so they are left out of order amounts (GMV);
5. ``zero_price`` / ``negative_price``: product lines with a unit price ≤ 0 (they carry no value);
6. ``product``: the lines that make the orders.

Pack produced (the contract of :mod:`opsnb.pack.schemas`):

* ``orders.parquet`` — one row per invoice with a customer and at least one product line:
  ``order_id`` = InvoiceNo, ``user_id`` = CustomerID as clean text (``"17850"``), ``ts`` = the
  invoice's first line time, ``amount`` = Σ quantity × unit price over its product lines (rounded
  to cents), ``status`` ``paid``; a cancellation (InvoiceNo ``C…``) is ``refunded`` with its
  negative amount; ``channel`` null (the data have none).
* ``users.parquet`` — every customer with a paid order: ``signup_at`` = first paid order time,
  ``region`` = the country of most of their paid orders (ties: alphabetical), ``channel`` null.
  Customers with only cancellations stay in orders (as refunds) but are not users; counted.
* ``events.parquet`` — the data have no web logs, so activity is purchase activity: per paid order
  a ``visit`` and a ``purchase`` at the order time, platform ``Web``. Active users are therefore
  purchasing customers (DAU = customers who bought that day) and conversion is 100 % by
  construction — the unit's KPI registry leaves conversion out.
* ``kpis.csv`` — the data carry no targets, so targets follow a rule: the same month last year
  × (1 + ``plan.annual_growth``); where last year's month is not in the data, the previous month
  × (1 + growth); the first month has none. For every KPI of the registry with a built-in
  definition among :data:`TARGET_DEFINITIONS` (ratio KPIs grow by the same relative rate), with
  two coherence rules: the AOV target is the GMV target ÷ the orders target (so it does not grow
  on its own), and the data's first month — where every customer is new — is never the base of a
  new-customer target (the previous month is used, else there is none).

Timestamps are written as instants (Parquet ``TIMESTAMP`` adjusted to UTC, converted from
``source_tz``), so :func:`opsnb.pack.open_pack` gives local time in whatever business timezone the
unit uses (``Europe/London`` in ``params/online_retail.yaml`` gives back the file's own times).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from opsnb.errors import OpsnbError, PackError, Problem
from opsnb.params import Settings

__all__ = ["NON_PRODUCT_CODES", "TARGET_DEFINITIONS", "ImportReport", "import_pack"]

#: StockCodes that are not merchandise (upper-cased comparison). ``GIFT_*`` vouchers match by prefix.
NON_PRODUCT_CODES: tuple[str, ...] = ("POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE",
                                      "CRUK", "PADS")
NON_PRODUCT_PREFIXES: tuple[str, ...] = ("GIFT_",)
#: Built-in KPI definitions for which the importer writes rule-based targets.
TARGET_DEFINITIONS: tuple[str, ...] = ("gmv", "orders", "aov", "new_users", "active_users", "mau", "paying_users",
                                       "repurchase_rate")
COLUMNS: tuple[str, ...] = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                            "CustomerID", "Country")
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M")
PLATFORM = "Web"
#: Decimals kept in targets: whole numbers for counts of things, cents for money, 4 for ratios, else 2
#: (average DAU is a count KPI but not a whole number).
_WHOLE = ("orders", "new_users", "mau", "paying_users")
_TARGET_DIGITS = {"currency": 2, "ratio": 4}


# ---------------------------------------------------------------- the report


@dataclass
class ImportReport:
    """What an import read, dropped, changed and produced. ``str(report)`` is a readable table.

    The waterfall holds exactly: ``rows_read = unreadable_rows + duplicate_rows + no_customer_rows +
    non_product_rows + zero_price_rows + negative_price_rows + product_rows`` (buckets 3–6 count
    distinct lines; see the module docstring for the order of the buckets).
    """

    source: str
    out: str
    seconds: float = 0.0
    lang: str = "zh"
    currency: str = "£"
    rows_read: int = 0
    unreadable_rows: int = 0
    duplicate_rows: int = 0
    no_customer_rows: int = 0
    no_customer_invoices: int = 0
    no_customer_gmv: float = 0.0
    non_product_rows: int = 0
    zero_price_rows: int = 0
    negative_price_rows: int = 0
    product_rows: int = 0
    cancellation_rows: int = 0
    invoices_with_customer: int = 0
    invoices_without_product: int = 0
    invoices_bad_sign: int = 0
    invoices_multi_time: int = 0
    orders_paid: int = 0
    orders_refunded: int = 0
    gmv: float = 0.0
    refunded_amount: float = 0.0
    customers_with_id: int = 0
    users: int = 0
    customers_without_purchase: int = 0
    customers_multi_country: int = 0
    events: int = 0
    kpi_rows: int = 0
    first_day: str = ""
    last_day: str = ""
    growth: float = 0.1
    #: Per code (all lines, with or without a customer): code, description, lines, amount,
    #: lines_with_customer, amount_with_customer.
    non_product_codes: list[dict[str, Any]] = field(default_factory=list)
    #: Zero/negative unit prices over all lines (with or without a customer).
    zero_price_rows_all: int = 0
    negative_price_rows_all: int = 0

    @property
    def invoices(self) -> int:
        """Orders written (paid + refunded)."""
        return self.orders_paid + self.orders_refunded

    def check(self) -> None:
        """Raise :class:`OpsnbError` when the waterfall does not add up (an importer bug, never data)."""
        parts = (self.unreadable_rows + self.duplicate_rows + self.no_customer_rows + self.non_product_rows
                 + self.zero_price_rows + self.negative_price_rows + self.product_rows)
        if parts != self.rows_read:
            raise OpsnbError(f"import waterfall does not add up: {parts} rows accounted for, {self.rows_read} read")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what ``import_report.json`` holds)."""
        return asdict(self)

    def render(self, lang: str | None = None) -> str:
        """The report as an aligned text table in ``lang`` (default: the report's own language)."""
        from opsnb.render.i18n import t

        lang = lang or self.lang
        cur = self.currency

        def n(x: int) -> str:
            return f"{x:,}"

        def m(x: float) -> str:
            return f"-{cur}{-x:,.2f}" if x < 0 else f"{cur}{x:,.2f}"

        rows: list[tuple[str, str]] = [
            ("rows_read", n(self.rows_read)),
            ("unreadable_rows", n(self.unreadable_rows)),
            ("duplicate_rows", n(self.duplicate_rows)),
            ("no_customer_rows", t("importer.rows_gmv", lang, rows=n(self.no_customer_rows),
                                   invoices=n(self.no_customer_invoices), gmv=m(self.no_customer_gmv))),
            ("non_product_rows", n(self.non_product_rows)),
            ("zero_price_rows", n(self.zero_price_rows)),
            ("negative_price_rows", n(self.negative_price_rows)),
            ("product_rows", t("importer.of_which_cancel", lang, rows=n(self.product_rows),
                               cancel=n(self.cancellation_rows))),
            ("invoices_with_customer", n(self.invoices_with_customer)),
            ("invoices_without_product", n(self.invoices_without_product)),
            ("invoices_bad_sign", n(self.invoices_bad_sign)),
            ("invoices_multi_time", n(self.invoices_multi_time)),
            ("orders_paid", t("importer.count_amount", lang, n=n(self.orders_paid), amount=m(self.gmv))),
            ("orders_refunded", t("importer.count_amount", lang, n=n(self.orders_refunded),
                                  amount=m(self.refunded_amount))),
            ("customers_with_id", n(self.customers_with_id)),
            ("users", n(self.users)),
            ("customers_without_purchase", n(self.customers_without_purchase)),
            ("customers_multi_country", n(self.customers_multi_country)),
            ("events", n(self.events)),
            ("kpi_rows", t("importer.targets_rule", lang, n=n(self.kpi_rows), growth=f"{self.growth:.0%}")),
            ("days", f"{self.first_day} – {self.last_day}"),
            ("seconds", f"{self.seconds:.1f} s"),
        ]
        labels = [t(f"importer.row.{k}", lang) for k, _ in rows]
        width = max(_width(s) for s in labels)
        out = [t("importer.title", lang, source=self.source, out=self.out), ""]
        out += [f"  {lab}{' ' * (width - _width(lab))}  {val}" for lab, (_, val) in zip(labels, rows, strict=True)]
        if self.non_product_codes:
            out += ["", t("importer.codes.title", lang)]
            head = [t(f"importer.codes.{c}", lang) for c in ("code", "lines", "amount", "lines_id", "amount_id")]
            body = [[str(c["code"]), n(c["lines"]), m(c["amount"]), n(c["lines_with_customer"]),
                     m(c["amount_with_customer"])] for c in self.non_product_codes]
            widths = [max(_width(r[i]) for r in [head, *body]) for i in range(len(head))]
            for r in [head, *body]:
                cells = [r[0] + " " * (widths[0] - _width(r[0]))]
                cells += [" " * (widths[i] - _width(r[i])) + r[i] for i in range(1, len(r))]
                out.append("  " + "  ".join(cells))
        out += ["", t("importer.note.targets", lang), t("importer.note.events", lang)]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in s)


# ---------------------------------------------------------------- SQL helpers


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return None if row is None else row[0]


def _non_product_sql(col: str) -> str:
    codes = ", ".join(_lit(c) for c in NON_PRODUCT_CODES)
    prefixes = " OR ".join(f"starts_with(upper(trim({col})), {_lit(p)})" for p in NON_PRODUCT_PREFIXES)
    return f"(upper(trim({col})) IN ({codes}){' OR ' + prefixes if prefixes else ''})"


def _source(con: duckdb.DuckDBPyConnection, src: Path) -> str:
    """The ``read_csv`` call over ``src`` (every column as text), after checking the header."""
    if not src.is_file():
        raise PackError([Problem(str(src), "file not found", expected="the Online Retail CSV (optionally .gz)")])
    call = f"read_csv({_lit(str(src))}, header = true, all_varchar = true)"
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {call}").fetchall()]
    except duckdb.Error as exc:
        raise PackError([Problem(str(src), f"cannot read the file as CSV: {exc}")]) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise PackError([Problem(str(src), f"columns {missing} not in the file. Columns in the file: {header}",
                                 expected=", ".join(COLUMNS))])
    return call


_FORMATS = "[" + ", ".join(_lit(f) for f in DATE_FORMATS) + "]"

# Distinct lines (n = copies) with parsed values and their bucket; ``src`` is the read_csv call.
_LINES = f"""
CREATE TEMP TABLE lines AS
WITH d AS (
    SELECT InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country,
           count(*) AS n
    FROM {{src}} GROUP BY ALL
), p AS (
    SELECT n, trim(InvoiceNo) AS inv, trim(StockCode) AS code, Description AS descr,
           TRY_CAST(trim(Quantity) AS BIGINT) AS qty,
           TRY_CAST(trim(UnitPrice) AS DOUBLE) AS price,
           try_strptime(trim(InvoiceDate), {_FORMATS}) AS ts,
           nullif(regexp_replace(trim(CustomerID), '\\.0*$', ''), '') AS cid,
           trim(Country) AS country
    FROM d
)
SELECT *,
       starts_with(upper(inv), 'C') AS is_cancel,
       CASE WHEN inv IS NULL OR inv = '' OR qty IS NULL OR price IS NULL OR ts IS NULL THEN 'unreadable'
            WHEN cid IS NULL THEN 'no_customer'
            WHEN {_non_product_sql('code')} THEN 'non_product'
            WHEN price = 0 THEN 'zero_price'
            WHEN price < 0 THEN 'negative_price'
            ELSE 'product' END AS bucket
FROM p
"""

_INVOICES = """
CREATE TEMP TABLE invoices AS
SELECT inv AS order_id, min(cid) AS user_id, count(DISTINCT cid) AS n_customers, min(ts) AS ts,
       count(DISTINCT ts) AS n_times, bool_or(is_cancel) AS is_cancel,
       round(coalesce(sum(qty * price) FILTER (WHERE bucket = 'product'), 0), 2) AS amount,
       count(*) FILTER (WHERE bucket = 'product') AS n_product,
       min(country) AS country
FROM lines WHERE bucket NOT IN ('unreadable', 'no_customer')
GROUP BY inv
"""


def _keep_condition() -> str:
    return "n_product > 0 AND ((is_cancel AND amount < 0) OR (NOT is_cancel AND amount > 0))"


# ---------------------------------------------------------------- public API


def import_pack(src: Path, out: Path, *, settings: Settings | None = None,
                source_tz: str = "Europe/London") -> ImportReport:
    """Import Online Retail invoice lines from ``src`` into the pack folder ``out``.

    Parameters
    ----------
    src : Path
        The CSV file (``.csv`` or ``.csv.gz``), read directly by DuckDB.
    out : Path
        The pack folder to write (created; ``orders``/``users``/``events`` Parquet files,
        ``kpis.csv`` and ``import_report.json`` are replaced atomically).
    settings : Settings, optional
        The unit's settings (default: ``load_params(unit="online_retail")``): ``timezone`` sets the
        month boundaries of the target rule, ``plan.annual_growth`` its growth, ``goals.kpis`` the
        KPIs that get targets, ``lang`` and ``currency`` the report text.
    source_tz : str
        Timezone of the file's naive ``InvoiceDate`` (the UK retailer's local time).

    Returns
    -------
    ImportReport
        Every count of the import; also written to ``out/import_report.json``.

    Raises
    ------
    PackError
        The file is missing, not CSV, or lacks a required column.
    """
    if settings is None:
        from opsnb.params import load_params

        settings = load_params(unit="online_retail")
    started = time.perf_counter()
    src, out = Path(src), Path(out)
    report = ImportReport(source=str(src), out=str(out), lang=settings.lang, currency=settings.currency,
                          growth=settings.plan.annual_growth)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET TimeZone = {_lit('UTC')}")
        con.execute(_LINES.format(src=_source(con, src)))
        _count_lines(con, report)
        con.execute(_INVOICES)
        _build_tables(con, source_tz)
        _count_outputs(con, report, settings.timezone)
        kpis = _targets(con, settings)
        report.kpi_rows = len(kpis)
        report.seconds = time.perf_counter() - started
        report.check()
        _write(con, out, kpis, report)
    finally:
        con.close()
    report.seconds = time.perf_counter() - started
    _atomic_text(out / "import_report.json", json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    return report


def _count_lines(con: duckdb.DuckDBPyConnection, r: ImportReport) -> None:
    r.rows_read = int(_one(con, "SELECT coalesce(sum(n), 0) FROM lines"))
    r.duplicate_rows = int(_one(con, "SELECT coalesce(sum(n - 1), 0) FROM lines WHERE bucket <> 'unreadable'"))
    counts = dict(con.execute("SELECT bucket, sum(CASE WHEN bucket = 'unreadable' THEN n ELSE 1 END) "
                              "FROM lines GROUP BY bucket").fetchall())
    r.unreadable_rows = int(counts.get("unreadable", 0))
    r.no_customer_rows = int(counts.get("no_customer", 0))
    r.non_product_rows = int(counts.get("non_product", 0))
    r.zero_price_rows = int(counts.get("zero_price", 0))
    r.negative_price_rows = int(counts.get("negative_price", 0))
    r.product_rows = int(counts.get("product", 0))
    inv, gmv = con.execute(f"""
        SELECT count(DISTINCT inv),
               round(coalesce(sum(qty * price) FILTER (WHERE NOT is_cancel AND price > 0
                                                      AND NOT {_non_product_sql('code')}), 0), 2)
        FROM lines WHERE bucket = 'no_customer'""").fetchone()  # type: ignore[misc]
    r.no_customer_invoices, r.no_customer_gmv = int(inv), float(gmv)
    r.cancellation_rows = int(_one(con, "SELECT count(*) FROM lines WHERE bucket = 'product' AND is_cancel"))
    z, neg = con.execute("SELECT count(*) FILTER (WHERE price = 0), count(*) FILTER (WHERE price < 0) "
                         "FROM lines WHERE bucket <> 'unreadable'").fetchone()  # type: ignore[misc]
    r.zero_price_rows_all, r.negative_price_rows_all = int(z), int(neg)
    rows = con.execute(f"""
        SELECT upper(code) AS code, any_value(descr ORDER BY descr NULLS LAST) AS description, count(*) AS lines,
               round(sum(qty * price), 2) AS amount,
               count(*) FILTER (WHERE cid IS NOT NULL) AS lines_with_customer,
               round(coalesce(sum(qty * price) FILTER (WHERE cid IS NOT NULL), 0), 2) AS amount_with_customer
        FROM lines WHERE bucket <> 'unreadable' AND {_non_product_sql('code')}
        GROUP BY 1 ORDER BY lines DESC, code""").fetchall()
    keys = ("code", "description", "lines", "amount", "lines_with_customer", "amount_with_customer")
    r.non_product_codes = [dict(zip(keys, row, strict=True)) for row in rows]
    for c in r.non_product_codes:
        c["amount"] = float(c["amount"])
        c["amount_with_customer"] = float(c["amount_with_customer"])


def _build_tables(con: duckdb.DuckDBPyConnection, source_tz: str) -> None:
    tz = _lit(source_tz)
    con.execute(f"""
        CREATE TEMP TABLE orders_out AS
        SELECT order_id, user_id, timezone({tz}, ts) AS ts, amount,
               CASE WHEN is_cancel THEN 'refunded' ELSE 'paid' END AS status,
               CAST(NULL AS VARCHAR) AS channel, country
        FROM invoices WHERE {_keep_condition()}
        ORDER BY ts, order_id""")
    con.execute("""
        CREATE TEMP TABLE users_out AS
        WITH paid AS (SELECT * FROM orders_out WHERE status = 'paid'),
        first AS (SELECT user_id, min(ts) AS signup_at FROM paid GROUP BY user_id),
        by_country AS (
            SELECT user_id, country, count(*) AS n,
                   row_number() OVER (PARTITION BY user_id ORDER BY count(*) DESC, country) AS rk
            FROM paid GROUP BY user_id, country)
        SELECT f.user_id, f.signup_at, CAST(NULL AS VARCHAR) AS channel, c.country AS region
        FROM first f JOIN by_country c ON c.user_id = f.user_id AND c.rk = 1
        ORDER BY f.signup_at, f.user_id""")
    con.execute(f"""
        CREATE TEMP TABLE events_out AS
        SELECT user_id, ts, e.event, {_lit(PLATFORM)} AS platform
        FROM orders_out, (VALUES ('visit', 0), ('purchase', 1)) AS e(event, k)
        WHERE status = 'paid'
        ORDER BY ts, user_id, k""")


def _count_outputs(con: duckdb.DuckDBPyConnection, r: ImportReport, tz: str) -> None:
    r.invoices_with_customer = int(_one(con, "SELECT count(*) FROM invoices"))
    r.invoices_without_product = int(_one(con, "SELECT count(*) FROM invoices WHERE n_product = 0"))
    r.invoices_bad_sign = int(_one(con, f"SELECT count(*) FROM invoices WHERE n_product > 0 "
                                        f"AND NOT ({_keep_condition()})"))
    r.invoices_multi_time = int(_one(con, "SELECT count(*) FROM invoices WHERE n_times > 1"))
    several = int(_one(con, "SELECT count(*) FROM invoices WHERE n_customers > 1"))
    if several:
        raise PackError([Problem("InvoiceNo", f"{several} invoice(s) carry more than one CustomerID",
                                 expected="one customer per invoice")])
    paid, gmv, ref, ref_amt = con.execute("""
        SELECT count(*) FILTER (WHERE status = 'paid'), coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0),
               count(*) FILTER (WHERE status = 'refunded'),
               coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0)
        FROM orders_out""").fetchone()  # type: ignore[misc]
    r.orders_paid, r.gmv, r.orders_refunded, r.refunded_amount = int(paid), round(float(gmv), 2), int(ref), round(
        float(ref_amt), 2)
    r.customers_with_id = int(_one(con, "SELECT count(DISTINCT cid) FROM lines WHERE cid IS NOT NULL "
                                        "AND bucket <> 'unreadable'"))
    r.users = int(_one(con, "SELECT count(*) FROM users_out"))
    r.customers_without_purchase = int(_one(con, "SELECT count(DISTINCT user_id) FROM orders_out "
                                                 "WHERE user_id NOT IN (SELECT user_id FROM users_out)"))
    r.customers_multi_country = int(_one(con, "SELECT count(*) FROM (SELECT user_id FROM orders_out "
                                              "WHERE status = 'paid' GROUP BY user_id "
                                              "HAVING count(DISTINCT country) > 1)"))
    r.events = int(_one(con, "SELECT count(*) FROM events_out"))
    lo, hi = con.execute(f"SELECT min(ts)::DATE, max(ts)::DATE FROM (SELECT timezone({_lit(tz)}, ts) AS ts "
                         "FROM orders_out)").fetchone()  # type: ignore[misc]
    r.first_day, r.last_day = (str(lo), str(hi)) if lo is not None else ("", "")


# ---------------------------------------------------------------- targets


def monthly_actuals(con: duckdb.DuckDBPyConnection, tz: str, *,
                    days_open: Callable[[date, date], int] | None = None) -> dict[str, dict[str, float | None]]:
    """Monthly values of :data:`TARGET_DEFINITIONS` over the built tables, local months of ``tz``.

    Definitions are those of :mod:`opsnb.metrics.kpis` (paid orders; average DAU over the *open*
    days of the month: ``days_open(first, end)``, every day when None — the unit's business days,
    as the KPI divides). Only months the data cover completely are returned, keyed ``"YYYY-MM"``.
    """
    z = _lit(tz)
    rows = con.execute(f"""
        WITH o AS (SELECT user_id, amount, timezone({z}, ts) AS ts FROM orders_out WHERE status = 'paid'),
        e AS (SELECT user_id, timezone({z}, ts) AS ts FROM events_out),
        u AS (SELECT timezone({z}, signup_at) AS ts FROM users_out),
        span AS (SELECT min(d) AS lo, max(d) AS hi FROM (
            SELECT ts::DATE AS d FROM o UNION ALL SELECT ts::DATE FROM e
            UNION ALL SELECT timezone({z}, ts)::DATE FROM orders_out)),
        months AS (SELECT CAST(m AS DATE) AS m FROM span,
                   generate_series(date_trunc('month', lo), date_trunc('month', hi), INTERVAL 1 MONTH) AS g(m)
                   WHERE CAST(m AS DATE) >= lo AND last_day(m) <= hi),
        per_user AS (SELECT date_trunc('month', ts)::DATE AS m, user_id, count(*) AS k, sum(amount) AS gmv
                     FROM o GROUP BY ALL),
        om AS (SELECT m, sum(gmv) AS gmv, sum(k) AS orders, count(*) AS paying,
                      count(*) FILTER (WHERE k >= 2) AS repeat FROM per_user GROUP BY m),
        nu AS (SELECT date_trunc('month', ts)::DATE AS m, count(*) AS new_users FROM u GROUP BY ALL),
        mau AS (SELECT date_trunc('month', ts)::DATE AS m, count(DISTINCT user_id) AS mau FROM e GROUP BY ALL),
        dau AS (SELECT date_trunc('month', d)::DATE AS m, sum(k) AS dau_sum FROM (
                    SELECT ts::DATE AS d, count(DISTINCT user_id) AS k FROM e GROUP BY ALL) GROUP BY ALL)
        SELECT strftime(months.m, '%Y-%m') AS month,
               coalesce(om.gmv, 0), coalesce(om.orders, 0), coalesce(om.paying, 0), coalesce(om.repeat, 0),
               coalesce(nu.new_users, 0), coalesce(mau.mau, 0),
               coalesce(dau.dau_sum, 0)
        FROM months LEFT JOIN om USING (m) LEFT JOIN nu USING (m) LEFT JOIN mau USING (m) LEFT JOIN dau USING (m)
        ORDER BY month""").fetchall()
    out: dict[str, dict[str, float | None]] = {}
    for month, gmv, orders, paying, repeat, new_users, mau, dau_sum in rows:
        first = date(int(month[:4]), int(month[5:7]), 1)
        end = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        n = days_open(first, end) if days_open is not None else (end - first).days
        dau = float(dau_sum) / n if n else float("nan")
        out[month] = {
            "gmv": float(gmv), "orders": float(orders), "aov": float(gmv) / orders if orders else None,
            "new_users": float(new_users), "active_users": float(dau), "mau": float(mau),
            "paying_users": float(paying), "repurchase_rate": repeat / paying if paying else None,
        }
    return out


def _shift(month: str, k: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    i = y * 12 + m - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _all_months(con: duckdb.DuckDBPyConnection, tz: str) -> list[str]:
    rows = con.execute(f"""
        SELECT strftime(m, '%Y-%m') FROM (SELECT date_trunc('month', min(t)) AS lo, date_trunc('month', max(t)) AS hi
              FROM (SELECT timezone({_lit(tz)}, ts) AS t FROM orders_out)),
        generate_series(lo, hi, INTERVAL 1 MONTH) AS g(m) ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def _targets(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[dict[str, Any]]:
    """Target rows (metric, period, target, basis): same month last year, else previous month, × (1 + growth)."""
    from opsnb.metrics.calendar import business_calendar

    cal = business_calendar(settings)
    actual = monthly_actuals(con, settings.timezone, days_open=lambda s, e: len(cal.open_days(s, e)))
    g = settings.plan.annual_growth
    kpis = [k for k in settings.goals.kpis if k.source == "builtin" and k.definition in TARGET_DEFINITIONS]
    first = min(actual) if actual else None
    rows: list[dict[str, Any]] = []
    for month in _all_months(con, settings.timezone):
        bases = [b for b in (_shift(month, -12), _shift(month, -1)) if b in actual]
        if not bases:
            continue
        targets: dict[str, float] = {}
        for k in kpis:
            # the data's first month is not a base for new customers: everyone is "new" in it
            usable = [b for b in bases if not (k.definition == "new_users" and b == first)]
            if not usable:
                continue
            basis = usable[0]
            v = actual[basis][k.definition]
            if v is None or not math.isfinite(v):
                continue
            targets[k.definition] = v * (1 + g)
            if k.definition == "aov":  # derived with GMV and orders: AOV target = GMV target ÷ orders target
                gmv, orders = actual[basis]["gmv"], actual[basis]["orders"]
                gmv_t = _round_target((gmv or 0.0) * (1 + g), "gmv", "currency")
                orders_t = _round_target((orders or 0.0) * (1 + g), "orders", "count")  # as readers see them
                if orders_t:
                    targets["aov"] = gmv_t / orders_t
            rows.append({"metric": k.key, "period": month,
                         "target": _round_target(targets[k.definition], k.definition, k.unit), "basis": basis})
    return rows


def _round_target(x: float, definition: str, unit: str) -> float:
    """Half up, on the decimal value readers see (29.775 → 29.78, as a reader dividing by hand would)."""
    digits = 0 if definition in _WHOLE else _TARGET_DIGITS.get(unit, 2)
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- writing


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write(con: duckdb.DuckDBPyConnection, out: Path, kpis: list[dict[str, Any]], report: ImportReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    selects = {
        "orders": "SELECT order_id, user_id, ts, amount, status, channel FROM orders_out",
        "users": "SELECT user_id, signup_at, channel, region FROM users_out",
        "events": "SELECT user_id, ts, event, platform FROM events_out",
    }
    for name, sql in selects.items():
        target = out / f"{name}.parquet"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        con.execute(f"COPY ({sql}) TO {_lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
        os.replace(tmp, target)
    lines = ["metric,period,target"] + [f"{r['metric']},{r['period']},{r['target']!r}" for r in kpis]
    _atomic_text(out / "kpis.csv", "\n".join(lines) + "\n")
