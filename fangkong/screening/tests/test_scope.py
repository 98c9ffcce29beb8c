"""The screening module's scope matrix, in the terms of tests/test_scope_matrix.py: every page
route and API operation, requested for an object of district A as anonymous (page 302 to the
sign-in page, API 401; the public self-report page answers everyone), a persona of the sibling
district (404, the same as a missing id; lists answer 200 without showing A's objects; routes
that create in the caller's own territory succeed there), personas lacking the permission (403
or 404) and the in-scope personas (success). A refused request changes no table's row count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.core.tests import scope_kit
from fangkong.policy.models import RulebookVersion
from fangkong.screening import imports, services
from fangkong.screening.models import Arrival
from fangkong.screening.tests.factories import assist_person, resident_id
from fangkong.screening.tests.files import person_row, xlsx

pytestmark = pytest.mark.django_db

MISSING = scope_kit.MISSING
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


Route = scope_kit.Route[Side]


def _route(key: str, url: Callable[[Side], str], **kw: Any) -> Route:
    """A screening route: every staff role may act unless the route says otherwise."""
    return Route(key, url, **({"ok": ALL_STAFF} | kw))


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
    _route("screening:board", lambda s: f"/screening/?node={s.district}", ok=OFFICERS),
    _route("screening:inbox", lambda s: "/screening/inbox/", listing=True),
    _route("screening:arrivals", lambda s: "/screening/arrivals/", listing=True),
    _route("screening:arrival", lambda s: f"/screening/arrivals/{s.arrival}/"),
    _route("screening:verify", lambda s: f"/screening/arrivals/{s.arrival}/verify/", method="post",
          body=_verify, expect={302}),
    _route("screening:place", lambda s: f"/screening/arrivals/{s.queued}/place/", method="post",
          body=lambda s: {"grid_code": s.grid}, ok=OFFICERS, expect={302}),
    _route("screening:canvass", lambda s: "/screening/canvass/", method="post", body=_person,
          creates=True, expect={302}),
    _route("screening:export", lambda s: "/screening/export/", listing=True),
    # An export writes its audit entry: it "creates" in the caller's own territory.
    _route("screening:export_file", lambda s: "/screening/export.csv", creates=True),
    _route("screening:imports", lambda s: "/screening/imports/", listing=True),
    _route("screening:import", lambda s: f"/screening/imports/{s.batch}/", ok=OFFICERS),
    _route("screening:import_report", lambda s: f"/screening/imports/{s.batch}/report.xlsx", ok=OFFICERS),
    _route("screening:mappings", lambda s: "/screening/mappings/", method="post",
          body=lambda s: {"source_name": "机场", "lines": "人名=name"}, creates=True, ok=OFFICERS,
          expect={302}),
    _route("screening:assist_list", lambda s: "/screening/assist/", listing=True),
    _route("screening:assist_send", lambda s: "/screening/assist/send/", method="post",
          body=lambda s: {"to_code": "440902001", "reason": "r", "basis_id": "L-1",
                          "persons": f"王五,{resident_id()},13800000000,站南社区"},
          creates=True, ok=OFFICERS, expect={302}),
    _route("screening:assist", lambda s: f"/screening/assist/{s.request}/", ok=OFFICERS),
    _route("screening:assist_ack", lambda s: f"/screening/assist/{s.request}/acknowledge/",
          method="post", ok=OFFICERS, expect={302}),
    _route("screening:self_report", lambda s: "/screening/report/", public=True),
    _route("GET /api/screening/arrivals", lambda s: "/api/screening/arrivals", listing=True),
    _route("GET /api/screening/arrivals/{arrival_id}", lambda s: f"/api/screening/arrivals/{s.arrival}"),
    _route("POST /api/screening/arrivals/{arrival_id}/verify",
          lambda s: f"/api/screening/arrivals/{s.arrival}/verify", method="post",
          body=lambda s: {"reached": True, "sample_ref": "T-2"}),
    _route("POST /api/screening/arrivals/{arrival_id}/place",
          lambda s: f"/api/screening/arrivals/{s.queued}/place", method="post",
          body=lambda s: {"grid_code": s.grid}, ok=OFFICERS),
    _route("POST /api/screening/canvass", lambda s: "/api/screening/canvass", method="post",
          body=_person, creates=True, expect={201}),
    _route("GET /api/screening/board", lambda s: f"/api/screening/board?node={s.district}", ok=OFFICERS),
    _route("GET /api/screening/assist", lambda s: "/api/screening/assist", listing=True),
    _route("POST /api/screening/assist", lambda s: "/api/screening/assist", method="post",
          body=lambda s: {"to_code": "440902001", "reason": "r", "basis_type": "letter", "basis_id": "L-2",
                          "persons": [{"name": "王五", "doc_number": resident_id()}]},
          creates=True, ok=OFFICERS, expect={201}),
    _route("GET /api/screening/assist/{request_id}", lambda s: f"/api/screening/assist/{s.request}",
          ok=OFFICERS),
    _route("POST /api/screening/assist/{request_id}/acknowledge",
          lambda s: f"/api/screening/assist/{s.request}/acknowledge", method="post", ok=OFFICERS),
    _route("POST /api/screening/imports", lambda s: "/api/screening/imports", method="post",
          body=_upload, creates=True, ok=OFFICERS, multipart=True, expect={202}),
    _route("GET /api/screening/imports/{batch_id}", lambda s: f"/api/screening/imports/{s.batch}",
          ok=OFFICERS),
]  # fmt: skip
SCOPE_ROUTES: frozenset[str] = frozenset(r.key for r in ROUTES)


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


def _shows(route: Route, content: bytes, side: Side) -> bool:
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


MATRIX = scope_kit.Matrix(
    apps=frozenset(
        {"screening", "audit", "assignments", "control", "jobs", "people", "notifications"}
    ),
    missing=Side(MISSING, MISSING, MISSING, MISSING, "440999", "440999001001001001"),
    shows=_shows,
)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    MATRIX.check(route, a, users)


def test_lists_show_only_the_callers_district(world: tuple[Side, Side, dict[str, User]]) -> None:
    a, b, users = world
    client = signed_in(Client(), users["district_officer"], verified=True)
    ids = {x["id"] for x in client.get("/api/screening/arrivals").json()["items"]}
    assert a.arrival in ids
    assert b.arrival not in ids
    sibling = signed_in(Client(), users["sibling_district_officer"], verified=True)
    assert [r["id"] for r in sibling.get("/api/screening/assist").json()] == [b.request]
