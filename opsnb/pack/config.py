"""``pack.yaml``: map other file, sheet and column names onto the contract, and name the data's values per
language, validated with clear errors.

.. code-block:: yaml

    tables:
      orders: {file: 订单导出.xlsx, sheet: Sheet1, columns: {订单号: order_id, 用户ID: user_id, 下单时间: ts, 实付金额: amount}}
      users: {file: users_gbk.csv, encoding: gb18030}
    labels:                      # display names of category values, per column (or table.column), per language
      platform: {小程序: {en: Mini program}, App: {zh: App, en: App}}
      feedback.category: {物流: {en: Logistics}}
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from opsnb.pack.problems import PackProblem, problem
from opsnb.pack.schemas import SCHEMAS

CONFIG_NAME = "pack.yaml"
_TOP_KEYS = ("tables", "labels")
_SPEC_KEYS = ("file", "sheet", "columns", "encoding")
#: A warehouse pack's pack.yaml (one with ``url``): top-level and per-table keys.
_WAREHOUSE_TOP = ("url", "password_env", "timeout", "tables", "labels")
_WAREHOUSE_SPEC = ("table", "columns")


@dataclass(frozen=True)
class TableSpec:
    """Where one contract table comes from: file, optional sheet and encoding, column renames."""

    file: str
    sheet: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    def key(self) -> str:
        """A stable text of the spec for cache keys."""
        cols = ";".join(f"{k}={v}" for k, v in sorted(self.columns.items()))
        return f"{self.file}|{self.sheet}|{self.encoding}|{cols}"


def _near(word: str, options: list[str] | tuple[str, ...]) -> str:
    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return m[0] if m else ""


def _read(folder: Path) -> tuple[object, list[PackProblem]]:
    """The parsed ``folder/pack.yaml`` (None when absent or empty) and its syntax problems."""
    path = folder / CONFIG_NAME
    if not path.is_file():
        return None, []
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig")), []
    except UnicodeDecodeError:
        return None, [problem("config_encoding", file=CONFIG_NAME)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [problem("config_yaml", file=CONFIG_NAME, line=line, error=str(getattr(exc, "problem", exc)))]


def warehouse_config(folder: Path) -> tuple[dict[str, object] | None, list[PackProblem]]:
    """``folder/pack.yaml`` when it names a warehouse (has ``url``), validated; else ``(None, [])``.

    .. code-block:: yaml

        url: postgres://analyst@db:5432/shop?schema=ops
        password_env: SHOP_DB_PASSWORD
        tables:
          orders: {table: order_fact, columns: {order_no: order_id, paid_at: ts}}
    """
    data, probs = _read(folder)
    if probs or not isinstance(data, dict) or "url" not in data:
        return None, []

    def bad(code: str, **kw: object) -> None:
        probs.append(problem(code, file=CONFIG_NAME, **kw))  # type: ignore[arg-type]

    for k in data:
        if k not in _WAREHOUSE_TOP:
            bad("config_unknown_key", key=str(k), where="top level", known=", ".join(_WAREHOUSE_TOP),
                hint=_near(str(k), _WAREHOUSE_TOP) or "-")
    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        bad("config_tables_not_mapping", value=type(tables).__name__)
        return None, probs
    for name, spec in tables.items():
        if str(name) not in SCHEMAS:
            bad("config_unknown_table", table=str(name), hint=_near(str(name), sorted(SCHEMAS)) or "-",
                known=", ".join(sorted(SCHEMAS)))
            continue
        if isinstance(spec, str):
            continue
        if not isinstance(spec, dict):
            bad("config_spec_not_mapping", table=str(name), value=type(spec).__name__)
            continue
        for k in spec:
            if k not in _WAREHOUSE_SPEC:
                bad("config_unknown_key", key=str(k), where=f"tables.{name}", known=", ".join(_WAREHOUSE_SPEC),
                    hint=_near(str(k), _WAREHOUSE_SPEC) or "-")
        known = SCHEMAS[str(name)].names
        for src, dst in (spec.get("columns") or {}).items():
            if str(dst) not in known:
                bad("config_unknown_target", table=str(name), source=str(src), target=str(dst),
                    hint=_near(str(dst), known) or "-", known=", ".join(known))
    return (None if probs else data), probs


def load_config(folder: Path) -> tuple[dict[str, TableSpec], list[PackProblem]]:
    """Read and validate ``folder/pack.yaml``; an absent file is an empty mapping."""
    data, probs = _read(folder)
    if probs:
        return {}, probs

    def bad(code: str, **kw: object) -> None:
        probs.append(problem(code, file=CONFIG_NAME, **kw))  # type: ignore[arg-type]

    if data is None:
        return {}, []
    if not isinstance(data, dict):
        bad("config_not_mapping", value=type(data).__name__)
        return {}, probs
    for k in data:
        if k not in _TOP_KEYS:
            bad("config_unknown_key", key=str(k), where="top level", known=", ".join(_TOP_KEYS),
                hint=_near(str(k), _TOP_KEYS) or "-")
    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        bad("config_tables_not_mapping", value=type(tables).__name__)
        return {}, probs
    specs: dict[str, TableSpec] = {}
    files_used: dict[str, str] = {}
    for name, spec in tables.items():
        name = str(name)
        if name not in SCHEMAS:
            bad("config_unknown_table", table=name, hint=_near(name, sorted(SCHEMAS)) or "-",
                known=", ".join(sorted(SCHEMAS)))
            continue
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, dict):
            bad("config_spec_not_mapping", table=name, value=type(spec).__name__)
            continue
        for k in spec:
            if k not in _SPEC_KEYS:
                bad("config_unknown_key", key=str(k), where=f"tables.{name}", known=", ".join(_SPEC_KEYS),
                    hint=_near(str(k), _SPEC_KEYS) or "-")
        file = spec.get("file")
        if not isinstance(file, str) or not file:
            bad("config_no_file", table=name)
            continue
        if not (folder / file).is_file():
            present = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != CONFIG_NAME)
            bad("config_file_missing", table=name, name=file, hint=_near(file, present) or "-",
                found=", ".join(present) or "none")
            continue
        if file in files_used:
            bad("config_file_twice", table=name, other=files_used[file], name=file)
            continue
        files_used[file] = name
        sheet = spec.get("sheet")
        if sheet is not None and (not isinstance(sheet, str | int) or not file.lower().endswith((".xlsx", ".xlsm"))):
            bad("config_sheet_not_excel", table=name, name=file)
            sheet = None
        encoding = spec.get("encoding")
        if encoding is not None:
            try:
                codecs.lookup(str(encoding))
            except LookupError:
                bad("config_encoding_unknown", table=name, value=str(encoding))
                encoding = None
        cols = spec.get("columns") or {}
        mapping: dict[str, str] = {}
        if not isinstance(cols, dict):
            bad("config_columns_not_mapping", table=name, value=type(cols).__name__)
            cols = {}
        known = SCHEMAS[name].names
        targets: dict[str, str] = {}
        for src, dst in cols.items():
            src, dst = str(src), str(dst)
            if dst not in known:
                bad("config_unknown_target", table=name, source=src, target=dst, hint=_near(dst, known) or "-",
                    known=", ".join(known))
                continue
            if dst in targets:
                bad("config_target_twice", table=name, target=dst, first=targets[dst], source=src)
                continue
            targets[dst] = src
            mapping[src] = dst
        specs[name] = TableSpec(file, None if sheet is None else str(sheet),
                                None if encoding is None else str(encoding), mapping)
    return specs, probs


#: Languages a display name may be given in (the report's languages).
LABEL_LANGS = ("zh", "en")

#: value of the data → {language: display name}
Labels = dict[str, dict[str, str]]


def load_labels(folder: Path) -> tuple[Labels, list[PackProblem]]:
    """The display names of ``folder/pack.yaml``'s ``labels``: value → {language: name}, validated.

    ``labels`` maps a contract column (``channel``: every table that has it) or one table's column
    (``campaigns.type``) to its values, each with its names per language (``zh``, ``en``). A value the
    pack does not name is shown as itself. One value has one name per language, whichever column it is
    in (pages name it without knowing its column): two different names for it are an error.
    """
    data, probs = _read(folder)
    if probs or not isinstance(data, dict) or data.get("labels") is None:
        return {}, []

    def bad(code: str, **kw: object) -> None:
        probs.append(problem(code, file=CONFIG_NAME, **kw))  # type: ignore[arg-type]

    labels = data["labels"]
    if not isinstance(labels, dict):
        bad("config_labels_not_mapping", value=type(labels).__name__)
        return {}, probs
    columns = sorted({c for s in SCHEMAS.values() for c in s.names})
    out: Labels = {}
    where: dict[str, str] = {}
    for key, values in labels.items():
        key = str(key)
        table, _, col = key.rpartition(".")
        if table and table not in SCHEMAS:
            bad("config_unknown_table", table=table, hint=_near(table, sorted(SCHEMAS)) or "-",
                known=", ".join(sorted(SCHEMAS)))
            continue
        known = SCHEMAS[table].names if table else columns
        if col not in known:
            bad("config_label_unknown_column", at=key, hint=_near(col, known) or "-", known=", ".join(known))
            continue
        if not isinstance(values, dict):
            bad("config_label_values_not_mapping", at=key, value=type(values).__name__)
            continue
        for value, names in values.items():
            value = str(value)
            if not isinstance(names, dict) or not names:
                bad("config_label_names_not_mapping", at=key, name=value)
                continue
            named: dict[str, str] = {}
            for lang, name in names.items():
                if str(lang) not in LABEL_LANGS:
                    bad("config_label_unknown_lang", at=key, name=value, lang=str(lang),
                        known=", ".join(LABEL_LANGS))
                elif not isinstance(name, str | int | float) or not str(name).strip():
                    bad("config_label_empty", at=key, name=value, lang=str(lang))
                else:
                    named[str(lang)] = str(name).strip()
            for lang, name in named.items():
                before = out.get(value, {}).get(lang)
                if before is not None and before != name:
                    bad("config_label_conflict", name=value, lang=lang, first=before, other=where[value],
                        second=name, at=key)
                    continue
                out.setdefault(value, {})[lang] = name
                where.setdefault(value, key)
    return (out if not probs else {}), probs
