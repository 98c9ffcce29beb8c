"""The only place that knows what time and what day it is.

Stored datetimes are aware and in UTC; "today" and day arithmetic are in Asia/Shanghai.
Tests drive time with `frozen(...)` instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(tz=UTC)


def local_now() -> dt.datetime:
    return now().astimezone(LOCAL_TZ)


def local_date() -> dt.date:
    """Today in the city (Asia/Shanghai)."""
    return local_now().date()


def to_local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime; Fangkong stores aware datetimes only")
    return value.astimezone(LOCAL_TZ)


def local_midnight(day: dt.date) -> dt.datetime:
    """The instant the given local day starts, in UTC."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Freeze `now()` at an aware instant (tests, simulation)."""
    global _frozen  # noqa: PLW0603 - the clock is process-wide by design
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous
