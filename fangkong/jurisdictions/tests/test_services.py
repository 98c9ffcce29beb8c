"""Node and post writes, and the set-based population refresh."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.services import jurisdiction_create, population_refresh, post_assign
from fangkong.jurisdictions.tests.factories import post

pytestmark = pytest.mark.django_db


def test_create_places_the_node_under_its_parent_and_audits(personas: dict[str, User]) -> None:
    actor = actor_of(personas["district_officer"])
    node = jurisdiction_create(actor=actor, code="440902002", name=" 新街道 ")
    assert node.parent is not None
    assert (node.parent.code, node.path, node.level, node.name) == (
        "440902",
        "/4409/440902/440902002/",
        3,
        "新街道",
    )
    assert AuditEntry.objects.filter(action="jurisdiction.create", target_id=str(node.pk)).exists()


def test_create_in_the_sibling_district_is_not_found_and_changes_nothing(
    personas: dict[str, User],
) -> None:
    actor = actor_of(personas["sibling_district_officer"])
    audits = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        jurisdiction_create(actor=actor, code="440902002", name="越界")
    assert not Jurisdiction.objects.filter(code="440902002").exists()
    assert AuditEntry.objects.count() == audits


def test_create_without_permission_is_refused(personas: dict[str, User]) -> None:
    with pytest.raises(NotAllowed):
        jurisdiction_create(actor=actor_of(personas["grid_worker"]), code="440902002", name="x")
    assert not Jurisdiction.objects.filter(code="440902002").exists()


def test_create_rejects_duplicates_and_orphans(two_districts: Tree, system: Actor) -> None:
    with pytest.raises(Conflict):
        jurisdiction_create(actor=system, code="440902", name="again")
    with pytest.raises(NotFound):
        jurisdiction_create(actor=system, code="440999001", name="orphan")
    with pytest.raises(Invalid):
        jurisdiction_create(actor=system, code="44090", name="bad")


def test_post_assign_replaces_a_single_holder(personas: dict[str, User]) -> None:
    actor = actor_of(personas["district_officer"])
    grid = personas["grid_worker"].jurisdictions.get()
    first = post_assign(actor=actor, node=grid, kind="grid_worker", holder_name="甲", phone="")
    second = post_assign(
        actor=actor, node=grid, kind="grid_worker", holder_name="乙", phone="13800138000"
    )
    assert first.pk == second.pk
    stored = Post.objects.get(jurisdiction=grid)
    assert (stored.holder_name, stored.phone) == ("乙", "13800138000")
    entry = AuditEntry.objects.filter(action="jurisdiction.post_assign").last()
    assert entry is not None
    assert entry.detail["replaced"] is True


def test_post_assign_adds_building_leaders(two_districts: Tree, system: Actor) -> None:
    grid = two_districts.grid_a
    post_assign(actor=system, node=grid, kind="building_leader", holder_name="甲")
    post_assign(actor=system, node=grid, kind="building_leader", holder_name="乙")
    assert Post.objects.filter(jurisdiction=grid, kind="building_leader").count() == 2


def test_post_assign_checks_level_and_scope(personas: dict[str, User]) -> None:
    actor = actor_of(personas["sibling_district_officer"])
    grid = Jurisdiction.objects.get(code="440902001001001001")
    with pytest.raises(NotFound):
        post_assign(actor=actor, node=grid, kind="grid_worker", holder_name="越界")
    assert not Post.objects.exists()
    with pytest.raises(Invalid):
        post_assign(
            actor=actor_of(personas["city_commander"]),
            node=grid,
            kind="district_lead",
            holder_name="x",
        )


def test_stored_phone_is_encrypted(two_districts: Tree) -> None:
    from django.db import connection

    p = post(two_districts.grid_a, phone="13800138000")
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM jurisdictions_post WHERE id = %s", [p.pk])
        raw = cur.fetchone()[0]
    assert "13800138000" not in raw


def _people(grid: Jurisdiction, n: int, *, merged: int = 0, households: int = 0) -> None:
    from fangkong.people.models import Household, Person

    now = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    for h in range(households):
        Household.objects.create(
            code=f"H{grid.code}{h}", grid=grid, jurisdiction_path=grid.path, size=1
        )
    keep = None
    for i in range(n + merged):
        person = Person.objects.create(
            doc_type="passport",
            doc_number=f"P{grid.code}{i}",
            doc_bidx=f"{grid.code}-{i}",
            name="x",
            name_bidx="x",
            grid=grid,
            jurisdiction_path=grid.path,
            created_at=now,
            updated_at=now,
            merged_into=keep if i >= n else None,
        )
        keep = keep or person


def test_population_refresh_counts_grids_and_rolls_up_the_tree(
    two_districts: Tree, system: Actor
) -> None:
    t = two_districts
    _people(t.grid_a, 3, merged=2, households=2)
    _people(t.grid_a2, 4, households=1)
    _people(t.grid_b, 5, households=3)
    Jurisdiction.objects.filter(pk=t.town_b.pk).update(population=999)  # stale figure

    totals = population_refresh(actor=system)

    def figures(node: Jurisdiction) -> tuple[int, int]:
        node.refresh_from_db()
        return node.population, node.households

    assert (totals.population, totals.households) == (12, 6)
    assert figures(t.grid_a) == (3, 2)
    assert figures(t.group_a) == (7, 3)
    assert figures(t.district_a) == (7, 3)
    assert figures(t.town_b) == (5, 3)
    assert figures(t.city) == (12, 6)
    assert AuditEntry.objects.filter(action="jurisdiction.population_refresh").count() == 1


def test_population_refresh_needs_write_permission(personas: dict[str, User]) -> None:
    with pytest.raises(NotAllowed):
        population_refresh(actor=actor_of(personas["grid_worker"]))
