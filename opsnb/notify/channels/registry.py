"""The channel kinds: ``kind → class``, as papermill's ``papermill_engines`` maps a name to its engine.

``register("wecom", WeCom)`` adds a kind (``opsnb/notify/channels/__init__.py`` registers the five opsnb
ships, in the order messages list them); :func:`get` returns its class or fails naming the unknown kind and the
known ones; :func:`kinds` is the list ``notify[].kind`` is validated against in params. Nothing else in opsnb
names a kind: what differs between kinds is a class attribute or method of the kind's class.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from opsnb.errors import OpsnbError

if TYPE_CHECKING:
    from opsnb.notify.channels.base import BaseChannel


class UnknownChannelKind(OpsnbError, ValueError):
    """A channel kind that no class is registered for."""


class ChannelRegistry:
    """Channel classes by kind, in registration order."""

    def __init__(self) -> None:
        self._classes: dict[str, type[BaseChannel]] = {}

    def register(self, kind: str, cls: type[BaseChannel]) -> None:
        """Make ``cls`` the class of channels of ``kind`` (a lower-case word, as written in params)."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
            raise ValueError(f"a channel kind is a lower-case word (letters, digits, _), not {kind!r}")
        known = self._classes.get(kind)
        if known is not None and known is not cls:
            raise ValueError(f"channel kind {kind!r} is already registered ({known.__module__}.{known.__name__})")
        self._classes[kind] = cls

    def get(self, kind: str) -> type[BaseChannel]:
        """The class registered for ``kind``.

        Raises
        ------
        UnknownChannelKind
            No class is registered for ``kind`` (the message lists the known kinds).
        """
        try:
            return self._classes[kind]
        except KeyError:
            raise UnknownChannelKind(f"unknown channel kind {kind!r}; known: {list(self._classes)}") from None

    def kinds(self) -> tuple[str, ...]:
        """Every registered kind, in registration order."""
        return tuple(self._classes)

    def __contains__(self, kind: object) -> bool:
        return kind in self._classes


#: The registry opsnb reads; :func:`register`, :func:`get` and :func:`kinds` are its methods.
channels = ChannelRegistry()
register = channels.register
get = channels.get
kinds = channels.kinds


class _Limits(Mapping[str, int]):
    """``kind → limit`` (UTF-8 bytes of message text) over the registry, for the kinds registered now."""

    def __getitem__(self, kind: str) -> int:
        if kind not in channels:
            raise KeyError(kind)
        return channels.get(kind).limit

    def __iter__(self) -> Iterator[str]:
        return iter(channels.kinds())

    def __len__(self) -> int:
        return len(channels.kinds())


#: Bytes (UTF-8) of the message text each kind takes — title, body, "more" and link lines together
#: (each kind's ``limit``, with the provider's documented figure beside it).
LIMITS: Mapping[str, int] = _Limits()


def listed(names: tuple[str, ...] | list[str], word: str) -> str:
    """``a, b or c`` (``word="or"``) / ``a and b``: names in a sentence (pydantic lists a Literal's values so)."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"
