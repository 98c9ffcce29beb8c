"""Job handlers used by the tests, registered once when this module is imported."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.jobs.registry import job, periodic

calls: list[tuple[str, dict[str, Any]]] = []


@job("test.record")
def record(payload: dict[str, Any]) -> None:
    calls.append(("test.record", payload))


@job("test.explode", max_attempts=3, backoff_seconds=10)
def explode(payload: dict[str, Any]) -> None:
    calls.append(("test.explode", payload))
    raise RuntimeError("boom: the gateway is down")


@periodic("test.hourly", every=dt.timedelta(hours=1))
def hourly(payload: dict[str, Any]) -> None:
    calls.append(("test.hourly", payload))
