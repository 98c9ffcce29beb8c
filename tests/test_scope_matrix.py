"""The scope matrix: every URL pattern and every API operation, requested as every persona.

Each route is classified below (ROUTES): which object its path (or body) refers to, the method,
the permission a persona needs to succeed, and how to build the request for an object of
district A (grid A) or of district B. A route that is not classified fails
`test_every_route_is_classified`, so a module added later cannot slip past the matrix.

For every route, persona and target, the expected answer is defined once, in `_expect`:

- anonymous: pages redirect to the sign-in page (302), the API answers 401;
- a persona whose subtree does not contain the object: exactly what a guessed, non-existent id
  gets (status and body shape), which is 404; a role lacking the route's permission may get
  403 instead, as long as it gets the same for a missing id;
- a persona whose subtree contains the object: success if its role holds the permission
  (reads 200; writes 200/201/302, or a domain answer such as 409 for a blocked release),
  403 if it does not;
- lists and searches answer 200 but never show an object outside the subtree (searching the
  sibling district's exact ID number or phone finds nothing).

Whatever is refused changes nothing: row counts of every table (so no audit entry, no job, no
notification) and the mutable columns of the main tables are the same before and after. Each
request runs in a savepoint that is rolled back, so successful writes by one persona do not
change the world the next persona sees; the world is built once per route.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.accounts.roles import perms_for
from fangkong.api import api
from fangkong.assignments.models import Assignment
from fangkong.assignments.tests.factories import assignment as make_assignment
from fangkong.control import services as control_services
from fangkong.control.models import ChangeRequest, ControlOrder, ScheduledTest
from fangkong.control.tests import factories as control_factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.perms import Perm
from fangkong.core.tests.scope_kit import PERSONAS
from fangkong.notifications.models import Notification
from fangkong.notifications.services import notify
from fangkong.people.models import Person
from fangkong.people.tests.factories import person as make_person
from fangkong.people.tests.factories import resident_id
from fangkong.places.models import Place
from fangkong.places.tests.factories import facility
from fangkong.policy.schema import Category

pytestmark = pytest.mark.django_db

# Which side's objects each persona's subtree contains.
COVERS: dict[str, set[str]] = {
    "grid_worker": {"A"},
    "sibling_district_officer": {"B"},
    "district_officer": {"A"},
    "city_commander": {"A", "B"},
    "other_role": {"A"},
    "anonymous": set(),
}
MISSING = 987_654_321  # a guessed id: exists nowhere
# A role without a route's permission is refused with 403, or with 404 where the code treats
# the whole kind of object as invisible to that role (e.g. a lab account and assignments).
NOT_ALLOWED = {403, 404}


class Kind(StrEnum):
    """What a route's path parameter (or body reference) points at."""

    NONE = "none"  # a list, a form or a figure page
    PERSON = "person"
    ORDER = "order"
    TEST = "scheduled test"
    REQUEST = "change request"
    ASSIGNMENT = "assignment"
    PLACE = "place"
    NODE = "jurisdiction code"
    NOTIFICATION = "notification"  # owned by a user, not a jurisdiction


@dataclass(frozen=True)
class Side:
    """The objects of one side of the city (ids and codes only, so that a guessed side can be
    made of ids that exist nowhere)."""

    person: int
    spare: int  # a second person of the side (merge partner)
    doc_number: str
    phone: str
    name: str
    order: int
    test: int
    request: int
    assignment: int
    place: int
    node: str  # a jurisdiction code on this side
    grid: str  # a grid code on this side
    other_node: str  # another node of the side (reassignment target)
    new_town: str  # a code that does not exist yet, under this side's district
    notification: int


@dataclass
class World:
    tree: Tree
    users: dict[str, User]
    a: Side
    b: Side
    missing: Side
    notifications: dict[str, int]  # persona -> own notification id


Body = dict[str, Any] | None


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name" of a page, or "METHOD /api/path" of an API operation
    kind: Kind
    perm: Perm | None  # what success needs; None: any signed-in account
    url: Callable[[Side], str]
    method: str = "get"
    body: Callable[[Side], Body] = lambda s: None
    lists: Kind | None = None  # a list or search: must not show the other side's objects
    finds: bool = False  # a search: must also find the object when in scope
    write: bool = False
    # answers that count as success for a persona that may act (beyond 200/201/302)
    also_ok: frozenset[int] = frozenset()
    # the answer to an out-of-scope body reference that is not a lookup (file imports)
    out_status: int = 404
    label: str = ""  # tells several probes of one route apart

    @property
    def api(self) -> bool:
        return self.key.split(" ")[-1].startswith("/api/")

    @property
    def id(self) -> str:
        return self.key + (f" [{self.label}]" if self.label else "")


def _r(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs)


def _write(key: str, kind: Kind, perm: Perm | None, url: Callable[[Side], str], **kw: Any) -> Route:
    method = key.split(" ", maxsplit=1)[0].lower() if " " in key else "post"
    return Route(key, kind, perm, url, method=method, write=True, **kw)


ISSUE = {
    "category": "close_contact",
    "anchor": "2022-01-10",
    "basis_type": "contact",
    "basis_id": "c-9",
    "reason": "case 9",
}
STATUS = {"to_status": "in_effect", "basis_type": "report", "basis_id": "p-1", "reason": "placed"}
PAGE_TEST = {"result": "negative", "sampled_at": "2022-01-10T08:00", "result_ref": "T-1"}
API_TEST = {"result": "negative", "sampled_at": "2022-01-10T08:00:00+08:00", "result_ref": "T"}


def _register(s: Side) -> dict[str, Any]:
    return {"doc_type": "resident_id", "doc_number": "", "name": "新人", "grid_code": s.grid}


P, A, PL, N, J = Kind.PERSON, Kind.ASSIGNMENT, Kind.PLACE, Kind.NOTIFICATION, Kind.NODE
NONE = Kind.NONE

ROUTES: list[Route] = [
    # --- pages ------------------------------------------------------------------------------
    Route("command:home", NONE, None, lambda s: _r("command:home")),
    Route(
        "jurisdictions:tree", NONE, Perm.JURISDICTION_VIEW, lambda s: _r("jurisdictions:tree"),
        lists=J,
    ),
    Route("jurisdictions:detail", J, Perm.JURISDICTION_VIEW,
          lambda s: _r("jurisdictions:detail", code=s.node)),
    Route("jurisdictions:children", J, Perm.JURISDICTION_VIEW,
          lambda s: _r("jurisdictions:children", code=s.node)),
    Route("people:search", NONE, Perm.PERSON_VIEW, lambda s: _r("people:search"), lists=P),
    Route("people:search", NONE, Perm.PERSON_VIEW, lambda s: _r("people:search"), method="post",
          body=lambda s: {"q": s.doc_number}, lists=P, finds=True, label="document number"),
    Route("people:search", NONE, Perm.PERSON_VIEW, lambda s: _r("people:search"), method="post",
          body=lambda s: {"q": s.phone}, lists=P, finds=True, label="phone"),
    Route("people:search", NONE, Perm.PERSON_VIEW, lambda s: _r("people:search"), method="post",
          body=lambda s: {"q": s.name}, lists=P, finds=True, label="full name"),
    Route("people:register", NONE, Perm.PERSON_WRITE, lambda s: _r("people:register")),
    # Forms answer a grid outside the scope like an unknown one: the form again, with an error.
    _write("people:register", J, Perm.PERSON_WRITE, lambda s: _r("people:register"),
           body=_register, out_status=422, label="grid in body"),
    Route("people:detail", P, Perm.PERSON_VIEW, lambda s: _r("people:detail", person_id=s.person)),
    _write("people:reveal", P, Perm.PERSON_VIEW_FULL,
           lambda s: _r("people:reveal", person_id=s.person), body=lambda s: {"reason": "visit"}),
    Route("people:merge", P, Perm.PERSON_MERGE, lambda s: _r("people:merge", person_id=s.person)),
    _write("people:merge", P, Perm.PERSON_MERGE, lambda s: _r("people:merge", person_id=s.person),
           body=lambda s: {"duplicate_id": s.spare, "reason": "dup"}),
    _write("people:note_add", P, Perm.PERSON_WRITE,
           lambda s: _r("people:note_add", person_id=s.person), body=lambda s: {"text": "hello"}),
    Route("places:list", NONE, Perm.PLACE_VIEW, lambda s: _r("places:list"), lists=PL),
    Route("places:create", NONE, Perm.PLACE_WRITE, lambda s: _r("places:create")),
    _write("places:create", J, Perm.PLACE_WRITE, lambda s: _r("places:create"),
           body=lambda s: {"name": "新场所", "kind": "mall", "jurisdiction": s.grid,
                           "capacity": 0},
           out_status=200, label="jurisdiction in body"),
    Route("places:detail", PL, Perm.PLACE_VIEW, lambda s: _r("places:detail", place_id=s.place)),
    _write("places:room_add", PL, Perm.PLACE_WRITE,
           lambda s: _r("places:room_add", place_id=s.place),
           body=lambda s: {"number": "101", "floor": 1, "beds": 1}),
    Route("notifications:list", NONE, None, lambda s: _r("notifications:list"), lists=N),
    Route("notifications:badge", NONE, None, lambda s: _r("notifications:badge")),
    # Marking someone else's notification read is not an error: it marks nothing.
    _write("notifications:read", N, None, lambda s: _r("notifications:read"),
           body=lambda s: {"ids": [s.notification]}, out_status=302),
    Route("notifications:open", N, None,
          lambda s: _r("notifications:open", notification_id=s.notification)),
    Route("assignments:inbox", NONE, Perm.ASSIGNMENT_VIEW, lambda s: _r("assignments:inbox"),
          lists=A),
    Route("assignments:detail", A, Perm.ASSIGNMENT_VIEW,
          lambda s: _r("assignments:detail", assignment_id=s.assignment)),
    _write("assignments:start", A, Perm.ASSIGNMENT_WORK,
           lambda s: _r("assignments:start", assignment_id=s.assignment)),
    _write("assignments:complete", A, Perm.ASSIGNMENT_WORK,
           lambda s: _r("assignments:complete", assignment_id=s.assignment),
           body=lambda s: {"outcome": "done"}),
    _write("assignments:reject", A, Perm.ASSIGNMENT_WORK,
           lambda s: _r("assignments:reject", assignment_id=s.assignment),
           body=lambda s: {"reason": "not ours"}),
    _write("assignments:reassign", A, Perm.ASSIGNMENT_MANAGE,
           lambda s: _r("assignments:reassign", assignment_id=s.assignment),
           body=lambda s: {"to": s.other_node, "reason": "moved"}),
    Route("assignments:board", J, Perm.ASSIGNMENT_VIEW,
          lambda s: _r("assignments:board", code=s.node)),
    Route("assignments:overdue", J, Perm.ASSIGNMENT_VIEW,
          lambda s: _r("assignments:overdue", code=s.node)),
    Route("control:list", NONE, Perm.CONTROL_VIEW, lambda s: _r("control:list"),
          lists=Kind.ORDER),
    Route("control:person", P, Perm.CONTROL_VIEW,
          lambda s: _r("control:person", person_id=s.person)),
    Route("control:issue", P, Perm.CONTROL_ISSUE,
          lambda s: _r("control:issue", person_id=s.person)),
    _write("control:issue", P, Perm.CONTROL_ISSUE,
           lambda s: _r("control:issue", person_id=s.person), body=lambda s: ISSUE),
    Route("control:order", Kind.ORDER, Perm.CONTROL_VIEW,
          lambda s: _r("control:order", order_id=s.order)),
    _write("control:status", Kind.ORDER, Perm.CONTROL_CHANGE,
           lambda s: _r("control:status", order_id=s.order), body=lambda s: STATUS),
    _write("control:release", Kind.ORDER, Perm.CONTROL_CHANGE,
           lambda s: _r("control:release", order_id=s.order), body=lambda s: {"reason": "done"},
           also_ok=frozenset({409})),
    Route("control:tests_due", NONE, Perm.CONTROL_VIEW,
          lambda s: _r("control:tests_due") + "?day=2022-01-10", lists=Kind.ORDER),
    _write("control:test_record", Kind.TEST, Perm.CONTROL_CHANGE,
           lambda s: _r("control:test_record", test_id=s.test), body=lambda s: PAGE_TEST),
    Route("control:approvals", NONE, Perm.CONTROL_VIEW, lambda s: _r("control:approvals"),
          lists=Kind.REQUEST),
    _write("control:decide", Kind.REQUEST, Perm.CONTROL_APPROVE,
           lambda s: _r("control:decide", request_id=s.request),
           body=lambda s: {"approve": "1", "reason": "verified"}),
    # Exports (a grid in the query narrows the people export; files are masked, full values
    # need a reason and are audited).
    Route("people:export", J, Perm.PERSON_VIEW, lambda s: _r("people:export") + f"?grid={s.grid}"),
    Route("people:export_file", J, Perm.PERSON_VIEW,
          lambda s: _r("people:export_file", fmt="csv") + f"?grid={s.grid}"),
    _write("people:export_file", J, Perm.PERSON_EXPORT,
           lambda s: _r("people:export_file", fmt="csv") + f"?grid={s.grid}",
           body=lambda s: {"reason": "visit list"}, label="full values"),
    Route("control:export", NONE, Perm.CONTROL_VIEW, lambda s: _r("control:export")),
    Route("control:export_file", NONE, Perm.CONTROL_VIEW,
          lambda s: _r("control:export_file", fmt="csv")),
    # --- API --------------------------------------------------------------------------------
    Route("GET /api/me", NONE, None, lambda s: "/api/me"),
    _write("POST /api/jurisdictions/import", J, Perm.JURISDICTION_WRITE,
           lambda s: "/api/jurisdictions/import",
           body=lambda s: {"file": ("tree.csv", f"code,name\n{s.new_town},新街道\n")},
           out_status=422),
    Route("GET /api/jurisdictions/{code}", J, Perm.JURISDICTION_VIEW,
          lambda s: f"/api/jurisdictions/{s.node}"),
    Route("GET /api/jurisdictions/{code}/children", J, Perm.JURISDICTION_VIEW,
          lambda s: f"/api/jurisdictions/{s.node}/children"),
    Route("GET /api/jurisdictions/{code}/posts", J, Perm.JURISDICTION_VIEW,
          lambda s: f"/api/jurisdictions/{s.node}/posts"),
    Route("GET /api/people", NONE, Perm.PERSON_VIEW, lambda s: "/api/people", lists=P),
    _write("POST /api/people", J, Perm.PERSON_WRITE, lambda s: "/api/people", body=_register,
           also_ok=frozenset({201})),
    Route("GET /api/people/search", NONE, Perm.PERSON_VIEW,
          lambda s: f"/api/people/search?q={s.doc_number}", lists=P, finds=True,
          label="document number"),
    Route("GET /api/people/search", NONE, Perm.PERSON_VIEW,
          lambda s: f"/api/people/search?q={s.phone}", lists=P, finds=True, label="phone"),
    Route("GET /api/people/search", NONE, Perm.PERSON_VIEW,
          lambda s: f"/api/people/search?q={s.name}", lists=P, finds=True, label="full name"),
    Route("POST /api/people/search", NONE, Perm.PERSON_VIEW, lambda s: "/api/people/search",
          method="post", body=lambda s: {"q": s.doc_number}, lists=P, finds=True),
    Route("GET /api/people/{person_id}", P, Perm.PERSON_VIEW,
          lambda s: f"/api/people/{s.person}"),
    _write("PATCH /api/people/{person_id}", P, Perm.PERSON_WRITE,
           lambda s: f"/api/people/{s.person}",
           body=lambda s: {"reason": "new phone", "phone": "13300000000"}),
    _write("POST /api/people/{person_id}/reveal", P, Perm.PERSON_VIEW_FULL,
           lambda s: f"/api/people/{s.person}/reveal", body=lambda s: {"reason": "visit"}),
    _write("POST /api/people/{person_id}/merge", P, Perm.PERSON_MERGE,
           lambda s: f"/api/people/{s.person}/merge",
           body=lambda s: {"duplicate_id": s.spare, "reason": "dup"}),
    Route("GET /api/places", NONE, Perm.PLACE_VIEW, lambda s: "/api/places", lists=PL),
    _write("POST /api/places", J, Perm.PLACE_WRITE, lambda s: "/api/places",
           body=lambda s: {"name": "新场所", "kind": "mall", "jurisdiction_code": s.grid}),
    Route("GET /api/places/{place_id}", PL, Perm.PLACE_VIEW, lambda s: f"/api/places/{s.place}"),
    Route("GET /api/places/{place_id}/rooms", PL, Perm.PLACE_VIEW,
          lambda s: f"/api/places/{s.place}/rooms"),
    _write("POST /api/places/{place_id}/rooms", PL, Perm.PLACE_WRITE,
           lambda s: f"/api/places/{s.place}/rooms", body=lambda s: {"number": "101"}),
    Route("GET /api/notifications", NONE, None, lambda s: "/api/notifications", lists=N),
    Route("GET /api/notifications/unread", NONE, None, lambda s: "/api/notifications/unread"),
    _write("POST /api/notifications/read", N, None, lambda s: "/api/notifications/read",
           body=lambda s: {"ids": [s.notification]}, out_status=200),
    Route("GET /api/assignments", NONE, Perm.ASSIGNMENT_VIEW, lambda s: "/api/assignments",
          lists=A),
    Route("GET /api/assignments/board/{code}", J, Perm.ASSIGNMENT_VIEW,
          lambda s: f"/api/assignments/board/{s.node}"),
    Route("GET /api/assignments/board/{code}/overdue", J, Perm.ASSIGNMENT_VIEW,
          lambda s: f"/api/assignments/board/{s.node}/overdue"),
    Route("GET /api/assignments/{assignment_id}", A, Perm.ASSIGNMENT_VIEW,
          lambda s: f"/api/assignments/{s.assignment}"),
    _write("POST /api/assignments/{assignment_id}/start", A, Perm.ASSIGNMENT_WORK,
           lambda s: f"/api/assignments/{s.assignment}/start"),
    _write("POST /api/assignments/{assignment_id}/complete", A, Perm.ASSIGNMENT_WORK,
           lambda s: f"/api/assignments/{s.assignment}/complete",
           body=lambda s: {"outcome": "done"}),
    _write("POST /api/assignments/{assignment_id}/reject", A, Perm.ASSIGNMENT_WORK,
           lambda s: f"/api/assignments/{s.assignment}/reject",
           body=lambda s: {"reason": "not ours"}),
    _write("POST /api/assignments/{assignment_id}/reassign", A, Perm.ASSIGNMENT_MANAGE,
           lambda s: f"/api/assignments/{s.assignment}/reassign",
           body=lambda s: {"to": s.other_node, "reason": "moved"}),
    Route("GET /api/control/orders", NONE, Perm.CONTROL_VIEW, lambda s: "/api/control/orders",
          lists=Kind.ORDER),
    _write("POST /api/control/orders", P, Perm.CONTROL_ISSUE, lambda s: "/api/control/orders",
           body=lambda s: {"person_id": s.person, **ISSUE}),
    _write("POST /api/control/orders/bulk-status", Kind.ORDER, Perm.CONTROL_CHANGE,
           lambda s: "/api/control/orders/bulk-status",
           body=lambda s: {"order_ids": [s.order], **STATUS}),
    Route("GET /api/control/orders/{order_id}", Kind.ORDER, Perm.CONTROL_VIEW,
          lambda s: f"/api/control/orders/{s.order}"),
    _write("POST /api/control/orders/{order_id}/status", Kind.ORDER, Perm.CONTROL_CHANGE,
           lambda s: f"/api/control/orders/{s.order}/status", body=lambda s: STATUS),
    _write("POST /api/control/orders/{order_id}/release", Kind.ORDER, Perm.CONTROL_CHANGE,
           lambda s: f"/api/control/orders/{s.order}/release",
           body=lambda s: {"reason": "done"}, also_ok=frozenset({409})),
    _write("POST /api/control/tests/{test_id}/result", Kind.TEST, Perm.CONTROL_CHANGE,
           lambda s: f"/api/control/tests/{s.test}/result", body=lambda s: API_TEST),
    Route("GET /api/control/people/{person_id}/health-code", P, Perm.CONTROL_VIEW,
          lambda s: f"/api/control/people/{s.person}/health-code"),
    Route("GET /api/control/change-requests", NONE, Perm.CONTROL_VIEW,
          lambda s: "/api/control/change-requests", lists=Kind.REQUEST),
    _write("POST /api/control/change-requests/{request_id}/decide", Kind.REQUEST,
           Perm.CONTROL_APPROVE, lambda s: f"/api/control/change-requests/{s.request}/decide",
           body=lambda s: {"approve": True, "reason": "verified"}),
]  # fmt: skip

