"""The public self-report page: no account, CSRF-protected, rate-limited, the same arrival."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from conftest import Tree
from fangkong.policy.models import RulebookVersion
from fangkong.screening.models import Arrival, ArrivalSource
from fangkong.screening.tests.factories import resident_id

pytestmark = pytest.mark.django_db


def _form(doc: str) -> dict[str, str]:
    return {
        "name": "李雷", "doc_type": "resident_id", "doc_number": doc, "phone": "13912345678",
        "origin": "上海市浦东新区", "route": "", "arrival_date": "2022-01-09",
        "address": "南海街道海滨社区5号", "returnee_class": "student",
    }  # fmt: skip


def _csrf(client: Client) -> str:
    page = client.get("/screening/report/")
    assert page.status_code == 200
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found is not None
    return found.group(1)


def test_a_returnee_reports_without_an_account(book: RulebookVersion, two_districts: Tree) -> None:
    client = Client(enforce_csrf_checks=True)
    token = _csrf(client)
    doc = resident_id()
    response = client.post("/screening/report/", {**_form(doc), "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "self-report-done" in response.content.decode()
    arrival = Arrival.objects.get()
    assert (arrival.category, arrival.returnee_class) == ("arrival_medium_risk", "student")
    assert arrival.placed
    assert arrival.jurisdiction_id == two_districts.grid_b.pk
    # The same person again the same day: nothing new.
    client.post("/screening/report/", {**_form(doc), "csrfmiddlewaretoken": token})
    assert Arrival.objects.count() == 1
    assert ArrivalSource.objects.count() == 1


def test_without_the_csrf_token_nothing_is_created(
    book: RulebookVersion, two_districts: Tree
) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/screening/report/", _form(resident_id())).status_code == 403
    assert not Arrival.objects.exists()


def test_reports_are_limited_per_address_and_hour(
    book: RulebookVersion, two_districts: Tree
) -> None:
    client = Client()
    for _ in range(20):  # the rulebook's self_report_per_hour
        assert client.post("/screening/report/", _form(resident_id())).status_code == 200
    refused = client.post("/screening/report/", _form(resident_id()))
    assert refused.status_code == 429
    assert "该地址报备次数过多，请稍后再试" in refused.content.decode()
    assert Arrival.objects.count() == 20


def test_bad_input_comes_back_on_the_form(book: RulebookVersion, two_districts: Tree) -> None:
    response = Client().post("/screening/report/", {**_form("123"), "phone": "12"})
    assert response.status_code == 422
    assert not Arrival.objects.exists()
