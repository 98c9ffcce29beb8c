"""Background work of assignments, registered with the job queue (autodiscovered)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fangkong.assignments.escalation import escalate_overdue
from fangkong.core.errors import Conflict
from fangkong.jobs.registry import periodic

logger = logging.getLogger("fangkong.assignments")

ESCALATE = "assignments.escalate"


@periodic(ESCALATE, every=dt.timedelta(minutes=5))
def escalate(payload: dict[str, Any]) -> None:
    """Every five minutes: move overdue work up the tree. Idempotent (see escalation)."""
    try:
        escalate_overdue()
    except Conflict as exc:  # no rulebook published yet: nothing can be overdue by it
        logger.warning("escalation skipped: %s", exc.message)
