"""Merging duplicate records: every reference moves, nothing is lost."""

from __future__ import annotations

import pytest
from django.db import models

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, NotFound
from fangkong.people import selectors, services
from fangkong.people.models import Person, PersonNote
from fangkong.people.tests.factories import person

pytestmark = pytest.mark.django_db


def test_every_relation_to_person_is_repointed_by_merge() -> None:
    """The merge walks all reverse relations, hidden ones included: a new module's FK to
    Person is covered without touching the merge. This lists what it walks today."""
    walked = {
        f"{rel.field.model._meta.label_lower}.{rel.field.name}"
        for rel in services._reverse_relations()
    }
    every_fk = {
        f"{m._meta.label_lower}.{f.name}"
        for m in __import__("django.apps", fromlist=["apps"]).apps.get_models(
            include_auto_created=True
        )
        for f in m._meta.get_fields()
        if isinstance(f, models.ForeignKey | models.OneToOneField)
        and f.remote_field.model is Person
    }
    assert every_fk - {"people.person.merged_into"} == walked
    assert "people.personnote.person" in walked


def test_merge_moves_notes_and_keeps_the_duplicate_row_pointing_at_the_survivor(
    two_districts: Tree, system: Actor
) -> None:
    survivor = person(system, two_districts.grid_a, name="张三")
    duplicate = person(
        system,
        two_districts.grid_a,
        name="张 三",
        doc_type="passport",
        doc_number="E7654321",
        phone="13700000000",
    )
    for text in ("visit 1", "visit 2"):
        services.person_note_add(actor=system, person=duplicate, text=text)
    services.person_note_add(actor=system, person=survivor, text="call")

    services.person_merge(
        actor=system, survivor=survivor, duplicate=duplicate, reason="same person, two documents"
    )

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert PersonNote.objects.filter(person=survivor).count() == 3
    assert not PersonNote.objects.filter(person=duplicate).exists()
    assert survivor.phone == "13700000000"  # a blank filled from the duplicate
    entry = AuditEntry.objects.get(action="people.merge")
    assert entry.detail["moved"] == {"people.personnote.person": 2}
    assert entry.detail["duplicate_id"] == duplicate.pk
    assert entry.detail["filled"] == ["phone"]
    assert entry.reason == "same person, two documents"


def test_merged_record_is_not_found_by_lookups_but_get_points_to_the_survivor(
    two_districts: Tree, system: Actor
) -> None:
    survivor = person(system, two_districts.grid_a, name="甲")
    duplicate = person(system, two_districts.grid_a, name="甲", phone="13600000000")
    services.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="dup")
    scope = system.scope
    assert [p.pk for p in selectors.person_find_by_name(scope=scope, name="甲")] == [survivor.pk]
    assert selectors.person_find_by_document(scope=scope, number=duplicate.doc_number) == []
    assert [p.pk for p in selectors.person_find_by_phone(scope=scope, phone="13600000000")] == [
        survivor.pk
    ]
    assert selectors.person_get(scope=scope, person_id=duplicate.pk).merged_into_id == survivor.pk
    assert duplicate.pk not in [p.pk for p in selectors.person_list(scope=scope).items]


def test_merged_away_number_can_be_registered_again_as_a_new_active_record(
    two_districts: Tree, system: Actor
) -> None:
    survivor = person(system, two_districts.grid_a)
    duplicate = person(system, two_districts.grid_a)
    services.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="dup")
    # The unique constraint covers active rows only; a re-registration is not blocked by history.
    _, created = services.person_register(
        actor=system,
        doc_type=duplicate.doc_type,
        doc_number=duplicate.doc_number,
        name="x",
        grid=two_districts.grid_a,
    )
    assert created


def test_a_chain_of_merges_points_straight_at_the_last_survivor(
    two_districts: Tree, system: Actor
) -> None:
    a, b, c = (person(system, two_districts.grid_a) for _ in range(3))
    services.person_merge(actor=system, survivor=b, duplicate=a, reason="dup")
    services.person_merge(actor=system, survivor=c, duplicate=b, reason="dup")
    a.refresh_from_db()
    assert a.merged_into_id == c.pk


@pytest.mark.parametrize("which", ["self", "already_merged"])
def test_impossible_merges_are_conflicts(two_districts: Tree, system: Actor, which: str) -> None:
    a = person(system, two_districts.grid_a)
    b = person(system, two_districts.grid_a)
    if which == "self":
        with pytest.raises(Conflict):
            services.person_merge(actor=system, survivor=a, duplicate=a, reason="x")
    else:
        services.person_merge(actor=system, survivor=a, duplicate=b, reason="x")
        b.refresh_from_db()
        with pytest.raises(Conflict):
            services.person_merge(actor=system, survivor=b, duplicate=a, reason="x")


def test_merge_across_the_scope_boundary_is_not_found_and_changes_nothing(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    mine = person(system, two_districts.grid_a)
    theirs = person(system, two_districts.grid_b)
    services.person_note_add(actor=system, person=theirs, text="note")
    before = AuditEntry.objects.count()
    officer = actor_of(personas["district_officer"])
    for survivor, duplicate in ((mine, theirs), (theirs, mine)):
        with pytest.raises(NotFound):
            services.person_merge(actor=officer, survivor=survivor, duplicate=duplicate, reason="x")
    assert not Person.objects.filter(merged_into__isnull=False).exists()
    assert PersonNote.objects.get().person_id == theirs.pk
    assert AuditEntry.objects.count() == before


def _status(p: Person, colour: str) -> None:
    from fangkong.control.models import ControlStatus  # a real one-to-one to Person

    ControlStatus.objects.create(
        person=p, jurisdiction_path=p.jurisdiction_path, colour=colour, updated_at=p.updated_at
    )


def test_a_unique_link_both_records_hold_is_a_conflict_and_nothing_changes(
    two_districts: Tree, system: Actor
) -> None:
    from fangkong.control.models import ControlStatus

    survivor = person(system, two_districts.grid_a)
    duplicate = person(system, two_districts.grid_a)
    services.person_note_add(actor=system, person=duplicate, text="kept")
    _status(survivor, "green")
    _status(duplicate, "yellow")
    before = AuditEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        services.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="x")
    assert exc.value.detail == {"relation": "control.controlstatus.person"}
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None
    assert PersonNote.objects.get().person_id == duplicate.pk  # the earlier move rolled back
    assert ControlStatus.objects.get(pk=duplicate.pk).colour == "yellow"
    assert AuditEntry.objects.count() == before


def test_a_one_to_one_row_only_the_duplicate_has_moves_to_the_survivor(
    two_districts: Tree, system: Actor
) -> None:
    from fangkong.control.models import ControlStatus

    survivor = person(system, two_districts.grid_a)
    duplicate = person(system, two_districts.grid_a)
    _status(duplicate, "yellow")
    services.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="x")
    assert ControlStatus.objects.get().pk == survivor.pk


def test_a_module_may_let_the_survivors_one_to_one_row_win(
    two_districts: Tree, system: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fangkong.control.models import ControlStatus

    monkeypatch.setattr(ControlStatus, "PERSON_MERGE", "keep_survivor", raising=False)
    survivor = person(system, two_districts.grid_a)
    duplicate = person(system, two_districts.grid_a)
    _status(survivor, "green")
    _status(duplicate, "yellow")
    services.person_merge(actor=system, survivor=survivor, duplicate=duplicate, reason="x")
    assert list(ControlStatus.objects.values_list("pk", "colour")) == [(survivor.pk, "green")]
    detail = AuditEntry.objects.get(action="people.merge").detail
    assert detail["dropped"] == {"control.controlstatus.person": 1}
