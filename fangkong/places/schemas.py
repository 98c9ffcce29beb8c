"""API shapes of the place registry."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from fangkong.core.perms import Perm
from fangkong.jurisdictions.rules import shown_phone
from fangkong.places.models import Place


class PlaceOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    category: str
    jurisdiction_code: str
    address: str
    capacity: int
    responsible_name: str
    responsible_phone: str
    active: bool

    @staticmethod
    def resolve_jurisdiction_code(obj: Place) -> str:
        return obj.jurisdiction.code

    @staticmethod
    def resolve_responsible_phone(obj: Place, context: dict[str, Any]) -> str:
        actor = context["request"].auth
        return shown_phone(obj.responsible_phone, full=actor.can(Perm.PERSON_VIEW_FULL))


class PlacePageOut(Schema):
    items: list[PlaceOut]
    next_after: int | None


class PlaceIn(Schema):
    name: str = Field(max_length=120)
    kind: str
    jurisdiction_code: str = Field(max_length=18)
    code: str = Field(default="", max_length=24)
    address: str = Field(default="", max_length=255)
    capacity: int = Field(default=0, ge=0)
    responsible_name: str = Field(default="", max_length=64)
    responsible_phone: str = Field(default="", max_length=20)


class RoomOut(Schema):
    id: int
    number: str
    floor: int
    beds: int
    status: str


class RoomIn(Schema):
    number: str = Field(max_length=16)
    floor: int = 1
    beds: int = Field(default=1, ge=1, le=20)
