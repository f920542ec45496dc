"""Whole-table checks after coercion, as Ibis queries over a relation that has a ``__line`` column.

The same checks serve coerced CSV/Excel frames and Parquet files read in place (no pandas), so they
never pull a table into Python: each check is one count and at most a few example rows, run by the
pack's engine (:meth:`opsnb.pack.engine.Engine.check`), whatever its SQL dialect.

* duplicate keys (``TableSchema.key``): count and up to 5 examples with their lines;
* negative values in columns declared non-negative (``!`` in the schema);
* ``orders.amount`` negative only when ``status`` is ``refunded``; unknown statuses warn;
* ``campaigns.end`` before ``start``, ``actions.due`` before ``start``;
* ``kpis.target`` of 0: a warning (attainment will be n/a), never a silent inf;
* required columns holding nulls (Parquet inputs; text inputs are checked cell by cell at coercion).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis
from ibis import _

from opsnb.pack.coerce import Ctx
from opsnb.pack.problems import PER_KIND_CAP
from opsnb.pack.schemas import ORDER_STATUSES, TableSchema

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from opsnb.pack.engine import Engine


@dataclass(frozen=True)
class _Rows:
    """A row check: the rows where ``cond`` holds are problems ``code`` (showing ``value``, when given)."""

    cond: ir.BooleanValue
    value: ir.Value | None
    code: str
    column: str
    level: str = "error"
    kw: dict[str, object] = field(default_factory=dict)


def _report(engine: Engine, t: ir.Table, check: _Rows, n: int, ctx: Ctx) -> None:
    """Problems for the first :data:`PER_KIND_CAP` of the ``n`` rows of ``t`` that ``check`` flags, then "… and N more"."""
    from opsnb.pack.problems import problem

    hit = t.filter(check.cond)
    shown = [hit["__line"]] if check.value is None else [hit["__line"], check.value.name("value")]
    for line, *v in engine.check(hit.order_by(hit["__line"]).select(*shown).limit(PER_KIND_CAP)):
        ctx.problems.append(problem(check.code, file=ctx.file, sheet=ctx.sheet, column=check.column, line=int(line),
                                    line_kind=ctx.line_kind, value=v[0] if v else None,
                                    level=check.level, **check.kw))  # type: ignore[arg-type]
    if n > PER_KIND_CAP:
        ctx.problems.append(problem("more", file=ctx.file, sheet=ctx.sheet, column=check.column,
                                    level=check.level, n=n - PER_KIND_CAP, what=check.code))  # type: ignore[arg-type]


def _day(v: ir.TimestampValue) -> ir.StringValue:
    return v.strftime("%Y-%m-%d")


def _plan(t: ir.Table, schema: TableSchema, present: set[str], nulls: bool) -> list[_Rows | None]:
    """The checks of ``schema`` over ``t``, in report order (``None``: the duplicate-key check)."""
    plan: list[_Rows | None] = []
    cols = [c for c in schema.columns if c.name in present]
    if nulls:
        plan += [_Rows(t[c.name].isnull(), None, "empty_required", c.name) for c in cols if c.required]
    plan += [_Rows(t[c.name] < 0, t[c.name], "negative", c.name) for c in cols if c.nonnegative]
    key = [k for k in schema.key if k in present]
    if key and len(key) == len(schema.key):  # (a shared pack's unit column joins the key: see run_checks)
        plan.append(None)  # the duplicate-key check: its problems keep their place in the report
    name = schema.name
    if name == "orders":
        # statuses compare trimmed and lower-cased, as the analyses do (opsnb.metrics.orders)
        status = t.status.strip().lower().nullif("").fill_null("paid") if "status" in present else ibis.literal("paid")
        plan.append(_Rows((t.amount < 0) & (status != "refunded"), t.amount, "negative_amount", "amount"))
        if "status" in present:
            plan.append(_Rows(~status.isin(ORDER_STATUSES), t.status, "unknown_status", "status", "warning",
                              {"known": ", ".join(ORDER_STATUSES)}))
    if name == "campaigns":
        plan.append(_Rows(t["end"] < t.start, _day(t["end"]) + " < " + _day(t.start), "end_before_start", "end",
                          kw={"start": "start", "end": "end"}))
    if name == "actions":
        plan.append(_Rows(t.due < t.start, _day(t.due) + " < " + _day(t.start), "end_before_start", "due",
                          kw={"start": "start", "end": "due"}))
        if "done_at" in present:
            plan.append(_Rows(t.done_at < t.start, _day(t.done_at), "done_before_start", "done_at", "warning"))
    if name == "kpis":
        plan.append(_Rows(t.target == 0, t.metric, "zero_target", "target", "warning"))
    return plan


def run_checks(engine: Engine, t: ir.Table, schema: TableSchema, ctx: Ctx, *, present: set[str],
               nulls: bool = False) -> None:
    """Run every table check over relation ``t`` (with a ``__line`` column) in ``engine``; problems go to ``ctx``.

    One query counts the rows every row check flags; only a check that flags rows asks for examples.
    """
    plan = _plan(t, schema, present, nulls)
    rows = [c for c in plan if c is not None]
    flagged: tuple[object, ...] = ()
    if rows:  # filtered by "any check holds", so the engine may skip data by its statistics (Parquet null counts)
        hit = t.filter(functools.reduce(operator.or_, (c.cond for c in rows)))
        (flagged,) = engine.check(hit.aggregate(**{f"c{i}": c.cond.sum() for i, c in enumerate(rows)}))
    counts = iter(flagged)
    for check in plan:
        if check is None:
            unit = [ctx.unit_column] if ctx.unit_column and ctx.unit_column in present else []
            _duplicates(engine, t, [*unit, *schema.key], ctx)
        elif n := int(next(counts) or 0):  # type: ignore[call-overload]
            _report(engine, t, check, n, ctx)


def _duplicates(engine: Engine, t: ir.Table, key: list[str], ctx: Ctx) -> None:
    """Keys held by more than one row: counts, then the first 5 keys (by first line) with their first 5 lines."""
    known = t.filter([t[k].notnull() for k in key])
    grouped = known.group_by(key).aggregate(n=_.count(), first=known["__line"].min()).filter(_.n > 1)
    ((n_keys, n_rows),) = engine.check(grouped.aggregate(k=_.count(), r=_.n.sum()))
    if not n_keys:
        return
    shown = known.join(grouped.order_by("first").limit(5), key)
    nth = ibis.row_number().over(group_by=[shown[k] for k in key], order_by=shown["__line"])
    rows = engine.check(shown.mutate(nth=nth).filter(_.nth < 5).select(*key, "first", "__line")
                        .order_by(["first", "__line"]))
    lines: dict[int, tuple[list[object], list[int]]] = {}
    for *values, first, line in rows:
        lines.setdefault(first, (values, []))[1].append(line)
    examples = "; ".join(
        "'" + "/".join(str(v) for v in values) + f"' ({ctx.line_kind}s " + ", ".join(str(x) for x in at) + ")"
        for values, at in lines.values())
    from opsnb.pack.problems import problem

    ctx.problems.append(problem("duplicate_key", file=ctx.file, sheet=ctx.sheet, column=", ".join(key),
                                key=", ".join(key), n_keys=int(n_keys), n_rows=int(n_rows or 0), examples=examples,
                                unit=ctx.line_kind))
