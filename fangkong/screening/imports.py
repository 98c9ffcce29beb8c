"""Importing push lists and assist-request files (xlsx, csv) into arrivals.

Every file passes `core.uploads.check_upload` and is read with `table_rows`. The header row is
found under any title rows; headers are recognised by their Chinese names and synonyms, or by
the source's saved mapping. Every row is validated before anything is written: one bad row
and nothing is written, and every problem comes back with its row, column and reason (also as
an xlsx report). The write is set-based: one bulk insert of the new arrivals (a person someone
opened meanwhile is skipped by the one-open-arrival constraint and merged into), one bulk
insert of their sources, one UPDATE of the merged ones, one tally upsert. The same file into
the same territory twice is recognised by its SHA-256 and creates nothing; the same person on
two lists is one arrival with two sources. Handing out the verification work (one
assignment per arrival) follows in the `screening.hand_out` job, enqueued in the same
transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.utils.translation import gettext_noop

from fangkong.audit.services import record
from fangkong.core import clock, crypto
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Invalid
from fangkong.core.perms import Perm
from fangkong.core.text import squeeze
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.jobs.services import enqueue
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import protect
from fangkong.people.models import Person
from fangkong.policy.selectors import BookInForce, rulebook_in_force
from fangkong.screening import columns, rules
from fangkong.screening.models import Arrival, ArrivalSource, ImportBatch, SourceKind, SourceMapping
from fangkong.screening.placing import Placer, placer_for
from fangkong.screening.services._common import (
    Entry,
    Registered,
    clean_text,
    entry_of,
    in_scope,
    place_with_registry,
    tally_apply,
)

MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
CHUNK = 900  # lookups per query: under SQLite's bound-parameter limit on old builds
HAND_OUT_JOB = "screening.hand_out"
IMPORT_JOB = "screening.import_batch"
PROGRESS_EVERY = 2000

# Reasons by validation code; never the cell's value (reports and the batch row would
# otherwise keep personal data in clear).
REASONS: dict[str, str] = {
    "id.empty": gettext_noop("ID number is required"),
    "id.excel_number": gettext_noop(
        "ID number was stored by Excel as a number and lost its last digits: "
        "format the column as text and export again"
    ),
    "id.excel_zeroed": gettext_noop(
        "ID number ends in zeros where digits were expected (Excel rounded it): "
        "format the column as text and export again"
    ),
    "id.length": gettext_noop("ID number must have 18 characters"),
    "id.characters": gettext_noop("ID number must be 17 digits then a digit or X"),
    "id.birth_date": gettext_noop("ID number carries an impossible birth date"),
    "id.checksum": gettext_noop("ID number fails its check digit"),
    "id.wrong_type": gettext_noop("The number does not fit the document type"),
    "id.format": gettext_noop("Document number has the wrong format"),
    "phone.format": gettext_noop("Phone is not an 11-digit mainland mobile number"),
    "screening.name_required": gettext_noop("Name is required"),
    "screening.name_too_long": gettext_noop("Name is too long"),
    "screening.address_too_long": gettext_noop("Address is too long"),
    "screening.origin_too_long": gettext_noop("Origin is too long"),
    "screening.route_too_long": gettext_noop("Route is too long"),
    "screening.doc_type": gettext_noop("Unknown document type"),
    "future": gettext_noop("Arrival date lies in the future"),
}
MSG_NO_HEADER = gettext_noop(
    "No header row found in the first 20 rows: name the columns 姓名 and 身份证号 (or a synonym)"
)
MSG_MISSING = gettext_noop("Required column missing")
MSG_EMPTY = gettext_noop("The file has no data rows")
MSG_TOO_MANY = gettext_noop("The file has more than 200000 rows; split it")
MSG_DUPLICATE_FILE = gettext_noop("This file was already imported")
MSG_REJECTED = gettext_noop("The file was not imported: %(count)s rows have problems")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as the spreadsheet numbers it
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class ImportRejected(Invalid):
    """The file was refused; `errors` names every problem."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            "screening.import_rejected",
            MSG_REJECTED % {"count": len({e.row for e in errors})},
            errors=[e.as_dict() for e in errors[:200]],
        )
        self.errors = errors


@dataclass(slots=True)
class ImportResult:
    batch_id: int | None = None
    rows: int = 0
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    already_imported: bool = False
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    entry: Entry


Progress = Callable[[int, int], None]


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


def read_header(data: bytes, kind: str, saved: dict[str, str]) -> columns.Header | None:
    """The mapping step: the recognised header of a checked file."""
    head = []
    for number, cells in table_rows(data, kind):
        head.append((number, cells))
        if len(head) >= columns.HEADER_SCAN_ROWS:
            break
    return columns.find_header(head, saved)


