"""Mass-testing tests run on a frozen city clock with the ninth edition in force."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Tree
from fangkong.control.tests import factories as control_factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(control_factories.NOW):
        yield


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return control_factories.rulebook(system)
