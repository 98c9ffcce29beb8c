"""API shapes for /api/tracing. Persons appear by id and masked name only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ClockOut(Schema):
    step: str
    due_at: dt.datetime
    done_at: dt.datetime | None
    state: str


class CaseOut(Schema):
    id: int
    person_id: int
    person_name: str  # masked
    jurisdiction_path: str
    kind: str
    found_by: str
    status: str
    sampled_at: dt.datetime
    onset_date: dt.date | None
    isolated_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    cluster_id: int | None
    infected_by_id: int | None
    chain_root_id: int | None
    from_contact_id: int | None
    imported: bool
    order_id: int | None
    policy_version: int
    created_at: dt.datetime
    clocks: list[ClockOut]


class CasePageOut(Schema):
    items: list[CaseOut]
    next_after: int | None


class CaseRegisterIn(Schema):
    person_id: Id
    kind: str = Field(examples=["confirmed"])
    found_by: str = Field(examples=["mass_testing"])
    sampled_at: dt.datetime
    onset_date: dt.date | None = None
    basis_type: str = Field(examples=["test"])
    basis_id: str
    reason: str
    imported: bool = False


class StepIn(Schema):
    step: str = Field(examples=["first_report"])
    report: str = Field(default="", max_length=20000)


class ContactOut(Schema):
    id: int
    case_id: int
    via_id: int | None
    person_id: int
    person_name: str  # masked
    degree: int
    category: str
    status: str
    exposure: str
    source: str
    first_exposure_at: dt.datetime
    last_exposure_at: dt.datetime
    venue_id: int | None
    cell_id: str
    encounters: int
    score: float
    order_id: int | None
    assist_request_id: int | None
    followed_up_at: dt.datetime | None
    became_case_id: int | None


class ContactPageOut(Schema):
    items: list[ContactOut]
    next_after: int | None


class ContactIn(Schema):
    person_id: Id
    exposure: str = Field(examples=["household"])
    first_exposure_at: dt.datetime
    last_exposure_at: dt.datetime | None = None
    via_id: Id | None = None
    venue_id: Id | None = None
    general: bool = False
    note: str = Field(default="", max_length=2000)


class RunIn(Schema):
    degree: int = Field(default=1, ge=1, le=2)


class RunOut(Schema):
    id: int
    case_id: int
    degree: int
    status: str = Field(examples=["queued"])  # queued, done, failed
    error: str = ""  # why a run failed
    progress: dict[str, Any] = Field(default_factory=dict)  # a queued run's stage
    window_start: dt.datetime
    window_end: dt.datetime
    candidates: int
    created: int
    seconds: float
    ran_at: dt.datetime
    finished_at: dt.datetime | None = None


class ConfirmIn(Schema):
    contact_ids: list[Id] = Field(min_length=1, max_length=2000)
    reason: str
    category: str | None = Field(default=None, examples=["close"])


class ConfirmOut(Schema):
    confirmed: int
    orders: int
    assist_requests: list[int]
    skipped: int


class DismissIn(Schema):
    contact_ids: list[Id] = Field(min_length=1, max_length=2000)
    reason: str


class DismissOut(Schema):
    dismissed: int


class FollowUpIn(Schema):
    note: str = Field(default="", max_length=500)


class ClusterOut(Schema):
    id: int
    name: str
    jurisdiction_code: str
    status: str
    basis_type: str
    basis_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class ClusterOpenIn(Schema):
    jurisdiction_code: str
    name: str
    person_ids: list[Id] = Field(default_factory=list, max_length=1000)
    basis_type: str
    basis_id: str
    reason: str


class GraphNodeOut(Schema):
    id: str
    type: str
    status: str
    label: str


class GraphLinkOut(Schema):
    source: str
    target: str
    kind: str


class GraphOut(Schema):
    nodes: list[GraphNodeOut]
    links: list[GraphLinkOut]
    truncated: bool


class CurveDayOut(Schema):
    day: dt.date
    confirmed: int
    asymptomatic: int


class SharedVenueOut(Schema):
    venue_id: int
    venue: str
    cases: int
    visits: int
    first_at: dt.datetime
    last_at: dt.datetime
    case_ids: list[int]


class SourcesOut(Schema):
    shared: list[SharedVenueOut]
    earliest_case_id: int | None
    imported_case_ids: list[int]
    cases: int


class KpisOut(Schema):
    since: dt.datetime
    cases: int
    contacts: int
    contacts_per_case: float
    known_contact_cases: int
    known_contact_share: float
    under_follow_up: int
    not_followed_up: int
    gap_days: int
    chains_active: int
    chains_closed: int
