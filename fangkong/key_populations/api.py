"""/api/keypop: key populations for machine clients and the browser. request.auth is the Actor.

Each endpoint is a few lines over a service or selector; an employer's account is held to its
own employer by `access.require_view` (selectors take its restriction). Domain errors map to
HTTP in fangkong.api once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.key_populations import access, selectors, services
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import MemberTest
from fangkong.key_populations.present import employer_out, import_out, member_out
from fangkong.key_populations.schemas import (
    DistrictOut,
    EmployerIn,
    EmployerOut,
    EmployerPageOut,
    ImportOut,
    LeaveIn,
    MemberOut,
    MemberPageOut,
    TestIn,
    TestOut,
)

router = Router(tags=["key_populations"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


@router.get("/districts", response=list[DistrictOut])
def keypop_districts(request: HttpRequest) -> list[selectors.DistrictRow]:
    """Per district: employers, members, due and overdue (pre-aggregated)."""
    actor = _actor(request)
    return selectors.district_board(scope=actor.scope, only_employer=access.require_view(actor))


@router.get("/employers", response=EmployerPageOut)
def keypop_employer_list(
    request: HttpRequest,
    overdue_only: bool = False,
    after: int | None = None,
    limit: int = selectors.PAGE_SIZE,
) -> dict[str, Any]:
    """Employers in scope by id, with their counters; follow `next_after`."""
    actor = _actor(request)
    page = selectors.employer_list(
        scope=actor.scope,
        only_employer=access.require_view(actor),
        overdue_only=overdue_only,
        after=after,
        limit=limit,
    )
    return {"items": [employer_out(e) for e in page.items], "next_after": page.next_after}


@router.post("/employers", response={201: EmployerOut})
def keypop_employer_create(request: HttpRequest, body: EmployerIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    node = selectors.district_get(scope=actor.scope, code=body.jurisdiction_code)
    employer = services.employer_create(
        actor=actor,
        name=body.name,
        credit_code=body.credit_code,
        group=body.group,
        jurisdiction=node,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
    )
    return Status(201, employer_out(employer))


@router.get("/employers/{employer_id}", response=EmployerOut)
def keypop_employer_get(request: HttpRequest, employer_id: int) -> dict[str, Any]:
    actor = _actor(request)
    only = access.require_view(actor)
    return employer_out(
        selectors.employer_get(scope=actor.scope, only_employer=only, employer_id=employer_id)
    )


@router.get("/employers/{employer_id}/members", response=MemberPageOut)
def keypop_employer_members(
    request: HttpRequest,
    employer_id: int,
    status: str | None = None,
    after: str | None = None,
    limit: int = selectors.PAGE_SIZE,
) -> dict[str, Any]:
    """An employer's list, longest overdue first; status=overdue is its overdue list."""
    actor = _actor(request)
    only = access.require_view(actor)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=only, employer_id=employer_id
    )
    page = selectors.member_list(
        scope=actor.scope,
        only_employer=only,
        employer_id=employer.pk,
        status=status,
        after=after,
        limit=limit,
    )
    return {"items": [member_out(m) for m in page.items], "next_after": page.next_after}


@router.post("/employers/{employer_id}/import", response=ImportOut)
def keypop_member_import(
    request: HttpRequest,
    employer_id: int,
    file: File[UploadedFile],
    replace: Form[bool] = False,
) -> dict[str, Any]:
    """Import a member list (csv/xlsx). 422 with every row problem and the import's id (its
    error report: /keypop/imports/<id>/errors.xlsx) when anything is wrong; nothing written."""
    actor = _actor(request)
    only = access.require_view(actor)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=only, employer_id=employer_id
    )
    attempt = member_import(
        actor=actor, employer=employer, data=file, filename=file.name or "", replace=replace
    )
    if attempt.outcome != attempt.Outcome.DONE:
        raise Invalid(
            "import.invalid",
            f"{attempt.error_count} problems; nothing was imported",
            import_id=attempt.pk,
            errors=import_out(attempt)["errors"],
        )
    return import_out(attempt)


@router.get("/imports/{import_id}", response=ImportOut)
def keypop_import_get(request: HttpRequest, import_id: int) -> dict[str, Any]:
    actor = _actor(request)
    only = access.require_view(actor)
    return import_out(
        selectors.import_get(scope=actor.scope, only_employer=only, import_id=import_id)
    )


class MemberFilter(Schema):
    status: str | None = None
    district: str | None = None  # a district's (or any node's) code
    group: str | None = None
    after: str | None = None
    limit: int = selectors.PAGE_SIZE


@router.get("/members", response=MemberPageOut)
def keypop_member_list(request: HttpRequest, filters: Query[MemberFilter]) -> dict[str, Any]:
    """Members in scope, longest overdue first; status=overdue&district=<code> is a district's
    overdue list."""
    actor = _actor(request)
    only = access.require_view(actor)
    code = filters.district
    node = selectors.district_get(scope=actor.scope, code=code) if code else None
    page = selectors.member_list(
        scope=actor.scope,
        only_employer=only,
        status=filters.status,
        group=filters.group,
        district=node,
        after=filters.after,
        limit=filters.limit,
    )
    return {"items": [member_out(m) for m in page.items], "next_after": page.next_after}


@router.get("/members/{member_id}", response=MemberOut)
def keypop_member_get(request: HttpRequest, member_id: int) -> dict[str, Any]:
    actor = _actor(request)
    only = access.require_view(actor)
    return member_out(
        selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    )


@router.post("/members/{member_id}/tests", response={201: TestOut})
def keypop_member_test(request: HttpRequest, member_id: int, body: TestIn) -> Status[MemberTest]:
    """Record a sampling the employer organised; the same day again is the same test."""
    actor = _actor(request)
    only = access.require_view(actor)
    member = selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    test = services.member_test_record(
        actor=actor, member=member, sampled_on=body.sampled_on, reference=body.reference
    )
    return Status(201, test)


@router.post("/members/{member_id}/leave", response=MemberOut)
def keypop_member_leave(request: HttpRequest, member_id: int, body: LeaveIn) -> dict[str, Any]:
    actor = _actor(request)
    only = access.require_view(actor)
    member = selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    services.member_leave(actor=actor, member=member, reason=body.reason)
    return member_out(
        selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    )
