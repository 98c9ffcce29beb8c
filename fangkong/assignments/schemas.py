"""API shapes for /api/assignments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from fangkong.assignments.models import Assignment, AssignmentEvent
from fangkong.assignments.selectors import Board, Counts


class AssignmentOut(Schema):
    id: int
    kind: str
    title: str
    subject_type: str
    subject_id: str
    person_id: int | None
    jurisdiction_code: str
    jurisdiction_name: str
    status: str
    due_at: dt.datetime
    escalation_level: int
    escalated_to_code: str | None
    outcome: str
    reason: str
    policy_version: int | None
    reassigned_to_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None


class EventOut(Schema):
    at: dt.datetime
    action: str
    actor_label: str
    from_status: str
    to_status: str
    note: str


class AssignmentDetailOut(AssignmentOut):
    events: list[EventOut]


class AssignmentPageOut(Schema):
    items: list[AssignmentOut]
    next_after: str | None


class CompleteIn(Schema):
    outcome: str = Field(max_length=2000)


class RejectIn(Schema):
    reason: str = Field(max_length=2000)


class ReassignIn(Schema):
    to: str = Field(description="code of the jurisdiction node to hand the work to")
    reason: str = Field(max_length=2000)


class CountsOut(Schema):
    active: int
    open: int
    in_progress: int
    due_soon: int
    overdue: int
    done_today: int


class KindCountsOut(CountsOut):
    kind: str


class ChildCountsOut(CountsOut):
    code: str | None = Field(description="null: work held at the board's node itself")
    name: str


class BoardOut(Schema):
    code: str
    name: str
    now: dt.datetime
    due_soon_hours: int
    total: CountsOut
    by_kind: list[KindCountsOut]
    by_child: list[ChildCountsOut]


def assignment_out(item: Assignment) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "subject_type": item.subject_type,
        "subject_id": item.subject_id,
        "person_id": item.person_id,
        "jurisdiction_code": item.jurisdiction.code,
        "jurisdiction_name": item.jurisdiction.name,
        "status": item.status,
        "due_at": item.due_at,
        "escalation_level": item.escalation_level,
        "escalated_to_code": item.escalated_to.code if item.escalated_to else None,
        "outcome": item.outcome,
        "reason": item.reason,
        "policy_version": item.policy_version,
        "reassigned_to_id": item.reassigned_to_id,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_at": item.closed_at,
    }


def event_out(event: AssignmentEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "action": event.action,
        "actor_label": event.actor_label,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
    }


def _counts(c: Counts) -> dict[str, int]:
    return {
        "active": c.active,
        "open": c.open,
        "in_progress": c.in_progress,
        "due_soon": c.due_soon,
        "overdue": c.overdue,
        "done_today": c.done_today,
    }


def board_out(b: Board) -> dict[str, Any]:
    return {
        "code": b.node.code,
        "name": b.node.name,
        "now": b.now,
        "due_soon_hours": b.due_soon_hours,
        "total": _counts(b.total),
        "by_kind": [{"kind": r.kind, **_counts(r.counts)} for r in b.by_kind],
        "by_child": [
            {
                "code": r.node.code if r.node else None,
                "name": r.node.name if r.node else b.node.name,
                **_counts(r.counts),
            }
            for r in b.by_child
        ],
    }
