"""Issuing one kind of order to many persons at once (a positive pool's members): what
`order_issue` does for each, with a few statements for the whole batch."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import ControlOrder, OrderEvent, ScheduledTest
from fangkong.control.rules import Status, Supersession
from fangkong.control.services._common import (
    ORDER_NOTIFY_JOB,
    REASON_MAX,
    _active_facts,
    _iso,
    _issue_checks,
    _order_detail,
    _work_item,
    refresh_control_statuses,
)
from fangkong.control.services.issue import _absorb, order_issue
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.jobs.services import enqueue
from fangkong.people.models import Person
from fangkong.policy.rules import day_one, plan_for
from fangkong.policy.schema import Category
from fangkong.policy.selectors import BookInForce, rulebook_in_force


@transaction.atomic
def orders_issue_many(
    *,
    actor: Actor,
    persons: Sequence[Person],
    category: Category | str,
    anchor: dt.date,
    basis_type: str,
    basis_id: object,
    reason: str,
) -> list[ControlOrder]:
    """`order_issue` for each person, with one category, anchor, basis and reason; returns
    one order per person, in the same order.

    Each person ends up exactly as `order_issue` would leave them: a new issued order (its
    tests, event, audit row, grid duty and health-code status), or their active order that
    absorbs it (`absorbed`, its event and audit row). The rarer cases go through
    `order_issue` itself, person by person: a weaker active order to supersede, a change that
    needs a second person's approval (a manual basis), a person listed twice. Each order is
    its own change with its own basis, not a bulk change of the rulebook's threshold.
    Raises like `order_issue`, before anything is written.
    """
    category, reason, kind, ref = _issue_checks(
        actor,
        persons,
        category=category,
        reason=reason,
        basis_type=basis_type,
        basis_id=basis_id,
    )
    in_force = rulebook_in_force()
    ids = [p.pk for p in persons]
    if len(set(ids)) != len(ids) or rules.approval_reasons(in_force.book, basis_type=kind):

        def one(person: Person) -> ControlOrder:
            return order_issue(
                actor=actor,
                person=person,
                category=category,
                anchor=anchor,
                basis_type=kind,
                basis_id=ref,
                reason=reason,
            )

        return [one(p) for p in persons]

    today = clock.local_date()
    start = max(day_one(in_force.book, category, anchor), today)  # as in order_issue
    plan = plan_for(in_force.book, category, anchor=anchor, start=start)
    if not plan.phases:
        raise Invalid(
            "control.plan_over",
            "Counted from that date, the measure is already over",
            field="anchor",
            release_on=_iso(plan.release_on),
        )
    active = _locked_active_many(ids)
    now = clock.now()
    results: dict[int, ControlOrder] = {}
    fresh: list[ControlOrder] = []
    supersede: list[Person] = []
    for person in persons:
        decision, absorber_id = rules.supersession(
            in_force.book,
            new_phases=plan.phases,
            new_release_on=plan.release_on,
            active=_active_facts(active[person.pk]),
            today=today,
        )
        if decision == Supersession.ABSORB:
            absorber = next(o for o in active[person.pk] if o.pk == absorber_id)
            results[person.pk] = _absorb(
                actor, absorber, category=category, basis=(kind, ref), reason=reason
            )
        elif decision == Supersession.SUPERSEDE:
            supersede.append(person)
        else:
            fresh.append(
                ControlOrder(
                    person=person,
                    jurisdiction_path=person.jurisdiction_path,
                    category=category.value,
                    measure=plan.measure.value,
                    phases=rules.phases_to_json(plan),
                    basis_type=kind.value,
                    basis_id=ref,
                    basis_note="",
                    policy_version=in_force.version,
                    edition=plan.edition,
                    anchor_date=anchor,
                    start_date=plan.phases[0].first_day,
                    release_on=plan.release_on,
                    place_kind=rules.place_kind(plan.measure),
                    room=None,
                    # Planned and issued in one step: nothing to supersede, no approval.
                    status=Status.ISSUED,
                    reason=reason,
                    created_by=actor.label[:150],
                    created_at=now,
                    updated_at=now,
                )
            )
    if fresh:
        ControlOrder.objects.bulk_create(fresh)
        _activate_many(actor, fresh, in_force=in_force, at=now)
        results |= {o.person_id: o for o in fresh}
    for person in supersede:  # the active order's work is closed, its status changed: one by one
        results[person.pk] = order_issue(
            actor=actor,
            person=person,
            category=category,
            anchor=anchor,
            basis_type=kind,
            basis_id=ref,
            reason=reason,
        )
    return [results[p.pk] for p in persons]


def _locked_active_many(person_ids: list[int]) -> dict[int, list[ControlOrder]]:
    """`_locked_active` for many persons: the persons locked in key order (two batches that
    share persons cannot deadlock), then their active orders."""
    ids = sorted(person_ids)
    list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    active: dict[int, list[ControlOrder]] = defaultdict(list)
    for o in (
        ControlOrder.objects.select_for_update()
        .filter(person_id__in=ids, status__in=rules.ACTIVE)
        .order_by("pk")
    ):
        active[o.person_id].append(o)
    return active


def _activate_many(
    actor: Actor, orders: list[ControlOrder], *, in_force: BookInForce, at: dt.datetime
) -> None:
    """`_activate` for new orders of persons who had no active order: tests, events, audit
    rows, the grids' duties (or the order notice), the health-code statuses."""
    tests = []
    for order in orders:
        phases = rules.phases_from_json(order.phases)
        dates = sorted({d for p in phases for d in p.test_dates})
        tests += [
            ScheduledTest(order=order, jurisdiction_path=order.jurisdiction_path, due_on=d)
            for d in dates
        ]
    ScheduledTest.objects.bulk_create(tests)
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=o,
                action="issued",
                from_status="",
                to_status=Status.ISSUED,
                reason=o.reason[:REASON_MAX],
                basis_type=o.basis_type,
                basis_id=o.basis_id,
                policy_version=in_force.version,
                actor_label=actor.label[:150],
                approval=None,
                at=at,
            )
            for o in orders
        ]
    )
    for order in orders:
        record(
            actor=actor,
            action="control.order_issue",
            target=order,
            reason=order.reason,
            detail=_order_detail(order) | {"superseded": [], "change_request": None},
        )
    persons = Person.objects.select_related("grid").in_bulk([o.person_id for o in orders])
    work = []
    for order in orders:
        item = _work_item(order, persons[order.person_id], dedupe_key=f"control.order:{order.pk}")
        if item is None:
            enqueue(
                name=ORDER_NOTIFY_JOB,
                payload={"order_id": order.pk},
                dedupe_key=f"{ORDER_NOTIFY_JOB}:{order.pk}",
            )
        else:
            work.append(item)
    assignments.assignments_create_many(actor=actor, items=work)
    refresh_control_statuses(person_ids=[o.person_id for o in orders], in_force=in_force)
