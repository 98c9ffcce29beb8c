"""Writes to the person registry: register, update, reveal, notes, audited search (merge: people.merge).

Every function checks the actor's permission and scope, runs in one transaction and leaves an
audit row in it. Audit details never carry a plaintext name, number, phone or address.
`person_reveal` is the only way a full personal value leaves this layer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, transaction

from fangkong.audit import services as audit
from fangkong.core import clock, idnumbers, phones
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.text import fold
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.people import protect, selectors

# Merging (every reference to a duplicate moves to the survivor) lives in its own module.
from fangkong.people.merge import _reverse_relations, person_merge
from fangkong.people.models import Household, Person, PersonNote
from fangkong.people.scope import check_in_scope as _check_in_scope

NAME_MAX = 100
ADDRESS_MAX = 300
NOTE_MAX = 2000


def _clean_name(raw: str) -> str:
    name = " ".join(fold(raw or "").split())
    if not name:
        raise Invalid("person.name_required", "Name is required", field="name")
    if len(name) > NAME_MAX:
        raise Invalid("person.name_too_long", "Name is too long", field="name")
    return name


def _clean_address(raw: str) -> str:
    address = " ".join(fold(raw or "").split())
    if len(address) > ADDRESS_MAX:
        raise Invalid("person.address_too_long", "Address is too long", field="address")
    return address


def _clean_phone(raw: str) -> str:
    return phones.normalise_mobile(raw) if fold(str(raw or "")) else ""


def _placement(
    actor: Actor,
    grid: Jurisdiction | None,
    jurisdiction: Jurisdiction | None,
    household: Household | None,
) -> tuple[Jurisdiction | None, str]:
    """(grid, jurisdiction_path) for a person. Raises NotFound outside the actor's scope."""
    if household is not None:
        _check_in_scope(actor, household.jurisdiction_path)
        if grid is None:
            grid = household.grid
        elif household.grid_id != grid.pk:
            raise Invalid(
                "person.household_grid", "The household is in another grid", field="household"
            )
    if grid is not None:
        if grid.level != Level.GRID:
            raise Invalid("person.not_a_grid", "Choose a grid, not a higher level", field="grid")
        if jurisdiction is not None and not grid.path.startswith(jurisdiction.path):
            raise Invalid("person.grid_outside", "The grid is not in that jurisdiction")
        node = grid
    elif jurisdiction is not None:
        node = jurisdiction
    else:
        # A person must belong somewhere, or nobody is responsible for them (属地责任).
        raise Invalid(
            "person.jurisdiction_required", "A grid or jurisdiction is required", field="grid"
        )
    if not actor.scope.covers(node.path):
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    return grid, node.path


def _active_by_doc(doc_bidx: str) -> Person | None:
    return Person.objects.filter(doc_bidx=doc_bidx, merged_into__isnull=True).first()


def _existing(actor: Actor, person: Person) -> tuple[Person, bool]:
    if not actor.scope.covers(person.jurisdiction_path):
        # Uniqueness forces us to say the number is taken, but nothing about whose it is.
        raise Conflict(
            "person.registered_elsewhere",
            "This document number is registered in another jurisdiction",
        )
    audit.record(actor=actor, action="people.register_existing", target=person)
    return person, False


