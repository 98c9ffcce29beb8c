"""Background work of the sentinel module (autodiscovered by the jobs app).

- sentinel.series_refresh (hourly): recount today's and yesterday's series from the registers
  (late records and daily files land in them); idempotent, a day is replaced as a whole.
- sentinel.series_days: recount given days (enqueued by a daily file with older rows).
- sentinel.detection (daily, early morning): recount yesterday, then run the detection of
  the rulebook over every watched series for yesterday; alarms become alerts. Idempotent:
  an alert per series and day.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fangkong.core import clock
from fangkong.jobs.registry import job, periodic
from fangkong.sentinel.series import series_refresh
from fangkong.sentinel.watch import detection_run

logger = logging.getLogger("fangkong.sentinel")


def _slot_day(payload: dict[str, Any]) -> dt.date:
    slot = payload.get("slot")
    if not slot:
        return clock.local_date()
    return clock.to_local(dt.datetime.fromisoformat(str(slot))).date()


@periodic("sentinel.series_refresh", every=dt.timedelta(hours=1))
def refresh(payload: dict[str, Any]) -> None:
    today = _slot_day(payload)
    written = series_refresh(days=[today - dt.timedelta(days=1), today])
    logger.info("sentinel series: %d rows for %s and the day before", written, today)


@job("sentinel.series_days")
def refresh_days(payload: dict[str, Any]) -> None:
    days = [dt.date.fromisoformat(str(d)) for d in payload.get("days", [])]
    series_refresh(days=days)


@periodic("sentinel.detection", every=dt.timedelta(days=1))
def detection(payload: dict[str, Any]) -> None:
    day = _slot_day(payload) - dt.timedelta(days=1)
    series_refresh(days=[day])
    summary = detection_run(day=day)
    logger.info("%s", summary.line())