# Routes outside the matrix, each with the reason. Everything else must be in ROUTES.
UNSCOPED = {
    "accounts:login": "the sign-in form itself",
    "accounts:logout": "ends the caller's own session",
    "accounts:totp": "the caller's own second sign-in step",
    "set_language": "stores the caller's language choice",
    "api:openapi-json": "the API description: no data",
    "api:openapi-view": "the API documentation page: no data",
    "api:api-root": "ninja's root: no data",
}


# --- enumeration ----------------------------------------------------------------------------


def _url_names(
    patterns: list[URLPattern | URLResolver] | None = None, ns: str = ""
) -> Iterator[str]:
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(x for x in (ns, p.namespace or "") if x)
            yield from _url_names(list(p.url_patterns), inner)
        else:
            yield f"{ns}:{p.name}" if ns else str(p.name)


def _api_operations() -> Iterator[tuple[str, str]]:
    """("METHOD /api/path", view name) for every operation of every router."""
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    yield f"{method} /api{prefix}{path}", op.view_func.__name__


# The operations modules keep their own scope matrix beside their code, in the same terms:
# each module's `tests/test_scope.py` probes every route it owns as the personas above (anonymous,
# sibling district, parent, city, lacking permission, unchanged tables on refusal) and lists the
# route keys it covers in SCOPE_ROUTES. A route is classified when it is in ROUTES or in one of them.
MODULE_MATRICES = (
    "fangkong.screening.tests.test_scope",
    "fangkong.tracing.tests.test_scope",
    "fangkong.lake.tests.test_scope",
    "fangkong.mass_testing.tests.test_scope",
    "fangkong.key_populations.tests.test_scope",
    "fangkong.sentinel.tests.test_scope",
)


