"""Minimal valid tracing data for tests: cases and contacts through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people.models import Person
from fangkong.tracing import services
from fangkong.tracing.models import Case


def case(actor: Actor, who: Person, **kwargs: Any) -> Case:
    values: dict[str, Any] = {
        "person_id": who.pk,
        "kind": "confirmed",
        "found_by": "mass_testing",
        "sampled_at": NOW - dt.timedelta(hours=10),
        "onset_date": None,
        "basis_type": "test",
        "basis_id": f"tube-{who.pk}",
        "reason": "positive single-tube retest",
    }
    values.update(kwargs)
    return services.case_register(actor, **values)


def person_in(actor: Actor, grid: Jurisdiction, **kwargs: Any) -> Person:
    from fangkong.control.tests import factories as control_factories

    return control_factories.person(actor, grid, **kwargs)
