"""Type coercion of raw pack columns to the contract's types, reporting every bad value.

Never a silent NaN: a value that cannot be read is a :class:`~opsnb.pack.problems.PackProblem`
naming the file, sheet, column, 1-based line and the value. Every step is vectorised (pandas string
methods and one regular expression per form); only a column whose values fail the vectorised
parse is looked at value by value, over its distinct values.

Rules (also in docs/ingest.md):

* **Missing values.** An empty cell, or one of :data:`NA_MARKERS` (``nan``, ``NULL``, ``N/A``,
  ``-``, ``—`` …, any case) in an id, number, date or yes/no column, is *missing*. Missing in a
  required column is an error naming the marker; in an optional column it becomes null and one
  warning per column says how many cells were read as missing. Text columns keep such values as text.
* **Numbers.** Full-width forms are folded (NFKC: ``１２００`` → ``1200``, ``￥`` → ``¥``); a
  currency sign (``¥``, ``$``) before the number and ``元`` after it are dropped; thousands
  separators must group by three (``1,200``, ``1,200.50``; ``1,20`` is an error). ``%`` only in
  ``ratio`` columns (see :mod:`opsnb.pack.schemas`). ``int`` columns must hold whole numbers.
* **Dates and times.** ISO 8601 (``2026-10-01``, ``2026-10-01 08:30``, ``2026-10-01T08:30:00+08:00``,
  ``…Z``), ``2026/10/01``, ``2026.10.01``, ``20261001``, ``2026年10月1日`` (optionally followed by a
  time), and Excel serial day numbers 25569–73050 (1970-01-01 … 2099-12-31, a fraction is the time
  of day). Naive values are local business time; aware values are converted to the pack's timezone
  and stored naive. Years outside 1970–2099 are errors. A ``date`` column drops the time of day.
* **Ids** are text: surrounding spaces stripped, full-width digits folded, leading zeros kept; a
  whole-number float id (``123.0`` from a typed source) becomes ``"123"``.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opsnb.pack.problems import PER_KIND_CAP, Level, PackProblem, problem
from opsnb.pack.schemas import Column, TableSchema

#: Cell texts read as "no value" in id, number, date and yes/no columns (compared case-insensitively).
NA_MARKERS = frozenset({"", "nan", "null", "none", "n/a", "na", "#n/a", "nil", "-", "--", "—", "——", "–", "无"})
_TRUE = {"1", "true", "yes", "y", "t", "是", "会员"}
_FALSE = {"0", "false", "no", "n", "f", "否", "非会员"}

_NUM_RE = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[+-]?\.[0-9]+"
_ZONE_RE = r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
_TIME_RE = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
_ISO_RE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ T]" + _TIME_RE + _ZONE_RE + "?)?"
_AWARE_RE = _TIME_RE + _ZONE_RE + "$"
_SERIAL_RE = r"[0-9]{5}(?:\.[0-9]+)?"
#: Excel serial day numbers accepted in date columns: 1970-01-01 … 2099-12-31.
SERIAL_RANGE = (25569, 73050)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
YEAR_RANGE = (1970, 2099)


@dataclass
class Ctx:
    """Where a frame came from, for problem messages."""

    file: str
    sheet: str = ""
    line_kind: str = "line"
    lines: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    problems: list[PackProblem] = field(default_factory=list)
    #: A shared pack's unit column: part of every key of a table that has it (one row per unit and key).
    unit_column: str | None = None

    def report(self, mask: pd.Series, code: str, *, column: str, values: pd.Series | None = None,
               level: Level = "error", **kw: Any) -> int:
        """One problem per flagged row (first :data:`PER_KIND_CAP`), then "… and N more"; returns the count."""
        idx = mask[mask.fillna(False).astype(bool)].index
        n = len(idx)
        for i in idx[:PER_KIND_CAP]:
            v = None if values is None else values[i]
            if v is not None and not isinstance(v, str | int | float | bool):
                v = str(v)
            if isinstance(v, float) and np.isnan(v):
                v = None
            self.problems.append(problem(code, file=self.file, sheet=self.sheet, column=column,
                                         line=int(self.lines[i]), line_kind=self.line_kind, value=v,
                                         level=level, **kw))
        if n > PER_KIND_CAP:
            self.problems.append(problem("more", file=self.file, sheet=self.sheet, column=column, level=level,
                                         n=n - PER_KIND_CAP, what=code))
        return n

    def add(self, code: str, *, column: str = "", level: Level = "error", value: object = None, **kw: Any) -> None:
        """One problem about the whole file or a column."""
        self.problems.append(problem(code, file=self.file, sheet=self.sheet, column=column, value=value,
                                     level=level, **kw))


_ARROW_STR = pd.StringDtype("pyarrow")


def _text(s: pd.Series) -> pd.Series:
    """Text as Arrow-backed strings, so string methods and regexes run in Arrow compute (RE2), not Python."""
    if s.dtype == _ARROW_STR:
        return s
    if not isinstance(s.dtype, pd.StringDtype):
        s = s.astype("string")
    return s.astype(_ARROW_STR)


def _fold(t: pd.Series) -> pd.Series:
    """NFKC (full-width digits, ￥, ％ …) and strip, only on the cells that need it."""
    t = t.str.strip()
    wide = t.str.contains(r"[^\x00-\x7f]", regex=True).fillna(False)
    if wide.any():
        t = t.copy()
        t[wide] = t[wide].str.normalize("NFKC").str.strip()
    return t


def _na_mask(t: pd.Series) -> pd.Series:
    return t.isna() | t.str.strip().str.lower().isin(NA_MARKERS)


def _missing(s: pd.Series, col: Column, ctx: Ctx, na: pd.Series, raw: pd.Series | None) -> None:
    """Report missing values: errors in a required column, one warning in an optional one."""
    if col.required:
        ctx.report(na, "empty_required", column=col.name,
                   values=None if raw is None else raw.where(raw.str.strip() != ""))
    elif raw is not None:
        marked = na & raw.notna() & (raw.str.strip() != "")
        n = int(marked.sum())
        if n:
            ctx.add("na_markers", column=col.name, level="warning", n=n,
                    markers=", ".join(sorted({repr(v) for v in raw[marked].str.strip().unique()[:5]})))


def _text_cells(s: pd.Series, col: Column, ctx: Ctx) -> tuple[pd.Series, pd.Series]:
    """Cells of a text-typed column as Arrow strings and their missing mask; missing values are reported."""
    raw = _text(s)
    na = _na_mask(raw)
    _missing(s, col, ctx, na, raw)
    return raw, na


def coerce_column(s: pd.Series, col: Column, ctx: Ctx, *, tz: str) -> tuple[pd.Series, pd.Series | None]:
    """Coerce one column to its contract type; problems go to ``ctx``.

    Returns the typed series and, for ``ratio`` columns, the mask of cells written with ``%``.
    """
    t = col.type
    if t == "str":
        raw = _text(s)
        out = raw.str.strip()
        out = out.mask(out == "")
        if col.required:
            ctx.report(out.isna(), "empty_required", column=col.name)
        return out, None
    if t == "id":
        return _coerce_id(s, col, ctx), None
    if t == "bool":
        return _coerce_bool(s, col, ctx), None
    if t in ("float", "int", "ratio"):
        return _coerce_number(s, col, ctx)
    if t in ("ts", "date"):
        return _coerce_datetime(s, col, ctx, tz=tz), None
    raise AssertionError(f"unknown column type {t!r}")


def _coerce_id(s: pd.Series, col: Column, ctx: Ctx) -> pd.Series:
    if pd.api.types.is_integer_dtype(s):
        out = s.astype("string")
        _missing(s, col, ctx, out.isna(), None)
        return out
    if pd.api.types.is_float_dtype(s):
        whole = s.notna() & (s == np.floor(s))
        out = pd.Series(pd.NA, index=s.index, dtype="string")
        out[whole] = s[whole].astype("int64").astype("string")
        frac = s.notna() & ~whole
        out[frac] = s[frac].astype("string")
        _missing(s, col, ctx, out.isna(), None)
        return out
    raw, na = _text_cells(s, col, ctx)
    return _fold(raw).mask(na)


def _coerce_bool(s: pd.Series, col: Column, ctx: Ctx) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    raw, na = _text_cells(s, col, ctx)
    low = _fold(raw).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(_TRUE).fillna(False)] = True
    out[low.isin(_FALSE).fillna(False)] = False
    ctx.report(~na & out.isna(), "not_bool", column=col.name, values=raw)
    return out


def _coerce_number(s: pd.Series, col: Column, ctx: Ctx) -> tuple[pd.Series, pd.Series | None]:
    pct: pd.Series | None = None
    if pd.api.types.is_bool_dtype(s):
        ctx.add("bool_in_number", column=col.name)
        out = pd.Series(np.nan, index=s.index, dtype="float64")
    elif pd.api.types.is_numeric_dtype(s):
        out = s.astype("float64")
        if col.required:
            ctx.report(out.isna(), "empty_required", column=col.name)
    else:
        raw, na = _text_cells(s, col, ctx)
        t = raw.str.strip()
        plain = t.str.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]+)?").fillna(False)
        pct = pd.Series(False, index=s.index)
        if not plain.all():  # the slow forms only on the cells that need them
            odd = ~plain & ~na
            u = _fold(t[odd])
            pct[odd] = u.str.endswith("%").fillna(False)
            u = u.str.replace(r"\s*%$", "", regex=True)
            u = u.str.replace(r"^([+-]?)\s*[¥$]\s*", r"\1", regex=True).str.replace(r"\s*元$", "", regex=True)
            t = t.copy()
            t[odd] = u
        ok = t.str.fullmatch(_NUM_RE).fillna(False) & ~na
        ctx.report(~na & ~ok, "not_number", column=col.name, values=raw)
        good = t.where(ok).str.replace(",", "", regex=False)
        out = pd.to_numeric(good).astype("float64") if ok.any() else pd.Series(np.nan, index=s.index)
        out = out.where(ok)
        if col.type == "ratio":
            out = out.where(~pct, out / 100.0)
        else:
            ctx.report(pct & ok, "percent_not_allowed", column=col.name, values=raw)
            out = out.where(~pct)
    if col.type == "int":
        frac = out.notna() & (out != np.floor(out))
        ctx.report(frac, "not_whole", column=col.name, values=s)
        return out.where(~frac).round().astype("Int64"), pct
    return out, pct


def _parse_iso(t: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Parse ISO strings (naive or aware); returns (naive local datetimes, mask of values that failed)."""
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    bad = pd.Series(False, index=t.index)
    aware = t.str.contains(_AWARE_RE, regex=True).fillna(False)
    for sub_mask, utc in ((~aware, False), (aware, True)):
        sub = t[sub_mask]
        if sub.empty:
            continue
        try:
            parsed = pd.to_datetime(sub, format="ISO8601", utc=utc)
        except (ValueError, TypeError, OverflowError):
            # Rare: a value matched the pattern but is no date (2026-13-45): parse distinct values one by one.
            vals: dict[str, pd.Timestamp | None] = {}
            for v in sub.unique():
                try:
                    vals[v] = pd.Timestamp(v)
                except (ValueError, TypeError, OverflowError):
                    vals[v] = None
            bad_vals = {v for v, p in vals.items() if p is None}
            bad |= sub_mask & t.isin(bad_vals)
            sub = sub[~sub.isin(bad_vals)]
            parsed = pd.to_datetime(sub, format="ISO8601", utc=utc)
        if utc:
            parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
        out[sub.index] = parsed.astype("datetime64[us]")
    return out, bad


