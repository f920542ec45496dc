"""Whole-table checks after coercion, run as DuckDB SQL over a relation that has a ``__line`` column.

The same checks serve coerced CSV/Excel frames and Parquet files registered directly (no pandas),
so they never pull a table into Python: each check is one count and at most a few example rows.

* duplicate keys (``TableSchema.key``): count and up to 5 examples with their lines;
* negative values in columns declared non-negative (``!`` in the schema);
* ``orders.amount`` negative only when ``status`` is ``refunded``; unknown statuses warn;
* ``campaigns.end`` before ``start``, ``actions.due`` before ``start``;
* ``kpis.target`` of 0: a warning (attainment will be n/a), never a silent inf;
* required columns holding nulls (Parquet inputs; text inputs are checked cell by cell at coercion).
"""

from __future__ import annotations

import duckdb

from opsnb.pack.coerce import Ctx
from opsnb.pack.problems import PER_KIND_CAP
from opsnb.pack.schemas import ORDER_STATUSES, TableSchema


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(duck: duckdb.DuckDBPyConnection, rel: str, cond: str, value: str, ctx: Ctx, code: str, *,
          column: str, level: str = "error", **kw: object) -> int:
    n = duck.sql(f"SELECT count(*) FROM {rel} WHERE {cond}").fetchone()[0]  # type: ignore[index]
    if not n:
        return 0
    from opsnb.pack.problems import problem

    rows = duck.sql(f"SELECT __line, {value} FROM {rel} WHERE {cond} ORDER BY __line LIMIT {PER_KIND_CAP}").fetchall()
    for line, v in rows:
        ctx.problems.append(problem(code, file=ctx.file, sheet=ctx.sheet, column=column, line=int(line),
                                    line_kind=ctx.line_kind, value=v, level=level, **kw))  # type: ignore[arg-type]
    if n > PER_KIND_CAP:
        ctx.problems.append(problem("more", file=ctx.file, sheet=ctx.sheet, column=column, level=level,  # type: ignore[arg-type]
                                    n=n - PER_KIND_CAP, what=code))
    return int(n)


def run_checks(duck: duckdb.DuckDBPyConnection, rel: str, schema: TableSchema, ctx: Ctx, *,
               present: set[str], nulls: bool = False) -> None:
    """Run every table check over relation ``rel`` (SQL text); problems go to ``ctx``."""
    cols = [c for c in schema.columns if c.name in present]
    if nulls:
        for c in cols:
            if c.required:
                _rows(duck, rel, f"{_q(c.name)} IS NULL", "NULL", ctx, "empty_required", column=c.name)
    for c in cols:
        if c.nonnegative:
            _rows(duck, rel, f"{_q(c.name)} < 0", _q(c.name), ctx, "negative", column=c.name)
    key = [k for k in schema.key if k in present]
    if key and len(key) == len(schema.key):
        _duplicates(duck, rel, key, ctx)
    name = schema.name
    if name == "orders":
        # statuses compare trimmed and lower-cased, as the analyses do (opsnb.metrics.orders)
        status = "coalesce(nullif(lower(trim(status)), ''), 'paid')" if "status" in present else "'paid'"
        _rows(duck, rel, f"amount < 0 AND {status} <> 'refunded'", "amount", ctx, "negative_amount",
              column="amount")
        if "status" in present:
            known = ", ".join(f"'{s}'" for s in ORDER_STATUSES)
            _rows(duck, rel, f"{status} NOT IN ({known})", "status", ctx, "unknown_status",
                  column="status", level="warning", known=", ".join(ORDER_STATUSES))
    if name == "campaigns":
        _rows(duck, rel, '"end" < start', "strftime(\"end\", '%Y-%m-%d') || ' < ' || strftime(start, '%Y-%m-%d')",
              ctx, "end_before_start", column="end", start="start", end="end")
    if name == "actions":
        _rows(duck, rel, "due < start", "strftime(due, '%Y-%m-%d') || ' < ' || strftime(start, '%Y-%m-%d')",
              ctx, "end_before_start", column="due", start="start", end="due")
        if "done_at" in present:
            _rows(duck, rel, "done_at < start", "strftime(done_at, '%Y-%m-%d')", ctx, "done_before_start",
                  column="done_at", level="warning")
    if name == "kpis":
        _rows(duck, rel, "target = 0", "metric", ctx, "zero_target", column="target", level="warning")


def _duplicates(duck: duckdb.DuckDBPyConnection, rel: str, key: list[str], ctx: Ctx) -> None:
    keys = ", ".join(_q(k) for k in key)
    notnull = " AND ".join(f"{_q(k)} IS NOT NULL" for k in key)
    grouped = (f"SELECT {keys}, count(*) AS n, list(__line ORDER BY __line) AS lines FROM {rel} "
               f"WHERE {notnull} GROUP BY ALL HAVING count(*) > 1")
    n_keys, n_rows = duck.sql(f"SELECT count(*), coalesce(sum(n), 0) FROM ({grouped})").fetchone()  # type: ignore[misc]
    if not n_keys:
        return
    ex = duck.sql(f"SELECT * FROM ({grouped}) ORDER BY lines[1] LIMIT 5").fetchall()
    examples = "; ".join(
        "'" + "/".join(str(v) for v in row[: len(key)]) + f"' ({ctx.line_kind}s "
        + ", ".join(str(x) for x in row[-1][:5]) + ")"
        for row in ex)
    from opsnb.pack.problems import problem

    ctx.problems.append(problem("duplicate_key", file=ctx.file, sheet=ctx.sheet, column=", ".join(key),
                                key=", ".join(key), n_keys=int(n_keys), n_rows=int(n_rows), examples=examples,
                                unit=ctx.line_kind))