@transaction.atomic
def person_register(
    *,
    actor: Actor,
    doc_type: str,
    doc_number: object,
    name: str,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    phone: str = "",
    address: str = "",
    grid: Jurisdiction | None = None,
    jurisdiction: Jurisdiction | None = None,
    household: Household | None = None,
) -> tuple[Person, bool]:
    """Register a person, or return the active person with that document number.

    Returns (person, created). Sex and birth date carried by the number win over what was
    entered; a disagreement sets `id_mismatch` and is recorded in the audit entry.
    Raises Invalid (bad input), NotFound (grid outside scope), Conflict (number registered
    outside the actor's scope).
    """
    require(actor, Perm.PERSON_WRITE)
    facts = idnumbers.validate_document(doc_type, doc_number)
    clean_name = _clean_name(name)
    clean_phone = _clean_phone(phone)
    clean_address = _clean_address(address)
    grid, path = _placement(actor, grid, jurisdiction, household)
    if sex is not None and sex not in Person.Sex.values:
        raise Invalid("person.sex", "Sex must be M, F or U", field="sex")

    doc_bidx = protect.doc_index(facts.number)
    if (found := _active_by_doc(doc_bidx)) is not None:
        return _existing(actor, found)

    mismatch: dict[str, dict[str, str]] = {}
    stored_sex = sex or Person.Sex.UNKNOWN
    if facts.sex is not None:
        if sex not in (None, Person.Sex.UNKNOWN, facts.sex):
            mismatch["sex"] = {"entered": str(sex), "from_id": facts.sex}
        stored_sex = facts.sex
    stored_birth = birth_date
    if facts.birth_date is not None:
        if birth_date is not None and birth_date != facts.birth_date:
            mismatch["birth_date"] = {
                "entered": birth_date.isoformat(),
                "from_id": facts.birth_date.isoformat(),
            }
        stored_birth = facts.birth_date

    now = clock.now()
    person = Person(
        doc_type=idnumbers.DocType(doc_type).value,
        doc_number=facts.number,
        doc_bidx=doc_bidx,
        name=clean_name,
        name_bidx=protect.name_index(clean_name),
        sex=stored_sex,
        birth_date=stored_birth,
        phone=clean_phone,
        phone_bidx=protect.phone_index(clean_phone) if clean_phone else "",
        address=clean_address,
        grid=grid,
        jurisdiction_path=path,
        household=household,
        id_mismatch=bool(mismatch),
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():  # a savepoint: the race below must not poison the outer one
            person.save(force_insert=True)
    except IntegrityError:
        # Someone registered the same number between our read and our insert
        # (person_doc_unique_active). Theirs stands; ours becomes a lookup.
        found = _active_by_doc(doc_bidx)
        if found is None:
            raise
        return _existing(actor, found)
    detail: dict[str, Any] = {"doc_type": person.doc_type}
    if mismatch:
        # Field names only: the entered and ID-derived birth dates are personal values, and
        # audit entries outlive the personal data (retention shreds the row, not the trail).
        detail["id_mismatch"] = sorted(mismatch)
    audit.record(actor=actor, action="people.register", target=person, detail=detail)
    return person, True


_UNSET: Any = object()


@transaction.atomic
def person_update(
    *,
    actor: Actor,
    person: Person,
    reason: str,
    name: str = _UNSET,
    phone: str = _UNSET,
    address: str = _UNSET,
    grid: Jurisdiction = _UNSET,
) -> Person:
    """Change a person's name, phone, address or grid. Only the field names are audited.

    Raises NotFound (person or new grid outside scope), Conflict (person merged away).
    """
    require(actor, Perm.PERSON_WRITE)
    _check_in_scope(actor, person.jurisdiction_path)
    if person.merged_into_id is not None:
        raise Conflict("person.merged", "This record was merged into another person")
    if not (reason or "").strip():
        raise Invalid("person.reason_required", "A reason is required", field="reason")
    changed: list[str] = []
    if name is not _UNSET:
        clean = _clean_name(name)
        if clean != person.name:
            person.name, person.name_bidx = clean, protect.name_index(clean)
            changed += ["name", "name_bidx"]
    if phone is not _UNSET:
        clean = _clean_phone(phone)
        if clean != person.phone:
            person.phone = clean
            person.phone_bidx = protect.phone_index(clean) if clean else ""
            changed += ["phone", "phone_bidx"]
    if address is not _UNSET:
        clean = _clean_address(address)
        if clean != person.address:
            person.address = clean
            changed.append("address")
    if grid is not _UNSET and grid.pk != person.grid_id:
        new_grid, path = _placement(actor, grid, None, None)
        person.grid, person.jurisdiction_path = new_grid, path
        if person.household_id is not None:
            person.household = None  # the household stays in the old grid
            changed.append("household")
        changed += ["grid", "jurisdiction_path"]
    if not changed:
        return person
    person.updated_at = clock.now()
    person.save(update_fields=[*changed, "updated_at"])
    fields = [f for f in changed if not f.endswith("_bidx") and f != "jurisdiction_path"]
    audit.record(
        actor=actor,
        action="people.update",
        target=person,
        reason=reason.strip(),
        detail={"fields": fields},
    )
    return person


@dataclass(frozen=True, slots=True)
class FullValues:
    """The unmasked personal values, as released by `person_reveal`."""

    name: str
    doc_type: str
    doc_number: str
    phone: str
    address: str
    birth_date: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "doc_type": self.doc_type,
            "doc_number": self.doc_number,
            "phone": self.phone,
            "address": self.address,
            "birth_date": self.birth_date,
        }


