"""The pages and lists: an employer's account sees only its own members, overdue lists per
employer and per district, the import's error report, the employer's own simple page."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.key_populations import selectors
from fangkong.key_populations.models import Employer, Member, MemberImport
from fangkong.key_populations.recompute import keypop_recompute
from fangkong.key_populations.tests import factories
from fangkong.people.tests.factories import resident_id

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def lists(
    employer_a: Employer, employer_b: Employer, two_districts: Tree, system: Actor
) -> tuple[list[Member], list[Member]]:
    a = factories.members(system, employer_a, 3, grid=two_districts.grid_a.code)
    b = factories.members(system, employer_b, 2, grid=two_districts.grid_b.code, area="440903")
    Member.objects.filter(pk=a[0].pk).update(last_tested_on=D(2022, 1, 10))
    Member.objects.filter(pk__in=[a[1].pk, a[2].pk, b[0].pk]).update(last_tested_on=D(2022, 1, 1))
    Member.objects.filter(pk=a[2].pk).update(last_tested_on=D(2022, 1, 7))
    keypop_recompute(actor=system)
    return a, b


def test_an_employer_account_sees_only_its_own_members(
    lists: tuple[list[Member], list[Member]],
    employer_actor: Actor,
    employer_b: Employer,
) -> None:
    a, _b = lists
    page = selectors.member_list(scope=employer_actor.scope, only_employer=employer_a_id(a))
    assert {m.pk for m in page.items} == {m.pk for m in a}
    employers = selectors.employer_list(scope=employer_actor.scope, only_employer=a[0].employer_id)
    assert [e.pk for e in employers.items] == [a[0].employer_id]


def employer_a_id(members: list[Member]) -> int:
    return members[0].employer_id


def test_the_employer_page_is_its_own_list_with_overdue_first(
    lists: tuple[list[Member], list[Member]],
    login: Callable[[User], Client],
    employer_user: User,
) -> None:
    a, b = lists
    client = login(employer_user)
    response = client.get(reverse("key_populations:board"))
    assert response.status_code == 302
    assert response["Location"] == reverse("key_populations:employer", args=[a[0].employer_id])
    body = client.get(response["Location"] + "?status=overdue").content.decode()
    shown = [m.pk for m in a if reverse("key_populations:member", args=[m.pk]) in body]
    assert shown == [a[1].pk, a[2].pk]  # overdue, longest first; the tested one is not listed
    assert "逾期 8 天" in body
    assert reverse("key_populations:member", args=[b[0].pk]) not in body
    assert a[1].person.name not in body  # masked


def test_overdue_lists_per_employer_and_per_district(
    lists: tuple[list[Member], list[Member]],
    login: Callable[[User], Client],
    personas: dict[str, User],
    two_districts: Tree,
) -> None:
    a, b = lists
    client = login(personas["city_commander"])
    per_employer = client.get(
        f"/api/keypop/employers/{a[0].employer_id}/members", {"status": "overdue"}
    ).json()
    assert [m["id"] for m in per_employer["items"]] == [a[1].pk, a[2].pk]
    assert [m["days_overdue"] for m in per_employer["items"]] == [8, 2]
    per_district = client.get(
        "/api/keypop/members", {"status": "overdue", "district": two_districts.district_b.code}
    ).json()
    assert [m["id"] for m in per_district["items"]] == [b[0].pk]
    board = {d["code"]: d for d in client.get("/api/keypop/districts").json()}
    assert (board["440902"]["members"], board["440902"]["overdue"]) == (3, 2)
    assert (board["440903"]["members"], board["440903"]["overdue"]) == (2, 1)
    assert board["440903"]["due"] == 1  # never tested, joined today
    page = client.get(reverse("key_populations:board")).content.decode()
    assert "电白冷库" in page


def test_a_refused_upload_shows_its_problems_and_gives_them_as_xlsx(
    employer_a: Employer, login: Callable[[User], Client], employer_user: User
) -> None:
    client = login(employer_user)
    data = factories.csv_bytes([["张三", "123"], ["", resident_id()]])
    response = client.post(
        reverse("key_populations:import_new", args=[employer_a.pk]),
        {"file": SimpleUploadedFile("list.csv", data)},
    )
    attempt = MemberImport.objects.get()
    assert response["Location"] == reverse("key_populations:import", args=[attempt.pk])
    page = client.get(response["Location"]).content.decode()
    assert "2 个问题" in page
    assert "已拒绝" in page  # the upload's outcome, in this module's own words
    assert "姓名必填" in page
    report = client.get(reverse("key_populations:import_errors", args=[attempt.pk]))
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(report.getvalue()))
    sheet = book.worksheets[0]
    rows = [tuple(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [r[:2] for r in rows] == [(2, "doc_number"), (3, "name")]
    assert not Member.objects.exists()


def test_the_api_import_answers_422_with_every_problem(
    employer_a: Employer, login: Callable[[User], Client], personas: dict[str, User]
) -> None:
    client = login(personas["district_officer"])
    data = factories.csv_bytes([["张三", "123"]])
    response = client.post(
        f"/api/keypop/employers/{employer_a.pk}/import",
        {"file": SimpleUploadedFile("list.csv", data)},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import.invalid"
    assert [(e["row"], e["column"]) for e in body["detail"]["errors"]] == [(2, "doc_number")]
    assert MemberImport.objects.get().pk == body["detail"]["import_id"]
    good = factories.csv_bytes(factories.member_rows(2))
    ok = client.post(
        f"/api/keypop/employers/{employer_a.pk}/import",
        {"file": SimpleUploadedFile("list.csv", good)},
    )
    assert ok.status_code == 200
    assert ok.json()["created"] == 2


def test_list_pages_take_a_bounded_number_of_queries(
    lists: tuple[list[Member], list[Member]],
    login: Callable[[User], Client],
    personas: dict[str, User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = login(personas["city_commander"])
    for url in (
        reverse("key_populations:members") + "?status=",
        reverse("key_populations:employer", args=[lists[0][0].employer_id]),
        reverse("key_populations:board"),
    ):
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200
