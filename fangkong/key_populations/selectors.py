"""Every read of key populations. The first keyword argument is `scope`; `only_employer`
(from access.own_employer) holds an employer's account to its own employer's rows.

Lists are keyset pages (no OFFSET, no COUNT); boards read the employers' pre-aggregated
counters, never the member rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connections
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr

from fangkong.core.errors import NotFound
from fangkong.core.scope import Scope, path_prefix_q, within
from fangkong.jurisdictions.models import CODE_LENGTH, Jurisdiction, Level
from fangkong.key_populations.models import (
    Employer,
    EmployerAccount,
    Member,
    MemberImport,
    MemberTest,
)

PAGE_SIZE = 50
MAX_LIMIT = 200
# "/4409/440902/": the length of a district's path, the prefix its members' paths share.
DISTRICT_PATH_LENGTH = 1 + sum(CODE_LENGTH[lv] + 1 for lv in (Level.CITY, Level.DISTRICT))


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def _employers(scope: Scope, only_employer: int | None) -> QuerySet[Employer]:
    qs = within(Employer.objects.all(), scope)
    return qs if only_employer is None else qs.filter(pk=only_employer)


def _members(scope: Scope, only_employer: int | None) -> QuerySet[Member]:
    qs = within(Member.objects.all(), scope)
    return qs if only_employer is None else qs.filter(employer_id=only_employer)


def _district_q(qs: QuerySet[Member], district: Jurisdiction | None) -> QuerySet[Member]:
    if district is None:
        return qs
    return qs.filter(path_prefix_q("jurisdiction_path", district.path, vendor=_vendor(qs)))


def _vendor(qs: QuerySet[Member]) -> str:
    return connections[qs.db].vendor


@dataclass(frozen=True, slots=True)
class EmployerPage:
    items: list[Employer]
    next_after: int | None


def employer_list(
    *,
    scope: Scope,
    only_employer: int | None,
    overdue_only: bool = False,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> EmployerPage:
    """Employers in scope by id, with their counters; `overdue_only`: those with overdue members."""
    limit = _limit(limit)
    qs = _employers(scope, only_employer).select_related("jurisdiction")
    if overdue_only:
        qs = qs.filter(overdue_count__gt=0)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: limit + 1])
    items = rows[:limit]
    return EmployerPage(items, items[-1].pk if len(rows) > limit else None)


def employer_get(*, scope: Scope, only_employer: int | None, employer_id: int) -> Employer:
    """Raises NotFound for a missing employer and for one outside the caller's reach."""
    employer = (
        _employers(scope, only_employer)
        .select_related("jurisdiction")
        .filter(pk=employer_id)
        .first()
    )
    if employer is None:
        raise NotFound("keypop.employer_not_found", "Employer not found")
    return employer


def employer_by_credit_code(*, scope: Scope, credit_code: str) -> Employer | None:
    return within(Employer.objects.all(), scope).filter(credit_code=credit_code).first()


def employer_accounts(*, scope: Scope, employer: Employer) -> list[EmployerAccount]:
    """The sign-ins linked to an employer (the employer itself was fetched in scope)."""
    if not scope.covers(employer.jurisdiction_path):
        raise NotFound("keypop.employer_not_found", "Employer not found")
    return list(EmployerAccount.objects.filter(employer=employer).select_related("user"))


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: list[Member]
    next_after: str | None  # "<next_due_on>:<id>" of the last row


def _after(token: str | None) -> tuple[dt.date, int] | None:
    if not token:
        return None
    day, _, pk = token.partition(":")
    try:
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def member_list(
    *,
    scope: Scope,
    only_employer: int | None,
    employer_id: int | None = None,
    status: str | None = None,
    group: str | None = None,
    district: Jurisdiction | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> MemberPage:
    """Active members, longest overdue first (by next due day, then id): one keyset page.

    With `employer_id` the employer's list; with `district` the members of employers in that
    district. Persons come loaded with their grid (masked by the caller).
    """
    limit = _limit(limit)
    qs = _members(scope, only_employer).filter(active=True)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    if status:
        qs = qs.filter(status=status)
    if group:
        qs = qs.filter(group_kind=group)
    qs = _district_q(qs, district)
    if (key := _after(after)) is not None:
        day, pk = key
        qs = qs.filter(next_due_on__gt=day) | qs.filter(next_due_on=day, pk__gt=pk)
    rows = list(
        qs.select_related("person", "person__grid", "employer").order_by("next_due_on", "pk")[
            : limit + 1
        ]
    )
    items = rows[:limit]
    last = items[-1] if len(rows) > limit else None
    return MemberPage(items, f"{last.next_due_on.isoformat()}:{last.pk}" if last else None)


def member_get(*, scope: Scope, only_employer: int | None, member_id: int) -> Member:
    """Raises NotFound for a missing member and for one outside the caller's reach."""
    member = (
        _members(scope, only_employer)
        .select_related("person", "person__grid", "employer")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise NotFound("keypop.member_not_found", "Member not found")
    return member


def member_tests(*, scope: Scope, member: Member, limit: int = 20) -> list[MemberTest]:
    """A member's recorded samplings, newest first (the member was fetched in scope)."""
    return list(
        within(MemberTest.objects.filter(member=member), scope).order_by("-sampled_on")[:limit]
    )


@dataclass(frozen=True, slots=True)
class DistrictRow:
    code: str
    name: str
    path: str
    employers: int
    members: int
    due: int
    overdue: int


def district_board(*, scope: Scope, only_employer: int | None) -> list[DistrictRow]:
    """Per district: employers, members, due and overdue, from the employers' counters."""
    rows = (
        _employers(scope, only_employer)
        .filter(active=True)
        .annotate(district_path=Substr("jurisdiction_path", 1, DISTRICT_PATH_LENGTH))
        .values("district_path")
        .annotate(
            employers=Count("id"),
            n_members=Sum("member_count"),
            n_due=Sum("due_count"),
            n_overdue=Sum("overdue_count"),
        )
        .order_by("district_path")
    )
    figures = list(rows)
    nodes = {
        j.path: j
        for j in Jurisdiction.objects.filter(path__in=[r["district_path"] for r in figures])
    }
    out = []
    for r in figures:
        node = nodes.get(r["district_path"])
        out.append(
            DistrictRow(
                code=node.code if node else r["district_path"].strip("/").split("/")[-1],
                name=node.name if node else "",
                path=r["district_path"],
                employers=r["employers"],
                members=r["n_members"] or 0,
                due=r["n_due"] or 0,
                overdue=r["n_overdue"] or 0,
            )
        )
    return out


def district_get(*, scope: Scope, code: str) -> Jurisdiction:
    """A district (or any node) in scope by code. Raises NotFound."""
    node = within(Jurisdiction.objects.all(), scope, field_name="path").filter(code=code).first()
    if node is None:
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    return node


def import_list(
    *, scope: Scope, only_employer: int | None, employer: Employer, limit: int = 20
) -> list[MemberImport]:
    qs = within(MemberImport.objects.filter(employer=employer), scope)
    if only_employer is not None:
        qs = qs.filter(employer_id=only_employer)
    return list(qs.order_by("-at", "-pk")[:limit])


def import_get(*, scope: Scope, only_employer: int | None, import_id: int) -> MemberImport:
    """Raises NotFound for a missing import and for one outside the caller's reach."""
    qs = within(MemberImport.objects.select_related("employer"), scope)
    if only_employer is not None:
        qs = qs.filter(employer_id=only_employer)
    found = qs.filter(pk=import_id).first()
    if found is None:
        raise NotFound("keypop.import_not_found", "Import not found")
    return found
