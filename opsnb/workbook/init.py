"""``opsnb init DIR [--from EXPORTS]``: a team's workbook outside the package (docs/onboarding.md).

The workbook is built in a temporary folder beside ``DIR`` and renamed into place, so a failure leaves
nothing behind; ``DIR`` must not exist or be empty (nothing is ever overwritten).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from opsnb import __version__
from opsnb.errors import OpsnbError, Problem
from opsnb.onboard import MapResult, map_exports
from opsnb.pack.config import CONFIG_NAME
from opsnb.pack.core import validate_pack
from opsnb.pack.problems import format_problems, is_error
from opsnb.params import Settings
from opsnb.paths import is_workbook
from opsnb.render.i18n import t
from opsnb.workbook.generated import generated_files, new_record

#: The workbook's pack folder (the exports and their pack.yaml), relative to the workbook.
PACK = "data"
#: Exports larger than this are kept out of git (listed in .gitignore).
LARGE_BYTES = 10 * 1024 * 1024
_UNIT = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")


@dataclass
class InitResult:
    """What ``opsnb init`` made: the workbook, its unit and language, the exports copied and their mapping."""

    root: Path
    unit: str
    lang: str
    written: list[str]
    copied: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    mapped: MapResult | None = None
    kept_pack_yaml: bool = False
    #: The validation of a pack whose pack.yaml came with the exports (``kept_pack_yaml``).
    problems: list[Problem] = field(default_factory=list)

    def text(self) -> str:
        """What the command prints (in the workbook's language), the mapping report included."""
        lang = self.lang
        out = [t("workbook.init.done", lang, root=self.root, unit=self.unit, lang=lang)]
        if self.copied:
            out.append(t("workbook.init.copied", lang, n=len(self.copied), pack=PACK))
        if self.ignored:
            out.append(t("workbook.init.large", lang, files=", ".join(self.ignored)))
        if self.kept_pack_yaml:
            out += [t("workbook.init.kept_pack_yaml", lang, pack=PACK), format_problems(self.problems, lang), ""]
        if self.mapped is not None:
            out += ["", self.mapped.text(lang, folder=PACK), ""]
        errors = self.mapped.errors if self.mapped is not None else sum(is_error(p) for p in self.problems)
        nxt = ("workbook.init.next_empty" if not self.copied else
               "workbook.init.next_fix" if errors else "workbook.init.next")
        out.append(t(nxt, lang, root=self.root, pack=PACK))
        return "\n".join(out)


def _template(name: str) -> str:
    return (resources.files("opsnb.workbook") / "templates" / name).read_text(encoding="utf-8")


def unit_name(folder: Path) -> str:
    """The unit a new workbook is for: the folder's name when it is a valid unit name, else ``team``."""
    return folder.name if _UNIT.match(folder.name) else "team"


def _check_target(target: Path, lang: str) -> None:
    if target.exists() and not target.is_dir():
        raise OpsnbError(t("workbook.err.not_folder", lang, dir=target))
    if target.is_dir() and is_workbook(target):
        raise OpsnbError(t("workbook.err.is_workbook", lang, dir=target))
    if target.is_dir() and any(target.iterdir()):
        raise OpsnbError(t("workbook.err.not_empty", lang, dir=target))


def init_workbook(target: str | Path, *, exports: str | Path | None = None, lang: str = "zh",
                  unit: str | None = None) -> InitResult:
    """Make a team workbook in ``target`` (a new or empty folder).

    Parameters
    ----------
    target : str or Path
        The workbook's folder; it must not exist, or be empty (an :class:`OpsnbError` otherwise).
    exports : str or Path, optional
        A folder of the team's exports: its files are copied into ``data/`` and a ``pack.yaml`` is proposed for
        them (:func:`opsnb.onboard.map_exports`) unless the folder has one; then the pack is validated.
    lang : {"zh", "en"}
        The workbook's language: its reviews, README and the comments of what it writes.
    unit : str, optional
        The unit's name (``params/<unit>.yaml``, ``outputs/<unit>/``); default: :func:`unit_name`.

    Returns
    -------
    InitResult
    """
    target = Path(target).expanduser().resolve()
    _check_target(target, lang)
    unit = unit or unit_name(target)
    if not _UNIT.match(unit):
        raise OpsnbError(t("workbook.err.unit", lang, unit=unit))
    src = Path(exports).expanduser().resolve() if exports is not None else None
    if src is not None and not src.is_dir():
        raise OpsnbError(t("workbook.err.exports", lang, path=src))
    answers = {"unit": unit, "lang": lang, "pack": PACK}
    settings = Settings.model_validate(answers)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.opsnb-init-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        result = _build(tmp, target, answers, settings, src)
        if target.is_dir():
            target.rmdir()  # empty, checked above
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if result.mapped is not None:
        result.mapped.written = target / PACK / CONFIG_NAME
    return result


def _write(root: Path, rel: str, text: str, written: list[str]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as f:  # never over a file
        f.write(text)
    written.append(rel)


def _build(tmp: Path, target: Path, answers: dict[str, str], settings: Settings, src: Path | None) -> InitResult:
    lang, unit = answers["lang"], answers["unit"]
    fill = {"unit": unit, "lang": lang, "pack": PACK, "version": __version__}
    written: list[str] = []
    record = new_record(answers)
    for rel, text in generated_files(answers).items():
        _write(tmp, rel, text, written)
        record.remember(tmp, rel, text)
    record.write(tmp)
    _write(tmp, f"params/{unit}.yaml", _template(f"unit.{lang}.yaml").format(**fill), written)
    _write(tmp, "params/commentary/README.md", _template(f"commentary.{lang}.md").format(**fill), written)
    _write(tmp, "README.md", _template(f"README.{lang}.md").format(**fill), written)
    pack = tmp / PACK
    pack.mkdir()
    copied: list[str] = []
    large: list[str] = []
    if src is not None:
        for p in sorted(src.iterdir()):
            if p.is_file() and not p.name.startswith((".", "~$")):
                shutil.copy2(p, pack / p.name)
                copied.append(p.name)
                if p.stat().st_size > LARGE_BYTES:
                    large.append(f"{PACK}/{p.name}")
    else:
        _write(tmp, f"{PACK}/README.md", t("workbook.data_readme", lang, pack=PACK) + "\n", written)
    ignore = _template("gitignore")
    if large:
        ignore += t("workbook.gitignore_large", lang) + "\n" + "".join(f"/{x}\n" for x in large)
    _write(tmp, ".gitignore", ignore, written)
    result = InitResult(target, unit, lang, written, copied, large)
    if copied:
        keys = tuple(k.key for k in settings.goals.kpis)
        if (pack / CONFIG_NAME).is_file():  # the team's own mapping: kept as it is, and checked
            result.kept_pack_yaml = True
            result.problems = validate_pack(pack, tz=settings.timezone)
        else:
            result.mapped = map_exports(pack, tz=settings.timezone, lang=lang, kpi_keys=keys, out=pack / CONFIG_NAME)
            written.append(f"{PACK}/{CONFIG_NAME}")
    return result
