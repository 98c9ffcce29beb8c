"""The tracing module's scope matrix, in the terms of tests/test_scope_matrix.py: every page
route and API operation, requested for an object of district A as anonymous (page 302 to the
sign-in page, API 401), a persona of the sibling district (404, the same as a missing id; lists
and bulk decisions answer 200 without showing or touching A's objects), personas lacking the
permission (403 or 404) and the in-scope personas (success). A refused request changes no
table's row count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.core.tests import scope_kit
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.tracing import services
from fangkong.tracing.tests import factories

pytestmark = pytest.mark.django_db

MISSING = scope_kit.MISSING
LOCAL = NOW.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Side:
    case: int
    candidate: int
    contact: int
    cluster: int
    person: int
    doc: str
    district_code: str
    run: int


Route = scope_kit.Route[Side]


def _exposure(s: Side) -> dict[str, Any]:
    return {
        "person_id": s.person,
        "exposure": "venue",
        "first_exposure_at": (NOW - dt.timedelta(hours=3)).isoformat(),
    }


ROUTES = [
    Route("tracing:cases", lambda s: "/tracing/", listing=True),
    Route("tracing:case", lambda s: f"/tracing/cases/{s.case}/"),
    Route("tracing:step", lambda s: f"/tracing/cases/{s.case}/step/", method="post",
          body=lambda s: {"step": "first_report"}, expect={302}),
    Route("tracing:trajectory_add", lambda s: f"/tracing/cases/{s.case}/trajectory/", method="post",
          body=lambda s: {"place": "菜市场", "started_at": LOCAL}, expect={302}),
    Route("tracing:copresence", lambda s: f"/tracing/cases/{s.case}/copresence/", method="post",
          body=lambda s: {"degree": "1"}, expect={302}),
    Route("tracing:copresence_run", lambda s: f"/tracing/cases/{s.case}/copresence/{s.run}/"),
    Route("tracing:contacts", lambda s: f"/tracing/cases/{s.case}/contacts/"),
    Route("tracing:contact_add", lambda s: f"/tracing/cases/{s.case}/contacts/add/", method="post",
          body=lambda s: {"doc_number": s.doc, "exposure": "venue", "first_exposure_at": LOCAL}, expect={302}),
    Route("tracing:contacts_bulk", lambda s: f"/tracing/cases/{s.case}/contacts/bulk/", method="post",
          body=lambda s: {"contact_ids": [str(s.candidate)], "reason": "shared a table", "action": "confirm"},
          expect={302}),
    Route("tracing:cluster_open", lambda s: f"/tracing/cases/{s.case}/cluster/open/", method="post",
          body=lambda s: {"name": "新聚集", "reason": "linked cases"}, expect={302}),
    Route("tracing:cluster_join", lambda s: f"/tracing/cases/{s.case}/cluster/", method="post",
          body=lambda s: {"cluster_id": str(s.cluster)}, expect={302}),
    Route("tracing:cluster_close", lambda s: f"/tracing/clusters/{s.cluster}/close/", method="post",
          body=lambda s: {"reason": "no new case for 28 days"}, expect={302}),
    Route("tracing:clusters", lambda s: "/tracing/clusters/", listing=True),
    Route("tracing:cluster", lambda s: f"/tracing/clusters/{s.cluster}/"),
    Route("tracing:kpis", lambda s: "/tracing/kpis/", listing=True),
    Route("GET /api/tracing/cases", lambda s: "/api/tracing/cases", listing=True),
    Route("POST /api/tracing/cases", lambda s: "/api/tracing/cases", method="post",
          body=lambda s: {"person_id": s.person, "kind": "confirmed", "found_by": "fever_clinic",
                          "sampled_at": (NOW - dt.timedelta(hours=5)).isoformat(), "basis_type": "test",
                          "basis_id": "t-1", "reason": "positive"},
          expect={201}),
    Route("GET /api/tracing/cases/{case_id}", lambda s: f"/api/tracing/cases/{s.case}"),
    Route("POST /api/tracing/cases/{case_id}/steps", lambda s: f"/api/tracing/cases/{s.case}/steps",
          method="post", body=lambda s: {"step": "contact_list"}),
    Route("GET /api/tracing/cases/{case_id}/contacts", lambda s: f"/api/tracing/cases/{s.case}/contacts"),
    Route("POST /api/tracing/cases/{case_id}/contacts", lambda s: f"/api/tracing/cases/{s.case}/contacts",
          method="post", body=_exposure),
    Route("POST /api/tracing/cases/{case_id}/copresence", lambda s: f"/api/tracing/cases/{s.case}/copresence",
          method="post", body=lambda s: {"degree": 1}, expect={202}),
    Route("GET /api/tracing/cases/{case_id}/copresence/{run_id}",
          lambda s: f"/api/tracing/cases/{s.case}/copresence/{s.run}"),
    Route("POST /api/tracing/contacts/confirm", lambda s: "/api/tracing/contacts/confirm", method="post",
          body=lambda s: {"contact_ids": [s.candidate], "reason": "shared a table"}, listing=True),
    Route("POST /api/tracing/contacts/dismiss", lambda s: "/api/tracing/contacts/dismiss", method="post",
          body=lambda s: {"contact_ids": [s.candidate], "reason": "outside"}, listing=True),
    Route("POST /api/tracing/contacts/{contact_id}/follow-up",
          lambda s: f"/api/tracing/contacts/{s.contact}/follow-up", method="post", body=lambda s: {"note": "ok"}),
    Route("GET /api/tracing/clusters", lambda s: "/api/tracing/clusters", listing=True),
    Route("POST /api/tracing/clusters", lambda s: "/api/tracing/clusters", method="post",
          body=lambda s: {"jurisdiction_code": s.district_code, "name": "新聚集", "person_ids": [s.person],
                          "basis_type": "manual", "basis_id": "scope-new", "reason": "linked"}),
    Route("GET /api/tracing/clusters/{cluster_id}", lambda s: f"/api/tracing/clusters/{s.cluster}"),
    Route("GET /api/tracing/clusters/{cluster_id}/graph", lambda s: f"/api/tracing/clusters/{s.cluster}/graph"),
    Route("GET /api/tracing/clusters/{cluster_id}/curve", lambda s: f"/api/tracing/clusters/{s.cluster}/curve"),
    Route("GET /api/tracing/clusters/{cluster_id}/sources",
          lambda s: f"/api/tracing/clusters/{s.cluster}/sources"),
    Route("GET /api/tracing/kpis", lambda s: "/api/tracing/kpis", listing=True),
]  # fmt: skip
SCOPE_ROUTES: frozenset[str] = frozenset(r.key for r in ROUTES)


def _side(system: Actor, district: Any, grid: Any, grid2: Any, tag: str) -> Side:
    patient = factories.person_in(system, grid, name=f"病例{tag}")
    case = factories.case(system, patient)
    seen = factories.person_in(system, grid2)
    candidate = services.contact_add(
        system,
        case=case,
        person_id=seen.pk,
        exposure="venue",
        first_exposure_at=NOW - dt.timedelta(hours=20),
    )
    member = factories.person_in(system, grid)
    contact = services.contact_add(
        system,
        case=case,
        person_id=member.pk,
        exposure="household",
        first_exposure_at=NOW - dt.timedelta(days=2),
    )
    cluster = services.cluster_open(
        system,
        jurisdiction_code=district.code,
        name=f"聚集{tag}",
        person_ids=[patient.pk],
        basis_type="manual",
        basis_id=f"scope-{tag}",
        reason="scope",
    )
    spare: Person = factories.person_in(system, grid)
    run = services.copresence_request(system, case=case)
    return Side(
        case.pk,
        candidate.pk,
        contact.pk,
        cluster.pk,
        spare.pk,
        spare.doc_number,
        district.code,
        run.pk,
    )


@pytest.fixture
def world(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> tuple[Side, Side, dict[str, User]]:
    t = two_districts
    a = _side(system, t.district_a, t.grid_a, t.grid_a2, "A")
    b = _side(system, t.district_b, t.grid_b, t.grid_b, "B")
    return a, b, dict(personas)


def _shows(route: Route, content: bytes, side: Side) -> bool:
    text = content.decode()
    return any(
        marker in text
        for marker in (
            f"/tracing/cases/{side.case}/",
            f'"id": {side.case},',
            f"/tracing/clusters/{side.cluster}/",
            "聚集A",
            '"confirmed": 1',
            '"dismissed": 1',
        )
    )


MATRIX = scope_kit.Matrix(
    apps=frozenset(
        {"tracing", "audit", "assignments", "control", "jobs", "screening", "notifications"}
    ),
    missing=Side(
        MISSING, MISSING, MISSING, MISSING, MISSING, "440902199001019999", "440999", MISSING
    ),
    shows=_shows,
)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    MATRIX.check(route, a, users)


def test_lists_show_only_the_callers_district(world: tuple[Side, Side, dict[str, User]]) -> None:
    a, b, users = world
    client = signed_in(Client(), users["district_officer"], verified=True)
    assert [c["id"] for c in client.get("/api/tracing/cases").json()["items"]] == [a.case]
    assert [c["id"] for c in client.get("/api/tracing/clusters").json()] == [a.cluster]
    sibling = signed_in(Client(), users["sibling_district_officer"], verified=True)
    assert [c["id"] for c in sibling.get("/api/tracing/cases").json()["items"]] == [b.case]
    city = signed_in(Client(), users["city_commander"], verified=True)
    assert sorted(c["id"] for c in city.get("/api/tracing/cases").json()["items"]) == sorted(
        [a.case, b.case]
    )
