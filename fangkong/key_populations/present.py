"""How employers, members and imports are shown (API and pages): masked personal values."""

from __future__ import annotations

from typing import Any

from fangkong.core import clock
from fangkong.core.masking import mask_document, mask_name, mask_phone
from fangkong.key_populations import rules
from fangkong.key_populations.models import Employer, Member, MemberImport


def employer_out(e: Employer) -> dict[str, Any]:
    return {
        "id": e.pk,
        "name": e.name,
        "credit_code": e.credit_code,
        "group": e.group_kind,
        "jurisdiction_code": e.jurisdiction.code,
        "jurisdiction_name": e.jurisdiction.name,
        "contact_name": mask_name(e.contact_name) if e.contact_name else "",
        "contact_phone": mask_phone(e.contact_phone) if e.contact_phone else "",
        "member_count": e.member_count,
        "due_count": e.due_count,
        "overdue_count": e.overdue_count,
    }


def member_out(m: Member) -> dict[str, Any]:
    """From a member loaded with person, person__grid and employer."""
    person = m.person
    return {
        "id": m.pk,
        "employer_id": m.employer_id,
        "employer_name": m.employer.name,
        "person_id": m.person_id,
        "person_name": mask_name(person.name),
        "doc_number": mask_document(person.doc_number),
        "group": m.group_kind,
        "active": m.active,
        "joined_on": m.joined_on,
        "last_tested_on": m.last_tested_on,
        "next_due_on": m.next_due_on,
        "status": m.status,
        "days_overdue": rules.days_overdue(due_on=m.next_due_on, today=clock.local_date())
        if m.active and m.status == rules.MemberStatus.OVERDUE
        else 0,
        "home_grid_code": person.grid.code if person.grid is not None else "",
    }


def import_out(i: MemberImport) -> dict[str, Any]:
    return {
        "id": i.pk,
        "employer_id": i.employer_id,
        "outcome": i.outcome,
        "filename": i.filename,
        "sha256": i.sha256,
        "rows": i.rows,
        "created": i.created,
        "updated": i.updated,
        "unchanged": i.unchanged,
        "left": i.left,
        "tests": i.tests,
        "persons_registered": i.persons_registered,
        "error_count": i.error_count,
        "errors": [{"row": r, "column": c, "reason": reason} for r, c, reason in i.errors],
        "at": i.at,
    }
