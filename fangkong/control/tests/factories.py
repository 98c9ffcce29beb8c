"""Minimal valid control-order data for tests: a rulebook in force, persons, orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.control import services
from fangkong.control.models import ControlOrder
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person
from fangkong.people.tests import factories as people_factories
from fangkong.policy.editions import edition_text
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category
from fangkong.policy.services import rulebook_publish

# Tests run on the city's clock at a fixed instant (2022-01-10 09:00 in Shanghai).
TODAY = dt.date(2022, 1, 10)
NOW = dt.datetime(2022, 1, 10, 9, 0, tzinfo=clock.LOCAL_TZ)


def rulebook(system: Actor, edition: str = "ninth-edition-2022") -> RulebookVersion:
    """Publish a shipped edition, in force since long before the test's clock."""
    return rulebook_publish(
        actor=system,
        text=edition_text(edition),
        note=f"test: {edition}",
        effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def person(system: Actor, grid: Jurisdiction, **kwargs: Any) -> Person:
    return people_factories.person(system, grid, **kwargs)


def order(
    actor: Actor,
    who: Person,
    category: Category = Category.CLOSE_CONTACT,
    *,
    anchor: dt.date = TODAY,
    basis_type: str = "contact",
    basis_id: str = "contact-1",
    reason: str = "close contact of case 1",
    **kwargs: Any,
) -> ControlOrder:
    return services.order_issue(
        actor=actor,
        person=who,
        category=category,
        anchor=anchor,
        basis_type=basis_type,
        basis_id=basis_id,
        reason=reason,
        **kwargs,
    )
