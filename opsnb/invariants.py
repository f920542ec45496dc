"""Semantic invariants: rules an analyst's review keeps, checked on every run over the facts it shows.

``facts.conflicts`` finds one key shown with two values. The rules here find figures that are each
computed correctly by some definition and yet mislead: a retention curve that rises with N, a figure that
reads days after the review's as-of day, shares that do not make a whole, a quarter's attainment outside
its months', a change that is not the difference of the values beside it, a day count that is not the
as-of day minus its start, a plan target the next review will not use, a verdict on a base too small to
carry one. Each rule is a small function registered under its name (:data:`RULES`), reads the facts'
structured ``meta`` (what a section declares beside a figure) and returns :class:`Violation`\\ s.

The batch runs :func:`check` at publish time; the violations go to ``manifest.json`` under
``invariants`` (beside ``facts.conflicts``) and are printed as warnings by ``opsnb run``.

What a section declares in a fact's ``meta`` (see :func:`opsnb.facts.make`):

* ``curve`` + ``x`` (+ ``base``): one point of a curve on a fixed base (retention D-N of one cohort);
* ``last_day``: the last day a figure reads, where its key names no span (counts "as exported");
  ``ahead``: a figure about days to come (a target, what the rest of the year needs), not a reading;
* ``whole``: one share of a whole (every share of the whole is declared, "other" included; a share shown
  on two pages is one share: shares are counted once per key);
* ``now`` + ``before`` + ``change``: a change shown beside two values (``relative``, ``pp`` or ``diff``);
  a ``pp`` change is a fraction (0.038 for +3.8 points) between the two ratios *as shown* (to 0.1 %), a
  ``diff`` of ROI between the two ``1:x`` as shown (:func:`opsnb.render.fmt.shown_difference`);
* ``from``: a day count from that day to the as-of day (days overdue); ``to``: a day count from the
  as-of day to that day (days left in the year);
* ``part_of``: the key of the total this figure is a part of (the parts of a total add up to it:
  campaign costs to their sum, drivers' contributions to the change, the funnel's steps and drop-offs);
* ``base`` + ``verdict``: a rate on a base of ``base`` members that the page judges (``verdict`` not None);
* ``beside``: a plan target shown beside the one the next review will use (not instead of it);
* ``incident_days`` (+ ``table``): a data incident (a tracking break, missing days) and the days it covers;
  ``day`` (+ ``until``) + ``verdict`` (+ ``table``): a finding that singles out a day (or the days it reads, to
  ``until``); on an incident's day it must name the incident it follows from (``incident``: its key), never
  stand as a finding of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from opsnb.facts import Fact
from opsnb.periods import Period

__all__ = ["RULES", "Scope", "Violation", "check", "describe", "register", "span_of"]

_SPAN = re.compile(r"@(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Scope:
    """What the rules know besides the facts: the review's period, its as-of day, ``min_base``, and the
    target a period's review will judge a KPI by (``target_of(kpi_key, period)``, None when unknown)."""

    period: Period
    as_of: date
    min_base: int = 30
    target_of: Callable[[str, Period], float | None] | None = None


@dataclass(frozen=True)
class Violation:
    """One broken rule: its name, the fact's key and what is wrong, in a line."""

    rule: str
    key: str
    message: str

    def line(self) -> str:
        return f"{self.rule}: {self.key}: {self.message}"


Rule = Callable[[list[Fact], Scope], list[Violation]]
#: The rules, by name: ``register("name")`` adds one; :func:`check` runs them all.
RULES: dict[str, Rule] = {}


def register(name: str) -> Callable[[Rule], Rule]:
    """Add a rule to :data:`RULES` under ``name`` (a second rule of the same name is an error)."""
    def add(fn: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"an invariant named {name!r} is registered already; known: {sorted(RULES)}")
        RULES[name] = fn
        return fn

    return add


def check(facts: list[Fact], scope: Scope) -> list[Violation]:
    """Every violation of every rule in :data:`RULES`, in rule order."""
    out: list[Violation] = []
    for rule in RULES.values():
        out += rule(facts, scope)
    return out


