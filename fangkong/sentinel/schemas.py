"""API shapes for /api/sentinel. Buyers and patients appear masked."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

Short = Field(default="", max_length=200)


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    jurisdiction_code: str
    jurisdiction_path: str
    place_id: int | None
    active: bool


class UnitPageOut(Schema):
    items: list[UnitOut]
    next_after: int | None


class UnitIn(Schema):
    kind: str = Field(examples=["pharmacy"], max_length=16)
    place_id: int | None = None
    jurisdiction_code: str | None = Field(default=None, max_length=24)
    code: str = Field(default="", max_length=24)
    name: str = Field(default="", max_length=120)


class RecordIn(Schema):
    """One register line. Purchases need drug_class; visits ignore the drug fields."""

    client_id: str | None = Field(default=None, max_length=64, examples=["POS-20220120-0001"])
    occurred_at: dt.datetime | None = None
    doc_type: str = Field(default="resident_id", max_length=16)
    doc_number: str = Field(max_length=32)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=32)
    drug_class: str = Field(default="", max_length=16, examples=["antipyretic"])
    product: str = Field(default="", max_length=100)
    quantity: int = Field(default=1, ge=0, le=100_000)
    fever: bool = False
    cough: bool = False
    sore_throat: bool = False
    other_symptoms: str = Short
    temperature: float | None = Field(default=None, ge=0, le=100)
    travel_history: str = Short
    contact_history: str = Short
    for_other: bool = False
    for_name: str = Field(default="", max_length=100)
    for_doc_number: str = Field(default="", max_length=32)
    for_relation: str = Field(default="", max_length=32)
    sampled: bool = False
    sample_ref: str = Field(default="", max_length=64)


class BatchIn(Schema):
    records: list[RecordIn] = Field(max_length=500)


class ItemOut(Schema):
    index: int
    status: str  # accepted | duplicate | invalid
    id: int | None
    client_id: str | None
    field: str
    code: str
    message: str
    test_status: str
    repeat_buyer: bool
    proxy_buyer: bool
    assignment_id: int | None


class BatchOut(Schema):
    accepted: int
    duplicate: int
    invalid: int
    items: list[ItemOut]


class ZeroReportIn(Schema):
    day: dt.date


class DailyReportOut(Schema):
    unit_id: int
    day: dt.date
    records: int
    zero: bool


class TokenIn(Schema):
    name: str = Field(default="POS", max_length=60)


class TokenOut(Schema):
    token_id: int
    secret: str  # shown once


class RegistrationOut(Schema):
    id: int
    unit_id: int
    kind: str
    stream: str
    source: str
    client_id: str | None
    occurred_at: dt.datetime
    day: dt.date
    name: str  # masked
    doc_number: str  # masked
    phone: str  # masked
    home_grid_code: str
    drug_class: str
    product: str
    quantity: int
    fever: bool
    cough: bool
    sore_throat: bool
    temperature: float | None
    for_other: bool
    repeat_buyer: bool
    proxy_buyer: bool
    test_status: str
    assignment_id: int | None
    sampled_at: dt.datetime | None


class RegistrationPageOut(Schema):
    items: list[RegistrationOut]
    next_after: int | None


class SampleIn(Schema):
    sample_ref: str = Field(max_length=64)


class MissingPageOut(Schema):
    day: dt.date
    items: list[UnitOut]
    next_after: int | None


class SeriesPointOut(Schema):
    day: dt.date
    count: int


class AlertOut(Schema):
    id: int
    level: str
    ref: str
    name: str
    jurisdiction_path: str
    stream: str
    day: dt.date
    count: int
    threshold: float
    method: str
    params: dict[str, float | int | bool | str]
    policy_version: int
    status: str
    outcome: str
    outcome_reason: str
    cluster_ref: str
    assignment_id: int | None
    due_at: dt.datetime | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


class GridCountOut(Schema):
    code: str
    name: str
    count: int


class AlertDetailOut(AlertOut):
    evidence: list[tuple[dt.date, int, float | None]]
    records_total: int
    grids: list[GridCountOut]
    unknown_home: int


class AlertPageOut(Schema):
    items: list[AlertOut]
    next_after: int | None


class AlertCloseIn(Schema):
    outcome: str = Field(examples=["false_alarm"], max_length=20)
    reason: str = Field(max_length=500)


class SummaryOut(Schema):
    day: dt.date
    open_alerts: int
    overdue_alerts: int
    outcomes: dict[str, int]
    units: int
    filed: int
    zero: int
    missing: int
    streams: dict[str, int]


class RecordsQuery(Schema):
    unit_id: int | None = None
    day: dt.date | None = None
    flagged: bool = False
    test_required: bool = False
    after: int | None = None
    limit: int = Field(default=50, ge=1, le=200)


class SeriesQuery(Schema):
    level: str = Field(examples=["town"], max_length=8)
    ref: str = Field(max_length=24)
    stream: str = Field(examples=["antipyretic"], max_length=16)
    start: dt.date
    end: dt.date
