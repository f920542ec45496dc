"""Order status: which orders count as revenue, and which as refunds. One definition for every analysis.

A status is compared trimmed and lower-cased, so ``paid``, ``Paid`` and `` PAID `` are one status.
Files are trimmed on ingest already, but a ``.duckdb`` pack (or a database) is read as it is, and
before this module the analyses disagreed on such values: the GMV KPI counted ``PAID`` while the
targets' monthly actuals did not. An order is **paid** when its status is ``paid``, empty or
missing; without a ``status`` column every order is paid. An order is **refunded** when its status
is ``refunded``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from opsnb.pack import Pack


def _status(t: ir.Table) -> ir.StringValue | None:
    return t.status.strip().lower() if "status" in t.columns else None


def paid(t: ir.Table) -> ir.Table:
    """The rows of the orders table ``t`` (or any expression with its ``status``) that count as revenue."""
    s = _status(t)
    return t if s is None else t.filter(s.isnull() | (s == "paid") | (s == ""))


def refunded(t: ir.Table) -> ir.Table:
    """The rows of the orders table ``t`` whose status is ``refunded`` (none without a ``status`` column)."""
    s = _status(t)
    return t.filter(ibis.literal(False)) if s is None else t.filter(s == "refunded")


def paid_orders(pack: Pack, *, keyed: bool = False) -> ir.Table:
    """The pack's paid orders; raises :class:`~opsnb.errors.NoData` without an orders table.

    ``keyed``: with the pack's user key column (:meth:`opsnb.pack.Pack.keyed`).
    """
    return paid(pack.keyed("orders") if keyed else pack.table("orders"))
