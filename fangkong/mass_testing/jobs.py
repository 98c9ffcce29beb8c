"""Background work of mass testing (autodiscovered by the jobs app).

- mass_testing.pool_hold: a pooled tube came back positive; hold its members and hand out
  their single-tube retests (one job per pool, enqueued in the result's transaction).
- mass_testing.single_positive: a single tube came back positive; its person becomes a case.
- mass_testing.coverage_refresh (hourly): recount the coverage of open rounds and correct the
  counters (the ingest, results and excusals keep them live; the recount catches residents
  who moved and registry changes).

Handlers are idempotent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.jobs.registry import job, periodic
from fangkong.mass_testing import services
from fangkong.mass_testing.models import Round


@job(services.POOL_HOLD_JOB)
def pool_hold(payload: dict[str, Any]) -> None:
    services.pool_hold(pool_id=int(payload["pool_id"]))


@job(services.SINGLE_POSITIVE_JOB)
def single_positive(payload: dict[str, Any]) -> None:
    services.single_positive(tube_id=int(payload["tube_id"]))


@periodic(services.COVERAGE_JOB, every=dt.timedelta(hours=1))
def coverage_refresh(payload: dict[str, Any]) -> None:
    for rnd in Round.objects.filter(status=Round.Status.OPEN).order_by("pk"):
        services.coverage_refresh(rnd=rnd)
