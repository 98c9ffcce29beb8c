"""Maintenance tests: a frozen city clock, the ninth edition in force, a private data dir
(the purge ledger and reports are files there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from conftest import Tree
from fangkong.control.tests import factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(factories.NOW):
        yield


@pytest.fixture(autouse=True)
def _data_dir(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def book(two_districts: Tree, system: Actor) -> RulebookVersion:
    return factories.rulebook(system)