def _module_routes() -> set[str]:
    import importlib

    keys: set[str] = set()
    for name in MODULE_MATRICES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue  # a module without routes yet
        keys |= set(module.SCOPE_ROUTES)
    return keys


def test_every_route_is_classified() -> None:
    classified = {r.key for r in ROUTES} | _module_routes()
    operations = dict(_api_operations())
    pages = [n for n in _url_names() if not n.startswith("api:") or n in UNSCOPED]
    api_view_names = set(operations.values())
    unknown_api_urls = [
        n for n in _url_names() if n.startswith("api:") and n not in UNSCOPED
        and n.removeprefix("api:") not in api_view_names
    ]  # fmt: skip
    missing = sorted(
        [n for n in pages if n not in classified and n not in UNSCOPED]
        + [k for k in operations if k not in classified]
        + unknown_api_urls
    )
    assert not missing, (
        "Routes missing from the scope matrix (add each to ROUTES in tests/test_scope_matrix.py "
        "with the object kind it refers to, or to UNSCOPED with the reason): " + ", ".join(missing)
    )
    stale = sorted(classified - set(pages) - set(operations))
    assert not stale, f"ROUTES names routes that no longer exist: {stale}"


def test_every_api_operation_and_page_method_is_probed() -> None:
    """Each API operation appears once per method; each write route has a denied probe."""
    keys = {r.key.split(" ")[0] for r in ROUTES if r.api}
    assert keys <= {"GET", "POST", "PATCH", "DELETE", "PUT"}
    for r in ROUTES:
        if r.api:
            assert r.method == r.key.split(" ")[0].lower(), r.id
        assert r.write == (r.method != "get") or r.lists is not None, r.id


