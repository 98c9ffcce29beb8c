"""Cases and their investigations: registration (with the chain it extends), the clocks,
the self-reported trajectory, closing."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fangkong.assignments import services as assignments
from fangkong.audit.services import record
from fangkong.control import services as control
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.policy import rules as policy_rules
from fangkong.policy.selectors import rulebook_in_force
from fangkong.tracing import rules
from fangkong.tracing.models import Case, ClusterMember, Contact, Investigation, TrajectoryEntry
from fangkong.tracing.rules import CaseKind, ContactStatus, FoundBy, Step
from fangkong.tracing.services._common import (
    INVESTIGATION_SUBJECT,
    aware,
    clean_basis,
    clean_reason,
    covered,
    enum_value,
    person_locked,
    work_node,
)

STEP_LABELS = {
    Step.FIRST_REPORT: gettext_noop("First investigation report"),
    Step.CONTACT_LIST: gettext_noop("Contact list"),
    Step.FULL_REPORT: gettext_noop("Full investigation report"),
}


@transaction.atomic
def case_register(
    actor: Actor,
    *,
    person_id: int,
    kind: str,
    found_by: str,
    sampled_at: dt.datetime,
    onset_date: dt.date | None = None,
    basis_type: str,
    basis_id: str,
    reason: str,
    imported: bool = False,
) -> Case:
    """Register a positive person as a case, open its investigation and put them under the
    case's control order.

    Idempotent per person while a case is open: a second call returns the open case and
    changes nothing. When the person was a known contact, the case joins that contact's
    chain (and cluster). The investigation's three clocks become assignments at the case's
    district (or the highest node of it the actor covers) with the rulebook's deadlines.
    Callers from machine flows (a positive single-tube retest) pass the system actor.
    Raises NotFound (person missing or outside the scope), Invalid (bad input), NotAllowed.
    """
    require(actor, Perm.TRACING_WRITE)
    person = person_locked(actor, person_id)
    case_kind = enum_value(CaseKind, kind, "kind")
    found = enum_value(FoundBy, found_by, "found_by")
    aware(sampled_at, "sampled_at")
    now = clock.now()
    if sampled_at > now + dt.timedelta(minutes=10):
        raise Invalid("tracing.sampled_future", "Sampling lies in the future", field="sampled_at")
    if onset_date is not None and onset_date > clock.local_date():
        raise Invalid("tracing.onset_future", "Onset lies in the future", field="onset_date")
    reason = clean_reason(reason)
    b_type, b_id = clean_basis(basis_type, basis_id)

    existing = Case.objects.filter(person=person, status=Case.Status.OPEN).first()
    if existing is not None:
        return existing

    in_force = rulebook_in_force()
    edges = list(
        Contact.objects.select_for_update()
        .filter(person=person, became_case__isnull=True)
        .exclude(status=ContactStatus.DISMISSED)
        .select_related("case")
        .order_by("first_exposure_at", "pk")
    )
    known = [e for e in edges if e.status == ContactStatus.CONFIRMED]
    source = known[0] if known else None
    # A known contact was isolated when their order was issued: their infectious window
    # ends there, not at today's registration.
    isolations = [e.isolated_at for e in known if e.isolated_at is not None]
    isolated_at = min(isolations) if isolations else now
    start, end = rules.infectious_window(
        in_force.book.tracing,
        onset_date=onset_date,
        sampled_at=sampled_at,
        isolated_at=isolated_at,
        now=now,
    )
    case = Case.objects.create(
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        kind=case_kind.value,
        found_by=found.value,
        sampled_at=sampled_at,
        onset_date=onset_date,
        isolated_at=isolated_at,
        window_start=start,
        window_end=end,
        infected_by=source.case if source else None,
        cluster_id=source.case.cluster_id if source else None,
        from_contact=source,
        imported=imported,
        basis_type=b_type,
        basis_id=b_id,
        reason=reason,
        policy_version=in_force.version,
        created_by=actor.label[:150],
        created_at=now,
    )
    case.chain_root_id = (source.case.chain_root_id or source.case_id) if source else case.pk
    member = (
        ClusterMember.objects.select_for_update()
        .filter(person=person, case__isnull=True, cluster__status="active")
        .order_by("pk")
        .first()
    )
    if case.cluster_id is None and member is not None:
        case.cluster_id = member.cluster_id
    case.save(update_fields=["chain_root", "cluster"])
    ClusterMember.objects.filter(person=person, case__isnull=True).update(case=case)
    if case.cluster_id is not None:
        ClusterMember.objects.get_or_create(
            cluster_id=case.cluster_id,
            person=person,
            defaults={"jurisdiction_path": case.jurisdiction_path, "case": case, "added_at": now},
        )
    if edges:
        Contact.objects.filter(pk__in=[e.pk for e in edges]).update(
            became_case=case, updated_at=now
        )

    investigation = _open_investigation(actor, case, in_force_version=in_force.version, now=now)
    order = control.order_issue(
        actor=actor,
        person=person,
        category=rules.CASE_CATEGORY[case_kind],
        anchor=clock.local_date(),
        basis_type="case",
        basis_id=case.pk,
        reason=reason,
    )
    case.order_id = order.pk
    case.save(update_fields=["order_id"])
    case.registered_now = True
    record(
        actor=actor,
        action="tracing.case_register",
        target=case,
        reason=reason,
        detail={
            "person_id": person.pk,
            "kind": case_kind.value,
            "found_by": found.value,
            "basis": f"{b_type}:{b_id}",
            "infected_by": case.infected_by_id,
            "from_contact": case.from_contact_id,
            "cluster": case.cluster_id,
            "investigation": investigation.pk,
            "order": order.pk,
            "policy_version": in_force.version,
        },
    )
    return case


def _open_investigation(
    actor: Actor, case: Case, *, in_force_version: int, now: dt.datetime
) -> Investigation:
    book = rulebook_in_force(at=now).book
    due = {s: policy_rules.deadline(book, rules.STEP_DUTY[s], from_=now) for s in Step}
    investigation = Investigation.objects.create(
        case=case,
        jurisdiction_path=case.jurisdiction_path,
        policy_version=in_force_version,
        first_report_due=due[Step.FIRST_REPORT],
        contact_list_due=due[Step.CONTACT_LIST],
        full_report_due=due[Step.FULL_REPORT],
        updated_at=now,
    )
    node = work_node(actor, case.jurisdiction_path)
    for step in Step:
        duty = rules.STEP_DUTY[step]
        with translation.override(settings.LANGUAGE_CODE):
            title = _("%(step)s: case %(case)s") % {"step": _(STEP_LABELS[step]), "case": case.pk}
        assignments.assignment_create(
            actor=actor,
            kind=duty.value,
            jurisdiction=node,
            title=title,
            subject_type=INVESTIGATION_SUBJECT,
            subject_id=investigation.pk,
            person_id=case.person_id,
            due_at=due[step],
            duty=duty,
            dedupe_key=f"{INVESTIGATION_SUBJECT}:{investigation.pk}:{step.value}",
        )
    return investigation


STEP_FIELD = {
    Step.FIRST_REPORT: "first_report_at",
    Step.CONTACT_LIST: "contact_list_at",
    Step.FULL_REPORT: "full_report_at",
}


@transaction.atomic
def investigation_step_complete(
    actor: Actor, *, investigation: Investigation, step: str, report: str = ""
) -> Investigation:
    """Stop one of the investigation's clocks (and close its assignment). Completing a step
    twice changes nothing. Raises NotFound (outside the scope), Invalid (unknown step)."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, investigation.jurisdiction_path)
    which = enum_value(Step, step, "step")
    inv = Investigation.objects.select_for_update().get(pk=investigation.pk)
    field = STEP_FIELD[which]
    if getattr(inv, field) is not None:
        return inv
    if which == Step.FULL_REPORT and not (report or inv.report).strip():
        raise Invalid("tracing.report_required", "The full report needs its text", field="report")
    now = clock.now()
    setattr(inv, field, now)
    fields = [field, "updated_at"]
    if report.strip():
        inv.report = report.strip()[:20000]
        fields.append("report")
    inv.updated_at = now
    inv.save(update_fields=fields)
    due = getattr(inv, field.replace("_at", "_due"))
    assignments.assignments_close_for_subject(
        actor=actor,
        subject_type=INVESTIGATION_SUBJECT,
        subject_id=inv.pk,
        kind=rules.STEP_DUTY[which].value,
        outcome=f"{which.value} done",
    )
    record(
        actor=actor,
        action="tracing.investigation_step",
        target=inv,
        detail={"step": which.value, "case": inv.case_id, "late": now > due},
    )
    return inv


