"""Writes of key populations by people: employers, employer accounts, a member's test, a
member leaving. The member-list import is `imports`, the periodic recompute `recompute`.

Each write checks permission (access.require_*) and scope, runs in one transaction, keeps
the employer's counters and leaves one audit row.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from fangkong.accounts.models import User
from fangkong.accounts.roles import Role
from fangkong.assignments.services import assignments_close_for_subject
from fangkong.audit.services import record
from fangkong.core import clock, phones
from fangkong.core.actor import Actor, system_actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.text import fold, squeeze
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.key_populations import access, rules
from fangkong.key_populations.models import Employer, EmployerAccount, Member, MemberTest
from fangkong.policy.sections.key_populations import GroupKind, KeyPopulationRules
from fangkong.policy.selectors import rulebook_in_force

NAME_MAX = 100
REFERENCE_MAX = 64
REASON_MAX = 500
EARLIEST_TEST = dt.date(2020, 1, 1)
WORK_KIND = "keypop_overdue"
WORK_SUBJECT = "keypop_member"

# 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, the last a check character.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def credit_check_char(first17: str) -> str:
    total = sum(
        _CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """An 18-character unified social credit code, upper-cased. Raises Invalid."""
    code = squeeze(raw or "").upper()
    if not _CREDIT.match(code):
        raise Invalid(
            "keypop.credit_code",
            "The unified social credit code must have 18 letters and digits",
            field="credit_code",
        )
    if credit_check_char(code[:17]) != code[17]:
        raise Invalid(
            "keypop.credit_code_check",
            "The unified social credit code fails its check character",
            field="credit_code",
        )
    return code


def keypop_rules() -> tuple[int, KeyPopulationRules]:
    """(policy version, key-population section) of the rulebook in force. Raises Conflict."""
    in_force = rulebook_in_force()
    return in_force.version, in_force.book.key_populations


# --- employers ------------------------------------------------------------------------------


@transaction.atomic
def employer_create(
    *,
    actor: Actor,
    name: str,
    credit_code: str,
    group: str,
    jurisdiction: Jurisdiction,
    contact_name: str = "",
    contact_phone: str = "",
) -> Employer:
    """Register an employer at a node of the caller's scope.

    Raises NotAllowed, NotFound (node outside scope), Invalid (name, code, group, phone),
    Conflict (the credit code is registered already)."""
    access.require_staff_manage(actor)
    if not actor.scope.covers(jurisdiction.path):
        raise NotFound("jurisdiction.not_found", "Jurisdiction not found")
    if jurisdiction.level < Level.DISTRICT:
        raise Invalid(
            "keypop.employer_level",
            "Place the employer in a district or below",
            field="jurisdiction",
        )
    clean_name = " ".join(fold(name or "").split())
    if not clean_name:
        raise Invalid("keypop.name_required", "The employer's name is required", field="name")
    if len(clean_name) > NAME_MAX:
        raise Invalid("keypop.name_too_long", "The employer's name is too long", field="name")
    code = normalise_credit_code(credit_code)
    if group not in {g.value for g in GroupKind}:
        raise Invalid("keypop.group", "Unknown key-population group", field="group")
    phone = phones.normalise_mobile(contact_phone) if fold(contact_phone or "") else ""
    if Employer.objects.filter(credit_code=code).exists():
        # Like people: the code is taken, and nothing is said about by whom.
        raise Conflict("keypop.employer_exists", "An employer with this credit code is registered")
    now = clock.now()
    employer = Employer(
        name=clean_name,
        credit_code=code,
        group_kind=group,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        contact_name=" ".join(fold(contact_name or "").split())[:NAME_MAX],
        contact_phone=phone,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            employer.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            "keypop.employer_exists", "An employer with this credit code is registered"
        ) from None
    record(actor=actor, action="keypop.employer_create", target=employer, detail={"group": group})
    return employer


@transaction.atomic
def employer_account_link(*, actor: Actor, employer: Employer, user: User) -> EmployerAccount:
    """Let an `employer` account see and maintain this employer's members (one employer per
    account; linking again moves it). Raises NotAllowed, NotFound, Invalid."""
    access.require_staff_manage(actor)
    if not actor.scope.covers(employer.jurisdiction_path):
        raise NotFound("keypop.employer_not_found", "Employer not found")
    if user.role != Role.EMPLOYER:
        raise Invalid("keypop.account_role", "Only an employer account can be linked", field="user")
    paths = [j.path for j in user.jurisdictions.all()]
    if not any(employer.jurisdiction_path.startswith(p) for p in paths):
        raise Invalid(
            "keypop.account_scope",
            "The account's jurisdiction does not cover the employer",
            field="user",
        )
    link, _created = EmployerAccount.objects.update_or_create(
        user=user, defaults={"employer": employer, "created_at": clock.now()}
    )
    record(
        actor=actor,
        action="keypop.account_link",
        target=employer,
        detail={"user_id": user.pk},
    )
    return link


def employer_counts_refresh(*, employer_ids: list[int] | None = None) -> int:
    """Recount members, due and overdue of employers (all when None); one UPDATE."""

    def count(extra: Q) -> Coalesce:
        sub = (
            Member.objects.filter(Q(employer_id=OuterRef("pk"), active=True) & extra)
            .order_by()
            .values("employer_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(sub, output_field=IntegerField()), 0)

    qs = Employer.objects.all()
    if employer_ids is not None:
        qs = qs.filter(pk__in=employer_ids)
    return qs.update(
        member_count=count(Q()),
        due_count=count(Q(status=rules.MemberStatus.DUE)),
        overdue_count=count(Q(status=rules.MemberStatus.OVERDUE)),
    )


# --- members --------------------------------------------------------------------------------


def apply_test_day(member: Member, *, day: dt.date, interval: int, grace_days: int) -> bool:
    """Move the member's last test, next due day and status for a sampling on `day`;
    returns whether anything changed. Does not save."""
    last = rules.later(member.last_tested_on, day)
    due = rules.next_due(joined_on=member.joined_on, last_tested_on=last, interval=interval)
    status = rules.status_on(due_on=due, today=clock.local_date(), grace_days=grace_days)
    changed = (last, due, status) != (member.last_tested_on, member.next_due_on, member.status)
    member.last_tested_on, member.next_due_on, member.status = last, due, status
    return changed


def close_work(*, members: list[Member], outcome: str) -> int:
    """Close the open grid work of members no longer overdue; clears their work_due_on."""
    closed = 0
    actor = system_actor("keypop.work_close")
    for m in members:
        if m.work_due_on is None:
            continue
        closed += assignments_close_for_subject(
            actor=actor, subject_type=WORK_SUBJECT, subject_id=m.pk, kind=WORK_KIND, outcome=outcome
        )
    ids = [m.pk for m in members if m.work_due_on is not None]
    if ids:
        Member.objects.filter(pk__in=ids).update(work_due_on=None)
    return closed


@transaction.atomic
def member_test_record(
    *,
    actor: Actor,
    member: Member,
    sampled_on: dt.date,
    reference: str = "",
    source: str = MemberTest.Source.EMPLOYER,
) -> MemberTest:
    """Record a sampling the employer organised (or staff saw) on a day. The same day twice is
    one test (returned unchanged). Raises NotAllowed, Invalid (a day in the future, before
    2020), Conflict (the member has left)."""
    access.require_maintain(actor, member.employer_id)
    if not actor.scope.covers(member.jurisdiction_path):
        raise NotFound("keypop.member_not_found", "Member not found")
    today = clock.local_date()
    if sampled_on > today:
        raise Invalid("keypop.test_future", "The sampling day is in the future", field="sampled_on")
    if sampled_on < EARLIEST_TEST:
        raise Invalid("keypop.test_too_old", "The sampling day is before 2020", field="sampled_on")
    if not member.active:
        raise Conflict("keypop.member_left", "The member has left the list")
    reference = fold(reference or "")[:REFERENCE_MAX]
    if source not in MemberTest.Source.values:
        raise Invalid("keypop.test_source", "Unknown source", field="source")
    existing = MemberTest.objects.filter(member=member, sampled_on=sampled_on).first()
    if existing is not None:
        return existing
    version, section = keypop_rules()
    locked = Member.objects.select_for_update().get(pk=member.pk)
    test = MemberTest.objects.create(
        member=locked,
        jurisdiction_path=locked.jurisdiction_path,
        sampled_on=sampled_on,
        source=source,
        reference=reference,
        recorded_by=actor.label[:150],
        recorded_at=clock.now(),
    )
    before = locked.status
    if apply_test_day(
        locked,
        day=sampled_on,
        interval=rules.interval_days(section, locked.group_kind),
        grace_days=section.grace_days,
    ):
        locked.updated_at = clock.now()
        locked.save(update_fields=["last_tested_on", "next_due_on", "status", "updated_at"])
    if locked.status != rules.MemberStatus.OVERDUE:
        close_work(members=[locked], outcome="tested")
    employer_counts_refresh(employer_ids=[locked.employer_id])
    record(
        actor=actor,
        action="keypop.test_record",
        target=locked,
        detail={
            "sampled_on": sampled_on.isoformat(),
            "source": source,
            "status": [before, locked.status],
            "policy_version": version,
        },
    )
    member.last_tested_on, member.next_due_on, member.status = (
        locked.last_tested_on,
        locked.next_due_on,
        locked.status,
    )
    return test


@transaction.atomic
def member_leave(*, actor: Actor, member: Member, reason: str) -> Member:
    """Take a member off the list (left the job, moved to other work). Raises NotAllowed,
    Invalid (no reason), Conflict (already left)."""
    access.require_maintain(actor, member.employer_id)
    if not actor.scope.covers(member.jurisdiction_path):
        raise NotFound("keypop.member_not_found", "Member not found")
    reason = " ".join(fold(reason or "").split())
    if not reason:
        raise Invalid("keypop.reason_required", "A reason is required", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid("keypop.reason_too_long", "The reason is too long", field="reason")
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if not locked.active:
        raise Conflict("keypop.member_left", "The member has left the list")
    locked.active, locked.left_on, locked.updated_at = False, clock.local_date(), clock.now()
    locked.save(update_fields=["active", "left_on", "updated_at"])
    close_work(members=[locked], outcome="left the key-population list")
    employer_counts_refresh(employer_ids=[locked.employer_id])
    record(actor=actor, action="keypop.member_leave", target=locked, reason=reason)
    return locked
