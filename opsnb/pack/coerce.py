"""Type coercion of raw pack columns to the contract's types, reporting every bad value.

Never ``errors="coerce"``: a value that cannot be read is a :class:`~opsnb.errors.Problem`
naming the file, column, 1-based file line and the value, never a silent NaN.
"""

from __future__ import annotations

import pandas as pd

from opsnb.errors import Problem
from opsnb.pack.schemas import Column, TableSchema

_TRUE = {"1", "true", "yes", "y", "t", "是", "会员"}
_FALSE = {"0", "false", "no", "n", "f", "否", "非会员"}


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def coerce_column(s: pd.Series, col: Column, *, tz: str, where: str, line_of: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Coerce one column; return the typed series and the problems found (one per bad cell)."""
    problems: list[Problem] = []
    blank = _blank(s)
    if col.required and blank.any():
        for i in blank[blank].index[:20]:
            problems.append(Problem(f"{where}, column '{col.name}', line {line_of[i]}", "empty value in a required column",
                                    "", "a value"))
    t = col.type
    if t in ("id", "str"):
        if pd.api.types.is_float_dtype(s) and t == "id":
            s = s.map(lambda v: None if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
        out = s.astype("string").str.strip()
        out = out.mask(blank)
        return out, problems
    if t == "bool":
        low = s.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[low.isin(_TRUE)] = True
        out[low.isin(_FALSE)] = False
        bad = ~blank & out.isna()
        for i in bad[bad].index[:20]:
            problems.append(Problem(f"{where}, column '{col.name}', line {line_of[i]}", "not a yes/no value",
                                    s[i], "true/false, 1/0, yes/no, 是/否"))
        return out, problems
    if t in ("float", "int", "ratio"):
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out = s.astype("float64")
        else:
            txt = s.astype("string").str.strip().str.replace(",", "", regex=False).str.replace(r"^[¥￥$]", "", regex=True)
            out = _to_float(txt, blank)
            bad = ~blank & out.isna()
            for i in bad[bad].index[:20]:
                problems.append(Problem(f"{where}, column '{col.name}', line {line_of[i]}", "not a number", s[i],
                                        "a number such as 1200 or 1,200.50"))
        if col.nonnegative:
            neg = out < 0
            for i in neg[neg.fillna(False)].index[:20]:
                problems.append(Problem(f"{where}, column '{col.name}', line {line_of[i]}", "negative value", s[i],
                                        "a value >= 0"))
        if t == "int":
            return out.round().astype("Int64"), problems
        return out, problems
    if t in ("ts", "date"):
        if pd.api.types.is_datetime64_any_dtype(s):
            out = s
        else:
            out = _parse_datetimes(s.astype("string").str.strip().mask(blank), tz)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(tz).dt.tz_localize(None)
        bad = ~blank & out.isna()
        for i in bad[bad].index[:20]:
            problems.append(Problem(f"{where}, column '{col.name}', line {line_of[i]}", "not a date/time", s[i],
                                    "a date such as 2026-10-01 or 2026-10-01 08:30:00"))
        out = out.astype("datetime64[us]")
        if t == "date":
            out = out.dt.normalize()
        return out, problems
    raise AssertionError(t)


def _parse_one(v: object, tz: str) -> pd.Timestamp | None:
    if v is None or v is pd.NA:
        return None
    try:
        ts = pd.Timestamp(str(v))
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz).tz_localize(None)
    return ts


def _parse_datetimes(txt: pd.Series, tz: str) -> pd.Series:
    """Vectorised ISO parse; per-distinct-value parse when the column mixes forms or zones."""
    try:
        out = pd.to_datetime(txt, format="ISO8601")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(tz).dt.tz_localize(None)
        return out
    except (ValueError, TypeError):
        uniq = {v: _parse_one(v, tz) for v in txt.dropna().unique()}
        return pd.to_datetime(txt.map(uniq))


def _to_float(txt: pd.Series, blank: pd.Series) -> pd.Series:
    def one(v: object) -> float | None:
        try:
            return float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    return pd.Series([None if b else one(v) for v, b in zip(txt, blank, strict=True)], index=txt.index, dtype="float64")


def coerce_frame(df: pd.DataFrame, schema: TableSchema, *, tz: str, where: str,
                 first_line: int = 2) -> tuple[pd.DataFrame, list[Problem]]:
    """Coerce every declared column of ``df``; unknown columns pass through as text."""
    problems: list[Problem] = []
    missing = [c for c in schema.required if c not in df.columns]
    if missing:
        problems.append(Problem(where, f"missing required column(s) {missing}", None,
                                f"columns {schema.names}; columns in file: {list(df.columns)}"))
        return df, problems
    df = df.reset_index(drop=True)
    line_of = pd.Series(range(first_line, first_line + len(df)), index=df.index)
    out = {}
    for c in schema.columns:
        if c.name not in df.columns:
            continue
        out[c.name], p = coerce_column(df[c.name], c, tz=tz, where=where, line_of=line_of)
        problems += p
    for c in df.columns:
        if c not in out:
            out[c] = df[c]
    return pd.DataFrame(out), problems
