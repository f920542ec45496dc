"""``opsnb upgrade [--check]``: bring a workbook's generated files to the installed opsnb, never over the team's work.

Every file opsnb generates (:func:`opsnb.workbook.generated.generated_files`, with the answers recorded at
``opsnb init``) is compared with the workbook's copy and with the record of what was generated:

============  =======================================================================  ===================
state         when                                                                     ``opsnb upgrade``
============  =======================================================================  ===================
current       the copy already is what this version generates                         (record refreshed)
update        the copy is as opsnb last wrote it, and this version writes another     replaced
new           this version generates a file the workbook does not have                written
edited        the team changed the copy since opsnb wrote it                          left alone
deleted       the team deleted a generated file                                        left alone
clash         a file of the team's sits where this version would write one            left alone
retired       opsnb wrote it once, this version no longer generates it                left alone
============  =======================================================================  ===================

``--check`` shows the unified diff of each file that would change, and of each edited one the change the
new version makes to what opsnb last wrote (``.opsnb/base/``), to merge by hand.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opsnb import __version__
from opsnb.errors import OpsnbError
from opsnb.paths import atomic_write
from opsnb.render.i18n import t
from opsnb.workbook.generated import Record, fingerprint, generated_files, readable

State = Literal["current", "update", "new", "edited", "deleted", "clash", "retired"]
#: States whose file ``opsnb upgrade`` writes.
WRITES = ("update", "new")


@dataclass(frozen=True)
class FileUpgrade:
    """One generated file: its state, the diff to show (may be empty) and the new text."""

    path: str
    state: State
    diff: str = ""
    new: str = ""
    #: For an edited file: whether the new version changes what opsnb last wrote (else nothing to merge).
    changed: bool = True


def _diff(path: str, old: str | None, new: str) -> str:
    a = readable(path, old) if old is not None else []
    return "".join(difflib.unified_diff(a, readable(path, new), fromfile=f"a/{path}", tofile=f"b/{path}"))


def plan(root: Path, lang: str = "en") -> tuple[Record, list[FileUpgrade]]:
    """The state of every generated file of the workbook at ``root`` (nothing is written).

    Raises
    ------
    OpsnbError
        When the workbook has no record (``.opsnb/generated.json``): it was not made by ``opsnb init``.
    """
    record = Record.read(root)
    if record is None:
        raise OpsnbError(t("workbook.err.no_record", lang, root=root))
    fresh = generated_files(record.answers)
    out: list[FileUpgrade] = []
    for path, new in fresh.items():
        file = root / path
        known = record.files.get(path)
        if not file.is_file():
            out.append(FileUpgrade(path, "deleted" if known else "new", "" if known else _diff(path, None, new), new))
            continue
        text = file.read_text(encoding="utf-8")
        mine = fingerprint(path, text)
        if mine == fingerprint(path, new):
            out.append(FileUpgrade(path, "current", "", new))
        elif known is None:
            out.append(FileUpgrade(path, "clash", "", new))
        elif mine == known:
            out.append(FileUpgrade(path, "update", _diff(path, text, new), new))
        else:
            base = record.base(root, path)
            changed = base is None or fingerprint(path, base) != fingerprint(path, new)
            out.append(FileUpgrade(path, "edited", _diff(path, base, new) if base is not None and changed else "",
                                   new, changed))
    out += [FileUpgrade(path, "retired") for path in record.files if path not in fresh]
    return record, out


def pending(files: list[FileUpgrade]) -> bool:
    """Whether the new version would change something (a file to write, or an edited file's change to merge)."""
    return any(f.state in WRITES or (f.state == "edited" and f.changed) for f in files)


def apply(root: Path, lang: str = "en") -> list[FileUpgrade]:
    """Write the ``update`` and ``new`` files, refresh the record; leave everything else as it is."""
    record, files = plan(root, lang)
    for f in files:
        if f.state in WRITES:
            atomic_write(root / f.path, lambda p, text=f.new: p.write_text(text, encoding="utf-8"))
        if f.state in (*WRITES, "current"):
            record.remember(root, f.path, f.new)
    record.opsnb = __version__
    record.write(root)
    return files


def text(files: list[FileUpgrade], lang: str, *, check: bool, diffs: bool = True) -> str:
    """What ``opsnb upgrade`` prints: a line per file that is not current (with its diff), then a summary."""
    out: list[str] = []
    for f in files:
        if f.state == "current":
            continue
        key = f"workbook.upgrade.{f.state}" + (".check" if check and f.state in WRITES else "")
        if f.state == "edited" and not f.changed:
            key = "workbook.upgrade.edited_same"
        out.append(f"{f.path}: {t(key, lang)}")
        if diffs and f.diff:
            out.append(f.diff.rstrip("\n"))
    n_write = sum(f.state in WRITES for f in files)
    left = [f for f in files if f.state in ("edited", "deleted", "clash", "retired")]
    if not out:
        out.append(t("workbook.upgrade.up_to_date", lang, version=__version__))
    elif check:
        out.append(t("workbook.upgrade.summary_check", lang, n=n_write, m=len(left)))
    else:
        out.append(t("workbook.upgrade.summary", lang, n=n_write, m=len(left), version=__version__))
    return "\n".join(out)
