"""The tracing API, mounted at /api/tracing/. request.auth is the Actor.

Each endpoint is a few lines over a tracing service or selector; domain errors map to HTTP in
fangkong.api once. Persons appear by id and masked name.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from fangkong.core.actor import Actor
from fangkong.core.masking import mask_name
from fangkong.tracing import chains, selectors, services
from fangkong.tracing.models import Case, Cluster, Contact, CopresenceRun
from fangkong.tracing.schemas import (
    CaseOut,
    CasePageOut,
    CaseRegisterIn,
    ClockOut,
    ClusterOpenIn,
    ClusterOut,
    ConfirmIn,
    ConfirmOut,
    ContactIn,
    ContactOut,
    ContactPageOut,
    CurveDayOut,
    DismissIn,
    DismissOut,
    FollowUpIn,
    GraphOut,
    KpisOut,
    RunIn,
    RunOut,
    SourcesOut,
    StepIn,
)

router = Router(tags=["tracing"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _clocks(actor: Actor, case: Case) -> list[dict[str, Any]]:
    return [
        {"step": c.step.value, "due_at": c.due_at, "done_at": c.done_at, "state": c.state}
        for c in selectors.investigation_clocks(scope=actor.scope, investigation=case.investigation)
    ]


def case_out(actor: Actor, case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "person_id": case.person_id,
        "person_name": mask_name(case.person.name),
        "jurisdiction_path": case.jurisdiction_path,
        "kind": case.kind,
        "found_by": case.found_by,
        "status": case.status,
        "sampled_at": case.sampled_at,
        "onset_date": case.onset_date,
        "isolated_at": case.isolated_at,
        "window_start": case.window_start,
        "window_end": case.window_end,
        "cluster_id": case.cluster_id,
        "infected_by_id": case.infected_by_id,
        "chain_root_id": case.chain_root_id,
        "from_contact_id": case.from_contact_id,
        "imported": case.imported,
        "order_id": case.order_id,
        "policy_version": case.policy_version,
        "created_at": case.created_at,
        "clocks": _clocks(actor, case),
    }


def contact_out(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "case_id": c.case_id,
        "via_id": c.via_id,
        "person_id": c.person_id,
        "person_name": mask_name(c.person.name),
        "degree": c.degree,
        "category": c.category,
        "status": c.status,
        "exposure": c.exposure,
        "source": c.source,
        "first_exposure_at": c.first_exposure_at,
        "last_exposure_at": c.last_exposure_at,
        "venue_id": c.venue_id,
        "cell_id": c.cell_id,
        "encounters": c.encounters,
        "score": c.score,
        "order_id": c.order_id,
        "assist_request_id": c.assist_request_id,
        "followed_up_at": c.followed_up_at,
        "became_case_id": c.became_case_id,
    }


def cluster_out(c: Cluster) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "jurisdiction_code": c.jurisdiction.code,
        "status": c.status,
        "basis_type": c.basis_type,
        "basis_id": c.basis_id,
        "opened_at": c.opened_at,
        "closed_at": c.closed_at,
    }


def run_out(r: CopresenceRun) -> dict[str, Any]:
    return {
        "id": r.pk,
        "case_id": r.case_id,
        "degree": r.degree,
        "status": r.status,
        "error": r.error,
        "progress": services.run_progress(r) if r.status == CopresenceRun.Status.QUEUED else {},
        "finished_at": r.finished_at,
        "window_start": r.window_start,
        "window_end": r.window_end,
        "candidates": r.candidates,
        "created": r.created,
        "seconds": r.seconds,
        "ran_at": r.ran_at,
    }


@router.get("/cases", response=CasePageOut)
def list_cases(
    request: HttpRequest,
    status: str | None = None,
    cluster_id: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Cases in scope, newest first; follow `next_after`."""
    actor = _actor(request)
    page = selectors.case_list(
        scope=actor.scope, status=status, cluster_id=cluster_id, after_id=after, limit=limit
    )
    return {"items": [case_out(actor, c) for c in page.items], "next_after": page.next_after}


@router.post("/cases", response={200: CaseOut, 201: CaseOut})
def register_case(request: HttpRequest, body: CaseRegisterIn) -> Status[dict[str, Any]]:
    """Register a case (idempotent per person while a case is open: 200 with the open case)."""
    actor = _actor(request)
    case = services.case_register(actor, **body.dict())
    fresh = selectors.case_get(scope=actor.scope, case_id=case.pk)
    return Status(201 if case.registered_now else 200, case_out(actor, fresh))


@router.get("/cases/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return case_out(actor, selectors.case_get(scope=actor.scope, case_id=case_id))


@router.post("/cases/{case_id}/steps", response=list[ClockOut])
def complete_step(request: HttpRequest, case_id: int, body: StepIn) -> list[dict[str, Any]]:
    """Stop one of the investigation's clocks (first_report, contact_list, full_report)."""
    actor = _actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    services.investigation_step_complete(
        actor, investigation=case.investigation, step=body.step, report=body.report
    )
    return _clocks(actor, selectors.case_get(scope=actor.scope, case_id=case_id))


@router.get("/cases/{case_id}/contacts", response=ContactPageOut)
def list_contacts(
    request: HttpRequest,
    case_id: int,
    *,
    status: str | None = None,
    degree: int | None = None,
    after: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    actor = _actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    page = selectors.contact_list(
        scope=actor.scope, case=case, status=status, degree=degree, after_id=after, limit=limit
    )
    return {"items": [contact_out(c) for c in page.items], "next_after": page.next_after}


@router.post("/cases/{case_id}/contacts", response=ContactOut)
def add_contact(request: HttpRequest, case_id: int, body: ContactIn) -> dict[str, Any]:
    """Record an exposure; a direct kind (household, care...) is a contact at once."""
    actor = _actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    via = selectors.contact_get(scope=actor.scope, contact_id=body.via_id) if body.via_id else None
    edge = services.contact_add(
        actor,
        case=case,
        person_id=body.person_id,
        exposure=body.exposure,
        first_exposure_at=body.first_exposure_at,
        last_exposure_at=body.last_exposure_at,
        via=via,
        venue_id=body.venue_id,
        general=body.general,
        note=body.note,
    )
    return contact_out(selectors.contact_get(scope=actor.scope, contact_id=edge.pk))


@router.post("/cases/{case_id}/copresence", response={202: RunOut})
def run_copresence(request: HttpRequest, case_id: int, body: RunIn) -> Status[dict[str, Any]]:
    """Queue the co-presence engine for the worker: degree 1 for the case, 2 for its close
    contacts. Answers 202 with the run (a run of that degree still queued is returned again);
    poll it at `GET .../copresence/{run_id}` until its status is done or failed."""
    actor = _actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    with transaction.atomic():
        run = services.copresence_request(actor, case=case, degree=body.degree)
    return Status(202, run_out(run))


@router.get("/cases/{case_id}/copresence/{run_id}", response=RunOut)
def get_copresence(request: HttpRequest, case_id: int, run_id: int) -> dict[str, Any]:
    """A co-presence run: its status, its progress while queued, its figures once done."""
    actor = _actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    return run_out(selectors.copresence_run_get(scope=actor.scope, case=case, run_id=run_id))


@router.post("/contacts/confirm", response=ConfirmOut)
def confirm_contacts(request: HttpRequest, body: ConfirmIn) -> dict[str, Any]:
    """Confirm candidates in bulk: orders here, assist requests to other districts."""
    result = services.contacts_confirm(
        _actor(request), contact_ids=body.contact_ids, reason=body.reason, category=body.category
    )
    return dataclasses.asdict(result)


@router.post("/contacts/dismiss", response=DismissOut)
def dismiss_contacts(request: HttpRequest, body: DismissIn) -> dict[str, Any]:
    n = services.contacts_dismiss(_actor(request), contact_ids=body.contact_ids, reason=body.reason)
    return {"dismissed": n}


@router.post("/contacts/{contact_id}/follow-up", response=ContactOut)
def follow_up(request: HttpRequest, contact_id: int, body: FollowUpIn) -> dict[str, Any]:
    actor = _actor(request)
    contact = selectors.contact_get(scope=actor.scope, contact_id=contact_id)
    services.contact_follow_up(actor, contact=contact, note=body.note)
    return contact_out(selectors.contact_get(scope=actor.scope, contact_id=contact_id))


@router.get("/clusters", response=list[ClusterOut])
def list_clusters(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    clusters = selectors.cluster_list(scope=_actor(request).scope, status=status)
    return [cluster_out(c) for c in clusters]


@router.post("/clusters", response=ClusterOut)
def open_cluster(request: HttpRequest, body: ClusterOpenIn) -> dict[str, Any]:
    """Open a named cluster (idempotent by basis type and id)."""
    actor = _actor(request)
    cluster = services.cluster_open(actor, **body.dict())
    return cluster_out(selectors.cluster_get(scope=actor.scope, cluster_id=cluster.pk))


@router.get("/clusters/{cluster_id}", response=ClusterOut)
def get_cluster(request: HttpRequest, cluster_id: int) -> dict[str, Any]:
    return cluster_out(selectors.cluster_get(scope=_actor(request).scope, cluster_id=cluster_id))


@router.get("/clusters/{cluster_id}/graph", response=GraphOut)
def cluster_graph(
    request: HttpRequest, cluster_id: int, candidates: bool = False
) -> dict[str, Any]:
    """Cases, contacts and venues as nodes, exposures as edges (names masked)."""
    scope = _actor(request).scope
    cluster = selectors.cluster_get(scope=scope, cluster_id=cluster_id)
    return chains.cluster_graph(scope=scope, cluster=cluster, include_candidates=candidates)


@router.get("/clusters/{cluster_id}/curve", response=list[CurveDayOut])
def cluster_curve(request: HttpRequest, cluster_id: int) -> list[dict[str, Any]]:
    scope = _actor(request).scope
    cluster = selectors.cluster_get(scope=scope, cluster_id=cluster_id)
    return [
        {"day": d.day, "confirmed": d.confirmed, "asymptomatic": d.asymptomatic}
        for d in chains.cluster_curve(scope=scope, cluster=cluster)
    ]


@router.get("/clusters/{cluster_id}/sources", response=SourcesOut)
def cluster_sources(request: HttpRequest, cluster_id: int) -> dict[str, Any]:
    """Venues the cluster's cases shared before onset, ranked; earliest and imported cases."""
    scope = _actor(request).scope
    cluster = selectors.cluster_get(scope=scope, cluster_id=cluster_id)
    found = chains.cluster_sources(scope=scope, cluster=cluster)
    return {
        "shared": [
            {
                "venue_id": s.venue_id,
                "venue": found.venue_labels.get(s.venue_id, f"#{s.venue_id}"),
                "cases": s.cases,
                "visits": s.visits,
                "first_at": s.first_at,
                "last_at": s.last_at,
                "case_ids": list(s.case_ids),
            }
            for s in found.shared
        ],
        "earliest_case_id": found.earliest_case.pk if found.earliest_case else None,
        "imported_case_ids": [c.pk for c in found.imported],
        "cases": found.cases,
    }


@router.get("/kpis", response=KpisOut)
def get_kpis(request: HttpRequest, days: int = 28) -> dict[str, Any]:
    """Go.Data KPIs over the cases registered in the last `days` days (1..365)."""
    k = chains.kpis(scope=_actor(request).scope, days=max(1, min(days, 365)))
    return dataclasses.asdict(k)
