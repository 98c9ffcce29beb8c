"""Screening tests run on a frozen city clock with a rulebook that declares risk areas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Tree
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.screening.tests import factories


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return factories.rulebook(system)
