"""Reads of the place registry. Every selector takes the caller's scope first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from fangkong.core.errors import NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, path_prefix_q, within
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.places.models import Place, Room

MAX_LIMIT = 200


def _places(scope: Scope) -> QuerySet[Place]:
    if Perm.PLACE_VIEW not in scope.perms:
        return Place.objects.none()
    return within(Place.objects.all(), scope)


def place_get(*, scope: Scope, place_id: int) -> Place:
    """One place. Raises NotFound when missing or outside the scope."""
    place = _places(scope).select_related("jurisdiction").filter(pk=place_id).first()
    if place is None:
        raise NotFound("place.not_found", "Place not found")
    return place


@dataclass(frozen=True, slots=True)
class PlacePage:
    items: list[Place]
    next_after: int | None  # pass as `after_id` for the next page; None on the last page


def place_list(
    *,
    scope: Scope,
    kind: str | None = None,
    category: str | None = None,
    jurisdiction: Jurisdiction | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> PlacePage:
    """Places newest first, one keyset page (no COUNT: the registry holds tens of thousands)."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = _places(scope).select_related("jurisdiction")
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category=category)
    if jurisdiction is not None:
        qs = qs.filter(
            path_prefix_q("jurisdiction_path", jurisdiction.path, vendor=connections[qs.db].vendor)
        )
    if after_id is not None:
        qs = qs.filter(pk__lt=after_id)
    rows = list(qs.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return PlacePage(items=items, next_after=items[-1].pk if more else None)


def room_list(*, scope: Scope, facility: Place) -> QuerySet[Room]:
    """The rooms of a facility, by floor and number."""
    if Perm.PLACE_VIEW not in scope.perms:
        return Room.objects.none()
    return within(Room.objects.filter(facility=facility), scope).order_by("floor", "number")
