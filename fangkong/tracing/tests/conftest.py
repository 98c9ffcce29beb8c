"""Tracing tests run on a frozen city clock with the ninth edition in force."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Tree
from fangkong.control.tests import factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return factories.rulebook(system)


@pytest.fixture
def resident(book: RulebookVersion, two_districts: Tree, system: Actor) -> Person:
    """A person in grid A (district A)."""
    return factories.person(system, two_districts.grid_a)


@pytest.fixture
def resident_b(book: RulebookVersion, two_districts: Tree, system: Actor) -> Person:
    """A person in grid B (the sibling district)."""
    return factories.person(system, two_districts.grid_b)
