"""Ingest problems: where they are (file, sheet, column, line), what was found, what was expected.

Every message comes from the ``pack`` i18n catalogue (``opsnb/i18n/<lang>/pack.yaml``): a problem
keeps its message code and arguments, so :func:`format_problems` can print it in either language,
while ``str(problem)`` is the English text (what exceptions and logs show).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from opsnb.errors import Problem

Level = Literal["error", "warning"]

#: Individual problems kept per (file, column, kind) before they are summarised as "… and N more".
PER_KIND_CAP = 10
#: Problems printed per file by :func:`format_problems` before "… and N more".
PER_FILE_CAP = 30

_I18N = Path(__file__).resolve().parent.parent / "i18n"


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """The ``pack.*`` message templates of ``lang`` (``zh`` or ``en``)."""
    path = _I18N / lang / "pack.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def text(key: str, lang: str = "en", /, **kw: Any) -> str:
    """Render the ``pack.<key>`` template in ``lang``; unknown keys fall back to English, then the key."""
    cat = catalogue(lang if lang in ("zh", "en") else "en")
    if kw.get("hint") in ("-", "") and f"pack.{key}.nohint" in cat:
        key = f"{key}.nohint"
    tpl = cat.get(f"pack.{key}") or catalogue("en").get(f"pack.{key}") or key
    return tpl.format(**kw)


@dataclass(frozen=True)
class PackProblem(Problem):
    """A :class:`~opsnb.errors.Problem` of a pack file, with its parts kept apart.

    Attributes
    ----------
    file : str
        File name inside the pack (or ``<orders>`` for in-memory frames, ``pack.yaml``…).
    sheet, column : str
        Excel sheet and contract column (empty when not applicable).
    line : int or None
        1-based line in the file (the header is line 1), Excel row number, or Parquet row.
    line_kind : str
        ``"line"`` (CSV/TSV), ``"row"`` (Excel, Parquet, frames).
    level : {"error", "warning"}
        Errors stop :func:`~opsnb.pack.open_pack`; warnings are reported and kept on ``Pack.warnings``.
    code : str
        Catalogue key (``pack.<code>``), with ``args`` its arguments as sorted ``(name, value)`` pairs.
    """

    file: str = ""
    sheet: str = ""
    column: str = ""
    line: int | None = None
    line_kind: str = "line"
    level: Level = "error"
    code: str = ""
    args: tuple[tuple[str, Any], ...] = ()

    def render(self, lang: str = "en", *, with_file: bool = True) -> str:
        """The problem as one line of text in ``lang``."""
        kw = dict(self.args)
        parts = []
        if with_file and self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(text("where.sheet", lang, sheet=self.sheet))
        if self.column:
            parts.append(text("where.column", lang, column=self.column))
        if self.line is not None:
            parts.append(text(f"where.{self.line_kind}", lang, n=self.line))
        where = ("，" if lang == "zh" else ", ").join(parts)
        msg = text(self.code, lang, **kw) if self.code else self.message
        out = f"{where}: {msg}" if where else msg
        if self.value is not None:
            out += text("got", lang, value=repr(self.value))
        exp = text(f"{self.code}.expected", lang, **kw) if self.code and self.expected else self.expected
        if exp:
            out += text("expected", lang, expected=exp)
        return out

    def __str__(self) -> str:
        return self.render("en")


def problem(code: str, /, *, file: str = "", sheet: str = "", column: str = "", line: int | None = None,
            line_kind: str = "line", value: object = None, level: Level = "error", **kw: Any) -> PackProblem:
    """Build a :class:`PackProblem` whose English message and expectation come from the catalogue."""
    msg = text(code, "en", **kw)
    exp_key = f"pack.{code}.expected"
    expected = text(f"{code}.expected", "en", **kw) if exp_key in catalogue("en") else ""
    parts = [file] if file else []
    if sheet:
        parts.append(f"sheet '{sheet}'")
    if column:
        parts.append(f"column '{column}'")
    if line is not None:
        parts.append(f"{line_kind} {line}")
    return PackProblem(", ".join(parts) or "pack", msg, value, expected, file=file, sheet=sheet, column=column,
                       line=line, line_kind=line_kind, level=level, code=code, args=tuple(sorted(kw.items())))


def is_error(p: Problem) -> bool:
    """Whether ``p`` stops the pack from opening (plain Problems always do)."""
    return getattr(p, "level", "error") == "error"


def _file_of(p: Problem) -> str:
    f = getattr(p, "file", "")
    return f or p.where.split(",")[0]


def format_problems(problems: list[Problem], lang: str = "en", *, per_file: int = PER_FILE_CAP) -> str:
    """Text for ``opsnb validate``: a count line, then the problems grouped by file.

    Parameters
    ----------
    problems : list of Problem
        What :func:`~opsnb.pack.validate_pack` returned.
    lang : {"en", "zh"}
        Language of the text.
    per_file : int
        At most this many problems are printed per file, then "… and N more".

    Returns
    -------
    str
        ``"no problems"`` (translated) when the list is empty.
    """
    if not problems:
        return text("fmt.ok", lang)
    n_err = sum(is_error(p) for p in problems)
    lines = [text("fmt.summary", lang, errors=n_err, warnings=len(problems) - n_err)]
    groups: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        groups[_file_of(p)].append(p)
    for file, items in groups.items():
        items = sorted(items, key=lambda p: not is_error(p))  # errors first, stable otherwise
        lines.append(f"{file}:")
        for p in items[:per_file]:
            mark = "✗" if is_error(p) else "!"
            body = p.render(lang, with_file=False) if isinstance(p, PackProblem) else str(p)
            lines.append(f"  {mark} {body}")
        if len(items) > per_file:
            lines.append("  " + text("fmt.more", lang, n=len(items) - per_file))
    return "\n".join(lines)
