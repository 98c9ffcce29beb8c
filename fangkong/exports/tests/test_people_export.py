"""The person list as a file: masked unless allowed and explained, scoped, stamped, audited.

"Masked" is checked by searching every byte of the response (and of every part of an xlsx,
inflated) for the plaintext name, document number, phone and address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.exports.tests.helpers import all_bytes, body, xlsx_rows
from fangkong.people.models import Person
from fangkong.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "欧阳明月", "13822223333", "茂南区红旗街道站南路12号3栋502"
NAME_B, PHONE_B = "司马青山", "13944445555"
AT = dt.datetime(2022, 1, 10, 9, 30, tzinfo=clock.LOCAL_TZ)


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with clock.frozen(AT):
        yield


@pytest.fixture
def resident(two_districts: Tree, system: Actor) -> Person:
    return person(
        system,
        two_districts.grid_a,
        doc_number=resident_id(birth=dt.date(1988, 8, 8), seq=11),
        name=NAME,
        phone=PHONE,
        address=ADDRESS,
    )


@pytest.fixture
def resident_b(two_districts: Tree, system: Actor) -> Person:
    return person(
        system,
        two_districts.grid_b,
        doc_number=resident_id(area="440903", seq=13),
        name=NAME_B,
        phone=PHONE_B,
    )


def _secrets(p: Person) -> list[bytes]:
    return [s.encode() for s in (NAME, PHONE, ADDRESS, p.doc_number, "1988-08-08", "19880808")]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_default_export_is_masked_in_every_byte_and_audited_with_its_fingerprint(
    login: Callable[[User], Client],
    personas: dict[str, User],
    resident: Person,
    resident_b: Person,
    fmt: str,
) -> None:
    client = login(personas["district_officer"])
    response = client.get(reverse("people:export_file", args=[fmt]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = body(response)
    searched = all_bytes(data)
    for secret in _secrets(resident):
        assert secret not in searched, secret
    assert "欧阳**".encode() in searched
    assert b"138****3333" in searched
    # Scope: the sibling district's resident is not in the file at all.
    assert "司马".encode() not in searched
    assert resident_b.doc_number[-4:].encode() + b"\r\n" not in searched
    entry = AuditEntry.objects.get(action="export.create")
    assert (
        entry.detail["sha256"] == hashlib.sha256(data).hexdigest() == response["X-Content-SHA256"]
    )
    assert (entry.detail["rows"], entry.detail["format"], entry.detail["full"]) == (1, fmt, False)
    assert (entry.detail["list"], entry.actor_label) == ("people", "district_officer")
    assert entry.jurisdiction_path == "/4409/440902/"


def test_the_file_is_stamped_with_who_and_when(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    xlsx = body(client.get(reverse("people:export_file", args=["xlsx"])))
    stamp = xlsx_rows(xlsx)[0][0]
    assert "district_officer" in stamp
    assert "2022-01-10 09:30:00" in stamp  # Asia/Shanghai
    assert b"<dc:creator>district_officer</dc:creator>" in all_bytes(xlsx)
    csv = body(client.get(reverse("people:export_file", args=["csv"])))
    first = csv.decode("utf-8-sig").splitlines()[0]
    assert "district_officer" in first
    assert "2022-01-10 09:30:00" in first


def test_full_export_needs_a_reason_and_then_has_the_values(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    url = reverse("people:export_file", args=["csv"])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 422
    assert not AuditEntry.objects.filter(action="export.create").exists()
    response = client.post(url, {"reason": "hand-over to the hotline"})
    data = body(response)
    assert response.status_code == 200
    for secret in (NAME, PHONE, ADDRESS, resident.doc_number, "1988-08-08"):
        assert secret.encode() in data
    entry = AuditEntry.objects.get(action="export.create")
    assert (entry.detail["full"], entry.reason) == (True, "hand-over to the hotline")
    assert entry.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_full_export_without_the_permission_is_403_and_leaves_no_entry(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    # A grid worker may see their grid in full on a page, but not export it in full.
    client = login(personas["grid_worker"])
    response = client.post(reverse("people:export_file", args=["xlsx"]), {"reason": "why not"})
    assert response.status_code == 403
    for secret in _secrets(resident):
        assert secret not in response.content
    assert not AuditEntry.objects.filter(action="export.create").exists()
    masked = client.get(reverse("people:export_file", args=["xlsx"]))
    assert masked.status_code == 200
    body(masked)


def test_export_page_offers_the_full_form_only_to_those_who_may(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree
) -> None:
    page = login(personas["district_officer"]).get(reverse("people:export"))
    assert page.status_code == 200
    assert b'name="reason"' in page.content
    assert b"style=" not in page.content
    assert b"<script>" not in page.content
    page = login(personas["grid_worker"]).get(reverse("people:export"))
    assert b'name="reason"' not in page.content


def test_a_grid_filter_outside_the_scope_is_404(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree
) -> None:
    client = login(personas["district_officer"])
    url = reverse("people:export_file", args=["csv"])
    assert client.get(url, {"grid": two_districts.grid_b.code}).status_code == 404
    assert client.get(url, {"grid": "999999999999999999"}).status_code == 404
    assert client.get(reverse("people:export_file", args=["pdf"])).status_code == 404
    assert not AuditEntry.objects.filter(action="export.create").exists()


def test_formula_values_are_written_as_text(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree, system: Actor
) -> None:
    person(system, two_districts.grid_a, name="=HYPERLINK(1)", address="+1+cmd|' /C calc'!A0")
    client = login(personas["district_officer"])
    data = body(client.post(reverse("people:export_file", args=["xlsx"]), {"reason": "check"}))
    row = xlsx_rows(data)[2]
    assert "'=HYPERLINK(1)" in row
    assert "'+1+cmd|' /C calc'!A0" in row
    assert b"<f>" not in all_bytes(data)  # no formula element anywhere


def test_raw_values_never_reach_the_log_or_an_error_page(
    login: Callable[[User], Client],
    personas: dict[str, User],
    resident: Person,
    caplog: pytest.LogCaptureFixture,
    settings: object,
) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    caplog.set_level(logging.DEBUG)
    sibling = login(personas["sibling_district_officer"])
    pages = [
        sibling.get(reverse("people:detail", args=[resident.pk])),
        sibling.get(reverse("people:export_file", args=["xlsx"]), {"grid": "440902001001001001"}),
    ]
    officer = login(personas["district_officer"])
    masked = body(officer.get(reverse("people:export_file", args=["csv"])))
    assert [p.status_code for p in pages] == [404, 404]
    logged = caplog.text.encode()
    for secret in _secrets(resident):
        for blob in (logged, masked, *(p.content for p in pages)):
            assert secret not in blob, secret


def test_a_failing_export_names_no_value_in_the_error_or_the_log(
    system: Actor, resident: Person, caplog: pytest.LogCaptureFixture
) -> None:
    from fangkong.exports.services import Column, ExportFailed, export_build

    caplog.set_level(logging.DEBUG)

    def rows() -> object:
        yield [NAME]
        raise ValueError(f"broken at {NAME} {PHONE}")

    with pytest.raises(ExportFailed) as caught:
        export_build(
            actor=system,
            name="t",
            title="t",
            columns=[Column("n", personal=True)],
            rows=rows(),  # type: ignore[arg-type]
            fmt="csv",
        )
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert NAME not in str(caught.value)
    assert NAME not in caplog.text
    assert not AuditEntry.objects.filter(action="export.create").exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_cut_off_list_says_so_in_the_file_and_the_audit(
    system: Actor, two_districts: Tree, fmt: str
) -> None:
    from fangkong.exports.services import Column, export_build

    export = export_build(
        actor=system,
        name="t",
        title="t",
        columns=[Column("n")],
        rows=([i] for i in range(5)),
        fmt=fmt,
        max_rows=2,
    )
    data = export.file.read()
    export.file.close()
    assert (export.rows, export.truncated) == (2, True)
    lines = (
        xlsx_rows(data) if fmt == "xlsx" else [[c] for c in data.decode("utf-8-sig").splitlines()]
    )
    assert len(lines) == 5  # stamp, header, two rows, the note
    assert "2" in str(lines[-1][0])
    entry = AuditEntry.objects.get(action="export.create")
    assert (entry.detail["rows"], entry.detail["truncated"]) == (2, True)
