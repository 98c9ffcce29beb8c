"""Running the lake's co-presence engine for a case (first degree) or for its confirmed close
contacts (second degree), and turning what it finds into candidate contacts.

Two ways in: `copresence_run` runs at once (the API, the demo, operator scripts), and
`copresence_request` queues a run for the worker (the page: a case at a mall can take the
engine longer than a request should), which `copresence_perform` carries out in the
`tracing.copresence` job. Progress goes to a small file under the data directory while the
job runs (the run's row changes only when the job commits); `run_progress` reads it.

A person already linked to the case, the case itself and persons who are open cases are left
out; the rest become candidate edges ranked by exposure, for an investigator to confirm in bulk
(contacts.contacts_confirm).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import DomainError, Invalid
from fangkong.core.perms import Perm
from fangkong.jobs.services import enqueue
from fangkong.lake import engine
from fangkong.policy.sections.tracing import TracingRules
from fangkong.policy.selectors import rulebook_in_force
from fangkong.tracing import rules
from fangkong.tracing.models import Case, Contact, CopresenceRun
from fangkong.tracing.rules import ContactCategory, ContactStatus
from fangkong.tracing.services._common import covered
from fangkong.tracing.services.contacts import confirm_edges
from fangkong.tracing.services.copresence_findings import Progress, find, from_epoch, store

COPRESENCE_JOB = "tracing.copresence"


def epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


def _checked(actor: Actor, case: Case, degree: int) -> TracingRules:
    require(actor, Perm.TRACING_WRITE)
    covered(actor, case.jurisdiction_path)
    if degree not in (1, 2):
        raise Invalid(
            "tracing.degree", "Degree 1 (the case) or 2 (its close contacts)", field="degree"
        )
    book = rulebook_in_force().book.tracing
    if degree == 2 and not book.secondary_contacts:
        raise Invalid("tracing.secondary_off", "The rulebook does not trace secondary contacts")
    return book


@transaction.atomic
def copresence_run(
    actor: Actor,
    *,
    case: Case,
    degree: int = 1,
    source: Any = None,
    backend: engine.Backend = "duckdb",
) -> CopresenceRun:
    """Find the case's co-presence candidates (degree 1: over its infectious window), or
    its close contacts' (degree 2: each from their first exposure until they were isolated),
    and store them as candidate edges. Running again adds only people not yet linked.
    `source` is the lake (the platform's by default) or plain files.
    Raises NotFound (case outside the scope), Invalid (degree, secondary tracing off).
    """
    book = _checked(actor, case, degree)
    run = CopresenceRun(case=case, jurisdiction_path=case.jurisdiction_path, degree=degree)
    run.actor_label, run.ran_at = actor.label[:150], clock.now()
    return _execute(actor, run, book=book, source=source, backend=backend)


@transaction.atomic
def copresence_request(actor: Actor, *, case: Case, degree: int = 1) -> CopresenceRun:
    """Queue a run for the worker; a run of the same degree still queued is returned instead
    of a second one. Raises NotFound (case outside the scope), Invalid (degree, secondary
    tracing off)."""
    _checked(actor, case, degree)
    waiting = (
        CopresenceRun.objects.select_for_update()
        .filter(case=case, degree=degree, status=CopresenceRun.Status.QUEUED)
        .first()
    )
    if waiting is not None and run_progress(waiting).get("stage") != "failed":
        return waiting
    if waiting is not None:  # its job failed; a retry still pending finds it no longer queued
        waiting.status, waiting.error = CopresenceRun.Status.FAILED, "worker error"
        waiting.finished_at = clock.now()
        waiting.save(update_fields=["status", "error", "finished_at"])
    now = clock.now()
    run = CopresenceRun.objects.create(
        case=case,
        jurisdiction_path=case.jurisdiction_path,
        degree=degree,
        status=CopresenceRun.Status.QUEUED,
        window_start=case.window_start,
        window_end=case.window_end,
        actor_label=actor.label[:150],
        ran_at=now,
    )
    record(
        actor=actor,
        action="tracing.copresence_request",
        target=run,
        detail={"case": case.pk, "degree": degree},
    )
    enqueue(
        name=COPRESENCE_JOB,
        payload={"run": run.pk, "actor": actor.label[:100]},
        dedupe_key=f"{COPRESENCE_JOB}:{run.pk}",
    )
    return run


@transaction.atomic
def copresence_perform(*, run_id: int, actor: Actor) -> None:
    """The worker's side of `copresence_request` (in the job's transaction). Idempotent: a run
    no longer queued is left alone. A domain error (the case closed to the actor, the rulebook
    changed) ends the run as failed; anything else fails the job, which retries."""
    run = (
        CopresenceRun.objects.select_for_update()
        .select_related("case")
        .filter(pk=run_id, status=CopresenceRun.Status.QUEUED)
        .first()
    )
    if run is None:
        return
    progress = _progress_writer(run.pk)
    try:
        book = _checked(actor, run.case, run.degree)
        with transaction.atomic():  # a savepoint: a domain error undoes only the engine's work
            _execute(actor, run, book=book, progress=progress)
    except DomainError as exc:
        run.status, run.error = CopresenceRun.Status.FAILED, exc.message[:300]
        run.finished_at = clock.now()
        run.save(update_fields=["status", "error", "finished_at"])
    except Exception:
        progress("failed", 0)
        raise
    _progress_path(run.pk).unlink(missing_ok=True)


def _execute(
    actor: Actor,
    run: CopresenceRun,
    *,
    book: TracingRules,
    source: Any = None,
    backend: engine.Backend = "duckdb",
    progress: Progress | None = None,
) -> CopresenceRun:
    case, degree, now = run.case, run.degree, clock.now()
    origins: dict[int, Contact | None] = {}
    windows: list[engine.CaseWindow] = []
    if degree == 1:
        origins[case.person_id] = None
        windows.append(
            engine.CaseWindow(case.person_id, epoch(case.window_start), epoch(case.window_end))
        )
    else:
        close = Contact.objects.filter(
            case=case, degree=1, category=ContactCategory.CLOSE, status=ContactStatus.CONFIRMED
        ).order_by("pk")
        for edge in close:
            window = rules.secondary_window(
                first_exposure_at=edge.first_exposure_at, isolated_at=edge.isolated_at, now=now
            )
            if window is None:
                continue
            origins[edge.person_id] = edge
            windows.append(engine.CaseWindow(edge.person_id, epoch(window[0]), epoch(window[1])))
    linked = set(Contact.objects.filter(case=case).values_list("person_id", flat=True))
    linked.add(case.person_id)
    exclude = {w.case_person_id: linked for w in windows}
    started = time.perf_counter()
    found = (
        find(
            source if source is not None else engine.lake_root(),
            windows,
            book=book,
            exclude=exclude,
            backend=backend,
            progress=progress,
        )
        if windows
        else {}
    )
    seconds = time.perf_counter() - started
    if progress is not None:
        progress("storing", len(found))
    created, direct = store(case, found, origins=origins, degree=degree, book=book, now=now)
    if direct:
        confirm_edges(actor, direct, reason=f"co-presence with case {case.pk} (rulebook: direct)")
    run.window_start = min((from_epoch(w.window_start) for w in windows), default=case.window_start)
    run.window_end = max((from_epoch(w.window_end) for w in windows), default=case.window_end)
    run.params = {
        "window_seconds": book.copresence_window_seconds,
        "venue_dwell_seconds": dict(book.venue_dwell_seconds),
        "cell_min_overlap_seconds": book.cell_min_overlap_seconds,
        "cell_cumulative_seconds": book.cell_cumulative_seconds,
        "origins": len(windows),
        "backend": backend,
    }
    run.candidates, run.created, run.seconds = len(found), created, round(seconds, 4)
    run.status, run.finished_at = CopresenceRun.Status.DONE, clock.now()
    run.save()
    record(
        actor=actor,
        action="tracing.copresence_run",
        target=run,
        detail={
            "case": case.pk,
            "degree": degree,
            "found": len(found),
            "created": created,
            "direct": len(direct),
        },
    )
    return run


def _progress_path(run_id: int) -> Path:
    return Path(settings.DATA_DIR) / "tracing" / f"copresence-{run_id}.json"


def _progress_writer(run_id: int) -> Progress:
    path = _progress_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(stage: str, found: int) -> None:
        path.write_text(json.dumps({"stage": stage, "found": found}))

    return write


def run_progress(run: CopresenceRun) -> dict[str, Any]:
    """What a queued run's job last reported: {"stage": venues | cells | storing | failed,
    "found": persons so far}, or {} before the worker took it up."""
    if run.status != CopresenceRun.Status.QUEUED:
        return {}
    try:
        data = json.loads(_progress_path(run.pk).read_text())
    except (OSError, ValueError):
        return {}
    return {"stage": str(data.get("stage", "")), "found": int(data.get("found", 0))}
