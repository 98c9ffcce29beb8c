"""Issuing control orders: plan, supersession or absorption, tests, grid work, notice."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ScheduledTest,
)
from fangkong.control.rules import BasisType, Status, Supersession
from fangkong.control.services._common import (
    ORDER_NOTIFY_JOB,
    _active_facts,
    _actor_key,
    _close_work,
    _create_work,
    _event,
    _in_scope,
    _iso,
    _issue_checks,
    _locked_active,
    _order_detail,
    refresh_control_status,
)
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.jobs.services import enqueue
from fangkong.people.models import Person
from fangkong.places.models import Room
from fangkong.policy.rules import day_one, plan_for
from fangkong.policy.schema import Category
from fangkong.policy.selectors import BookInForce, rulebook_in_force

# --- issue -----------------------------------------------------------------------------------


@transaction.atomic
def order_issue(
    *,
    actor: Actor,
    person: Person,
    category: Category | str,
    anchor: dt.date,
    basis_type: str,
    basis_id: object,
    reason: str,
    start: dt.date | None = None,
    room: Room | None = None,
    basis_note: str = "",
    replace_stricter: bool = False,
) -> ControlOrder:
    """Put a person under the measures of their category, as the rulebook in force plans them.

    Returns the new order (status `issued`); the order pending approval when the change needs
    a second person (no basis, or replacing a stricter order with `replace_stricter`); or the
    person's existing active order when that one is as strict or stricter ("absorbed": nothing
    is downgraded silently). A stricter new order supersedes the weaker active one.
    Raises NotFound outside the actor's scope, Invalid for a bad category, basis or room.
    """
    category, reason, kind, ref = _issue_checks(
        actor,
        [person],
        category=category,
        reason=reason,
        basis_type=basis_type,
        basis_id=basis_id,
    )
    in_force = rulebook_in_force()
    today = clock.local_date()
    # Nobody is put under a measure in the past: a late order starts today, with a test today
    # in place of the test days already gone (policy.rules.plan_for).
    start = start or max(day_one(in_force.book, category, anchor), today)
    plan = plan_for(in_force.book, category, anchor=anchor, start=start)
    if not plan.phases:
        raise Invalid(
            "control.plan_over",
            "Counted from that date, the measure is already over",
            field="anchor",
            release_on=_iso(plan.release_on),
        )
    place = rules.place_kind(plan.measure)
    if room is not None:
        if place != "facility":
            raise Invalid(
                "control.room_not_needed",
                "Only centralized quarantine takes a facility room",
                field="room",
            )
        _in_scope(actor, room.jurisdiction_path, "place.room_not_found")

    active = _locked_active(person.pk)
    decision, absorber_id = rules.supersession(
        in_force.book,
        new_phases=plan.phases,
        new_release_on=plan.release_on,
        active=_active_facts(active),
        today=today,
        replace_stricter=replace_stricter,
    )
    if decision == Supersession.ABSORB:
        absorber = next(o for o in active if o.pk == absorber_id)
        return _absorb(actor, absorber, category=category, basis=(kind, ref), reason=reason)

    now = clock.now()
    order = ControlOrder.objects.create(
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        category=category.value,
        measure=plan.measure.value,
        phases=rules.phases_to_json(plan),
        basis_type=kind.value,
        basis_id=ref,
        basis_note=(basis_note or "").strip()[:500],
        policy_version=in_force.version,
        edition=plan.edition,
        anchor_date=anchor,
        start_date=plan.phases[0].first_day,
        release_on=plan.release_on,
        place_kind=place,
        room=room,
        status=Status.PENDING_APPROVAL,
        reason=reason,
        created_by=actor.label[:150],
        created_at=now,
        updated_at=now,
    )
    needs = rules.approval_reasons(
        in_force.book, basis_type=kind, downgrade=decision == Supersession.DOWNGRADE
    )
    if needs:
        request = ChangeRequest.objects.create(
            kind=(
                ChangeRequest.Kind.DOWNGRADE_ISSUE
                if decision == Supersession.DOWNGRADE
                else ChangeRequest.Kind.MANUAL_ISSUE
            ),
            jurisdiction_path=order.jurisdiction_path,
            order=order,
            payload={"replace_stricter": replace_stricter},
            approval_reasons=needs,
            reason=reason,
            requested_by_key=_actor_key(actor),
            requested_by_label=actor.label[:150],
            created_at=now,
        )
        _event(
            order,
            action="requested",
            actor=actor,
            reason=reason,
            to_status=Status.PENDING_APPROVAL,
            basis_type=kind,
            basis_id=ref,
            policy_version=in_force.version,
            approval=request,
        )
        record(
            actor=actor,
            action="control.order_request",
            target=order,
            reason=reason,
            detail=_order_detail(order) | {"change_request": request.pk, "needs": needs},
        )
        return order
    return _activate(actor, order, in_force=in_force, active=active, approval=None)


def _absorb(
    actor: Actor,
    order: ControlOrder,
    *,
    category: Category,
    basis: tuple[BasisType, str],
    reason: str,
) -> ControlOrder:
    text = f"{category.value}: {reason}"
    _event(
        order,
        action="absorbed",
        actor=actor,
        reason=text,
        basis_type=basis[0],
        basis_id=basis[1],
    )
    record(
        actor=actor,
        action="control.order_absorb",
        target=order,
        reason=reason,
        detail={"category": category.value, "basis_type": basis[0], "basis_id": basis[1]},
    )
    order.absorbed = True
    return order


def _activate(
    actor: Actor,
    order: ControlOrder,
    *,
    in_force: BookInForce,
    active: list[ControlOrder],
    approval: ChangeRequest | None,
) -> ControlOrder:
    """Turn a planned order (pending_approval) into an issued one: supersede, schedule the
    tests, create the grid's duty, notify. The caller holds the person's lock."""
    now = clock.now()
    superseded: list[int] = []
    for old in active:
        old_status = old.status
        old.status, old.superseded_by, old.updated_at = Status.SUPERSEDED, order, now
        old.save(update_fields=["status", "superseded_by", "updated_at"])
        text = f"superseded by order {order.pk} ({order.measure})"
        _event(
            old,
            action="superseded",
            actor=actor,
            reason=text,
            from_status=old_status,
            to_status=Status.SUPERSEDED,
            basis_type=order.basis_type,
            basis_id=order.basis_id,
            policy_version=in_force.version,
            approval=approval,
        )
        record(
            actor=actor,
            action="control.order_supersede",
            target=old,
            reason=text,
            detail={"superseded_by": order.pk},
        )
        _close_work(actor, old, Status.SUPERSEDED)
        superseded.append(old.pk)

    order.status, order.updated_at = Status.ISSUED, now
    order.save(update_fields=["status", "updated_at"])
    phases = rules.phases_from_json(order.phases)
    dates = sorted({d for p in phases for d in p.test_dates})
    ScheduledTest.objects.bulk_create(
        [
            ScheduledTest(order=order, jurisdiction_path=order.jurisdiction_path, due_on=d)
            for d in dates
        ]
    )
    _event(
        order,
        action="issued",
        actor=actor,
        reason=order.reason,
        from_status=Status.PENDING_APPROVAL if approval else "",
        to_status=Status.ISSUED,
        basis_type=order.basis_type,
        basis_id=order.basis_id,
        policy_version=in_force.version,
        approval=approval,
    )
    record(
        actor=actor,
        action="control.order_issue",
        target=order,
        reason=order.reason,
        detail=_order_detail(order)
        | {"superseded": superseded, "change_request": approval.pk if approval else None},
    )
    person = Person.objects.select_related("grid").get(pk=order.person_id)
    if not _create_work(actor, order, person, dedupe_key=f"control.order:{order.pk}"):
        enqueue(
            name=ORDER_NOTIFY_JOB,
            payload={"order_id": order.pk},
            dedupe_key=f"{ORDER_NOTIFY_JOB}:{order.pk}",
        )
    refresh_control_status(person_id=order.person_id, in_force=in_force)
    return order
