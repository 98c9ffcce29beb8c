"""Writes of the lake: batch ingestion (API and file import), compaction, retention.

Every write checks the permission, writes its ledger row and audit entry in one transaction, and
is idempotent by the client's (client_id, batch_id): the same batch again is answered from the
ledger and writes nothing; the same ids with other rows are a conflict. Records sent twice
under different batch ids are stored twice and counted once (the lake is a set: compaction and
every query deduplicate).

Order of a write: validate (whole batch or nothing), write the Parquet batch files (fsynced,
renamed into place), then commit the ledger row with the audit entry. A crash between the two
leaves files without a ledger row; the client's retry writes them again and the duplicates
collapse, so an acknowledged batch is durable and a retried one is not double-counted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.core.scope import within
from fangkong.lake import rules
from fangkong.lake.engine import lake_root
from fangkong.lake.layout import CHECKINS, DWELL, Lake, TableSpec, day_of_date, day_start
from fangkong.lake.models import IngestBatch
from fangkong.lake.rules import RowError
from fangkong.people.models import Person
from fangkong.places.models import Place

_ID_CHUNK = 5000
_BATCH_KEY = re.compile(r"[A-Za-z0-9_.:/@#+=-]{1,64}")


@dataclass(frozen=True, slots=True)
class IngestResult:
    batch: IngestBatch
    created: bool  # False: the batch had arrived before; nothing was written

    @property
    def rows(self) -> int:
        return self.batch.rows


def retention_days() -> int:
    """The retention period in city days (settings.LAKE_RETENTION_DAYS overrides the rule)."""
    return int(getattr(settings, "LAKE_RETENTION_DAYS", rules.RETENTION_DAYS))


def checkins_ingest(
    actor: Actor,
    *,
    client_id: str,
    batch_id: str,
    rows: Sequence[Sequence[int]] | pa.Table,
    source: str = IngestBatch.Source.API,
    max_rows: int = rules.MAX_BATCH_ROWS,
) -> IngestResult:
    """Store a batch of venue check-ins (person_id, venue_id, ts).

    Raises Invalid (with row/column/reason errors) when any row is bad: unknown person,
    a venue that is missing or outside the caller's scope (the same answer), a time in the
    future or past retention. Raises Conflict when the batch ids were used for other rows.
    """
    return _ingest(
        actor,
        CHECKINS,
        client_id=client_id,
        batch_id=batch_id,
        rows=rows,
        source=source,
        max_rows=max_rows,
    )


def dwell_ingest(
    actor: Actor,
    *,
    client_id: str,
    batch_id: str,
    rows: Sequence[Sequence[int]] | pa.Table,
    source: str = IngestBatch.Source.API,
    max_rows: int = rules.MAX_BATCH_ROWS,
) -> IngestResult:
    """Store a batch of cell-grid dwell intervals (person_id, cell_id, start_ts, end_ts).

    Cells are city-wide, so only a city-wide caller may send them. Raises as checkins_ingest.
    """
    return _ingest(
        actor,
        DWELL,
        client_id=client_id,
        batch_id=batch_id,
        rows=rows,
        source=source,
        max_rows=max_rows,
    )


def _ingest(
    actor: Actor,
    spec: TableSpec,
    *,
    client_id: str,
    batch_id: str,
    rows: Sequence[Sequence[int]] | pa.Table,
    source: str,
    max_rows: int,
) -> IngestResult:
    require(actor, Perm.LAKE_INGEST)
    if not all(_BATCH_KEY.fullmatch(key) for key in (client_id, batch_id)):
        raise Invalid(
            "lake.batch_ids",
            "client_id and batch_id are required: 1 to 64 letters, digits or _.:/@#+=-",
        )
    try:
        table = rules.as_table(spec, rows)
    except (ValueError, TypeError, pa.ArrowException) as exc:
        raise Invalid("lake.rows_shape", "Every row needs the table's integer columns") from exc
    if table.num_rows == 0 or table.num_rows > max_rows:
        raise Invalid(
            "lake.batch_size",
            f"A batch holds 1 to {max_rows} rows",
            rows=table.num_rows,
        )
    fingerprint = rules.digest(table)
    kind = IngestBatch.Kind.CHECKINS if spec is CHECKINS else IngestBatch.Kind.DWELL
    if (seen := _seen(kind, client_id, batch_id, fingerprint)) is not None:
        return IngestResult(seen, created=False)
    now = int(clock.now().timestamp())
    errors = rules.row_errors(spec, table, now=now, retention_days=retention_days())
    if not errors:
        errors = _reference_errors(actor, spec, table)
    if errors:
        raise Invalid(
            "lake.rows_invalid",
            "Some rows are not valid; nothing was stored",
            errors=[e.as_dict() for e in errors],
        )
    lake = lake_root()
    files = lake.write_batch(spec, table)
    times = table.column(spec.time).to_numpy()
    try:
        with transaction.atomic():
            batch = IngestBatch.objects.create(
                kind=kind,
                source=source,
                client_id=client_id,
                batch_id=batch_id,
                digest=fingerprint,
                rows=table.num_rows,
                first_ts=int(times.min()),
                last_ts=int(times.max()),
                files=[str(p.relative_to(lake.root)) for p in files],
                actor_label=actor.label[:150],
                received_at=clock.now(),
            )
            record(
                actor=actor,
                action=f"lake.{kind}_ingest",
                target=batch,
                detail={
                    "client_id": client_id,
                    "batch_id": batch_id,
                    "rows": table.num_rows,
                    "source": source,
                },
            )
    except IntegrityError:
        # The same batch arrived concurrently and won: ours is a duplicate.
        for path in files:
            path.unlink(missing_ok=True)
        seen = _seen(kind, client_id, batch_id, fingerprint)
        if seen is None:
            raise
        return IngestResult(seen, created=False)
    except BaseException:
        for path in files:
            path.unlink(missing_ok=True)
        raise
    return IngestResult(batch, created=True)


def _seen(kind: str, client_id: str, batch_id: str, fingerprint: str) -> IngestBatch | None:
    seen = IngestBatch.objects.filter(kind=kind, client_id=client_id, batch_id=batch_id).first()
    if seen is not None and seen.digest != fingerprint:
        raise Conflict(
            "lake.batch_reused",
            "This batch id was already used for other rows",
            client_id=client_id,
            batch_id=batch_id,
        )
    return seen


def _existing_persons(ids: list[int]) -> set[int]:
    """Persons anywhere in the city: a resident of one district scans venues of another.

    Asked with the ids written into the SQL (they are ints from an int64 array, nothing else
    can get in): binding thousands of parameters through the ORM costs more than the query.
    """
    table = connection.ops.quote_name(Person._meta.db_table)
    found: set[int] = set()
    with connection.cursor() as cursor:
        for i in range(0, len(ids), _ID_CHUNK):
            listed = ",".join(str(int(v)) for v in ids[i : i + _ID_CHUNK])
            cursor.execute(f"SELECT id FROM {table} WHERE id IN ({listed})")  # noqa: S608
            found.update(row[0] for row in cursor.fetchall())
    return found


def _visible_venues(ids: list[int], actor: Actor) -> set[int]:
    """Venues in the caller's scope: one outside it is as unknown as a missing one."""
    found: set[int] = set()
    for i in range(0, len(ids), _ID_CHUNK):
        qs = within(Place.objects.filter(pk__in=ids[i : i + _ID_CHUNK]), actor.scope)
        found.update(qs.values_list("pk", flat=True))
    return found


