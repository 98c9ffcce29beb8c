"""Reads of control orders. Every selector takes the caller's scope first; a row outside it is
reported exactly like a missing one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from fangkong.control import rules
from fangkong.control.models import ChangeRequest, ControlOrder, OrderEvent, ScheduledTest
from fangkong.control.rules import SampleStatus
from fangkong.core import clock
from fangkong.core.errors import Invalid, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope, within
from fangkong.people.models import Person
from fangkong.places.models import Room
from fangkong.policy.rules import code_colour
from fangkong.policy.schema import CodeColour, Measure
from fangkong.policy.selectors import rulebook_in_force

PAGE_SIZE = 50
MAX_LIMIT = 200


def _check(scope: Scope) -> None:
    if Perm.CONTROL_VIEW not in scope.perms:
        raise NotAllowed(
            "permission_denied", "Missing permission control.view", perm="control.view"
        )


def _orders(scope: Scope) -> QuerySet[ControlOrder]:
    _check(scope)
    return within(ControlOrder.objects.all(), scope)


def _with_tests(qs: QuerySet[ControlOrder]) -> QuerySet[ControlOrder]:
    return qs.prefetch_related(
        Prefetch("tests", queryset=ScheduledTest.objects.order_by("due_on", "pk"))
    )


def order_get(*, scope: Scope, order_id: int) -> ControlOrder:
    """One order with its person and tests. Raises NotFound when missing or outside the scope."""
    order = (
        _with_tests(_orders(scope))
        .select_related("person", "person__grid", "person__household", "room", "room__facility")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("control.order_not_found", "Order not found")
    return order


BULK_MAX = 1000


def orders_get_many(*, scope: Scope, order_ids: list[int]) -> list[ControlOrder]:
    """Orders by id, for a bulk change. Raises NotFound if any is missing or outside the
    scope (naming none of them), Invalid over BULK_MAX ids."""
    wanted = set(order_ids)
    if len(wanted) > BULK_MAX:
        raise Invalid("control.bulk_too_large", f"At most {BULK_MAX} orders at once")
    orders = list(_orders(scope).filter(pk__in=wanted).order_by("pk"))
    if len(orders) != len(wanted):
        raise NotFound("control.order_not_found", "Order not found")
    return orders


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[ControlOrder]
    next_after: int | None  # pass as `after` for the next page; None on the last page


def order_list(
    *,
    scope: Scope,
    status: str | None = None,
    measure: str | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
    with_tests: bool = False,
) -> OrderPage:
    """Orders newest first, one keyset page (no COUNT, no OFFSET). `status="active"` means
    issued or in effect; `with_tests` prefetches the scheduled tests (one more query)."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = _orders(scope).select_related("person", "person__grid", "person__household")
    if with_tests:
        qs = _with_tests(qs)
    if status == "active":
        qs = qs.filter(status__in=rules.ACTIVE)
    elif status:
        qs = qs.filter(status=status)
    if measure:
        qs = qs.filter(measure=measure)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.order_by("-pk")[: limit + 1])
    items = rows[:limit]
    return OrderPage(items=items, next_after=items[-1].pk if len(rows) > limit else None)


