"""Enqueueing and running jobs: a transactional outbox in the operational database.

`enqueue` writes the row in the caller's transaction, so a job exists exactly when the business
write that asked for it committed. `run_due` claims due rows (FOR UPDATE SKIP LOCKED on
PostgreSQL; on SQLite the IMMEDIATE transaction already serializes claimers), then runs each
handler in its own transaction together with the row's `done` mark.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When

from fangkong.core import clock
from fangkong.jobs import registry
from fangkong.jobs.models import Job

logger = logging.getLogger("fangkong.jobs")

# A running job whose lock is older than this is taken to belong to a dead worker.
DEFAULT_STALE_SECONDS = 15 * 60
MAX_ERROR_CHARS = 8000
# Periodic slots count from a local midnight, so daily jobs run per city day.
SLOT_EPOCH = dt.datetime(2000, 1, 1, tzinfo=clock.LOCAL_TZ)


class _LostLock(Exception):
    """The row was taken from this worker while its handler ran; undo the handler's writes."""


def enqueue(
    *,
    name: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    run_after: dt.datetime | None = None,
) -> None:
    """Add a job in the caller's transaction. Raises ValueError for an unregistered name.

    With `dedupe_key`, a key already present (in any status) adds nothing.
    """
    _insert(name=name, payload=payload, dedupe_key=dedupe_key, run_after=run_after)


def enqueue_many(
    *,
    name: str,
    items: Sequence[tuple[dict[str, Any], str | None]],
    run_after: dt.datetime | None = None,
) -> None:
    """Add many jobs of one kind in the caller's transaction, in one statement per thousand
    (a lab file opening a thousand positive pools): `items` are (payload, dedupe key). A key
    already present (in any status, or earlier in `items`) adds nothing. Raises ValueError
    for an unregistered name."""
    spec = registry.get(name)
    if spec is None:
        raise ValueError(f"unknown job {name!r}; register it with fangkong.jobs.registry.job")
    if run_after is not None and run_after.tzinfo is None:
        raise ValueError("run_after must be an aware datetime")
    now = clock.now()
    Job.objects.bulk_create(
        [
            Job(
                name=name,
                payload=payload or {},
                dedupe_key=key,
                max_attempts=spec.max_attempts,
                run_after=run_after or now,
                created_at=now,
            )
            for payload, key in items
        ],
        batch_size=1000,
        ignore_conflicts=True,  # the dedupe key's unique constraint: ON CONFLICT DO NOTHING
    )


def _insert(
    *,
    name: str,
    payload: dict[str, Any] | None,
    dedupe_key: str | None,
    run_after: dt.datetime | None,
) -> bool:
    spec = registry.get(name)
    if spec is None:
        raise ValueError(f"unknown job {name!r}; register it with fangkong.jobs.registry.job")
    if run_after is not None and run_after.tzinfo is None:
        raise ValueError("run_after must be an aware datetime")
    if dedupe_key is not None and _key_taken(dedupe_key):
        return False
    now = clock.now()
    job = Job(
        name=name,
        payload=payload or {},
        dedupe_key=dedupe_key,
        max_attempts=spec.max_attempts,
        run_after=run_after or now,
        created_at=now,
    )
    try:
        # A savepoint: losing the race on the unique key must not break the caller's
        # transaction (PostgreSQL aborts the whole transaction on an error otherwise).
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        if dedupe_key is None:
            raise
        return False
    return True


def _key_taken(dedupe_key: str) -> bool:
    # The fast path; the unique constraint below is what makes it race-safe.
    return Job.objects.filter(dedupe_key=dedupe_key).exists()


