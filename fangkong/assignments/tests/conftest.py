"""Assignments need a rulebook in force (deadlines, the escalation interval)."""

from __future__ import annotations

import pytest

from fangkong.assignments.tests.factories import publish_rulebook
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion


@pytest.fixture
def rulebook(db: None, system: Actor) -> RulebookVersion:
    return publish_rulebook(system)
