"""API shapes of the lake."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Ts = Annotated[int, Field(ge=0, le=2**32 - 1)]
# A client's own ids: visible ASCII (they are keys in the ledger, shown in the audit trail).
BatchKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/@#+=-]+$")]


class CheckinBatchIn(Schema):
    client_id: BatchKey = Field(examples=["scanner-440902-17"])
    batch_id: BatchKey = Field(examples=["2026-11-29T10:00:00-0001"])
    # [person_id, venue_id, ts]: venue = places.Place id, ts = epoch seconds
    rows: list[tuple[Id, Id, Ts]] = Field(min_length=1, max_length=50_000)


class DwellBatchIn(Schema):
    client_id: BatchKey = Field(examples=["telecom-1"])
    batch_id: BatchKey = Field(examples=["20261129-0001"])
    # [person_id, cell_id, start_ts, end_ts]: an 800 m cell, epoch seconds
    rows: list[tuple[Id, Id, Ts, Ts]] = Field(min_length=1, max_length=50_000)


class BatchOut(Schema):
    kind: str
    source: str
    client_id: str
    batch_id: str
    rows: int
    first_ts: int
    last_ts: int
    received_at: dt.datetime
    created: bool  # false: the batch had arrived before and nothing was stored again


class ScanOut(Schema):
    venue_id: int
    ts: int


class StayOut(Schema):
    cell_id: int
    start_ts: int
    end_ts: int


class TrajectoryOut(Schema):
    person_id: int
    start: int
    end: int
    scans: list[ScanOut]
    stays: list[StayOut]
    truncated: bool
