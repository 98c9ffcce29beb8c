"""The sentinel API, mounted at /api/sentinel/: reporting units, batches from point-of-sale
and hospital systems (idempotent by the client's ids), zero reports, registers, missing
reports, series and alerts. Each endpoint is a few lines over a service or selector; domain
errors map to HTTP in fangkong.api once. Buyers and patients appear masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.masking import mask_document, mask_name, mask_phone
from fangkong.core.perms import Perm
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.places.selectors import place_get
from fangkong.sentinel import selectors, services
from fangkong.sentinel.models import Alert, Registration, Unit
from fangkong.sentinel.schemas import (
    AlertCloseIn,
    AlertDetailOut,
    AlertOut,
    AlertPageOut,
    BatchIn,
    BatchOut,
    DailyReportOut,
    MissingPageOut,
    RecordsQuery,
    RegistrationOut,
    RegistrationPageOut,
    SampleIn,
    SeriesPointOut,
    SeriesQuery,
    SummaryOut,
    TokenIn,
    TokenOut,
    UnitIn,
    UnitOut,
    UnitPageOut,
    ZeroReportIn,
)

router = Router(tags=["sentinel"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "jurisdiction_code": unit.jurisdiction.code,
        "jurisdiction_path": unit.jurisdiction_path,
        "place_id": unit.place_id,
        "active": unit.active,
    }


def registration_out(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.pk,
        "unit_id": reg.unit_id,
        "kind": reg.kind,
        "stream": reg.stream,
        "source": reg.source,
        "client_id": reg.client_id,
        "occurred_at": reg.occurred_at,
        "day": reg.day,
        "name": mask_name(reg.name),
        "doc_number": mask_document(reg.doc_number),
        "phone": mask_phone(reg.phone) if reg.phone else "",
        "home_grid_code": reg.home_grid.code if reg.home_grid_id and reg.home_grid else "",
        "drug_class": reg.drug_class,
        "product": reg.product,
        "quantity": reg.quantity,
        "fever": reg.fever,
        "cough": reg.cough,
        "sore_throat": reg.sore_throat,
        "temperature": float(reg.temperature) if reg.temperature is not None else None,
        "for_other": reg.for_other,
        "repeat_buyer": reg.repeat_buyer,
        "proxy_buyer": reg.proxy_buyer,
        "test_status": reg.test_status,
        "assignment_id": reg.assignment_id,
        "sampled_at": reg.sampled_at,
    }


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        f: getattr(alert, f)
        for f in (
            "level", "ref", "name", "jurisdiction_path", "stream", "day", "count", "threshold",
            "method", "params", "policy_version", "status", "outcome", "outcome_reason",
            "cluster_ref", "assignment_id", "due_at", "created_at", "closed_at",
        )
    } | {"id": alert.pk}  # fmt: skip


# --- units ---------------------------------------------------------------------------------


@router.get("/units", response=UnitPageOut)
def list_units(
    request: HttpRequest, kind: str = "", after: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """Reporting units in scope, newest first; follow `next_after`."""
    page = selectors.unit_list(scope=_actor(request).scope, kind=kind, after=after, limit=limit)
    return {"items": [unit_out(u) for u in page.items], "next_after": page.next_after}


@router.post("/units", response={201: UnitOut})
def register_unit(request: HttpRequest, body: UnitIn) -> Status[dict[str, Any]]:
    """Register a unit from a registry place (place_id) or at a jurisdiction node."""
    actor = _actor(request)
    place = place_get(scope=actor.scope, place_id=body.place_id) if body.place_id else None
    node = (
        jurisdiction_get(scope=actor.scope, code=body.jurisdiction_code)
        if body.jurisdiction_code and place is None
        else None
    )
    unit = services.unit_register(
        actor=actor, kind=body.kind, place=place, jurisdiction=node, code=body.code, name=body.name
    )
    return Status(201, unit_out(unit))


@router.get("/units/{unit_id}", response=UnitOut)
def get_unit(request: HttpRequest, unit_id: int) -> dict[str, Any]:
    return unit_out(selectors.unit_get(scope=_actor(request).scope, unit_id=unit_id))


@router.post("/units/{unit_id}/records", response=BatchOut)
def submit_records(request: HttpRequest, unit_id: int, body: BatchIn) -> dict[str, Any]:
    """File a batch of register lines (purchases for a pharmacy, visits for a clinic).

    Idempotent by `client_id`: a record whose id the unit already filed comes back as
    `duplicate` with the stored record's id and is not counted again. Valid records are
    stored even when others in the batch are `invalid` (field, code and message say why)."""
    actor = _actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    result = services.registrations_submit(
        actor=actor,
        unit=unit,
        items=[r.model_dump() for r in body.records],
        source=Registration.Source.API,
    )
    return {
        "accepted": result.count("accepted"),
        "duplicate": result.count("duplicate"),
        "invalid": result.count("invalid"),
        "items": [vars_of(i) for i in result.items],
    }


def vars_of(item: services.ItemResult) -> dict[str, Any]:
    return {f: getattr(item, f) for f in item.__slots__}


@router.post("/units/{unit_id}/zero-report", response=DailyReportOut)
def file_zero_report(request: HttpRequest, unit_id: int, body: ZeroReportIn) -> dict[str, Any]:
    """Say the unit had no buyers or patients that day (零报告)."""
    actor = _actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    report = services.zero_report_file(actor=actor, unit=unit, day=body.day)
    return {"unit_id": unit.pk, "day": report.day, "records": report.records, "zero": report.zero}


@router.post("/units/{unit_id}/tokens", response={201: TokenOut})
def issue_token(request: HttpRequest, unit_id: int, body: TokenIn) -> Status[dict[str, Any]]:
    """An API token for the unit's system; the secret is shown once."""
    actor = _actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    link, secret = services.unit_token_issue(actor=actor, unit=unit, name=body.name)
    return Status(201, {"token_id": link.token_id, "secret": secret})


