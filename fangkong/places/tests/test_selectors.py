"""Place reads: scope, filters, keyset pages, query counts."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.core.errors import NotFound
from fangkong.places.selectors import place_get, place_list, room_list
from fangkong.places.tests.factories import facility, place, room

pytestmark = pytest.mark.django_db


def test_place_in_own_district_is_found_sibling_is_not(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    p = place(two_districts.grid_a)
    assert place_get(scope=actor_of(personas["district_officer"]).scope, place_id=p.pk) == p
    with pytest.raises(NotFound):
        place_get(scope=actor_of(personas["sibling_district_officer"]).scope, place_id=p.pk)


def test_list_filters_by_scope_kind_category_and_jurisdiction(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    t = two_districts
    mall = place(t.grid_a, kind="mall")
    pharmacy = place(t.grid_a2, kind="pharmacy")
    place(t.grid_b, kind="mall")
    scope = actor_of(personas["district_officer"]).scope
    assert place_list(scope=scope).items == [pharmacy, mall]
    assert place_list(scope=scope, kind="mall").items == [mall]
    assert place_list(scope=scope, category="sentinel").items == [pharmacy]
    assert place_list(scope=scope, jurisdiction=t.grid_a).items == [mall]


def test_list_pages_by_keyset(
    two_districts: Tree,
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    made = [place(two_districts.grid_a) for _ in range(5)]
    scope = actor_of(personas["city_commander"]).scope
    with django_assert_max_num_queries(1):
        first = place_list(scope=scope, limit=2)
    assert first.items == made[::-1][:2]
    second = place_list(scope=scope, limit=2, after_id=first.next_after)
    assert second.items == made[::-1][2:4]
    last = place_list(scope=scope, limit=2, after_id=second.next_after)
    assert last.items == [made[0]]
    assert last.next_after is None


def test_roles_without_place_view_see_nothing(two_districts: Tree) -> None:
    from fangkong.core.scope import Scope

    place(two_districts.grid_a)
    assert place_list(scope=Scope(paths=("/",))).items == []


def test_rooms_are_ordered_by_floor_and_number(
    two_districts: Tree,
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    f = facility(two_districts.grid_a)
    room(f, "201", floor=2)
    room(f, "102", floor=1)
    room(f, "101", floor=1)
    scope = actor_of(personas["district_officer"]).scope
    with django_assert_max_num_queries(1):
        numbers = [r.number for r in room_list(scope=scope, facility=f)]
    assert numbers == ["101", "102", "201"]
