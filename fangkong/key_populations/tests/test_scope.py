"""The key-population routes as every persona (tests/test_scope_matrix.py's semantics).

For each page and API operation: anonymous is sent to sign in (302) or gets 401; the sibling
district gets for district A's object exactly what a missing id gets (404); roles without
the permission get 403 (or 404); the district officer and employer A's own account succeed
on A's objects, and employer A's account gets B's objects as missing. Whatever is refused
changes no table's row count. Lists never show the other side's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.jobs.models import Job
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import (
    Employer,
    EmployerAccount,
    Member,
    MemberImport,
    MemberTest,
)
from fangkong.key_populations.services import employer_account_link
from fangkong.key_populations.tests import factories
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db

MISSING = 987_654_321

SCOPE_ROUTES: frozenset[str] = frozenset(
    {
        "key_populations:board",
        "key_populations:employers",
        "key_populations:employer_new",
        "key_populations:employer",
        "key_populations:import_new",
        "key_populations:employer_link",
        "key_populations:export",
        "key_populations:import",
        "key_populations:import_errors",
        "key_populations:members",
        "key_populations:member",
        "key_populations:member_test",
        "key_populations:member_leave",
        "GET /api/keypop/districts",
        "GET /api/keypop/employers",
        "POST /api/keypop/employers",
        "GET /api/keypop/employers/{employer_id}",
        "GET /api/keypop/employers/{employer_id}/members",
        "POST /api/keypop/employers/{employer_id}/import",
        "GET /api/keypop/imports/{import_id}",
        "GET /api/keypop/members",
        "GET /api/keypop/members/{member_id}",
        "POST /api/keypop/members/{member_id}/tests",
        "POST /api/keypop/members/{member_id}/leave",
    }
)


@dataclass(frozen=True)
class Side:
    employer: int
    member: int
    refused: int  # a refused import (with problems)
    town: str
    account: str  # the username of an unlinked employer account of this side
    name: str  # the employer's name (must not show on the other side's lists)


MISSING_SIDE = Side(MISSING, MISSING, MISSING, "440999999", "nobody", "")


def _side(system: Actor, emp: Employer, town: Any, username: str) -> Side:
    factories.members(system, emp, 2, sampled_on="2022-01-05")
    refused = member_import(
        actor=system, employer=emp, data=factories.csv_bytes([["", "1"]]), filename="bad.csv"
    )
    user = User.objects.create(username=username, role="employer")
    user.jurisdictions.set([town])
    member = Member.objects.filter(employer=emp).order_by("pk").first()
    assert member is not None
    return Side(emp.pk, member.pk, refused.pk, town.code, username, emp.name)


@dataclass
class World:
    a: Side
    b: Side
    users: dict[str, User] = field(default_factory=dict)


@pytest.fixture
def world(  # noqa: PLR0917 - fixtures come in as arguments
    book: RulebookVersion,
    two_districts: Tree,
    personas: dict[str, User],
    employer_a: Employer,
    employer_b: Employer,
    employer_user: User,
    system: Actor,
) -> World:
    a = _side(system, employer_a, two_districts.town_a, "spare_a")
    b = _side(system, employer_b, two_districts.town_b, "spare_b")
    user_b = User.objects.create(username="store_b", role="employer")
    user_b.jurisdictions.set([two_districts.town_b])
    employer_account_link(actor=system, employer=employer_b, user=user_b)
    return World(a, b, {**personas, "employer_a": employer_user})


def _state() -> tuple[int, ...]:
    return (
        Employer.objects.count(),
        Member.objects.count(),
        Member.objects.filter(active=True).count(),
        MemberTest.objects.count(),
        MemberImport.objects.count(),
        EmployerAccount.objects.count(),
        AuditEntry.objects.count(),
        Assignment.objects.count(),
        Person.objects.count(),
        Job.objects.count(),
    )


def _file() -> SimpleUploadedFile:
    data = factories.csv_bytes(factories.member_rows(1))
    return SimpleUploadedFile("list.csv", data, content_type="text/csv")


@dataclass(frozen=True)
class Probe:
    key: str
    url: Callable[[Side], str]
    method: str = "get"
    data: Callable[[Side], Any] = lambda s: None
    json: bool = False
    lists: bool = False  # a list: must not show the other side
    noref: bool = False  # a form with no object: any persona with the permission may open it
    staff_only: bool = False  # employers' own accounts may not (403)
    ok: frozenset[int] = frozenset({200, 201, 302})

    @property
    def api(self) -> bool:
        return self.key.split(" ")[-1].startswith("/api/")

    def call(self, client: Client, side: Side) -> Any:
        data = self.data(side)
        if self.json:
            return getattr(client, self.method)(
                self.url(side), data, content_type="application/json"
            )
        return getattr(client, self.method)(self.url(side), data)


def _p(name: str, **kw: int | str) -> str:
    return reverse(f"key_populations:{name}", kwargs=kw)


def _employer_body(s: Side) -> dict[str, Any]:
    return {
        "name": "新单位",
        "credit_code": factories.credit_code(),
        "group": "driver",
        "jurisdiction_code": s.town,
    }


PROBES = [
    Probe("key_populations:board", lambda s: _p("board"), lists=True),
    Probe("key_populations:employers", lambda s: _p("employers"), lists=True),
    Probe(
        "key_populations:employer_new", lambda s: _p("employer_new"), staff_only=True, noref=True
    ),
    Probe(
        "key_populations:employer_new",
        lambda s: _p("employer_new"),
        method="post",
        data=_employer_body,
        staff_only=True,
    ),
    Probe("key_populations:employer", lambda s: _p("employer", employer_id=s.employer)),
    Probe("key_populations:import_new", lambda s: _p("import_new", employer_id=s.employer)),
    Probe(
        "key_populations:import_new",
        lambda s: _p("import_new", employer_id=s.employer),
        method="post",
        data=lambda s: {"file": _file()},
    ),
    Probe(
        "key_populations:employer_link",
        lambda s: _p("employer_link", employer_id=s.employer),
        method="post",
        data=lambda s: {"username": s.account},
        staff_only=True,
    ),
    Probe("key_populations:export", lambda s: _p("export", employer_id=s.employer, fmt="xlsx")),
    Probe("key_populations:import", lambda s: _p("import", import_id=s.refused)),
    Probe("key_populations:import_errors", lambda s: _p("import_errors", import_id=s.refused)),
    Probe("key_populations:members", lambda s: _p("members"), lists=True),
    Probe("key_populations:member", lambda s: _p("member", member_id=s.member)),
    Probe(
        "key_populations:member_test",
        lambda s: _p("member_test", member_id=s.member),
        method="post",
        data=lambda s: {"sampled_on": "2022-01-09"},
    ),
    Probe(
        "key_populations:member_leave",
        lambda s: _p("member_leave", member_id=s.member),
        method="post",
        data=lambda s: {"reason": "离职"},
    ),
    Probe("GET /api/keypop/districts", lambda s: "/api/keypop/districts", lists=True),
    Probe("GET /api/keypop/employers", lambda s: "/api/keypop/employers", lists=True),
    Probe(
        "POST /api/keypop/employers",
        lambda s: "/api/keypop/employers",
        method="post",
        data=_employer_body,
        json=True,
        staff_only=True,
    ),
    Probe(
        "GET /api/keypop/employers/{employer_id}", lambda s: f"/api/keypop/employers/{s.employer}"
    ),
    Probe(
        "GET /api/keypop/employers/{employer_id}/members",
        lambda s: f"/api/keypop/employers/{s.employer}/members",
    ),
    Probe(
        "POST /api/keypop/employers/{employer_id}/import",
        lambda s: f"/api/keypop/employers/{s.employer}/import",
        method="post",
        data=lambda s: {"file": _file()},
    ),
    Probe("GET /api/keypop/imports/{import_id}", lambda s: f"/api/keypop/imports/{s.refused}"),
    Probe("GET /api/keypop/members", lambda s: "/api/keypop/members", lists=True),
    Probe("GET /api/keypop/members/{member_id}", lambda s: f"/api/keypop/members/{s.member}"),
    Probe(
        "POST /api/keypop/members/{member_id}/tests",
        lambda s: f"/api/keypop/members/{s.member}/tests",
        method="post",
        data=lambda s: {"sampled_on": "2022-01-09"},
        json=True,
    ),
    Probe(
        "POST /api/keypop/members/{member_id}/leave",
        lambda s: f"/api/keypop/members/{s.member}/leave",
        method="post",
        data=lambda s: {"reason": "离职"},
        json=True,
    ),
]


def test_every_route_of_the_module_is_probed() -> None:
    assert {p.key for p in PROBES} == SCOPE_ROUTES


def _as(user: User | None) -> Client:
    client = Client()
    return client if user is None else signed_in(client, user, verified=True)


def _refused_without_change(client: Client, probe: Probe, side: Side, allowed: set[int]) -> int:
    before = _state()
    with transaction.atomic():
        status = int(probe.call(client, side).status_code)
        unchanged = _state() == before
        transaction.set_rollback(True)  # a wrongly accepted write must not leak into the next
    assert status in allowed, (probe.key, status)
    assert unchanged, probe.key
    return status


def _succeeds(client: Client, probe: Probe, side: Side) -> Any:
    with transaction.atomic():
        response = probe.call(client, side)
        transaction.set_rollback(True)
    assert response.status_code in probe.ok, (probe.key, response.status_code)
    return response


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: f"{p.method} {p.key}")
def test_route_as_every_persona(world: World, probe: Probe) -> None:
    users = world.users
    before = _state()
    # anonymous
    status = _refused_without_change(_as(None), probe, world.a, {401} if probe.api else {302})
    assert _state() == before
    # a role without the module's permissions (a lab in district A; a grid worker of grid A)
    for persona in ("other_role", "grid_worker"):
        _refused_without_change(_as(users[persona]), probe, world.a, {403, 404})
        assert _state() == before
    # the sibling district: A's object looks exactly like a missing one
    sibling = _as(users["sibling_district_officer"])
    if probe.lists or probe.noref:
        body = _succeeds(sibling, probe, world.a).content.decode()
        assert world.a.name not in body
    else:
        missing = _refused_without_change(sibling, probe, MISSING_SIDE, {404, 422})
        assert _refused_without_change(sibling, probe, world.a, {missing}) == missing
        assert _state() == before
    # the district officer of A and the city: success on A
    for persona in ("district_officer", "city_commander"):
        _succeeds(_as(users[persona]), probe, world.a)
    assert _state() == before  # every success above was rolled back
    # employer A's own account: its own rows, never B's
    employer = _as(users["employer_a"])
    if probe.staff_only:
        _refused_without_change(employer, probe, world.a, {403})
    elif probe.lists:
        body = _succeeds(employer, probe, world.a).content.decode()
        assert world.b.name not in body
    else:
        _succeeds(employer, probe, world.a)
        assert _refused_without_change(employer, probe, world.b, {404}) == 404
    assert _state() == before
    del status


def test_lists_show_my_side_to_the_district_officer(world: World) -> None:
    client = _as(world.users["district_officer"])
    body = client.get(_p("members") + "?status=").content.decode()
    assert _p("member", member_id=world.a.member) in body
    assert _p("member", member_id=world.b.member) not in body
    data = client.get("/api/keypop/members").json()
    ids = {m["id"] for m in data["items"]}
    assert world.a.member in ids
    assert world.b.member not in ids