@transaction.atomic
def person_reveal(*, actor: Actor, person: Person, reason: str) -> FullValues:
    """The person's full name, document number, phone and address, logged with the reason.

    Raises NotAllowed (no right to full view), Invalid (no reason), NotFound (out of scope).
    """
    require(actor, Perm.PERSON_VIEW_FULL)
    _check_in_scope(actor, person.jurisdiction_path)
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("person.reason_required", "A reason is required", field="reason")
    audit.record(
        actor=actor,
        action="people.reveal",
        target=person,
        reason=reason[:500],
        detail={"fields": ["name", "doc_number", "phone", "address", "birth_date"]},
    )
    return FullValues(
        name=person.name,
        doc_type=person.doc_type,
        doc_number=person.doc_number,
        phone=person.phone,
        address=person.address,
        birth_date=person.birth_date,
    )


@transaction.atomic
def person_note_add(*, actor: Actor, person: Person, text: str) -> PersonNote:
    """Add a note to a person (visit, call). The text is encrypted; the audit keeps its length."""
    require(actor, Perm.PERSON_WRITE)
    _check_in_scope(actor, person.jurisdiction_path)
    clean = (text or "").strip()
    if not clean:
        raise Invalid("note.empty", "The note is empty", field="text")
    if len(clean) > NOTE_MAX:
        raise Invalid("note.too_long", "The note is too long", field="text")
    note = PersonNote.objects.create(
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        text=clean,
        author_label=actor.label[:150],
        created_at=clock.now(),
    )
    audit.record(
        actor=actor, action="people.note_add", target=note, detail={"person_id": person.pk}
    )
    return note


SearchKind = Literal["document", "phone", "name"]


@dataclass(frozen=True, slots=True)
class SearchResult:
    kind: SearchKind
    people: list[Person]


def classify_query(query: str) -> SearchKind:
    """Whether a search box entry is a phone, a document number or a name (pure)."""
    text = fold(query)
    try:
        phones.normalise_mobile(text)
    except Invalid:
        pass
    else:
        return "phone"
    if any(ch.isdigit() for ch in text):
        return "document"
    return "name"


@transaction.atomic
def person_search(*, actor: Actor, query: str) -> SearchResult:
    """Exact search by document number, mobile number or full name, within the actor's scope.

    Each search is audited with the kind and a blind-index prefix, never the value searched.
    Raises Invalid for an empty or unusable query (e.g. an Excel-mangled number).
    """
    require(actor, Perm.PERSON_VIEW)
    query = fold(query or "")
    if not query:
        raise Invalid("search.empty", "Enter an ID number, phone or name", field="q")
    kind = classify_query(query)
    scope = actor.scope
    if kind == "phone":
        number = phones.normalise_mobile(query)
        bidx = protect.phone_index(number)
        people = selectors.person_find_by_phone(scope=scope, phone=number)
    elif kind == "document":
        number = idnumbers.normalise_document_number(query)
        bidx = protect.doc_index(number)
        people = selectors.person_find_by_document(scope=scope, number=number)
    else:
        bidx = protect.name_index(query)
        people = selectors.person_find_by_name(scope=scope, name=query)
    audit.record(
        actor=actor,
        action=f"people.search_{kind}",
        target_type="people.person",
        detail={"bidx_prefix": bidx[:8], "results": len(people)},
    )
    return SearchResult(kind=kind, people=people)


__all__ = [
    "FullValues",
    "SearchResult",
    "_reverse_relations",
    "classify_query",
    "person_merge",
    "person_note_add",
    "person_register",
    "person_reveal",
    "person_search",
    "person_update",
]