# --- the world ------------------------------------------------------------------------------


@pytest.fixture
def world(two_districts: Tree, personas: dict[str, User], system: Actor) -> Iterator[World]:
    t = two_districts
    with clock.frozen(control_factories.NOW):
        control_factories.rulebook(system)
        users = personas
        notifications = {}
        for name, user in users.items():
            notify(user_ids=[user.pk], subject=f"for {name}", body="", link="/")
            notifications[name] = Notification.objects.get(user=user).pk

        def side(grid: Any, other: Any, area: str, phone: str, new_town: str, *, name: str) -> Side:
            who = make_person(
                system, grid, doc_number=resident_id(area=area), phone=phone, name=name
            )
            spare = make_person(system, grid, doc_number=resident_id(area=area))
            order = control_factories.order(system, who, Category.SECONDARY_CONTACT)
            test = ScheduledTest.objects.filter(order=order).order_by("due_on").first()
            assert test is not None
            change = control_services.order_change_status(
                actor=system, order=order, to_status="cancelled", reason="hotline call",
                basis_type="manual", basis_id="",
            ).request  # fmt: skip
            assert change is not None
            item = make_assignment(system, grid)
            place = facility(grid, name="隔离点")
            return Side(
                person=who.pk, spare=spare.pk, doc_number=who.doc_number, phone=phone, name=name,
                order=order.pk, test=test.pk, request=change.pk, assignment=item.pk,
                place=place.pk, node=grid.code, grid=grid.code, other_node=other.code,
                new_town=new_town, notification=0,
            )  # fmt: skip

        a = side(t.grid_a, t.grid_a2, "440902", "13800000001", "440902009", name="甲方居民")
        b = side(t.grid_b, t.town_b, "440903", "13900000002", "440903009", name="乙方居民")
        missing = Side(
            person=MISSING, spare=MISSING + 1, doc_number=resident_id(area="440904"),
            phone="13700000003", name="无此人", order=MISSING, test=MISSING, request=MISSING,
            assignment=MISSING, place=MISSING, node="440904001001001001",
            grid="440904001001001001", other_node="440904001", new_town="440904009",
            notification=MISSING,
        )  # fmt: skip
        yield World(t, users, a, b, missing, notifications)


