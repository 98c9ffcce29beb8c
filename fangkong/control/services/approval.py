"""Second-person approval: deciding change requests and applying approved changes."""

from __future__ import annotations

from django.db import transaction

from fangkong.audit.services import record
from fangkong.control import rules
from fangkong.control.models import (
    ChangeRequest,
    ControlOrder,
)
from fangkong.control.rules import BasisType, Status, Supersession
from fangkong.control.services._common import (
    _active_facts,
    _actor_key,
    _clean_reason,
    _event,
    _in_scope,
    _locked_active,
)
from fangkong.control.services.issue import _absorb, _activate
from fangkong.control.services.status import _apply_status
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, NotAllowed
from fangkong.core.perms import Perm
from fangkong.policy.schema import Category
from fangkong.policy.selectors import rulebook_in_force

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