def _person(scope: Scope, person_id: int) -> Person:
    _check(scope)
    person = (
        within(Person.objects.select_related("grid", "household"), scope)
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise NotFound("person.not_found", "Person not found")
    return person


def control_person_get(*, scope: Scope, person_id: int) -> Person:
    """The person a control page is about. Raises NotFound when missing or outside the scope."""
    return _person(scope, person_id)


def orders_of_person(*, scope: Scope, person_id: int, limit: int = 50) -> list[ControlOrder]:
    """A person's orders (any status), newest first, with their tests."""
    _person(scope, person_id)
    qs = _with_tests(_orders(scope).filter(person_id=person_id)).select_related("room")
    return list(qs.order_by("-pk")[:limit])


def order_events(*, scope: Scope, order: ControlOrder) -> list[OrderEvent]:
    """An order's history, oldest first."""
    _check(scope)
    if not scope.covers(order.jurisdiction_path):
        raise NotFound("control.order_not_found", "Order not found")
    return list(OrderEvent.objects.filter(order=order).order_by("at", "pk"))


def person_events(*, scope: Scope, person_id: int, limit: int = 200) -> list[OrderEvent]:
    """The trail of every order of a person in scope, newest first."""
    _person(scope, person_id)
    qs = OrderEvent.objects.filter(order__in=_orders(scope).filter(person_id=person_id))
    return list(qs.select_related("order").order_by("-at", "-pk")[:limit])


@dataclass(frozen=True, slots=True)
class CodeReason:
    order_id: int
    measure: str
    basis_type: str
    basis_id: str
    until: dt.date | None


@dataclass(frozen=True, slots=True)
class HealthCode:
    colour: CodeColour
    reasons: list[CodeReason]


def health_code(*, scope: Scope, person_id: int) -> HealthCode:
    """A person's health-code colour derived from their active orders, with the orders that
    make it (green with no reasons when none)."""
    _person(scope, person_id)
    return _code_of(person_id)


def _code_of(person_id: int) -> HealthCode:
    active = list(
        ControlOrder.objects.filter(person_id=person_id, status__in=rules.ACTIVE).order_by("pk")
    )
    if not active:
        return HealthCode(CodeColour.GREEN, [])
    today = clock.local_date()
    book = rulebook_in_force().book
    reasons = []
    for order in active:
        measure = rules.measure_on(rules.phases_from_json(order.phases), today)
        reasons.append(
            CodeReason(order.pk, measure.value, order.basis_type, order.basis_id, order.release_on)
        )
    colour = code_colour(book, [Measure(r.measure) for r in reasons])
    return HealthCode(colour, reasons)


@dataclass(frozen=True, slots=True)
class PersonControl:
    person: Person
    code: HealthCode
    orders: list[ControlOrder]
    events: list[OrderEvent]


def person_control(*, scope: Scope, person_id: int, limit: int = 50) -> PersonControl:
    """Everything the person control page shows, loading the person once: the health code
    with its reasons, the orders with their tests, and the trail (newest first)."""
    person = _person(scope, person_id)
    orders = list(
        _with_tests(_orders(scope).filter(person_id=person_id))
        .select_related("room")
        .order_by("-pk")[:limit]
    )
    # The colour counts every active order of the person, also one issued elsewhere before
    # the person moved here: hence no reuse of the scoped `orders`.
    code = _code_of(person_id)
    events = list(
        OrderEvent.objects.filter(order_id__in=[o.pk for o in orders]).order_by("-at", "-pk")[
            : limit * 4
        ]
    )
    return PersonControl(person, code, orders, events)


def _requests(scope: Scope) -> QuerySet[ChangeRequest]:
    _check(scope)
    return within(ChangeRequest.objects.all(), scope)


def change_requests_pending(*, scope: Scope, limit: int = 100) -> list[ChangeRequest]:
    """Requests waiting for a second person, oldest first. Only requests whose whole extent
    lies in the scope are shown (a bulk request over two districts is for the city)."""
    qs = _requests(scope).filter(status=ChangeRequest.State.PENDING).select_related("order")
    return list(qs.order_by("created_at", "pk")[:limit])


def change_request_get(*, scope: Scope, request_id: int) -> ChangeRequest:
    """Raises NotFound when missing or outside the scope."""
    request = _requests(scope).select_related("order").filter(pk=request_id).first()
    if request is None:
        raise NotFound("control.request_not_found", "Change request not found")
    return request


def scheduled_test_get(*, scope: Scope, test_id: int) -> ScheduledTest:
    """Raises NotFound when missing or outside the scope."""
    _check(scope)
    test = within(ScheduledTest.objects.select_related("order"), scope).filter(pk=test_id).first()
    if test is None:
        raise NotFound("control.test_not_found", "Scheduled test not found")
    return test


def tests_due(*, scope: Scope, day: dt.date, limit: int = 200) -> list[ScheduledTest]:  # noqa: PT028
    """Pending tests of active orders due on `day` (and overdue pending ones), by day."""
    _check(scope)
    qs = within(ScheduledTest.objects.all(), scope).filter(
        due_on__lte=day, status=SampleStatus.PENDING, order__status__in=rules.ACTIVE
    )
    qs = qs.select_related(
        "order", "order__person", "order__person__grid", "order__person__household"
    )
    return list(qs.order_by("due_on", "pk")[:limit])


def room_for_order(*, scope: Scope, room_id: int) -> Room:
    """A quarantine room the caller may place a person in. Raises NotFound otherwise."""
    _check(scope)
    room = within(Room.objects.select_related("facility"), scope).filter(pk=room_id).first()
    if room is None:
        raise NotFound("place.room_not_found", "Room not found")
    return room
