"""Pages and API through the real request path: scope pairs on every URL, denied writes that
change nothing, query bounds on the list pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils.translation import gettext
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment, AssignmentEvent
from fangkong.assignments.tests.factories import assignment, post
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.jobs.models import Job
from fangkong.jurisdictions.tests.factories import LoginFn

pytestmark = pytest.mark.django_db

READ_URLS = [
    "/assignments/{id}/",
    "/api/assignments/{id}",
]
BOARD_URLS = [
    "/assignments/board/{code}/",
    "/assignments/board/{code}/overdue/",
    "/api/assignments/board/{code}",
    "/api/assignments/board/{code}/overdue",
]
WRITES: list[tuple[str, dict[str, str]]] = [
    ("/assignments/{id}/start/", {}),
    ("/assignments/{id}/complete/", {"outcome": "done"}),
    ("/assignments/{id}/reject/", {"reason": "not ours"}),
    ("/assignments/{id}/reassign/", {"to": "440902001001001002", "reason": "moved"}),
    ("/api/assignments/{id}/start", {}),
    ("/api/assignments/{id}/complete", {"outcome": "done"}),
    ("/api/assignments/{id}/reject", {"reason": "not ours"}),
    ("/api/assignments/{id}/reassign", {"to": "440902001001001002", "reason": "moved"}),
]


@pytest.fixture
def item_a(two_districts: Tree, system: Actor) -> Assignment:
    return assignment(system, two_districts.grid_a, title="Verify arrival A")


def _post(client: Client, url: str, data: dict[str, str]) -> Any:
    if url.startswith("/api/"):
        return client.post(url, data, content_type="application/json")
    return client.post(url, data)


def _snapshot() -> tuple[list[tuple[Any, ...]], int, int, int]:
    rows = list(Assignment.objects.order_by("id").values_list("id", "status", "updated_at"))
    return rows, AuditEntry.objects.count(), Job.objects.count(), AssignmentEvent.objects.count()


@pytest.mark.parametrize("url", READ_URLS)
def test_district_officer_reads_own_districts_work(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str
) -> None:
    response = login(personas["district_officer"]).get(url.format(id=item_a.pk))
    assert response.status_code == 200
    assert "Verify arrival A" in response.content.decode()


@pytest.mark.parametrize("url", READ_URLS)
def test_sibling_district_officer_gets_404(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str
) -> None:
    response = login(personas["sibling_district_officer"]).get(url.format(id=item_a.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("url", BOARD_URLS)
@pytest.mark.parametrize("code", ["440902", "440902001001001001"])
def test_boards_in_own_district(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str, code: str
) -> None:
    assert login(personas["district_officer"]).get(url.format(code=code)).status_code == 200


@pytest.mark.parametrize("url", BOARD_URLS)
@pytest.mark.parametrize("code", ["440902", "440902001001001001", "4409", "nope"])
def test_boards_outside_the_district_are_404(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str, code: str
) -> None:
    response = login(personas["sibling_district_officer"]).get(url.format(code=code))
    assert response.status_code == 404


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_sibling_writes_are_404_and_change_nothing(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str, data: dict[str, str]
) -> None:
    before = _snapshot()
    client = login(personas["sibling_district_officer"])
    assert _post(client, url.format(id=item_a.pk), data).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_a_lab_account_in_the_district_cannot_write(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, url: str, data: dict[str, str]
) -> None:
    """The lab role may not even see work: 404, nothing changed."""
    before = _snapshot()
    client = login(personas["other_role"])
    assert _post(client, url.format(id=item_a.pk), data).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("api", [False, True])
def test_grid_worker_may_not_reassign(
    personas: dict[str, User], login: LoginFn, item_a: Assignment, api: bool
) -> None:
    before = _snapshot()
    url = f"/api/assignments/{item_a.pk}/reassign" if api else f"/assignments/{item_a.pk}/reassign/"
    response = _post(
        login(personas["grid_worker"]), url, {"to": "440902001001001002", "reason": "x"}
    )
    assert response.status_code == 403
    assert _snapshot() == before


def test_anonymous_is_sent_to_sign_in_and_api_says_401(client: Client, item_a: Assignment) -> None:
    response = client.get(f"/assignments/{item_a.pk}/")
    assert response.status_code == 302
    assert client.get("/api/assignments").status_code == 401
    assert client.post(f"/api/assignments/{item_a.pk}/start").status_code == 401


def test_grid_worker_works_an_item_through_the_api(
    personas: dict[str, User], login: LoginFn, item_a: Assignment
) -> None:
    client = login(personas["grid_worker"])
    assert _post(client, f"/api/assignments/{item_a.pk}/start", {}).json()["status"] == (
        "in_progress"
    )
    again = _post(client, f"/api/assignments/{item_a.pk}/start", {})
    assert again.status_code == 409
    assert again.json()["code"] == "assignment.bad_transition"
    assert _post(
        client, f"/api/assignments/{item_a.pk}/complete", {"outcome": " "}
    ).status_code == (422)
    done = _post(client, f"/api/assignments/{item_a.pk}/complete", {"outcome": "isolated"})
    assert done.json()["status"] == "done"
    detail = client.get(f"/api/assignments/{item_a.pk}").json()
    assert [e["action"] for e in detail["events"]] == ["created", "started", "completed"]


def test_htmx_actions_swap_the_panel(
    personas: dict[str, User], login: LoginFn, item_a: Assignment
) -> None:
    client = login(personas["grid_worker"])
    response = client.post(f"/assignments/{item_a.pk}/start/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="assignment-panel"' in response.content.decode()
    response = client.post(
        f"/assignments/{item_a.pk}/reject/", {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # the form again, with its error
    assert "error" in response.content.decode()
    response = client.post(
        f"/assignments/{item_a.pk}/complete/", {"outcome": "ok"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    response = client.post(f"/assignments/{item_a.pk}/start/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    item_a.refresh_from_db()
    assert item_a.status == "done"


def test_reassign_page_redirects_to_the_new_item(
    personas: dict[str, User], login: LoginFn, item_a: Assignment
) -> None:
    client = login(personas["district_officer"])
    response = client.post(
        f"/assignments/{item_a.pk}/reassign/", {"to": "440902001001001002", "reason": "moved"}
    )
    new = Assignment.objects.get(status="open")
    assert response.status_code == 302
    assert response["Location"] == f"/assignments/{new.pk}/"
    response = client.post(
        f"/assignments/{new.pk}/reassign/", {"to": "440903001001001001", "reason": "x"}
    )
    assert response.status_code == 200  # the form again: the sibling's grid is "no such node"
    # the form error in the page's language (the UI speaks Simplified Chinese by default)
    assert gettext("No such node in your area") in response.content.decode()
    assert Assignment.objects.filter(status="open").get().pk == new.pk


def test_inbox_lists_scope_most_urgent_first_with_bounded_queries(
    two_districts: Tree,
    system: Actor,
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    now = clock.now()
    for hours in (30, -2, 5, 12):
        assignment(
            system,
            two_districts.grid_a,
            title=f"due {hours}h",
            due_at=now + dt.timedelta(hours=hours),
        )
    assignment(system, two_districts.grid_b, title="sibling work")
    client = login(personas["district_officer"])
    with django_assert_max_num_queries(10):
        page = client.get("/assignments/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "sibling work" not in body
    order = [body.index(f"due {h}h") for h in (-2, 5, 12, 30)]
    assert order == sorted(order)
    with django_assert_max_num_queries(8):
        api = client.get("/api/assignments?limit=2").json()
    assert [i["title"] for i in api["items"]] == ["due -2h", "due 5h"]
    rest = client.get(f"/api/assignments?limit=2&after={api['next_after']}").json()
    assert rest["items"][0]["title"] == "due 12h"


def test_on_my_desk_shows_work_at_my_posts_and_escalated_to_them(
    two_districts: Tree, system: Actor, personas: dict[str, User], login: LoginFn
) -> None:
    worker = personas["grid_worker"]
    post(two_districts.grid_a, "grid_worker", account_id=worker.pk)
    assignment(system, two_districts.grid_a, title="mine")
    assignment(system, two_districts.grid_a2, title="neighbour's")
    items = login(worker).get("/api/assignments?mine=true").json()["items"]
    assert [i["title"] for i in items] == ["mine"]


@pytest.mark.parametrize("code", ["4409", "440902", "440902001001001001"])
def test_board_and_overdue_pages_have_bounded_queries(
    two_districts: Tree,
    system: Actor,
    *,
    personas: dict[str, User],
    login: LoginFn,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    code: str,
) -> None:
    now = clock.now()
    for node in (two_districts.grid_a, two_districts.grid_a2, two_districts.grid_b):
        for hours in (-3, 2, 20):
            assignment(system, node, due_at=now + dt.timedelta(hours=hours))
    client = login(personas["city_commander"])
    with django_assert_max_num_queries(14):
        assert client.get(f"/assignments/board/{code}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/assignments/board/{code}/overdue/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/assignments/board/{code}").status_code == 200
