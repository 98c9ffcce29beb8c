"""Place pages and API through the real request path, in- and out-of-jurisdiction pairs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.jurisdictions.tests.factories import LoginFn
from fangkong.places.models import Place, Room
from fangkong.places.tests.factories import facility, place, room

pytestmark = pytest.mark.django_db

READ_URLS = [
    "/places/{id}/",
    "/api/places/{id}",
    "/api/places/{id}/rooms",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_own_district_reads_sibling_gets_404(
    two_districts: Tree, personas: dict[str, User], login: LoginFn, url: str
) -> None:
    f = facility(two_districts.grid_a)
    assert login(personas["district_officer"]).get(url.format(id=f.pk)).status_code == 200
    assert login(personas["sibling_district_officer"]).get(url.format(id=f.pk)).status_code == 404
    assert login(personas["district_officer"]).get(url.format(id=999999)).status_code == 404


def test_list_page_shows_only_own_places(
    two_districts: Tree,
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for i in range(12):
        place(two_districts.grid_a, name=f"本区商场{i}")
    place(two_districts.grid_b, name="别区商场")
    client = login(personas["district_officer"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("places:list"))
    body = response.content.decode()
    assert "本区商场11" in body
    assert "别区商场" not in body


def test_list_page_filters_and_pages(
    two_districts: Tree, personas: dict[str, User], login: LoginFn
) -> None:
    for i in range(55):
        place(two_districts.grid_a, kind="pharmacy", name=f"药房{i:02d}")
    place(two_districts.grid_a, kind="mall", name="东门大商场")
    client = login(personas["district_officer"])
    first = client.get(reverse("places:list"), {"category": "sentinel"})
    body = first.content.decode()
    assert "东门大商场" not in body
    assert "药房54" in body
    assert "药房04" not in body
    next_after = first.context["page"].next_after
    assert next_after is not None
    second = client.get(reverse("places:list"), {"category": "sentinel", "after": next_after})
    assert "药房04" in second.content.decode()
    assert second.context["page"].next_after is None


def test_detail_page_shows_rooms_and_masks_phone_for_supervisor(
    two_districts: Tree, login: LoginFn
) -> None:
    from conftest import _user

    f = facility(two_districts.grid_a, responsible_phone="13800138000")
    room(f, "A101")
    supervisor = _user("supervisor", "supervisor", two_districts.district_a)
    body = login(supervisor).get(reverse("places:detail", args=[f.pk])).content.decode()
    assert "A101" in body
    assert "138****8000" in body
    assert "13800138000" not in body


def test_create_form_registers_a_place(
    two_districts: Tree, personas: dict[str, User], login: LoginFn
) -> None:
    client = login(personas["district_officer"])
    assert client.get(reverse("places:create")).status_code == 200
    response = client.post(
        reverse("places:create"),
        {
            "name": "新商场",
            "kind": "mall",
            "jurisdiction": two_districts.grid_a.code,
            "capacity": 500,
        },
    )
    p = Place.objects.get(name="新商场")
    assert response.status_code == 302
    assert response["Location"] == reverse("places:detail", args=[p.pk])


def test_create_form_in_sibling_district_changes_nothing(
    two_districts: Tree, personas: dict[str, User], login: LoginFn
) -> None:
    audits = AuditEntry.objects.count()
    client = login(personas["sibling_district_officer"])
    response = client.post(
        reverse("places:create"),
        {"name": "越界", "kind": "mall", "jurisdiction": two_districts.grid_a.code, "capacity": 0},
    )
    assert response.status_code == 200
    assert "越界" not in [p.name for p in Place.objects.all()]
    assert AuditEntry.objects.count() == audits


def test_create_form_is_404_without_write_permission(
    personas: dict[str, User], login: LoginFn
) -> None:
    assert login(personas["grid_worker"]).get(reverse("places:create")).status_code == 404


def test_room_add_page(two_districts: Tree, personas: dict[str, User], login: LoginFn) -> None:
    f = facility(two_districts.grid_a)
    url = reverse("places:room_add", args=[f.pk])
    form = {"number": "301", "floor": 3, "beds": 1}
    assert login(personas["sibling_district_officer"]).post(url, form).status_code == 404
    assert login(personas["grid_worker"]).post(url, form).status_code == 403
    assert not Room.objects.exists()
    assert login(personas["district_officer"]).post(url, form).status_code == 302
    assert Room.objects.get().number == "301"


def test_api_list_is_scoped_and_paged(
    two_districts: Tree,
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    own = [place(two_districts.grid_a, kind="pharmacy") for _ in range(3)]
    place(two_districts.grid_b, kind="pharmacy")
    client = login(personas["district_officer"])
    with django_assert_max_num_queries(10):
        data = client.get("/api/places", {"kind": "pharmacy", "limit": "2"}).json()
    assert [i["id"] for i in data["items"]] == [own[2].pk, own[1].pk]
    rest = client.get("/api/places", {"kind": "pharmacy", "after": str(data["next_after"])}).json()
    assert [i["id"] for i in rest["items"]] == [own[0].pk]
    assert rest["next_after"] is None
    assert client.get("/api/places", {"jurisdiction": "440903"}).status_code == 404


def test_api_create_in_scope_and_out(
    two_districts: Tree, personas: dict[str, User], login: LoginFn
) -> None:
    body = {"name": "发热门诊", "kind": "fever_clinic", "jurisdiction_code": "440902001001"}
    client: Client = login(personas["district_officer"])
    created = client.post("/api/places", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["category"] == "sentinel"

    audits = AuditEntry.objects.count()
    other = login(personas["sibling_district_officer"])
    denied = other.post("/api/places", {**body, "name": "越界"}, content_type="application/json")
    assert denied.status_code == 404
    worker = login(personas["grid_worker"])
    forbidden = worker.post(
        "/api/places",
        {**body, "name": "越权", "jurisdiction_code": two_districts.grid_a.code},
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert Place.objects.count() == 1
    assert AuditEntry.objects.count() == audits


def test_api_rooms(two_districts: Tree, personas: dict[str, User], login: LoginFn) -> None:
    f = facility(two_districts.grid_a)
    url = f"/api/places/{f.pk}/rooms"
    body = {"number": "101", "floor": 1, "beds": 2}
    assert (
        login(personas["sibling_district_officer"])
        .post(url, body, content_type="application/json")
        .status_code
        == 404
    )
    client = login(personas["district_officer"])
    assert client.post(url, body, content_type="application/json").status_code == 201
    assert client.post(url, body, content_type="application/json").status_code == 409
    assert [r["number"] for r in client.get(url).json()] == ["101"]


def test_anonymous_is_redirected_and_api_401(client: Client, two_districts: Tree) -> None:
    assert client.get(reverse("places:list")).status_code == 302
    assert client.get("/api/places").status_code == 401
