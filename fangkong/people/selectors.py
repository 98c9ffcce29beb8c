"""Reads of the person registry. Every selector takes the caller's scope first.

Lookups are exact, through the blind indexes; merged-away records are never returned by a
lookup, only by `person_get` (so that an old link can point to the survivor). Nothing here
writes: the audited search is `services.person_search`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from fangkong.core import idnumbers
from fangkong.core.errors import NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import protect
from fangkong.people.models import Person, PersonNote

# Exact lookups return few rows; a cap keeps a common name from flooding a page.
LOOKUP_LIMIT = 50
PAGE_SIZE = 50


def _visible(scope: Scope) -> QuerySet[Person]:
    if Perm.PERSON_VIEW not in scope.perms:
        raise NotAllowed("permission_denied", "Missing permission person.view", perm="person.view")
    return within(Person.objects.select_related("grid", "household"), scope)


def _active(scope: Scope) -> QuerySet[Person]:
    return _visible(scope).filter(merged_into__isnull=True)


def person_get(*, scope: Scope, person_id: int) -> Person:
    """One person by id, merged or not (check `merged_into_id`).

    Raises NotFound when missing or outside the scope (the same answer).
    """
    person = _visible(scope).filter(pk=person_id).first()
    if person is None:
        raise NotFound("person.not_found", "Person not found")
    return person


def person_find_by_document(*, scope: Scope, number: str) -> list[Person]:
    """Active persons with this document number (any type), within the scope."""
    normalised = idnumbers.normalise_document_number(number)
    if not normalised:
        return []
    qs = _active(scope).filter(doc_bidx=protect.doc_index(normalised))
    return list(qs.order_by("id")[:LOOKUP_LIMIT])


def person_find_by_phone(*, scope: Scope, phone: str) -> list[Person]:
    """Active persons with this normalised mobile number, within the scope."""
    qs = _active(scope).filter(phone_bidx=protect.phone_index(phone))
    return list(qs.order_by("id")[:LOOKUP_LIMIT])


def person_find_by_name(*, scope: Scope, name: str) -> list[Person]:
    """Active persons with exactly this full name (case and width folded), within the scope."""
    qs = _active(scope).filter(name_bidx=protect.name_index(name))
    return list(qs.order_by("id")[:LOOKUP_LIMIT])


@dataclass(frozen=True, slots=True)
class PersonPage:
    items: list[Person]
    next_before: int | None  # pass as `before` for the next page; None on the last page


def person_list(
    *,
    scope: Scope,
    grid: Jurisdiction | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> PersonPage:
    """Active persons, newest first, a page at a time (keyset on id: no COUNT, no OFFSET)."""
    qs = _active(scope)
    if grid is not None:
        qs = qs.filter(grid=grid)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    limit = max(1, min(limit, 200))
    rows = list(qs.order_by("-pk")[: limit + 1])
    items = rows[:limit]
    return PersonPage(items=items, next_before=items[-1].pk if len(rows) > limit else None)


def person_notes(*, scope: Scope, person: Person, limit: int = 50) -> list[PersonNote]:
    """The latest notes on a person in scope (notes follow the person, wherever written)."""
    _visible(scope)  # the permission check
    if not scope.covers(person.jurisdiction_path):
        raise NotFound("person.not_found", "Person not found")
    return list(PersonNote.objects.filter(person=person).order_by("-created_at", "-pk")[:limit])
