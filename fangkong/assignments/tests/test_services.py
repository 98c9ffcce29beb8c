"""Creating and working assignments: deadlines, posts, idempotency, transitions, the tally."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments import services, tally
from fangkong.assignments.models import (
    Assignment,
    AssignmentDayTally,
    AssignmentEvent,
    AssignmentTally,
)
from fangkong.assignments.tests.factories import T0, assignment, post
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.jobs.models import Job
from fangkong.notifications.models import Notification
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Duty

pytestmark = pytest.mark.django_db


def test_deadline_comes_from_the_rulebook_by_duty_and_records_its_version(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    with clock.frozen(T0):
        item = assignment(
            system, two_districts.grid_a, due_at=None, duty=Duty.ISOLATE_CLOSE_CONTACT
        )
    assert item.due_at == T0 + dt.timedelta(hours=8)  # ninth edition: isolate within 8 h
    assert item.policy_version == rulebook.version
    assert item.detail["duty"] == "isolate_close_contact"
    assert item.status == "open"
    assert item.jurisdiction_path == two_districts.grid_a.path


def test_a_given_deadline_wins_and_records_no_policy_version(
    two_districts: Tree, system: Actor
) -> None:
    due = T0 + dt.timedelta(hours=3)
    item = assignment(system, two_districts.grid_a, due_at=due, duty=Duty.CONTACT_LIST)
    assert item.due_at == due
    assert item.policy_version is None


def test_without_duty_or_deadline_creation_is_invalid(two_districts: Tree, system: Actor) -> None:
    with pytest.raises(Invalid):
        assignment(system, two_districts.grid_a, due_at=None)
    assert not Assignment.objects.exists()


def test_without_a_rulebook_a_duty_deadline_is_a_conflict(
    two_districts: Tree, system: Actor
) -> None:
    with pytest.raises(Conflict):
        assignment(system, two_districts.grid_a, due_at=None, duty=Duty.CONTACT_LIST)


@pytest.mark.parametrize(
    ("node_name", "kind"),
    [
        ("grid_a", "grid_worker"),
        ("group_a", "group_leader"),
        ("village_a", "community_secretary"),
        ("town_a", "town_lead"),
        ("district_a", "district_lead"),
        ("city", "city_lead"),
    ],
)
def test_the_primary_post_of_the_levels_kind_answers(
    two_districts: Tree, system: Actor, node_name: str, kind: str
) -> None:
    node = getattr(two_districts, node_name)
    post(node, "building_leader")
    post(node, kind, is_primary=False, holder_name="副职")
    primary = post(node, kind)
    assert assignment(system, node).post_id == primary.pk


def test_work_at_a_node_without_a_post_is_still_created(two_districts: Tree, system: Actor) -> None:
    item = assignment(system, two_districts.grid_a)
    assert item.post_id is None
    assert not Notification.objects.exists()


def test_creation_notifies_the_post_holder_in_the_same_transaction(
    two_districts: Tree, system: Actor, personas: dict[str, User]
) -> None:
    worker = personas["grid_worker"]
    holder = post(two_districts.grid_a, "grid_worker", account_id=worker.pk, phone="13800138000")
    item = assignment(system, two_districts.grid_a)
    note = Notification.objects.get(user=worker)
    assert note.link == f"/assignments/{item.pk}/"
    assert note.kind == "assignment"
    assert Job.objects.filter(name="notifications.deliver").count() == 1  # the SMS to the post
    assert holder.pk == item.post_id


def test_same_dedupe_key_returns_the_existing_item_and_writes_nothing(
    two_districts: Tree, system: Actor, personas: dict[str, User]
) -> None:
    post(two_districts.grid_a, "grid_worker", account_id=personas["grid_worker"].pk)
    first = assignment(system, two_districts.grid_a, dedupe_key="order:7:isolate")
    again = assignment(system, two_districts.grid_a, dedupe_key="order:7:isolate", title="Other")
    assert again.pk == first.pk
    assert Assignment.objects.count() == 1
    assert AuditEntry.objects.filter(action="assignments.create").count() == 1
    assert Notification.objects.count() == 1
    assert AssignmentTally.objects.get(node_path="/4409/", kind=first.kind).active == 1


def test_creation_outside_the_actors_scope_is_not_found(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    with pytest.raises(NotFound):
        assignment(officer, two_districts.grid_b)
    assert not Assignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="assignments.").exists()
    assert not Job.objects.exists()


def test_creation_by_a_service_needs_only_scope(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    """A service called by an end user (who checked their own permission) creates the work."""
    item = assignment(actor_of(personas["district_officer"]), two_districts.grid_a)
    entry = AuditEntry.objects.get(action="assignments.create")
    assert entry.actor_label == "district_officer"
    assert entry.target_id == str(item.pk)


def test_open_in_progress_done(two_districts: Tree, personas: dict[str, User]) -> None:
    worker = actor_of(personas["grid_worker"])
    item = assignment(worker, two_districts.grid_a)
    item = services.assignment_start(actor=worker, assignment=item)
    assert item.status == "in_progress"
    item = services.assignment_complete(actor=worker, assignment=item, outcome=" Isolated at home ")
    item.refresh_from_db()
    assert (item.status, item.outcome) == ("done", "Isolated at home")
    assert item.closed_at is not None
    actions = list(item.events.order_by("id").values_list("action", "from_status", "to_status"))
    assert actions == [
        ("created", "", "open"),
        ("started", "open", "in_progress"),
        ("completed", "in_progress", "done"),
    ]
    assert AuditEntry.objects.filter(
        action="assignments.completed", target_id=str(item.pk)
    ).exists()


@pytest.mark.parametrize("closing", ["complete", "reject"])
def test_closed_work_cannot_move_again(
    two_districts: Tree, personas: dict[str, User], closing: str
) -> None:
    worker = actor_of(personas["grid_worker"])
    item = assignment(worker, two_districts.grid_a)
    if closing == "complete":
        services.assignment_complete(actor=worker, assignment=item, outcome="done")
    else:
        services.assignment_reject(actor=worker, assignment=item, reason="not in my grid")
    audits = AuditEntry.objects.count()
    with pytest.raises(Conflict):
        services.assignment_start(actor=worker, assignment=item)
    with pytest.raises(Conflict):
        services.assignment_complete(actor=worker, assignment=item, outcome="again")
    with pytest.raises(Conflict):
        services.assignment_reject(actor=worker, assignment=item, reason="again")
    assert AuditEntry.objects.count() == audits


def test_started_work_cannot_start_again(two_districts: Tree, personas: dict[str, User]) -> None:
    worker = actor_of(personas["grid_worker"])
    item = assignment(worker, two_districts.grid_a)
    services.assignment_start(actor=worker, assignment=item)
    with pytest.raises(Conflict):
        services.assignment_start(actor=worker, assignment=item)


def test_rejecting_needs_a_reason_and_completing_an_outcome(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    worker = actor_of(personas["grid_worker"])
    item = assignment(worker, two_districts.grid_a)
    with pytest.raises(Invalid):
        services.assignment_reject(actor=worker, assignment=item, reason="  ")
    with pytest.raises(Invalid):
        services.assignment_complete(actor=worker, assignment=item, outcome="")
    item.refresh_from_db()
    assert item.status == "open"


def test_a_role_without_work_permission_cannot_start(
    two_districts: Tree, system: Actor, personas: dict[str, User]
) -> None:
    item = assignment(system, two_districts.grid_a)
    lab = actor_of(personas["other_role"])
    with pytest.raises(NotAllowed):
        services.assignment_start(actor=lab, assignment=item)
    item.refresh_from_db()
    assert item.status == "open"


def test_reassign_closes_and_opens_at_the_new_node_with_the_same_deadline(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    item = assignment(officer, two_districts.grid_a, dedupe_key="contact:9")
    new = services.assignment_reassign(
        actor=officer, assignment=item, to=two_districts.grid_a2, reason="lives in grid 2"
    )
    item.refresh_from_db()
    assert (item.status, item.reason, item.reassigned_to_id) == (
        "reassigned",
        "lives in grid 2",
        new.pk,
    )
    assert item.dedupe_key is None
    assert new.dedupe_key == "contact:9"
    assert new.jurisdiction_id == two_districts.grid_a2.pk
    assert new.due_at == item.due_at
    assert new.detail["reassigned_from"] == item.pk
    grid1 = AssignmentTally.objects.get(node_path=two_districts.grid_a.path)
    grid2 = AssignmentTally.objects.get(node_path=two_districts.grid_a2.path)
    assert (grid1.active, grid2.active) == (0, 1)
    # creating it again by key finds the live item
    assert assignment(officer, two_districts.grid_a, dedupe_key="contact:9").pk == new.pk


def test_reassign_needs_manage_and_a_target_in_scope(
    two_districts: Tree, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    item = assignment(officer, two_districts.grid_a)
    with pytest.raises(NotAllowed):
        services.assignment_reassign(
            actor=actor_of(personas["grid_worker"]),
            assignment=item,
            to=two_districts.grid_a2,
            reason="x",
        )
    with pytest.raises(NotFound):
        services.assignment_reassign(
            actor=officer, assignment=item, to=two_districts.grid_b, reason="x"
        )
    with pytest.raises(Conflict):
        services.assignment_reassign(
            actor=officer, assignment=item, to=two_districts.grid_a, reason="x"
        )
    item.refresh_from_db()
    assert item.status == "open"
    assert Assignment.objects.count() == 1


def test_close_for_subject_closes_only_active_work_in_scope(
    two_districts: Tree, system: Actor, personas: dict[str, User]
) -> None:
    a1 = assignment(system, two_districts.grid_a, subject_id=42, kind="isolate_close_contact")
    a2 = assignment(system, two_districts.grid_a, subject_id=42, kind="scheduled_test")
    b = assignment(system, two_districts.grid_b, subject_id=42, kind="isolate_close_contact")
    other = assignment(system, two_districts.grid_a, subject_id=43, kind="isolate_close_contact")
    officer = actor_of(personas["district_officer"])
    closed = services.assignments_close_for_subject(
        actor=officer,
        subject_type="person",
        subject_id=42,
        kind="isolate_close_contact",
        outcome="isolated by control order 5",
    )
    assert closed == 1
    statuses = {
        i.pk: i.status for i in Assignment.objects.filter(pk__in=[a1.pk, a2.pk, b.pk, other.pk])
    }
    assert statuses == {a1.pk: "done", a2.pk: "open", b.pk: "open", other.pk: "open"}
    assert AssignmentEvent.objects.filter(assignment=a1, action="closed").exists()
    assert AuditEntry.objects.filter(action="assignments.close_for_subject").count() == 1
    assert (
        services.assignments_close_for_subject(
            actor=officer, subject_type="person", subject_id=42, outcome="x"
        )
        == 1  # a2; b is in the sibling district
    )


def _tally_snapshot() -> set[tuple[object, ...]]:
    active = AssignmentTally.objects.filter(active__gt=0).values_list(
        "node_path", "parent_path", "kind", "active", "in_progress", "overdue"
    )
    done = AssignmentDayTally.objects.filter(done__gt=0).values_list(
        "node_path", "parent_path", "kind", "day", "done"
    )
    return {("active", *r) for r in active} | {("done", *r) for r in done}


def test_the_tally_kept_by_writes_equals_a_rebuild(
    two_districts: Tree, system: Actor, rulebook: RulebookVersion
) -> None:
    from fangkong.assignments.escalation import escalate_overdue

    t = two_districts
    with clock.frozen(T0):
        items = [
            assignment(system, node, kind=kind, due_at=T0 + dt.timedelta(hours=h))
            for node, kind, h in [
                (t.grid_a, "scheduled_test", 1),
                (t.grid_a, "scheduled_test", 10),
                (t.grid_a2, "isolate_close_contact", 2),
                (t.village_a, "contact_list", 1),
                (t.grid_b, "scheduled_test", 30),
                (t.district_a, "contact_list", 1),
            ]
        ]
        services.assignment_start(actor=system, assignment=items[1])
        services.assignment_complete(actor=system, assignment=items[4], outcome="ok")
    with clock.frozen(T0 + dt.timedelta(hours=6)):
        escalate_overdue()
        services.assignment_reject(actor=system, assignment=items[0], reason="dup")
        services.assignment_reassign(actor=system, assignment=items[2], to=t.grid_a, reason="r")
    with clock.frozen(T0 + dt.timedelta(hours=20)):  # the next day in the city
        services.assignment_complete(actor=system, assignment=items[1], outcome="ok")
        services.assignments_close_for_subject(
            actor=system,
            subject_type="person",
            subject_id=items[3].subject_id,
            outcome="isolated",
        )
    kept = _tally_snapshot()
    assert {r[4] for r in kept if r[0] == "done"} == {
        dt.date(2022, 1, 20),
        dt.date(2022, 1, 21),
    }
    tally.rebuild()
    assert _tally_snapshot() == kept
    city = AssignmentTally.objects.filter(node_path="/4409/")
    assert sum(r.active for r in city) == 2
