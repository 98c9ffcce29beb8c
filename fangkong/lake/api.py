"""/api/lake: check-in and dwell batches from machine clients; a person's trajectory.

Each endpoint is a few lines over a service or selector; domain errors map to HTTP once, in
fangkong.api. A new batch answers 201, a batch that had arrived before 200 (nothing stored).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from fangkong.core.actor import Actor
from fangkong.lake import selectors, services
from fangkong.lake.schemas import BatchOut, CheckinBatchIn, DwellBatchIn, TrajectoryOut
from fangkong.lake.selectors import Trajectory
from fangkong.lake.services import IngestResult

router = Router(tags=["lake"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _batch(result: IngestResult) -> Status[dict[str, Any]]:
    b = result.batch
    body = {
        "kind": b.kind,
        "source": b.source,
        "client_id": b.client_id,
        "batch_id": b.batch_id,
        "rows": b.rows,
        "first_ts": b.first_ts,
        "last_ts": b.last_ts,
        "received_at": b.received_at,
        "created": result.created,
    }
    return Status(201 if result.created else 200, body)


@router.post("/checkins", response={200: BatchOut, 201: BatchOut})
def ingest_checkins(request: HttpRequest, body: CheckinBatchIn) -> Status[dict[str, Any]]:
    """A batch of venue scans, all or nothing; idempotent by (client_id, batch_id)."""
    return _batch(
        services.checkins_ingest(
            _actor(request), client_id=body.client_id, batch_id=body.batch_id, rows=body.rows
        )
    )


@router.post("/dwell", response={200: BatchOut, 201: BatchOut})
def ingest_dwell(request: HttpRequest, body: DwellBatchIn) -> Status[dict[str, Any]]:
    """A batch of cell-grid dwell intervals from a city-wide client; idempotent as above."""
    return _batch(
        services.dwell_ingest(
            _actor(request), client_id=body.client_id, batch_id=body.batch_id, rows=body.rows
        )
    )


@router.get("/persons/{person_id}/trajectory", response=TrajectoryOut)
def person_trajectory(request: HttpRequest, person_id: int, start: int, end: int) -> Trajectory:
    """A person's scans and cell stays between two epoch seconds (at most 31 days)."""
    return selectors.trajectory(
        scope=_actor(request).scope, person_id=person_id, start=start, end=end
    )
