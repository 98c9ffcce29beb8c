"""/api/testing: rounds, sites, the batched sampling ingest, coverage, excusals, lab results,
positive pools and retests. request.auth is the Actor; each endpoint is a few lines over a
service or selector, and domain errors map to HTTP once in fangkong.api."""

from __future__ import annotations

import json
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router
from ninja.responses import Status

from fangkong.core.actor import Actor, require
from fangkong.core.errors import NotFound
from fangkong.core.perms import Perm
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.mass_testing import selectors, services
from fangkong.mass_testing.gate import RETRY_AFTER, Busy, ingest_slot
from fangkong.mass_testing.models import PositivePool, Round
from fangkong.mass_testing.schemas import (
    BusyOut,
    CoverageBoardOut,
    ExcusalIn,
    ExcusalOut,
    PlanOut,
    PoolOut,
    ResultBatchIn,
    ResultReportOut,
    RetestIn,
    RetestOut,
    RoundIn,
    RoundOut,
    ScanBatchIn,
    ScanBatchOut,
    SiteIn,
    SiteOut,
)
from fangkong.mass_testing.selectors import CoverageRow
from fangkong.mass_testing.services.ingest import Collided

router = Router(tags=["mass_testing"])

MAX_ID = 2**63 - 1


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _node(actor: Actor, code: str) -> Jurisdiction:
    node = Jurisdiction.objects.filter(code=code.strip()).first()
    if node is None or not actor.scope.covers(node.path):
        raise NotFound("jurisdiction.not_found", "No such node in your territory")
    return node


def round_out(rnd: Round) -> dict[str, Any]:
    return {
        "id": rnd.pk,
        "name": rnd.name,
        "jurisdiction_path": rnd.jurisdiction_path,
        "starts_at": rnd.starts_at,
        "deadline": rnd.deadline,
        "status": rnd.status,
        "policy_version": rnd.policy_version,
        "coverage_at": rnd.coverage_at,
        "areas": [
            {
                "node_code": a.jurisdiction.code,
                "path": a.jurisdiction_path,
                "area_type": a.area_type,
                "pooling": a.pooling,
                "pool_size": a.pool_size,
            }
            for a in rnd.areas.select_related("jurisdiction").order_by("jurisdiction_path")
        ],
    }


