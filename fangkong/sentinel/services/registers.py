"""Filing register lines: counter entries, point-of-sale batches (idempotent by the client's
ids), rows of a daily file. (Zero reports and sampling recorded later: services.reports.)

Each stored record gets, in the same transaction: the registry person with that document
number (when there is one) and where they live; the repeat-buyer and proxy-buyer flags; the
48 h rule (a negative test sampled within the rulebook's lookback, from mass testing), and
when it fails, a test requirement assigned to the buyer's grid, unless the unit sampled them
on the spot; the unit's daily report. One audit row per call.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, system_actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.mass_testing.selectors import last_results
from fangkong.people.models import Person
from fangkong.policy.schema import Duty
from fangkong.policy.selectors import rulebook_in_force
from fangkong.sentinel import rules
from fangkong.sentinel.models import DailyReport, Registration, Unit
from fangkong.sentinel.services.records import Draft, clean_record
from fangkong.sentinel.services.units import check_reporter

BATCH_MAX = 500
FOLLOW_UP_KIND = Duty.FOLLOW_UP_DRUG_BUYER.value
SUBJECT = "sentinel_buyer"  # subject id: the buyer's document index and the day


def buyer_subject(reg: Registration) -> str:
    return f"{reg.doc_bidx}:{reg.day.isoformat()}"


@dataclass(slots=True)
class ItemResult:
    """What became of one record of a batch."""

    index: int
    status: str  # accepted | duplicate | invalid
    id: int | None = None
    client_id: str | None = None
    field: str = ""
    code: str = ""
    message: str = ""
    test_status: str = ""
    repeat_buyer: bool = False
    proxy_buyer: bool = False
    assignment_id: int | None = None


@dataclass(slots=True)
class BatchResult:
    items: list[ItemResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)


def _existing_by_client(unit: Unit, client_ids: list[str]) -> dict[str, Registration]:
    if not client_ids:
        return {}
    rows = Registration.objects.filter(unit=unit, client_id__in=client_ids)
    return {r.client_id: r for r in rows if r.client_id is not None}


def _result_of(index: int, reg: Registration, status: str) -> ItemResult:
    return ItemResult(
        index=index,
        status=status,
        id=reg.pk,
        client_id=reg.client_id,
        test_status=reg.test_status,
        repeat_buyer=reg.repeat_buyer,
        proxy_buyer=reg.proxy_buyer,
        assignment_id=reg.assignment_id,
    )


def _history(
    drafts: Sequence[Draft], window: dt.timedelta
) -> dict[str, list[tuple[dt.datetime, bool]]]:
    """Earlier purchases of the batch's buyers: doc index -> [(when, for another)]."""
    bidx = {d.doc_bidx for d in drafts if d.kind == rules.RecordKind.PURCHASE}
    if not bidx:
        return {}
    since = min(d.occurred_at for d in drafts) - window
    out: dict[str, list[tuple[dt.datetime, bool]]] = defaultdict(list)
    rows = Registration.objects.filter(
        doc_bidx__in=bidx, kind=rules.RecordKind.PURCHASE, occurred_at__gte=since
    ).values_list("doc_bidx", "occurred_at", "for_other")
    for key, at, for_other in rows:
        out[key].append((at, for_other))
    return out


def _persons(drafts: Sequence[Draft]) -> dict[str, tuple[int, int | None, str]]:
    """Registry persons by document index: (id, grid id, jurisdiction path)."""
    rows = Person.objects.filter(
        doc_bidx__in={d.doc_bidx for d in drafts}, merged_into__isnull=True
    ).values_list("doc_bidx", "id", "grid_id", "jurisdiction_path")
    return {key: (pid, grid, path) for key, pid, grid, path in rows}


