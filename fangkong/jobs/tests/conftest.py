from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fangkong.jobs.tests import handlers


@pytest.fixture
def calls() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """What the test handlers were called with, in order; empty at the start of each test."""
    handlers.calls.clear()
    yield handlers.calls
    handlers.calls.clear()
