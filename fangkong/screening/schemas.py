"""API shapes for /api/screening. Persons appear masked (name, document number, phone)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

Text = Annotated[str, Field(max_length=500)]


class ArrivalOut(Schema):
    id: int
    name: str  # masked
    doc_number: str  # masked
    phone: str  # masked
    jurisdiction_code: str
    jurisdiction_path: str
    placed: bool
    origin: str
    route: str
    risk_level: str
    category: str
    measure: str
    returnee_class: str
    arrival_date: dt.date | None
    status: str
    not_reached_reason: str
    sample_ref: str
    under_control: bool
    order_id: int | None
    source_count: int
    due_at: dt.datetime
    overdue: bool
    created_at: dt.datetime
    verified_at: dt.datetime | None


class ArrivalPageOut(Schema):
    items: list[ArrivalOut]
    next_after: str | None


class VerifyIn(Schema):
    reached: bool
    reason: Annotated[str, Field(max_length=32)] = ""
    confirmed_address: Annotated[str, Field(max_length=300)] = ""
    sample_ref: Annotated[str, Field(max_length=64)] = ""
    apply_measure: bool = False
    notes: Text = ""
    stays_in: Annotated[str, Field(max_length=18)] = ""


class PlaceIn(Schema):
    grid_code: Annotated[str, Field(max_length=18)]


class PersonIn(Schema):
    name: Annotated[str, Field(max_length=100)]
    doc_type: Annotated[str, Field(max_length=16)] = "resident_id"
    doc_number: Annotated[str, Field(max_length=40)]
    phone: Annotated[str, Field(max_length=20)] = ""
    address: Annotated[str, Field(max_length=300)] = ""


class CanvassIn(PersonIn):
    origin: Annotated[str, Field(max_length=200)] = ""
    route: Text = ""
    arrival_date: dt.date
    returnee_class: Annotated[str, Field(max_length=16)] = "other"


class AssistPersonIn(PersonIn):
    category: Annotated[str, Field(max_length=32)] = ""
    note: Text = ""


class AssistIn(Schema):
    to_code: Annotated[str, Field(max_length=18)]
    reason: Text
    basis_type: Annotated[str, Field(max_length=16)]
    basis_id: Annotated[str, Field(max_length=64)]
    persons: Annotated[list[AssistPersonIn], Field(min_length=1, max_length=1000)]


class AssistItemOut(Schema):
    id: int
    arrival_id: int
    name: str  # masked
    category: str
    outcome: str
    outcome_note: str
    replied_at: dt.datetime | None


class AssistOut(Schema):
    id: int
    from_code: str
    to_code: str
    reason: str
    basis_type: str
    basis_id: str
    state: str
    items_total: int
    items_replied: int
    due_at: dt.datetime
    overdue: bool
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    replied_at: dt.datetime | None
    items: list[AssistItemOut]


class FiguresOut(Schema):
    code: str
    name: str
    figures: dict[str, int]


class BoardOut(Schema):
    node: FiguresOut
    children: list[FiguresOut]


class BatchOut(Schema):
    id: int
    source_name: str
    kind: str
    filename: str
    state: str
    rows_total: int
    rows_done: int
    created_count: int
    merged_count: int
    unchanged_count: int
    error_count: int
    errors: list[dict[str, object]]
    progress: dict[str, int]
    created_at: dt.datetime
    finished_at: dt.datetime | None