def _coerce_datetime(s: pd.Series, col: Column, ctx: Ctx, *, tz: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(tz).dt.tz_localize(None)
        out = out.astype("datetime64[us]")
        if col.required:
            ctx.report(out.isna(), "empty_required", column=col.name)
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = _from_serial(s.astype("float64"), col, ctx, s)
        if col.required:
            ctx.report(s.isna(), "empty_required", column=col.name)
    else:
        raw, na = _text_cells(s, col, ctx)
        t = raw.str.strip()
        iso = t.str.fullmatch(_ISO_RE).fillna(False) & ~na
        if not (iso | na).all():  # normalise only the cells that are not ISO already
            odd = ~iso & ~na
            u = _fold(t[odd])
            u = u.str.replace(r"^([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?", r"\1-\2-\3", regex=True)
            u = u.str.replace(r"^([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})($|[ T])", r"\1-\2-\3\4", regex=True)
            u = u.str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", r"\1-\2-\3", regex=True)
            u = u.str.replace(r"^(\S+)\s+([0-9]):", r"\1 0\2:", regex=True)  # 8:30 → 08:30
            u = u.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True)
            u = u.str.replace(r"\s+([+-][0-9]{2}:?[0-9]{2})$", r"\1", regex=True)
            t = t.copy()
            t[odd] = u
            iso = t.str.fullmatch(_ISO_RE).fillna(False) & ~na
        serial = t.str.fullmatch(_SERIAL_RE).fillna(False) & ~na
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
        if iso.any():
            parsed, failed = _parse_iso(t[iso], tz)
            out[iso] = parsed
            iso &= ~failed.reindex(s.index, fill_value=False)
        if serial.any():
            out[serial] = _from_serial(pd.to_numeric(t[serial]), col, ctx, raw[serial])
        ctx.report(~na & ~iso & ~serial, "not_datetime" if col.type == "ts" else "not_date", column=col.name,
                   values=raw)
    years = out.dt.year
    far = out.notna() & ((years < YEAR_RANGE[0]) | (years > YEAR_RANGE[1]))
    if far.any():
        ctx.report(far, "year_out_of_range", column=col.name, values=out[far].dt.strftime("%Y-%m-%d"),
                   lo=YEAR_RANGE[0], hi=YEAR_RANGE[1])
    if col.type == "date":
        out = out.dt.normalize()
    return out


