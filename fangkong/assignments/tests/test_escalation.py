"""Overdue work climbs the tree on a fake clock: one level per interval, and exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.assignments.escalation import escalate_overdue, escalate_pass
from fangkong.assignments.jobs import ESCALATE
from fangkong.assignments.models import Assignment, AssignmentTally
from fangkong.assignments.tests.factories import T0, assignment, post
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jobs import registry
from fangkong.notifications.models import Notification
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
INTERVAL = 4 * HOUR  # ninth edition


def _state(item: Assignment) -> tuple[int, str]:
    item.refresh_from_db()
    return item.escalation_level, item.escalated_to.code if item.escalated_to else ""


def test_overdue_work_climbs_two_levels_exactly_once(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, personas: dict[str, User]
) -> None:
    t = two_districts
    post(t.group_a, "group_leader", account_id=personas["grid_worker"].pk)
    post(t.village_a, "community_secretary", account_id=personas["district_officer"].pk)
    with clock.frozen(T0):
        item = assignment(system, t.grid_a, due_at=T0 + 2 * HOUR)
        on_time = assignment(system, t.grid_a, due_at=T0 + 10 * HOUR)

    with clock.frozen(T0 + 2 * HOUR):  # due this instant: not overdue yet
        assert escalate_overdue() == 0
    assert _state(item) == (0, "")

    with clock.frozen(T0 + 2 * HOUR + dt.timedelta(minutes=1)):
        assert escalate_overdue() == 1
        assert escalate_overdue() == 0  # the same pass again does nothing
    assert _state(item) == (1, t.group_a.code)
    assert item.escalated_path == t.group_a.path

    with clock.frozen(T0 + 2 * HOUR + INTERVAL - dt.timedelta(minutes=1)):
        assert escalate_overdue() == 0  # still inside the first interval
    with clock.frozen(T0 + 2 * HOUR + INTERVAL + dt.timedelta(minutes=1)):
        assert escalate_overdue() == 1
        assert escalate_overdue() == 0
    assert _state(item) == (2, t.village_a.code)
    assert _state(on_time) == (0, "")

    passes = AuditEntry.objects.filter(action="assignments.escalate")
    assert passes.count() == 2  # one per pass that moved something, none for idle passes
    assert [p.detail["moved"] for p in passes.order_by("seq")] == [1, 1]
    assert Notification.objects.filter(kind="escalation").count() == 2
    assert Notification.objects.get(kind="escalation", user_id=personas["grid_worker"].pk).link == (
        f"/assignments/board/{t.group_a.code}/overdue/"
    )
    events = list(item.events.filter(action="escalated").values_list("note", flat=True))
    assert events == [t.group_a.path, t.village_a.path]
    # overdue counted once in every ancestor, however many passes moved it
    city = AssignmentTally.objects.get(node_path="/4409/", kind=item.kind)
    assert (city.active, city.overdue) == (2, 1)


def test_a_late_pass_jumps_straight_to_the_level_due(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    with clock.frozen(T0):
        item = assignment(system, two_districts.grid_a, due_at=T0)
    with clock.frozen(T0 + 3 * INTERVAL + HOUR):  # level 4: grid -> group -> ... -> district
        assert escalate_overdue() == 1
    assert _state(item) == (4, two_districts.district_a.code)


def test_work_stops_at_the_city(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    with clock.frozen(T0):
        district_item = assignment(system, two_districts.district_a, due_at=T0)
        city_item = assignment(system, two_districts.city, due_at=T0)
    with clock.frozen(T0 + 30 * INTERVAL):
        assert escalate_overdue() == 2
        assert escalate_overdue() == 0
    assert _state(district_item) == (1, "4409")
    assert _state(city_item) == (1, "4409")


def test_many_items_one_notification_per_holder_per_pass(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion, personas: dict[str, User]
) -> None:
    t = two_districts
    post(t.group_a, "group_leader", account_id=personas["grid_worker"].pk)
    with clock.frozen(T0):
        for node in (t.grid_a, t.grid_a, t.grid_a2):
            assignment(system, node, due_at=T0)
    with clock.frozen(T0 + HOUR):
        result = escalate_pass()
    assert (result.moved, result.newly_overdue, result.holders) == (3, 3, 1)
    note = Notification.objects.get(kind="escalation")
    assert note.subject.startswith("3 ")


def test_closed_work_does_not_escalate(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    from fangkong.assignments.services import assignment_complete

    with clock.frozen(T0):
        item = assignment(system, two_districts.grid_a, due_at=T0 + HOUR)
        assignment_complete(actor=system, assignment=item, outcome="done")
    with clock.frozen(T0 + 5 * HOUR):
        assert escalate_overdue() == 0
    assert _state(item) == (0, "")


def test_the_pass_is_a_periodic_job_every_five_minutes(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    spec = registry.get(ESCALATE)
    assert spec is not None
    assert spec.every == dt.timedelta(minutes=5)
    with clock.frozen(T0):
        item = assignment(system, two_districts.grid_a, due_at=T0)
    with clock.frozen(T0 + HOUR):
        spec.handler({"slot": (T0 + HOUR).isoformat()})
        spec.handler({"slot": (T0 + HOUR).isoformat()})
    assert _state(item) == (1, two_districts.group_a.code)
    assert AuditEntry.objects.filter(action="assignments.escalate").count() == 1


def test_without_a_rulebook_the_job_skips_quietly(two_districts: Tree, system: Actor) -> None:
    spec = registry.get(ESCALATE)
    assert spec is not None
    spec.handler({})
    assert not AuditEntry.objects.filter(action="assignments.escalate").exists()
