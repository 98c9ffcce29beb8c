"""Job handlers of the notifications app (imported by fangkong.jobs autodiscovery)."""

from __future__ import annotations

from typing import Any

from fangkong.jobs.registry import job
from fangkong.notifications import delivery


@job("notifications.deliver", max_attempts=6, backoff_seconds=60)
def deliver(payload: dict[str, Any]) -> None:
    """Send one SMS or e-mail; idempotent by the payload's delivery key."""
    delivery.deliver(payload)
