"""The grid's verification of an arrival (核查): reached or not and why, the confirmed address,
the sample, the measure (a control order through control.services), notes; placing an
arrival from the town's queue; moving a person who stays in another district."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control.services import order_issue
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.people.services import person_register
from fangkong.policy.schema import Category
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening import rules
from fangkong.screening.models import Arrival, ArrivalStatus, NotReachedReason
from fangkong.screening.services._common import (
    ADDRESS_MAX,
    ARRIVAL_SUBJECT,
    NOTE_MAX,
    clean_text,
    facts_of,
    hand_out,
    in_scope,
    node_of,
    tally_change,
)
from fangkong.screening.services.assist import (
    AssistPerson,
    assist_request_send,
    reply_for_arrival,
)
from fangkong.screening.services.followup import followups_schedule

SAMPLE_MAX = 64


@dataclass(frozen=True, slots=True)
class Verification:
    """What the grid worker found. `stays_in` is the code of another district or town where
    the person actually stays (the arrival is transferred there)."""

    reached: bool
    reason: str = ""  # a NotReachedReason when not reached
    confirmed_address: str = ""
    sample_ref: str = ""
    apply_measure: bool = False
    notes: str = ""
    stays_in: str = ""


def _locked(actor: Actor, arrival: Arrival) -> Arrival:
    in_scope(actor, arrival.jurisdiction_path)
    return Arrival.objects.select_for_update().select_related("jurisdiction").get(pk=arrival.pk)


def _clean(v: Verification) -> Verification:
    reason = v.reason.strip()
    if not v.reached and not v.stays_in:
        if reason not in NotReachedReason.values:
            raise Invalid(
                "screening.reason_required",
                "Say why the person was not reached",
                field="reason",
            )
    elif reason:
        raise Invalid(
            "screening.reason_unexpected", "A reached person needs no reason", field="reason"
        )
    sample = clean_text(v.sample_ref, field="sample_ref", limit=SAMPLE_MAX)
    if sample and not v.reached:
        raise Invalid(
            "screening.sample_unreached", "No sample from a person not reached", field="sample_ref"
        )
    if v.apply_measure and not v.reached:
        raise Invalid(
            "screening.measure_unreached",
            "No measure for a person not reached",
            field="apply_measure",
        )
    return dataclasses.replace(
        v,
        reason=reason,
        sample_ref=sample,
        confirmed_address=clean_text(v.confirmed_address, field="address", limit=ADDRESS_MAX),
        notes=clean_text(v.notes, field="notes", limit=NOTE_MAX),
        stays_in=v.stays_in.strip(),
    )


@transaction.atomic
def arrival_verify(*, actor: Actor, arrival: Arrival, result: Verification) -> Arrival:
    """Record the grid's verification of an arrival and close its work.

    A reached person may get a sample reference and the rulebook's measure (a control order
    with the arrival as basis; a stricter existing order is kept, never downgraded). Not
    reached, left or not in this city go back to an assist request's sender as its reply.
    Raises NotAllowed, NotFound (outside scope), Invalid (inconsistent input), Conflict
    (already verified or transferred).
    """
    require(actor, Perm.SCREENING_VERIFY)
    result = _clean(result)
    a = _locked(actor, arrival)
    if a.status in (ArrivalStatus.VERIFIED, ArrivalStatus.TRANSFERRED):
        raise Conflict("screening.already_verified", "This arrival is already verified")
    if result.stays_in:
        return _transfer(actor, a, result)
    before = rules.flags(facts_of(a))
    now = clock.now()
    a.updated_at, a.verified_at, a.verified_by = now, now, actor.label[:150]
    if result.notes:
        a.notes = result.notes
    if not result.reached:
        a.status, a.not_reached_reason = ArrivalStatus.NOT_REACHED, result.reason
        outcome = rules.REPLY_OF_REASON[result.reason]
    else:
        a.status, a.not_reached_reason = ArrivalStatus.VERIFIED, ""
        if result.confirmed_address:
            a.address, a.address_confirmed = result.confirmed_address, True
        if result.sample_ref:
            a.sample_ref, a.sampled_at = result.sample_ref, now
        if result.apply_measure:
            _apply_measure(actor, a)
        outcome = "verified"
    a.save()
    tally_change(a, before)
    if a.status == ArrivalStatus.VERIFIED:
        followups_schedule(a, rulebook_in_force().book)
    if a.status == ArrivalStatus.VERIFIED or result.reason in rules.NOT_IN_CITY_REASONS:
        assignments.assignments_close_for_subject(
            actor=system_actor("screening"),
            subject_type=ARRIVAL_SUBJECT,
            subject_id=a.pk,
            outcome=outcome,
        )
    reply_for_arrival(actor, a, outcome, result.notes)
    record(
        actor=actor,
        action="screening.arrival_verify",
        target=a,
        detail={
            "status": a.status,
            "reason": a.not_reached_reason,
            "sampled": bool(a.sample_ref),
            "order_id": a.order_id,
            "address_confirmed": a.address_confirmed,
        },
    )
    return a


def _apply_measure(actor: Actor, a: Arrival) -> None:
    if not a.category:
        raise Invalid(
            "screening.no_measure",
            "The rulebook gives no measure for this arrival",
            field="apply_measure",
        )
    grid = a.jurisdiction if a.jurisdiction.level == Level.GRID else None
    person, _ = person_register(
        actor=actor,
        doc_type=a.doc_type,
        doc_number=a.doc_number,
        name=a.name,
        phone=a.phone,
        address=a.address,
        grid=grid,
        jurisdiction=None if grid else a.jurisdiction,
    )
    # The rulebook, not the worker, decides the measure: the grid worker applies it under the
    # screening duty, with the arrival as basis (control.order_issue records both).
    acting = dataclasses.replace(
        actor, scope=Scope(paths=actor.scope.paths, perms=actor.scope.perms | {Perm.CONTROL_ISSUE})
    )
    order = order_issue(
        actor=acting,
        person=person,
        category=Category(a.category),
        anchor=a.arrival_date or clock.local_date(),
        basis_type="arrival",
        basis_id=a.pk,
        reason=f"arrival {a.pk} verified: {a.category}",
    )
    a.person_id, a.order_id, a.under_control = person.pk, order.pk, order.is_active


def _transfer(actor: Actor, a: Arrival, result: Verification) -> Arrival:
    """The person stays in another district: the arrival goes there as an assist request and
    closes here as transferred (never lost)."""
    target = node_of(result.stays_in)
    if actor.scope.covers(target.path):
        raise Invalid(
            "screening.transfer_inside",
            "Place the arrival in your own territory instead",
            field="stays_in",
        )
    person = AssistPerson(
        name=a.name,
        doc_type=a.doc_type,
        doc_number=a.doc_number,
        phone=a.phone,
        address=result.confirmed_address or a.address,
        category=a.category,
        note=result.notes,
        person_id=a.person_id,
    )
    # Sent on the platform's behalf: a grid worker may not hold screening.assist.
    sender = dataclasses.replace(
        actor,
        scope=Scope(paths=actor.scope.paths, perms=actor.scope.perms | {Perm.SCREENING_ASSIST}),
    )
    assist_request_send(
        sender,
        to_code=target.code,
        persons=[person],
        reason=f"arrival {a.pk} stays in {target.name}",
        basis_type="arrival",
        basis_id=str(a.pk),
    )
    reply_for_arrival(actor, a, "transferred", target.name)
    a.refresh_from_db()
    record(actor=actor, action="screening.arrival_transfer", target=a, detail={"to": target.code})
    return a


@transaction.atomic
def arrival_place(*, actor: Actor, arrival: Arrival, grid: Jurisdiction) -> Arrival:
    """Place an arrival from the queue at a grid (the town resolves the address). Its work
    moves with it. Raises NotFound (outside scope), Invalid (not a grid), Conflict (closed)."""
    require(actor, Perm.SCREENING_VERIFY)
    a = _locked(actor, arrival)
    in_scope(actor, grid.path, "jurisdiction.not_found")
    if grid.level != Level.GRID:
        raise Invalid("screening.not_a_grid", "Choose a grid", field="grid")
    if a.closed_at is not None:
        raise Conflict("screening.closed", "This arrival was transferred")
    before, old_path = rules.flags(facts_of(a)), a.jurisdiction_path
    a.jurisdiction, a.jurisdiction_path, a.placed = grid, grid.path, True
    a.updated_at = clock.now()
    a.save(update_fields=["jurisdiction", "jurisdiction_path", "placed", "updated_at"])
    tally_change(a, before, before_path=old_path)
    if a.status == ArrivalStatus.RECEIVED:
        assignments.assignments_close_for_subject(
            actor=system_actor("screening"),
            subject_type=ARRIVAL_SUBJECT,
            subject_id=a.pk,
            outcome=f"placed at {grid.code}",
        )
        hand_out(a)
    record(
        actor=actor,
        action="screening.arrival_place",
        target=a,
        detail={"from": old_path, "grid": grid.code},
    )
    return a