def _id(value: int, code: str) -> int:
    """An id the database can hold; anything else is simply not found."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(code, "Not found")
    return value


def _round(request: HttpRequest, round_id: int) -> Round:
    rid = _id(round_id, "mass_testing.round_not_found")
    return selectors.round_get(scope=_actor(request).scope, round_id=rid)


@router.get("/rounds", response=list[RoundOut])
def list_rounds(request: HttpRequest) -> list[dict[str, Any]]:
    """Rounds the caller covers or works in, newest first."""
    actor = _actor(request)
    require(actor, Perm.TESTING_VIEW)
    return [round_out(r) for r in selectors.round_list(scope=actor.scope)]


@router.post("/rounds", response={201: RoundOut})
def create_round(request: HttpRequest, body: RoundIn) -> Status[dict[str, Any]]:
    """Open a round over nodes, each with its area type (the pooling rule follows)."""
    actor = _actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = services.round_create(
        actor=actor,
        name=body.name,
        areas=[(_node(actor, a.node_code), a.area_type) for a in body.areas],
        starts_at=body.starts_at,
        deadline=body.deadline,
    )
    return Status(201, round_out(rnd))


@router.get("/rounds/{round_id}", response=RoundOut)
def get_round(request: HttpRequest, round_id: int) -> dict[str, Any]:
    require(_actor(request), Perm.TESTING_VIEW)
    return round_out(_round(request, round_id))


@router.get("/rounds/{round_id}/plan", response=PlanOut)
def round_plan(request: HttpRequest, round_id: int) -> dict[str, Any]:
    """Samplers, sites, tubes, swabs and lab capacity the round needs, and the shortfall."""
    actor = _actor(request)
    require(actor, Perm.TESTING_VIEW)
    p = selectors.round_plan(scope=actor.scope, rnd=_round(request, round_id))
    return {
        "population": p.population,
        "hours": p.hours,
        "samplers": p.samplers,
        "samplers_registered": p.samplers_registered,
        "sampler_shortfall": p.sampler_shortfall,
        "sites": p.sites,
        "sites_registered": p.sites_registered,
        "site_shortfall": p.site_shortfall,
        "tubes": p.tubes,
        "swabs": p.swabs,
        "labs_tube_capacity": p.labs_tube_capacity,
        "lab_shortfall_tubes": p.lab_shortfall_tubes,
    }


@router.post("/rounds/{round_id}/sites", response={201: SiteOut})
def create_site(request: HttpRequest, body: SiteIn, round_id: int) -> Status[Any]:
    actor = _actor(request)
    require(actor, Perm.TESTING_MANAGE)
    site = services.site_create(
        actor=actor,
        rnd=_round(request, round_id),
        node=_node(actor, body.node_code),
        name=body.name,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        samplers=body.samplers,
    )
    return Status(201, site)


@router.post(
    "/rounds/{round_id}/scans",
    response={200: ScanBatchOut, 429: BusyOut},
)
def mass_testing_scans(request: HttpRequest, body: ScanBatchIn, round_id: int) -> Any:
    """A batch of scans, answered scan by scan (accepted, duplicate, tube_closed, tube_full,
    in_other_open_tube, other_household for a sealed compound's household tube, ...). Idempotent by each scan's client_id: send a batch again when its
    answer was lost. 429 with Retry-After when the service is at capacity: send it later."""
    actor = _actor(request)
    rnd = _round(request, round_id)
    scans = [
        services.ScanIn(
            s.client_id, s.barcode, s.sampled_at, s.doc_number, s.person_id, s.site_id,
            s.sampler, s.close_tube,
        )
        for s in body.scans
    ]  # fmt: skip
    try:
        with ingest_slot():
            answers = services.scans_ingest(
                actor=actor, rnd=rnd, scans=scans, batch_id=body.batch_id
            )
    except (Busy, Collided, OperationalError):
        # At capacity, colliding again and again with concurrent batches, or the database is
        # (briefly) unable to take the write (a deadlock victim): nothing of the batch was
        # committed, the client sends it again.
        response = JsonResponse(
            {
                "code": "busy",
                "message": "At capacity; send the batch again later",
                "detail": {"retry_after": RETRY_AFTER},
            },
            status=429,
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    # Encoded here rather than re-validated against ScanBatchOut by ninja (the same shape;
    # ninja's response validation and encoder cost more than the ingest's own Python work).
    accepted = 0
    out = []
    for a in answers:
        accepted += a.outcome == "accepted"
        out.append({"client_id": a.client_id, "outcome": a.outcome, "barcode": a.barcode})
    return HttpResponse(
        json.dumps({"accepted": accepted, "answers": out}, ensure_ascii=False),
        content_type="application/json",
    )


def _coverage_out(row: CoverageRow) -> dict[str, Any]:
    return {
        "node_id": row.node_id,
        "code": row.code,
        "name": row.name,
        "path": row.path,
        "due": row.due,
        "sampled": row.sampled,
        "resulted": row.resulted,
        "positive": row.positive,
        "excused": row.excused,
        "unsampled": row.unsampled,
    }


@router.get("/rounds/{round_id}/coverage", response=CoverageBoardOut)
def round_coverage(
    request: HttpRequest,
    round_id: int,
    node_id: int | None = None,
) -> dict[str, Any]:
    """Due, sampled, results back, positive, excused and not yet sampled under a node (the
    round's node by default), with one row per child node; from the pre-aggregated rows."""
    actor = _actor(request)
    require(actor, Perm.TESTING_VIEW)
    rnd = _round(request, round_id)
    if node_id is not None and not 1 <= node_id <= MAX_ID:
        raise NotFound("jurisdiction.not_found", "Not found")
    total, children, _ = selectors.coverage(scope=actor.scope, rnd=rnd, node_id=node_id)
    return {
        "total": _coverage_out(total),
        "children": [_coverage_out(c) for c in children],
        "as_of": rnd.coverage_at,
    }


@router.post("/rounds/{round_id}/excusals", response=ExcusalOut)
def create_excusal(request: HttpRequest, body: ExcusalIn, round_id: int) -> dict[str, Any]:
    """Excuse a person due in the round (bedridden, away, under_control, other + note)."""
    actor = _actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = _round(request, round_id)
    person = selectors.person_due(scope=actor.scope, rnd=rnd, person_id=body.person_id)
    e = services.excusal_record(
        actor=actor, rnd=rnd, person=person, reason=body.reason, note=body.note
    )
    return {
        "id": e.pk,
        "round_id": e.round_id,
        "person_id": e.person_id,
        "reason": e.reason,
        "note": e.note,
    }


@router.post("/results", response=ResultReportOut)
def submit_results(request: HttpRequest, body: ResultBatchIn) -> dict[str, Any]:
    """A lab's results, matched to tubes; unknown tubes and conflicts are reported, not
    guessed. Idempotent by batch_id: the same batch again returns its first report."""
    actor = _actor(request)
    report = services.results_submit(
        actor=actor,
        lab=body.lab,
        batch_id=body.batch_id,
        results=[
            services.ResultIn(
                barcode=r.barcode, result=r.result, tested_at=r.tested_at, ct_value=r.ct_value
            )
            for r in body.results
        ],
    )
    return {
        "source": report.source,
        "received": report.received,
        "matched": report.matched,
        "repeats": report.repeats,
        "positives": report.positives,
        "unknown": report.unknown,
        "conflicts": report.conflicts,
        "already_received": report.already_received,
    }


def _pool_out(p: PositivePool) -> dict[str, Any]:
    return {
        "id": p.pk,
        "round_id": p.round_id,
        "barcode": p.tube.barcode,
        "members": p.members,
        "detected_at": p.detected_at,
        "retest_due_at": p.retest_due_at,
        "status": p.status,
        "positives": p.positives,
    }


@router.get("/pools", response=list[PoolOut])
def list_pools(request: HttpRequest, status: str = "open") -> list[dict[str, Any]]:
    """Positive pools (open by default), the most urgent retest deadline first."""
    actor = _actor(request)
    require(actor, Perm.TESTING_VIEW)
    wanted = status if status in ("open", "resolved") else "open"
    return [_pool_out(p) for p in selectors.pool_list(scope=actor.scope, status=wanted)]


@router.post("/retests/{retest_id}", response=RetestOut)
def record_retest(request: HttpRequest, body: RetestIn, retest_id: int) -> dict[str, Any]:
    """A pool member's single-tube retest result."""
    actor = _actor(request)
    rt = selectors.retest_get(
        scope=actor.scope, retest_id=_id(retest_id, "mass_testing.retest_not_found")
    )
    rt = services.retest_record(
        actor=actor, retest=rt, result=body.result, sampled_at=body.sampled_at, barcode=body.barcode
    )
    return {
        "id": rt.pk,
        "pool_id": rt.pool_id,
        "person_id": rt.person_id,
        "result": rt.result,
        "sampled_at": rt.sampled_at,
    }