def validate(
    data: bytes,
    kind: str,
    *,
    saved: dict[str, str],
    progress: Progress | None = None,
    recognised: dict[str, str] | None = None,
) -> tuple[list[Row], list[RowError]]:
    """Every row read and checked; nothing written. Returns (rows, errors); fills
    `recognised` with the header -> field mapping it used (the page shows it)."""
    rows_iter = table_rows(data, kind)
    head: list[tuple[int, list[Any]]] = []
    for number, cells in rows_iter:
        head.append((number, cells))
        if len(head) >= columns.HEADER_SCAN_ROWS:
            break
    header = columns.find_header(head, saved)
    if header is None:
        return [], [RowError(1, "", MSG_NO_HEADER)]
    index = header.index()
    if recognised is not None:
        recognised.update({text: f for _i, text, f in header.columns if f and text})
    missing = [f for f in columns.REQUIRED if f not in index]
    if missing:
        return [], [
            RowError(header.row, columns.LABELS[f], f"{MSG_MISSING}: {columns.LABELS[f]}")
            for f in missing
        ]
    body = _chain((r for r in head if r[0] > header.row), rows_iter)
    rows: list[Row] = []
    errors: list[RowError] = []
    today = clock.local_date()
    seen = 0
    for number, cells in body:
        if columns.is_blank(cells):
            continue
        seen += 1
        if seen > MAX_ROWS:
            return [], [RowError(number, "", MSG_TOO_MANY)]
        row = _row(number, cells, index, header, errors, today=today)
        if row is not None:
            rows.append(row)
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen, 0)
    if not rows and not errors:
        errors.append(RowError(header.row + 1, "", MSG_EMPTY))
    return rows, errors


def _chain(
    first: Iterable[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from first
    yield from rest


def _cell(cells: list[Any], index: dict[str, int], name: str) -> Any:
    i = index.get(name)
    return cells[i] if i is not None and i < len(cells) else None


def _row(
    number: int,
    cells: list[Any],
    index: dict[str, int],
    header: columns.Header,
    errors: list[RowError],
    *,
    today: Any,
) -> Row | None:
    before = len(errors)

    def fail(name: str, reason: str) -> None:
        errors.append(RowError(number, header.header_text(name), reason))

    parsed: dict[str, Any] = {}
    for name, parse in (
        ("arrival_date", columns.parse_date),
        ("returnee_class", columns.parse_class),
        ("doc_type", columns.parse_doc_type),
    ):
        try:
            parsed[name] = parse(_cell(cells, index, name))
        except columns.CellError as exc:
            fail(name, str(exc))
    day = parsed.get("arrival_date")
    if day is not None and (day - today).days > 7:
        fail("arrival_date", REASONS["future"])
    raw_doc = _cell(cells, index, "doc_number")
    try:
        entry = entry_of(
            doc_type=parsed.get("doc_type") or "resident_id",
            doc_number=raw_doc if isinstance(raw_doc, float) else columns.text(raw_doc),
            name=columns.text(_cell(cells, index, "name")),
            phone=columns.text(_cell(cells, index, "phone")),
            address=columns.text(_cell(cells, index, "address")),
            origin=columns.text(_cell(cells, index, "origin")),
            route=columns.text(_cell(cells, index, "route")),
            arrival_date=day,
            returnee_class=parsed.get("returnee_class") or "other",
        )
    except Invalid as exc:
        fail(_column_of(exc), REASONS.get(exc.code, exc.code))
        return None
    return Row(number, entry) if len(errors) == before else None


def _column_of(exc: Invalid) -> str:
    if exc.code.startswith("id."):
        return "doc_number"
    if exc.code.startswith("phone."):
        return "phone"
    name = str(exc.detail.get("field") or "")
    return name if name in columns.FIELDS else "doc_number"


# --- writing ---------------------------------------------------------------------------------


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
    require(actor, Perm.SCREENING_IMPORT)
    in_scope(actor, root.path)
    source_name = clean_text(source_name, field="source", limit=100, required=True)
    if kind not in SourceKind.values:
        raise Invalid("screening.source_kind", "Unknown source kind", field="kind")
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


def commit(
    *, actor: Actor, batch: ImportBatch, rows: list[Row], progress: Progress | None = None
) -> ImportResult:
    """Write validated rows (in the caller's transaction)."""
    in_force = rulebook_in_force()
    now = clock.now()
    batch.state, batch.finished_at, batch.content = ImportBatch.State.DONE, now, None
    batch.rows_total = len(rows)
    batch.save()
    firsts: dict[str, Row] = {}
    for r in rows:
        firsts.setdefault(protect.doc_index(r.entry.doc_number), r)
    persons = _registry(list(firsts))
    build = _Builder(in_force=in_force, root=batch.jurisdiction, batch=batch, now=now)
    _insert_rows(
        Arrival,
        ARRIVAL_COLUMNS,
        (build.arrival(bidx, r.entry, persons.get(bidx)) for bidx, r in firsts.items()),
        constants=ARRIVAL_CONSTANTS,
        skip_conflicts=True,
    )
    if progress is not None:
        progress(len(rows), 1)
    created, merged = _link(batch, firsts, now=now)
    result = ImportResult(
        batch_id=batch.pk,
        rows=len(rows),
        created=created,
        merged=merged,
        unchanged=len(rows) - len(firsts),
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_count=created,
        merged_count=merged,
        unchanged_count=result.unchanged,
        rows_done=len(rows),
    )
    enqueue(name=HAND_OUT_JOB, payload={"batch": batch.pk})
    record(
        actor=actor,
        action="screening.import",
        target=batch,
        detail={
            "source": batch.source_name,
            "kind": batch.kind,
            "rows": len(rows),
            "created": created,
            "merged": merged,
            "sha256": batch.sha256,
        },
    )
    return result


# The columns an import writes for a new arrival (the builder's tuple), then those that start
# the same for every new arrival.
ARRIVAL_COLUMNS = (
    "doc_type", "doc_number", "doc_bidx", "name", "phone", "address", "person_id",
    "jurisdiction_id", "jurisdiction_path", "placed", "origin", "route", "risk_codes",
    "risk_level", "category", "measure", "returnee_class", "arrival_date", "policy_version",
    "due_at", "first_batch_id", "created_at",
)  # fmt: skip
ARRIVAL_CONSTANTS: dict[str, Any] = {
    "status": "received", "not_reached_reason": "", "address_confirmed": False,
    "sample_ref": "", "under_control": False, "notes": "", "source_count": 1,
    "verified_by": "",
}  # fmt: skip
SOURCE_COLUMNS = ("arrival_id", "kind", "name", "key", "batch_id", "row_number", "received_at")


def _insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    constants: dict[str, Any] | None = None,
    skip_conflicts: bool,
) -> None:
    """Bulk INSERT of prepared rows through executemany: the builder encrypts and adapts each
    value once, without the ORM's per-object and per-field machinery, which costs more than
    the rest of an import together. `updated_at` repeats `created_at`. With `skip_conflicts`,
    a row hitting a unique constraint (a person someone opened meanwhile) is skipped, as
    bulk_create(ignore_conflicts=True) would."""
    constants = constants or {}
    names = [*columns, *constants]
    has_updated = "created_at" in columns and "updated_at" not in names
    if has_updated:
        names.append("updated_at")
    created_at = list(columns).index("created_at") if has_updated else -1
    json_cols = {
        f.column for f in model._meta.concrete_fields if f.get_internal_type() == "JSONField"
    }
    pg = connection.vendor == "postgresql"
    marks = ", ".join("%s::jsonb" if pg and n in json_cols else "%s" for n in names)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(connection.ops.quote_name(n) for n in names)}) VALUES ({marks})"
        + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
    )
    tail = tuple(constants.values())
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cur:
        for row in rows:
            extra = (row[created_at],) if has_updated else ()
            batch.append((*row, *tail, *extra))
            if len(batch) >= 1000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)


