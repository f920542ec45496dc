"""A message as the caller writes it, and fitting its lines into a channel's byte limit.

Every kind shows the same :class:`Message`; what differs (a heading, Slack's mrkdwn, a plain-text email) is
in the kind's class (:meth:`~opsnb.notify.channels.base.BaseChannel.render`), which cuts it with :func:`fit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: ``**bold**`` and ``[text](url)`` in a Markdown-ish line.
BOLD = re.compile(r"\*\*(.+?)\*\*")
LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Message:
    """One message, as the caller wrote it; each channel renders and cuts it to its own limit.

    ``lines`` are Markdown-ish (``**bold**``, ``- bullet``, ``[text](url)``) and already in the report's
    language, as are ``more`` (the line that replaces what had to be cut) and ``link_text`` (the label a
    bare-URL ``link`` is shown with; a ``link`` that is already a line is shown as written). ``attachments``
    go by email only.
    """

    title: str
    lines: tuple[str, ...]
    link: str | None = None  # the review's URL, or its whole link line already written ("[查看完整报告](url)")
    more: str = "…更多内容见报告"
    attachments: tuple[Path, ...] = ()
    link_text: str = "查看完整报告"


def nbytes(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (what the providers' limits count)."""
    return len(text.encode("utf-8"))


def fit(lines: list[str], limit_bytes: int, more: str, *, max_line: int | None = None) -> tuple[list[str], bool]:
    """Keep whole lines (UTF-8 bytes, joined with ``\\n``) so that kept + ``more`` fits in ``limit_bytes``.

    Returns the lines to show and whether anything was cut. Nothing cut: ``lines`` as they are, no ``more``.
    Cut: the longest leading run of lines that fits together with ``more``, then ``more`` (left out only if
    even it alone does not fit). A line is never split, so neither is a multi-byte character; lines are never
    skipped, so what is shown is a prefix. ``max_line`` (bytes): a longer line ends the kept run there.
    """
    too_long = next((i for i, ln in enumerate(lines) if max_line is not None and nbytes(ln) > max_line), None)
    if too_long is None and nbytes("\n".join(lines)) <= limit_bytes:
        return list(lines), False
    tail = [more] if more else []
    if nbytes("\n".join(tail)) > limit_bytes:
        return [], True
    stop = len(lines) if too_long is None else too_long
    used = nbytes(more) if more else -1  # -1: the first kept line needs no separator before it
    kept: list[str] = []
    for ln in lines[:stop]:
        size = used + 1 + nbytes(ln)
        if size > limit_bytes:
            break
        kept.append(ln)
        used = size
    return kept + tail, True


def link_line(link: str, label: str) -> str:
    """``link`` as its line: a bare URL becomes ``[label](url)``; a line already written (a Markdown link in
    the report's language, or "Full review: <path>") is kept as it is."""
    return f"[{label}]({link})" if re.fullmatch(r"(https?|file)://\S+", link) else link


@dataclass(frozen=True)
class Rendered:
    """A message as one kind shows it: heading lines, the fitted body, the link lines; within the kind's limit."""

    head: list[str]
    body: list[str]
    foot: list[str]
    truncated: bool

    @property
    def text(self) -> str:
        return "\n".join(self.head + self.body + self.foot)
