"""The lake's routes as every persona (tests/test_scope_matrix.py semantics).

- anonymous: 401;
- the sibling district: an object of district A answers exactly like a missing id (a venue in a
  batch: 422 "unknown venue" on the same row; a person's trajectory: 404);
- a role without the permission (the lab account of district A): 403;
- the district officer and the city commander: success;
- every refused write leaves the ledger, the audit log and the lake's files as they were.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.lake import services
from fangkong.lake.layout import Lake
from fangkong.lake.models import IngestBatch
from fangkong.people.tests.factories import person
from fangkong.places.tests.factories import place

pytestmark = pytest.mark.django_db

SCOPE_ROUTES: frozenset[str] = frozenset(
    {
        "POST /api/lake/checkins",
        "POST /api/lake/dwell",
        "GET /api/lake/persons/{person_id}/trajectory",
    }
)
NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())
MISSING = 987_654


@pytest.fixture
def side(two_districts: Tree, system: Actor, lake: Lake) -> dict[str, int]:
    a_person = person(system, two_districts.grid_a).pk
    with clock.frozen(NOW):
        services.checkins_ingest(
            system,
            client_id="seed",
            batch_id="1",
            rows=[(a_person, place(two_districts.grid_a).pk, T - 60)],
        )
    return {
        "person_a": a_person,
        "venue_a": place(two_districts.grid_a).pk,
        "venue_b": place(two_districts.grid_b).pk,
    }


def _state(lake: Lake) -> tuple[int, int, list[str]]:
    files = sorted(str(p) for p in Path(lake.root).rglob("*.parquet"))
    return IngestBatch.objects.count(), AuditEntry.objects.count(), files


def _post(client: Client, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with clock.frozen(NOW):
        response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def _checkins(venue: int, who: int, batch: str = "b") -> dict[str, Any]:
    return {"client_id": "c", "batch_id": batch, "rows": [[who, venue, T - 30]]}


def test_checkins_by_persona(
    side: dict[str, int], lake: Lake, personas: dict[str, User], login: Callable[[User], Client]
) -> None:
    url = "/api/lake/checkins"
    before = _state(lake)
    assert _post(Client(), url, _checkins(side["venue_a"], side["person_a"]))[0] == 401
    lab = login(personas["other_role"])
    assert _post(lab, url, _checkins(side["venue_a"], side["person_a"]))[0] == 403
    sibling = login(personas["sibling_district_officer"])
    out_of_scope = _post(sibling, url, _checkins(side["venue_a"], side["person_a"]))
    missing = _post(sibling, url, _checkins(MISSING, side["person_a"]))
    assert out_of_scope == missing
    assert out_of_scope[0] == 422
    assert out_of_scope[1]["detail"]["errors"] == [
        {"row": 1, "column": "venue_id", "reason": "unknown venue"}
    ]
    assert _state(lake) == before
    officer = login(personas["district_officer"])
    status, body = _post(officer, url, _checkins(side["venue_a"], side["person_a"]))
    assert (status, body["rows"], body["created"]) == (201, 1, True)
    assert _post(officer, url, _checkins(side["venue_a"], side["person_a"]))[0] == 200
    commander = login(personas["city_commander"])
    assert _post(commander, url, _checkins(side["venue_b"], side["person_a"], "c2"))[0] == 201


def test_dwell_by_persona(
    side: dict[str, int], lake: Lake, personas: dict[str, User], login: Callable[[User], Client]
) -> None:
    url = "/api/lake/dwell"
    body = {"client_id": "t", "batch_id": "1", "rows": [[side["person_a"], 5, T - 900, T - 60]]}
    before = _state(lake)
    assert _post(Client(), url, body)[0] == 401
    assert _post(login(personas["other_role"]), url, body)[0] == 403
    # cells are city-wide: a district, its own or the sibling, does not send them
    assert _post(login(personas["sibling_district_officer"]), url, body)[0] == 422
    assert _post(login(personas["district_officer"]), url, body)[0] == 422
    missing = body | {"rows": [[MISSING, 5, T - 900, T - 60]]}
    assert _post(login(personas["city_commander"]), url, missing)[1]["detail"]["errors"] == [
        {"row": 1, "column": "person_id", "reason": "unknown person"}
    ]
    assert _state(lake) == before
    assert _post(login(personas["city_commander"]), url, body)[0] == 201


def test_trajectory_by_persona(
    side: dict[str, int], personas: dict[str, User], login: Callable[[User], Client]
) -> None:
    def url(person_id: int) -> str:
        return f"/api/lake/persons/{person_id}/trajectory?start={T - 3600}&end={T}"

    assert Client().get(url(side["person_a"])).status_code == 401
    assert login(personas["other_role"]).get(url(side["person_a"])).status_code == 403
    sibling = login(personas["sibling_district_officer"])
    out_of_scope, missing = sibling.get(url(side["person_a"])), sibling.get(url(MISSING))
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json() == missing.json()
    for name in ("district_officer", "city_commander"):
        response = login(personas[name]).get(url(side["person_a"]))
        assert response.status_code == 200
        assert [s["ts"] for s in response.json()["scans"]] == [T - 60]
