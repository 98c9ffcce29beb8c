"""Background work of investigation and source tracing (autodiscovered by the jobs app).

- tracing.copresence: a co-presence run queued from the case page (services.copresence);
  idempotent: a run that is no longer queued is left alone.
"""

from __future__ import annotations

from typing import Any

from fangkong.core.actor import system_actor
from fangkong.jobs.registry import job
from fangkong.tracing.services.copresence import COPRESENCE_JOB, copresence_perform


@job(COPRESENCE_JOB, max_attempts=2, backoff_seconds=30)
def copresence(payload: dict[str, Any]) -> None:
    label = str(payload.get("actor") or "page")
    actor = system_actor(f"tracing co-presence ({label})")
    copresence_perform(run_id=int(payload["run"]), actor=actor)