def describe(violations: list[Violation]) -> list[str]:
    """One line per violation (for the manifest and the command line)."""
    return [v.line() for v in violations]


def span_of(key: str) -> tuple[date, date] | None:
    """The days a fact's key names (``…@2026-10-01..2026-10-31``), or None."""
    m = _SPAN.search(key)
    return None if m is None else (date.fromisoformat(m[1]), date.fromisoformat(m[2]))


def _measure(key: str) -> str:
    return key.split("@", 1)[0].rsplit(".", 1)[-1]


def _close(a: float, b: float, *, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _once(facts: list[Fact], meta: str) -> list[Fact]:
    """The facts declaring ``meta``, one per key (a figure shown on two pages counts once; ``facts.conflicts``
    checks that they agree)."""
    return list({f.key: f for f in facts if meta in f.meta}.values())


# ---------------------------------------------------------------- the rules


@register("curve_on_fixed_base")
def _curves(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A curve on one base (retention D1, D7, D30 of one cohort) never rises with N, and has one base."""
    curves: dict[str, list[Fact]] = {}
    for f in facts:
        if "curve" in f.meta and f.value is not None:
            curves.setdefault(str(f.meta["curve"]), []).append(f)
    out = []
    for name, points in curves.items():
        pts = sorted(points, key=lambda f: float(f.meta.get("x", 0)))
        bases = {f.meta.get("base") for f in pts}
        if len(bases) > 1:
            out.append(Violation("curve_on_fixed_base", name, f"its points have different bases {sorted(map(str, bases))}"))
        for a, b in zip(pts, pts[1:], strict=False):
            if b.value is not None and a.value is not None and b.value > a.value + 1e-12:
                out.append(Violation("curve_on_fixed_base", b.key,
                                     f"rises from {a.text} at {a.meta.get('x')} to {b.text} at {b.meta.get('x')}"))
    return out


@register("nothing_after_as_of")
def _as_of(facts: list[Fact], scope: Scope) -> list[Violation]:
    """No measured figure reads a day after the review's as-of day (targets, plans and figures declared ``ahead``
    look ahead: they are not readings; a figure declared ``disclosed`` reads past it and its page says so with the
    day it reads to, e.g. content counters as exported on a past period's page)."""
    out = []
    for f in facts:
        sp = span_of(f.key)
        last = f.meta.get("last_day")
        read = date.fromisoformat(str(last)) if last else (sp[1] if sp else None)
        if read is None or _measure(f.key) in ("target", "proposed") or f.meta.get("ahead") \
                or f.meta.get("kind") in ("target", "plan") or f.meta.get("disclosed"):
            continue
        if read > scope.as_of:
            out.append(Violation("nothing_after_as_of", f.key,
                                 f"reads up to {read.isoformat()}, after the as-of day {scope.as_of.isoformat()}"))
    return out


@register("shares_make_a_whole")
def _shares(facts: list[Fact], scope: Scope) -> list[Violation]:
    """The shares of one whole add up to 100% (within the rounding of what is shown)."""
    wholes: dict[str, list[Fact]] = {}
    for f in _once(facts, "whole"):
        if f.value is not None:
            wholes.setdefault(str(f.meta["whole"]), []).append(f)
    out = []
    for name, parts in wholes.items():
        total = sum(float(f.value) for f in parts if f.value is not None)
        if not _close(total, 1.0, tol=1e-6):
            out.append(Violation("shares_make_a_whole", name,
                                 f"{len(parts)} shares add up to {total:.4%}, not 100%"))
    return out


@register("quarter_between_months")
def _quarters(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A quarter's attainment lies between its months' when its target is the sum of theirs."""
    by = {f.key: f for f in facts}
    out = []
    for f in facts:
        sp = span_of(f.key)
        if sp is None or _measure(f.key) != "attainment" or f.value is None:
            continue
        first, last = sp
        q = Period.containing(first, "quarter")
        if first != q.start or last > q.last_day:
            continue
        subject = f.key.split("@", 1)[0].rsplit(".", 1)[0]
        months = [Period(m.start, min(m.end, _next(last)), "month") for m in q.month_periods() if m.start <= last]
        if len(months) < 2:
            continue
        keys = [f"{subject}.{{}}@{m.start.isoformat()}..{m.last_day.isoformat()}" for m in months]
        att = [by.get(k.format("attainment")) for k in keys]
        tgt = [by.get(k.format("target")) for k in keys]
        q_tgt = by.get(f"{subject}.target@{first.isoformat()}..{last.isoformat()}")
        if q_tgt is None or q_tgt.value is None or any(x is None or x.value is None for x in att + tgt):
            continue
        if not _close(sum(float(x.value) for x in tgt if x is not None and x.value is not None), float(q_tgt.value)):
            continue
        values = [float(x.value) for x in att if x is not None and x.value is not None]
        if not min(values) - 1e-9 <= f.value <= max(values) + 1e-9:
            out.append(Violation("quarter_between_months", f.key,
                                 f"{f.text} is outside its months' {', '.join(x.text for x in att if x is not None)}"))
    return out


def _next(d: date) -> date:
    from datetime import timedelta

    return d + timedelta(days=1)


def expected_change(now: float, before: float, kind: str, unit: str = "") -> float | None:
    """The change from ``before`` to ``now`` as a reader checks it against the two values shown:
    ``relative`` (÷ |before|), ``pp`` (a fraction: between the two ratios as shown, to 0.1 %) or ``diff``
    (between the two values as shown in ``unit``: ROI to its one decimal, amounts as computed)."""
    from opsnb.render.fmt import relative_change, shown_difference, shown_ratio_change

    if kind == "relative":
        return None if before == 0 else relative_change(now, before)
    if kind == "pp":
        return shown_ratio_change(now, before)
    return shown_difference(now, before, unit)


@register("change_is_the_difference")
def _changes(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A change shown beside two values is their difference (computed from them, then shown): it reads the same,
    to the precision it is shown at, as the change a reader computes from the two values."""
    out = []
    for f in facts:
        if not {"now", "before", "change"} <= set(f.meta) or f.meta["now"] is None or f.meta["before"] is None:
            continue
        want = expected_change(float(f.meta["now"]), float(f.meta["before"]), str(f.meta["change"]), f.unit)
        if (want is None) != (f.value is None) or (want is not None and f.value is not None
                                                   and not _shown_alike(f.value, want, str(f.meta["change"]), f.unit)):
            out.append(Violation("change_is_the_difference", f.key,
                                 f"shows {f.text} ({f.value}); from {f.meta['before']} to {f.meta['now']} the "
                                 f"{f.meta['change']} change is {want}"))
    return out


def _shown_alike(value: float, want: float, kind: str, unit: str) -> bool:
    """Whether two changes read the same where they are shown: percentages and points to 0.1, ROI to its one
    decimal, amounts and counts to the cent."""
    if kind in ("relative", "pp"):
        return f"{value * 100:.1f}" == f"{want * 100:.1f}"
    if unit == "roi":
        return f"{value:.1f}" == f"{want:.1f}"
    return math.isclose(value, want, rel_tol=1e-9, abs_tol=5e-3)


@register("days_counted_to_as_of")
def _day_counts(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A day count (days overdue, days since) is the as-of day minus the day it counts from; a count of
    days left (``to``) is the day it counts to minus the as-of day."""
    out = []
    for f in facts:
        if f.value is None:
            continue
        for end, sign, words in (("from", 1, "from {d} to the as-of day {a}"), ("to", -1, "from the as-of day {a} to {d}")):
            if end not in f.meta:
                continue
            want = sign * (scope.as_of - date.fromisoformat(str(f.meta[end]))).days
            if int(round(f.value)) != want:
                out.append(Violation("days_counted_to_as_of", f.key, f"shows {f.text}; " + words.format(
                    d=f.meta[end], a=scope.as_of.isoformat()) + f" is {want} days"))
    return out


@register("parts_add_to_total")
def _parts(facts: list[Fact], scope: Scope) -> list[Violation]:
    """The parts of a total shown beside it add up to it (to the cent for money: a reconciliation)."""
    by = {f.key: f for f in facts}
    parts: dict[str, list[Fact]] = {}
    for f in _once(facts, "part_of"):
        parts.setdefault(str(f.meta["part_of"]), []).append(f)
    out = []
    for total_key, ps in parts.items():
        total = by.get(total_key)
        if total is None:
            out.append(Violation("parts_add_to_total", total_key, f"{len(ps)} parts name it, but no figure shows it"))
            continue
        if total.value is None or any(p.value is None for p in ps):
            continue
        got = sum(float(p.value) for p in ps if p.value is not None)
        if not math.isclose(got, float(total.value), rel_tol=1e-9, abs_tol=5e-3):
            out.append(Violation("parts_add_to_total", total_key,
                                 f"shows {total.text}, but its {len(ps)} parts add up to {got:,.2f}"))
    return out


@register("plan_is_the_next_reviews_target")
def _plan_targets(facts: list[Fact], scope: Scope) -> list[Violation]:
    """The plan's target for a coming period equals the one that period's review will use, or is shown beside it."""
    if scope.target_of is None:
        return []
    out = []
    for f in facts:
        sp = span_of(f.key)
        if (sp is None or not f.source.startswith("plan.") or _measure(f.key) != "target" or f.value is None
                or f.meta.get("beside") or sp[0] <= scope.as_of or not f.key.startswith("kpi.")):
            continue
        per = _period_of(*sp)
        if per is None:
            continue
        kpi = f.key.split(".")[1]
        want = scope.target_of(kpi, per)
        if want is not None and not _close(float(f.value), float(want), tol=1e-6):
            out.append(Violation("plan_is_the_next_reviews_target", f.key,
                                 f"the plan says {f.text}; the review of {per.label} will judge by {want:g}"))
    return out


def _period_of(first: date, last: date) -> Period | None:
    for kind in ("month", "quarter", "year"):
        p = Period.containing(first, kind)  # type: ignore[arg-type]
        if p.start == first and p.last_day == last:
            return p
    return None


@register("no_verdict_on_a_small_base")
def _small_bases(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A rate on fewer than ``min_base`` members carries no verdict (it is shown with its n)."""
    out = []
    for f in facts:
        base = f.meta.get("base")
        if base is None or f.meta.get("verdict") in (None, ""):
            continue
        if float(base) < scope.min_base:
            out.append(Violation("no_verdict_on_a_small_base", f.key,
                                 f"judged {f.meta['verdict']!r} on a base of {base} (min_base {scope.min_base})"))
    return out


@register("no_finding_on_an_incident_day")
def _incident_days(facts: list[Fact], scope: Scope) -> list[Violation]:
    """A figure that singles out a day (the lowest day, an anomaly) on a day a data incident covers is that
    incident's echo: it names the incident (``incident``), never stands as a finding of its own."""
    covered: dict[str, set[str]] = {}
    for f in facts:
        for d in f.meta.get("incident_days") or []:
            covered.setdefault(str(d), set()).add(str(f.meta.get("table", "")))
    out = []
    for f in facts:
        day = f.meta.get("day")
        if day is None or f.meta.get("verdict") in (None, "") or f.meta.get("incident"):
            continue
        first = date.fromisoformat(str(day))
        last = date.fromisoformat(str(f.meta.get("until", day)))
        table = str(f.meta.get("table", ""))
        hit = [d for d, tables in covered.items() if first <= date.fromisoformat(d) <= last
               and (not table or "" in tables or table in tables)]
        if hit:
            out.append(Violation("no_finding_on_an_incident_day", f.key,
                                 f"judged {f.meta['verdict']!r} on days ({', '.join(sorted(hit))}) a data incident covers"))
    return out


def scope_of(settings: Any, period: Period, data_last_day: date | None,
             target_of: Callable[[str, Period], float | None] | None = None) -> Scope:
    """The :class:`Scope` of a review: its as-of day is the period's last day, or the data's when earlier."""
    as_of = period.last_day if data_last_day is None else min(period.last_day, data_last_day)
    return Scope(period, as_of, int(getattr(settings, "min_base", 30)), target_of)
