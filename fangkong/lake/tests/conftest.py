from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from fangkong.lake.layout import Lake


@pytest.fixture
def lake(tmp_path: Path, settings: SettingsWrapper) -> Lake:
    """A private, empty lake that the services and selectors use (settings.LAKE_DIR)."""
    settings.LAKE_DIR = tmp_path / "lake"
    return Lake(settings.LAKE_DIR)
