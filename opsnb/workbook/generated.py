"""What opsnb generates in a workbook, and the workbook's record of what it generated (``.opsnb/``).

``.opsnb/generated.json`` holds the opsnb version, the answers the files were generated with (unit,
language, pack) and a fingerprint per generated file; ``.opsnb/base/<path>`` holds each file as it was
generated, so an upgrade can show a team what a new version changes in a file they edited. A notebook's
fingerprint covers its cells' types, sources and tags only: a notebook run and saved in JupyterLab (with
outputs and execution counts) is still unedited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsnb import __version__
from opsnb.paths import atomic_write
from opsnb.workbook import defaults, notebooks

#: The workbook's record: what opsnb generated, with what answers.
RECORD = Path(".opsnb") / "generated.json"
#: The generated files as they were written (the base an edited file is compared with).
BASE = Path(".opsnb") / "base"
#: The answers a workbook's default.yaml is generated with.
ANSWERS = ("unit", "lang", "pack")


def generated_files(answers: dict[str, Any]) -> dict[str, str]:
    """Workbook path → text of every file opsnb generates for these answers (default params, six notebooks)."""
    return {"params/default.yaml": defaults.text(answers, header=defaults.WORKBOOK_HEADER), **notebooks.files()}


def _cells(text: str) -> list[tuple[str, str, list[str]]] | None:
    """A notebook's cells as (type, source, tags); None when the text is no notebook."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        out = []
        for c in cells:
            src = c.get("source", "")
            out.append((str(c.get("cell_type", "")), "".join(src) if isinstance(src, list) else str(src),
                        sorted(str(x) for x in (c.get("metadata") or {}).get("tags", []))))
        return out
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def fingerprint(path: str, text: str) -> str:
    """SHA-256 of what the team may have edited: a notebook's cells (not outputs), a text file's lines."""
    cells = _cells(text) if path.endswith(".ipynb") else None
    body = json.dumps(cells, ensure_ascii=False) if cells is not None else text.replace("\r\n", "\n")
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def readable(path: str, text: str) -> list[str]:
    """``text`` as lines to diff: a notebook's cells one after another (``# %% [code] tags``), else as is."""
    cells = _cells(text) if path.endswith(".ipynb") else None
    if cells is None:
        return text.replace("\r\n", "\n").splitlines(keepends=True)
    out: list[str] = []
    for kind, src, tags in cells:
        out.append(f"# %% [{kind}]" + (f" tags={','.join(tags)}" if tags else "") + "\n")
        out += [line if line.endswith("\n") else line + "\n" for line in src.splitlines(keepends=True)]
    return out


@dataclass
class Record:
    """``.opsnb/generated.json``: the version, the answers, a fingerprint per generated file."""

    opsnb: str
    answers: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> Record | None:
        """The workbook's record; None when it has none (not made by ``opsnb init``)."""
        path = root / RECORD
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(str(data.get("opsnb", "")), dict(data.get("answers") or {}), dict(data.get("files") or {}))

    def base(self, root: Path, path: str) -> str | None:
        """The file as opsnb last generated it, if kept."""
        p = root / BASE / path
        return p.read_text(encoding="utf-8") if p.is_file() else None

    def remember(self, root: Path, path: str, text: str) -> None:
        """Record ``text`` as what opsnb generated at ``path`` (fingerprint and base copy)."""
        self.files[path] = fingerprint(path, text)
        atomic_write(root / BASE / path, lambda p: p.write_text(text, encoding="utf-8"))

    def write(self, root: Path) -> None:
        """Write ``.opsnb/generated.json`` (atomically)."""
        body = json.dumps({"opsnb": self.opsnb, "answers": self.answers, "files": dict(sorted(self.files.items()))},
                          ensure_ascii=False, indent=2) + "\n"
        atomic_write(root / RECORD, lambda p: p.write_text(body, encoding="utf-8"))


def new_record(answers: dict[str, Any]) -> Record:
    """An empty record for these answers, at the installed version."""
    return Record(__version__, {k: answers[k] for k in ANSWERS if k in answers})
