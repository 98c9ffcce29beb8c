"""API shapes for /api/control. Persons appear by id and masked name only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field


class ScheduledTestOut(Schema):
    id: int
    due_on: dt.date
    status: str
    sampled_at: dt.datetime | None
    result_ref: str


class PhaseOut(Schema):
    measure: str
    first_day: dt.date
    last_day: dt.date | None
    test_dates: list[dt.date]


class OrderOut(Schema):
    id: int
    person_id: int
    person_name: str  # masked
    jurisdiction_path: str
    category: str
    measure: str
    status: str
    basis_type: str
    basis_id: str
    policy_version: int
    edition: str
    anchor_date: dt.date
    start_date: dt.date
    release_on: dt.date | None
    next_test: dt.date | None
    place_kind: str
    room_id: int | None
    superseded_by_id: int | None
    reason: str
    created_at: dt.datetime
    released_at: dt.datetime | None
    phases: list[PhaseOut]
    tests: list[ScheduledTestOut]


class OrderPageOut(Schema):
    items: list[OrderOut]
    next_after: int | None


class OrderIssueIn(Schema):
    person_id: int
    category: str = Field(examples=["close_contact"])
    anchor: dt.date
    basis_type: str = Field(examples=["contact"])
    basis_id: str = ""
    basis_note: str = ""
    reason: str
    start: dt.date | None = None
    room_id: int | None = None
    replace_stricter: bool = False


class StatusIn(Schema):
    to_status: str = Field(examples=["in_effect"])
    reason: str
    basis_type: str
    basis_id: str = ""


class BulkStatusIn(StatusIn):
    order_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        min_length=1, max_length=1000
    )


class ChangeRequestOut(Schema):
    id: int
    kind: str
    status: str
    order_id: int | None
    payload: dict[str, object]
    approval_reasons: list[str]
    reason: str
    requested_by: str
    created_at: dt.datetime
    decided_by: str
    decided_at: dt.datetime | None


class StatusOut(Schema):
    order: OrderOut
    pending_request: ChangeRequestOut | None


class ReleaseIn(Schema):
    reason: str
    basis_id: str = ""


class DecideIn(Schema):
    approve: bool
    reason: str


class CodeReasonOut(Schema):
    order_id: int
    measure: str
    basis_type: str
    basis_id: str
    until: dt.date | None


class HealthCodeOut(Schema):
    person_id: int
    colour: str
    reasons: list[CodeReasonOut]


class TestResultIn(Schema):
    result: str = Field(examples=["negative"])
    sampled_at: dt.datetime
    result_ref: str = ""


class BulkStatusOut(Schema):
    applied: list[int]
    pending_request: ChangeRequestOut | None
