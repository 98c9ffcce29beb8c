"""/api/assignments: the inbox, one item, its status changes, node boards. request.auth is the
Actor; each endpoint is a selector or a service call."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from fangkong.assignments import selectors, services
from fangkong.assignments.schemas import (
    AssignmentDetailOut,
    AssignmentOut,
    AssignmentPageOut,
    BoardOut,
    CompleteIn,
    ReassignIn,
    RejectIn,
    assignment_out,
    board_out,
    event_out,
)
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope
from fangkong.jurisdictions.selectors import jurisdiction_get

router = Router(tags=["assignments"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


@router.get("", response=AssignmentPageOut)
def list_inbox(
    request: HttpRequest,
    mine: bool = False,
    status: str | None = None,
    after: str | None = None,
    limit: int = selectors.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Active work in scope, most urgent first (overdue longest, then soonest due). `mine`:
    only work on the caller's own desk. Follow `next_after` for the next page."""
    actor = _actor(request)
    page = selectors.inbox(
        scope=actor.scope,
        user_id=(actor.id if actor.kind == "user" else -1) if mine else None,
        status=status,
        after=after,
        limit=limit,
    )
    return {"items": [assignment_out(i) for i in page.items], "next_after": page.next_after}


@router.get("/board/{code}", response=BoardOut)
def get_board(request: HttpRequest, code: str) -> dict[str, Any]:
    """A node's counts: active, due soon, overdue, done today; by kind and by child node."""
    scope = _actor(request).scope
    node = jurisdiction_get(scope=scope, code=code)
    return board_out(selectors.board(scope=scope, node=node))


@router.get("/board/{code}/overdue", response=AssignmentPageOut)
def get_overdue(
    request: HttpRequest, code: str, after: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Overdue work in the node's subtree, longest overdue first."""
    scope = _actor(request).scope
    node = jurisdiction_get(scope=scope, code=code)
    page = selectors.overdue_list(scope=scope, node=node, after=after, limit=limit)
    return {"items": [assignment_out(i) for i in page.items], "next_after": page.next_after}


@router.get("/{assignment_id}", response=AssignmentDetailOut)
def get_assignment(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    scope = _actor(request).scope
    item = selectors.assignment_get(scope=scope, assignment_id=assignment_id)
    events = selectors.assignment_events(scope=scope, assignment=item)
    return {**assignment_out(item), "events": [event_out(e) for e in events]}


def _get(request: HttpRequest, assignment_id: int) -> Any:
    return selectors.assignment_get(scope=_actor(request).scope, assignment_id=assignment_id)


def _fresh(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    return assignment_out(_get(request, assignment_id))


@router.post("/{assignment_id}/start", response=AssignmentOut)
def start(request: HttpRequest, assignment_id: int) -> dict[str, Any]:
    services.assignment_start(actor=_actor(request), assignment=_get(request, assignment_id))
    return _fresh(request, assignment_id)


@router.post("/{assignment_id}/complete", response=AssignmentOut)
def complete(request: HttpRequest, assignment_id: int, body: CompleteIn) -> dict[str, Any]:
    services.assignment_complete(
        actor=_actor(request), assignment=_get(request, assignment_id), outcome=body.outcome
    )
    return _fresh(request, assignment_id)


@router.post("/{assignment_id}/reject", response=AssignmentOut)
def reject(request: HttpRequest, assignment_id: int, body: RejectIn) -> dict[str, Any]:
    services.assignment_reject(
        actor=_actor(request), assignment=_get(request, assignment_id), reason=body.reason
    )
    return _fresh(request, assignment_id)


@router.post("/{assignment_id}/reassign", response=AssignmentOut)
def reassign(request: HttpRequest, assignment_id: int, body: ReassignIn) -> dict[str, Any]:
    """Hand the work to another node in scope; returns the new item (the old one is closed)."""
    actor = _actor(request)
    # Resolved without the caller's scope: the service checks it (after the permission), and
    # a node outside the scope is as missing as one that does not exist.
    to = jurisdiction_get(scope=Scope.system(), code=body.to)
    new = services.assignment_reassign(
        actor=actor, assignment=_get(request, assignment_id), to=to, reason=body.reason
    )
    return _fresh(request, new.pk)
