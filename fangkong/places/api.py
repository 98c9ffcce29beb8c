"""/api/places: the place registry. request.auth is the Actor."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from fangkong.core.actor import Actor
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.places.models import Place, Room
from fangkong.places.schemas import PlaceIn, PlaceOut, PlacePageOut, RoomIn, RoomOut
from fangkong.places.selectors import PlacePage, place_get, place_list, room_list
from fangkong.places.services import place_create, room_add

router = Router(tags=["places"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class PlaceFilter(Schema):
    kind: str | None = None
    category: str | None = None
    jurisdiction: str | None = None
    after: int | None = None
    limit: int = 50


@router.get("", response=PlacePageOut)
def list_places(request: HttpRequest, filters: Query[PlaceFilter]) -> PlacePage:
    scope = _actor(request).scope
    node = (
        jurisdiction_get(scope=scope, code=filters.jurisdiction) if filters.jurisdiction else None
    )
    return place_list(
        scope=scope,
        kind=filters.kind or None,
        category=filters.category or None,
        jurisdiction=node,
        after_id=filters.after,
        limit=filters.limit,
    )


@router.post("", response={201: PlaceOut})
def create_place(request: HttpRequest, body: PlaceIn) -> Status[Place]:
    actor = _actor(request)
    node = jurisdiction_get(scope=actor.scope, code=body.jurisdiction_code)
    data = body.dict(exclude={"jurisdiction_code"})
    return Status(201, place_create(actor=actor, jurisdiction=node, **data))


@router.get("/{place_id}", response=PlaceOut)
def get_place(request: HttpRequest, place_id: int) -> Place:
    return place_get(scope=_actor(request).scope, place_id=place_id)


@router.get("/{place_id}/rooms", response=list[RoomOut])
def get_rooms(request: HttpRequest, place_id: int) -> QuerySet[Room]:
    scope = _actor(request).scope
    return room_list(scope=scope, facility=place_get(scope=scope, place_id=place_id))


@router.post("/{place_id}/rooms", response={201: RoomOut})
def add_room(request: HttpRequest, place_id: int, body: RoomIn) -> Status[Room]:
    actor = _actor(request)
    facility = place_get(scope=actor.scope, place_id=place_id)
    return Status(201, room_add(actor=actor, facility=facility, **body.dict()))
