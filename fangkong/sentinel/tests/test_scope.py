"""The sentinel module's scope matrix, in the terms of tests/test_scope_matrix.py: every page
route and API operation, requested for an object of district A as anonymous (page 302 to the
sign-in page, API 401), a persona of the sibling district (404, the same as a missing id), a
persona lacking the permission (403 or 404) and the in-scope persona (success). A refused
request changes no table's row count. Lists never show another district's objects."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.core.tests import scope_kit
from fangkong.people.tests.factories import resident_id
from fangkong.policy.models import RulebookVersion
from fangkong.sentinel import services
from fangkong.sentinel.models import Alert, Registration, Unit
from fangkong.sentinel.services.alerts import alert_raise
from fangkong.sentinel.tests import factories
from fangkong.sentinel.tests.factories import NOW

pytestmark = pytest.mark.django_db

MISSING = scope_kit.MISSING


@dataclass(frozen=True)
class Side:
    unit: int
    unit_code: str
    registration: int
    alert: int
    grid: str


Route = scope_kit.Route[Side]


def _purchase(s: Side) -> dict[str, Any]:
    return factories.purchase(doc_number=resident_id(), client_id=f"scope-{s.unit}")


STAFF = frozenset({"district_officer", "city_commander"})
REPORTERS = frozenset({"district_officer", "city_commander", "pharmacist"})
YESTERDAY = (NOW - dt.timedelta(days=1)).date().isoformat()
CSV = "doc_number,name,phone,drug_class\n{doc},张三,13800138000,antipyretic\n"


def _day_file(s: Side) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("day.csv", CSV.format(doc=resident_id()).encode(), "text/csv")
    }


ROUTES = [
    Route("sentinel:home", lambda s: "/sentinel/", listing=True, ok=REPORTERS, expect={200, 302},
          refused={403, 404, 302}),
    Route("sentinel:units", lambda s: "/sentinel/units/", listing=True),
    Route("sentinel:unit_new", lambda s: "/sentinel/units/new/", method="post",
          body=lambda s: {"kind": "clinic", "jurisdiction_code": s.grid, "code": "NEW1", "name": "新诊所"},
          expect={302}, sibling={404, 422}, missing_404=False),
    Route("sentinel:unit", lambda s: f"/sentinel/units/{s.unit}/"),
    Route("sentinel:unit_operator", lambda s: f"/sentinel/units/{s.unit}/operators/",
          method="post", body=lambda s: {"username": "nobody"}, expect={302}),
    Route("sentinel:unit_token", lambda s: f"/sentinel/units/{s.unit}/tokens/", method="post",
          body=lambda s: {"name": "POS"}),
    Route("sentinel:counter", lambda s: f"/sentinel/units/{s.unit}/counter/", method="post",
          body=_purchase, ok=REPORTERS),
    Route("sentinel:zero_report", lambda s: f"/sentinel/units/{s.unit}/zero/", method="post",
          body=lambda s: {"day": YESTERDAY}, ok=REPORTERS, expect={302}),
    Route("sentinel:upload", lambda s: f"/sentinel/units/{s.unit}/upload/", method="post",
          body=_day_file, ok=REPORTERS),
    Route("sentinel:records", lambda s: "/sentinel/records/", listing=True),
    Route("sentinel:missing", lambda s: f"/sentinel/missing/?day={NOW.date().isoformat()}", listing=True),
    Route("sentinel:alerts", lambda s: "/sentinel/alerts/?status=all", listing=True),
    Route("sentinel:alert", lambda s: f"/sentinel/alerts/{s.alert}/"),
    Route("sentinel:alert_close", lambda s: f"/sentinel/alerts/{s.alert}/close/", method="post",
          body=lambda s: {"outcome": "false_alarm", "reason": "节日效应"}, expect={302}),
    Route("GET /api/sentinel/units", lambda s: "/api/sentinel/units", listing=True),
    Route("POST /api/sentinel/units", lambda s: "/api/sentinel/units", method="post",
          body=lambda s: {"kind": "clinic", "jurisdiction_code": s.grid, "code": "NEW2", "name": "新诊所"},
          expect={201}, sibling={404, 422}, missing_404=False),
    Route("GET /api/sentinel/units/{unit_id}", lambda s: f"/api/sentinel/units/{s.unit}", ok=REPORTERS),
    Route("POST /api/sentinel/units/{unit_id}/records", lambda s: f"/api/sentinel/units/{s.unit}/records",
          method="post", body=lambda s: {"records": [_purchase(s)]}, ok=REPORTERS),
    Route("POST /api/sentinel/units/{unit_id}/zero-report",
          lambda s: f"/api/sentinel/units/{s.unit}/zero-report", method="post",
          body=lambda s: {"day": YESTERDAY}, ok=REPORTERS),
    Route("POST /api/sentinel/units/{unit_id}/tokens", lambda s: f"/api/sentinel/units/{s.unit}/tokens",
          method="post", body=lambda s: {"name": "POS"}, expect={201}),
    Route("GET /api/sentinel/records", lambda s: "/api/sentinel/records", listing=True),
    Route("POST /api/sentinel/records/{registration_id}/sample",
          lambda s: f"/api/sentinel/records/{s.registration}/sample", method="post",
          body=lambda s: {"sample_ref": "SP-1"}, ok=REPORTERS),
    Route("GET /api/sentinel/reports/missing",
          lambda s: f"/api/sentinel/reports/missing?day={NOW.date().isoformat()}", listing=True),
    Route("GET /api/sentinel/series",
          lambda s: f"/api/sentinel/series?level=unit&ref={s.unit_code}&stream=antipyretic&start=2022-01-19&end=2022-01-20",
          listing=True),
    Route("GET /api/sentinel/summary", lambda s: "/api/sentinel/summary", listing=True),
    Route("GET /api/sentinel/alerts", lambda s: "/api/sentinel/alerts", listing=True),
    Route("GET /api/sentinel/alerts/{alert_id}", lambda s: f"/api/sentinel/alerts/{s.alert}"),
    Route("POST /api/sentinel/alerts/{alert_id}/close", lambda s: f"/api/sentinel/alerts/{s.alert}/close",
          method="post", body=lambda s: {"outcome": "explained", "reason": "节日效应"}),
]  # fmt: skip
SCOPE_ROUTES: frozenset[str] = frozenset(r.key for r in ROUTES)


def _side(system: Actor, grid: Any, code: str) -> Side:
    unit = factories.unit(system, grid, code=code)
    result = services.registrations_submit(
        actor=system, unit=unit, items=[factories.purchase()], source="api"
    )
    reg_id = result.items[0].id
    assert reg_id is not None
    alert = alert_raise(
        level="unit", ref=unit.code, name=unit.name, path=unit.jurisdiction_path,
        stream="antipyretic", day=NOW.date(), count=9, threshold=4.5, method="ears-c2",
        params={"alpha": 0.001}, policy_version=1, evidence=[(NOW.date().isoformat(), 9, 4.5)],
    )  # fmt: skip
    assert alert is not None
    return Side(
        unit=unit.pk, unit_code=unit.code, registration=reg_id, alert=alert.pk, grid=grid.code
    )


@pytest.fixture
def world(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> tuple[Side, Side, dict[str, User]]:
    a = _side(system, two_districts.grid_a, "SCOPEA1")
    b = _side(system, two_districts.grid_b, "SCOPEB1")
    users = dict(personas)
    users["pharmacist"] = factories.operator(
        system, Unit.objects.get(pk=a.unit), "scope_pharmacist"
    )
    return a, b, users


def _shows(route: Route, content: bytes, side: Side) -> bool:
    return side.unit_code.encode() in content


MATRIX = scope_kit.Matrix(
    apps=frozenset({"sentinel", "audit", "assignments", "accounts", "jobs", "tracing"}),
    missing=Side(
        unit=MISSING, unit_code="NOPE", registration=MISSING, alert=MISSING,
        grid="440902999001001001",
    ),
    shows=_shows,
    personas=(*scope_kit.PERSONAS[:-1], "pharmacist", "anonymous"),
)  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    MATRIX.check(route, a, users)


def test_the_pharmacist_of_one_unit_cannot_file_for_the_unit_next_door(
    world: tuple[Side, Side, dict[str, User]], system: Actor, two_districts: Tree
) -> None:
    _a, _b, users = world
    neighbour = factories.unit(system, two_districts.grid_a, code="NEXTDOOR")
    client = signed_in(Client(), users["pharmacist"], verified=True)
    before = Registration.objects.count()
    response = client.post(
        f"/api/sentinel/units/{neighbour.pk}/records",
        json.dumps({"records": [factories.purchase()]}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert client.get(f"/sentinel/units/{neighbour.pk}/counter/").status_code == 404
    assert Registration.objects.count() == before
    assert Alert.objects.count() == 2
