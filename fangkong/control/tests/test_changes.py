"""Status changes, release and its blockers, the second-approver rule, tests and daily jobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils.translation import gettext as _

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.control import jobs, selectors, services
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ControlStatus,
    OrderEvent,
    ScheduledTest,
)
from fangkong.control.tests import factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, NotAllowed, NotFound
from fangkong.core.scope import Scope
from fangkong.jurisdictions.models import Post
from fangkong.notifications.models import Notification
from fangkong.people.models import Person
from fangkong.policy.editions import edition_text
from fangkong.policy.schema import Category
from fangkong.policy.services import rulebook_publish

pytestmark = pytest.mark.django_db


@contextmanager
def on(day: dt.date) -> Iterator[None]:
    with clock.frozen(dt.datetime.combine(day, dt.time(9), tzinfo=clock.LOCAL_TZ)):
        yield


def _sample_all(actor: Actor, order: ControlOrder, result: str = "negative") -> None:
    for test in ScheduledTest.objects.filter(order=order).order_by("due_on"):
        services.scheduled_test_record(
            actor=actor,
            test=test,
            result=result,
            sampled_at=factories.NOW,
            result_ref=f"tube-{test.pk}",
        )


def _state(order: ControlOrder) -> tuple[str, int, int]:
    order.refresh_from_db()
    return order.status, AuditEntry.objects.count(), OrderEvent.objects.count()


# --- status changes ----------------------------------------------------------------------------


def test_a_status_change_records_reason_basis_event_and_audit(
    resident: Person, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["district_officer"])
    order = factories.order(actor, resident)
    result = services.order_change_status(
        actor=actor,
        order=order,
        to_status="in_effect",
        reason="placed in room 101",
        basis_type="report",
        basis_id="placement-5",
    )
    assert result.request is None
    assert result.order.status == "in_effect"
    event = OrderEvent.objects.get(order=order, action="status")
    assert (event.from_status, event.to_status, event.reason, event.basis_id) == (
        "issued",
        "in_effect",
        "placed in room 101",
        "placement-5",
    )
    assert event.policy_version == order.policy_version
    entry = AuditEntry.objects.get(action="control.order_status")
    assert entry.reason == "placed in room 101"
    assert entry.detail["basis_id"] == "placement-5"


def test_a_forbidden_transition_is_a_conflict(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident)
    services.order_change_status(
        actor=system,
        order=order,
        to_status="cancelled",
        reason="error",
        basis_type="report",
        basis_id="r1",
    )
    with pytest.raises(Conflict):
        services.order_change_status(
            actor=system,
            order=order,
            to_status="in_effect",
            reason="x",
            basis_type="report",
            basis_id="r1",
        )


def test_cancelling_closes_the_work_and_clears_the_code(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident)
    services.order_change_status(
        actor=system,
        order=order,
        to_status="cancelled",
        reason="wrong person",
        basis_type="report",
        basis_id="r1",
    )
    assert Assignment.objects.get(subject_id=str(order.pk)).closed_at is not None
    assert not ControlStatus.objects.filter(person=resident).exists()
    assert selectors.health_code(scope=Scope.system(), person_id=resident.pk).colour == "green"


# --- release -----------------------------------------------------------------------------------


def test_release_is_blocked_while_a_scheduled_test_is_missing(
    resident: Person, system: Actor
) -> None:
    order = factories.order(system, resident, Category.SECONDARY_CONTACT)  # tests 10, 13, 16 Jan
    tests = list(ScheduledTest.objects.filter(order=order).order_by("due_on"))
    for test in tests[:2]:
        services.scheduled_test_record(
            actor=system, test=test, result="negative", sampled_at=factories.NOW
        )
    with on(order.release_on or factories.TODAY):
        before = _state(order)
        with pytest.raises(Conflict) as exc:
            services.order_release(actor=system, order=order, reason="14 days done")
        assert exc.value.code == "control.release_blocked"
        assert exc.value.detail["blockers"] == [
            {"code": "test_missing", "test_id": tests[2].pk, "due_on": "2022-01-16"}
        ]
        assert _state(order) == before


def test_release_is_blocked_by_a_positive_test(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident, Category.SECONDARY_CONTACT)
    _sample_all(system, order)
    last = ScheduledTest.objects.filter(order=order).order_by("-due_on").first()
    assert last is not None
    ScheduledTest.objects.filter(pk=last.pk).update(status="positive")
    with on(dt.date(2022, 1, 17)), pytest.raises(Conflict) as exc:
        services.order_release(actor=system, order=order, reason="done")
    assert [b["code"] for b in exc.value.detail["blockers"]] == ["test_positive"]


def test_release_before_the_planned_end_is_blocked(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident, Category.SECONDARY_CONTACT)
    _sample_all(system, order)
    with pytest.raises(Conflict) as exc:
        services.order_release(actor=system, order=order, reason="early")
    assert [b["code"] for b in exc.value.detail["blockers"]] == ["before_release_date"]


def test_release_after_all_negative_tests_closes_work_and_turns_the_code_green(
    resident: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    order = factories.order(officer, resident, Category.SECONDARY_CONTACT)
    _sample_all(officer, order)
    with on(dt.date(2022, 1, 17)):
        released = services.order_release(actor=officer, order=order, reason="7 days, all negative")
        assert released.status == "released"
        assert released.released_at is not None
        assert selectors.health_code(scope=officer.scope, person_id=resident.pk).colour == "green"
    event = OrderEvent.objects.get(order=order, action="status")
    assert (event.to_status, event.basis_type) == ("released", "test")
    assert event.basis_id.startswith("tube-")
    assert AuditEntry.objects.filter(action="control.order_release").count() == 1
    assert Assignment.objects.get(subject_id=str(order.pk)).closed_at is not None
    assert not ControlStatus.objects.filter(person=resident).exists()


def test_a_missed_test_made_up_later_no_longer_blocks(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident, Category.SECONDARY_CONTACT)
    assert jobs.mark_missed_tests(today=dt.date(2022, 1, 14)) == 2
    assert jobs.mark_missed_tests(today=dt.date(2022, 1, 14)) == 0
    assert ScheduledTest.objects.filter(order=order, status="missed").count() == 2
    with on(dt.date(2022, 1, 17)):
        _sample_all(system, order)
        assert services.order_release(actor=system, order=order, reason="ok").status == "released"


def test_recording_a_test_again_is_idempotent_and_a_different_result_conflicts(
    resident: Person, system: Actor
) -> None:
    order = factories.order(system, resident)
    test = ScheduledTest.objects.filter(order=order).order_by("due_on").first()
    assert test is not None
    kwargs = {
        "actor": system,
        "result": "negative",
        "sampled_at": factories.NOW,
        "result_ref": "T1",
    }
    services.scheduled_test_record(test=test, **kwargs)  # type: ignore[arg-type]
    audit = AuditEntry.objects.count()
    services.scheduled_test_record(test=test, **kwargs)  # type: ignore[arg-type]
    assert AuditEntry.objects.count() == audit
    with pytest.raises(Conflict):
        services.scheduled_test_record(
            actor=system, test=test, result="positive", sampled_at=factories.NOW, result_ref="T1"
        )


# --- second approver ---------------------------------------------------------------------------


def test_a_manual_status_change_waits_for_a_second_person(
    resident: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    commander = actor_of(personas["city_commander"])
    order = factories.order(officer, resident)
    result = services.order_change_status(
        actor=officer,
        order=order,
        to_status="cancelled",
        reason="phone call",
        basis_type="manual",
        basis_id="",
    )
    assert result.request is not None
    assert result.order.status == "issued"
    request = result.request
    before = _state(order)
    with pytest.raises(NotAllowed) as exc:
        services.change_request_decide(actor=officer, request=request, approve=True, reason="ok")
    assert exc.value.code == "control.self_approval"
    assert _state(order) == before
    services.change_request_decide(
        actor=commander, request=request, approve=True, reason="verified"
    )
    order.refresh_from_db()
    assert order.status == "cancelled"
    event = OrderEvent.objects.get(order=order, action="status")
    assert event.approval_id == request.pk
    assert event.actor_label == "city_commander"
    request.refresh_from_db()
    assert (request.status, request.decided_by_label) == ("approved", "city_commander")


def test_a_manual_issue_is_applied_when_another_authorised_person_approves(
    resident: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    pending = factories.order(officer, resident, basis_type="manual", basis_id="", reason="tip-off")
    request = selectors.change_requests_pending(scope=officer.scope)[0]
    assert request.order_id == pending.pk
    with pytest.raises(NotAllowed):
        services.change_request_decide(actor=officer, request=request, approve=True, reason="me")
    commander = actor_of(personas["city_commander"])
    services.change_request_decide(actor=commander, request=request, approve=True, reason="checked")
    pending.refresh_from_db()
    assert pending.status == "issued"
    assert ScheduledTest.objects.filter(order=pending).count() == 6
    assert Assignment.objects.filter(subject_id=str(pending.pk)).exists()
    assert selectors.health_code(scope=officer.scope, person_id=resident.pk).colour == "red"
    assert OrderEvent.objects.get(order=pending, action="issued").approval_id == request.pk


def test_a_rejected_manual_issue_is_cancelled(resident: Person, personas: dict[str, User]) -> None:
    officer = actor_of(personas["district_officer"])
    pending = factories.order(officer, resident, basis_type="manual", basis_id="", reason="tip-off")
    request = selectors.change_requests_pending(scope=officer.scope)[0]
    services.change_request_decide(
        actor=actor_of(personas["city_commander"]),
        request=request,
        approve=False,
        reason="no basis",
    )
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    with pytest.raises(Conflict):
        services.change_request_decide(
            actor=actor_of(personas["city_commander"]),
            request=request,
            approve=True,
            reason="again",
        )


def test_a_sibling_district_cannot_decide_and_nothing_changes(
    resident: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    pending = factories.order(officer, resident, basis_type="manual", basis_id="", reason="tip-off")
    request = ChangeRequest.objects.get()
    before = _state(pending)
    with pytest.raises(NotFound):
        services.change_request_decide(
            actor=actor_of(personas["sibling_district_officer"]),
            request=request,
            approve=True,
            reason="x",
        )
    with pytest.raises(NotAllowed):
        services.change_request_decide(
            actor=actor_of(personas["grid_worker"]), request=request, approve=True, reason="x"
        )
    assert _state(pending) == before
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_database_refuses_a_self_decided_request(resident: Person, system: Actor) -> None:
    from django.db import IntegrityError, transaction

    pending = factories.order(system, resident, basis_type="manual", basis_id="", reason="x")
    request = ChangeRequest.objects.get(order=pending)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.filter(pk=request.pk).update(decided_by_key=request.requested_by_key)


def test_a_bulk_change_over_the_threshold_waits_and_under_it_applies(
    two_districts: Tree, resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    text = edition_text("ninth-edition-2022").replace(
        "bulk_change_threshold: 50", "bulk_change_threshold: 2"
    )
    rulebook_publish(
        actor=system,
        text=text,
        note="small threshold",
        effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    officer = actor_of(personas["district_officer"])
    people = [resident, *(factories.person(system, two_districts.grid_a2) for _ in range(2))]
    orders = [factories.order(officer, p) for p in people]
    bulk = services.orders_bulk_change(
        actor=officer,
        orders=orders,
        to_status="in_effect",
        reason="all placed",
        basis_type="report",
        basis_id="list-7",
    )
    assert bulk.applied == []
    assert bulk.request is not None
    assert bulk.request.approval_reasons == ["bulk"]
    assert bulk.request.jurisdiction_path == two_districts.group_a.path
    assert set(ControlOrder.objects.values_list("status", flat=True)) == {"issued"}
    services.change_request_decide(
        actor=actor_of(personas["city_commander"]), request=bulk.request, approve=True, reason="ok"
    )
    assert set(ControlOrder.objects.values_list("status", flat=True)) == {"in_effect"}
    small = services.orders_bulk_change(
        actor=officer,
        orders=orders[:2],
        to_status="transferred",
        reason="moved",
        basis_type="report",
        basis_id="t-1",
    )
    assert small.request is None
    assert [o.status for o in small.applied] == ["transferred", "transferred"]


def test_a_bulk_change_outside_my_scope_changes_nothing(
    resident: Person, resident_b: Person, system: Actor, personas: dict[str, User]
) -> None:
    orders = [factories.order(system, resident), factories.order(system, resident_b)]
    audit = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        services.orders_bulk_change(
            actor=actor_of(personas["district_officer"]),
            orders=orders,
            to_status="in_effect",
            reason="x",
            basis_type="report",
            basis_id="r",
        )
    assert AuditEntry.objects.count() == audit
    assert set(ControlOrder.objects.values_list("status", flat=True)) == {"issued"}
    assert not ChangeRequest.objects.exists()


# --- notifications -----------------------------------------------------------------------------


def test_the_grid_post_holder_hears_of_a_new_order_and_of_tests_due(
    two_districts: Tree, resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    worker = personas["grid_worker"]
    Post.objects.create(
        jurisdiction=two_districts.grid_a,
        jurisdiction_path=two_districts.grid_a.path,
        kind="grid_worker",
        holder_name="网格员",
        account_id=worker.pk,
    )
    mine = Notification.objects.filter(user_id=worker.pk)
    factories.order(system, resident, Category.SECONDARY_CONTACT)  # tests 10, 13, 16 Jan
    assert mine.count() == 1  # the isolation assignment
    other = factories.person(system, two_districts.grid_a)
    routine = factories.order(system, other, Category.KEY_POPULATION, basis_id="roster-1")
    jobs.order_notify({"order_id": routine.pk})
    jobs.order_notify({"order_id": routine.pk})
    assert mine.count() == 2
    assert str(_("further notice")) in mine.order_by("-id")[0].body
    assert jobs.send_test_reminders(day=factories.TODAY) == 1
    assert jobs.send_test_reminders(day=factories.TODAY) == 1
    assert mine.count() == 3
    assert jobs.send_test_reminders(day=dt.date(2022, 1, 11)) == 0


def test_a_pending_order_is_decided_only_through_its_request(
    resident: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    pending = factories.order(officer, resident, basis_type="manual", basis_id="", reason="tip")
    with pytest.raises(Conflict) as exc:
        services.order_change_status(
            actor=officer,
            order=pending,
            to_status="cancelled",
            reason="x",
            basis_type="report",
            basis_id="r",
        )
    assert exc.value.code == "control.pending_approval"


def test_a_manual_issue_approved_after_a_stricter_order_arrived_is_absorbed(
    resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    pending = factories.order(
        officer,
        resident,
        Category.COPRESENCE_CONTACT,
        basis_type="manual",
        basis_id="",
        reason="tip",
    )
    strong = factories.order(system, resident, Category.CLOSE_CONTACT)
    request = ChangeRequest.objects.get(order=pending)
    services.change_request_decide(
        actor=actor_of(personas["city_commander"]), request=request, approve=True, reason="ok"
    )
    pending.refresh_from_db()
    strong.refresh_from_db()
    assert (pending.status, strong.status) == ("cancelled", "issued")
    assert OrderEvent.objects.filter(order=strong, action="absorbed").exists()


def test_a_positive_scheduled_test_alerts_the_grid_at_once(
    two_districts: Tree, resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    from fangkong.jobs.models import Job

    worker = personas["grid_worker"]
    Post.objects.create(
        jurisdiction=two_districts.grid_a,
        jurisdiction_path=two_districts.grid_a.path,
        kind="grid_worker",
        holder_name="网格员",
        account_id=worker.pk,
    )
    order = factories.order(system, resident, Category.SECONDARY_CONTACT)
    test = ScheduledTest.objects.filter(order=order).order_by("due_on")[0]
    services.scheduled_test_record(
        actor=system, test=test, result="positive", sampled_at=factories.NOW, result_ref="T-9"
    )
    job = Job.objects.get(name="control.test_positive_notify")
    jobs.test_positive_notify(job.payload)
    alert = Notification.objects.filter(user_id=worker.pk, kind="warning").get()
    assert "T-9" in alert.body


def test_every_status_change_of_an_order_has_a_reason_a_basis_and_an_audit_row(
    resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    weak = factories.order(officer, resident, Category.COPRESENCE_CONTACT, basis_id="dwell-1")
    order = factories.order(officer, resident, Category.SECONDARY_CONTACT)
    services.order_change_status(
        actor=officer,
        order=order,
        to_status="in_effect",
        reason="placed",
        basis_type="report",
        basis_id="v-1",
    )
    _sample_all(officer, order)
    with on(dt.date(2022, 1, 17)):
        services.order_release(actor=officer, order=order, reason="done")
    moves = OrderEvent.objects.exclude(to_status="").exclude(action="test")
    assert {(e.order_id, e.to_status) for e in moves} == {
        (weak.pk, "issued"),
        (weak.pk, "superseded"),
        (order.pk, "issued"),
        (order.pk, "in_effect"),
        (order.pk, "released"),
    }
    for event in moves:
        assert event.reason.strip()
        assert event.basis_type
        assert event.basis_id
        assert event.policy_version is not None
    audited = AuditEntry.objects.filter(target_type="control.controlorder")
    assert audited.count() == moves.count()
    assert all(entry.reason.strip() for entry in audited)


def test_daily_jobs_are_registered_and_run_for_the_city_day_of_their_slot(
    resident: Person, system: Actor
) -> None:
    from fangkong.jobs import registry

    for name in ("control.tests_mark_missed", "control.test_reminders", "control.phases_advance"):
        spec = registry.get(name)
        assert spec is not None
        assert spec.every == dt.timedelta(days=1)
    factories.order(system, resident, Category.SECONDARY_CONTACT)  # tests 10, 13, 16 Jan
    # The slot of 14 January starts at local midnight, 16:00 UTC the day before.
    jobs.tests_mark_missed_job({"slot": "2022-01-13T16:00:00+00:00"})
    assert ScheduledTest.objects.filter(status="missed").count() == 2


def test_an_order_follows_its_person_to_another_district(
    two_districts: Tree, resident: Person, system: Actor, personas: dict[str, User]
) -> None:
    from fangkong.people.services import person_update

    order = factories.order(system, resident, Category.SECONDARY_CONTACT)
    person_update(actor=system, person=resident, reason="moved", grid=two_districts.grid_b)
    assert services.orders_follow_people(actor=system) == 1
    assert services.orders_follow_people(actor=system) == 0
    order.refresh_from_db()
    assert order.jurisdiction_path == two_districts.grid_b.path
    assert set(ScheduledTest.objects.values_list("jurisdiction_path", flat=True)) == {
        two_districts.grid_b.path
    }
    assert OrderEvent.objects.filter(order=order, action="moved").exists()
    work = Assignment.objects.filter(subject_id=str(order.pk)).order_by("pk")
    assert [(w.jurisdiction_path, w.closed_at is None) for w in work] == [
        (two_districts.grid_a.path, False),
        (two_districts.grid_b.path, True),
    ]
    sibling = actor_of(personas["sibling_district_officer"])
    assert selectors.order_get(scope=sibling.scope, order_id=order.pk).pk == order.pk
    with pytest.raises(NotFound):
        selectors.order_get(scope=actor_of(personas["district_officer"]).scope, order_id=order.pk)
