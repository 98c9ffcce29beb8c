"""The sentinel module's scope matrix, in the terms of tests/test_scope_matrix.py: every page
route and API operation, requested for an object of district A as anonymous (page 302 to the
sign-in page, API 401), a persona of the sibling district (404, the same as a missing id), a
persona lacking the permission (403 or 404) and the in-scope persona (success). A refused
request changes no table's row count. Lists never show another district's objects."""

from __future__ import annotations

import datetime as dt
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
from fangkong.people.tests.factories import resident_id
from fangkong.policy.models import RulebookVersion
from fangkong.sentinel import services
from fangkong.sentinel.models import Alert, Registration, Unit
from fangkong.sentinel.services.alerts import alert_raise
from fangkong.sentinel.tests import factories
from fangkong.sentinel.tests.factories import NOW

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@dataclass(frozen=True)
class Side:
    unit: int
    unit_code: str
    registration: int
    alert: int
    grid: str


@dataclass(frozen=True)
class Route:
    key: str
    url: Callable[[Side], str]
    method: str = "get"
    body: Callable[[Side], dict[str, Any]] | None = None
    # Personas (of district A) that succeed on district A's object.
    ok: frozenset[str] = frozenset({"district_officer", "city_commander"})
    # A list: the sibling gets 200 without A's objects instead of 404.
    listing: bool = False
    upload: bool = False
    expect: set[int] = field(default_factory=lambda: {200})

    @property
    def api(self) -> bool:
        return " /api/" in self.key


def _purchase(s: Side) -> dict[str, Any]:
    return factories.purchase(doc_number=resident_id(), client_id=f"scope-{s.unit}")


STAFF = frozenset({"district_officer", "city_commander"})
REPORTERS = frozenset({"district_officer", "city_commander", "pharmacist"})
YESTERDAY = (NOW - dt.timedelta(days=1)).date().isoformat()
CSV = "doc_number,name,phone,drug_class\n{doc},张三,13800138000,antipyretic\n"

ROUTES = [
    Route("sentinel:home", lambda s: "/sentinel/", listing=True, ok=REPORTERS, expect={200, 302}),
    Route("sentinel:units", lambda s: "/sentinel/units/", listing=True),
    Route("sentinel:unit_new", lambda s: "/sentinel/units/new/", method="post",
          body=lambda s: {"kind": "clinic", "jurisdiction_code": s.grid, "code": "NEW1", "name": "新诊所"},
          expect={302}),
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
          body=lambda s: {"doc": resident_id()}, ok=REPORTERS, upload=True),
    Route("sentinel:records", lambda s: "/sentinel/records/", listing=True),
    Route("sentinel:missing", lambda s: f"/sentinel/missing/?day={NOW.date().isoformat()}", listing=True),
    Route("sentinel:alerts", lambda s: "/sentinel/alerts/?status=all", listing=True),
    Route("sentinel:alert", lambda s: f"/sentinel/alerts/{s.alert}/"),
    Route("sentinel:alert_close", lambda s: f"/sentinel/alerts/{s.alert}/close/", method="post",
          body=lambda s: {"outcome": "false_alarm", "reason": "节日效应"}, expect={302}),
    Route("GET /api/sentinel/units", lambda s: "/api/sentinel/units", listing=True),
    Route("POST /api/sentinel/units", lambda s: "/api/sentinel/units", method="post",
          body=lambda s: {"kind": "clinic", "jurisdiction_code": s.grid, "code": "NEW2", "name": "新诊所"},
          expect={201}),
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
PERSONAS = ("grid_worker", "sibling_district_officer", "district_officer", "city_commander", "other_role", "pharmacist", "anonymous")  # fmt: skip


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


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in {"sentinel", "audit", "assignments", "accounts", "jobs", "tracing"}
    }


def _call(client: Client, route: Route, side: Side) -> tuple[int, bytes, bool]:
    url = route.url(side)
    with transaction.atomic():
        before = _counts()
        if route.method == "get":
            response = client.get(url)
        elif route.upload:
            doc = (route.body(side) if route.body else {})["doc"]
            file = SimpleUploadedFile("day.csv", CSV.format(doc=doc).encode(), "text/csv")
            response = client.post(url, {"file": file})
        elif route.api:
            response = client.post(
                url,
                json.dumps(route.body(side) if route.body else {}),
                content_type="application/json",
            )
        else:
            response = client.post(url, route.body(side) if route.body else {})
        changed = _counts() != before
        transaction.set_rollback(True)
    return response.status_code, response.content, changed


def _missing(side: Side) -> Side:
    return Side(
        unit=MISSING,
        unit_code="NOPE",
        registration=MISSING,
        alert=MISSING,
        grid="440902999001001001",
    )


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            signed_in(client, users[persona], verified=True)
        status, content, changed = _call(client, route, a)
        where = f"{route.key} as {persona}: {status} {content[:200]!r}"
        if persona == "anonymous":
            assert status == (401 if route.api else 302), where
            assert not changed, where
        elif persona == "sibling_district_officer":
            if route.listing:
                assert status in route.expect | {200}, where
                assert a.unit_code.encode() not in content, where
            else:
                missing_status, _, _ = _call(client, route, _missing(a))
                if route.key in {"sentinel:unit_new", "POST /api/sentinel/units"}:
                    assert status in {404, 422}, where  # A's node is not theirs
                else:
                    assert status == 404, where
                    assert missing_status == 404, where
                assert not changed, where
        elif persona in route.ok:
            assert status in route.expect, where
        else:
            assert status in {403, 404} or (route.key == "sentinel:home" and status == 302), where
            assert not changed, where
    # The in-scope persona gets the same 404 for a missing id as the sibling does.
    if not route.listing and route.key not in {"sentinel:unit_new", "POST /api/sentinel/units"}:
        client = signed_in(Client(), users["district_officer"], verified=True)
        status, _, changed = _call(client, route, _missing(a))
        assert status == 404, route.key
        assert not changed


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
