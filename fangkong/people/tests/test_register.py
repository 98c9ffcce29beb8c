"""Registering persons: validation, derived facts, duplicates and races, scope."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.people import protect, services
from fangkong.people.models import Person
from fangkong.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


def test_register_stores_normalised_values_blind_indexes_and_id_facts(
    two_districts: Tree, system: Actor
) -> None:
    number = resident_id(birth=dt.date(1985, 6, 30), seq=123)
    raw = "".join(chr(ord(c) + 0xFEE0) for c in number)  # full-width, as some IMEs type it
    p, created = services.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=raw,
        name=" 李  四 ",
        phone="+86 139-0000-1111",
        address="茂南区红旗街道站南路1号",
        grid=two_districts.grid_a,
    )
    assert created
    p.refresh_from_db()
    assert p.doc_number == number
    assert p.name == "李 四"
    assert p.phone == "13900001111"
    assert p.sex == "M"
    assert p.birth_date == dt.date(1985, 6, 30)
    assert p.jurisdiction_path == two_districts.grid_a.path
    assert p.doc_bidx == protect.doc_index(number)
    assert p.phone_bidx == protect.phone_index("13900001111")
    assert p.name_bidx == protect.name_index("李四")
    assert not p.id_mismatch
    entry = AuditEntry.objects.get(action="people.register")
    assert entry.target_id == str(p.pk)
    assert entry.jurisdiction_path == p.jurisdiction_path


def test_known_document_number_returns_the_existing_person(
    two_districts: Tree, system: Actor
) -> None:
    number = resident_id()
    first = person(system, two_districts.grid_a, doc_number=number, name="王五")
    again, created = services.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number.lower(),
        name="王 五",
        grid=two_districts.grid_a,
    )
    assert not created
    assert again.pk == first.pk
    assert Person.objects.count() == 1


def test_disagreeing_sex_and_birth_date_are_flagged_and_the_id_wins(
    two_districts: Tree, system: Actor
) -> None:
    number = resident_id(birth=dt.date(1970, 3, 1), seq=2)  # even: a woman
    p, _ = services.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number,
        name="赵六",
        sex="M",
        birth_date=dt.date(1971, 3, 1),
        grid=two_districts.grid_a,
    )
    assert p.id_mismatch
    assert p.sex == "F"
    assert p.birth_date == dt.date(1970, 3, 1)
    detail = AuditEntry.objects.get(action="people.register").detail
    assert detail["id_mismatch"] == ["birth_date", "sex"]
    assert "1971-03-01" not in str(detail)
    assert "1970-03-01" not in str(detail)


def test_agreeing_values_are_not_flagged(two_districts: Tree, system: Actor) -> None:
    number = resident_id(birth=dt.date(1970, 3, 1), seq=3)
    p = person(
        system, two_districts.grid_a, doc_number=number, sex="M", birth_date=dt.date(1970, 3, 1)
    )
    assert not p.id_mismatch


def test_passport_holder_keeps_the_entered_sex_and_birth_date(
    two_districts: Tree, system: Actor
) -> None:
    p = person(
        system,
        two_districts.grid_a,
        doc_type="passport",
        doc_number="e12345678",
        name="John Smith",
        sex="M",
        birth_date=dt.date(1980, 5, 5),
    )
    assert (p.doc_number, p.sex, p.birth_date, p.id_mismatch) == (
        "E12345678",
        "M",
        dt.date(1980, 5, 5),
        False,
    )


def test_residence_permit_is_registered_under_its_type(two_districts: Tree, system: Actor) -> None:
    number = resident_id(area="810000", seq=5)
    p = person(system, two_districts.grid_a, doc_type="hmt_permit", doc_number=number)
    assert p.doc_type == "hmt_permit"
    with pytest.raises(Invalid) as exc:
        person(system, two_districts.grid_a, doc_type="resident_id", doc_number=number)
    assert exc.value.code == "id.wrong_type"


@pytest.mark.parametrize(
    ("doc_number", "code"),
    [("4.40106E+17", "id.excel_number"), ("440902199001010000", "id.excel_zeroed")],
)
def test_excel_mangled_numbers_are_refused_with_the_reason(
    two_districts: Tree, system: Actor, doc_number: str, code: str
) -> None:
    with pytest.raises(Invalid) as exc:
        person(system, two_districts.grid_a, doc_number=doc_number)
    assert exc.value.code == code
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_person_needs_a_grid_or_jurisdiction(two_districts: Tree, system: Actor) -> None:
    with pytest.raises(Invalid) as exc:
        services.person_register(
            actor=system, doc_type="resident_id", doc_number=resident_id(), name="无网格"
        )
    assert exc.value.code == "person.jurisdiction_required"


def test_a_person_may_be_placed_at_a_town_when_the_grid_is_unknown(
    two_districts: Tree, system: Actor
) -> None:
    p, _ = services.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=resident_id(),
        name="待分网格",
        jurisdiction=two_districts.town_a,
    )
    assert p.grid is None
    assert p.jurisdiction_path == two_districts.town_a.path


def test_bad_phone_is_refused(two_districts: Tree, system: Actor) -> None:
    with pytest.raises(Invalid) as exc:
        person(system, two_districts.grid_a, phone="12345")
    assert exc.value.code == "phone.format"


def test_grid_outside_the_actors_scope_is_not_found_and_nothing_is_written(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    with pytest.raises(NotFound):
        person(officer, two_districts.grid_b)
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


def test_grid_worker_registers_in_own_grid_only(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    worker = actor_of(personas["grid_worker"])
    assert person(worker, two_districts.grid_a).jurisdiction_path == two_districts.grid_a.path
    with pytest.raises(NotFound):
        person(worker, two_districts.grid_a2)


def test_role_without_write_permission_cannot_register(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    with pytest.raises(NotAllowed):
        person(actor_of(personas["other_role"]), two_districts.grid_a)
    assert not Person.objects.exists()


def test_number_registered_in_another_district_is_a_conflict_without_details(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    number = resident_id()
    person(system, two_districts.grid_b, doc_number=number)
    officer = actor_of(personas["district_officer"])
    with pytest.raises(Conflict) as exc:
        person(officer, two_districts.grid_a, doc_number=number)
    assert exc.value.code == "person.registered_elsewhere"
    assert exc.value.detail == {}
    assert Person.objects.count() == 1


def test_concurrent_registration_of_the_same_number_returns_the_winner(
    two_districts: Tree, system: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = resident_id()
    winner = person(system, two_districts.grid_a, doc_number=number)
    # Simulate the race: our first read runs before the other transaction's insert is visible.
    real = services._active_by_doc
    calls: list[str] = []

    def first_read_misses(doc_bidx: str) -> Person | None:
        calls.append(doc_bidx)
        return None if len(calls) == 1 else real(doc_bidx)

    monkeypatch.setattr(services, "_active_by_doc", first_read_misses)
    again, created = services.person_register(
        actor=system,
        doc_type="resident_id",
        doc_number=number,
        name="并发",
        grid=two_districts.grid_a,
    )
    assert len(calls) == 2  # the insert hit person_doc_unique_active and we re-read
    assert (again.pk, created) == (winner.pk, False)
    assert Person.objects.count() == 1


def test_update_changes_values_and_indexes_and_audits_field_names_only(
    two_districts: Tree, system: Actor
) -> None:
    p = person(system, two_districts.grid_a, phone="13800000001", address="旧地址一号")
    services.person_update(
        actor=system,
        person=p,
        reason="moved",
        phone="13800000002",
        address="新地址二号楼",
        grid=two_districts.grid_a2,
    )
    p.refresh_from_db()
    assert p.phone == "13800000002"
    assert p.phone_bidx == protect.phone_index("13800000002")
    assert p.jurisdiction_path == two_districts.grid_a2.path
    entry = AuditEntry.objects.get(action="people.update")
    assert entry.detail == {"fields": ["phone", "address", "grid"]}
    assert entry.reason == "moved"
    assert "13800000002" not in str(entry.detail)


def test_update_cannot_move_a_person_out_of_the_actors_scope(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    p = person(system, two_districts.grid_a)
    with pytest.raises(NotFound):
        services.person_update(
            actor=actor_of(personas["district_officer"]),
            person=p,
            reason="x",
            grid=two_districts.grid_b,
        )
    p.refresh_from_db()
    assert p.jurisdiction_path == two_districts.grid_a.path