def _store(
    *, actor: Actor, unit: Unit, drafts: Sequence[tuple[int, Draft]], source: str
) -> list[tuple[int, Registration]]:
    """Insert checked records (none of them a duplicate) with their flags and follow-up."""
    if not drafts:
        return []
    now = clock.now()
    in_force = rulebook_in_force(at=now)
    book = in_force.book.sentinel
    window = dt.timedelta(days=book.repeat_window_days)
    only = [d for _, d in drafts]
    history = _history(only, window)
    persons = _persons(only)
    lookback = dt.timedelta(hours=book.test_lookback_hours)
    person_ids = [p[0] for p in persons.values()]
    since = min(d.occurred_at for d in only) - lookback
    tests = last_results(scope=Scope.system(), person_ids=person_ids, since=since)

    rows: list[tuple[int, Registration]] = []
    for index, d in drafts:
        person = persons.get(d.doc_bidx)
        past = [
            (at, other)
            for at, other in history.get(d.doc_bidx, [])
            if d.occurred_at - window <= at <= d.occurred_at
        ]
        repeat = proxy = False
        if d.kind == rules.RecordKind.PURCHASE:
            repeat = rules.is_repeat(
                purchases_in_window=len(past) + 1, min_purchases=book.repeat_min_purchases
            )
            proxies = sum(1 for _, other in past if other) + (1 if d.for_other else 0)
            proxy = d.for_other and proxies >= book.proxy_min_purchases
            history.setdefault(d.doc_bidx, []).append((d.occurred_at, d.for_other))
        last = tests.get(person[0]) if person else None
        needs = rules.needs_test(
            last_negative_at=last.last_negative_at if last else None,
            now=d.occurred_at,
            hours=book.test_lookback_hours,
        )
        if not needs:
            status = rules.TestStatus.RECENT_NEGATIVE
        elif d.sampled:
            status = rules.TestStatus.SAMPLED
        else:
            status = rules.TestStatus.ASSIGNED
        rows.append(
            (
                index,
                Registration(
                    unit=unit,
                    jurisdiction_path=unit.jurisdiction_path,
                    kind=d.kind,
                    stream=d.stream,
                    source=source,
                    client_id=d.client_id,
                    occurred_at=d.occurred_at,
                    day=d.day,
                    doc_type=d.doc_type,
                    doc_number=d.doc_number,
                    doc_bidx=d.doc_bidx,
                    name=d.name,
                    phone=d.phone,
                    phone_bidx=d.phone_bidx,
                    person_id=person[0] if person else None,
                    home_grid_id=person[1] if person else None,
                    home_path=person[2] if person else "",
                    drug_class=d.drug_class,
                    product=d.product,
                    quantity=d.quantity,
                    fever=d.fever,
                    cough=d.cough,
                    sore_throat=d.sore_throat,
                    other_symptoms=d.other_symptoms,
                    temperature=d.temperature,
                    travel_history=d.travel_history,
                    contact_history=d.contact_history,
                    for_other=d.for_other,
                    for_name=d.for_name,
                    for_doc_bidx=d.for_doc_bidx,
                    for_relation=d.for_relation,
                    repeat_buyer=repeat,
                    proxy_buyer=proxy,
                    test_status=status,
                    sampled_at=d.occurred_at if status == rules.TestStatus.SAMPLED else None,
                    sample_ref=d.sample_ref if status == rules.TestStatus.SAMPLED else "",
                    reported_by=actor.label[:150],
                    created_at=now,
                ),
            )
        )
    Registration.objects.bulk_create([r for _, r in rows])
    if any(r.pk is None for _, r in rows):  # pragma: no cover - both databases return ids
        raise RuntimeError("bulk_create returned no ids")
    _follow_up([r for _, r in rows if r.test_status == rules.TestStatus.ASSIGNED], unit)
    _file_days(unit, [r for _, r in rows], actor=actor, now=now)
    return rows


def _follow_up(regs: list[Registration], unit: Unit) -> None:
    """A test requirement per buyer and day at the grid where they live (the unit's node
    for a buyer the registry does not know). Created by the system: the buyer's grid is
    usually outside the reporting unit's scope."""
    if not regs:
        return
    node_ids = {r.home_grid_id for r in regs if r.home_grid_id is not None}
    nodes = Jurisdiction.objects.in_bulk(node_ids) if node_ids else {}
    system = system_actor("sentinel")
    for reg in regs:
        node = nodes.get(reg.home_grid_id) if reg.home_grid_id is not None else None
        item = assignments.assignment_create(
            actor=system,
            kind=FOLLOW_UP_KIND,
            jurisdiction=node or unit.jurisdiction,
            title=f"{unit.name}: drug buyer without a recent negative test"[:200],
            subject_type=SUBJECT,
            subject_id=buyer_subject(reg),
            person_id=reg.person_id,
            duty=Duty.FOLLOW_UP_DRUG_BUYER,
            dedupe_key=f"sentinel:test:{buyer_subject(reg)}",
            detail={
                "unit": unit.code,
                "stream": reg.stream,
                "registered_person": reg.person_id is not None,
                "registration_id": reg.pk,
            },
        )
        reg.assignment_id = item.pk
    Registration.objects.bulk_update(regs, ["assignment_id"])


