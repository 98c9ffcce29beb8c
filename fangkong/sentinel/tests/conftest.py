"""Sentinel tests run on a frozen city clock with the ninth edition in force, a pharmacy in
grid A with its pharmacist, and a fever clinic in district B."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.control.tests import factories as control_factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.sentinel.models import Unit
from fangkong.sentinel.tests import factories


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return control_factories.rulebook(system)


@pytest.fixture
def pharmacy(book: RulebookVersion, two_districts: Tree, system: Actor) -> Unit:
    return factories.unit(system, two_districts.grid_a, code="PH0001")


@pytest.fixture
def pharmacist(pharmacy: Unit, system: Actor) -> User:
    return factories.operator(system, pharmacy, "pharmacist")


@pytest.fixture
def fever_clinic(book: RulebookVersion, two_districts: Tree, system: Actor) -> Unit:
    return factories.unit(system, two_districts.town_b, kind="fever_clinic", code="FC0001")
