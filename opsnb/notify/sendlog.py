"""``outputs/<unit>/deliveries.json``: every message sent (or tried) for a unit, beside its ledger.

One record per message and channel: period, run, what it carried (the card, or alert findings with
their ids and fingerprints), when, the HTTP status and each attempt. It outlives reruns (run folders
are replaced), which is what makes alerts idempotent: a finding whose last successful delivery to a
channel had the same fingerprint is not sent again. Writes are atomic and serialised by a lock file,
so a scheduled run and an ``opsnb notify`` never lose each other's records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opsnb import runfolder as rf
from opsnb.errors import OpsnbError
from opsnb.paths import atomic_write

NAME = rf.DELIVERIES


def log_path(review_folder: Path) -> Path:
    """The unit's send log: beside ``outputs/<unit>/<period>`` (and ``ledger.parquet``)."""
    return rf.deliveries(review_folder.parent)


def read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise OpsnbError(f"{path}: not valid JSON ({exc}); move it aside to start a new send log "
                         "(alerts already sent would then be sent again)") from None
    return list(data.get("deliveries", []))


def last_sent(records: list[dict[str, Any]], *, period: str, channel: str,
              lang: str | None = None) -> dict[tuple[str, str], str]:
    """(rule, finding id) → fingerprint of its last *successful* delivery to ``channel`` for ``period``.

    ``lang``: the review's language — the review in another language (published beside it) is another
    message, never an "update" of this one (records written before languages were kept match any).
    """
    out: dict[tuple[str, str], str] = {}
    for r in records:
        if (r.get("period") == period and r.get("channel") == channel and r.get("ok")
                and (lang is None or r.get("lang") in (None, lang))):
            for item in r.get("items", []):
                out[(item["rule"], item["id"])] = item["fingerprint"]
    return out


@contextmanager
def locked(path: Path) -> Iterator[list[dict[str, Any]]]:
    """Hold the log's lock; yields its records; what the caller appends is written back atomically."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{NAME}.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            records = read(path)
            n = len(records)
            yield records
            if len(records) != n:
                text = json.dumps({"deliveries": records}, ensure_ascii=False, indent=1)
                atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
