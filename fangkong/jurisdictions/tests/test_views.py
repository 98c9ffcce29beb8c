"""Pages, partials and API through the real request path, in- and out-of-jurisdiction pairs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.tests.factories import LoginFn, csv_bytes, post

pytestmark = pytest.mark.django_db

A_GRID = "440902001001001001"
A_GROUP = "440902001001001"

READ_URLS = [
    "/jurisdictions/{code}/",
    "/jurisdictions/{code}/children/",
    "/api/jurisdictions/{code}",
    "/api/jurisdictions/{code}/children",
    "/api/jurisdictions/{code}/posts",
]


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("code", ["440902", A_GROUP])
def test_district_officer_reads_own_district(
    personas: dict[str, User], login: LoginFn, url: str, code: str
) -> None:
    response = login(personas["district_officer"]).get(url.format(code=code))
    assert response.status_code == 200


@pytest.mark.parametrize("url", READ_URLS)
@pytest.mark.parametrize("code", ["440902", A_GROUP, "4409", "no-such"])
def test_sibling_district_officer_gets_404(
    personas: dict[str, User], login: LoginFn, url: str, code: str
) -> None:
    response = login(personas["sibling_district_officer"]).get(url.format(code=code))
    assert response.status_code == 404


@pytest.mark.parametrize("url", READ_URLS)
def test_grid_worker_cannot_climb_to_the_group(
    personas: dict[str, User], login: LoginFn, url: str
) -> None:
    assert login(personas["grid_worker"]).get(url.format(code=A_GROUP)).status_code == 404
    assert login(personas["grid_worker"]).get(url.format(code=A_GRID)).status_code == 200


def test_anonymous_is_sent_to_sign_in_and_api_says_401(client: Client, two_districts: Tree) -> None:
    response = client.get(reverse("jurisdictions:detail", args=["440902"]))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
    assert client.get("/api/jurisdictions/440902").status_code == 401


def test_tree_page_starts_at_the_users_roots(
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = login(personas["district_officer"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("jurisdictions:tree"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "茂南区" in body
    assert "电白区" not in body
    assert reverse("jurisdictions:children", args=["440902"]) in body


def test_children_partial_lists_one_level(
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = login(personas["city_commander"])
    with django_assert_max_num_queries(8):
        response = client.get(
            reverse("jurisdictions:children", args=["4409"]), headers={"HX-Request": "true"}
        )
    body = response.content.decode()
    assert "茂南区" in body
    assert "电白区" in body
    assert "红旗街道" not in body
    assert "<html" not in body


def test_detail_page_shows_breadcrumb_posts_masked_and_children(
    two_districts: Tree,
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    post(two_districts.group_a, kind="group_leader", holder_name="陈组长", phone="13800138000")
    Jurisdiction.objects.filter(pk=two_districts.grid_a.pk).update(population=321)
    client = login(personas["district_officer"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("jurisdictions:detail", args=[A_GROUP]))
    body = response.content.decode()
    assert "站南社区" in body  # breadcrumb
    assert "茂名市" not in body  # the city is above the officer's scope
    assert "陈组长" in body
    assert "第一网格" in body
    assert "321" in body
    # District staff hold full view; a supervisor (no full view) sees the phone masked.
    assert "13800138000" in body


def test_phone_is_masked_for_roles_without_full_view(two_districts: Tree, login: LoginFn) -> None:

    post(two_districts.grid_a, holder_name="甲", phone="13800138000")
    from conftest import _user

    supervisor = _user("supervisor", "supervisor", two_districts.district_a)
    client = login(supervisor)
    body = client.get(reverse("jurisdictions:detail", args=[A_GRID])).content.decode()
    assert "138****8000" in body
    assert "13800138000" not in body
    api = client.get(f"/api/jurisdictions/{A_GRID}/posts").json()
    assert api[0]["phone"] == "138****8000"


def test_api_node_shape(personas: dict[str, User], login: LoginFn) -> None:
    data = login(personas["district_officer"]).get(f"/api/jurisdictions/{A_GRID}").json()
    assert data["code"] == A_GRID
    assert data["level"] == 6
    assert data["parent_code"] == A_GROUP
    assert data["path"].endswith(f"/{A_GRID}/")


def _upload(rows: list[list[object]]) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile("tree.csv", csv_bytes(rows), content_type="text/csv")}


def test_api_import_inside_scope(personas: dict[str, User], login: LoginFn) -> None:
    client = login(personas["district_officer"])
    response = client.post(
        "/api/jurisdictions/import", _upload([["code", "name"], ["440902002", "新街道"]])
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    assert Jurisdiction.objects.filter(code="440902002").exists()


def test_api_import_into_sibling_district_is_rejected_and_changes_nothing(
    personas: dict[str, User], login: LoginFn
) -> None:
    audits = AuditEntry.objects.count()
    client = login(personas["sibling_district_officer"])
    response = client.post(
        "/api/jurisdictions/import", _upload([["code", "name"], ["440902002", "越界"]])
    )
    assert response.status_code == 422
    assert response.json()["detail"]["errors"] == [
        {"row": 2, "column": "code", "reason": "outside your jurisdiction"}
    ]
    assert not Jurisdiction.objects.filter(code="440902002").exists()
    assert AuditEntry.objects.count() == audits


def test_api_import_without_permission_is_403_and_changes_nothing(
    personas: dict[str, User], login: LoginFn
) -> None:
    audits, posts = AuditEntry.objects.count(), Post.objects.count()
    client = login(personas["grid_worker"])
    response = client.post(
        "/api/jurisdictions/import", _upload([["code", "name"], ["440902002", "x"]])
    )
    assert response.status_code == 403
    assert not Jurisdiction.objects.filter(code="440902002").exists()
    assert (AuditEntry.objects.count(), Post.objects.count()) == (audits, posts)