def _reference_errors(actor: Actor, spec: TableSpec, table: pa.Table) -> list[RowError]:
    errors: list[RowError] = []
    persons = table.column("person_id").to_numpy()
    known = np.fromiter(_existing_persons(np.unique(persons).tolist()), dtype=np.int64)
    for i in np.flatnonzero(~np.isin(persons, known))[:100]:
        errors.append(RowError(int(i) + 1, "person_id", "unknown person"))
    if spec is CHECKINS:
        venues = table.column("venue_id").to_numpy()
        visible = np.fromiter(_visible_venues(np.unique(venues).tolist(), actor), dtype=np.int64)
        for i in np.flatnonzero(~np.isin(venues, visible))[:100]:
            errors.append(RowError(int(i) + 1, "venue_id", "unknown venue"))
    elif "/" not in actor.scope.paths and not _city_wide(actor):
        raise Invalid("lake.dwell_scope", "Cell-grid records come from a city-wide client only")
    return sorted(errors, key=lambda e: (e.row, e.column))[:100]


def _city_wide(actor: Actor) -> bool:
    """Whether the actor's scope holds a root of the jurisdiction tree (a whole city)."""
    return any(path.count("/") == 2 for path in actor.scope.paths)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    dropped: dict[str, list[str]]  # table -> day labels removed
    oldest_kept: dt.date


def retention_apply(
    actor: Actor, *, today: dt.date | None = None, lake: Lake | None = None
) -> RetentionResult:
    """Delete the day partitions older than the retention period, and their ledger rows."""
    if actor.kind != "system":
        require(actor, Perm.LAKE_INGEST)
    lake = lake or lake_root()
    day = day_of_date(today or clock.local_date())
    keep = retention_days()
    dropped: dict[str, list[str]] = {}
    for spec in (CHECKINS, DWELL):
        gone = [
            d
            for d in rules.expired_days(lake.days(spec), today=day, retention_days=keep)
            if lake.drop_day(spec, d)
        ]
        if gone:
            dropped[spec.name] = [lake.day_dir(spec, d).name.removeprefix("day=") for d in gone]
    oldest = day - keep
    cutoff_ts = day_start(oldest)
    with transaction.atomic():
        removed, _ = IngestBatch.objects.filter(last_ts__lt=cutoff_ts).delete()
        if dropped or removed:
            record(
                actor=actor,
                action="lake.retention_apply",
                target_type="lake.partition",
                detail={"dropped": dropped, "ledger_rows": removed, "retention_days": keep},
            )
    return RetentionResult(dropped, dt.date(1970, 1, 1) + dt.timedelta(days=oldest))


def compact(
    actor: Actor, *, days: Sequence[int] | None = None, lake: Lake | None = None
) -> dict[str, int]:
    """Fold fresh batch files into sorted, bucketed day files (see layout.py). Returns rows per
    table. Idempotent; safe beside ingestion and queries."""
    if actor.kind != "system":
        require(actor, Perm.LAKE_INGEST)
    lake = lake or lake_root()
    totals: dict[str, int] = {}
    for spec in (CHECKINS, DWELL):
        wanted = lake.days(spec) if days is None else [d for d in lake.days(spec) if d in set(days)]
        totals[spec.name] = sum(lake.compact_day(spec, d) for d in wanted)
    return totals
