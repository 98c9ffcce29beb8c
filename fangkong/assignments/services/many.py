"""Creating many assignments at once (a positive pool's retest duties, a lab file's holds):
each item as `assignment_create` would leave it, in a few statements for all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.assignments import rules, tally
from fangkong.assignments.models import Assignment, AssignmentEvent
from fangkong.assignments.services._core import (
    _audit_created,
    _covered,
    _create,
    _notify_assigned,
    _text,
)
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.policy import rules as policy_rules
from fangkong.policy.schema import Duty
from fangkong.policy.selectors import BookInForce, rulebook_in_force


@dataclass(frozen=True, slots=True)
class NewAssignment:
    """One item for `assignments_create_many`: the arguments of `assignment_create`."""

    kind: str
    jurisdiction: Jurisdiction
    title: str
    subject_type: str
    subject_id: str | int
    person_id: int | None = None
    due_at: dt.datetime | None = None
    duty: Duty | None = None
    dedupe_key: str | None = None
    detail: dict[str, Any] | None = None


@transaction.atomic
def assignments_create_many(*, actor: Actor, items: Sequence[NewAssignment]) -> list[Assignment]:
    """`assignment_create` for many items at once; returns one Assignment per item, in order.

    Each item gets exactly what `assignment_create` would give it (the existing item for a
    dedupe key already used, also earlier in the same call; the tally, an event, an audit row
    and the post's notification for each new one), with a few statements for the whole call
    instead of a dozen per item. Raises like `assignment_create`, before anything is written.
    """
    now = clock.now()
    keys = [i.dedupe_key for i in items if i.dedupe_key is not None]
    existing = _by_key(Assignment.objects.filter(dedupe_key__in=keys)) if keys else {}
    in_force: BookInForce | None = None
    fresh: list[Assignment] = []
    planned: list[Assignment | str] = []  # the new item, or the dedupe key it shares
    for it in items:
        _covered(actor, it.jurisdiction.path)
        key = it.dedupe_key
        if key is not None and key in existing:
            planned.append(key)
            continue
        if not rules.valid_kind(it.kind):
            raise Invalid(
                "assignment.kind", f"Kind {it.kind!r} is not a lowercase_word", field="kind"
            )
        title = _text(it.title, field="title")[:200]
        due_at, policy_version = it.due_at, None
        if due_at is None:
            if it.duty is None:
                raise Invalid("assignment.no_deadline", "Give a duty or a deadline", field="due_at")
            in_force = in_force or rulebook_in_force(at=now)
            due_at = policy_rules.deadline(in_force.book, it.duty, from_=now)
            policy_version = in_force.version
        elif timezone.is_naive(due_at):
            raise Invalid("assignment.naive_deadline", "Deadline must be aware", field="due_at")
        item = Assignment(
            kind=it.kind,
            title=title,
            subject_type=it.subject_type[:32],
            subject_id=str(it.subject_id)[:64],
            person_id=it.person_id,
            jurisdiction=it.jurisdiction,
            jurisdiction_path=it.jurisdiction.path,
            jurisdiction_level=it.jurisdiction.level,
            due_at=due_at,
            policy_version=policy_version,
            dedupe_key=key,
            created_at=now,
            updated_at=now,
            detail={
                **(it.detail or {}),
                **({"duty": it.duty.value} if it.duty is not None else {}),
            },
        )
        fresh.append(item)
        planned.append(item)
        if key is not None:
            existing[key] = item  # a later item with the same key gets this one
    if fresh:
        posts = _responsible_posts([a.jurisdiction for a in fresh])
        for a in fresh:
            a.post = posts.get(a.jurisdiction_id)
        try:
            with transaction.atomic():  # a savepoint, as in _create
                Assignment.objects.bulk_create(fresh)
        except IntegrityError:
            # A concurrent call took one of the keys since the read above: item by item,
            # each settles its own race exactly as assignment_create does.
            return [_create_one(actor, it) for it in items]
        _created(actor, fresh, at=now)
    return [p if isinstance(p, Assignment) else existing[p] for p in planned]


def _by_key(items: Iterable[Assignment]) -> dict[str, Assignment]:
    return {a.dedupe_key: a for a in items if a.dedupe_key is not None}


def _create_one(actor: Actor, it: NewAssignment) -> Assignment:
    return _create(
        actor=actor,
        kind=it.kind,
        jurisdiction=it.jurisdiction,
        title=it.title,
        subject_type=it.subject_type,
        subject_id=it.subject_id,
        person_id=it.person_id,
        due_at=it.due_at,
        duty=it.duty,
        dedupe_key=it.dedupe_key,
        detail=it.detail,
        policy_version=None,
    )


def _responsible_posts(nodes: Sequence[Jurisdiction]) -> dict[int, Post]:
    """`responsible_post` of each node, in one query: {node id: post}."""
    wanted = {n.pk: rules.RESPONSIBLE_POST.get(n.level) for n in nodes}
    rows = Post.objects.filter(
        jurisdiction_id__in=list(wanted),
        kind__in={k for k in wanted.values() if k},
        is_primary=True,
    ).order_by("id")
    found: dict[int, Post] = {}
    for post in rows:
        if post.kind == wanted[post.jurisdiction_id] and post.jurisdiction_id not in found:
            found[post.jurisdiction_id] = post
    return found


def _created(actor: Actor, items: Sequence[Assignment], *, at: dt.datetime) -> None:
    """What follows the insert of new items: tally, events, audit rows, notifications."""
    tally.apply([tally.state_delta(i, +1) for i in items])
    AssignmentEvent.objects.bulk_create(
        [
            AssignmentEvent(
                assignment=i,
                at=at,
                action=AssignmentEvent.Action.CREATED,
                actor_label=actor.label[:150],
                from_status="",
                to_status=i.status,
                note="",
                detail={},
            )
            for i in items
        ]
    )
    for i in items:
        _audit_created(actor, i)
        _notify_assigned(i)
