"""The queue's own housekeeping."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings

from fangkong.core import clock
from fangkong.jobs.models import Job
from fangkong.jobs.registry import periodic

logger = logging.getLogger("fangkong.jobs")

DEFAULT_RETENTION_DAYS = 30


@periodic("jobs.prune", every=dt.timedelta(days=1))
def prune(payload: dict[str, Any]) -> None:
    """Delete done jobs past the retention period. Their dedupe keys go with them, which is
    fine: a key only has to outlive the retries of whatever enqueued it."""
    days = getattr(settings, "FANGKONG_JOB_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    cutoff = clock.now() - dt.timedelta(days=days)
    deleted, _ = Job.objects.filter(status=Job.Status.DONE, finished_at__lt=cutoff).delete()
    logger.info("pruned %d done jobs finished before %s", deleted, cutoff.isoformat())