def _file_days(unit: Unit, regs: list[Registration], *, actor: Actor, now: dt.datetime) -> None:
    """Count the records into the unit's daily reports (records replace a zero report)."""
    per_day: dict[dt.date, int] = defaultdict(int)
    for r in regs:
        per_day[r.day] += 1
    for day, n in sorted(per_day.items()):
        done = DailyReport.objects.filter(unit=unit, day=day).update(
            records=F("records") + n, zero=False, last_at=now
        )
        if done:
            continue
        try:
            with transaction.atomic():
                DailyReport.objects.create(
                    unit=unit,
                    jurisdiction_path=unit.jurisdiction_path,
                    day=day,
                    records=n,
                    first_at=now,
                    last_at=now,
                    filed_by=actor.label[:150],
                )
        except IntegrityError:  # a parallel batch filed the day first
            DailyReport.objects.filter(unit=unit, day=day).update(
                records=F("records") + n, zero=False, last_at=now
            )


@transaction.atomic
def registrations_submit(
    *, actor: Actor, unit: Unit, items: Sequence[Mapping[str, Any]], source: str
) -> BatchResult:
    """File a batch of records for a unit (its kind decides purchase or visit).

    Each record is accepted, a duplicate (its client id is already stored for this unit: the
    stored record is returned, nothing is counted twice) or invalid (field, code, message);
    the valid ones are stored even when others are not. Raises Invalid for an empty or
    oversized batch, NotFound/NotAllowed when the actor may not report for the unit.
    """
    check_reporter(actor, unit)
    if not unit.active:
        raise Conflict("sentinel.unit_inactive", "This reporting unit is inactive")
    if not items:
        raise Invalid("sentinel.batch_empty", "The batch has no records", field="records")
    if len(items) > BATCH_MAX:
        raise Invalid(
            "sentinel.batch_too_large", f"At most {BATCH_MAX} records per batch", field="records"
        )
    now = clock.now()
    result = BatchResult()
    checked: list[tuple[int, Draft]] = []
    for index, raw in enumerate(items):
        try:
            checked.append((index, clean_record(raw, kind=unit.record_kind, now=now)))
        except Invalid as exc:
            result.items.append(
                ItemResult(
                    index=index,
                    status="invalid",
                    client_id=str(raw.get("client_id") or "")[:64] or None,
                    field=str(exc.detail.get("field", "")),
                    code=exc.code,
                    message=exc.message,
                )
            )
    stored = _existing_by_client(unit, [d.client_id for _, d in checked if d.client_id])
    fresh: list[tuple[int, Draft]] = []
    seen: dict[str, int] = {}
    later_dupes: list[tuple[int, str]] = []
    for index, d in checked:
        if d.client_id is not None and d.client_id in stored:
            result.items.append(_result_of(index, stored[d.client_id], "duplicate"))
        elif d.client_id is not None and d.client_id in seen:
            later_dupes.append((index, d.client_id))  # the same id twice in one batch
        else:
            if d.client_id is not None:
                seen[d.client_id] = index
            fresh.append((index, d))
    rows = _store(actor=actor, unit=unit, drafts=fresh, source=source)
    by_client = {r.client_id: r for _, r in rows if r.client_id}
    result.items.extend(_result_of(i, r, "accepted") for i, r in rows)
    result.items.extend(_result_of(i, by_client[c], "duplicate") for i, c in later_dupes)
    result.items.sort(key=lambda i: i.index)
    record(
        actor=actor,
        action="sentinel.registrations_submit",
        target=unit,
        detail={
            "source": source,
            "accepted": result.count("accepted"),
            "duplicate": result.count("duplicate"),
            "invalid": result.count("invalid"),
        },
    )
    return result


@transaction.atomic
def registrations_import(
    *, actor: Actor, unit: Unit, drafts: Sequence[Draft], source: str
) -> list[Registration]:
    """Store checked records all at once (the daily file: sentinel.imports checked every row
    first). Records whose client id is already stored are skipped, so the same file twice
    stores nothing twice."""
    check_reporter(actor, unit)
    if not unit.active:
        raise Conflict("sentinel.unit_inactive", "This reporting unit is inactive")
    stored = _existing_by_client(unit, [d.client_id for d in drafts if d.client_id])
    fresh = [
        (i, d) for i, d in enumerate(drafts) if d.client_id is None or d.client_id not in stored
    ]
    rows = _store(actor=actor, unit=unit, drafts=fresh, source=source)
    record(
        actor=actor,
        action="sentinel.registrations_import",
        target=unit,
        detail={"stored": len(rows), "skipped": len(drafts) - len(rows)},
    )
    return [r for _, r in rows]
