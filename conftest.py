"""Test-wide setup: test mode, a private data directory, personas and a two-district city.

Personas (STYLE.md): grid_worker, district_officer, sibling_district_officer, city_commander,
other_role (a lab account in the same district) and anonymous. In- and out-of-jurisdiction
tests come in pairs over the `two_districts` tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from fangkong.core.actor import Actor

if TYPE_CHECKING:
    from fangkong.accounts.models import User
    from fangkong.jurisdictions.models import Jurisdiction


@dataclass
class Tree:
    city: Jurisdiction
    district_a: Jurisdiction
    district_b: Jurisdiction
    town_a: Jurisdiction
    village_a: Jurisdiction
    group_a: Jurisdiction
    grid_a: Jurisdiction
    grid_a2: Jurisdiction
    town_b: Jurisdiction
    grid_b: Jurisdiction


@pytest.fixture
def two_districts(db: None) -> Tree:
    """City 4409 with districts 440902 (A) and 440903 (B), each down to grids."""
    from fangkong.jurisdictions.models import Jurisdiction, Level

    def node(code: str, name: str, level: int, parent: Jurisdiction | None) -> Jurisdiction:
        path = (parent.path if parent else "/") + code + "/"
        return Jurisdiction.objects.create(
            code=code, name=name, level=level, parent=parent, path=path
        )

    city = node("4409", "茂名市", Level.CITY, None)
    da = node("440902", "茂南区", Level.DISTRICT, city)
    db_ = node("440903", "电白区", Level.DISTRICT, city)
    ta = node("440902001", "红旗街道", Level.TOWN, da)
    va = node("440902001001", "站南社区", Level.VILLAGE, ta)
    ga = node("440902001001001", "第一小区", Level.GROUP, va)
    grid_a = node("440902001001001001", "第一网格", Level.GRID, ga)
    grid_a2 = node("440902001001001002", "第二网格", Level.GRID, ga)
    tb = node("440903001", "南海街道", Level.TOWN, db_)
    vb = node("440903001001", "海滨社区", Level.VILLAGE, tb)
    gb = node("440903001001001", "海滨小区", Level.GROUP, vb)
    grid_b = node("440903001001001001", "海滨网格", Level.GRID, gb)
    return Tree(city, da, db_, ta, va, ga, grid_a, grid_a2, tb, grid_b)


def _user(username: str, role: str, *nodes: Jurisdiction) -> User:
    from fangkong.accounts.models import User

    user = User.objects.create(username=username, role=role)
    user.set_password("correct horse battery staple")
    user.save()
    user.jurisdictions.set(nodes)
    return user


@pytest.fixture
def personas(two_districts: Tree) -> dict[str, User]:
    """Users keyed by persona name; each bound to its subtree."""
    t = two_districts
    return {
        "grid_worker": _user("grid_worker", "grid_worker", t.grid_a),
        "district_officer": _user("district_officer", "district_staff", t.district_a),
        "sibling_district_officer": _user(
            "sibling_district_officer", "district_staff", t.district_b
        ),
        "city_commander": _user("city_commander", "command_office", t.city),
        "other_role": _user("lab_user", "lab", t.district_a),
    }


def actor_of(user: User) -> Actor:
    from fangkong.accounts.scoping import actor_for_user

    return actor_for_user(user, ip="127.0.0.1")


@pytest.fixture
def system() -> Actor:
    from fangkong.core.actor import system_actor

    return system_actor("test")


def signed_in(client: Client, user: User, *, verified: bool) -> Client:
    from fangkong.accounts.middleware import SESSION_SCOPE_VERSION, SESSION_TOTP_VERIFIED

    client.force_login(user)
    session = client.session
    session[SESSION_SCOPE_VERSION] = user.scope_version
    if verified:
        session[SESSION_TOTP_VERIFIED] = True
    session.save()
    return client


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    """login(user) signs the test client in as that user, password and TOTP step passed."""
    return lambda user: signed_in(client, user, verified=True)


@pytest.fixture
def login_unverified(client: Client) -> Callable[[User], Client]:
    """login_unverified(user): signed in with the password only, before the TOTP step."""
    return lambda user: signed_in(client, user, verified=False)


def _audit_trigger_sql() -> tuple[list[str], list[str]]:
    import importlib

    from django.db import connection

    migration = importlib.import_module("fangkong.audit.migrations.0002_append_only_triggers")
    if connection.vendor == "sqlite":
        return migration.SQLITE, migration.SQLITE_DROP
    return migration.POSTGRES, migration.POSTGRES_DROP


def _audit_triggers_present() -> bool:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_entry_%'"
            )
            return bool(cur.fetchone()[0] == 2)
        cur.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_entry_append_only'")
        return bool(cur.fetchone()[0] == 1)


@pytest.fixture(autouse=True)
def _audit_log_flushable(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep the audit triggers on during every test, yet let transactional tests be flushed.

    Django ends a transactional test by emptying every table (TRUNCATE on PostgreSQL, DELETE
    on SQLite), which the append-only triggers rightly refuse. Such tests drop the triggers
    just before the flush; every database test starts by putting them back if missing.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and bool(marker.kwargs.get("transaction"))) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    uses_db = marker is not None or transactional or "db" in request.fixturenames
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    create, drop = _audit_trigger_sql()
    if not _audit_triggers_present():
        with connection.cursor() as cur:
            for sql in drop:
                cur.execute(sql)
            for sql in create:
                cur.execute(sql)
    yield
    if transactional:
        with connection.cursor() as cur:
            for sql in drop:
                cur.execute(sql)