@transaction.atomic
def trajectory_add(
    actor: Actor,
    *,
    case: Case,
    place: str,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    venue_id: int | None = None,
) -> TrajectoryEntry:
    """Add a self-reported stop to a case's trajectory. Raises NotFound, Invalid."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, case.jurisdiction_path)
    text = " ".join((place or "").split())
    if not text or len(text) > 300:
        raise Invalid("tracing.place", "Say where (at most 300 characters)", field="place")
    aware(started_at, "started_at")
    if ended_at is not None and aware(ended_at, "ended_at") < started_at:
        raise Invalid("tracing.ended_before", "The stop ends before it starts", field="ended_at")
    if started_at > clock.now():
        raise Invalid("tracing.started_future", "The stop lies in the future", field="started_at")
    entry = TrajectoryEntry.objects.create(
        case=case,
        jurisdiction_path=case.jurisdiction_path,
        place=text,
        venue_id=venue_id,
        started_at=started_at,
        ended_at=ended_at,
        created_by=actor.label[:150],
        created_at=clock.now(),
    )
    record(actor=actor, action="tracing.trajectory_add", target=entry, detail={"case": case.pk})
    return entry


@transaction.atomic
def case_close(actor: Actor, *, case: Case, reason: str) -> Case:
    """Close a case (cured, or registered in error). Raises NotFound, Conflict."""
    require(actor, Perm.TRACING_WRITE)
    covered(actor, case.jurisdiction_path)
    reason = clean_reason(reason)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status != Case.Status.OPEN:
        raise Conflict("tracing.case_closed", "The case is already closed")
    locked.status, locked.closed_at = Case.Status.CLOSED, clock.now()
    locked.save(update_fields=["status", "closed_at"])
    record(actor=actor, action="tracing.case_close", target=locked, reason=reason)
    return locked
