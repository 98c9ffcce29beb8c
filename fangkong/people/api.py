"""/api/people: the person registry for machine clients and the browser. request.auth is the Actor.

Responses carry masked values; full values only from POST /{id}/reveal, which is logged.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people import selectors, services
from fangkong.people.masked import PersonView
from fangkong.people.schemas import (
    MergeIn,
    PersonFullOut,
    PersonOut,
    PersonPageOut,
    PersonRegisterIn,
    PersonSearchOut,
    PersonUpdateIn,
    RevealIn,
    SearchIn,
)

router = Router(tags=["people"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _node(actor: Actor, code: str | None) -> Jurisdiction | None:
    return jurisdiction_get(scope=actor.scope, code=code) if code else None


@router.get("", response=PersonPageOut)
def list_people(
    request: HttpRequest, grid_code: str | None = None, before: int | None = None
) -> dict[str, Any]:
    """Persons in scope, newest first; follow `next_before` for the next page."""
    actor = _actor(request)
    page = selectors.person_list(scope=actor.scope, grid=_node(actor, grid_code), before=before)
    return {"items": [PersonView.of(p) for p in page.items], "next_before": page.next_before}


def _search(request: HttpRequest, q: str) -> dict[str, Any]:
    result = services.person_search(actor=_actor(request), query=q)
    return {"kind": result.kind, "items": [PersonView.of(p) for p in result.people]}


@router.get("/search", response=PersonSearchOut)
def search_people(request: HttpRequest, q: str) -> dict[str, Any]:
    """Exact search by ID number, mobile number or full name (audited).

    Prefer POST /search: a query string lands in access logs.
    """
    return _search(request, q)


@router.post("/search", response=PersonSearchOut)
def search_people_post(request: HttpRequest, body: SearchIn) -> dict[str, Any]:
    """The same search with the query in the body, out of URLs and access logs."""
    return _search(request, body.q)


@router.post("", response={200: PersonOut, 201: PersonOut})
def register_person(request: HttpRequest, body: PersonRegisterIn) -> Status[PersonView]:
    """Register a person: 201 when created, 200 with the existing person for a known number."""
    actor = _actor(request)
    person, created = services.person_register(
        actor=actor,
        doc_type=body.doc_type,
        doc_number=body.doc_number,
        name=body.name,
        sex=body.sex,
        birth_date=body.birth_date,
        phone=body.phone,
        address=body.address,
        grid=_node(actor, body.grid_code),
        jurisdiction=_node(actor, body.jurisdiction_code),
    )
    person = selectors.person_get(scope=actor.scope, person_id=person.pk)
    return Status(201 if created else 200, PersonView.of(person))


@router.get("/{person_id}", response=PersonOut)
def get_person(request: HttpRequest, person_id: int) -> PersonView:
    """One person, masked. A merged record shows `merged_into_id`, the survivor's id."""
    return PersonView.of(selectors.person_get(scope=_actor(request).scope, person_id=person_id))


@router.patch("/{person_id}", response=PersonOut)
def update_person(request: HttpRequest, person_id: int, body: PersonUpdateIn) -> PersonView:
    actor = _actor(request)
    person = selectors.person_get(scope=actor.scope, person_id=person_id)
    fields = body.model_dump(exclude={"reason", "grid_code"})
    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if body.grid_code is not None:
        changes["grid"] = _node(actor, body.grid_code)
    services.person_update(actor=actor, person=person, reason=body.reason, **changes)
    return PersonView.of(selectors.person_get(scope=actor.scope, person_id=person_id))


@router.post("/{person_id}/reveal", response=PersonFullOut)
def reveal_person(request: HttpRequest, person_id: int, body: RevealIn) -> dict[str, Any]:
    """The full values, for a stated reason; every call is logged."""
    actor = _actor(request)
    person = selectors.person_get(scope=actor.scope, person_id=person_id)
    full = services.person_reveal(actor=actor, person=person, reason=body.reason)
    return {"id": person.pk, **full.as_dict()}


@router.post("/{person_id}/merge", response=PersonOut)
def merge_person(request: HttpRequest, person_id: int, body: MergeIn) -> PersonView:
    """Merge `duplicate_id` into this person; returns the survivor."""
    actor = _actor(request)
    survivor = selectors.person_get(scope=actor.scope, person_id=person_id)
    duplicate = selectors.person_get(scope=actor.scope, person_id=body.duplicate_id)
    services.person_merge(actor=actor, survivor=survivor, duplicate=duplicate, reason=body.reason)
    return PersonView.of(selectors.person_get(scope=actor.scope, person_id=person_id))
