"""Background work of arrival screening (autodiscovered by the jobs app).

- screening.import_batch: import a file queued from the page (one transaction: the whole file
  or nothing; progress goes to a small file the page polls).
- screening.hand_out: one verification assignment per arrival a bulk import committed, 500
  per run; the job enqueues its own next run while arrivals remain.
- screening.hand_out_sweep (every 10 minutes): the same, as a safety net.

Handlers are idempotent: batches run once, assignments carry dedupe keys.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.core.actor import system_actor
from fangkong.jobs.registry import job, periodic
from fangkong.jobs.services import enqueue
from fangkong.screening.imports import HAND_OUT_JOB, IMPORT_JOB, run_batch
from fangkong.screening.services import hand_out_pending

CHUNK = 500


@job(IMPORT_JOB, max_attempts=2)
def import_batch(payload: dict[str, Any]) -> None:
    label = str(payload.get("actor") or "import")
    run_batch(batch_id=int(payload["batch"]), actor=system_actor(f"screening import ({label})"))


@job(HAND_OUT_JOB)
def hand_out(payload: dict[str, Any]) -> None:
    if hand_out_pending(limit=CHUNK) >= CHUNK:
        enqueue(name=HAND_OUT_JOB, payload={**payload, "more": int(payload.get("more", 0)) + 1})


@periodic("screening.hand_out_sweep", every=dt.timedelta(minutes=10))
def hand_out_sweep(payload: dict[str, Any]) -> None:
    hand_out_pending(limit=CHUNK)
