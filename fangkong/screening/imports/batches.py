"""A file from upload to commit: the command line's `import_file` at once, the page's
`import_start` + `run_batch` through the worker; the same file twice creates nothing (its
SHA-256 per territory); progress of a long import; the sources' saved column mappings."""

from __future__ import annotations

import hashlib
import json
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.core.text import squeeze
from fangkong.core.uploads import CSV, XLSX, check_upload
from fangkong.jobs.services import enqueue
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.screening import columns
from fangkong.screening.imports.reading import Progress, RowError, validate
from fangkong.screening.imports.writing import ImportResult, commit
from fangkong.screening.models import ImportBatch, SourceKind, SourceMapping
from fangkong.screening.services._common import clean_text, in_scope

MAX_IMPORT_BYTES = 64 * 1024 * 1024
IMPORT_JOB = "screening.import_batch"
MSG_DUPLICATE_FILE = gettext_noop("This file was already imported")
MSG_REJECTED = gettext_noop("The file was not imported: %(count)s rows have problems")


class ImportRejected(Invalid):
    """The file was refused; `errors` names every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            "screening.import_rejected",
            MSG_REJECTED % {"count": len({e.row for e in errors})},
            errors=[e.as_dict() for e in errors[:200]],
        )
        self.errors = errors


def saved_mapping(*, root: Jurisdiction, source_name: str) -> dict[str, str]:
    found = SourceMapping.objects.filter(
        jurisdiction_path=root.path, source_name=source_name
    ).first()
    return dict(found.mapping) if found else {}


def mapping_save(
    *, actor: Actor, root: Jurisdiction, source_name: str, mapping: dict[str, str]
) -> SourceMapping:
    """Save a source's header -> field choices for its next files. Raises Invalid."""
    require(actor, Perm.SCREENING_IMPORT)
    in_scope(actor, root.path)
    source_name = clean_text(source_name, field="source", limit=100, required=True)
    clean: dict[str, str] = {}
    for header, target in mapping.items():
        if target and target not in columns.FIELDS:
            raise Invalid("screening.mapping_field", f"Unknown field {target!r}", field="mapping")
        key = squeeze(header).casefold()
        if key:
            clean[key] = target
    with transaction.atomic():
        row, _ = SourceMapping.objects.update_or_create(
            jurisdiction_path=root.path,
            source_name=source_name,
            defaults={"mapping": clean, "updated_at": clock.now()},
        )
        record(
            actor=actor,
            action="screening.mapping_save",
            target=row,
            jurisdiction_path=root.path,
            detail={"source": source_name, "headers": len(clean)},
        )
    return row


def _progress_path(sha256: str) -> Any:
    return settings.DATA_DIR / "screening" / f"import-{sha256[:16]}.json"


def progress_writer(sha256: str, total: int = 0) -> Progress:
    """Progress of a long import, outside its transaction (a small file under the data dir,
    which the page polls): the batch row itself changes only when the import commits."""
    path = _progress_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(done: int, phase: int) -> None:
        path.write_text(json.dumps({"done": done, "total": total, "phase": phase}))

    return write


def progress_clear(sha256: str) -> None:
    _progress_path(sha256).unlink(missing_ok=True)


def progress_read(sha256: str) -> dict[str, int]:
    try:
        data = json.loads(_progress_path(sha256).read_text())
    except (OSError, ValueError):
        return {}
    return {k: int(v) for k, v in data.items()}


def _checked(actor: Actor, root: Jurisdiction, source_name: str, kind: str) -> str:
    require(actor, Perm.SCREENING_IMPORT)
    in_scope(actor, root.path)
    source_name = clean_text(source_name, field="source", limit=100, required=True)
    if kind not in SourceKind.values:
        raise Invalid("screening.source_kind", "Unknown source kind", field="kind")
    return source_name


