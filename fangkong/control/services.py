"""Every change to a person's control status: issue, status change, release, tests, approval.

Each function checks the actor's permission and scope, runs in one transaction, writes the
order's event and an audit row in it, and enqueues its jobs in it (the jobs table is an
outbox: a rolled-back change leaves no job). A change without a documentary basis, a bulk
change over the rulebook's threshold, or replacing a stricter order by a weaker one becomes a
ChangeRequest that a second authorised person decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ControlStatus,
    OrderEvent,
    ScheduledTest,
)
from fangkong.control.rules import BasisType, SampleStatus, Status, Supersession
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.jobs.services import enqueue
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people.models import Person
from fangkong.places.models import Room
from fangkong.policy.rules import code_colour, day_one, plan_for
from fangkong.policy.schema import Category, CodeColour, Measure
from fangkong.policy.selectors import BookInForce, rulebook_in_force

REASON_MAX = 500
SUBJECT_TYPE = "control.order"
ORDER_NOTIFY_JOB = "control.order_notify"
POSITIVE_NOTIFY_JOB = "control.test_positive_notify"


# --- small helpers ---------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid("control.reason_required", "A reason is required", field="reason")
    if len(text) > REASON_MAX:
        raise Invalid("control.reason_too_long", "The reason is too long", field="reason")
    return text


def _clean_basis(basis_type: str, basis_id: object) -> tuple[BasisType, str]:
    try:
        kind = BasisType(basis_type)
    except ValueError as exc:
        raise Invalid(
            "control.basis_type", f"Unknown basis type {basis_type!r}", field="basis_type"
        ) from exc
    ref = "" if basis_id is None else str(basis_id).strip()
    if kind != BasisType.MANUAL and not ref:
        # A basis is the case, contact, arrival, test or report that justifies the change.
        raise Invalid(
            "control.basis_required", "Name the record that justifies this", field="basis_id"
        )
    if len(ref) > 64:
        raise Invalid("control.basis_id", "The basis reference is too long", field="basis_id")
    return kind, ref


def _actor_key(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


def _in_scope(actor: Actor, path: str, code: str = "control.order_not_found") -> None:
    # "Not yours" looks exactly like "missing".
    if not actor.scope.covers(path):
        raise NotFound(code, "Not found")


def _event(
    order: ControlOrder,
    *,
    action: str,
    actor: Actor,
    reason: str,
    from_status: str = "",
    to_status: str = "",
    basis_type: str = "",
    basis_id: str = "",
    policy_version: int | None = None,
    approval: ChangeRequest | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:REASON_MAX],
        basis_type=basis_type,
        basis_id=basis_id,
        policy_version=policy_version,
        actor_label=actor.label[:150],
        approval=approval,
        at=clock.now(),
    )


def _active_facts(orders: Sequence[ControlOrder]) -> list[rules.ActiveFact]:
    return [rules.ActiveFact(o.pk, rules.phases_from_json(o.phases), o.release_on) for o in orders]


def _locked_active(person_id: int) -> list[ControlOrder]:
    # Lock the person first: two issues for one person serialize here (PostgreSQL); SQLite
    # serializes all writers anyway.
    list(Person.objects.select_for_update().filter(pk=person_id).values_list("pk"))
    return list(
        ControlOrder.objects.select_for_update()
        .filter(person_id=person_id, status__in=rules.ACTIVE)
        .order_by("pk")
    )


def refresh_control_status(*, person_id: int, in_force: BookInForce | None = None) -> CodeColour:
    """Recompute the denormalised ControlStatus row of a person from their active orders."""
    today = clock.local_date()
    active = list(
        ControlOrder.objects.filter(person_id=person_id, status__in=rules.ACTIVE).order_by("pk")
    )
    if not active:
        # No row for persons without control: a merge of two such persons cannot collide.
        ControlStatus.objects.filter(person_id=person_id).delete()
        return CodeColour.GREEN
    book = (in_force or rulebook_in_force()).book
    measures = [rules.measure_on(rules.phases_from_json(o.phases), today) for o in active]
    colour = code_colour(book, measures)
    governing = max(active, key=lambda o: book.measures[Measure(o.measure)].strictness)
    ControlStatus.objects.update_or_create(
        person_id=person_id,
        defaults={
            "jurisdiction_path": governing.jurisdiction_path,
            "colour": colour.value,
            "order": governing,
            "updated_at": clock.now(),
        },
    )
    return colour


def _grid_of(person: Person) -> Jurisdiction:
    if person.grid is not None:
        return person.grid
    code = person.jurisdiction_path.rstrip("/").rsplit("/", 1)[-1]
    return jurisdiction_get(scope=Scope.system(), code=code)


def _close_work(actor: Actor, order: ControlOrder, outcome: str) -> None:
    assignments.assignments_close_for_subject(
        actor=actor, subject_type=SUBJECT_TYPE, subject_id=order.pk, outcome=outcome
    )


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
    require(actor, Perm.CONTROL_ISSUE)
    _in_scope(actor, person.jurisdiction_path, "person.not_found")
    if person.merged_into_id is not None:
        raise Conflict("control.person_merged", "This record was merged into another person")
    reason = _clean_reason(reason)
    kind, ref = _clean_basis(basis_type, basis_id)
    try:
        category = Category(category)
    except ValueError as exc:
        raise Invalid("control.category", "Unknown category", field="category") from exc
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


def _order_detail(order: ControlOrder) -> dict[str, Any]:
    return {
        "person_id": order.person_id,
        "category": order.category,
        "measure": order.measure,
        "basis_type": order.basis_type,
        "basis_id": order.basis_id,
        "policy_version": order.policy_version,
        "edition": order.edition,
        "release_on": order.release_on.isoformat() if order.release_on else None,
    }


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
    category = Category(order.category)
    duty = rules.DUTY_OF_CATEGORY.get(category)
    if duty is not None:
        # The assignment notifies the grid's post holder itself: no second message from here.
        until = _iso(order.release_on) or "open-ended"
        assignments.assignment_create(
            actor=actor,
            kind=duty.value,
            jurisdiction=_grid_of(person),
            title=f"{category.value.replace('_', ' ')}: {order.measure.replace('_', ' ')} "
            f"from {order.start_date.isoformat()} until {until} (order {order.pk})",
            subject_type=SUBJECT_TYPE,
            subject_id=order.pk,
            person_id=person.pk,
            duty=duty,
            dedupe_key=f"control.order:{order.pk}",
            detail={"measure": order.measure, "release_on": _iso(order.release_on)},
        )
    else:
        enqueue(
            name=ORDER_NOTIFY_JOB,
            payload={"order_id": order.pk},
            dedupe_key=f"{ORDER_NOTIFY_JOB}:{order.pk}",
        )
    refresh_control_status(person_id=order.person_id, in_force=in_force)
    return order


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# --- status changes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChange:
    order: ControlOrder
    request: ChangeRequest | None  # set when the change waits for a second person


def _check_target(order: ControlOrder, to_status: str) -> Status:
    try:
        target = Status(to_status)
    except ValueError as exc:
        raise Invalid("control.status", "Unknown status", field="to_status") from exc
    if target not in rules.MANUAL_TARGETS:
        raise Invalid("control.status_not_settable", "This status cannot be set by hand")
    if order.status == Status.PENDING_APPROVAL:
        # A pending order is decided through its change request, not around it.
        raise Conflict(
            "control.pending_approval",
            "This order waits for approval; decide its change request instead",
            order_id=order.pk,
        )
    if not rules.can_transition(order.status, target):
        raise Conflict(
            "control.transition",
            f"An order that is {order.status} cannot become {target}",
            order_id=order.pk,
            from_status=order.status,
            to_status=target.value,
        )
    return target


def _blockers(order: ControlOrder) -> list[rules.Blocker]:
    facts = [
        rules.SampleFact(t.pk, t.due_on, t.status)
        for t in ScheduledTest.objects.filter(order=order).only("pk", "due_on", "status")
    ]
    return rules.release_blockers(facts, release_on=order.release_on, today=clock.local_date())


def _apply_status(
    actor: Actor,
    order: ControlOrder,
    *,
    target: Status,
    reason: str,
    basis: tuple[str, str],
    approval: ChangeRequest | None,
) -> ControlOrder:
    order = ControlOrder.objects.select_for_update().get(pk=order.pk)
    if not rules.can_transition(order.status, target):
        raise Conflict(
            "control.transition",
            f"An order that is {order.status} cannot become {target}",
            order_id=order.pk,
        )
    if target == Status.RELEASED and (blockers := _blockers(order)):
        raise Conflict(
            "control.release_blocked",
            "The order cannot be released yet",
            order_id=order.pk,
            blockers=[b.as_dict() for b in blockers],
        )
    previous, now = order.status, clock.now()
    order.status, order.updated_at = target, now
    fields = ["status", "updated_at"]
    if target == Status.RELEASED:
        order.released_at = now
        fields.append("released_at")
    order.save(update_fields=fields)
    in_force = rulebook_in_force()
    _event(
        order,
        action="status",
        actor=actor,
        reason=reason,
        from_status=previous,
        to_status=target,
        basis_type=basis[0],
        basis_id=basis[1],
        policy_version=in_force.version,
        approval=approval,
    )
    record(
        actor=actor,
        action="control.order_release" if target == Status.RELEASED else "control.order_status",
        target=order,
        reason=reason,
        detail={
            "from": previous,
            "to": target.value,
            "basis_type": basis[0],
            "basis_id": basis[1],
            "policy_version": in_force.version,
            "change_request": approval.pk if approval else None,
        },
    )
    if target in rules.FINAL:
        _close_work(actor, order, target.value)
    refresh_control_status(person_id=order.person_id, in_force=in_force)
    return order


@transaction.atomic
def order_change_status(
    *,
    actor: Actor,
    order: ControlOrder,
    to_status: str,
    reason: str,
    basis_type: str,
    basis_id: object,
) -> StatusChange:
    """Change an order's status with a reason and a basis. Without a basis (manual) the change
    waits for a second person: the result carries the pending request and the order unchanged.
    Raises Conflict for a transition the state machine forbids or a blocked release."""
    require(actor, Perm.CONTROL_CHANGE)
    _in_scope(actor, order.jurisdiction_path)
    reason = _clean_reason(reason)
    kind, ref = _clean_basis(basis_type, basis_id)
    target = _check_target(order, to_status)
    in_force = rulebook_in_force()
    needs = rules.approval_reasons(in_force.book, basis_type=kind)
    if needs:
        request = _request(
            actor,
            kind=ChangeRequest.Kind.STATUS_CHANGE,
            path=order.jurisdiction_path,
            order=order,
            payload={"to_status": target.value, "basis_type": kind.value, "basis_id": ref},
            needs=needs,
            reason=reason,
        )
        return StatusChange(order, request)
    changed = _apply_status(
        actor, order, target=target, reason=reason, basis=(kind, ref), approval=None
    )
    return StatusChange(changed, None)


def _request(
    actor: Actor,
    *,
    kind: str,
    path: str,
    order: ControlOrder | None,
    payload: dict[str, Any],
    needs: list[str],
    reason: str,
) -> ChangeRequest:
    request = ChangeRequest.objects.create(
        kind=kind,
        jurisdiction_path=path,
        order=order,
        payload=payload,
        approval_reasons=needs,
        reason=reason,
        requested_by_key=_actor_key(actor),
        requested_by_label=actor.label[:150],
        created_at=clock.now(),
    )
    record(
        actor=actor,
        action="control.change_request",
        target=request,
        reason=reason,
        detail={"kind": kind, "needs": needs, **payload},
    )
    return request


@transaction.atomic
def order_release(
    *, actor: Actor, order: ControlOrder, reason: str, basis_id: object = ""
) -> ControlOrder:
    """Release an order whose scheduled tests are all negative, on or after its release date.

    The basis is the order's last negative test unless `basis_id` names another record.
    Raises Conflict("control.release_blocked", blockers=[...]) otherwise.
    """
    require(actor, Perm.CONTROL_CHANGE)
    _in_scope(actor, order.jurisdiction_path)
    reason = _clean_reason(reason)
    target = _check_target(order, Status.RELEASED)
    ref = str(basis_id or "").strip()
    if not ref:
        last = (
            ScheduledTest.objects.filter(order=order, status=SampleStatus.NEGATIVE)
            .order_by("-due_on")
            .first()
        )
        ref = (last.result_ref or f"scheduled-test:{last.pk}") if last else f"order:{order.pk}"
    return _apply_status(
        actor, order, target=target, reason=reason, basis=(BasisType.TEST, ref[:64]), approval=None
    )


@dataclass(frozen=True, slots=True)
class BulkChange:
    applied: list[ControlOrder]
    request: ChangeRequest | None


@transaction.atomic
def orders_bulk_change(
    *,
    actor: Actor,
    orders: Sequence[ControlOrder],
    to_status: str,
    reason: str,
    basis_type: str,
    basis_id: object,
) -> BulkChange:
    """Change many orders at once. Over the rulebook's bulk threshold, or without a basis, the
    change waits for a second person (one request for all). All or nothing."""
    require(actor, Perm.CONTROL_CHANGE)
    if not orders:
        raise Invalid("control.bulk_empty", "Choose at least one order")
    for order in orders:
        _in_scope(actor, order.jurisdiction_path)
    reason = _clean_reason(reason)
    kind, ref = _clean_basis(basis_type, basis_id)
    target = Status.IN_EFFECT
    for order in orders:
        target = _check_target(order, to_status)
    in_force = rulebook_in_force()
    needs = rules.approval_reasons(in_force.book, basis_type=kind, count=len(orders))
    if needs:
        request = _request(
            actor,
            kind=ChangeRequest.Kind.BULK_STATUS_CHANGE,
            path=rules.common_path(o.jurisdiction_path for o in orders),
            order=None,
            payload={
                "order_ids": sorted(o.pk for o in orders),
                "to_status": target.value,
                "basis_type": kind.value,
                "basis_id": ref,
            },
            needs=needs,
            reason=reason,
        )
        return BulkChange([], request)
    applied = [
        _apply_status(actor, o, target=target, reason=reason, basis=(kind, ref), approval=None)
        for o in orders
    ]
    return BulkChange(applied, None)


# --- approval --------------------------------------------------------------------------------


@transaction.atomic
def change_request_decide(
    *, actor: Actor, request: ChangeRequest, approve: bool, reason: str
) -> ChangeRequest:
    """A second authorised person approves (the change is applied now) or rejects a request.

    Raises NotAllowed for the requester themself, Conflict when already decided or when the
    change can no longer be applied (the orders moved on meanwhile).
    """
    require(actor, Perm.CONTROL_APPROVE)
    _in_scope(actor, request.jurisdiction_path, "control.request_not_found")
    reason = _clean_reason(reason)
    request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ChangeRequest.State.PENDING:
        raise Conflict("control.request_decided", "This request has already been decided")
    if request.requested_by_key == _actor_key(actor):
        raise NotAllowed(
            "control.self_approval", "A second person must approve a change you requested"
        )
    request.status = ChangeRequest.State.APPROVED if approve else ChangeRequest.State.REJECTED
    request.decided_by_key = _actor_key(actor)
    request.decided_by_label = actor.label[:150]
    request.decided_at = clock.now()
    request.decision_reason = reason
    request.save(
        update_fields=[
            "status",
            "decided_by_key",
            "decided_by_label",
            "decided_at",
            "decision_reason",
        ]
    )
    record(
        actor=actor,
        action="control.change_request_decide",
        target=request,
        reason=reason,
        detail={
            "approved": approve,
            "kind": request.kind,
            "requested_by": request.requested_by_label,
        },
    )
    if approve:
        _apply_request(actor, request)
    elif request.order is not None and request.order.status == Status.PENDING_APPROVAL:
        _cancel_pending(actor, request.order, reason=f"rejected: {reason}", approval=request)
    return request


def _apply_request(actor: Actor, request: ChangeRequest) -> None:
    payload = request.payload
    if request.kind in (ChangeRequest.Kind.MANUAL_ISSUE, ChangeRequest.Kind.DOWNGRADE_ISSUE):
        assert request.order_id is not None
        order = ControlOrder.objects.select_for_update().get(pk=request.order_id)
        if order.status != Status.PENDING_APPROVAL:
            raise Conflict("control.request_stale", "The order is no longer pending approval")
        in_force = rulebook_in_force()
        active = _locked_active(order.person_id)
        decision, absorber_id = rules.supersession(
            in_force.book,
            new_phases=rules.phases_from_json(order.phases),
            new_release_on=order.release_on,
            active=_active_facts(active),
            today=clock.local_date(),
            replace_stricter=request.kind == ChangeRequest.Kind.DOWNGRADE_ISSUE,
        )
        if decision == Supersession.ABSORB:
            # Meanwhile the person came under an order at least as strict: keep that one.
            absorber = next(o for o in active if o.pk == absorber_id)
            _cancel_pending(
                actor, order, reason=f"absorbed by order {absorber.pk}", approval=request
            )
            _absorb(
                actor,
                absorber,
                category=Category(order.category),
                basis=(BasisType(order.basis_type), order.basis_id),
                reason=order.reason,
            )
            return
        _activate(actor, order, in_force=in_force, active=active, approval=request)
        return
    ids = [request.order_id] if request.order_id else list(payload["order_ids"])
    target = Status(payload["to_status"])
    basis = (str(payload["basis_type"]), str(payload["basis_id"]))
    for order in ControlOrder.objects.filter(pk__in=ids).order_by("pk"):
        _apply_status(
            actor, order, target=target, reason=request.reason, basis=basis, approval=request
        )


def _cancel_pending(
    actor: Actor, order: ControlOrder, *, reason: str, approval: ChangeRequest
) -> None:
    order.status, order.updated_at = Status.CANCELLED, clock.now()
    order.save(update_fields=["status", "updated_at"])
    _event(
        order,
        action="cancelled",
        actor=actor,
        reason=reason,
        from_status=Status.PENDING_APPROVAL,
        to_status=Status.CANCELLED,
        approval=approval,
    )
    record(actor=actor, action="control.order_cancel", target=order, reason=reason)


# --- scheduled tests -------------------------------------------------------------------------


@transaction.atomic
def scheduled_test_record(
    *,
    actor: Actor,
    test: ScheduledTest,
    result: str,
    sampled_at: dt.datetime,
    result_ref: str = "",
) -> ScheduledTest:
    """Record the result of a scheduled test (a missed test may be made up later).

    Recording the same result again is a no-op, so a retried batch does not double-record;
    a different result for a recorded test raises Conflict.
    """
    require(actor, Perm.CONTROL_CHANGE)
    _in_scope(actor, test.jurisdiction_path, "control.test_not_found")
    if result not in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
        raise Invalid("control.test_result", "The result is negative or positive", field="result")
    if sampled_at.tzinfo is None:
        raise Invalid("control.sampled_at", "sampled_at must carry a time zone")
    if sampled_at > clock.now() + dt.timedelta(minutes=5):
        raise Invalid("control.sampled_at", "sampled_at lies in the future", field="sampled_at")
    ref = (result_ref or "").strip()[:64]
    test = ScheduledTest.objects.select_for_update().select_related("order").get(pk=test.pk)
    if test.status in (SampleStatus.NEGATIVE, SampleStatus.POSITIVE):
        if test.status == result and test.result_ref == ref:
            return test
        raise Conflict("control.test_recorded", "This test already has a result", test_id=test.pk)
    if not test.order.is_active:
        raise Conflict("control.order_closed", "The order is no longer active")
    previous = test.status
    test.status, test.sampled_at, test.result_ref = result, sampled_at, ref
    test.recorded_at = clock.now()
    test.save(update_fields=["status", "sampled_at", "result_ref", "recorded_at"])
    _event(
        test.order,
        action="test",
        actor=actor,
        reason=f"test due {test.due_on.isoformat()}: {result}",
        from_status=previous,
        to_status=result,
        basis_type=BasisType.TEST,
        basis_id=ref or f"scheduled-test:{test.pk}",
    )
    if result == SampleStatus.POSITIVE:
        enqueue(
            name=POSITIVE_NOTIFY_JOB,
            payload={"test_id": test.pk},
            dedupe_key=f"{POSITIVE_NOTIFY_JOB}:{test.pk}",
        )
    record(
        actor=actor,
        action="control.test_record",
        target=test,
        reason=f"{result}",
        detail={"order_id": test.order_id, "due_on": test.due_on.isoformat(), "ref": ref},
    )
    return test


def order_link(order_id: int) -> str:
    return reverse("control:order", args=[order_id])
