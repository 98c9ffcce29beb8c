"""The returnee class's follow-up plan becomes the grid's work once the arrival is verified:
one test per plan day from today on (today's counts as done when a sample was taken at
verification), a home visit where the plan asks for one, nothing for an arrival already under
a control order (its own test schedule governs), and nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.policy.selectors import rulebook_in_force
from fangkong.screening import services
from fangkong.screening.models import Arrival
from fangkong.screening.services import Verification
from fangkong.screening.services.followup import FOLLOW_UP_SUBJECT, followups_schedule
from fangkong.screening.tests.factories import TODAY, resident_id

pytestmark = pytest.mark.django_db


def _arrival(
    system: Actor, tree: Tree, cls: str, *, arrived: dt.date, origin: str = "广东省广州市"
) -> Arrival:
    a = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id", doc_number=resident_id(), name="李四", origin=origin,
            arrival_date=arrived, returnee_class=cls,
        ),
    )  # fmt: skip
    return services.arrival_place(actor=system, arrival=a, grid=tree.grid_a)


def _items(a: Arrival) -> list[tuple[str, dt.datetime, str]]:
    return sorted(
        (item.kind, item.due_at, item.jurisdiction_path)
        for item in Assignment.objects.filter(subject_type=FOLLOW_UP_SUBJECT, subject_id=str(a.pk))
    )


def _end_of(day: dt.date) -> dt.datetime:
    return clock.local_midnight(day + dt.timedelta(days=1))


def test_abroad_returnee_gets_the_remaining_test_days_and_a_home_visit(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    a = _arrival(system, two_districts, "abroad", arrived=yesterday)
    done = services.arrival_verify(
        actor=actor_of(personas["grid_worker"]), arrival=a, result=Verification(reached=True)
    )
    assert done.order_id is None  # no measure applied: the class's plan follows the person
    # Plan days 1, 2, 3, 5, 7 from yesterday (day 1): day 1 is past, today's test is still due.
    days = [yesterday + dt.timedelta(days=d - 1) for d in (2, 3, 5, 7)]
    assert days[0] == TODAY
    path = two_districts.grid_a.path
    visit = ("arrival_home_visit", clock.now() + dt.timedelta(hours=24), path)
    assert _items(a) == sorted(
        [("arrival_followup_test", _end_of(d), path) for d in days] + [visit]
    )
    a.refresh_from_db()
    assert followups_schedule(a, rulebook_in_force().book) == 5  # again: the same items, none added
    assert len(_items(a)) == 5


def test_a_sample_taken_at_verification_counts_for_today(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    a = _arrival(system, two_districts, "student", arrived=TODAY)
    services.arrival_verify(
        actor=actor_of(personas["grid_worker"]),
        arrival=a,
        result=Verification(reached=True, sample_ref="TUBE-7"),
    )
    assert _items(a) == []  # students: one test on day 1, taken
    b = _arrival(system, two_districts, "student", arrived=TODAY)
    services.arrival_verify(
        actor=actor_of(personas["grid_worker"]), arrival=b, result=Verification(reached=True)
    )
    assert _items(b) == [("arrival_followup_test", _end_of(TODAY), two_districts.grid_a.path)]


def test_under_a_control_order_the_orders_schedule_governs(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    a = _arrival(system, two_districts, "migrant_worker", arrived=TODAY, origin="北京市朝阳区")
    done = services.arrival_verify(
        actor=actor_of(personas["grid_worker"]),
        arrival=a,
        result=Verification(reached=True, apply_measure=True),
    )
    assert done.order_id is not None
    assert _items(a) == []


def test_not_reached_schedules_nothing(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    a = _arrival(system, two_districts, "driver", arrived=TODAY)
    services.arrival_verify(
        actor=actor_of(personas["grid_worker"]),
        arrival=a,
        result=Verification(reached=False, reason="wrong_number"),
    )
    assert _items(a) == []
