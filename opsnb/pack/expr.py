"""Portable Ibis forms of what engines spell differently: the analyses use these, never an engine test.

Each function gives one expression that DuckDB, PostgreSQL and Spark evaluate to the same value;
``tests/integration/test_warehouse.py`` pins each difference by name.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def flag(cond: ir.BooleanValue, dtype: str = "int64") -> ir.NumericValue:
    """``cond`` as 1 or 0 of ``dtype`` (null counts as 0), to sum or weigh.

    PostgreSQL casts boolean only to ``integer`` (not ``bigint``, not ``double precision``);
    ``CASE WHEN`` works everywhere.
    """
    return cond.ifelse(ibis.literal(1, dtype), ibis.literal(0, dtype))


#: Decimal places money is summed to (exactly): cents and finer unit prices survive, float noise does not.
MONEY_SCALE = 6


def money_sum(value: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.FloatingScalar:
    """The sum of a money column, exact, as float64.

    A float sum depends on the order rows are added in, which differs between engines (and between
    runs of a parallel engine): a segment's average of ¥1,276.185 came out ¥1,276.18 on one engine
    and ¥1,276.19 on another. Summing as ``DECIMAL(38, 6)`` is exact whatever the order, so every
    engine returns the same float for the same rows.
    """
    import ibis.expr.datatypes as dt

    return value.cast(dt.Decimal(38, MONEY_SCALE)).sum(where=where).cast("float64")
