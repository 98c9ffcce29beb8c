"""Exporting a list: masked unless the actor may and says why, stamped, audited, fingerprinted.

`export_build` writes the whole file to an anonymous temporary file first (bounded memory:
rows stream into it), hashes it, and writes the audit entry with the row count and the
SHA-256 before a single byte is sent. Hashing while streaming to the client would leave the
audit row to be written after the response, when a dropped connection or a failure could
lose it; this way an export that reaches anyone is always on record, and the fingerprint in
the log identifies the exact file (`sha256sum` of a found file matches the entry).

Personal columns declare their masker (core.masking). Full values need PERSON_EXPORT and
PERSON_VIEW_FULL and a reason. No value of a row is ever logged or put into an error: a
failure while writing raises ExportFailed without the cause's message.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Literal

from django.db import transaction
from django.utils.translation import gettext

from fangkong.audit import services as audit
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import DomainError, Invalid
from fangkong.core.perms import Perm
from fangkong.exports import writer

Format = Literal["xlsx", "csv"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv")
CONTENT_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
MAX_ROWS = 50_000  # a list export, not a dump of the city: bulk extracts are an operator's job
REASON_MAX = 500
_CHUNK = 64 * 1024


def _redact(value: str) -> str:
    return "*" * min(len(value), 8)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, and for personal data the masker that hides it by default."""

    header: str
    personal: bool = False
    mask: Callable[[str], str] = _redact


class ExportFailed(DomainError):
    status = 500


@dataclass(slots=True)
class ExportFile:
    """A written, audited export; `file` is positioned at its start and deleted on close."""

    file: IO[bytes]
    filename: str
    content_type: str
    size: int
    sha256: str
    rows: int
    full: bool
    truncated: bool


def _masked_rows(
    columns: Sequence[Column], rows: Iterable[Sequence[object]], *, full: bool, limit: int
) -> Iterator[list[writer.Cell]]:
    for n, row in enumerate(rows):
        if n >= limit:
            return
        cells: list[writer.Cell] = []
        for column, raw in zip(columns, row, strict=True):
            hide = column.personal and not full and raw not in (None, "")
            cells.append(writer.cell_value(column.mask(str(raw)) if hide else raw))
        yield cells


def export_build(
    *,
    actor: Actor,
    name: str,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    fmt: str,
    full: bool = False,
    reason: str = "",
    jurisdiction_path: str = "",
    max_rows: int = MAX_ROWS,
) -> ExportFile:
    """Write, fingerprint and audit an export of `rows` (raw values; masked here).

    `name` is the list's code (`people.list`), `title` its label for the stamp and file.
    Raises NotAllowed (full without PERSON_EXPORT + PERSON_VIEW_FULL), Invalid (format, or a
    full export without a reason), ExportFailed (nothing is audited then).
    """
    if fmt not in FORMATS:
        raise Invalid("export.format", "Choose xlsx or csv", field="fmt")
    reason = " ".join(reason.split())
    if full:
        require(actor, Perm.PERSON_EXPORT)
        require(actor, Perm.PERSON_VIEW_FULL)
        if not reason:
            raise Invalid("export.reason_required", "A full export needs a reason", field="reason")
        if len(reason) > REASON_MAX:
            raise Invalid("export.reason_too_long", "The reason is too long", field="reason")
    now = clock.local_now()
    stamp = gettext("Exported by %(who)s at %(when)s") % {
        "who": actor.label,
        "when": now.strftime("%Y-%m-%d %H:%M:%S"),
    }
    headers = [c.header for c in columns]
    # One row past the limit tells whether the list was cut.
    cells = _masked_rows(columns, rows, full=full, limit=max_rows + 1)
    seen = 0

    def counted() -> Iterator[list[writer.Cell]]:
        nonlocal seen
        for row in cells:
            seen += 1
            if seen > max_rows:
                return
            yield row

    def footer() -> str:
        if seen <= max_rows:
            return ""
        return gettext("Only the first %(rows)s rows; narrow the list to export the rest.") % {
            "rows": max_rows
        }

    out = tempfile.TemporaryFile(prefix="fangkong-export-")  # noqa: SIM115 - the response closes it
    try:
        if fmt == "csv":
            count = writer.write_csv(
                out, stamp=stamp, headers=headers, rows=counted(), footer=footer
            )
        else:
            count = writer.write_xlsx(
                out,
                stamp=stamp,
                title=title,
                creator=actor.label,
                created=now,
                headers=headers,
                rows=counted(),
                footer=footer,
            )
        size, digest = _fingerprint(out)
    except Exception:
        out.close()
        # `from None`: the cause may quote a cell, and tracebacks end up in logs.
        raise ExportFailed("export.failed", "The export could not be written") from None
    truncated = seen > max_rows
    try:
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="export.create",
                target_type="export",
                target_id=name,
                jurisdiction_path=jurisdiction_path,
                reason=reason if full else "",
                detail={
                    "list": name,
                    "format": fmt,
                    "rows": count,
                    "full": full,
                    "truncated": truncated,
                    "sha256": digest,
                    "bytes": size,
                },
            )
    except BaseException:
        out.close()
        raise
    filename = f"{name}-{now:%Y%m%d-%H%M%S}.{fmt}"
    return ExportFile(out, filename, CONTENT_TYPES[fmt], size, digest, count, full, truncated)


def _fingerprint(out: IO[bytes]) -> tuple[int, str]:
    out.flush()
    out.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := out.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    out.seek(0)
    return size, digest.hexdigest()
