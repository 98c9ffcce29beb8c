"""Status changes and release of control orders, one at a time or in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
    ScheduledTest,
)
from fangkong.control.rules import BasisType, SampleStatus, Status
from fangkong.control.services._common import (
    _clean_basis,
    _clean_reason,
    _close_work,
    _event,
    _in_scope,
    _request,
    refresh_control_status,
)
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.policy.selectors import rulebook_in_force

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
