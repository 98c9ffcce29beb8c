"""The shared shape of the modules' scope matrices (`fangkong/<app>/tests/test_scope.py`).

A module lists its routes (`Route`), builds one side of objects per district (its own `Side`
dataclass), and hands both to `Matrix.check`, which asks every route as every persona, for an
object of district A, and holds each answer to the rules of tests/test_scope_matrix.py:

- anonymous: pages redirect to the sign-in page (302), the API answers 401; nothing changes;
- the sibling district's officer: exactly what a missing id gets (404); a listing answers 200
  without showing A's objects; a route that creates in the caller's own territory may succeed;
- a persona lacking the permission: 403 or 404, nothing changes;
- the in-scope personas of the route: success (`expect`).

Each request runs in a savepoint that is rolled back, so one persona's success does not change
the world the next persona sees. "Nothing changes" is the row count of every table of the
module's `apps`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

from django.apps import apps as django_apps
from django.db import transaction
from django.test import Client

from conftest import signed_in

PERSONAS = (
    "grid_worker",  # grid A
    "sibling_district_officer",  # district B
    "district_officer",  # district A, parent of grid A
    "city_commander",  # the city
    "other_role",  # a lab account in district A
    "anonymous",
)
OFFICERS: frozenset[str] = frozenset({"district_officer", "city_commander"})
MISSING = 987_654_321

S = TypeVar("S")


@dataclass(frozen=True)
class Route(Generic[S]):
    key: str  # the URL name ("app:name") or "METHOD /api/path" of the API operation
    url: Callable[[S], str]
    method: str = "get"
    body: Callable[[S], dict[str, Any]] | None = None
    ok: AbstractSet[str] = OFFICERS  # personas of district A that succeed on A's object
    listing: bool = False  # 200 to everyone allowed, showing only their own objects
    creates: bool = False  # makes a new object in the caller's own territory
    public: bool = False  # answers everyone, signed in or not
    multipart: bool = False  # an API operation that takes a form (files), not JSON
    expect: AbstractSet[int] = field(default_factory=lambda: {200})
    sibling: AbstractSet[int] = frozenset({404})  # what the sibling district's officer gets
    refused: AbstractSet[int] = frozenset({403, 404})  # what a persona without the right gets
    missing_404: bool = True  # a missing id answers 404 to the in-scope officer
    sibling_writes: bool = False  # a listing the sibling may write through, in its own territory

    @property
    def api(self) -> bool:
        return " /api/" in self.key


class Answer(NamedTuple):
    status: int
    content: bytes
    changed: bool


def row_counts(labels: AbstractSet[str]) -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for m in django_apps.get_models()
        if m._meta.app_label in labels
    }


@dataclass(frozen=True)
class Matrix(Generic[S]):
    apps: frozenset[str]  # the app labels whose tables a refused request must leave alone
    missing: S  # a side whose ids and codes exist nowhere
    shows: Callable[[Route[S], bytes, S], bool]  # does this answer show the side's objects?
    personas: tuple[str, ...] = PERSONAS

    def call(self, client: Client, route: Route[S], side: S) -> Answer:
        url = route.url(side)
        body = route.body(side) if route.body else {}
        with transaction.atomic():
            before = row_counts(self.apps)
            if route.method == "get":
                response = client.get(url)
            elif route.api and not route.multipart:
                response = client.post(url, json.dumps(body), content_type="application/json")
            else:
                response = client.post(url, body)
            changed = row_counts(self.apps) != before
            transaction.set_rollback(True)
        content = (
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
            if response.streaming
            else response.content
        )
        return Answer(response.status_code, content, changed)

    def check(self, route: Route[S], a: S, users: Mapping[str, Any]) -> None:
        """Ask `route` for side A's object as every persona and hold each answer to the rules."""
        for persona in self.personas:
            client = Client()
            if persona != "anonymous":
                signed_in(client, users[persona], verified=True)
            status, content, changed = self.call(client, route, a)
            where = f"{route.key} as {persona}: {status} {content[:300]!r}"
            if route.public:
                assert status in route.expect, where
            elif persona == "anonymous":
                assert status == (401 if route.api else 302), where
                assert not changed, where
            elif persona == "sibling_district_officer":
                self._sibling(client, route, a, status, content, changed, where)
            elif persona in route.ok:
                assert status in route.expect, where
            else:
                assert status in route.refused, where
                assert not changed, where
        if not (route.listing or route.creates or route.public) and route.missing_404:
            client = signed_in(Client(), users["district_officer"], verified=True)
            status, _, changed = self.call(client, route, self.missing)
            assert status == 404, route.key
            assert not changed, route.key

    def _sibling(  # noqa: PLR0917 - one answer, taken apart by the caller
        self, client: Client, route: Route[S], a: S, status: int, content: bytes, changed: bool,
        where: str,
    ) -> None:  # fmt: skip
        if route.creates:
            assert status in set(route.expect) | {403}, where
        elif route.listing:
            assert status in set(route.expect) | {200}, where
            assert not self.shows(route, content, a), where
            assert route.sibling_writes or not changed, where
        else:
            assert status in route.sibling, where
            if route.missing_404:
                assert self.call(client, route, self.missing).status == 404, where
            assert not changed, where
