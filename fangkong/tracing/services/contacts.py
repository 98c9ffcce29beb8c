"""Contacts: edges entered by an investigator, candidates confirmed or dismissed in bulk, the
control order (or the other district's assist request) each new contact gets, follow-ups.

A contact who stays in the case's district is put under control here, through
control.services.order_issue, whose duty lands in the grid where the person stays. A contact
who stays in another district is sent to that district's assist inbox
(screening.services.assist_request_send), one request per case and district; that district
verifies them and issues the order there (territorial responsibility).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from fangkong.audit.services import record
from fangkong.control import services as control
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.people.models import Person
from fangkong.policy.schema import CountsFrom
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening import services as screening
from fangkong.tracing import rules
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.rules import ContactCategory, ContactStatus, ExposureKind
from fangkong.tracing.services._common import (
    aware,
    clean_reason,
    covered,
    district_code,
    enum_value,
    person_locked,
)

MAX_BULK = 2000
ASSIST_BASIS = "tracing.case"


@transaction.atomic
def contact_add(
    actor: Actor,
    *,
    case: Case,
    person_id: int,
    exposure: str,
    first_exposure_at: dt.datetime,
    last_exposure_at: dt.datetime | None = None,
    via: Contact | None = None,
    venue_id: int | None = None,
    general: bool = False,
    note: str = "",
) -> Contact:
    """Record an exposure an investigator found (a household member, a colleague, a shared
    meal...). A direct kind in the rulebook makes a contact at once, put under control; any
    other kind makes a candidate. `via` (a close contact of this case) makes it a secondary
    contact. Adding a person already linked to the case returns that edge, keeping the
    stricter category and the wider exposure period.
    Raises NotFound (case or person outside the scope), Invalid, Conflict.
    """
    require(actor, Perm.TRACING_WRITE)
    covered(actor, case.jurisdiction_path)
    person = person_locked(actor, person_id)
    kind = enum_value(ExposureKind, exposure, "exposure")
    aware(first_exposure_at, "first_exposure_at")
    last = aware(last_exposure_at, "last_exposure_at") if last_exposure_at else first_exposure_at
    now = clock.now()
    if last < first_exposure_at:
        raise Invalid(
            "tracing.exposure_order", "The exposure ends before it starts", field="last_exposure_at"
        )
    if last > now:
        raise Invalid(
            "tracing.exposure_future", "The exposure lies in the future", field="last_exposure_at"
        )
    if person.pk == case.person_id:
        raise Invalid("tracing.self_contact", "A case is not their own contact", field="person_id")
    if via is not None and (via.case_id != case.pk or via.category != ContactCategory.CLOSE):
        raise Invalid(
            "tracing.via",
            "Secondary contacts come through a close contact of this case",
            field="via",
        )
    if Case.objects.filter(person=person, status=Case.Status.OPEN).exists():
        raise Conflict("tracing.contact_is_case", "This person is a case")
    book = rulebook_in_force().book.tracing
    degree = 2 if via is not None else 1
    category = (
        ContactCategory.GENERAL
        if general and degree == 1
        else rules.category_of(kind, degree=degree, found_by_engine=False)
    )
    direct = rules.is_direct(book, kind=kind, encounters=1, manual=True)
    edge = Contact.objects.select_for_update().filter(case=case, person=person).first()
    if edge is None:
        edge = Contact.objects.create(
            case=case,
            via=via,
            person=person,
            jurisdiction_path=case.jurisdiction_path,
            person_path=person.jurisdiction_path,
            degree=degree,
            category=category.value,
            status=ContactStatus.CANDIDATE,
            exposure=kind.value,
            source=Contact.Source.MANUAL,
            first_exposure_at=first_exposure_at,
            last_exposure_at=last,
            venue_id=venue_id,
            note=(note or "").strip()[:2000],
            created_at=now,
            updated_at=now,
        )
        record(
            actor=actor,
            action="tracing.contact_add",
            target=edge,
            detail={
                "case": case.pk,
                "person_id": person.pk,
                "exposure": kind.value,
                "category": category.value,
            },
        )
    else:
        _widen(edge, category=category, first=first_exposure_at, last=last, now=now)
    if direct and edge.status == ContactStatus.CANDIDATE:
        confirm_edges(actor, [edge], reason=f"{kind.value} exposure to case {case.pk}")
    return edge


def _widen(
    edge: Contact,
    *,
    category: ContactCategory,
    first: dt.datetime,
    last: dt.datetime,
    now: dt.datetime,
) -> None:
    edge.category = rules.stricter(ContactCategory(edge.category), category).value
    edge.first_exposure_at = min(edge.first_exposure_at, first)
    edge.last_exposure_at = max(edge.last_exposure_at, last)
    edge.updated_at = now
    edge.save(update_fields=["category", "first_exposure_at", "last_exposure_at", "updated_at"])


@dataclass
class ConfirmResult:
    confirmed: int = 0
    orders: int = 0
    assist_requests: list[int] = field(default_factory=list)
    skipped: int = 0  # already decided, or out of scope


def _editable(actor: Actor, contact_ids: Sequence[int]) -> list[Contact]:
    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        raise Invalid("tracing.no_contacts", "Choose at least one contact", field="contact_ids")
    if len(ids) > MAX_BULK:
        raise Invalid(
            "tracing.too_many", f"At most {MAX_BULK} contacts at once", field="contact_ids"
        )
    rows = list(
        Contact.objects.select_for_update().filter(pk__in=ids).select_related("case").order_by("pk")
    )
    return [c for c in rows if actor.scope.covers(c.jurisdiction_path)]


@transaction.atomic
def contacts_confirm(
    actor: Actor, *, contact_ids: Sequence[int], reason: str, category: str | None = None
) -> ConfirmResult:
    """Confirm candidates in bulk: each becomes a contact with its control order, or goes to
    its district's assist inbox. `category` (close, co-presence or general) re-classifies
    first-degree candidates. Already decided or out-of-scope ids are skipped (a retried
    request confirms nothing twice). Raises Invalid, NotAllowed."""
    require(actor, Perm.TRACING_WRITE)
    reason = clean_reason(reason)
    override = enum_value(ContactCategory, category, "category") if category else None
    if override == ContactCategory.SECONDARY:
        raise Invalid(
            "tracing.category", "Secondary contacts come through a close contact", field="category"
        )
    rows = _editable(actor, contact_ids)
    todo = [c for c in rows if c.status == ContactStatus.CANDIDATE]
    if override is not None:
        for c in todo:
            if c.degree == 1:
                c.category = override.value
    result = confirm_edges(actor, todo, reason=reason)
    result.skipped = len(set(contact_ids)) - len(todo)
    return result


def confirm_edges(actor: Actor, edges: Sequence[Contact], *, reason: str) -> ConfirmResult:
    """Confirm locked candidate edges and put each under control (in the caller's
    transaction; the caller checked permission and scope)."""
    result = ConfirmResult()
    if not edges:
        return result
    now = clock.now()
    in_force = rulebook_in_force()
    persons = {
        p.pk: p
        for p in Person.objects.select_for_update().filter(pk__in=[e.person_id for e in edges])
    }
    elsewhere: dict[tuple[int, str], list[Contact]] = defaultdict(list)
    for edge in edges:
        edge.status = ContactStatus.CONFIRMED
        edge.decided_by, edge.decided_at, edge.updated_at = actor.label[:150], now, now
        category = rules.ORDER_CATEGORY[ContactCategory(edge.category)]
        person = persons[edge.person_id]
        result.confirmed += 1
        if category is None or person.merged_into_id is not None:
            continue  # general contacts get no order; a merged record is followed up via its target
        here = district_code(person.jurisdiction_path) == district_code(edge.jurisdiction_path)
        if not here or not actor.scope.covers(person.jurisdiction_path):
            elsewhere[(edge.case_id, district_code(person.jurisdiction_path))].append(edge)
            continue
        counts_from = in_force.book.categories[category].counts_from
        anchor = (
            clock.to_local(edge.last_exposure_at).date()
            if counts_from == CountsFrom.LAST_EXPOSURE
            else clock.local_date()
        )
        try:
            order = control.order_issue(
                actor=actor,
                person=person,
                category=category,
                anchor=anchor,
                basis_type="contact",
                basis_id=edge.pk,
                reason=f"{reason} (case {edge.case_id})",
            )
        except Invalid as exc:
            if exc.code != "control.plan_over":
                raise
            continue  # exposed so long ago that the measure would already be over
        edge.order_id = order.pk
        if order.is_active:
            edge.isolated_at = now
        result.orders += 1
    for (case_id, code), group in elsewhere.items():
        request = screening.assist_request_send(
            actor,
            to_code=code,
            persons=[_assist_person(persons[e.person_id], e) for e in group],
            reason=f"{reason} (case {case_id})",
            basis_type=ASSIST_BASIS,
            basis_id=str(case_id),
        )
        for e in group:
            e.assist_request_id = request.pk
        result.assist_requests.append(request.pk)
    Contact.objects.bulk_update(
        edges,
        [
            "status",
            "category",
            "decided_by",
            "decided_at",
            "updated_at",
            "order_id",
            "isolated_at",
            "assist_request_id",
        ],
    )
    record(
        actor=actor,
        action="tracing.contacts_confirm",
        target_type="tracing.contact",
        target_id=",".join(str(e.pk) for e in edges[:50]),
        jurisdiction_path=edges[0].jurisdiction_path,
        reason=reason,
        detail={
            "contacts": len(edges),
            "orders": result.orders,
            "assist_requests": result.assist_requests,
            "cases": sorted({e.case_id for e in edges}),
        },
    )
    return result


def _assist_person(person: Person, edge: Contact) -> screening.AssistPerson:
    category = rules.ORDER_CATEGORY[ContactCategory(edge.category)]
    return screening.AssistPerson(
        name=person.name,
        doc_type=person.doc_type,
        doc_number=person.doc_number,
        phone=person.phone,
        address=person.address,
        category=category.value if category else "",
        note=(
            f"{edge.exposure} exposure {clock.to_local(edge.first_exposure_at):%Y-%m-%d %H:%M}"
            f" - {clock.to_local(edge.last_exposure_at):%Y-%m-%d %H:%M}"
        ),
        person_id=person.pk,
    )


@transaction.atomic
def contacts_dismiss(actor: Actor, *, contact_ids: Sequence[int], reason: str) -> int:
    """Rule candidates out in bulk (the investigator found no real exposure). Returns how
    many were dismissed; confirmed contacts stay (release their order instead)."""
    require(actor, Perm.TRACING_WRITE)
    reason = clean_reason(reason)
    rows = [c for c in _editable(actor, contact_ids) if c.status == ContactStatus.CANDIDATE]
    if not rows:
        return 0
    now = clock.now()
    for c in rows:
        c.status, c.decided_by, c.decided_at, c.updated_at = (
            ContactStatus.DISMISSED,
            actor.label[:150],
            now,
            now,
        )
    Contact.objects.bulk_update(rows, ["status", "decided_by", "decided_at", "updated_at"])
    record(
        actor=actor,
        action="tracing.contacts_dismiss",
        target_type="tracing.contact",
        target_id=",".join(str(c.pk) for c in rows[:50]),
        jurisdiction_path=rows[0].jurisdiction_path,
        reason=reason,
        detail={"contacts": len(rows)},
    )
    return len(rows)


@transaction.atomic
def contact_follow_up(actor: Actor, *, contact: Contact, note: str = "") -> Contact:
    """Record a follow-up of a confirmed contact (a call or visit: symptoms, where they are).
    Raises NotFound (outside the scope), Conflict (not a confirmed contact)."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, contact.jurisdiction_path)
    locked = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None:
        raise NotFound("tracing.not_found", "Not found")
    if locked.status != ContactStatus.CONFIRMED:
        raise Conflict("tracing.not_confirmed", "Only a confirmed contact is followed up")
    now = clock.now()
    locked.followed_up_at, locked.updated_at = now, now
    fields = ["followed_up_at", "updated_at"]
    if note.strip():
        locked.note = (
            locked.note + "\n" if locked.note else ""
        ) + f"{clock.to_local(now):%m-%d %H:%M} {note.strip()}"[:2000]
        fields.append("note")
    locked.save(update_fields=fields)
    record(
        actor=actor,
        action="tracing.contact_follow_up",
        target=locked,
        detail={"case": locked.case_id},
    )
    return locked
