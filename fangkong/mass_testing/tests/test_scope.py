"""The mass_testing module's scope matrix, in the terms of tests/test_scope_matrix.py: every
page route and API operation, requested for an object of district A as anonymous (page 302
to the sign-in page, API 401), a persona of the sibling district (404, the same as a missing
id), a persona lacking the permission (403 or 404) and the in-scope personas (success). A
refused request changes no table's row count. Lists never show another district's objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.core.actor import Actor
from fangkong.core.tests import scope_kit
from fangkong.jobs.services import run_due
from fangkong.mass_testing import services
from fangkong.mass_testing.models import PositivePool, Retest, Tube
from fangkong.mass_testing.tests import factories as f
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db

MISSING = scope_kit.MISSING
NOW = f.NOW
LOCAL = NOW.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Side:
    round: int
    pool: int
    retest: int
    grid: int
    grid_code: str
    district_code: str
    person: int
    barcode: str


Route = scope_kit.Route[Side]


VIEW = frozenset({"grid_worker", "district_officer", "city_commander"})
STAFF = frozenset({"district_officer", "city_commander"})
RESULT = frozenset({"district_officer", "city_commander", "other_role"})


def _scans(s: Side) -> dict[str, Any]:
    return {
        "batch_id": "scope",
        "scans": [
            {
                "client_id": f"scope-{s.person}",
                "barcode": f"NEW{s.barcode}",
                "sampled_at": NOW.isoformat(),
                "person_id": s.person,
            }
        ],
    }


def _results(s: Side) -> dict[str, Any]:
    return {
        "batch_id": "scope-r",
        "lab": "lab",
        "results": [{"barcode": s.barcode, "result": "negative", "tested_at": NOW.isoformat()}],
    }


ROUTES = [
    Route("mass_testing:rounds", lambda s: "/testing/", listing=True, ok=VIEW),
    Route("mass_testing:round", lambda s: f"/testing/rounds/{s.round}/", ok=VIEW),
    Route("mass_testing:round_refresh", lambda s: f"/testing/rounds/{s.round}/refresh/", method="post", expect={302}),
    Route("mass_testing:round_inbox", lambda s: f"/testing/rounds/{s.round}/inbox/", method="post", expect={302}),
    Route("mass_testing:site_add", lambda s: f"/testing/rounds/{s.round}/sites/", method="post",
          body=lambda s: {"name": "新采样点", "node_code": s.grid_code, "opens_at": LOCAL,
                          "closes_at": (NOW + dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"), "samplers": 2},
          expect={302}),
    Route("mass_testing:unsampled", lambda s: f"/testing/rounds/{s.round}/grids/{s.grid}/", ok=VIEW),
    Route("mass_testing:excuse", lambda s: f"/testing/rounds/{s.round}/grids/{s.grid}/excuse/", method="post",
          body=lambda s: {"person_id": s.person, "reason": "bedridden"}, expect={302}),
    Route("mass_testing:sampler", lambda s: f"/testing/rounds/{s.round}/sampler/", ok=VIEW),
    Route("mass_testing:results", lambda s: "/testing/results/", listing=True, ok=RESULT),
    Route("mass_testing:pools", lambda s: "/testing/pools/", listing=True, ok=VIEW),
    Route("mass_testing:pool", lambda s: f"/testing/pools/{s.pool}/", ok=VIEW),
    Route("mass_testing:retest", lambda s: f"/testing/retests/{s.retest}/", method="post",
          body=lambda s: {"result": "negative", "sampled_at": LOCAL}, ok=RESULT, expect={302}),
    Route("GET /api/testing/rounds", lambda s: "/api/testing/rounds", listing=True, ok=VIEW),
    Route("POST /api/testing/rounds", lambda s: "/api/testing/rounds", method="post",
          body=lambda s: {"name": "新一轮", "areas": [{"node_code": s.district_code, "area_type": "general"}],
                          "starts_at": NOW.isoformat()},
          expect={201}, missing_404=False),
    Route("GET /api/testing/rounds/{round_id}", lambda s: f"/api/testing/rounds/{s.round}", ok=VIEW),
    Route("GET /api/testing/rounds/{round_id}/plan", lambda s: f"/api/testing/rounds/{s.round}/plan", ok=VIEW),
    Route("POST /api/testing/rounds/{round_id}/sites", lambda s: f"/api/testing/rounds/{s.round}/sites",
          method="post",
          body=lambda s: {"name": "新采样点", "node_code": s.grid_code, "opens_at": NOW.isoformat(),
                          "closes_at": (NOW + dt.timedelta(hours=8)).isoformat(), "samplers": 2},
          expect={201}),
    Route("POST /api/testing/rounds/{round_id}/scans", lambda s: f"/api/testing/rounds/{s.round}/scans",
          method="post", body=_scans, ok=VIEW),
    Route("GET /api/testing/rounds/{round_id}/coverage", lambda s: f"/api/testing/rounds/{s.round}/coverage",
          ok=VIEW),
    Route("POST /api/testing/rounds/{round_id}/excusals", lambda s: f"/api/testing/rounds/{s.round}/excusals",
          method="post", body=lambda s: {"person_id": s.person, "reason": "away"}),
    Route("POST /api/testing/results", lambda s: "/api/testing/results", method="post", body=_results,
          listing=True, ok=RESULT, sibling_writes=True),
    Route("GET /api/testing/pools", lambda s: "/api/testing/pools", listing=True, ok=VIEW),
    Route("POST /api/testing/retests/{retest_id}", lambda s: f"/api/testing/retests/{s.retest}",
          method="post", body=lambda s: {"result": "negative", "sampled_at": NOW.isoformat()}, ok=RESULT),
]  # fmt: skip
SCOPE_ROUTES: frozenset[str] = frozenset(r.key for r in ROUTES)


def _side(system: Actor, district: Any, grid: Any, tag: str) -> Side:
    rnd = services.round_create(
        actor=system,
        name=f"轮次{tag}",
        areas=[(district, "general")],
        starts_at=NOW - dt.timedelta(hours=2),
    )
    services.site_create(
        actor=system,
        rnd=rnd,
        node=grid,
        name=f"采样点{tag}",
        opens_at=NOW - dt.timedelta(hours=2),
        closes_at=NOW + dt.timedelta(hours=6),
        samplers=3,
    )
    site = rnd.sites.get()
    people = [f.person(system, grid) for _ in range(3)]
    barcode = f"SCOPE{tag}0001"
    f.ingest(system, rnd, [f.scan(p, barcode, site_id=site.pk) for p in people[:2]])
    spare = f.person(system, grid)
    services.results_submit(
        actor=system, lab="lab", batch_id=f"b{tag}", results=[f.result(barcode, "positive")]
    )
    run_due(worker="scope")
    pool = PositivePool.objects.get(tube__barcode=barcode)
    retest = Retest.objects.filter(pool=pool).order_by("pk").first()
    assert retest is not None
    # A second open tube to receive results in the probe.
    open_code = f"SCOPE{tag}0002"
    f.ingest(system, rnd, [f.scan(people[2], open_code, site_id=site.pk)])
    services.coverage_refresh(rnd=rnd)
    return Side(rnd.pk, pool.pk, retest.pk, grid.pk, grid.code, district.code, spare.pk, open_code)


@pytest.fixture
def world(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> tuple[Side, Side, dict[str, User]]:
    t = two_districts
    a = _side(system, t.district_a, t.grid_a, "A")
    # District B only needs a round of its own: the probes use A's objects.
    rnd_b = services.round_create(
        actor=system, name="轮次B", areas=[(t.district_b, "general")], starts_at=NOW
    )
    b = Side(rnd_b.pk, MISSING, MISSING, t.grid_b.pk, t.grid_b.code, t.district_b.code, MISSING, "")
    return a, b, dict(personas)


def _shows(route: Route, content: bytes, side: Side) -> bool:
    if "results" in route.key and route.api:
        # Another district's tube is reported unknown, exactly like a missing one.
        return b'"matched": 0' not in content
    return any(m in content for m in (b"SCOPEA", "轮次A".encode(), b'"matched": 1'))


MATRIX = scope_kit.Matrix(
    apps=frozenset(
        {"mass_testing", "audit", "assignments", "control", "jobs", "tracing", "notifications"}
    ),
    missing=Side(
        MISSING, MISSING, MISSING, MISSING, "440902999001001001", "440999", MISSING, "NOSUCH99"
    ),
    shows=_shows,
)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_route_scope(route: Route, world: tuple[Side, Side, dict[str, User]]) -> None:
    a, _b, users = world
    MATRIX.check(route, a, users)
    assert Tube.objects.get(barcode=a.barcode).result == "pending", route.key


def test_lists_show_only_the_callers_district(world: tuple[Side, Side, dict[str, User]]) -> None:
    a, b, users = world
    client = signed_in(Client(), users["district_officer"], verified=True)
    body = client.get("/api/testing/pools").json()
    assert [p["id"] for p in body] == [a.pool]
    sibling = signed_in(Client(), users["sibling_district_officer"], verified=True)
    assert sibling.get("/api/testing/pools").json() == []
    rounds = client.get("/api/testing/rounds").json()
    assert [r["id"] for r in rounds] == [a.round]
    assert b.round != a.round
