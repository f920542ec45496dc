"""Text catalogues, one per language: ``opsnb/i18n/<lang>/<area>.yaml`` merged into one mapping.

Keys are dotted (``goals.bullet.exceeded``); values are ``str.format`` templates. Both languages
must define the same keys (a test enforces it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("zh", "en")


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
    return template.format(**kwargs) if kwargs else template


def has(key: str, lang: str) -> bool:
    """Whether ``key`` exists in the ``lang`` catalogue."""
    return key in catalogue(lang)
