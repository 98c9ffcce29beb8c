"""Reads of the lake for the platform: a person's trajectory, the ingest ledger."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from fangkong.core.errors import Invalid, NotAllowed
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.lake import slicing
from fangkong.lake.engine import lake_root
from fangkong.lake.layout import CHECKINS, DWELL, MAX_DWELL_SECONDS, Lake
from fangkong.lake.models import IngestBatch
from fangkong.people.selectors import person_get

MAX_SPAN_SECONDS = 31 * 86_400
TRAJECTORY_LIMIT = 5000  # 14 days of a person's scans and stays is a few hundred


@dataclass(frozen=True, slots=True)
class Scan:
    venue_id: int
    ts: int


@dataclass(frozen=True, slots=True)
class Stay:
    cell_id: int
    start_ts: int
    end_ts: int


@dataclass(frozen=True, slots=True)
class Trajectory:
    person_id: int
    start: int
    end: int
    scans: list[Scan]  # by time
    stays: list[Stay]  # by start; the intervals that overlap [start, end]
    truncated: bool


def trajectory(
    *, scope: Scope, person_id: int, start: int, end: int, lake: Lake | None = None
) -> Trajectory:
    """A person's check-ins and dwell intervals between two epoch seconds (both included).

    Needs tracing.view; raises NotFound when the person is missing or outside the scope.
    """
    if Perm.TRACING_VIEW not in scope.perms:
        raise NotAllowed(
            "permission_denied", "Missing permission tracing.view", perm="tracing.view"
        )
    person_get(scope=scope, person_id=person_id)
    if end < start or end - start > MAX_SPAN_SECONDS:
        raise Invalid("lake.trajectory_span", "start must not be after end, at most 31 days apart")
    lake = lake or lake_root()
    checkins = slicing.read_ranges(lake, CHECKINS, by_person=True, ranges=[(person_id, start, end)])
    scans = sorted(
        {
            Scan(int(v), int(t))
            for v, t in zip(
                checkins.column("venue_id").to_pylist(),
                checkins.column("ts").to_pylist(),
                strict=True,
            )
        },
        key=lambda s: (s.ts, s.venue_id),
    )
    dwell = slicing.read_ranges(
        lake, DWELL, by_person=True, ranges=[(person_id, start - MAX_DWELL_SECONDS, end)]
    )
    stays = sorted(
        {
            Stay(int(c), int(s), int(e))
            for c, s, e in zip(
                dwell.column("cell_id").to_pylist(),
                dwell.column("start_ts").to_pylist(),
                dwell.column("end_ts").to_pylist(),
                strict=True,
            )
            if e >= start
        },
        key=lambda s: (s.start_ts, s.cell_id),
    )
    truncated = len(scans) > TRAJECTORY_LIMIT or len(stays) > TRAJECTORY_LIMIT
    return Trajectory(
        person_id, start, end, scans[:TRAJECTORY_LIMIT], stays[:TRAJECTORY_LIMIT], truncated
    )


def batch_list(*, scope: Scope, limit: int = 50) -> QuerySet[IngestBatch]:
    """The latest accepted batches (the ledger holds no personal data); needs lake.ingest."""
    if Perm.LAKE_INGEST not in scope.perms:
        raise NotAllowed("permission_denied", "Missing permission lake.ingest", perm="lake.ingest")
    return IngestBatch.objects.order_by("-received_at", "-pk")[: max(1, min(limit, 200))]