def _registry(bidxs: list[str]) -> dict[str, Registered]:
    found: dict[str, Registered] = {}
    for start in range(0, len(bidxs), CHUNK):
        chunk = bidxs[start : start + CHUNK]
        rows = Person.objects.filter(doc_bidx__in=chunk, merged_into__isnull=True).values_list(
            "doc_bidx", "id", "grid_id", "jurisdiction_path"
        )
        for bidx, pk, grid_id, path in rows:
            found[bidx] = Registered(pk, grid_id, path)
    return found


@dataclass(slots=True)
class _Builder:
    in_force: BookInForce
    root: Jurisdiction
    batch: ImportBatch
    now: Any
    _classified: dict[tuple[str, str, str, Any], rules.Classified] = field(default_factory=dict)
    _placer: Placer | None = None
    _dates: dict[Any, Any] = field(default_factory=dict)
    _times: dict[Any, Any] = field(default_factory=dict)

    def arrival(self, bidx: str, e: Entry, known: Registered | None) -> tuple[Any, ...]:
        """The row of a new arrival, in ARRIVAL_COLUMNS order, ready for the database."""
        key = (e.origin, e.route, e.returnee_class, e.arrival_date)
        c = self._classified.get(key)
        if c is None:
            c = rules.classify(
                self.in_force.book,
                origin=e.origin,
                route=e.route,
                returnee_class=e.returnee_class,
                arrival_date=e.arrival_date,
                today=clock.local_date(),
            )
            self._classified[key] = c
        if self._placer is None:
            self._placer = placer_for(self.root)
        node, placed = self._placer.place(e.address)
        node_id, path, placed = place_with_registry(node.id, node.path, placed, known, self.root)
        enc = crypto.encrypt
        return (
            e.doc_type,
            enc(e.doc_number),
            bidx,
            enc(e.name),
            enc(e.phone) if e.phone else "",
            enc(e.address) if e.address else "",
            known.person_id if known else None,
            node_id,
            path,
            placed,
            e.origin,
            e.route,
            json.dumps(list(c.risk_codes)),
            c.risk_level.value if c.risk_level else "",
            c.category.value if c.category else "",
            c.measure.value if c.measure else "",
            e.returnee_class,
            self._date(e.arrival_date),
            self.in_force.version,
            self._db_time(
                rules.verify_deadline(self.in_force.book, level=c.risk_level, from_=self.now)
            ),
            self.batch.pk,
            self._db_time(self.now),
        )

    def _date(self, day: Any) -> Any:
        if day is None:
            return None
        if day not in self._dates:
            self._dates[day] = connection.ops.adapt_datefield_value(day)
        return self._dates[day]

    def _db_time(self, at: Any) -> Any:
        if at not in self._times:
            self._times[at] = connection.ops.adapt_datetimefield_value(at)
        return self._times[at]