def import_file(
    *,
    actor: Actor,
    file: bytes | IO[bytes],
    root: Jurisdiction,
    source_name: str,
    kind: str = SourceKind.PUSH_LIST,
    filename: str = "",
) -> ImportResult:
    """Import a list at once (the command line; small uploads). Raises ImportRejected with
    every row error and writes nothing (a failed batch row is kept for the record)."""
    source_name = _checked(actor, root, source_name, kind)
    file_kind, data = check_upload(file, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    sha = hashlib.sha256(data).hexdigest()
    done = _already(root, sha)
    if done is not None:
        return done
    progress = progress_writer(sha)
    seen: dict[str, str] = {}
    rows, errors = validate(
        data,
        file_kind,
        saved=saved_mapping(root=root, source_name=source_name),
        progress=progress,
        recognised=seen,
    )
    batch = ImportBatch(
        mapping=seen,
        jurisdiction=root,
        jurisdiction_path=root.path,
        source_name=source_name,
        kind=kind,
        filename=filename[:200],
        sha256=sha,
        size=len(data),
        created_by=actor.label[:150],
        created_at=clock.now(),
    )
    if errors:
        progress_clear(sha)
        _failed(actor, batch, errors, rows=len(rows) + len({e.row for e in errors}))
        raise ImportRejected(errors)
    try:
        with transaction.atomic():
            result = commit(actor=actor, batch=batch, rows=rows, progress=progress)
        progress_clear(sha)
    except IntegrityError:
        # The same file committed by someone else a moment ago (importbatch_file_once).
        again = _already(root, sha)
        if again is None:
            raise
        return again
    return result


def _already(root: Jurisdiction, sha: str) -> ImportResult | None:
    done = ImportBatch.objects.filter(
        jurisdiction_path=root.path, sha256=sha, state=ImportBatch.State.DONE
    ).first()
    if done is None:
        return None
    return ImportResult(batch_id=done.pk, rows=done.rows_total, already_imported=True)


def _failed(actor: Actor, batch: ImportBatch, errors: list[RowError], *, rows: int) -> None:
    with transaction.atomic():
        batch.state = ImportBatch.State.FAILED
        batch.errors = [e.as_dict() for e in errors[:5000]]
        batch.error_count = len(errors)
        batch.rows_total = rows
        batch.content = None
        batch.finished_at = clock.now()
        batch.save()
        record(
            actor=actor,
            action="screening.import_rejected",
            target=batch,
            detail={"source": batch.source_name, "errors": len(errors), "sha256": batch.sha256},
        )


def import_start(
    *,
    actor: Actor,
    file: bytes | IO[bytes],
    root: Jurisdiction,
    source_name: str,
    kind: str = SourceKind.PUSH_LIST,
    filename: str = "",
) -> ImportBatch:
    """Queue a file for import by the worker (progress is shown while it runs). The same
    file already imported into the territory returns that batch. Raises Invalid (upload)."""
    source_name = _checked(actor, root, source_name, kind)
    _kind, data = check_upload(file, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    sha = hashlib.sha256(data).hexdigest()
    done = ImportBatch.objects.filter(
        jurisdiction_path=root.path, sha256=sha, state=ImportBatch.State.DONE
    ).first()
    if done is not None:
        return done
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            jurisdiction=root,
            jurisdiction_path=root.path,
            source_name=source_name,
            kind=kind,
            filename=filename[:200],
            sha256=sha,
            size=len(data),
            content=data,
            created_by=actor.label[:150],
            created_at=clock.now(),
        )
        enqueue(name=IMPORT_JOB, payload={"batch": batch.pk, "actor": actor.label[:150]})
        record(
            actor=actor,
            action="screening.import_queued",
            target=batch,
            detail={"source": source_name, "sha256": sha, "bytes": len(data)},
        )
    return batch


def run_batch(*, batch_id: int, actor: Actor) -> None:
    """The worker's side of `import_start` (in the job's transaction). Idempotent."""
    batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None or batch.state not in (ImportBatch.State.QUEUED, ImportBatch.State.RUNNING):
        return
    data = bytes(batch.content or b"")
    file_kind, data = check_upload(data, max_bytes=MAX_IMPORT_BYTES, allowed={XLSX, CSV})
    progress = progress_writer(batch.sha256)
    seen: dict[str, str] = {}
    rows, errors = validate(
        data,
        file_kind,
        saved=saved_mapping(root=batch.jurisdiction, source_name=batch.source_name),
        progress=progress,
        recognised=seen,
    )
    batch.mapping = seen
    if not errors and _already(batch.jurisdiction, batch.sha256) is not None:
        errors = [RowError(0, "", MSG_DUPLICATE_FILE)]
    if errors:
        _failed(actor, batch, errors, rows=len(rows) + len({e.row for e in errors}))
        return
    commit(actor=actor, batch=batch, rows=rows, progress=progress)
