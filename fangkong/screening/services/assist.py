"""Assist requests (协查) across districts: send, acknowledge, and the structured reply.

A district (or the tracing module, for a contact who stays elsewhere) sends persons to another
district's or town's inbox. Each person becomes an arrival there (merged with an open one) and
an item of the request; the receiver acknowledges within the rulebook's deadline
(Duty.LAND_ASSIST_REQUEST), verifies each arrival, and the outcome of each verification goes
back on the item, where the sender reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require, system_actor
from fangkong.core.errors import Invalid, NotAllowed
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Level
from fangkong.people import protect
from fangkong.policy.schema import Category, Duty
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening import rules
from fangkong.screening.models import Arrival, AssistItem, AssistRequest, SourceKind
from fangkong.screening.services._common import (
    ASSIST_SUBJECT,
    LAND_KIND,
    NOTE_MAX,
    Entry,
    clean_text,
    entry_of,
    home_node,
    in_scope,
    intake,
    node_of,
)

MAX_PERSONS = 1000


@dataclass(frozen=True, slots=True)
class AssistPerson:
    """A person sent for verification. `category` is a policy Category value the sender
    already decided (close_contact, ...) or ""; `person_id` is the sender's registry id."""

    name: str
    doc_type: str
    doc_number: str
    phone: str = ""
    address: str = ""
    category: str = ""
    note: str = ""
    person_id: int | None = None


def _may_send(actor: Actor) -> None:
    # Investigators send contacts through tracing (TRACING_WRITE); screening staff send lists.
    if not (actor.can(Perm.SCREENING_ASSIST) or actor.can(Perm.TRACING_WRITE)):
        require(actor, Perm.SCREENING_ASSIST)


@transaction.atomic
def assist_request_send(
    actor: Actor,
    *,
    to_code: str,
    persons: Sequence[AssistPerson],
    reason: str,
    basis_type: str,
    basis_id: str,
) -> AssistRequest:
    """Send persons to another district's (or town's) assist inbox.

    Idempotent per (basis, receiver, person): sending again adds only persons not yet sent.
    Raises NotAllowed (permission), NotFound (no such receiver), Invalid (bad person or
    receiver at the wrong level; the message names the person's position).
    """
    _may_send(actor)
    sender = home_node(actor)
    receiver = node_of(str(to_code or "").strip())
    if receiver.level not in (Level.DISTRICT, Level.TOWN):
        raise Invalid("screening.assist_level", "Send to a district or a town", field="to_code")
    if receiver.path == sender.path:
        raise Invalid(
            "screening.assist_self", "A request cannot go to its own sender", field="to_code"
        )
    reason = clean_text(reason, field="reason", limit=NOTE_MAX, required=True)
    basis_type = clean_text(basis_type, field="basis_type", limit=16, required=True)
    basis_id = clean_text(basis_id, field="basis_id", limit=64, required=True)
    entries = _entries(persons)

    in_force = rulebook_in_force()
    now = clock.now()
    request = AssistRequest(
        from_jurisdiction=sender,
        from_path=sender.path,
        to_jurisdiction=receiver,
        jurisdiction_path=receiver.path,
        reason=reason,
        basis_type=basis_type,
        basis_id=basis_id,
        due_at=rules.assist_deadline(in_force.book, from_=now),
        created_by=actor.label[:150],
        created_at=now,
    )
    try:
        with transaction.atomic():
            request.save(force_insert=True)
        created = True
    except IntegrityError:
        created = False
    request = AssistRequest.objects.select_for_update().get(
        from_path=sender.path,
        jurisdiction_path=receiver.path,
        basis_type=basis_type,
        basis_id=basis_id,
    )
    sent = set(AssistItem.objects.filter(request=request).values_list("doc_bidx", flat=True))
    added = 0
    for person, entry in entries:
        doc_bidx = protect.doc_index(entry.doc_number)
        if doc_bidx in sent:
            continue
        sent.add(doc_bidx)
        got = intake(
            entry=entry,
            root=receiver,
            kind=SourceKind.ASSIST_REQUEST,
            source_name=f"{sender.name} {basis_type}:{basis_id}"[:100],
            source_key=f"assist:{request.pk}",
            in_force=in_force,
            take_over=True,
        )
        AssistItem.objects.create(
            request=request,
            arrival=got.arrival,
            doc_bidx=doc_bidx,
            category=entry.category,
            note=clean_text(person.note, field="note", limit=NOTE_MAX),
            sender_person_id=person.person_id,
        )
        added += 1
    if added:
        AssistRequest.objects.filter(pk=request.pk).update(items_total=request.items_total + added)
        request.items_total += added
        if request.state == AssistRequest.State.REPLIED:
            # New persons reopen the reply.
            AssistRequest.objects.filter(pk=request.pk).update(
                state=AssistRequest.State.ACKNOWLEDGED
            )
            request.state = AssistRequest.State.ACKNOWLEDGED
    if created:
        _land(request)
    record(
        actor=actor,
        action="screening.assist_send",
        target=request,
        jurisdiction_path=receiver.path,
        detail={
            "from": sender.code,
            "to": receiver.code,
            "basis": f"{basis_type}:{basis_id}",
            "added": added,
            "new_request": created,
        },
    )
    return request


