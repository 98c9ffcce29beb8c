"""Query counts of the list selectors and pages: constant in the number of rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.control import selectors, services
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category

pytestmark = pytest.mark.django_db

ROWS = 5


@pytest.fixture
def many(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    people = [factories.person(system, two_districts.grid_a) for _ in range(ROWS)]
    for p in people:
        order = factories.order(system, p, Category.SECONDARY_CONTACT)
        services.order_change_status(
            actor=system,
            order=order,
            to_status="in_effect",
            reason="r",
            basis_type="manual",
            basis_id="",
        )
    return people


def test_list_selectors_run_a_fixed_number_of_queries(
    many: list[Person],
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from conftest import actor_of

    scope = actor_of(personas["district_officer"]).scope
    with django_assert_max_num_queries(1):
        page = selectors.order_list(scope=scope, status="active")
        assert len(page.items) == ROWS
        assert all(o.person.grid is not None for o in page.items)
    with django_assert_max_num_queries(1):
        assert len(selectors.change_requests_pending(scope=scope)) == ROWS
    with django_assert_max_num_queries(1):
        tests = selectors.tests_due(scope=scope, day=factories.TODAY)
        assert len(tests) == ROWS
        assert all(t.order.person.household is None for t in tests)
    with django_assert_max_num_queries(3):
        orders = selectors.orders_of_person(scope=scope, person_id=many[0].pk)
        assert [len(o.tests.all()) for o in orders] == [3]
    with django_assert_max_num_queries(3):
        assert selectors.health_code(scope=scope, person_id=many[0].pk).colour == "red"
    with django_assert_max_num_queries(2):
        assert selectors.person_events(scope=Scope.system(), person_id=many[0].pk)


def test_list_pages_run_a_fixed_number_of_queries(
    many: list[Person],
    personas: dict[str, User],
    login: Callable[[User], Client],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = login(personas["district_officer"])
    pages = [
        reverse("control:list"),
        reverse("control:approvals"),
        reverse("control:tests_due") + "?day=2022-01-10",
        reverse("control:person", args=[many[0].pk]),
    ]
    for url in pages:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/control/orders").status_code == 200
