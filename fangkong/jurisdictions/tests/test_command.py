"""`fangkong jurisdictions import|refresh-population`."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import Tree
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.tests.factories import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_import_command_reports_counts(
    two_districts: Tree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tree.xlsx"
    path.write_bytes(xlsx_bytes([["编码", "名称"], ["440904", "新区"]]))
    call_command("jurisdictions", "import", str(path))
    assert "1 created" in capsys.readouterr().out
    assert Jurisdiction.objects.filter(code="440904").exists()


def test_import_command_fails_with_row_errors(
    two_districts: Tree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["code", "name"], ["440904", "新区"], ["12", "坏"]]))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("jurisdictions", "import", str(path))
    assert "row 3, column code" in capsys.readouterr().err
    assert not Jurisdiction.objects.filter(code="440904").exists()


def test_refresh_population_command(
    two_districts: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("jurisdictions", "refresh-population")
    assert "0 residents" in capsys.readouterr().out
