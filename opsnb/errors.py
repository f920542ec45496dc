"""One exception hierarchy for opsnb, in the manner of papermill's ``exceptions.py``.

Every error says what is wrong, where (key path, or file/sheet/column/row), the bad value,
and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass


class OpsnbError(Exception):
    """Base class of every error opsnb raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, what was expected."""

    where: str
    message: str
    value: object = None
    expected: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.value is not None:
            text += f" (got {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class ProblemsError(OpsnbError):
    """An error carrying every problem found at once (lazy validation, as pandera does)."""

    title = "invalid input"

    def __init__(self, problems: list[Problem], *, title: str | None = None, cap: int = 50):
        self.problems = list(problems)
        if title is not None:
            self.title = title
        if len(self.problems) == 1:
            super().__init__(f"{self.title}: {self.problems[0]}")
            return
        shown = self.problems[:cap]
        lines = [f"{self.title}: {len(self.problems)} problems"]
        lines += [f"  - {p}" for p in shown]
        if len(self.problems) > cap:
            lines.append(f"  … and {len(self.problems) - cap} more")
        super().__init__("\n".join(lines))


class ParamsError(ProblemsError):
    """Settings that fail validation; each problem names the key path and what is allowed."""

    title = "invalid parameters"


class PackError(ProblemsError):
    """A data pack that cannot be read; each problem names file, sheet, column, row and value."""

    title = "invalid data pack"


class NoData(OpsnbError):
    """A subsection cannot be computed because its table or period holds no data.

    Sections show this as a visible "no data" note instead of failing.
    """

    def __init__(self, table: str, reason: str = ""):
        self.table = table
        self.reason = reason
        super().__init__(f"no data in table '{table}'" + (f": {reason}" if reason else ""))


class PeriodNotCovered(OpsnbError):
    """The review period lies outside the pack's data, or holds no day of it: nothing is run or published."""


class SectionError(OpsnbError):
    """A section notebook failed while executing."""


class LockedError(OpsnbError):
    """Another run holds the lock on this output folder."""
