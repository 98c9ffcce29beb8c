"""A bounded gate in front of the sampling ingest: beyond capacity a batch is answered 429
with Retry-After at once instead of queueing until the database or the workers fall over
(the mornings the real systems crashed). Per process: each web worker admits at most
FANGKONG_TESTING_INGEST_SLOTS batches at a time (default 4)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SLOTS = max(1, int(os.environ.get("FANGKONG_TESTING_INGEST_SLOTS", "4")))
WAIT_SECONDS = float(os.environ.get("FANGKONG_TESTING_INGEST_WAIT", "0.05"))
RETRY_AFTER = 1

_slots = threading.BoundedSemaphore(SLOTS)


class Busy(Exception):
    """No slot free: answer 429 with Retry-After."""


@contextmanager
def ingest_slot() -> Iterator[None]:
    if not _slots.acquire(timeout=WAIT_SECONDS):
        raise Busy
    try:
        yield
    finally:
        _slots.release()
