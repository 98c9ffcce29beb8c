"""Tree reads through the scope."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.core.errors import NotFound
from fangkong.jurisdictions.selectors import (
    jurisdiction_ancestors,
    jurisdiction_children,
    jurisdiction_get,
    jurisdiction_roots,
    post_list,
)
from fangkong.jurisdictions.tests.factories import node, post

pytestmark = pytest.mark.django_db


def test_children_are_ordered_by_code(
    personas: dict[str, User], django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    scope = actor_of(personas["district_officer"]).scope
    group = jurisdiction_get(scope=scope, code="440902001001001")
    node("440902001001001003", "第三网格")
    with django_assert_max_num_queries(1):
        codes = [n.code for n in jurisdiction_children(scope=scope, node=group)]
    assert codes == ["440902001001001001", "440902001001001002", "440902001001001003"]


def test_sibling_district_node_is_not_found(personas: dict[str, User]) -> None:
    scope = actor_of(personas["sibling_district_officer"]).scope
    with pytest.raises(NotFound):
        jurisdiction_get(scope=scope, code="440902")
    with pytest.raises(NotFound):
        jurisdiction_get(scope=scope, code="no-such-code")


def test_breadcrumb_keeps_only_nodes_in_scope(personas: dict[str, User]) -> None:
    officer = actor_of(personas["district_officer"]).scope
    city = actor_of(personas["city_commander"]).scope
    grid = jurisdiction_get(scope=officer, code="440902001001001001")
    assert [a.code for a in jurisdiction_ancestors(scope=officer, node=grid)] == [
        "440902",
        "440902001",
        "440902001001",
        "440902001001001",
    ]
    assert jurisdiction_ancestors(scope=city, node=grid)[0].code == "4409"


def test_posts_are_listed_primary_first(
    two_districts: Tree,
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    grid = two_districts.grid_a
    post(grid, kind="building_leader", holder_name="乙", is_primary=False)
    post(grid, kind="grid_worker", holder_name="甲")
    scope = actor_of(personas["grid_worker"]).scope
    with django_assert_max_num_queries(1):
        names = [p.holder_name for p in post_list(scope=scope, node=grid)]
    assert names == ["甲", "乙"]


def test_roles_without_jurisdiction_view_see_nothing(personas: dict[str, User]) -> None:
    lab = actor_of(personas["other_role"]).scope
    with pytest.raises(NotFound):
        jurisdiction_get(scope=lab, code="440902")
    assert not jurisdiction_roots(scope=lab).exists()


def test_roots_are_the_users_own_nodes(personas: dict[str, User]) -> None:
    scope = actor_of(personas["district_officer"]).scope
    assert [r.code for r in jurisdiction_roots(scope=scope)] == ["440902"]
