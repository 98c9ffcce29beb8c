"""In- and out-of-jurisdiction pairs over every control URL and API endpoint.

A district officer sees their district's orders; the sibling district's look exactly like
missing ones (404), and a refused write changes nothing: no row, no audit entry, no job.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.control import services
from fangkong.control.models import ChangeRequest, ControlOrder, OrderEvent, ScheduledTest
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.jobs.models import Job
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category

pytestmark = pytest.mark.django_db


@dataclass
class Side:
    person: Person
    order: ControlOrder
    test: ScheduledTest
    request: ChangeRequest


def _side(system: Actor, who: Person) -> Side:
    order = factories.order(system, who, Category.SECONDARY_CONTACT)
    test = ScheduledTest.objects.filter(order=order).order_by("due_on").first()
    assert test is not None
    result = services.order_change_status(
        actor=system,
        order=order,
        to_status="cancelled",
        reason="hotline call",
        basis_type="manual",
        basis_id="",
    )
    assert result.request is not None
    return Side(who, order, test, result.request)


@dataclass
class World:
    mine: Side  # district A
    theirs: Side  # district B


@pytest.fixture
def world(resident: Person, resident_b: Person, system: Actor) -> World:
    return World(mine=_side(system, resident), theirs=_side(system, resident_b))


def _state() -> tuple[Any, ...]:
    return (
        list(ControlOrder.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        list(ScheduledTest.objects.order_by("pk").values_list("pk", "status")),
        list(ChangeRequest.objects.order_by("pk").values_list("pk", "status")),
        OrderEvent.objects.count(),
        AuditEntry.objects.count(),
        Job.objects.count(),
        Assignment.objects.count(),
    )


@dataclass(frozen=True)
class PageCall:
    method: str
    name: str
    key: Callable[[Side], dict[str, int]]
    data: dict[str, Any]

    def __call__(self, client: Client, side: Side) -> Any:
        url = reverse(self.name, kwargs=self.key(side))
        return getattr(client, self.method)(url, self.data)


PAGE_CALLS = [
    PageCall("get", "control:person", lambda s: {"person_id": s.person.pk}, {}),
    PageCall("get", "control:issue", lambda s: {"person_id": s.person.pk}, {}),
    PageCall(
        "post",
        "control:issue",
        lambda s: {"person_id": s.person.pk},
        {
            "category": "close_contact",
            "anchor": "2022-01-10",
            "basis_type": "contact",
            "basis_id": "c-9",
            "reason": "case 9",
        },
    ),
    PageCall("get", "control:order", lambda s: {"order_id": s.order.pk}, {}),
    PageCall(
        "post",
        "control:status",
        lambda s: {"order_id": s.order.pk},
        {"to_status": "in_effect", "basis_type": "report", "basis_id": "p-1", "reason": "placed"},
    ),
    PageCall("post", "control:release", lambda s: {"order_id": s.order.pk}, {"reason": "done"}),
    PageCall(
        "post",
        "control:test_record",
        lambda s: {"test_id": s.test.pk},
        {"result": "negative", "sampled_at": "2022-01-10T08:00", "result_ref": "T-1"},
    ),
    PageCall(
        "post",
        "control:decide",
        lambda s: {"request_id": s.request.pk},
        {"approve": "1", "reason": "verified"},
    ),
]


@pytest.mark.parametrize("call", PAGE_CALLS, ids=lambda c: f"{c.method}-{c.name}")
def test_control_pages_in_scope_work_and_out_of_scope_are_404_without_side_effects(
    login: Callable[[User], Client], personas: dict[str, User], world: World, call: PageCall
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    assert call(client, world.theirs).status_code == 404
    assert _state() == before
    # release is refused before the release date (409), everything else goes through
    assert call(client, world.mine).status_code in {200, 302, 409}


def test_list_pages_show_only_my_district(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["district_officer"])
    listing = client.get(reverse("control:list")).content.decode()
    assert reverse("control:order", args=[world.mine.order.pk]) in listing
    assert reverse("control:order", args=[world.theirs.order.pk]) not in listing
    queue = client.get(reverse("control:approvals")).content.decode()
    assert reverse("control:decide", args=[world.mine.request.pk]) in queue
    assert reverse("control:decide", args=[world.theirs.request.pk]) not in queue
    due = client.get(reverse("control:tests_due"), {"day": "2022-01-10"}).content.decode()
    assert reverse("control:order", args=[world.mine.order.pk]) in due
    assert reverse("control:order", args=[world.theirs.order.pk]) not in due


def test_pages_never_show_a_full_name(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["district_officer"])
    urls = [
        reverse("control:list"),
        reverse("control:person", args=[world.mine.person.pk]),
        reverse("control:order", args=[world.mine.order.pk]),
        reverse("control:tests_due") + "?day=2022-01-10",
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert "测试人" not in body, url
        assert world.mine.person.doc_number not in body, url


def test_anonymous_is_sent_to_login_and_a_lab_account_is_refused(
    client: Client, login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    url = reverse("control:order", args=[world.mine.order.pk])
    assert client.get(url).status_code == 302
    assert client.get("/api/control/orders").status_code == 401
    lab = login(personas["other_role"])
    assert lab.get(url).status_code == 403
    assert lab.get(reverse("control:list")).status_code == 403


def test_a_grid_worker_sees_their_grid_but_cannot_issue(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["grid_worker"])
    assert client.get(reverse("control:order", args=[world.mine.order.pk])).status_code == 200
    before = _state()
    response = client.post(
        reverse("control:issue", args=[world.mine.person.pk]),
        {
            "category": "close_contact",
            "anchor": "2022-01-10",
            "basis_type": "contact",
            "basis_id": "c",
            "reason": "r",
        },
    )
    assert response.status_code == 403
    assert _state() == before


def test_release_button_shows_blockers_in_place(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["district_officer"])
    response = client.post(
        reverse("control:release", args=[world.mine.order.pk]),
        {"reason": "done"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="release-box"' in body
    assert _("Before the release date") in body
    assert _("Test missing") in body


# --- API -------------------------------------------------------------------------------------


def _api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@dataclass(frozen=True)
class ApiCall:
    name: str
    method: str
    url: Callable[[Side], str]
    body: Callable[[Side], dict[str, Any] | None]


API_CALLS = [
    ApiCall("get-order", "get", lambda s: f"/api/control/orders/{s.order.pk}", lambda s: None),
    ApiCall(
        "get-health-code",
        "get",
        lambda s: f"/api/control/people/{s.person.pk}/health-code",
        lambda s: None,
    ),
    ApiCall(
        "post-issue",
        "post",
        lambda s: "/api/control/orders",
        lambda s: {
            "person_id": s.person.pk,
            "category": "close_contact",
            "anchor": "2022-01-10",
            "basis_type": "contact",
            "basis_id": "c-9",
            "reason": "case 9",
        },
    ),
    ApiCall(
        "post-status",
        "post",
        lambda s: f"/api/control/orders/{s.order.pk}/status",
        lambda s: {
            "to_status": "in_effect",
            "reason": "placed",
            "basis_type": "report",
            "basis_id": "p",
        },
    ),
    ApiCall(
        "post-bulk-status",
        "post",
        lambda s: "/api/control/orders/bulk-status",
        lambda s: {
            "order_ids": [s.order.pk],
            "to_status": "in_effect",
            "reason": "placed",
            "basis_type": "report",
            "basis_id": "list-1",
        },
    ),
    ApiCall(
        "post-release",
        "post",
        lambda s: f"/api/control/orders/{s.order.pk}/release",
        lambda s: {"reason": "done"},
    ),
    ApiCall(
        "post-test-result",
        "post",
        lambda s: f"/api/control/tests/{s.test.pk}/result",
        lambda s: {
            "result": "negative",
            "sampled_at": "2022-01-10T08:00:00+08:00",
            "result_ref": "T",
        },
    ),
    ApiCall(
        "post-decide",
        "post",
        lambda s: f"/api/control/change-requests/{s.request.pk}/decide",
        lambda s: {"approve": True, "reason": "verified"},
    ),
]


@pytest.mark.parametrize("call", API_CALLS, ids=lambda c: c.name)
def test_control_api_in_scope_works_and_out_of_scope_is_404_without_side_effects(
    login: Callable[[User], Client], personas: dict[str, User], world: World, call: ApiCall
) -> None:
    client = login(personas["district_officer"])
    before = _state()
    response = _api(client, call.method, call.url(world.theirs), call.body(world.theirs))
    assert response.status_code == 404, response.content
    assert response.json()["code"].endswith("not_found")
    assert _state() == before
    mine = _api(client, call.method, call.url(world.mine), call.body(world.mine))
    assert mine.status_code in {200, 201, 409}, mine.content


def test_api_lists_only_my_district(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["district_officer"])
    orders = client.get("/api/control/orders?status=active").json()
    assert [o["id"] for o in orders["items"]] == [world.mine.order.pk]
    assert orders["items"][0]["person_name"] != "测试人"
    requests = client.get("/api/control/change-requests").json()
    assert [r["id"] for r in requests] == [world.mine.request.pk]


def test_api_issue_returns_201_then_200_for_an_absorbed_order(
    login: Callable[[User], Client],
    personas: dict[str, User],
    resident: Person,
    book: RulebookVersion,
) -> None:
    client = login(personas["district_officer"])
    body = {
        "person_id": resident.pk,
        "category": "close_contact",
        "anchor": "2022-01-10",
        "basis_type": "contact",
        "basis_id": "c-1",
        "reason": "case 1",
    }
    first = _api(client, "post", "/api/control/orders", body)
    assert first.status_code == 201
    assert first.json()["next_test"] == "2022-01-11"
    weaker = _api(client, "post", "/api/control/orders", body | {"category": "copresence_contact"})
    assert weaker.status_code == 200
    assert weaker.json()["id"] == first.json()["id"]
    code = client.get(f"/api/control/people/{resident.pk}/health-code").json()
    assert code["colour"] == "red"
    assert code["reasons"][0]["order_id"] == first.json()["id"]


def test_api_release_blocked_is_409_with_blockers(
    login: Callable[[User], Client], personas: dict[str, User], world: World
) -> None:
    client = login(personas["district_officer"])
    response = _api(
        client, "post", f"/api/control/orders/{world.mine.order.pk}/release", {"reason": "x"}
    )
    assert response.status_code == 409
    payload = response.json()
    assert payload["code"] == "control.release_blocked"
    assert {b["code"] for b in payload["detail"]["blockers"]} == {
        "before_release_date",
        "test_missing",
    }
