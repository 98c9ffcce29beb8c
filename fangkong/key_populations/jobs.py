"""Background work of key populations, registered with the job queue (autodiscovered)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fangkong.core.actor import system_actor
from fangkong.core.errors import Conflict
from fangkong.jobs.registry import periodic
from fangkong.key_populations.recompute import keypop_recompute

logger = logging.getLogger("fangkong.key_populations")

RECOMPUTE = "key_populations.recompute"


@periodic(RECOMPUTE, every=dt.timedelta(hours=1))
def recompute(payload: dict[str, Any]) -> None:
    """Every hour: last tests from mass testing, due days, overdue, counters, grid work.
    Idempotent (a run that finds nothing new changes nothing)."""
    try:
        keypop_recompute(actor=system_actor(RECOMPUTE))
    except Conflict as exc:  # no rulebook published yet: nobody can be due by it
        logger.warning("key-population recompute skipped: %s", exc.message)
