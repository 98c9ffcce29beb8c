"""The API over HTTP: the same batch twice, the gate's 429, lab files through core.uploads."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.mass_testing import gate
from fangkong.mass_testing.models import LabReport, Sample, Tube
from fangkong.mass_testing.tests import factories as f
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion


@pytest.fixture
def officer(personas: dict[str, User]) -> Client:
    return signed_in(Client(), personas["district_officer"], verified=True)


@pytest.fixture
def people(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    return [f.person(system, two_districts.grid_a) for _ in range(4)]


def _batch(people: list[Person], barcode: str) -> dict[str, object]:
    return {
        "batch_id": "b1",
        "scans": [
            {
                "client_id": f"phone-1-{i}",
                "barcode": barcode,
                "sampled_at": f.NOW.isoformat(),
                "doc_number": p.doc_number,
            }
            for i, p in enumerate(people)
        ],
    }


def test_same_batch_twice_over_http(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    url = f"/api/testing/rounds/{rnd.pk}/scans"
    body = json.dumps(_batch(people, "HTTP0001"))
    first = officer.post(url, body, content_type="application/json")
    assert first.status_code == 200, first.content
    assert first.json()["accepted"] == 4
    second = officer.post(url, body, content_type="application/json")
    assert second.status_code == 200
    assert {a["outcome"] for a in second.json()["answers"]} == {"duplicate"}
    assert Sample.objects.count() == 4
    assert Tube.objects.get(barcode="HTTP0001").members == 4


def test_at_capacity_the_batch_gets_429_and_nothing_is_written(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    held = [gate._slots.acquire(blocking=False) for _ in range(gate.SLOTS)]
    assert all(held)
    try:
        response = officer.post(
            f"/api/testing/rounds/{rnd.pk}/scans",
            json.dumps(_batch(people, "HTTP0002")),
            content_type="application/json",
        )
    finally:
        for _ in held:
            gate._slots.release()
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert not Sample.objects.exists()
    again = officer.post(
        f"/api/testing/rounds/{rnd.pk}/scans",
        json.dumps(_batch(people, "HTTP0002")),
        content_type="application/json",
    )
    assert again.json()["accepted"] == 4


def test_gate_admits_no_more_than_its_slots() -> None:
    inside = threading.Barrier(gate.SLOTS + 1, timeout=5)
    results: list[str] = []

    def hold() -> None:
        with gate.ingest_slot():
            inside.wait()
            inside.wait()

    threads = [threading.Thread(target=hold) for _ in range(gate.SLOTS)]
    for t in threads:
        t.start()
    inside.wait()
    try:
        with gate.ingest_slot():
            results.append("in")
    except gate.Busy:
        results.append("busy")
    inside.wait()
    for t in threads:
        t.join()
    assert results == ["busy"]


def _csv(rows: list[str]) -> bytes:
    return ("条码,结果,Ct值,检测时间\n" + "\n".join(rows) + "\n").encode()


def test_lab_file_upload_matches_and_reports(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(p, "FILE0001", close_tube=p == people[-1]) for p in people])
    when = (f.NOW - dt.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    data = _csv([f"FILE0001,阴性,,{when}", f"GHOST001,阳性,28.1,{when}"])
    page = officer.post(
        "/testing/results/",
        {"lab": "市疾控实验室", "file": SimpleUploadedFile("r.csv", data, "text/csv")},
    )
    assert page.status_code == 200, page.content[:500]
    assert "GHOST001" in page.content.decode()
    assert Tube.objects.get(barcode="FILE0001").result == "negative"
    again = officer.post(
        "/testing/results/",
        {"lab": "市疾控实验室", "file": SimpleUploadedFile("r.csv", data, "text/csv")},
    )
    assert again.status_code == 200
    assert LabReport.objects.count() == 2


def test_bad_line_refuses_the_whole_file(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(people[0], "FILE0002")])
    when = (f.NOW - dt.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    data = _csv([f"FILE0002,阴性,,{when}", f"FILE0003,无效,,{when}"])
    page = officer.post(
        "/testing/results/",
        {"lab": "lab", "file": SimpleUploadedFile("r.csv", data, "text/csv")},
    )
    assert page.status_code == 422
    assert b"result" in page.content
    assert not LabReport.objects.exists()
    assert Tube.objects.get(barcode="FILE0002").result == "pending"


def test_xlsx_result_file(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    import openpyxl

    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(people[0], "XLSX0001")])
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["barcode", "result", "ct", "tested_at"])
    sheet.append(
        ["XLSX0001", "positive", 25.5, (f.NOW - dt.timedelta(minutes=3)).replace(tzinfo=None)]
    )
    buf = io.BytesIO()
    book.save(buf)
    page = officer.post(
        "/testing/results/",
        {"lab": "lab", "file": SimpleUploadedFile("r.xlsx", buf.getvalue())},
    )
    assert page.status_code == 200, page.content[:500]
    tube = Tube.objects.get(barcode="XLSX0001")
    assert (tube.result, tube.ct_value) == ("positive", 25.5)


def test_pages_render(
    officer: Client, two_districts: Tree, system: Actor, people: list[Person]
) -> None:
    from fangkong.mass_testing import services

    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(p, "PAGE0001") for p in people[:2]])
    services.coverage_refresh(rnd=rnd)
    board = officer.get(f"/testing/rounds/{rnd.pk}/")
    assert board.status_code == 200
    assert b"<svg" in board.content
    assert b"polyline" in board.content
    assert officer.get(f"/testing/rounds/{rnd.pk}/sampler/").status_code == 200
    assert officer.get("/testing/pools/").status_code == 200
    grid = two_districts.grid_a.pk
    assert officer.get(f"/testing/rounds/{rnd.pk}/grids/{grid}/").status_code == 200
    cov = officer.get(f"/api/testing/rounds/{rnd.pk}/coverage").json()
    assert cov["total"]["sampled"] == 2
    assert cov["total"]["due"] == 4
