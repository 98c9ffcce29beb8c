"""/api/control: control orders for machine clients and the browser. request.auth is the Actor.

Each endpoint is a few lines over a control service or selector; domain errors map to HTTP in
fangkong.api once. Persons appear by id and masked name.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from fangkong.control import rules, selectors, services
from fangkong.control.models import ChangeRequest, ControlOrder
from fangkong.control.schemas import (
    BulkStatusIn,
    BulkStatusOut,
    ChangeRequestOut,
    DecideIn,
    HealthCodeOut,
    OrderIssueIn,
    OrderOut,
    OrderPageOut,
    ReleaseIn,
    ScheduledTestOut,
    StatusIn,
    StatusOut,
    TestResultIn,
)
from fangkong.core.actor import Actor
from fangkong.core.masking import mask_name

router = Router(tags=["control"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def order_out(order: ControlOrder) -> dict[str, Any]:
    """An order as the API shows it: from a row loaded with its person and tests."""
    tests = list(order.tests.all())
    return {
        "id": order.pk,
        "person_id": order.person_id,
        "person_name": mask_name(order.person.name),
        "jurisdiction_path": order.jurisdiction_path,
        "category": order.category,
        "measure": order.measure,
        "status": order.status,
        "basis_type": order.basis_type,
        "basis_id": order.basis_id,
        "policy_version": order.policy_version,
        "edition": order.edition,
        "anchor_date": order.anchor_date,
        "start_date": order.start_date,
        "release_on": order.release_on,
        "next_test": rules.next_test(rules.SampleFact(t.pk, t.due_on, t.status) for t in tests),
        "place_kind": order.place_kind,
        "room_id": order.room_id,
        "superseded_by_id": order.superseded_by_id,
        "reason": order.reason,
        "created_at": order.created_at,
        "released_at": order.released_at,
        "phases": order.phases,
        "tests": [
            {
                "id": t.pk,
                "due_on": t.due_on,
                "status": t.status,
                "sampled_at": t.sampled_at,
                "result_ref": t.result_ref,
            }
            for t in tests
        ],
    }


def request_out(request: ChangeRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "kind": request.kind,
        "status": request.status,
        "order_id": request.order_id,
        "payload": request.payload,
        "approval_reasons": request.approval_reasons,
        "reason": request.reason,
        "requested_by": request.requested_by_label,
        "created_at": request.created_at,
        "decided_by": request.decided_by_label,
        "decided_at": request.decided_at,
    }


def _fresh(actor: Actor, order_id: int) -> dict[str, Any]:
    return order_out(selectors.order_get(scope=actor.scope, order_id=order_id))


@router.get("/orders", response=OrderPageOut)
def list_orders(
    request: HttpRequest,
    status: str | None = None,
    measure: str | None = None,
    after: int | None = None,
    limit: int = selectors.PAGE_SIZE,
) -> dict[str, Any]:
    """Orders in scope, newest first; follow `next_after`. status=active: issued or in effect."""
    page = selectors.order_list(
        scope=_actor(request).scope,
        status=status,
        measure=measure,
        after=after,
        limit=limit,
        with_tests=True,
    )
    return {"items": [order_out(o) for o in page.items], "next_after": page.next_after}


# Declared before /orders/{order_id}, whose pattern would otherwise match "bulk-status".
@router.post("/orders/bulk-status", response=BulkStatusOut)
def bulk_status(request: HttpRequest, body: BulkStatusIn) -> dict[str, Any]:
    """Change many orders at once, all or nothing. Over the rulebook's bulk threshold, or
    without a basis, nothing changes yet: the pending request is returned."""
    actor = _actor(request)
    orders = selectors.orders_get_many(scope=actor.scope, order_ids=body.order_ids)
    result = services.orders_bulk_change(
        actor=actor,
        orders=orders,
        to_status=body.to_status,
        reason=body.reason,
        basis_type=body.basis_type,
        basis_id=body.basis_id,
    )
    return {
        "applied": [o.pk for o in result.applied],
        "pending_request": request_out(result.request) if result.request else None,
    }


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return _fresh(_actor(request), order_id)


@router.post("/orders", response={200: OrderOut, 201: OrderOut})
def issue_order(request: HttpRequest, body: OrderIssueIn) -> Status[dict[str, Any]]:
    """Issue an order: 201 with the new order (issued, or pending_approval without a basis);
    200 with the person's existing order when that one is as strict or stricter."""
    actor = _actor(request)
    person = selectors.control_person_get(scope=actor.scope, person_id=body.person_id)
    room = (
        selectors.room_for_order(scope=actor.scope, room_id=body.room_id) if body.room_id else None
    )
    order = services.order_issue(
        actor=actor,
        person=person,
        category=body.category,
        anchor=body.anchor,
        basis_type=body.basis_type,
        basis_id=body.basis_id,
        basis_note=body.basis_note,
        reason=body.reason,
        start=body.start,
        room=room,
        replace_stricter=body.replace_stricter,
    )
    return Status(200 if order.absorbed else 201, _fresh(actor, order.pk))


@router.post("/orders/{order_id}/status", response=StatusOut)
def change_status(request: HttpRequest, order_id: int, body: StatusIn) -> dict[str, Any]:
    """Change the status with a reason and basis; without a basis it returns the pending
    request and the order unchanged."""
    actor = _actor(request)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    result = services.order_change_status(
        actor=actor,
        order=order,
        to_status=body.to_status,
        reason=body.reason,
        basis_type=body.basis_type,
        basis_id=body.basis_id,
    )
    pending = request_out(result.request) if result.request else None
    return {"order": _fresh(actor, order_id), "pending_request": pending}


@router.post("/orders/{order_id}/release", response=OrderOut)
def release_order(request: HttpRequest, order_id: int, body: ReleaseIn) -> dict[str, Any]:
    """Release; 409 control.release_blocked with the blockers while a test is missing or
    positive, or before the release date."""
    actor = _actor(request)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    services.order_release(actor=actor, order=order, reason=body.reason, basis_id=body.basis_id)
    return _fresh(actor, order_id)


@router.post("/tests/{test_id}/result", response=ScheduledTestOut)
def record_test(request: HttpRequest, test_id: int, body: TestResultIn) -> Any:
    actor = _actor(request)
    test = selectors.scheduled_test_get(scope=actor.scope, test_id=test_id)
    return services.scheduled_test_record(
        actor=actor,
        test=test,
        result=body.result,
        sampled_at=body.sampled_at,
        result_ref=body.result_ref,
    )


@router.get("/people/{person_id}/health-code", response=HealthCodeOut)
def get_health_code(request: HttpRequest, person_id: int) -> dict[str, Any]:
    code = selectors.health_code(scope=_actor(request).scope, person_id=person_id)
    return {"person_id": person_id, "colour": code.colour.value, "reasons": code.reasons}


@router.get("/change-requests", response=list[ChangeRequestOut])
def list_change_requests(request: HttpRequest) -> list[dict[str, Any]]:
    """Requests in scope waiting for a second person, oldest first."""
    return [request_out(r) for r in selectors.change_requests_pending(scope=_actor(request).scope)]


@router.post("/change-requests/{request_id}/decide", response=ChangeRequestOut)
def decide_change_request(request: HttpRequest, request_id: int, body: DecideIn) -> dict[str, Any]:
    actor = _actor(request)
    change = selectors.change_request_get(scope=actor.scope, request_id=request_id)
    decided = services.change_request_decide(
        actor=actor, request=change, approve=body.approve, reason=body.reason
    )
    return request_out(decided)
