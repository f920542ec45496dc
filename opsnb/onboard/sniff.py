"""Read a folder of exports: each file's (and each sheet's) header and a sample of its rows, as text cells.

Cells are read as ingest reads them (CSV/TSV decoded UTF-8 with or without BOM, else GB18030/GBK; Excel
cells through :func:`opsnb.pack.readers` rules: whole numbers without ``.0``, dates as ISO text), so what
the values look like here is what ``opsnb validate`` will see. :class:`Profile` says what a column's values
are, judged by ingest's own coercion (:func:`opsnb.pack.coerce.coerce_column`): the share of values that
read as a date-time, a number, a yes/no …
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opsnb.pack.coerce import NA_MARKERS, SERIAL_RANGE, Ctx, coerce_column
from opsnb.pack.config import CONFIG_NAME
from opsnb.pack.core import SIDECARS, SUFFIXES, UNSUPPORTED
from opsnb.pack.readers import ENCODINGS
from opsnb.pack.readers import _cell_text as cell_text  # the ingest's own cell text, so values look the same
from opsnb.pack.schemas import ColType, Column

#: Rows read from each file or sheet.
SAMPLE_ROWS = 500
#: Bytes read from the start of a CSV/TSV file (enough for the sample rows of any export).
SAMPLE_BYTES = 1 << 20
#: Files in an exports folder that are no export (never listed).
QUIET = (CONFIG_NAME, "pack.proposed.yaml", "README.md", "readme.md", *SIDECARS)


@dataclass
class Source:
    """One table-shaped thing in the exports: a CSV/TSV/Parquet file or one sheet of an Excel file.

    Attributes
    ----------
    file, sheet : str, str or None
        File name in the folder; the Excel sheet (None for other files).
    columns : list of str
        The header as ingest reads it (stripped).
    frame : DataFrame
        The sample rows, every cell text (empty string for an empty cell).
    encoding : str or None
        ``utf-8``, ``utf-8-sig`` (with BOM) or ``gb18030`` for CSV/TSV.
    notes : list of (code, kwargs)
        Things about the file a user must fix before ingest reads it (``onboard.note.<code>``).
    """

    file: str
    sheet: str | None
    columns: list[str]
    frame: pd.DataFrame
    encoding: str | None = None
    notes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _profiles: dict[str, Profile] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """``订单导出.xlsx › 订单明细`` or ``users.csv``."""
        return f"{self.file} › {self.sheet}" if self.sheet is not None else self.file

    @property
    def stem(self) -> str:
        """The file name without its suffix."""
        return Path(self.file).stem

    def profile(self, header: str, tz: str) -> Profile:
        """What the values of column ``header`` are (computed once)."""
        if header not in self._profiles:
            col = self.frame[header] if header in self.frame.columns else pd.Series([], dtype="string")
            if isinstance(col, pd.DataFrame):  # a header given twice: the first one
                col = col.iloc[:, 0]
            self._profiles[header] = Profile(col.astype("string").fillna(""), tz)
        return self._profiles[header]


@dataclass
class Skipped:
    """A file of the folder that is not read, and why (``onboard.skip.<code>``)."""

    file: str
    code: str
    kw: dict[str, str] = field(default_factory=dict)


class Profile:
    """The values of one column of the sample, as ingest would read them.

    ``fits(type)`` is the share of the non-empty values that ingest reads as that contract type
    (``ts``, ``date``, ``float``, ``int``, ``bool``, ``ratio``); ``serial`` the share that are Excel day
    numbers (``46296``, ``46296.5``); ``text_dates`` the share of the values that are not plain numbers
    and read as dates.
    """

    def __init__(self, values: pd.Series, tz: str) -> None:
        v = values.astype("string").str.strip()
        present = ~v.str.lower().isin(NA_MARKERS).fillna(True)
        self.values = v[present].reset_index(drop=True)
        self.tz = tz
        self.n = len(self.values)
        self.distinct = int(self.values.nunique())
        self._fits: dict[str, float] = {}

    @property
    def examples(self) -> list[str]:
        """Up to three distinct values, shortened."""
        out = []
        for x in self.values.drop_duplicates().head(3):
            out.append(x if len(x) <= 24 else x[:23] + "…")
        return out

    def fits(self, type_: ColType) -> float:
        """Share of the values ingest reads as ``type_`` (1.0 for an empty column: nothing contradicts it)."""
        if self.n == 0:
            return 1.0
        if type_ in ("id", "str"):
            return 1.0
        if type_ not in self._fits:
            ctx = Ctx(file="sample", lines=pd.Series(range(2, self.n + 2)))
            typed, _ = coerce_column(self.values, Column("x", type_, required=False), ctx, tz=self.tz)
            self._fits[type_] = float(typed.notna().sum()) / self.n
        return self._fits[type_]

    @property
    def plain_numbers(self) -> pd.Series:
        """Mask of the values that are plain numbers (``12``, ``-3.50``)."""
        return self.values.str.fullmatch(r"[+-]?[0-9]+(?:\.[0-9]+)?").fillna(False)

    @property
    def serial(self) -> float:
        """Share of the values that are Excel day numbers in the accepted range."""
        if self.n == 0:
            return 0.0
        x = pd.to_numeric(self.values[self.plain_numbers])  # plain numbers only: nothing to coerce away
        lo, hi = SERIAL_RANGE
        return float(((x >= lo) & (x < hi + 1)).sum()) / self.n

    @property
    def text_dates(self) -> float:
        """Share of all values that are written as dates (not plain numbers) and read as dates."""
        if self.n == 0:
            return 0.0
        words = self.values[~self.plain_numbers]
        if words.empty:
            return 0.0
        ctx = Ctx(file="sample", lines=pd.Series(range(2, len(words) + 2)))
        typed, _ = coerce_column(words.reset_index(drop=True), Column("x", "ts", required=False), ctx, tz=self.tz)
        return float(typed.notna().sum()) / self.n

    @property
    def has_time(self) -> bool:
        """Whether some value carries a time of day (``2026-10-01 08:30``, a serial with a fraction)."""
        return bool(self.values.str.contains(r"[0-9]:[0-9]{2}|^[0-9]{5}\.[0-9]*[1-9]", regex=True).fillna(False).any())

    @property
    def fractional(self) -> float:
        """Share of the values that are numbers with a fractional part (``199.50``)."""
        if self.n == 0:
            return 0.0
        return float(self.values.str.fullmatch(r"[¥$￥]?\s*[+-]?[0-9,]*\.[0-9]+\s*元?").fillna(False).sum()) / self.n

    def share_in(self, words: set[str]) -> float:
        """Share of the values that, trimmed and lower-cased, are in ``words``."""
        if self.n == 0:
            return 1.0
        return float(self.values.str.lower().isin(words).sum()) / self.n


# ---------------------------------------------------------------- reading


def _decode(data: bytes) -> tuple[str, str] | None:
    """The text of a (possibly cut) sample and its encoding; None when no encoding fits."""
    for enc in ENCODINGS:
        for cut in (0, 1, 2, 3):  # the sample may end inside a multi-byte character
            chunk = data[: len(data) - cut] if cut else data
            try:
                text = chunk.decode(enc)
            except UnicodeDecodeError:
                continue
            name = "utf-8-sig" if enc == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else (
                "utf-8" if enc == "utf-8-sig" else enc)
            return text, name
    return None


def _read_csv(path: Path, sep: str) -> tuple[Source | None, Skipped | None]:
    with path.open("rb") as f:
        data = f.read(SAMPLE_BYTES)
        whole = not f.read(1)
    if not data.strip(b"\xef\xbb\xbf \r\n\t"):
        return None, Skipped(path.name, "empty")
    if not whole and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    decoded = _decode(data)
    if decoded is None:
        return None, Skipped(path.name, "encoding", {"tried": ", ".join(ENCODINGS)})
    text, encoding = decoded
    text = text.lstrip("\ufeff")
    notes: list[tuple[str, dict[str, str]]] = []
    first = text.split("\n", 1)[0]
    other = "\t" if sep == "," else ","
    if sep not in first and other in first:  # a .csv that is tab-separated (or a .tsv with commas)
        notes.append(("separator", {"file": path.name, "suffix": ".tsv" if other == "\t" else ".csv"}))
        sep = other
    rows = list(_take(csv.reader(io.StringIO(text), delimiter=sep), SAMPLE_ROWS + 1))
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        return None, Skipped(path.name, "empty")
    header = [c.strip().lstrip("\ufeff") for c in rows[0]]
    return Source(path.name, None, header, _frame(header, rows[1:]), encoding, notes), None


def _take(it: object, n: int) -> list[list[str]]:
    out: list[list[str]] = []
    for row in it:  # type: ignore[attr-defined]
        out.append(row)
        if len(out) >= n:
            break
    return out


def _frame(header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    width = len(header)
    body = [(list(r) + [""] * width)[:width] for r in rows if any(str(c).strip() for c in r)]
    names = [h if h else f"({i + 1})" for i, h in enumerate(header)]
    return pd.DataFrame(body, columns=names, dtype="string") if body else pd.DataFrame(
        {h: pd.Series([], dtype="string") for h in names})


def _read_xlsx(path: Path) -> tuple[list[Source], Skipped | None]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:  # reported, not fatal
        return [], Skipped(path.name, "unreadable", {"error": f"{type(exc).__name__}: {exc}"})
    out: list[Source] = []
    try:
        for name in wb.sheetnames:
            rows: list[list[str]] = []
            for row in wb[name].iter_rows():
                cells = [cell_text(c) for c in row]
                if not rows and not any(c.strip() for c in cells):
                    continue
                rows.append(cells)
                if len(rows) > SAMPLE_ROWS:
                    break
            if not rows:
                continue
            header = [c.strip() for c in rows[0]]
            while header and header[-1] == "":
                header.pop()
            notes: list[tuple[str, dict[str, str]]] = []
            filled = [c for c in header if c]
            if len(filled) == 1 and len(rows) > 1 and sum(bool(c.strip()) for c in rows[1]) >= 3:
                notes.append(("title_row", {"file": path.name, "sheet": name, "title": filled[0]}))
            out.append(Source(path.name, name, header, _frame(header, rows[1:]), None, notes))
    finally:
        wb.close()
    if not out:
        return [], Skipped(path.name, "empty")
    return out, None


def _read_parquet(path: Path) -> tuple[Source | None, Skipped | None]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        batch = next(pf.iter_batches(batch_size=SAMPLE_ROWS), None)
    except (OSError, ValueError) as exc:  # a damaged file (ArrowInvalid is a ValueError): reported, not fatal
        return None, Skipped(path.name, "unreadable", {"error": f"{type(exc).__name__}: {exc}"})
    header = list(pf.schema_arrow.names)
    if batch is None:
        return Source(path.name, None, header, _frame(header, [])), None
    df = batch.to_pandas()
    text = pd.DataFrame({c: df[c].astype("string").fillna("") for c in df.columns})
    return Source(path.name, None, header, text.reset_index(drop=True)), None


def read_exports(folder: Path) -> tuple[list[Source], list[Skipped]]:
    """Every table-shaped thing in ``folder`` (files and Excel sheets, in name order) and the files not read."""
    sources: list[Source] = []
    skipped: list[Skipped] = []
    for p in sorted(folder.iterdir()):
        if p.is_dir() or p.name.startswith((".", "~$")) or p.name in QUIET:
            continue
        suf = p.suffix.lower()
        if suf not in SUFFIXES:
            if suf in UNSUPPORTED or suf in (".xls", ".numbers", ".et"):
                skipped.append(Skipped(p.name, "unsupported", {"suffix": suf}))
            elif suf not in (".md", ".yaml", ".yml"):
                skipped.append(Skipped(p.name, "not_data", {"suffix": suf or "-"}))
            continue
        if suf == ".xlsx":
            found, skip = _read_xlsx(p)
            sources += found
        elif suf == ".parquet":
            one, skip = _read_parquet(p)
            sources += [one] if one else []
        else:
            one, skip = _read_csv(p, "\t" if suf == ".tsv" else ",")
            sources += [one] if one else []
        if skip is not None:
            skipped.append(skip)
    return sources, skipped

