"""/api/screening: arrivals, verification, canvass, assist requests, the board, imports.

Each endpoint is a few lines over a screening service or selector; domain errors map to HTTP
in fangkong.api once. Persons appear masked.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.masking import mask_document, mask_name, mask_phone
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.screening import imports, selectors, services
from fangkong.screening.models import Arrival, AssistRequest, ImportBatch
from fangkong.screening.schemas import (
    ArrivalOut,
    ArrivalPageOut,
    AssistIn,
    AssistOut,
    BatchOut,
    BoardOut,
    CanvassIn,
    PlaceIn,
    VerifyIn,
)
from fangkong.screening.services._common import home_node

router = Router(tags=["screening"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def arrival_out(a: Arrival) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": mask_name(a.name),
        "doc_number": mask_document(a.doc_number),
        "phone": mask_phone(a.phone) if a.phone else "",
        "jurisdiction_code": a.jurisdiction.code,
        "jurisdiction_path": a.jurisdiction_path,
        "placed": a.placed,
        "origin": a.origin,
        "route": a.route,
        "risk_level": a.risk_level,
        "category": a.category,
        "measure": a.measure,
        "returnee_class": a.returnee_class,
        "arrival_date": a.arrival_date,
        "status": a.status,
        "not_reached_reason": a.not_reached_reason,
        "sample_ref": a.sample_ref,
        "under_control": a.under_control,
        "order_id": a.order_id,
        "source_count": a.source_count,
        "due_at": a.due_at,
        "overdue": a.status == "received" and a.due_at < clock.now(),
        "created_at": a.created_at,
        "verified_at": a.verified_at,
    }


def assist_out(actor: Actor, r: AssistRequest) -> dict[str, Any]:
    items = selectors.assist_items(scope=actor.scope, request=r)
    return {
        "id": r.pk,
        "from_code": r.from_jurisdiction.code,
        "to_code": r.to_jurisdiction.code,
        "reason": r.reason,
        "basis_type": r.basis_type,
        "basis_id": r.basis_id,
        "state": r.state,
        "items_total": r.items_total,
        "items_replied": r.items_replied,
        "due_at": r.due_at,
        "overdue": r.acknowledged_at is None and r.due_at < clock.now(),
        "created_at": r.created_at,
        "acknowledged_at": r.acknowledged_at,
        "replied_at": r.replied_at,
        "items": [
            {
                "id": i.pk,
                "arrival_id": i.arrival_id,
                "name": mask_name(i.arrival.name),
                "category": i.category,
                "outcome": i.outcome,
                "outcome_note": i.outcome_note,
                "replied_at": i.replied_at,
            }
            for i in items
        ],
    }


def batch_out(b: ImportBatch) -> dict[str, Any]:
    return {
        "id": b.pk,
        "source_name": b.source_name,
        "kind": b.kind,
        "filename": b.filename,
        "state": b.state,
        "rows_total": b.rows_total,
        "rows_done": b.rows_done,
        "created_count": b.created_count,
        "merged_count": b.merged_count,
        "unchanged_count": b.unchanged_count,
        "error_count": b.error_count,
        "errors": list(b.errors)[:200],
        "progress": imports.progress_read(b.sha256) if b.state in ("queued", "running") else {},
        "created_at": b.created_at,
        "finished_at": b.finished_at,
    }


def _get(actor: Actor, arrival_id: int) -> Arrival:
    return selectors.arrival_get(scope=actor.scope, arrival_id=arrival_id)


@router.get("/arrivals", response=ArrivalPageOut)
def list_arrivals(
    request: HttpRequest,
    node: str | None = None,
    key: str = "received",
    after: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Arrivals in scope, newest first; `key` is a board figure (open, verified, overdue...)."""
    actor = _actor(request)
    where = jurisdiction_get(scope=actor.scope, code=node) if node else None
    page = selectors.arrival_list(scope=actor.scope, node=where, key=key, after=after, limit=limit)
    return {"items": [arrival_out(a) for a in page.items], "next_after": page.next_after}


@router.get("/arrivals/{arrival_id}", response=ArrivalOut)
def get_arrival(request: HttpRequest, arrival_id: int) -> dict[str, Any]:
    return arrival_out(_get(_actor(request), arrival_id))


