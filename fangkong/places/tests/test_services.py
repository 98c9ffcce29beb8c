"""Place and room writes: validation, scope, audit, and denials that change nothing."""

from __future__ import annotations

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.places.models import Place, Room
from fangkong.places.services import place_create, place_update, room_add
from fangkong.places.tests.factories import facility, place, room

pytestmark = pytest.mark.django_db


def test_create_derives_category_generates_code_and_audits(personas: dict[str, User]) -> None:
    actor = actor_of(personas["district_officer"])
    grid = personas["grid_worker"].jurisdictions.get()
    p = place_create(
        actor=actor,
        jurisdiction=grid,
        kind="pharmacy",
        name=" 仁和药房 ",
        responsible_phone="138 0013 8000",
    )
    assert (p.category, p.name, p.jurisdiction_path) == ("sentinel", "仁和药房", grid.path)
    assert p.code.startswith(f"PL{grid.code}")
    assert p.responsible_phone == "13800138000"
    assert AuditEntry.objects.filter(action="place.create", target_id=str(p.pk)).exists()


def test_create_with_a_taken_code_conflicts(two_districts: Tree, system: Actor) -> None:
    place(two_districts.grid_a, code="PC0001")
    with pytest.raises(Conflict):
        place_create(
            actor=system, jurisdiction=two_districts.grid_a, kind="mall", name="x", code="pc0001"
        )


def test_create_rejects_unknown_kind_and_bad_phone(two_districts: Tree, system: Actor) -> None:
    with pytest.raises(Invalid):
        place_create(actor=system, jurisdiction=two_districts.grid_a, kind="zoo", name="x")
    with pytest.raises(Invalid):
        place_create(
            actor=system,
            jurisdiction=two_districts.grid_a,
            kind="mall",
            name="x",
            responsible_phone="123",
        )
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("persona", "error"),
    [
        ("sibling_district_officer", NotFound),
        ("grid_worker", NotAllowed),
        ("other_role", NotAllowed),
    ],
)
def test_denied_create_changes_nothing(
    two_districts: Tree, personas: dict[str, User], persona: str, error: type[Exception]
) -> None:
    audits = AuditEntry.objects.count()
    with pytest.raises(error):
        place_create(
            actor=actor_of(personas[persona]),
            jurisdiction=two_districts.grid_a,
            kind="mall",
            name="越界",
        )
    assert not Place.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_update_changes_fields_and_records_which(two_districts: Tree, system: Actor) -> None:
    p = place(two_districts.grid_a, kind="mall", capacity=100)
    place_update(actor=system, place=p, kind="cinema", capacity=80, name=p.name)
    p.refresh_from_db()
    assert (p.kind, p.category, p.capacity) == ("cinema", "key_place", 80)
    entry = AuditEntry.objects.get(action="place.update")
    assert sorted(entry.detail["fields"]) == ["capacity", "kind"]


def test_moving_a_facility_moves_its_rooms(two_districts: Tree, system: Actor) -> None:
    f = facility(two_districts.grid_a)
    room(f, "101")
    place_update(actor=system, place=f, jurisdiction=two_districts.grid_a2)
    assert Room.objects.get().jurisdiction_path == two_districts.grid_a2.path


def test_a_facility_with_rooms_stays_a_facility(two_districts: Tree, system: Actor) -> None:
    f = facility(two_districts.grid_a)
    room(f, "101")
    with pytest.raises(Conflict):
        place_update(actor=system, place=f, kind="mall")


def test_update_by_sibling_district_changes_nothing(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    p = place(two_districts.grid_a, name="原名")
    audits = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        place_update(actor=actor_of(personas["sibling_district_officer"]), place=p, name="改名")
    p.refresh_from_db()
    assert p.name == "原名"
    assert AuditEntry.objects.count() == audits


def test_room_add_only_for_facilities(two_districts: Tree, system: Actor) -> None:
    f = facility(two_districts.grid_a)
    r = room_add(actor=system, facility=f, number="201", floor=2, beds=2)
    assert (r.jurisdiction_path, r.floor, r.beds) == (f.jurisdiction_path, 2, 2)
    assert AuditEntry.objects.filter(action="place.room_add").count() == 1
    with pytest.raises(Conflict):
        room_add(actor=system, facility=f, number="201")
    with pytest.raises(Conflict):
        room_add(actor=system, facility=place(two_districts.grid_a), number="1")


def test_room_add_by_sibling_district_changes_nothing(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    f = facility(two_districts.grid_a)
    with pytest.raises(NotFound):
        room_add(actor=actor_of(personas["sibling_district_officer"]), facility=f, number="1")
    assert not Room.objects.exists()
