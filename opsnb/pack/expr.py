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
