"""Uploaded bytes are bounded before a view runs: an oversized file is counted, not kept."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.tests.factories import LoginFn, csv_bytes

pytestmark = pytest.mark.django_db


def _temp_uploads() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("*.upload*")}


@override_settings(FANGKONG_UPLOAD_MAX_BYTES=4096)
def test_a_file_over_the_limit_is_refused_as_too_large_and_leaves_no_temporary_file(
    personas: dict[str, User], login: LoginFn
) -> None:
    before_files = _temp_uploads()
    audits = AuditEntry.objects.count()
    rows = [["code", "name"]] + [["440902002", "新街道" * 10]] * 2000  # about 70 KB
    client = login(personas["district_officer"])
    upload = SimpleUploadedFile("tree.csv", csv_bytes(rows), content_type="text/csv")
    response = client.post("/api/jurisdictions/import", {"file": upload})
    assert response.status_code == 422
    assert response.json()["code"] == "upload.too_large"
    assert not Jurisdiction.objects.filter(code="440902002").exists()
    assert AuditEntry.objects.count() == audits
    assert _temp_uploads() <= before_files


@override_settings(FANGKONG_UPLOAD_MAX_BYTES=4096)
def test_a_file_within_the_limit_goes_through(personas: dict[str, User], login: LoginFn) -> None:
    client = login(personas["district_officer"])
    data = csv_bytes([["code", "name"], ["440902002", "新街道"]])
    assert len(data) < 4096
    upload = SimpleUploadedFile("tree.csv", data, content_type="text/csv")
    response = client.post("/api/jurisdictions/import", {"file": upload})
    assert response.status_code == 200, response.content
    assert Jurisdiction.objects.filter(code="440902002").exists()


def test_reading_an_oversized_placeholder_is_refused() -> None:
    from fangkong.core.upload_handlers import OversizedUpload
    from fangkong.core.uploads import UploadRefused, check_upload

    placeholder = OversizedUpload("big.csv", "text/csv", size=10_000, limit=4096)
    with pytest.raises(UploadRefused) as refused:
        placeholder.read()
    assert refused.value.code == "upload.too_large"
    with pytest.raises(UploadRefused) as by_size:
        check_upload(placeholder, max_bytes=8192)
    assert by_size.value.code == "upload.too_large"