@functools.cache
def _tables() -> list[str]:
    """Every model's table that the test database has (a model still without its migration,
    in someone's working tree, has no rows to change)."""
    existing = set(connection.introspection.table_names())
    return sorted({m._meta.db_table for m in apps.get_models()} & existing)


def _state() -> tuple[Any, ...]:
    """Row counts of every table in one query, and the columns that writes change."""
    tables = _tables()
    quote = connection.ops.quote_name
    # Table names come from the models, quoted: nothing here comes from a request.
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql)
        counts = dict(zip(tables, cur.fetchone(), strict=True))
    counts.pop("django_session")  # saved on every request (idle timeout)
    return (
        counts,
        list(Person.objects.order_by("pk").values_list("pk", "merged_into_id", "phone_bidx")),
        list(ControlOrder.objects.order_by("pk").values_list("pk", "status")),
        list(ScheduledTest.objects.order_by("pk").values_list("pk", "status")),
        list(ChangeRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Assignment.objects.order_by("pk").values_list("pk", "status", "jurisdiction_path")),
        list(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        list(Place.objects.order_by("pk").values_list("pk", "name")),
    )


# --- requests and expectations --------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    shape: Any  # API: the JSON error's code and keys; pages: nothing
    body: str
    changed: bool


def _shape(route: Route, status: int, content: bytes) -> Any:
    if not route.api or status < 400:
        return None
    payload = json.loads(content)
    return (payload.get("code"), sorted(payload))


def _call(client: Client, route: Route, side: Side, *, htmx: bool = False) -> Answer:
    url, body = route.url(side), route.body(side)
    headers = {"HX-Request": "true"} if htmx else {}
    if route.key == "POST /api/jurisdictions/import" and body is not None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        name, text = body["file"]
        body = {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")}
    elif body is not None and "doc_number" in body and not body["doc_number"]:
        body = body | {"doc_number": resident_id(area=body["grid_code"][:6])}
    with transaction.atomic():
        before = _state() if route.write else None
        if route.method == "get":
            response = client.get(url, headers=headers)
        elif route.api and route.key != "POST /api/jurisdictions/import":
            response = getattr(client, route.method)(
                url, json.dumps(body or {}), content_type="application/json", headers=headers
            )
        else:
            response = getattr(client, route.method)(url, body or {}, headers=headers)
        changed = before is not None and _state() != before
        transaction.set_rollback(True)
    content = (
        b"".join(getattr(response, "streaming_content"))  # noqa: B009 (mypy: test response type)
        if response.streaming
        else response.content
    )
    return Answer(
        response.status_code,
        response.get("Location", ""),
        _shape(route, response.status_code, content),
        content.decode(errors="replace"),
        changed,
    )


def _marker(kind: Kind, side: Side) -> tuple[str, int | str]:
    """How a listed object shows: (page fragment, API item id)."""
    markers: dict[Kind, tuple[str, int | str]] = {
        Kind.PERSON: (f"/people/{side.person}/", side.person),
        Kind.ORDER: (f"/control/orders/{side.order}/", side.order),
        Kind.REQUEST: (f"/control/approvals/{side.request}/decide/", side.request),
        Kind.ASSIGNMENT: (f"/assignments/{side.assignment}/", side.assignment),
        Kind.PLACE: (f"/places/{side.place}/", side.place),
        Kind.NODE: (f"/jurisdictions/{side.node}/", side.node),
        Kind.NOTIFICATION: (f"/notifications/{side.notification}/open/", side.notification),
    }
    return markers[kind]


def _listed(route: Route, answer: Answer, side: Side) -> bool:
    assert route.lists is not None
    fragment, key = _marker(route.lists, side)
    if not route.api:
        return fragment in answer.body
    payload = json.loads(answer.body)
    items = payload if isinstance(payload, list) else payload.get("items", [])
    return any(item.get("id", item.get("code")) == key for item in items)


def _guess(side: Side, kind: Kind, missing: Side) -> Side:
    """`side` with the reference of `kind` replaced by one that exists nowhere."""
    fields = {
        Kind.PERSON: ("person",),
        Kind.ORDER: ("order",),
        Kind.TEST: ("test",),
        Kind.REQUEST: ("request",),
        Kind.ASSIGNMENT: ("assignment",),
        Kind.PLACE: ("place",),
        Kind.NODE: ("node", "grid", "new_town"),
        Kind.NOTIFICATION: ("notification",),
    }[kind]
    return replace(side, **{f: getattr(missing, f) for f in fields})


def _targets(world: World, persona: str) -> list[tuple[str, Side, bool]]:
    """(label, side, whether the persona's subtree contains it) for one persona."""
    covers = COVERS[persona]
    if persona == "anonymous":
        return [("A", world.a, False), ("B", world.b, False)]
    own = world.notifications[persona]
    other = world.notifications[
        "sibling_district_officer" if persona != "sibling_district_officer" else "grid_worker"
    ]
    return [
        ("A", replace(world.a, notification=own if "A" in covers else other), "A" in covers),
        ("B", replace(world.b, notification=own if "B" in covers else other), "B" in covers),
    ]


def _success(route: Route, answer: Answer) -> bool:
    if answer.status == 302:
        return "/accounts/login/" not in answer.location
    return answer.status in {200, 201} | route.also_ok


Fail = Callable[[str, Answer], None]


def _check_anonymous(route: Route, world: World, client: Client, fail: Fail) -> None:
    for label, side, _ in _targets(world, "anonymous"):
        got = _call(client, route, side)
        wanted = got.status == 401 if route.api else "/accounts/login/" in got.location
        if not wanted:
            fail(f"on {label}: anonymous must get {'401' if route.api else 'sign-in'}", got)
        if got.changed:
            fail(f"on {label}: anonymous changed something", got)


def _check_listing(
    route: Route, got: Answer, label: str, side: Side, *, covered: bool, allowed: bool, fail: Fail
) -> None:
    if allowed and got.status != 200:
        fail(f"listing {label}: expected 200", got)
    elif not allowed and got.status not in {200} | NOT_ALLOWED:
        fail(f"listing {label} without {route.perm}: expected 403 (or 404)", got)
    if got.status == 200:
        shown = _listed(route, got, side)
        if shown and not (covered and allowed):
            fail(f"listing {label}: shows an object outside the scope", got)
        if route.finds and covered and allowed and not shown:
            fail(f"searching {label}: does not find an object in scope", got)


def _check_object(
    route: Route,
    got: Answer,
    guessed: Answer | None,
    label: str,
    *,
    covered: bool,
    allowed: bool,
    fail: Fail,
) -> None:
    if covered and allowed:
        if not _success(route, got):
            fail(f"on {label} (in scope): expected success", got)
        return
    if covered:
        if got.status not in NOT_ALLOWED:
            fail(f"on {label} (in scope) without {route.perm}: expected 403 (or 404)", got)
    else:
        expected = {route.out_status} | (NOT_ALLOWED if not allowed else set())
        if got.status not in expected:
            fail(f"on {label} (out of scope): expected {sorted(expected)}", got)
        elif guessed is not None and (got.status, got.shape) != (guessed.status, guessed.shape):
            fail(
                f"on {label} (out of scope): answer {got.shape} differs from a guessed id's "
                f"{guessed.status} {guessed.shape}",
                got,
            )
    if got.changed:
        fail(f"on {label}: refused, yet something changed", got)


def _check(route: Route, world: World, client: Client, persona: str, problems: list[str]) -> None:
    def fail(what: str, answer: Answer) -> None:
        problems.append(f"{persona} {route.id} {what}: got {answer.status} {answer.location}")

    if persona == "anonymous":
        _check_anonymous(route, world, client, fail)
        return
    role = world.users[persona].role
    allowed = route.perm is None or route.perm in perms_for(role)
    # A guessed id: the persona's out-of-scope request with only the object's id replaced by
    # one that exists nowhere. It must get exactly the out-of-scope answer.
    outside = world.a if "A" not in COVERS[persona] else world.b
    guessed = None
    if route.kind is not Kind.NONE and route.key != "POST /api/jurisdictions/import":
        guessed = _call(client, route, _guess(outside, route.kind, world.missing))
        if guessed.changed:
            fail("with a guessed id changed something", guessed)
        expected_missing = {route.out_status} | (NOT_ALLOWED if not allowed else set())
        if guessed.status not in expected_missing:
            fail(f"with a guessed id: expected {sorted(expected_missing)}", guessed)
    for label, side, covered in _targets(world, persona):
        got = _call(client, route, side)
        if route.lists is not None and route.kind is Kind.NONE:
            _check_listing(route, got, label, side, covered=covered, allowed=allowed, fail=fail)
        elif route.kind is Kind.NONE:
            if allowed and not _success(route, got):
                fail("expected success", got)
            if not allowed and got.status not in NOT_ALLOWED:
                fail(f"without {route.perm}: expected 403 (or 404)", got)
        else:
            _check_object(route, got, guessed, label, covered=covered, allowed=allowed, fail=fail)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_scope_matrix(
    route: Route, world: World, login: Callable[[User], Client], client: Client
) -> None:
    problems: list[str] = []
    with clock.frozen(control_factories.NOW):
        for persona in PERSONAS:
            if persona == "anonymous":
                client.logout()
                _check(route, world, client, persona, problems)
            else:
                _check(route, world, login(world.users[persona]), persona, problems)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.method == "get" and not r.api and r.kind is not Kind.NONE],
    ids=lambda r: r.id,
)  # fmt: skip
def test_htmx_partials_hide_the_other_district_too(
    route: Route, world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users["district_officer"])
    with clock.frozen(control_factories.NOW):
        theirs = _call(client, route, world.b, htmx=True)
        guessed = _call(client, route, world.missing, htmx=True)
    assert (theirs.status, guessed.status) == (404, 404)
    assert not theirs.changed