def _from_serial(x: pd.Series, col: Column, ctx: Ctx, raw: pd.Series) -> pd.Series:
    lo, hi = SERIAL_RANGE
    ok = x.notna() & (x >= lo) & (x < hi + 1)
    ctx.report(x.notna() & ~ok, "serial_out_of_range", column=col.name, values=raw, lo=lo, hi=hi)
    secs = (x.where(ok) * 86400).round()
    out = _EXCEL_EPOCH + pd.to_timedelta(secs, unit="s")
    return out.astype("datetime64[us]")


def check_header(columns: list[str], schema: TableSchema, ctx: Ctx) -> bool:
    """Report missing, duplicated and unknown column names; returns False when the file cannot be read on.

    Unknown columns pass through as text (a warning lists them). When an unknown name is close to
    a contract name (``difflib``), the message suggests it: an error when that contract column is
    required and missing, a warning otherwise.
    """
    known = schema.names
    dup = sorted(c for c, k in Counter(columns).items() if k > 1)
    for c in dup:
        ctx.add("duplicate_column", column=c)
    present = set(columns)
    missing = [c for c in schema.required if c not in present]
    unknown = [c for c in columns if c not in known]
    lower = {k.lower(): k for k in known}
    suggested: dict[str, str] = {}
    for u in unknown:
        key = u.strip().lower().replace(" ", "_").replace("-", "_")
        match = lower.get(key) or next(iter(difflib.get_close_matches(u.lower(), list(lower), n=1, cutoff=0.6)), None)
        if match:
            suggested[u] = lower.get(match, match)
    for m in missing:
        near = [u for u, k in suggested.items() if k == m]
        if near:
            ctx.add("unknown_column_suggest", column=near[0], name=near[0], suggestion=m)
        else:
            ctx.add("missing_column", column=m, found=", ".join(map(repr, columns)) or "none")
    for u in unknown:
        if u in suggested and suggested[u] in missing:
            continue
        if u in suggested and suggested[u] not in present:
            ctx.add("unknown_column_suggest", column=u, level="warning", name=u, suggestion=suggested[u])
        else:
            ctx.add("extra_column", column=u, level="warning", name=u)
    return not missing and not dup


