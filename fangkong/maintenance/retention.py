"""Retention and purge: set-based, chunked, and recorded (PurgeRecord, ledger file, audit).

Persons are crypto-shredded rather than deleted: their encrypted fields become empty (no
ciphertext is left to decrypt, whatever happens to the keys later), their blind indexes are
cleared (the document index gets a unique tombstone, because it is unique among active rows),
and the row id stays, so control orders, work items and the audit trail keep pointing at a
pseudonymous record. Everything else past retention is deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from fangkong.assignments.models import Assignment
from fangkong.audit import services as audit
from fangkong.control.models import ControlOrder, OrderStatus, ScheduledTest
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed
from fangkong.jobs.models import Job
from fangkong.maintenance import ledger
from fangkong.maintenance.held import BY_LABEL, HELD, held_purge, held_reapply
from fangkong.maintenance.ledger import TOMBSTONE, stamp
from fangkong.maintenance.models import PurgeRecord
from fangkong.maintenance.policy import Category, cutoffs
from fangkong.notifications.models import Notification, OutboundMessage
from fangkong.people.models import Person, PersonNote
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.rules import ContactStatus

PERSON = "people.person"
# A control order that still binds the person, or may: its person is not purged.
_LIVE_ORDER = [OrderStatus.PENDING_APPROVAL, OrderStatus.ISSUED, OrderStatus.IN_EFFECT]
_ENDED_ORDER = [s for s in OrderStatus.values if s not in _LIVE_ORDER]


@dataclass
class RetentionReport:
    run_id: str
    started_at: dt.datetime
    dry_run: bool
    cutoffs: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    report_path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "dry_run": self.dry_run,
            "cutoffs": self.cutoffs,
            "counts": self.counts,
        }


def _require_operator(actor: Actor) -> None:
    # Retention and erasure are operator commands: no role grants them through the web.
    if actor.kind != "system":
        raise NotAllowed("maintenance.operator_only", "Only an operator command may purge data")


def _not_purged() -> Q:
    return ~Q(doc_bidx__startswith=TOMBSTONE)


def _open_work(person_ref: Any) -> Q:
    """Work that still needs the person's data. A module that adds open work about a person
    (a case under investigation, a contact to trace) adds its test here."""
    return (
        Q(Exists(Assignment.objects.filter(person=person_ref, closed_at__isnull=True)))
        | Q(Exists(Case.objects.filter(person=person_ref, status=Case.Status.OPEN)))
        | Q(
            Exists(
                Contact.objects.filter(person=person_ref, case__status=Case.Status.OPEN).exclude(
                    status=ContactStatus.DISMISSED
                )
            )
        )
    )


def persons_past_retention(cutoff: dt.datetime) -> QuerySet[Person]:
    """Persons whose last control order ended before `cutoff`, with nothing live or open."""
    orders = ControlOrder.objects.filter(person=OuterRef("pk"))
    return (
        Person.objects.filter(_not_purged(), merged_into__isnull=True)
        .filter(Exists(orders.filter(status=OrderStatus.RELEASED, released_at__lt=cutoff)))
        .exclude(Exists(orders.filter(status__in=_LIVE_ORDER)))
        .exclude(Exists(orders.filter(updated_at__gte=cutoff)))
        .exclude(_open_work(OuterRef("pk")))
    )


def duplicates_past_retention(cutoff: dt.datetime) -> QuerySet[Person]:
    """Duplicate records merged into another before `cutoff` (nothing points at them now)."""
    return Person.objects.filter(
        _not_purged(), merged_into__isnull=False, updated_at__lt=cutoff
    ).exclude(_open_work(OuterRef("pk")))


def _shred(ids: list[int], *, now: dt.datetime) -> int:
    """Overwrite the personal fields of these persons; delete their notes. One UPDATE."""
    PersonNote.objects.filter(person_id__in=ids).delete()
    return (
        Person.objects.filter(pk__in=ids)
        .filter(_not_purged())
        .update(
            name="",
            doc_number="",
            phone="",
            address="",
            birth_date=None,
            name_bidx="",
            phone_bidx="",
            doc_bidx=Concat(Value(TOMBSTONE), Cast("pk", output_field=CharField())),
            updated_at=now,
        )
    )


def _purge_chunk(
    rows: list[tuple[int, dt.datetime]], *, run_id: str, reason: str, now: dt.datetime
) -> int:
    ids = [pk for pk, _ in rows]
    shredded = _shred(ids, now=now)
    PurgeRecord.objects.bulk_create(
        [
            PurgeRecord(category=PERSON, object_id=i, reason=reason, run_id=run_id, purged_at=now)
            for i in ids
        ],
        ignore_conflicts=True,
    )
    # Before the commit: a purge that committed is always in the file.
    ledger.append(
        run=run_id,
        category=PERSON,
        reason=reason,
        ids=ids,
        created=[stamp(at) for _, at in rows],
    )
    return shredded


def _purge_persons(
    qs: QuerySet[Person], *, run_id: str, reason: str, now: dt.datetime, chunk_size: int
) -> int:
    total, last = 0, 0
    while True:
        with transaction.atomic():
            # The filter is evaluated again inside the transaction that writes; the key set
            # (pk > last) keeps each chunk from scanning again what the previous ones passed.
            rows = list(
                qs.filter(pk__gt=last).order_by("pk").values_list("pk", "created_at")[:chunk_size]
            )
            if not rows:
                return total
            total += _purge_chunk(rows, run_id=run_id, reason=reason, now=now)
            last = rows[-1][0]


def _delete_chunked(qs: QuerySet[Any], *, chunk_size: int) -> int:
    total = 0
    while True:
        with transaction.atomic():
            ids = list(qs.order_by("pk").values_list("pk", flat=True)[:chunk_size])
            if not ids:
                return total
            total += (
                qs.model._base_manager.filter(pk__in=ids).delete()[1].get(qs.model._meta.label, 0)
            )


def _time_based(cut: dict[Category, dt.datetime]) -> dict[Category, QuerySet[Any]]:
    return {
        Category.PERSON_NOTE: PersonNote.objects.filter(created_at__lt=cut[Category.PERSON_NOTE]),
        Category.NOTIFICATION: Notification.objects.filter(
            created_at__lt=cut[Category.NOTIFICATION]
        ),
        Category.OUTBOUND_MESSAGE: OutboundMessage.objects.filter(
            created_at__lt=cut[Category.OUTBOUND_MESSAGE]
        ),
        Category.DONE_JOB: Job.objects.filter(
            status=Job.Status.DONE, finished_at__lt=cut[Category.DONE_JOB]
        ),
    }


def _ended_orders(cutoff: dt.datetime) -> QuerySet[ControlOrder]:
    return ControlOrder.objects.filter(status__in=_ENDED_ORDER, updated_at__lt=cutoff).exclude(
        basis_note=""
    )


def _clear_order_notes(cutoff: dt.datetime, *, chunk_size: int) -> int:
    total = 0
    qs = _ended_orders(cutoff)
    while True:
        with transaction.atomic():
            ids = list(qs.order_by("pk").values_list("pk", flat=True)[:chunk_size])
            if not ids:
                return total
            # updated_at stays: it is when the order ended, which the person's rule reads.
            total += ControlOrder.objects.filter(pk__in=ids).update(basis_note="")
            ScheduledTest.objects.filter(order_id__in=ids).exclude(result_ref="").update(
                result_ref=""
            )


def _write_report(report: RetentionReport, target: Path | None) -> Path:
    if target is None:
        stamp = report.started_at.strftime("%Y%m%dT%H%M%SZ")
        target = Path(settings.DATA_DIR) / "reports" / f"retention-{stamp}-{report.run_id[:8]}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return target


def retention_run(
    *,
    actor: Actor,
    dry_run: bool = False,
    report_path: Path | None = None,
    chunk_size: int = 2000,
) -> RetentionReport:
    """Apply the retention policy: shred persons past retention, delete expired records,
    write a report and one audit entry with the counts. `dry_run` counts and changes nothing."""
    _require_operator(actor)
    now = clock.now()
    cut = cutoffs(now)
    report = RetentionReport(
        run_id=str(uuid.uuid4()),
        started_at=now,
        dry_run=dry_run,
        cutoffs={c.value: t.isoformat() for c, t in cut.items()},
    )
    persons = persons_past_retention(cut[Category.PERSON])
    duplicates = duplicates_past_retention(cut[Category.MERGED_DUPLICATE])
    timed = _time_based(cut)
    if dry_run:
        report.counts = {
            Category.PERSON.value: persons.count(),
            Category.MERGED_DUPLICATE.value: duplicates.count(),
            Category.ORDER_NOTE.value: _ended_orders(cut[Category.ORDER_NOTE]).count(),
            **{h.category.value: h.past(cut[h.category]).count() for h in HELD},
            **{c.value: qs.count() for c, qs in timed.items()},
        }
    else:
        kw: dict[str, Any] = {"run_id": report.run_id, "now": now, "chunk_size": chunk_size}
        report.counts[Category.PERSON.value] = _purge_persons(
            persons, reason="control_released", **kw
        )
        report.counts[Category.MERGED_DUPLICATE.value] = _purge_persons(
            duplicates, reason="merged_duplicate", **kw
        )
        report.counts[Category.ORDER_NOTE.value] = _clear_order_notes(
            cut[Category.ORDER_NOTE], chunk_size=chunk_size
        )
        for held in HELD:
            report.counts[held.category.value] = held_purge(
                held, cut[held.category], run_id=report.run_id, chunk_size=chunk_size
            )
        for category, qs in timed.items():
            report.counts[category.value] = _delete_chunked(qs, chunk_size=chunk_size)
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="maintenance.retention_run",
                target_type="maintenance.run",
                target_id=report.run_id,
                detail={"counts": report.counts, "cutoffs": report.cutoffs},
            )
    report.report_path = str(_write_report(report, report_path))
    return report


def person_purge(*, actor: Actor, person_ids: list[int], reason: str) -> int:
    """Shred named persons now (an erasure request, a correction). Returns how many.

    Raises NotAllowed (not an operator), Invalid (no reason), Conflict (a person is under a
    live control order or has open work: end those first).
    """
    _require_operator(actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("maintenance.reason_required", "A reason is required", field="reason")
    run_id = str(uuid.uuid4())
    now = clock.now()
    with transaction.atomic():
        qs = Person.objects.filter(pk__in=person_ids)
        live = ControlOrder.objects.filter(person=OuterRef("pk"), status__in=_LIVE_ORDER)
        blocked = list(
            qs.filter(Q(Exists(live)) | Q(_open_work(OuterRef("pk")))).values_list("pk", flat=True)
        )
        if blocked:
            raise Conflict(
                "maintenance.purge_blocked",
                "A person is under a live control order or has open work",
                person_ids=blocked,
            )
        rows = list(qs.filter(_not_purged()).order_by("pk").values_list("pk", "created_at"))
        if not rows:
            return 0
        ids = [pk for pk, _ in rows]
        count = _purge_chunk(rows, run_id=run_id, reason="erasure", now=now)
        audit.record(
            actor=actor,
            action="maintenance.person_purge",
            target_type="maintenance.run",
            target_id=run_id,
            reason=reason[:500],
            detail={"person_ids": ids},
        )
    return count


def ledger_reapply(*, actor: Actor, chunk_size: int = 2000) -> int:
    """Shred again every person the ledger file names who holds data (after a restore).

    The database's own PurgeRecord table gets the entries it lacks. Returns how many persons
    were shredded again; one audit entry records it.
    """
    _require_operator(actor)
    now = clock.now()
    total, runs = 0, set()
    for entry in ledger.entries():
        if entry.category in BY_LABEL:
            shredded = held_reapply(entry)
            total += shredded
            if shredded:
                runs.add(entry.run)
            continue
        if entry.category != PERSON:
            continue
        named = dict(zip(entry.ids, entry.created, strict=True))
        for start in range(0, len(entry.ids), chunk_size):
            chunk = entry.ids[start : start + chunk_size]
            with transaction.atomic():
                # The same row, not merely the same id (see ledger.py).
                ids = [
                    pk
                    for pk, at in Person.objects.filter(pk__in=chunk).values_list(
                        "pk", "created_at"
                    )
                    if stamp(at) == named[pk]
                ]
                shredded = _shred(ids, now=now) if ids else 0
                PurgeRecord.objects.bulk_create(
                    [
                        PurgeRecord(
                            category=PERSON,
                            object_id=i,
                            reason=entry.reason,
                            run_id=entry.run,
                            purged_at=dt.datetime.fromisoformat(entry.at),
                        )
                        for i in ids
                    ],
                    ignore_conflicts=True,
                )
            if shredded:
                total += shredded
                runs.add(entry.run)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="maintenance.purges_reapplied",
            target_type="maintenance.ledger",
            detail={"persons": total, "runs": sorted(runs)},
        )
    return total
