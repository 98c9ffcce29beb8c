"""Issuing orders: plans per edition, supersession, absorption, health code, work and jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.control import selectors
from fangkong.control.models import ControlOrder, ControlStatus, OrderEvent, ScheduledTest
from fangkong.control.tests import factories
from fangkong.control.tests.factories import TODAY
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid, NotAllowed, NotFound
from fangkong.core.scope import Scope
from fangkong.jobs.models import Job
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category, CodeColour

pytestmark = pytest.mark.django_db


def d(month: int, day: int) -> dt.date:
    return dt.date(2022, month, day)


def _dates(order: ControlOrder) -> list[dt.date]:
    return list(
        ScheduledTest.objects.filter(order=order)
        .order_by("due_on")
        .values_list("due_on", flat=True)
    )


# Each edition's plan: (edition, category, anchor) -> (start, first measure, test dates, release)
PLANS = [
    (
        "ninth-edition-2022",
        Category.CLOSE_CONTACT,
        d(1, 10),
        (
            d(1, 11),
            "centralized_quarantine",
            [d(1, 11), d(1, 12), d(1, 13), d(1, 15), d(1, 17), d(1, 20)],
            d(1, 21),
        ),
    ),
    (
        "ninth-edition-2022",
        Category.SECONDARY_CONTACT,
        d(1, 10),
        (d(1, 10), "home_quarantine", [d(1, 10), d(1, 13), d(1, 16)], d(1, 17)),
    ),
    (
        "ninth-edition-2022",
        Category.ARRIVAL_MEDIUM_RISK,
        d(1, 9),
        (d(1, 10), "home_quarantine", [d(1, 10), d(1, 13), d(1, 16)], d(1, 17)),
    ),
    (
        "ninth-edition-2022",
        Category.ARRIVAL_LOW_RISK,
        d(1, 10),
        (d(1, 10), "tests_within", [d(1, 10), d(1, 11)], d(1, 13)),
    ),
    (
        "winter-2021",
        Category.CLOSE_CONTACT,
        d(1, 10),
        (
            d(1, 11),
            "centralized_quarantine",
            [d(1, 11), d(1, 14), d(1, 17), d(1, 24), d(1, 26), d(1, 31)],
            d(2, 1),
        ),
    ),
    (
        "winter-2021",
        Category.SECONDARY_CONTACT,
        d(1, 10),
        (d(1, 10), "centralized_quarantine", [d(1, 10), d(1, 13), d(1, 16)], d(1, 17)),
    ),
    (
        "winter-2021",
        Category.ARRIVAL_HIGH_RISK,
        d(1, 9),
        (
            d(1, 10),
            "centralized_quarantine",
            [d(1, 10), d(1, 13), d(1, 16), d(1, 23), d(1, 25), d(1, 30)],
            d(1, 31),
        ),
    ),
    (
        "winter-2021",
        Category.ARRIVAL_MEDIUM_RISK,
        d(1, 9),
        (d(1, 10), "home_quarantine", [d(1, 10), d(1, 13), d(1, 16), d(1, 23)], d(1, 24)),
    ),
]


@pytest.mark.parametrize("case", PLANS, ids=lambda c: f"{c[0]}-{c[1]}")
def test_each_edition_plans_the_right_tests_and_release_date(
    case: tuple[str, Category, dt.date, tuple[dt.date, str, list[dt.date], dt.date]],
    resident: Person,
    system: Actor,
) -> None:
    edition, category, anchor, expected = case
    version = factories.rulebook(system, edition)
    order = factories.order(system, resident, category, anchor=anchor)
    start, measure, tests, release_on = expected
    assert order.status == "issued"
    assert (order.start_date, order.measure, order.release_on) == (start, measure, release_on)
    assert _dates(order) == tests
    assert order.policy_version == version.version
    assert order.edition == edition
    assert order.jurisdiction_path == resident.jurisdiction_path


def test_a_late_high_risk_arrival_starts_today_with_a_test_today(
    resident: Person, system: Actor
) -> None:
    # Left the high-risk area on 5 January: day 1 was 6 January; the order starts today.
    order = factories.order(system, resident, Category.ARRIVAL_HIGH_RISK, anchor=d(1, 5))
    assert order.start_date == TODAY
    assert _dates(order) == [TODAY, d(1, 12)]
    assert order.release_on == d(1, 13)
    assert order.place_kind == "facility"


def test_an_order_that_would_already_be_over_is_refused(resident: Person, system: Actor) -> None:
    with pytest.raises(Invalid) as exc:
        factories.order(system, resident, Category.ARRIVAL_HIGH_RISK, anchor=d(1, 1))
    assert exc.value.code == "control.plan_over"
    assert not ControlOrder.objects.exists()


def test_issue_records_event_audit_assignment_status_and_a_notify_job(
    resident: Person, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["district_officer"])
    order = factories.order(actor, resident)
    event = OrderEvent.objects.get(order=order)
    assert (event.action, event.to_status, event.basis_type, event.basis_id) == (
        "issued",
        "issued",
        "contact",
        "contact-1",
    )
    assert event.actor_label == "district_officer"
    entry = AuditEntry.objects.get(action="control.order_issue")
    assert entry.target_id == str(order.pk)
    assert entry.detail["policy_version"] == order.policy_version
    work = Assignment.objects.get(subject_type="control.order", subject_id=str(order.pk))
    assert work.kind == "isolate_close_contact"
    assert work.person_id == resident.pk
    # the assignment tells the grid worker; no second message from control
    assert not Job.objects.filter(name="control.order_notify").exists()
    status = ControlStatus.objects.get(person=resident)
    assert (status.colour, status.order_id) == ("red", order.pk)


def test_a_close_contact_order_supersedes_a_copresence_order(
    resident: Person, system: Actor
) -> None:
    weak = factories.order(system, resident, Category.COPRESENCE_CONTACT, basis_id="dwell-9")
    strong = factories.order(system, resident, Category.CLOSE_CONTACT)
    weak.refresh_from_db()
    assert weak.status == "superseded"
    assert weak.superseded_by_id == strong.pk
    assert strong.status == "issued"
    assert OrderEvent.objects.filter(order=weak, action="superseded").exists()
    assert AuditEntry.objects.filter(
        action="control.order_supersede", target_id=str(weak.pk)
    ).exists()
    # the weaker order's work is closed, the new order has its own
    assert Assignment.objects.get(subject_id=str(weak.pk)).closed_at is not None
    assert Assignment.objects.get(subject_id=str(strong.pk)).closed_at is None


def test_a_weaker_order_does_not_supersede_a_stricter_one(resident: Person, system: Actor) -> None:
    strong = factories.order(system, resident, Category.CLOSE_CONTACT)
    result = factories.order(system, resident, Category.COPRESENCE_CONTACT, basis_id="dwell-9")
    assert result.pk == strong.pk
    assert ControlOrder.objects.filter(person=resident).count() == 1
    strong.refresh_from_db()
    assert strong.status == "issued"
    absorbed = OrderEvent.objects.get(order=strong, action="absorbed")
    assert absorbed.basis_id == "dwell-9"
    assert AuditEntry.objects.filter(action="control.order_absorb").count() == 1


def test_replacing_a_stricter_order_waits_for_approval(resident: Person, system: Actor) -> None:
    strong = factories.order(system, resident, Category.CLOSE_CONTACT)
    weak = factories.order(
        system,
        resident,
        Category.COPRESENCE_CONTACT,
        basis_id="review-3",
        reason="investigation found no contact",
        replace_stricter=True,
    )
    assert weak.pk != strong.pk
    assert weak.status == "pending_approval"
    strong.refresh_from_db()
    assert strong.status == "issued"
    request = selectors.change_requests_pending(scope=Scope.system())[0]
    assert (request.kind, request.order_id, request.approval_reasons) == (
        "downgrade_issue",
        weak.pk,
        ["downgrade"],
    )


def test_health_code_is_derived_from_active_orders_with_reasons(
    resident: Person, system: Actor
) -> None:
    scope = Scope.system()
    assert selectors.health_code(scope=scope, person_id=resident.pk).colour == CodeColour.GREEN
    order = factories.order(system, resident, Category.COPRESENCE_CONTACT, basis_id="dwell-9")
    code = selectors.health_code(scope=scope, person_id=resident.pk)
    assert code.colour == CodeColour.YELLOW
    assert [(r.order_id, r.measure, r.basis_type, r.basis_id, r.until) for r in code.reasons] == [
        (order.pk, "tests_within", "contact", "dwell-9", order.release_on)
    ]
    factories.order(system, resident, Category.CLOSE_CONTACT)
    assert selectors.health_code(scope=scope, person_id=resident.pk).colour == CodeColour.RED


def test_health_code_turns_yellow_when_the_order_enters_home_health_monitoring(
    resident: Person, system: Actor
) -> None:
    from fangkong.control.jobs import advance_phases
    from fangkong.core import clock

    order = factories.order(system, resident, Category.CLOSE_CONTACT)
    later = dt.datetime(2022, 1, 18, 9, 0, tzinfo=clock.LOCAL_TZ)
    with clock.frozen(later):
        code = selectors.health_code(scope=Scope.system(), person_id=resident.pk)
        assert code.colour == CodeColour.YELLOW
        assert advance_phases(today=d(1, 18)) == 1
        assert advance_phases(today=d(1, 18)) == 0
    order.refresh_from_db()
    assert order.measure == "home_health_monitoring"
    assert ControlStatus.objects.get(person=resident).colour == "yellow"


def test_a_manual_issue_without_basis_is_pending_and_leaves_the_code_green(
    resident: Person, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["district_officer"])
    order = factories.order(actor, resident, basis_type="manual", basis_id="", reason="tip-off")
    assert order.status == "pending_approval"
    assert not ScheduledTest.objects.filter(order=order).exists()
    assert not Assignment.objects.exists()
    assert not Job.objects.filter(name="control.order_notify").exists()
    assert selectors.health_code(scope=actor.scope, person_id=resident.pk).colour == "green"
    assert AuditEntry.objects.filter(action="control.order_request").count() == 1


def test_issue_needs_a_reason_and_a_basis(resident: Person, system: Actor) -> None:
    with pytest.raises(Invalid) as exc:
        factories.order(system, resident, reason="  ")
    assert exc.value.code == "control.reason_required"
    with pytest.raises(Invalid) as exc:
        factories.order(system, resident, basis_type="contact", basis_id="")
    assert exc.value.code == "control.basis_required"
    with pytest.raises(Invalid):
        factories.order(system, resident, basis_type="rumour")
    assert not ControlOrder.objects.exists()


def test_a_grid_worker_cannot_issue_and_nothing_changes(
    resident: Person, personas: dict[str, User]
) -> None:
    audit_before = AuditEntry.objects.count()
    jobs_before = Job.objects.count()
    with pytest.raises(NotAllowed):
        factories.order(actor_of(personas["grid_worker"]), resident)
    assert not ControlOrder.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    assert Job.objects.count() == jobs_before
    assert not Assignment.objects.exists()


def test_a_sibling_district_cannot_issue_for_my_resident(
    resident: Person, personas: dict[str, User]
) -> None:
    audit_before = AuditEntry.objects.count()
    jobs_before = Job.objects.count()
    with pytest.raises(NotFound):
        factories.order(actor_of(personas["sibling_district_officer"]), resident)
    assert not ControlOrder.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    assert Job.objects.count() == jobs_before
    assert not Assignment.objects.exists()


def test_an_order_without_grid_work_enqueues_a_notice_job(resident: Person, system: Actor) -> None:
    order = factories.order(system, resident, Category.KEY_POPULATION, basis_id="roster-1")
    assert order.release_on is None
    assert not Assignment.objects.exists()
    assert Job.objects.filter(name="control.order_notify", payload={"order_id": order.pk}).exists()


def test_a_rolled_back_issue_leaves_no_order_audit_or_job(resident: Person, system: Actor) -> None:
    audit_before = AuditEntry.objects.count()
    jobs_before = Job.objects.count()

    class Boom(Exception):
        pass

    def issue_then_fail() -> None:
        with transaction.atomic():
            factories.order(system, resident, Category.KEY_POPULATION, basis_id="roster-1")
            assert Job.objects.filter(name="control.order_notify").exists()
            raise Boom

    with pytest.raises(Boom):
        issue_then_fail()
    assert not ControlOrder.objects.exists()
    assert Job.objects.count() == jobs_before
    assert AuditEntry.objects.count() == audit_before


def test_an_order_for_a_person_of_the_other_district(
    two_districts: Tree, resident_b: Person, book: RulebookVersion, personas: dict[str, User]
) -> None:
    actor = actor_of(personas["sibling_district_officer"])
    order = factories.order(actor, resident_b)
    assert order.jurisdiction_path == two_districts.grid_b.path
    work = Assignment.objects.get(subject_id=str(order.pk))
    assert work.jurisdiction_path == two_districts.grid_b.path
