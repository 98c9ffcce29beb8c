"""The screening module's scope matrix, in the terms of tests/test_scope_matrix.py: every page
route and API operation, requested for an object of district A as anonymous (page 302 to the
sign-in page, API 401; the public self-report page answers everyone), a persona of the sibling
district (404, the same as a missing id; lists answer 200 without showing A's objects; routes
that create in the caller's own territory succeed there), personas lacking the permission (403
or 404) and the in-scope personas (success). A refused request changes no table's row count."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.screening import imports, services
from fangkong.screening.models import Arrival
from fangkong.screening.tests.factories import assist_person, resident_id
from fangkong.screening.tests.files import person_row, xlsx

pytestmark = pytest.mark.django_db

MISSING = 987_654_321
ALL_STAFF = frozenset({"grid_worker", "district_officer", "city_commander"})
OFFICERS = frozenset({"district_officer", "city_commander"})


@dataclass(frozen=True)
class Side:
    arrival: int  # placed at grid A
    queued: int  # waiting at the village for a grid
    request: int  # an assist request received by the town
    batch: int
    district: str
    grid: str


@dataclass(frozen=True)
class Route:
    key: str
    url: Callable[[Side], str]
    method: str = "get"
    body: Callable[[Side], dict[str, Any]] | None = None
    ok: frozenset[str] = ALL_STAFF
    listing: bool = False  # 200 to everyone allowed, showing only their objects
    creates: bool = False  # makes a new object in the caller's own territory
    public: bool = False
    multipart: bool = False
    expect: set[int] = field(default_factory=lambda: {200})

    @property
    def api(self) -> bool:
        return " /api/" in self.key


def _person(s: Side) -> dict[str, Any]:
    return {
        "name": "新人",
        "doc_type": "resident_id",
        "doc_number": resident_id(),
        "phone": "13800000000",
        "origin": "北京市朝阳区",
        "route": "",
        "arrival_date": "2022-01-09",
        "address": "站南社区",
        "returnee_class": "other",
    }


def _verify(s: Side) -> dict[str, Any]:
    return {"reached": "1", "sample_ref": "T-1", "reason": ""}


def _upload(s: Side) -> dict[str, Any]:
    data = xlsx([person_row(1, resident_id())])
    return {
        "source_name": "scope",
        "kind": "push_list",
        "file": SimpleUploadedFile("list.xlsx", data),
    }


ROUTES = [
    Route("screening:board", lambda s: f"/screening/?node={s.district}", ok=OFFICERS),
    Route("screening:inbox", lambda s: "/screening/inbox/", listing=True),
    Route("screening:arrivals", lambda s: "/screening/arrivals/", listing=True),
    Route("screening:arrival", lambda s: f"/screening/arrivals/{s.arrival}/"),
    Route("screening:verify", lambda s: f"/screening/arrivals/{s.arrival}/verify/", method="post",
          body=_verify, expect={302}),
    Route("screening:place", lambda s: f"/screening/arrivals/{s.queued}/place/", method="post",
          body=lambda s: {"grid_code": s.grid}, ok=OFFICERS, expect={302}),
    Route("screening:canvass", lambda s: "/screening/canvass/", method="post", body=_person,
          creates=True, expect={302}),
    Route("screening:export", lambda s: "/screening/export/", listing=True),
    # An export writes its audit entry: it "creates" in the caller's own territory.
    Route("screening:export_file", lambda s: "/screening/export.csv", creates=True),
    Route("screening:imports", lambda s: "/screening/imports/", listing=True),
    Route("screening:import", lambda s: f"/screening/imports/{s.batch}/", ok=OFFICERS),
    Route("screening:import_report", lambda s: f"/screening/imports/{s.batch}/report.xlsx", ok=OFFICERS),
    Route("screening:mappings", lambda s: "/screening/mappings/", method="post",
          body=lambda s: {"source_name": "机场", "lines": "人名=name"}, creates=True, ok=OFFICERS,
          expect={302}),
    Route("screening:assist_list", lambda s: "/screening/assist/", listing=True),
    Route("screening:assist_send", lambda s: "/screening/assist/send/", method="post",
          body=lambda s: {"to_code": "440902001", "reason": "r", "basis_id": "L-1",
                          "persons": f"王五,{resident_id()},13800000000,站南社区"},
          creates=True, ok=OFFICERS, expect={302}),
    Route("screening:assist", lambda s: f"/screening/assist/{s.request}/", ok=OFFICERS),
    Route("screening:assist_ack", lambda s: f"/screening/assist/{s.request}/acknowledge/",
          method="post", ok=OFFICERS, expect={302}),
    Route("screening:self_report", lambda s: "/screening/report/", public=True),
    Route("GET /api/screening/arrivals", lambda s: "/api/screening/arrivals", listing=True),
    Route("GET /api/screening/arrivals/{arrival_id}", lambda s: f"/api/screening/arrivals/{s.arrival}"),
    Route("POST /api/screening/arrivals/{arrival_id}/verify",
          lambda s: f"/api/screening/arrivals/{s.arrival}/verify", method="post",
          body=lambda s: {"reached": True, "sample_ref": "T-2"}),
    Route("POST /api/screening/arrivals/{arrival_id}/place",
          lambda s: f"/api/screening/arrivals/{s.queued}/place", method="post",
          body=lambda s: {"grid_code": s.grid}, ok=OFFICERS),
    Route("POST /api/screening/canvass", lambda s: "/api/screening/canvass", method="post",
          body=_person, creates=True, expect={201}),
    Route("GET /api/screening/board", lambda s: f"/api/screening/board?node={s.district}", ok=OFFICERS),
    Route("GET /api/screening/assist", lambda s: "/api/screening/assist", listing=True),
    Route("POST /api/screening/assist", lambda s: "/api/screening/assist", method="post",
          body=lambda s: {"to_code": "440902001", "reason": "r", "basis_type": "letter", "basis_id": "L-2",
                          "persons": [{"name": "王五", "doc_number": resident_id()}]},
          creates=True, ok=OFFICERS, expect={201}),
    Route("GET /api/screening/assist/{request_id}", lambda s: f"/api/screening/assist/{s.request}",
          ok=OFFICERS),
    Route("POST /api/screening/assist/{request_id}/acknowledge",
          lambda s: f"/api/screening/assist/{s.request}/acknowledge", method="post", ok=OFFICERS),
    Route("POST /api/screening/imports", lambda s: "/api/screening/imports", method="post",
          body=_upload, creates=True, ok=OFFICERS, multipart=True, expect={202}),
    Route("GET /api/screening/imports/{batch_id}", lambda s: f"/api/screening/imports/{s.batch}",
          ok=OFFICERS),
]  # fmt: skip
SCOPE_ROUTES: frozenset[str] = frozenset(r.key for r in ROUTES)
PERSONAS = ("grid_worker", "sibling_district_officer", "district_officer", "city_commander", "other_role", "anonymous")  # fmt: skip


def _side(system: Actor, *, district: Any, grid: Any, town: Any, tag: str) -> Side:
    arrival = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id",
            doc_number=resident_id(),
            name=f"到达{tag}",
            address=f"{grid.name}",
            arrival_date=_day(),
        ),
    )
    Arrival.objects.filter(pk=arrival.pk).update(
        jurisdiction=grid, jurisdiction_path=grid.path, placed=True
    )
    queued = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id", doc_number=resident_id(), name=f"待定{tag}", arrival_date=_day()
        ),
    )
    Arrival.objects.filter(pk=queued.pk).update(
        jurisdiction=town, jurisdiction_path=town.path, placed=False
    )
    request = services.assist_request_send(
        system,
        to_code=town.code,
        persons=[assist_person()],
        reason="scope",
        basis_type="contact",
        basis_id=f"scope-{tag}",
    )
    batch = imports.import_start(
        actor=system,
        file=xlsx([person_row(1, resident_id())]),
        root=district,
        source_name=f"list {tag}",
    )
    return Side(arrival.pk, queued.pk, request.pk, batch.pk, district.code, grid.code)


def _day() -> Any:
    import datetime as dt

    return dt.date(2022, 1, 9)


@pytest.fixture
def world(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> tuple[Side, Side, dict[str, User]]:
    t = two_districts
    a = _side(system, district=t.district_a, grid=t.grid_a, town=t.town_a, tag="A")
    b = _side(system, district=t.district_b, grid=t.grid_b, town=t.town_b, tag="B")
    return a, b, dict(personas)


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label
        in {"screening", "audit", "assignments", "control", "jobs", "people", "notifications"}
    }


def _call(client: Client, route: Route, side: Side) -> tuple[int, bytes, bool]:
    url = route.url(side)
    with transaction.atomic():
        before = _counts()
        body = route.body(side) if route.body else {}
        if route.method == "get":
            response = client.get(url)
        elif route.api and not route.multipart:
            response = client.post(url, json.dumps(body), content_type="application/json")
        else:
            response = client.post(url, body)
        changed = _counts() != before
        transaction.set_rollback(True)
    content = (
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
        if response.streaming
        else response.content
    )
    return response.status_code, content, changed


def _missing(side: Side) -> Side:
    return Side(MISSING, MISSING, MISSING, MISSING, "440999", "440999001001001001")


def _shows(content: bytes, side: Side) -> bool:
    text = content.decode(errors="replace")
    return any(
        marker in text
        for marker in (
            f"/screening/arrivals/{side.arrival}/",
            f'"id": {side.arrival},',
            f"/screening/assist/{side.request}/",
            f'"id": {side.request},',
            f"/screening/imports/{side.batch}/",
            "list A",
        )
    )


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            signed_in(client, users[persona], verified=True)
        status, content, changed = _call(client, route, a)
        where = f"{route.key} as {persona}: {status} {content[:300]!r}"
        if route.public:
            assert status == 200, where
        elif persona == "anonymous":
            assert status == (401 if route.api else 302), where
            assert not changed, where
        elif persona == "sibling_district_officer":
            if route.creates:
                assert status in route.expect | {403}, where
            elif route.listing:
                assert status == 200, where
                assert not _shows(content, a), where
                assert not changed, where
            else:
                missing_status, _, _ = _call(client, route, _missing(a))
                assert status == 404, where
                assert missing_status == 404, where
                assert not changed, where
        elif persona in route.ok:
            assert status in route.expect, where
        else:
            assert status in {403, 404}, where
            assert not changed, where
    if not (route.listing or route.creates or route.public):
        client = signed_in(Client(), users["district_officer"], verified=True)
        status, _, changed = _call(client, route, _missing(a))
        assert status == 404, route.key
        assert not changed, route.key


def test_lists_show_only_the_callers_district(world: tuple[Side, Side, dict[str, User]]) -> None:
    a, b, users = world
    client = signed_in(Client(), users["district_officer"], verified=True)
    ids = {x["id"] for x in client.get("/api/screening/arrivals").json()["items"]}
    assert a.arrival in ids
    assert b.arrival not in ids
    sibling = signed_in(Client(), users["sibling_district_officer"], verified=True)
    assert [r["id"] for r in sibling.get("/api/screening/assist").json()] == [b.request]
