"""Which job names exist and what runs them. Apps register handlers in their `jobs.py` module,
which `JobsConfig.ready()` imports for every installed app (Django's autodiscovery), so a
worker knows every handler without the jobs app importing the apps above it.

Handlers must be idempotent. A job runs at least once, not exactly once: a worker killed after
the handler's side effects left the process (an SMS accepted by a gateway) but before its
transaction committed, or a handler slower than the stale-lock timeout, runs again. Database
writes made by the handler commit together with the job's `done` mark, so those are safe; any
effect outside the database needs its own key (see notifications' delivery log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    handler: Handler
    max_attempts: int
    backoff_seconds: int
    every: dt.timedelta | None = None  # set for periodic jobs

    def backoff(self, attempts: int) -> dt.timedelta:
        """Delay before the next try after `attempts` failures: backoff, 2x, 4x, ... capped."""
        exponent = min(max(attempts - 1, 0), 16)
        return dt.timedelta(seconds=min(self.backoff_seconds * 2**exponent, 24 * 3600))


_registry: dict[str, JobSpec] = {}


def _register(spec: JobSpec) -> None:
    existing = _registry.get(spec.name)
    if existing is not None and _qualname(existing.handler) != _qualname(spec.handler):
        raise ValueError(
            f"job {spec.name!r} is already registered by {_qualname(existing.handler)}"
        )
    _registry[spec.name] = spec


def _qualname(handler: Handler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"


def job(
    name: str, *, max_attempts: int = 5, backoff_seconds: int = 30
) -> Callable[[Handler], Handler]:
    """Register `handler(payload) -> None` as job `name`. The handler must be idempotent."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def decorate(handler: Handler) -> Handler:
        _register(JobSpec(name, handler, max_attempts, backoff_seconds))
        return handler

    return decorate


def periodic(name: str, *, every: dt.timedelta) -> Callable[[Handler], Handler]:
    """Register a job that the worker enqueues once per time slot of length `every`.

    The payload is {"slot": "<slot start, ISO 8601 UTC>"}. Slots are aligned to local midnight
    (Asia/Shanghai), so `every=timedelta(days=1)` runs once per city day.
    """
    if every <= dt.timedelta(0):
        raise ValueError("every must be positive")

    def decorate(handler: Handler) -> Handler:
        _register(JobSpec(name, handler, max_attempts=3, backoff_seconds=30, every=every))
        return handler

    return decorate


def get(name: str) -> JobSpec | None:
    return _registry.get(name)


def periodic_specs() -> list[JobSpec]:
    return [spec for spec in _registry.values() if spec.every is not None]