# --- registers and reports -----------------------------------------------------------------


@router.get("/records", response=RegistrationPageOut)
def list_records(request: HttpRequest, q: Query[RecordsQuery]) -> dict[str, Any]:
    """Register lines in scope, newest first (masked). A pharmacy or clinic system sees its
    own unit's (give `unit_id`)."""
    actor = _actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=q.unit_id) if q.unit_id else None
    if unit is not None and not actor.can(Perm.SENTINEL_VIEW):
        services.check_reporter(actor, unit)
    page = selectors.registration_list(
        scope=actor.scope,
        unit=unit,
        day=q.day,
        flagged=q.flagged,
        test_required=q.test_required,
        after=q.after,
        limit=q.limit,
    )
    return {"items": [registration_out(r) for r in page.items], "next_after": page.next_after}


@router.post("/records/{registration_id}/sample", response=RegistrationOut)
def record_sample(request: HttpRequest, registration_id: int, body: SampleIn) -> dict[str, Any]:
    """The unit sampled the buyer on the spot after all: the grid's follow-up closes."""
    actor = _actor(request)
    reg = selectors.registration_get(scope=actor.scope, registration_id=registration_id)
    reg = services.registration_sample_record(
        actor=actor, registration=reg, unit=reg.unit, sample_ref=body.sample_ref
    )
    return registration_out(reg)


@router.get("/reports/missing", response=MissingPageOut)
def missing_reports(
    request: HttpRequest, day: dt.date | None = None, after: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """Active units that filed nothing (no record, no zero report) for the day (default:
    yesterday)."""
    day = day or clock.local_date() - dt.timedelta(days=1)
    page = selectors.missing_reports(scope=_actor(request).scope, day=day, after=after, limit=limit)
    return {"day": day, "items": [unit_out(u) for u in page.items], "next_after": page.next_after}


@router.get("/series", response=list[SeriesPointOut])
def get_series(request: HttpRequest, q: Query[SeriesQuery]) -> list[dict[str, Any]]:
    """One daily count series (level unit/town/district, ref a unit or node code)."""
    points = selectors.series(
        scope=_actor(request).scope,
        level=q.level,
        ref=q.ref,
        stream=q.stream,
        start=q.start,
        end=q.end,
    )
    return [{"day": d, "count": n} for d, n in points]


@router.get("/summary", response=SummaryOut)
def summary(request: HttpRequest, day: dt.date | None = None) -> dict[str, Any]:
    """The dashboard's sentinel figures for the scope."""
    day = day or clock.local_date()
    s = selectors.sentinel_summary(scope=_actor(request).scope, day=day, now=clock.now())
    return {
        "day": s.day,
        "open_alerts": s.open_alerts,
        "overdue_alerts": s.overdue_alerts,
        "outcomes": s.outcomes,
        "units": s.reports.units,
        "filed": s.reports.filed,
        "zero": s.reports.zero,
        "missing": s.reports.missing,
        "streams": s.streams,
    }


# --- alerts --------------------------------------------------------------------------------


@router.get("/alerts", response=AlertPageOut)
def list_alerts(
    request: HttpRequest, status: str = "", after: int | None = None, limit: int = 50
) -> dict[str, Any]:
    page = selectors.alert_list(
        scope=_actor(request).scope, status=status, after=after, limit=limit
    )
    return {"items": [alert_out(a) for a in page.items], "next_after": page.next_after}


@router.get("/alerts/{alert_id}", response=AlertDetailOut)
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """An alert with its evidence: the evaluated series, how many records are behind the
    count and where those people live (by grid)."""
    scope = _actor(request).scope
    alert = selectors.alert_get(scope=scope, alert_id=alert_id)
    evidence = selectors.alert_evidence(scope=scope, alert=alert)
    return alert_out(alert) | {
        "evidence": [tuple(e) for e in alert.evidence],
        "records_total": evidence.total,
        "grids": [{"code": g.code, "name": g.name, "count": g.count} for g in evidence.grids],
        "unknown_home": evidence.unknown_home,
    }


@router.post("/alerts/{alert_id}/close", response=AlertOut)
def close_alert(request: HttpRequest, alert_id: int, body: AlertCloseIn) -> dict[str, Any]:
    """Close an alert: false_alarm or explained (with the reason), or cluster_suspected
    (opens a cluster investigation for the registered persons behind the count)."""
    actor = _actor(request)
    alert = selectors.alert_get(scope=actor.scope, alert_id=alert_id)
    return alert_out(
        services.alert_close(actor=actor, alert=alert, outcome=body.outcome, reason=body.reason)
    )
