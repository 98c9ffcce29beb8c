"""The purge ledger file: DATA_DIR/purge-ledger.jsonl, append-only, outside the database.

A backup holds the data as it was; a purge made after the backup is undone by restoring it.
This file survives the restore, and `fangkong restore` re-applies every entry in it before the
restored system serves requests. Each line is one chunk of one run:
{"v": 1, "run": ..., "at": ..., "category": "people.person", "reason": ..., "ids": [...],
"created": [...]}. Lines carry record ids and creation times only, never a personal value.

The creation time makes an entry name one row, not just an id: a row created after a backup
and purged is absent from the restored database, and its id will be handed out again to
someone else, whom a later restore must not shred.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from fangkong.core import clock

VERSION = 1
TOMBSTONE = "purged:"  # what a shredded row's document index becomes, followed by its id


def stamp(at: dt.datetime) -> str:
    """A creation time as the ledger writes it: UTC, microseconds."""
    return at.astimezone(dt.UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Entry:
    run: str
    at: str
    category: str
    reason: str
    ids: list[int]
    created: list[str]  # each id's creation time (UTC, ISO 8601)


def path() -> Path:
    return Path(settings.DATA_DIR) / "purge-ledger.jsonl"


def append(*, run: str, category: str, reason: str, ids: list[int], created: list[str]) -> None:
    """Append one line and fsync it. Called inside the purge's transaction, before it commits:
    a purge that committed is always in the file (the reverse failure, a line whose transaction
    then rolled back, re-applies a purge that had been decided; docs/security.md)."""
    line = json.dumps(
        {
            "v": VERSION,
            "run": run,
            "at": clock.now().isoformat(),
            "category": category,
            "reason": reason,
            "ids": ids,
            "created": created,
        },
        separators=(",", ":"),
    )
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def entries() -> Iterator[Entry]:
    """Every entry, oldest first. A torn last line (a crash mid-write) is skipped."""
    target = path()
    if not target.exists():
        return
    with target.open(encoding="utf-8") as fh:
        for raw in fh:
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:
                continue
            yield Entry(
                run=data["run"],
                at=data["at"],
                category=data["category"],
                reason=data["reason"],
                ids=[int(i) for i in data["ids"]],
                created=[str(c) for c in data["created"]],
            )


def line_count() -> int:
    target = path()
    if not target.exists():
        return 0
    with target.open("rb") as fh:
        return sum(1 for _ in fh)