def _entries(persons: Sequence[AssistPerson]) -> list[tuple[AssistPerson, Entry]]:
    if not persons:
        raise Invalid("screening.assist_empty", "Name at least one person", field="persons")
    if len(persons) > MAX_PERSONS:
        raise Invalid("screening.assist_too_many", f"At most {MAX_PERSONS} persons per request")
    entries = []
    for i, p in enumerate(persons, start=1):
        if p.category and p.category not in Category._value2member_map_:
            raise Invalid("screening.category", f"Person {i}: unknown category", field="category")
        try:
            entries.append(
                (
                    p,
                    entry_of(
                        doc_type=p.doc_type,
                        doc_number=p.doc_number,
                        name=p.name,
                        phone=p.phone,
                        address=p.address,
                        category=p.category,
                    ),
                )
            )
        except Invalid as exc:
            raise Invalid(exc.code, f"Person {i}: {exc.message}", person=i, **exc.detail) from exc

    return entries


def _land(request: AssistRequest) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Assist request %(id)s from %(sender)s") % {
            "id": request.pk,
            "sender": request.from_jurisdiction.name,
        }
    item = assignments.assignment_create(
        actor=system_actor("screening"),
        kind=LAND_KIND,
        jurisdiction=request.to_jurisdiction,
        title=title,
        subject_type=ASSIST_SUBJECT,
        subject_id=request.pk,
        due_at=request.due_at,
        dedupe_key=f"{ASSIST_SUBJECT}:{request.pk}:land",
        detail={"duty": Duty.LAND_ASSIST_REQUEST.value},
    )
    AssistRequest.objects.filter(pk=request.pk).update(assignment_id=item.pk)
    request.assignment_id = item.pk


@transaction.atomic
def assist_request_acknowledge(*, actor: Actor, request: AssistRequest) -> AssistRequest:
    """The receiver takes the request into its work (stops the landing clock). Idempotent.
    Raises NotFound unless the actor covers the receiver."""
    if not (actor.can(Perm.SCREENING_VERIFY) or actor.can(Perm.SCREENING_ASSIST)):
        raise NotAllowed("permission_denied", "Missing permission screening.verify")
    in_scope(actor, request.jurisdiction_path)
    request = AssistRequest.objects.select_for_update().get(pk=request.pk)
    if request.acknowledged_at is not None:
        return request
    now = clock.now()
    if request.state == AssistRequest.State.SENT:
        request.state = AssistRequest.State.ACKNOWLEDGED
    request.acknowledged_at, request.acknowledged_by = now, actor.label[:150]
    request.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    assignments.assignments_close_for_subject(
        actor=system_actor("screening"),
        subject_type=ASSIST_SUBJECT,
        subject_id=request.pk,
        outcome="acknowledged",
    )
    record(actor=actor, action="screening.assist_acknowledge", target=request)
    return request


def reply_for_arrival(actor: Actor, arrival: Arrival, outcome: str, note: str = "") -> int:
    """Put a verification's outcome on every pending assist item about the arrival (the
    sender's structured reply). Returns how many items were answered."""
    items = list(
        AssistItem.objects.select_for_update()
        .filter(arrival=arrival, outcome="pending")
        .order_by("id")
    )
    now = clock.now()
    for item in items:
        item.outcome, item.outcome_note, item.replied_at = outcome, note[:500], now
        item.save(update_fields=["outcome", "outcome_note", "replied_at"])
        request = AssistRequest.objects.select_for_update().get(pk=item.request_id)
        request.items_replied += 1
        fields = ["items_replied"]
        if request.items_replied >= request.items_total:
            request.state, request.replied_at = AssistRequest.State.REPLIED, now
            fields += ["state", "replied_at"]
        request.save(update_fields=fields)
        record(
            actor=actor,
            action="screening.assist_reply",
            target=request,
            detail={"item": item.pk, "outcome": outcome},
        )
    return len(items)
