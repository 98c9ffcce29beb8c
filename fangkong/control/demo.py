"""Control orders for the demo city: a few dozen persons per district under a realistic mix
of measures, some in effect with tests recorded, and a request waiting in each district's
approval queue. Everything goes through control.services, so the demo shows real trails.

Called by the demo command after the synthetic city and a rulebook exist:
`demo_orders_issue(actor=system_actor("demo"), per_district=20)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangkong.control import services
from fangkong.control.models import ChangeRequest, ControlOrder, ScheduledTest
from fangkong.control.rules import SampleStatus, Status
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope, within
from fangkong.jurisdictions.selectors import jurisdiction_children, jurisdiction_roots
from fangkong.people.models import Person
from fangkong.policy.schema import Category

# (category, days before today the measure counts from, basis type)
_MIX: tuple[tuple[Category, int, str], ...] = (
    (Category.CLOSE_CONTACT, 3, "contact"),
    (Category.SECONDARY_CONTACT, 2, "contact"),
    (Category.COPRESENCE_CONTACT, 1, "contact"),
    (Category.ARRIVAL_MEDIUM_RISK, 2, "arrival"),
    (Category.ARRIVAL_LOW_RISK, 0, "arrival"),
    (Category.CLOSE_CONTACT, 6, "contact"),
    (Category.ARRIVAL_HIGH_RISK, 4, "arrival"),
    (Category.DRUG_BUYER, 0, "report"),
    (Category.KEY_POPULATION, 0, "report"),
)


@dataclass(frozen=True, slots=True)
class DemoOrders:
    issued: int
    in_effect: int
    tests_recorded: int
    pending_requests: int


def demo_orders_issue(*, actor: Actor, per_district: int = 20) -> DemoOrders:
    """Issue demo orders in every district (deterministic: the first persons by id).

    Needs a rulebook in force. Does nothing when demo orders exist already, so a restarted
    demo keeps its orders (and its trail) as they were.
    """
    if ControlOrder.objects.filter(basis_id__startswith="demo-").exists():
        return DemoOrders(0, 0, 0, 0)
    today = clock.local_date()
    sampled = clock.local_midnight(today) + dt.timedelta(hours=8)
    system = Scope.system()
    issued = in_effect = recorded = pending = 0
    for city in jurisdiction_roots(scope=system):
        for district in jurisdiction_children(scope=system, node=city):
            people = list(
                within(
                    Person.objects.filter(merged_into__isnull=True), Scope(paths=(district.path,))
                )
                .select_related("grid")
                .order_by("pk")[:per_district]
            )
            for i, person in enumerate(people):
                category, days_back, basis = _MIX[i % len(_MIX)]
                order = services.order_issue(
                    actor=actor,
                    person=person,
                    category=category,
                    anchor=today - dt.timedelta(days=days_back),
                    basis_type=basis,
                    basis_id=f"demo-{basis}-{person.pk}",
                    reason=f"demo: {category.value.replace('_', ' ')}",
                )
                if order.absorbed or order.status != Status.ISSUED:
                    continue
                issued += 1
                if i % 3 != 2:
                    services.order_change_status(
                        actor=actor,
                        order=order,
                        to_status=Status.IN_EFFECT,
                        reason="demo: measure in place",
                        basis_type="report",
                        basis_id=f"demo-visit-{person.pk}",
                    )
                    in_effect += 1
                    recorded += _record_past_tests(actor, order, today, sampled)
            if people:
                pending += _pending_request(actor, people[-1])
    return DemoOrders(issued, in_effect, recorded, pending)


def _record_past_tests(
    actor: Actor, order: ControlOrder, today: dt.date, sampled: dt.datetime
) -> int:
    count = 0
    for test in ScheduledTest.objects.filter(
        order=order, status=SampleStatus.PENDING, due_on__lt=today
    ).order_by("due_on"):
        services.scheduled_test_record(
            actor=actor,
            test=test,
            result=SampleStatus.NEGATIVE,
            sampled_at=min(sampled, clock.local_midnight(test.due_on) + dt.timedelta(hours=9)),
            result_ref=f"demo-tube-{test.pk}",
        )
        count += 1
    return count


def _pending_request(actor: Actor, person: Person) -> int:
    """A manual change (no basis) on the person's active order: it waits in the queue."""
    order = ControlOrder.objects.filter(
        person=person, status__in=[Status.ISSUED, Status.IN_EFFECT]
    ).first()
    if order is None or ChangeRequest.objects.filter(order=order, status="pending").exists():
        return 0
    result = services.order_change_status(
        actor=actor,
        order=order,
        to_status=Status.CANCELLED,
        reason="demo: resident says the exposure was a mistake (hotline)",
        basis_type="manual",
        basis_id="",
    )
    return 1 if result.request is not None else 0
