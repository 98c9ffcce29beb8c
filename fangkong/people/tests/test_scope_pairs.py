"""In- and out-of-jurisdiction pairs over every person URL and API endpoint.

A person in the sibling district must look exactly like a missing one (404), and a refused
write must change nothing: no row, no audit entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.people.models import Person, PersonNote
from fangkong.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


@dataclass
class Pair:
    mine: Person  # in district A, grid_a
    theirs: Person  # in district B
    spare: Person  # a second person in district A (merge partner)


@pytest.fixture
def pair(two_districts: Tree, system: Actor) -> Pair:
    return Pair(
        mine=person(system, two_districts.grid_a, name="甲方"),
        theirs=person(system, two_districts.grid_b, name="乙方"),
        spare=person(system, two_districts.grid_a, name="丙方"),
    )


def _state() -> tuple[Any, ...]:
    people = list(
        Person.objects.order_by("pk").values_list(
            "pk", "merged_into_id", "jurisdiction_path", "phone_bidx", "updated_at"
        )
    )
    return people, PersonNote.objects.count(), AuditEntry.objects.count()


@dataclass(frozen=True)
class PageCall:
    method: str
    name: str
    data: Callable[[Pair], dict[str, Any]]

    def __call__(self, client: Client, target: Person, pair: Pair) -> Any:
        url = reverse(self.name, kwargs={"person_id": target.pk})
        return getattr(client, self.method)(url, self.data(pair))


PAGE_CALLS = [
    PageCall("get", "people:detail", lambda p: {}),
    PageCall("post", "people:reveal", lambda p: {"reason": "visit"}),
    PageCall("post", "people:note_add", lambda p: {"text": "hello"}),
    PageCall("get", "people:merge", lambda p: {}),
    PageCall("post", "people:merge", lambda p: {"duplicate_id": p.spare.pk, "reason": "dup"}),
]


@pytest.mark.parametrize("call", PAGE_CALLS, ids=lambda c: f"{c.method}-{c.name}")
def test_person_pages_in_scope_work_and_out_of_scope_are_404_without_side_effects(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair, call: PageCall
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    assert call(client, pair.theirs, pair).status_code == 404
    assert _state() == before
    assert call(client, pair.mine, pair).status_code in {200, 302}


def test_merging_a_person_from_the_sibling_district_is_404_and_changes_nothing(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    url = reverse("people:merge", kwargs={"person_id": pair.mine.pk})
    response = client.post(url, {"duplicate_id": pair.theirs.pk, "reason": "dup"})
    assert response.status_code == 404
    assert _state() == before
    api = client.post(
        f"/api/people/{pair.mine.pk}/merge",
        json.dumps({"duplicate_id": pair.theirs.pk, "reason": "dup"}),
        content_type="application/json",
    )
    assert api.status_code == 404
    assert _state() == before


def _api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(url)
    verb = getattr(client, method)
    return verb(url, json.dumps(body or {}), content_type="application/json")


@dataclass(frozen=True)
class ApiCall:
    method: str
    url: str
    body: Callable[[Pair], dict[str, Any] | None]

    def __call__(self, client: Client, person_id: int, pair: Pair) -> Any:
        return _api(client, self.method, self.url.format(id=person_id), self.body(pair))


API_CALLS = [
    ApiCall("get", "/api/people/{id}", lambda p: None),
    ApiCall("post", "/api/people/{id}/reveal", lambda p: {"reason": "visit"}),
    ApiCall(
        "post", "/api/people/{id}/merge", lambda p: {"duplicate_id": p.spare.pk, "reason": "dup"}
    ),
    ApiCall("patch", "/api/people/{id}", lambda p: {"reason": "new phone", "phone": "13300000000"}),
]


@pytest.mark.parametrize("call", API_CALLS, ids=lambda c: f"{c.method}-{c.url}")
def test_api_in_scope_works_and_out_of_scope_is_404_without_side_effects(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair, call: ApiCall
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    out = call(client, pair.theirs.pk, pair)
    assert out.status_code == 404
    assert out.json()["code"] == "person.not_found"
    missing = call(client, 999_999, pair)
    assert (missing.status_code, missing.json()) == (404, out.json())  # not yours == missing
    assert _state() == before
    inside = call(client, pair.mine.pk, pair)
    assert inside.status_code == 200, inside.content


def test_api_register_in_a_sibling_grid_is_404_and_writes_nothing(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair, two_districts: Tree
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    body = {
        "doc_type": "resident_id",
        "doc_number": resident_id(),
        "name": "新人",
        "grid_code": two_districts.grid_b.code,
    }
    assert _api(client, "post", "/api/people", body).status_code == 404
    assert _state() == before
    body["grid_code"] = two_districts.grid_a.code
    created = _api(client, "post", "/api/people", body)
    assert created.status_code == 201
    assert created.json()["name"] == "新*"
    again = _api(client, "post", "/api/people", body)
    assert (again.status_code, again.json()["id"]) == (200, created.json()["id"])


def test_api_search_and_list_see_only_the_scope(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair
) -> None:
    client = login(personas["district_officer"])
    theirs = client.get("/api/people/search", {"q": pair.theirs.doc_number})
    assert (theirs.status_code, theirs.json()["items"]) == (200, [])
    mine = _api(client, "post", "/api/people/search", {"q": pair.mine.doc_number}).json()
    assert [p["id"] for p in mine["items"]] == [pair.mine.pk]
    assert mine["items"][0]["doc_number"].count("*") == 10
    listed = client.get("/api/people").json()
    assert {p["id"] for p in listed["items"]} == {pair.mine.pk, pair.spare.pk}


def test_grid_worker_does_not_see_the_neighbouring_grid(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree, system: Actor
) -> None:
    own = person(system, two_districts.grid_a)
    next_door = person(system, two_districts.grid_a2)
    client = login(personas["grid_worker"])
    assert client.get(reverse("people:detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("people:detail", args=[next_door.pk])).status_code == 404
    assert client.get(f"/api/people/{next_door.pk}").status_code == 404
    found = client.get("/api/people/search", {"q": next_door.doc_number}).json()
    assert found["items"] == []


def test_city_commander_sees_both_districts(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair
) -> None:
    client = login(personas["city_commander"])
    for p in (pair.mine, pair.theirs):
        assert client.get(reverse("people:detail", args=[p.pk])).status_code == 200


def test_role_without_person_rights_is_refused(
    login: Callable[[User], Client], personas: dict[str, User], pair: Pair
) -> None:
    client = login(personas["other_role"])
    before = _state()
    assert client.get(reverse("people:detail", args=[pair.mine.pk])).status_code == 403
    assert (
        client.post(reverse("people:reveal", args=[pair.mine.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert client.get(f"/api/people/{pair.mine.pk}").status_code == 403
    assert (
        _api(client, "post", f"/api/people/{pair.mine.pk}/reveal", {"reason": "x"}).status_code
        == 403
    )
    assert _state() == before


@pytest.mark.parametrize(
    "url",
    ["people:search", "people:register", "people:detail", "people:reveal", "people:merge"],
)
def test_anonymous_is_sent_to_sign_in(client: Client, pair: Pair, url: str) -> None:
    args = [] if url in {"people:search", "people:register"} else [pair.mine.pk]
    response = (
        client.post(reverse(url, args=args))
        if url == "people:reveal"
        else client.get(reverse(url, args=args))
    )
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("call", API_CALLS, ids=lambda c: f"{c.method}-{c.url}")
def test_anonymous_api_calls_are_401(client: Client, pair: Pair, call: ApiCall) -> None:
    before = _state()
    assert call(client, pair.mine.pk, pair).status_code == 401
    assert client.get("/api/people/search", {"q": "x"}).status_code == 401
    assert client.post("/api/people", "{}", content_type="application/json").status_code == 401
    assert _state() == before
