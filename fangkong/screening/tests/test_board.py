"""The board's live figures per child node, and at a leaf (one grouped query for both)."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.screening import selectors, services
from fangkong.screening.tests.factories import resident_id

pytestmark = pytest.mark.django_db


def _placed(system: Actor, tree: Tree, seq: int) -> None:
    a = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id",
            doc_number=resident_id(seq=seq),
            name="王五",
            origin="北京市朝阳区",  # high risk: due in 12 h
            arrival_date=dt.date(2022, 1, 9),
        ),
    )
    services.arrival_place(actor=system, arrival=a, grid=tree.grid_a)


def test_overdue_and_stale_per_child_and_at_a_leaf(
    book: RulebookVersion,
    two_districts: Tree,
    personas: dict[str, User],
    system: Actor,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    t = two_districts
    _placed(system, t, 1)
    _placed(system, t, 2)
    scope = actor_of(personas["city_commander"]).scope
    with (
        clock.frozen(clock.now() + dt.timedelta(hours=13)),
        django_assert_max_num_queries(4),  # children, tallies, rulebook, the live counts
    ):
        city = selectors.board(scope=scope, node=t.city)
        assert (city.figures["overdue"], city.figures["stale"]) == (2, 0)
        by_child = {r.node.code: r.figures["overdue"] for r in city.children}
        assert by_child == {t.district_a.code: 2, t.district_b.code: 0}
    with clock.frozen(clock.now() + dt.timedelta(hours=13)):
        grid = selectors.board(scope=scope, node=t.grid_a)
        assert grid.children == []
        assert (grid.figures["overdue"], grid.figures["stale"]) == (2, 0)
    with clock.frozen(clock.now() + dt.timedelta(hours=25)):
        district = selectors.board(scope=scope, node=t.district_a)
        assert [r.figures["stale"] for r in district.children] == [2]
        assert district.figures["stale"] == 2
