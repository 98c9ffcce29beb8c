"""Key-population tests run on a frozen city clock with the ninth edition in force."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.control.tests.factories import rulebook
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.key_populations.models import Employer
from fangkong.key_populations.tests import factories
from fangkong.policy.models import RulebookVersion


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return rulebook(system)


@pytest.fixture
def employer_a(book: RulebookVersion, two_districts: Tree, system: Actor) -> Employer:
    """A courier depot in town A (district A)."""
    return factories.employer(system, two_districts.town_a)


@pytest.fixture
def employer_b(book: RulebookVersion, two_districts: Tree, system: Actor) -> Employer:
    """A cold store in town B (the sibling district)."""
    return factories.employer(system, two_districts.town_b, name="电白冷库", group="cold_chain")


@pytest.fixture
def employer_user(employer_a: Employer, two_districts: Tree, system: Actor) -> User:
    """An employer-role account of employer A, bound to town A."""
    from fangkong.key_populations.services import employer_account_link

    user = User.objects.create(username="depot_a", role="employer")
    user.set_password("correct horse battery staple")
    user.save()
    user.jurisdictions.set([two_districts.town_a])
    employer_account_link(actor=system, employer=employer_a, user=user)
    return user


@pytest.fixture
def employer_actor(employer_user: User) -> Actor:
    from conftest import actor_of

    return actor_of(employer_user)
