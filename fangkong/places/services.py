"""Writes to the place registry: places and the rooms of quarantine facilities."""

from __future__ import annotations

import secrets

from django.db import transaction

from fangkong.audit.services import record
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.text import fold
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.rules import normalise_contact_phone
from fangkong.places import rules
from fangkong.places.models import Place, Room

_CODE_ATTEMPTS = 8


def _text(raw: str, *, field: str, max_length: int, required: bool = False) -> str:
    value = fold(raw or "")
    if required and not value:
        raise Invalid(f"place.{field}.required", f"{field} is required", field=field)
    if len(value) > max_length:
        raise Invalid(
            f"place.{field}.too_long", f"{field} is longer than {max_length}", field=field
        )
    return value


def _in_scope(actor: Actor, path: str, what: str) -> None:
    if not actor.scope.covers(path):
        raise NotFound(f"{what}.not_found", f"{what.capitalize()} not found")


def _new_code(jurisdiction: Jurisdiction) -> str:
    for _ in range(_CODE_ATTEMPTS):
        token = "".join(secrets.choice(rules.CODE_ALPHABET) for _ in range(rules.CODE_TOKEN_LEN))
        code = rules.generated_code(jurisdiction.code, token)
        if not Place.objects.filter(code=code).exists():
            return code
    raise Conflict("place.code_exhausted", "Could not generate a free place code; give one")


@transaction.atomic
def place_create(
    *,
    actor: Actor,
    jurisdiction: Jurisdiction,
    kind: str,
    name: str,
    code: str = "",
    address: str = "",
    capacity: int = 0,
    responsible_name: str = "",
    responsible_phone: str = "",
) -> Place:
    """Register a place in a jurisdiction; the category follows from the kind and a code is
    generated when none is given. Raises NotAllowed, NotFound (jurisdiction outside scope),
    Invalid, Conflict (code taken)."""
    require(actor, Perm.PLACE_WRITE)
    _in_scope(actor, jurisdiction.path, "jurisdiction")
    category = rules.category_of(kind)
    if capacity < 0:
        raise Invalid("place.capacity", "Capacity cannot be negative", field="capacity")
    if code.strip():
        code = rules.normalise_code(code)
        if Place.objects.filter(code=code).exists():
            raise Conflict("place.code_taken", f"Place code {code} is already registered")
    else:
        code = _new_code(jurisdiction)
    place = Place.objects.create(
        code=code,
        name=_text(name, field="name", max_length=120, required=True),
        kind=kind,
        category=category,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        address=_text(address, field="address", max_length=255),
        capacity=capacity,
        responsible_name=_text(responsible_name, field="responsible_name", max_length=64),
        responsible_phone=normalise_contact_phone(responsible_phone),
    )
    record(actor=actor, action="place.create", target=place, detail={"kind": kind, "code": code})
    return place


@transaction.atomic
def place_update(
    *,
    actor: Actor,
    place: Place,
    name: str | None = None,
    kind: str | None = None,
    jurisdiction: Jurisdiction | None = None,
    address: str | None = None,
    capacity: int | None = None,
    responsible_name: str | None = None,
    responsible_phone: str | None = None,
    active: bool | None = None,
) -> Place:
    """Change a place; arguments left as None stay as they are. Raises NotAllowed, NotFound,
    Invalid, Conflict (a facility with rooms cannot stop being a quarantine facility)."""
    require(actor, Perm.PLACE_WRITE)
    _in_scope(actor, place.jurisdiction_path, "place")
    changed: list[str] = []

    def put(field: str, value: object) -> None:
        if getattr(place, field) != value:
            setattr(place, field, value)
            changed.append(field)

    if name is not None:
        put("name", _text(name, field="name", max_length=120, required=True))
    if kind is not None:
        category = rules.category_of(kind)
        if not rules.has_rooms(kind) and place.rooms.exists():
            raise Conflict("place.has_rooms", "This facility has rooms; it stays a facility")
        put("kind", kind)
        put("category", category)
    if jurisdiction is not None and jurisdiction.pk != place.jurisdiction_id:
        _in_scope(actor, jurisdiction.path, "jurisdiction")
        put("jurisdiction", jurisdiction)
        put("jurisdiction_path", jurisdiction.path)
        Room.objects.filter(facility=place).update(jurisdiction_path=jurisdiction.path)
    if address is not None:
        put("address", _text(address, field="address", max_length=255))
    if capacity is not None:
        if capacity < 0:
            raise Invalid("place.capacity", "Capacity cannot be negative", field="capacity")
        put("capacity", capacity)
    if responsible_name is not None:
        put("responsible_name", _text(responsible_name, field="responsible_name", max_length=64))
    if responsible_phone is not None:
        put("responsible_phone", normalise_contact_phone(responsible_phone))
    if active is not None:
        put("active", active)
    if changed:
        place.save(update_fields=changed)
        record(actor=actor, action="place.update", target=place, detail={"fields": changed})
    return place


@transaction.atomic
def room_add(*, actor: Actor, facility: Place, number: str, floor: int = 1, beds: int = 1) -> Room:
    """Add a room to a quarantine facility. Raises NotAllowed, NotFound, Invalid, Conflict
    (not a facility, or the room number exists)."""
    require(actor, Perm.PLACE_WRITE)
    _in_scope(actor, facility.jurisdiction_path, "place")
    if not rules.has_rooms(facility.kind):
        raise Conflict("place.not_a_facility", "Only quarantine facilities have rooms")
    number = _text(number, field="number", max_length=16, required=True)
    if not 1 <= beds <= 20:
        raise Invalid("room.beds", "A room has 1 to 20 beds", field="beds")
    if not -5 <= floor <= 200:
        raise Invalid("room.floor", "Floor must be between -5 and 200", field="floor")
    if Room.objects.filter(facility=facility, number=number).exists():
        raise Conflict("room.exists", f"Room {number} already exists in this facility")
    room = Room.objects.create(
        facility=facility,
        jurisdiction_path=facility.jurisdiction_path,
        number=number,
        floor=floor,
        beds=beds,
    )
    record(actor=actor, action="place.room_add", target=room, detail={"facility": facility.pk})
    return room