def coerce_frame(df: pd.DataFrame, schema: TableSchema, ctx: Ctx, *, tz: str) -> pd.DataFrame:
    """Coerce every declared column of ``df`` (header already checked); unknown columns pass through as text.

    Problems are appended to ``ctx.problems``; the returned frame has a fresh RangeIndex.
    """
    df = df.reset_index(drop=True)
    if len(ctx.lines) != len(df):
        ctx.lines = pd.Series(np.arange(1, len(df) + 1), index=df.index)
    out: dict[str, pd.Series] = {}
    pcts: dict[str, pd.Series] = {}
    for c in schema.columns:
        if c.name not in df.columns:
            continue
        out[c.name], pct = coerce_column(df[c.name], c, ctx, tz=tz)
        if pct is not None:
            pcts[c.name] = pct
    for name, pct in pcts.items():
        _mixed_percent(out[name], pct, schema.column(name), out, df[name], ctx)
    for c in df.columns:
        if c not in out:
            out[c] = df[c] if pd.api.types.is_string_dtype(df[c]) else df[c].astype("string")
    return pd.DataFrame(out, index=df.index)


def _mixed_percent(vals: pd.Series, pct: pd.Series, col: Column, frame: dict[str, pd.Series], raw: pd.Series,
                   ctx: Ctx) -> None:
    """The mixed-percent rule: in a group with any ``%`` value, a plain number above 1 is ambiguous."""
    if not pct.any():
        return
    if col.group and col.group in frame:
        group = frame[col.group].fillna("")
        has_pct = pct.groupby(group).transform("any")
    else:
        has_pct = pd.Series(True, index=vals.index)
    ambiguous = has_pct & ~pct & (vals.abs() > 1)
    ctx.report(ambiguous, "mixed_percent", column=col.name, values=raw, group=col.group or col.name)
