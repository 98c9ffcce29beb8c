"""Every write to assignments: creation by other services, the worker's status changes,
reassignment, and closing work whose duty was met elsewhere. Escalation is in `escalation`.

Each write checks permission and scope first (a denied call changes nothing), locks the row,
keeps the per-node tally, appends an event and an audit row, and enqueues notifications, all
in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.assignments import rules, tally
from fangkong.assignments.models import ACTIVE_STATUSES, Assignment, AssignmentEvent, Status
from fangkong.audit.services import record
from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import within
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.notifications.services import notify_post
from fangkong.policy import rules as policy_rules
from fangkong.policy.schema import Duty
from fangkong.policy.selectors import rulebook_in_force

MAX_TEXT = 2000


def _covered(actor: Actor, path: str) -> None:
    """Work outside the actor's scope looks missing, as everywhere (Raises NotFound)."""
    if not actor.scope.covers(path):
        raise NotFound("assignment.not_found", "Assignment not found")


def _text(value: str, *, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(f"assignment.{field}_required", f"A {field} is required", field=field)
    if len(value) > MAX_TEXT:
        raise Invalid(f"assignment.{field}_too_long", f"{field} is too long", field=field)
    return value


def responsible_post(node: Jurisdiction) -> Post | None:
    """The primary post answering for work at a node (grid worker at a grid, and so on)."""
    kind = rules.RESPONSIBLE_POST.get(node.level)
    return Post.objects.filter(jurisdiction=node, kind=kind, is_primary=True).order_by("id").first()


def _event(
    item: Assignment,
    *,
    actor: Actor,
    action: str,
    from_status: str = "",
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    AssignmentEvent.objects.create(
        assignment=item,
        at=clock.now(),
        action=action,
        actor_label=actor.label[:150],
        from_status=from_status,
        to_status=item.status,
        note=note,
        detail=detail or {},
    )


def _notify_assigned(item: Assignment) -> None:
    if item.post_id is None:
        return
    notify_post(
        post_id=item.post_id,
        subject=item.title,
        body=f"New work due {clock.to_local(item.due_at):%Y-%m-%d %H:%M}",
        link=f"/assignments/{item.pk}/",
        kind="assignment",
        dedupe_key=f"assignment:{item.pk}:assigned",
    )


@transaction.atomic
def assignment_create(
    *,
    actor: Actor,
    kind: str,
    jurisdiction: Jurisdiction,
    title: str,
    subject_type: str,
    subject_id: str | int,
    person_id: int | None = None,
    due_at: dt.datetime | None = None,
    duty: Duty | None = None,
    dedupe_key: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Assignment:
    """Create work at a node for its responsible post, due by the rulebook (or `due_at`).

    Called by other services with the end user's actor (which checked its own permission);
    the node must lie in that actor's scope (the system actor's covers the city). With a
    `dedupe_key` already used, returns the existing item and changes nothing.
    Raises NotFound (node outside scope), Invalid (bad kind, no deadline), Conflict (no rulebook).
    """
    return _create(
        actor=actor,
        kind=kind,
        jurisdiction=jurisdiction,
        title=title,
        subject_type=subject_type,
        subject_id=subject_id,
        person_id=person_id,
        due_at=due_at,
        duty=duty,
        dedupe_key=dedupe_key,
        detail=detail,
        policy_version=None,
    )


def _create(
    *,
    actor: Actor,
    kind: str,
    jurisdiction: Jurisdiction,
    title: str,
    subject_type: str,
    subject_id: str | int,
    person_id: int | None,
    due_at: dt.datetime | None,
    duty: Duty | None,
    dedupe_key: str | None,
    detail: dict[str, Any] | None,
    policy_version: int | None,
) -> Assignment:
    _covered(actor, jurisdiction.path)
    if dedupe_key is not None:
        existing = Assignment.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    if not rules.valid_kind(kind):
        raise Invalid("assignment.kind", f"Kind {kind!r} is not a lowercase_word", field="kind")
    title = _text(title, field="title")[:200]
    now = clock.now()
    if due_at is None:
        if duty is None:
            raise Invalid("assignment.no_deadline", "Give a duty or a deadline", field="due_at")
        in_force = rulebook_in_force(at=now)
        due_at = policy_rules.deadline(in_force.book, duty, from_=now)
        policy_version = in_force.version
    elif timezone.is_naive(due_at):
        raise Invalid("assignment.naive_deadline", "Deadline must be aware", field="due_at")
    post = responsible_post(jurisdiction)
    item = Assignment(
        kind=kind,
        title=title,
        subject_type=subject_type[:32],
        subject_id=str(subject_id)[:64],
        person_id=person_id,
        jurisdiction=jurisdiction,
        jurisdiction_path=jurisdiction.path,
        jurisdiction_level=jurisdiction.level,
        post=post,
        due_at=due_at,
        policy_version=policy_version,
        dedupe_key=dedupe_key,
        created_at=now,
        updated_at=now,
        detail={**(detail or {}), **({"duty": duty.value} if duty is not None else {})},
    )
    try:
        with transaction.atomic():  # a savepoint: a lost race on the key keeps the caller's
            item.save(force_insert=True)
    except IntegrityError:
        existing = Assignment.objects.filter(dedupe_key=dedupe_key).first() if dedupe_key else None
        if existing is None:
            raise
        return existing
    tally.apply([tally.state_delta(item, +1)])
    _event(item, actor=actor, action=AssignmentEvent.Action.CREATED)
    _audit_created(actor, item)
    _notify_assigned(item)
    return item


def _audit_created(actor: Actor, item: Assignment) -> None:
    record(
        actor=actor,
        action="assignments.create",
        target=item,
        detail={
            "kind": item.kind,
            "subject": f"{item.subject_type}:{item.subject_id}",
            "due_at": item.due_at.isoformat(),
            "policy_version": item.policy_version,
            "post_id": item.post_id,
        },
    )


def _locked(actor: Actor, assignment: Assignment) -> Assignment:
    """The row as it is now, locked for the change (the escalation pass may have moved it)."""
    _covered(actor, assignment.jurisdiction_path)
    item = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if item is None:
        raise NotFound("assignment.not_found", "Assignment not found")
    return item


def _move(
    actor: Actor,
    assignment: Assignment,
    *,
    to: Status,
    action: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> Assignment:
    """Move to a status, keeping the tally, the history and the audit log."""
    item = _locked(actor, assignment)
    if not rules.can_move(item.status, to):
        raise Conflict(
            "assignment.bad_transition",
            f"Cannot go from {item.status} to {to}",
            status=item.status,
            to=str(to),
        )
    before = item.status
    leaving = tally.state_delta(item, -1)
    now = clock.now()
    item.status = to
    item.updated_at = now
    fields = ["status", "updated_at"]
    if to not in ACTIVE_STATUSES:
        item.closed_at = now
        fields.append("closed_at")
    if to == Status.DONE:
        item.outcome = note
        fields.append("outcome")
    elif to in (Status.REJECTED, Status.REASSIGNED):
        item.reason = note
        fields.append("reason")
    item.save(update_fields=fields)
    tally.apply([leaving, tally.state_delta(item, +1)])
    if to == Status.DONE:
        tally.add_done([(item.jurisdiction_path, item.kind)], at=now)
    _event(item, actor=actor, action=action, from_status=before, note=note, detail=detail)
    record(
        actor=actor,
        action=f"assignments.{action}",
        target=item,
        reason=note,
        detail={"from": before, "to": str(to), **(detail or {})},
    )
    return item


@transaction.atomic
def assignment_start(*, actor: Actor, assignment: Assignment) -> Assignment:
    """Mark work as being done. Raises Conflict unless it is open."""
    require(actor, Perm.ASSIGNMENT_WORK)
    return _move(actor, assignment, to=Status.IN_PROGRESS, action=AssignmentEvent.Action.STARTED)


@transaction.atomic
def assignment_complete(*, actor: Actor, assignment: Assignment, outcome: str) -> Assignment:
    """Record the outcome and close the work. Raises Invalid without an outcome, Conflict
    when the work is already closed."""
    require(actor, Perm.ASSIGNMENT_WORK)
    outcome = _text(outcome, field="outcome")
    return _move(
        actor, assignment, to=Status.DONE, action=AssignmentEvent.Action.COMPLETED, note=outcome
    )


@transaction.atomic
def assignment_reject(*, actor: Actor, assignment: Assignment, reason: str) -> Assignment:
    """Refuse the work with a reason (not ours, duplicate, person unreachable...)."""
    require(actor, Perm.ASSIGNMENT_WORK)
    reason = _text(reason, field="reason")
    return _move(
        actor, assignment, to=Status.REJECTED, action=AssignmentEvent.Action.REJECTED, note=reason
    )


@transaction.atomic
def assignment_reassign(
    *, actor: Actor, assignment: Assignment, to: Jurisdiction, reason: str
) -> Assignment:
    """Close the work as reassigned and open the same duty at another node (same deadline,
    escalation starting afresh from there). Returns the new item; the dedupe key moves to it.
    Raises NotFound when `to` is outside the scope, Conflict when it is the same node."""
    require(actor, Perm.ASSIGNMENT_MANAGE)
    reason = _text(reason, field="reason")
    _covered(actor, to.path)
    item = _locked(actor, assignment)
    if to.pk == item.jurisdiction_id:
        raise Conflict("assignment.same_node", "The work is already at that node")
    key, item.dedupe_key = item.dedupe_key, None
    if key is not None:
        Assignment.objects.filter(pk=item.pk).update(dedupe_key=None)
    old = _move(
        actor,
        item,
        to=Status.REASSIGNED,
        action=AssignmentEvent.Action.REASSIGNED,
        note=reason,
        detail={"to": to.code},
    )
    new = _create(
        actor=actor,
        kind=old.kind,
        jurisdiction=to,
        title=old.title,
        subject_type=old.subject_type,
        subject_id=old.subject_id,
        person_id=old.person_id,
        due_at=old.due_at,
        dedupe_key=key,
        duty=None,
        detail={**old.detail, "reassigned_from": old.pk},
        policy_version=old.policy_version,
    )
    Assignment.objects.filter(pk=old.pk).update(reassigned_to=new)
    old.reassigned_to = new
    return new


@transaction.atomic
def assignments_close_for_subject(
    *,
    actor: Actor,
    subject_type: str,
    subject_id: str | int,
    kind: str | None = None,
    outcome: str,
) -> int:
    """Close the active work about a subject whose duty was met another way (the contact got
    isolated through a control order). Returns how many items closed; only items in the
    actor's scope are touched. One audit row for the call."""
    outcome = _text(outcome, field="outcome")
    qs = Assignment.objects.filter(
        subject_type=subject_type, subject_id=str(subject_id), closed_at__isnull=True
    )
    if kind is not None:
        qs = qs.filter(kind=kind)
    items = list(within(qs, actor.scope).select_for_update().order_by("id"))
    if not items:
        return 0
    now = clock.now()
    deltas = [tally.state_delta(i, -1) for i in items]
    events = []
    for i in items:
        events.append(
            AssignmentEvent(
                assignment=i,
                at=now,
                action=AssignmentEvent.Action.CLOSED,
                actor_label=actor.label[:150],
                from_status=i.status,
                to_status=Status.DONE,
                note=outcome,
            )
        )
    Assignment.objects.filter(pk__in=[i.pk for i in items]).update(
        status=Status.DONE, outcome=outcome, closed_at=now, updated_at=now
    )
    AssignmentEvent.objects.bulk_create(events)
    tally.apply(deltas)
    tally.add_done([(i.jurisdiction_path, i.kind) for i in items], at=now)
    record(
        actor=actor,
        action="assignments.close_for_subject",
        target_type=subject_type,
        target_id=str(subject_id),
        jurisdiction_path=items[0].jurisdiction_path,
        reason=outcome,
        detail={
            "subject": f"{subject_type}:{subject_id}",
            "kind": kind,
            "ids": [i.pk for i in items],
        },
    )
    return len(items)
