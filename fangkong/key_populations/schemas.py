"""API shapes of key populations. Persons appear by id and masked name only."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class EmployerIn(Schema):
    name: str = Field(max_length=200)
    credit_code: str = Field(max_length=40)
    group: str = Field(max_length=40)
    jurisdiction_code: str = Field(max_length=18)
    contact_name: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=40)


class EmployerOut(Schema):
    id: int
    name: str
    credit_code: str
    group: str
    jurisdiction_code: str
    jurisdiction_name: str
    contact_name: str
    contact_phone: str
    member_count: int
    due_count: int
    overdue_count: int


class EmployerPageOut(Schema):
    items: list[EmployerOut]
    next_after: int | None


class MemberOut(Schema):
    id: int
    employer_id: int
    employer_name: str
    person_id: int
    person_name: str
    doc_number: str
    group: str
    active: bool
    joined_on: dt.date
    last_tested_on: dt.date | None
    next_due_on: dt.date
    status: str
    days_overdue: int
    home_grid_code: str


class MemberPageOut(Schema):
    items: list[MemberOut]
    next_after: str | None


class TestIn(Schema):
    sampled_on: dt.date
    reference: str = Field(default="", max_length=64)


class TestOut(Schema):
    id: int
    member_id: int
    sampled_on: dt.date
    source: str
    reference: str


class LeaveIn(Schema):
    reason: str = Field(max_length=500)


class DistrictOut(Schema):
    code: str
    name: str
    employers: int
    members: int
    due: int
    overdue: int


class RowErrorOut(Schema):
    row: int
    column: str
    reason: str


class ImportOut(Schema):
    id: int
    employer_id: int
    outcome: str
    filename: str
    sha256: str
    rows: int
    created: int
    updated: int
    unchanged: int
    left: int
    tests: int
    persons_registered: int
    error_count: int
    errors: list[RowErrorOut]
    at: dt.datetime