@router.post("/arrivals/{arrival_id}/verify", response=ArrivalOut)
def verify_arrival(request: HttpRequest, arrival_id: int, body: VerifyIn) -> dict[str, Any]:
    """Record the verification: 409 when already verified; a retry of the same call is
    refused the same way, so it is never counted twice."""
    actor = _actor(request)
    arrival = services.arrival_verify(
        actor=actor,
        arrival=_get(actor, arrival_id),
        result=services.Verification(**body.dict()),
    )
    return arrival_out(_get_any(actor, arrival))


def _get_any(actor: Actor, arrival: Arrival) -> Arrival:
    # A transferred arrival may have left the scope: show the row as it was closed.
    try:
        return _get(actor, arrival.pk)
    except Exception:
        return arrival


@router.post("/arrivals/{arrival_id}/place", response=ArrivalOut)
def place_arrival(request: HttpRequest, arrival_id: int, body: PlaceIn) -> dict[str, Any]:
    actor = _actor(request)
    grid = jurisdiction_get(scope=actor.scope, code=body.grid_code)
    arrival = services.arrival_place(actor=actor, arrival=_get(actor, arrival_id), grid=grid)
    return arrival_out(_get(actor, arrival.pk))


@router.post("/canvass", response={201: ArrivalOut})
def canvass(request: HttpRequest, body: CanvassIn) -> Status[dict[str, Any]]:
    """A newcomer found during canvass; lands in the caller's grid (merged if known)."""
    actor = _actor(request)
    arrival = services.canvass_register(actor=actor, entry=services.entry_of(**body.dict()))
    return Status(201, arrival_out(_get(actor, arrival.pk)))


@router.get("/board", response=BoardOut)
def board(request: HttpRequest, node: str | None = None) -> dict[str, Any]:
    """The board of a node (default: the caller's own) and its children."""
    actor = _actor(request)
    where = jurisdiction_get(scope=actor.scope, code=node) if node else home_node(actor)
    b = selectors.board(scope=actor.scope, node=where)
    return {
        "node": {"code": b.node.code, "name": b.node.name, "figures": b.figures.values},
        "children": [
            {"code": c.node.code, "name": c.node.name, "figures": c.figures.values}
            for c in b.children
        ],
    }


@router.get("/assist", response=list[AssistOut])
def list_assist(request: HttpRequest, box: str = "inbox") -> list[dict[str, Any]]:
    """Assist requests received (box=inbox) or sent (box=outbox), newest first."""
    actor = _actor(request)
    return [assist_out(actor, r) for r in selectors.assist_list(scope=actor.scope, box=box)]


@router.post("/assist", response={201: AssistOut})
def send_assist(request: HttpRequest, body: AssistIn) -> Status[dict[str, Any]]:
    """Send persons to another district's inbox; a repeat adds nobody twice."""
    actor = _actor(request)
    sent = services.assist_request_send(
        actor,
        to_code=body.to_code,
        persons=[services.AssistPerson(**p.dict()) for p in body.persons],
        reason=body.reason,
        basis_type=body.basis_type,
        basis_id=body.basis_id,
    )
    return Status(
        201, assist_out(actor, selectors.assist_get(scope=actor.scope, request_id=sent.pk))
    )


@router.get("/assist/{request_id}", response=AssistOut)
def get_assist(request: HttpRequest, request_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return assist_out(actor, selectors.assist_get(scope=actor.scope, request_id=request_id))


@router.post("/assist/{request_id}/acknowledge", response=AssistOut)
def acknowledge_assist(request: HttpRequest, request_id: int) -> dict[str, Any]:
    actor = _actor(request)
    found = selectors.assist_get(scope=actor.scope, request_id=request_id)
    services.assist_request_acknowledge(actor=actor, request=found)
    return assist_out(actor, selectors.assist_get(scope=actor.scope, request_id=request_id))


@router.post("/imports", response={202: BatchOut})
def start_import(
    request: HttpRequest,
    file: File[UploadedFile],
    source_name: Form[str],
    kind: Form[str] = "push_list",
) -> Status[dict[str, Any]]:
    """Queue a list (xlsx/csv) for import; follow GET /imports/{id} for progress and errors."""
    actor = _actor(request)
    batch = imports.import_start(
        actor=actor,
        file=file,
        root=home_node(actor),
        source_name=source_name,
        kind=kind,
        filename=file.name or "",
    )
    return Status(202, batch_out(batch))


@router.get("/imports/{batch_id}", response=BatchOut)
def get_import(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    return batch_out(selectors.batch_get(scope=_actor(request).scope, batch_id=batch_id))