def test_the_matrix_has_every_persona_of_the_shared_fixture(personas: dict[str, User]) -> None:
    assert set(personas) | {"anonymous"} == set(PERSONAS) == set(COVERS)


# --- references to the other side inside a request ---------------------------------------


@dataclass(frozen=True)
class Mixed:
    """A write on an object in scope whose body names an object of the sibling district."""

    name: str
    method: str
    url: Callable[[Side], str]
    body: Callable[[Side, Side], dict[str, Any]]
    api: bool


MIXED = [
    Mixed(
        "people:merge with a duplicate from the sibling district",
        "post",
        lambda s: _r("people:merge", person_id=s.person),
        lambda mine, theirs: {"duplicate_id": theirs.spare, "reason": "dup"},
        api=False,
    ),
    Mixed(
        "POST /api/people/{person_id}/merge with a duplicate from the sibling district",
        "post",
        lambda s: f"/api/people/{s.person}/merge",
        lambda mine, theirs: {"duplicate_id": theirs.spare, "reason": "dup"},
        api=True,
    ),
    Mixed(
        "assignments:reassign to a node of the sibling district",
        "post",
        lambda s: _r("assignments:reassign", assignment_id=s.assignment),
        lambda mine, theirs: {"to": theirs.node, "reason": "moved"},
        api=False,
    ),
    Mixed(
        "POST /api/assignments/{assignment_id}/reassign to a node of the sibling district",
        "post",
        lambda s: f"/api/assignments/{s.assignment}/reassign",
        lambda mine, theirs: {"to": theirs.node, "reason": "moved"},
        api=True,
    ),
    Mixed(
        "POST /api/control/orders/bulk-status with one order of each district",
        "post",
        lambda s: "/api/control/orders/bulk-status",
        lambda mine, theirs: {"order_ids": [mine.order, theirs.order], **STATUS},
        api=True,
    ),
    Mixed(
        "POST /api/notifications/read with someone else's notification",
        "post",
        lambda s: "/api/notifications/read",
        lambda mine, theirs: {"ids": [theirs.notification]},
        api=True,
    ),
]


@pytest.mark.parametrize("mixed", MIXED, ids=lambda m: m.name)
def test_a_write_naming_an_object_of_the_sibling_district_is_refused_and_changes_nothing(
    mixed: Mixed, world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users["district_officer"])
    mine = replace(world.a, notification=world.notifications["district_officer"])
    theirs = replace(world.b, notification=world.notifications["sibling_district_officer"])
    with clock.frozen(control_factories.NOW):
        before = _state()
        url, body = mixed.url(mine), mixed.body(mine, theirs)
        if mixed.api:
            response = client.post(url, json.dumps(body), content_type="application/json")
        else:
            response = client.post(url, body)
        after = _state()
    assert after == before, f"{mixed.name}: something changed ({response.status_code})"
    if mixed.api and "notifications" not in mixed.name:
        assert response.status_code == 404, response.content
    elif "notifications" in mixed.name:
        assert response.json() == {"marked": 0}
    else:
        # a page answers 404, or shows its form again with the error
        assert response.status_code in {200, 404}, response.status_code