def _link(batch: ImportBatch, firsts: dict[str, Row], *, now: Any) -> tuple[int, int]:
    """Sources for every person of the batch; merged arrivals count one more source.
    Returns (created, merged)."""
    created = merged = 0
    paths_new: Counter[tuple[str, bool]] = Counter()
    dup_paths: Counter[str] = Counter()
    bidxs = list(firsts)
    key, at = f"batch:{batch.pk}", connection.ops.adapt_datetimefield_value(now)
    sources: list[tuple[Any, ...]]
    for start in range(0, len(bidxs), CHUNK):
        chunk = bidxs[start : start + CHUNK]
        found = list(
            Arrival.objects.filter(doc_bidx__in=chunk, closed_at__isnull=True)
            .order_by("id")
            .values_list("id", "doc_bidx", "first_batch_id", "jurisdiction_path", "placed")
        )
        sources = []
        merged_ids = []
        for pk, bidx, first_batch, path, placed in found:
            sources.append(
                (pk, batch.kind, batch.source_name, key, batch.pk, firsts[bidx].number, at)
            )
            if first_batch == batch.pk:
                created += 1
                paths_new[(path, placed)] += 1
            else:
                merged_ids.append(pk)
        _insert_rows(ArrivalSource, SOURCE_COLUMNS, sources, skip_conflicts=False)
        if merged_ids:
            merged += len(merged_ids)
            # Locked in id order (concurrent imports merge into the same rows).
            was_single = list(
                Arrival.objects.select_for_update()
                .filter(pk__in=merged_ids, source_count=1)
                .order_by("id")
                .values_list("jurisdiction_path", flat=True)
            )
            dup_paths.update(was_single)
            Arrival.objects.filter(pk__in=merged_ids, source_count__lt=32767).update(
                source_count=F("source_count") + 1, updated_at=now
            )
    tally_apply(_deltas(paths_new, dup_paths))
    return created, merged


def _deltas(
    paths_new: Counter[tuple[str, bool]], dup_paths: Counter[str]
) -> dict[tuple[str, str], int]:
    out: Counter[tuple[str, str]] = Counter()
    for (path, placed), n in paths_new.items():
        for node in rules.ancestor_paths(path):
            out[(node, "received")] += n
            if not placed:
                out[(node, "unplaced")] += n
    for path, n in dup_paths.items():
        for node in rules.ancestor_paths(path):
            out[(node, "duplicates")] += n
    return dict(out)


# --- in the background (uploads from the page) -------------------------------------------------


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
    require(actor, Perm.SCREENING_IMPORT)
    in_scope(actor, root.path)
    source_name = clean_text(source_name, field="source", limit=100, required=True)
    if kind not in SourceKind.values:
        raise Invalid("screening.source_kind", "Unknown source kind", field="kind")
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


# --- the report ------------------------------------------------------------------------------


def report_xlsx(errors: Iterable[dict[str, Any]], *, translate: Callable[[str], str]) -> bytes:
    """The row-level report: row, column and reason of each problem, as an xlsx."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(translate(gettext_noop("Import problems")))
    sheet.append(
        [
            translate(gettext_noop("Row")),
            translate(gettext_noop("Column")),
            translate(gettext_noop("Error")),
        ]
    )
    for e in errors:
        column = str(e.get("column", ""))
        label = columns.LABELS.get(column)
        sheet.append([e.get("row"), translate(label) if label else column, _reason(e, translate)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _reason(e: dict[str, Any], translate: Callable[[str], str]) -> str:
    reason = str(e.get("reason", ""))
    head, sep, tail = reason.partition(": ")
    if head == MSG_MISSING and sep:
        return f"{translate(MSG_MISSING)}: {translate(tail)}"
    return translate(reason)
