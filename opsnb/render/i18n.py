"""Text catalogues, one per language: ``opsnb/i18n/<lang>/<area>.yaml`` merged into one mapping.

Keys are dotted (``goals.bullet.exceeded``); values are ``str.format`` templates. Both languages
must define the same keys (a test enforces it).

Values of the data (a channel 小程序, a region 华东) are shown by their **display names** in the page's
language when the pack names them (``pack.yaml`` ``labels``, :func:`use_labels`, set by ``nb.setup``):
:func:`display_name` is the one route, taken by :func:`t` for every text argument, by ``ui.table`` for
every text cell and by ``ui.figure`` for every chart text. A value the pack does not name shows as itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("zh", "en")

#: value of the data → {language: display name}, for the run in this context (see :func:`use_labels`).
_LABELS: ContextVar[Mapping[str, Mapping[str, str]] | None] = ContextVar("opsnb_labels", default=None)
#: The language of the pages being rendered in this context (what :func:`display_name` uses without one).
_LANG: ContextVar[str] = ContextVar("opsnb_lang", default="zh")
#: Separators of a value made of several (a campaign's channels "微信私域+老带新", a list "抖音、KOL").
_JOINED = re.compile(r"(\s*(?:\+|、|，|,|/|→|·|&)\s*)")


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(node)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The merged catalogue of ``lang`` (``zh`` or ``en``)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {list(LANGS)}")
    out: dict[str, str] = {}
    root = resources.files("opsnb") / "i18n" / lang
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            _flatten("", data, out)
    return out


def t(key: str, lang: str, /, **kwargs: Any) -> str:
    """Translate ``key`` into ``lang`` and fill in ``kwargs``.

    Raises ``KeyError`` naming the key and the language when it is missing, so a missing text
    fails loudly in tests instead of printing a key into a report.
    """
    cat = catalogue(lang)
    try:
        template = cat[key]
    except KeyError:
        raise KeyError(f"no text for key {key!r} in the {lang!r} catalogue (opsnb/i18n/{lang}/*.yaml)") from None
    if not kwargs:
        return template
    if _LABELS.get():  # a value of the data passed into a sentence shows by its display name
        kwargs = {k: display_name(v, lang) if isinstance(v, str) else v for k, v in kwargs.items()}
    out = template.format(**kwargs)
    return singular_after_one(out) if lang == "en" else out


#: Counted nouns of the English catalogue ("{n} days"): after a lone 1 they read in the singular.
_COUNTED = ("days", "weeks", "months", "users", "regions", "sections", "customers", "channels", "campaigns",
            "units", "runs", "reviews", "pieces", "targets", "actions", "tickets", "views", "orders", "rows",
            "lines", "ratings", "pairs", "items", "groups", "members", "buyers", "products", "problems", "risks",
            "experiments", "steps", "points", "times", "people", "participants", "sign-ups", "cohorts", "tables",
            "figures", "periods", "quarters", "years", "hours", "posts", "findings", "incidents", "KPIs")
_ONE = re.compile(r"(?<![\d.,:/+\-])1 (" + "|".join(re.escape(w) for w in _COUNTED) + r")\b")
_SINGULAR = {"people": "person", "KPIs": "KPI"}


def singular_after_one(text: str) -> str:
    """``1 days`` → ``1 day`` (and ``1 of 1 campaigns`` → ``1 of 1 campaign``) in an English sentence."""
    return _ONE.sub(lambda m: f"1 {_SINGULAR.get(m.group(1), m.group(1)[:-1])}", text)


def has(key: str, lang: str) -> bool:
    """Whether ``key`` exists in the ``lang`` catalogue."""
    return key in catalogue(lang)


def use_labels(names: Mapping[str, Mapping[str, str]], lang: str | None = None) -> None:
    """Make ``names`` (value → {language: display name}) the display names of this context's pages.

    ``lang``: the pages' language, used where a caller has none to pass (a chart's texts).
    """
    _LABELS.set({str(k): dict(v) for k, v in names.items()})
    if lang is not None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; known: {list(LANGS)}")
        _LANG.set(lang)


def labels_in_use() -> tuple[Mapping[str, Mapping[str, str]], str]:
    """The display names of this context and its pages' language (see :func:`use_labels`)."""
    return _LABELS.get() or {}, _LANG.get()


def display_name(value: str, lang: str | None = None) -> str:
    """``value`` as the pack names it in ``lang`` (default: the pages' language), else ``value`` itself.

    A text joined from several values (``微信私域+老带新``, ``直播 · 抖音``, ``A · 会员专享日``) has each part
    that is a named value named; the rest of it is left as it is.
    """
    names = _LABELS.get()
    if not names or not isinstance(value, str):
        return value
    lang = lang or _LANG.get()
    hit = names.get(value) or names.get(value.strip())
    if hit is not None:
        return hit.get(lang, value)
    parts = _JOINED.split(value)
    if len(parts) < 3 or not any(p in names for p in parts[0::2]):
        return value
    return "".join(names[p].get(lang, p) if i % 2 == 0 and p in names else p for i, p in enumerate(parts))