def slot_start(now: dt.datetime, every: dt.timedelta) -> dt.datetime:
    """The start (UTC) of the slot of length `every` that contains `now`."""
    return (SLOT_EPOCH + ((now - SLOT_EPOCH) // every) * every).astimezone(clock.UTC)


def enqueue_periodic(*, now: dt.datetime | None = None) -> int:
    """Enqueue the current slot of every periodic job; returns how many were new."""
    now = now or clock.now()
    added = 0
    for spec in registry.periodic_specs():
        assert spec.every is not None
        start = slot_start(now, spec.every).isoformat()
        with transaction.atomic():
            added += _insert(
                name=spec.name,
                payload={"slot": start},
                dedupe_key=f"{spec.name}@{start}",
                run_after=None,
            )
    return added


def requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Give back running jobs whose worker died; counts as a failed attempt."""
    now = now or clock.now()
    stale = getattr(settings, "FANGKONG_JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS)
    cutoff = now - dt.timedelta(seconds=stale)
    exhausted = When(attempts__gte=F("max_attempts") - 1, then=Value(Job.Status.FAILED))
    count = Job.objects.filter(status=Job.Status.RUNNING, locked_at__lt=cutoff).update(
        attempts=F("attempts") + 1,
        status=Case(exhausted, default=Value(Job.Status.QUEUED)),
        finished_at=Case(When(attempts__gte=F("max_attempts") - 1, then=Value(now))),
        run_after=now,
        locked_by="",
        locked_at=None,
        last_error=f"worker lost the job: lock older than {stale}s",
    )
    if count:
        logger.warning("requeued %d stale running jobs", count)
    return count


def _claim(*, worker: str, limit: int, now: dt.datetime) -> list[int]:
    with transaction.atomic():
        due = Job.objects.filter(status=Job.Status.QUEUED, run_after__lte=now).order_by(
            "run_after", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            Job.objects.filter(id__in=ids, status=Job.Status.QUEUED).update(
                status=Job.Status.RUNNING, locked_by=worker, locked_at=now
            )
    return ids


def run_due(*, worker: str, limit: int = 100) -> int:
    """Claim up to `limit` due jobs and run them; returns how many ran (succeeded or not)."""
    now = clock.now()
    requeue_stale(now=now)
    ids = _claim(worker=worker, limit=limit, now=now)
    for job in Job.objects.filter(id__in=ids).order_by("run_after", "id"):
        _run_one(job, worker=worker)
    return len(ids)


def _run_one(job: Job, *, worker: str) -> None:
    spec = registry.get(job.name)
    mine = Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, locked_by=worker, locked_at=job.locked_at
    )
    started = time.monotonic()
    if spec is None:
        _record_failure(job, mine, error=f"no handler registered for {job.name!r}", final=True)
        logger.error("job %s #%d failed: no handler registered", job.name, job.pk)
        return
    try:
        with transaction.atomic():
            spec.handler(job.payload)
            marked = mine.update(
                status=Job.Status.DONE,
                attempts=F("attempts") + 1,
                finished_at=clock.now(),
                locked_by="",
                locked_at=None,
                last_error="",
            )
            if not marked:
                raise _LostLock
    except _LostLock:
        logger.warning("job %s #%d was taken from %s while running", job.name, job.pk, worker)
        return
    except Exception:
        attempts = job.attempts + 1
        final = attempts >= job.max_attempts
        _record_failure(
            job,
            mine,
            error=traceback.format_exc()[-MAX_ERROR_CHARS:],
            final=final,
            retry_in=spec.backoff(attempts),
        )
        logger.exception(
            "job %s #%d attempt %d/%d %s",
            job.name,
            job.pk,
            attempts,
            job.max_attempts,
            "failed for good" if final else "failed, will retry",
        )
        return
    logger.info("job %s #%d done in %.3fs", job.name, job.pk, time.monotonic() - started)


def _record_failure(
    job: Job,
    mine: Any,
    *,
    error: str,
    final: bool,
    retry_in: dt.timedelta = dt.timedelta(0),
) -> None:
    now = clock.now()
    fields: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "last_error": error,
        "locked_by": "",
        "locked_at": None,
    }
    if final:
        fields |= {"status": Job.Status.FAILED, "finished_at": now}
    else:
        fields |= {"status": Job.Status.QUEUED, "run_after": now + retry_in}
    with transaction.atomic():
        mine.update(**fields)
