"""Read one pack file into a frame of text cells (CSV/TSV/XLSX) with the file line of every row.

* CSV/TSV: the bytes are decoded with :data:`ENCODINGS` in order (strictly: a byte sequence that
  is not valid in an encoding moves on to the next); never a silent latin-1 fallback.
* XLSX: the sheet named after the table, else the only sheet (``pack.yaml`` may name another);
  every cell is read as text: whole numbers without ``.0``, dates as ISO text, a number shown with
  a zero-padding format (``00000``) keeps its leading zeros.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opsnb.pack.coerce import Ctx

#: Encodings tried for CSV/TSV, in order (Excel in mainland China saves GB18030/GBK).
ENCODINGS = ("utf-8-sig", "gb18030")


class ReadFailed(Exception):
    """The file cannot be read on; the problem is already in the context."""


@dataclass
class Raw:
    """A file's cells as text, with the file line (or sheet row) of each row in ``ctx.lines``."""

    frame: pd.DataFrame
    columns: list[str]


def decode(data: bytes, ctx: Ctx, encoding: str | None = None) -> str:
    """Decode CSV bytes with the first encoding that fits; report every encoding tried otherwise."""
    tried = (encoding,) if encoding else ENCODINGS
    first_err: UnicodeDecodeError | None = None
    for enc in tried:
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            first_err = first_err or exc
    assert first_err is not None
    line = data[: first_err.start].count(b"\n") + 1
    snippet = data[first_err.start: first_err.start + 4]
    ctx.problems.append(_p(ctx, "bad_encoding", line=line, value=snippet.hex(" "), tried=", ".join(tried)))
    raise ReadFailed


def _p(ctx: Ctx, code: str, **kw: object):  # noqa: ANN202 - small local helper
    from opsnb.pack.problems import problem

    return problem(code, file=ctx.file, sheet=ctx.sheet, line_kind=ctx.line_kind, **kw)  # type: ignore[arg-type]


def read_csv(data: bytes, ctx: Ctx, *, sep: str, encoding: str | None = None) -> Raw:
    """Parse CSV/TSV bytes into text cells; ``ctx.lines`` gets each row's 1-based file line."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip():
        ctx.add("empty_file")
        raise ReadFailed
    text = decode(data, ctx, encoding)
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    columns = [str(c).strip().lstrip("\ufeff") for c in header]
    fast = _read_arrow(text, columns, sep)
    if fast is not None:
        ctx.lines = pd.Series(np.arange(2, len(fast) + 2), index=fast.index)
        return Raw(fast, columns)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, skip_blank_lines=False,
                         header=None, skiprows=1, names=range(len(header)))
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+), saw (\d+)", str(exc))
        exp = re.search(r"Expected (\d+) fields", str(exc))
        ctx.problems.append(_p(ctx, "ragged_row", line=int(m.group(1)) if m else None,
                               fields=m.group(2) if m else "?", expected_n=exp.group(1) if exp else "?"))
        raise ReadFailed from exc
    except pd.errors.EmptyDataError as exc:
        ctx.add("empty_file")
        raise ReadFailed from exc
    df.columns = columns
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(df) + 1 == physical or '"' not in text:
        lines = np.arange(2, len(df) + 2)
    else:  # quoted fields spanning lines: ask the csv module where each record starts
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        starts = []
        prev = 0
        for _ in reader:
            starts.append(prev + 1)
            prev = reader.line_num
        lines = np.array(starts[1: len(df) + 1])
    blank = (df == "").all(axis=1) if len(df.columns) else pd.Series(False, index=df.index)
    df = df[~blank].reset_index(drop=True)
    ctx.lines = pd.Series(lines[~blank.to_numpy()], index=df.index)
    return Raw(df, columns)


def _read_arrow(text: str, columns: list[str], sep: str) -> pd.DataFrame | None:
    """Multithreaded Arrow CSV parse of a well-formed file (every cell text); None to take the careful path.

    The careful (pandas) path handles blank lines, ragged rows and quoted line breaks with exact
    line numbers; Arrow is used only when none occurs, so row ``i`` is file line ``i + 2``.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not columns:
        return None
    bad: list[int] = []

    def invalid(row: object) -> str:
        bad.append(1)
        return "skip"

    names = [f"c{i}" for i in range(len(columns))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=False, ignore_empty_lines=False,
                                             invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if bad or table.num_rows + 1 != physical:
        return None
    df = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    df.columns = columns
    return df


def _cell_text(cell: object) -> str:
    v = getattr(cell, "value", cell)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        fmt = getattr(cell, "number_format", "") or ""
        if re.fullmatch(r"0{2,}", fmt):
            return str(v).zfill(len(fmt))
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def read_xlsx(path, ctx: Ctx, *, table: str, sheet: str | None) -> Raw:  # noqa: ANN001
    """Read the table's sheet of an ``.xlsx`` file as text cells; ``ctx.lines`` gets sheet row numbers."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            if sheet not in names:
                ctx.add("sheet_missing", name=sheet, found=", ".join(map(repr, names)))
                raise ReadFailed
            chosen = sheet
        elif table in names:
            chosen = table
        elif len(names) == 1:
            chosen = names[0]
        else:
            ctx.add("sheet_ambiguous", table=table, found=", ".join(map(repr, names)))
            raise ReadFailed
        ctx.sheet = chosen
        ws = wb[chosen]
        rows: list[list[str]] = []
        numbers: list[int] = []
        header: list[str] | None = None
        for r, row in enumerate(ws.iter_rows(), start=1):
            cells = [_cell_text(c) for c in row]
            if header is None:
                if not any(cells):
                    continue
                header = [c.strip() for c in cells]
                continue
            if any(c.strip() for c in cells):
                rows.append(cells)
                numbers.append(r)
    finally:
        wb.close()
    if header is None:
        ctx.add("empty_file")
        raise ReadFailed
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    rows = [(c + [""] * width)[:width] for c in rows]
    df = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(
        {h: pd.Series([], dtype="string") for h in header})
    ctx.lines = pd.Series(numbers, index=df.index, dtype="int64")
    ctx.line_kind = "row"
    return Raw(df, header)
