"""The tree import takes files through core.uploads: by content, no macros, formulas as text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.jurisdictions.imports import tree_import
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.tests.factories import LoginFn, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_a_formula_cell_is_read_as_its_text_and_rejected_as_a_code(
    two_districts: Tree, system: Actor
) -> None:
    data = xlsx_bytes([["code", "name"], ["=440900+4", '=HYPERLINK("http://x.example","区")']])
    result = tree_import(actor=system, data=data, filename="tree.xlsx")
    assert [e.row for e in result.errors] == [2]
    assert not Jurisdiction.objects.filter(code="440904").exists()


def test_the_type_comes_from_the_content_not_the_name(two_districts: Tree, system: Actor) -> None:
    data = csv_bytes([["code", "name"], ["440904", "新区"]])
    assert tree_import(actor=system, data=data, filename="tree.xlsx").created == 1


def _with_macros(data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(64))
    return out.getvalue()


def test_api_refuses_a_macro_workbook_and_changes_nothing(
    personas: dict[str, User], login: LoginFn
) -> None:
    audits = AuditEntry.objects.count()
    data = _with_macros(xlsx_bytes([["code", "name"], ["440902002", "新街道"]]))
    client = login(personas["district_officer"])
    upload = SimpleUploadedFile("tree.xlsm", data, content_type="application/octet-stream")
    response = client.post("/api/jurisdictions/import", {"file": upload})
    assert response.status_code == 422
    assert response.json()["code"] == "upload.macros"
    assert not Jurisdiction.objects.filter(code="440902002").exists()
    assert AuditEntry.objects.count() == audits


def test_command_refuses_a_binary_file(two_districts: Tree, tmp_path: Path) -> None:
    path = tmp_path / "tree.csv"
    path.write_bytes(b"%PDF-1.7\n" + bytes(32))
    with pytest.raises(CommandError, match="not one of"):
        call_command("jurisdictions", "import", str(path))
