"""API fuzzing: schemathesis against the served OpenAPI schema, with a city-level token.

Every operation of /api/openapi.json gets generated requests (bounded, derandomized: the same
cases on every run) sent straight to the WSGI application inside the test's transaction. Each
response must be below 500, conform to the schema (status code, content type, body) and carry no
SQL or stack-trace text. The world is small: the two-district tree, a rulebook, a few persons,
control orders and assignments, so that generated ids sometimes hit real rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from conftest import Tree
from fangkong.core import clock
from fangkong.core.actor import Actor

# Enough to reach every operation's parameters and bodies while keeping the module well under
# a minute on both databases with two workers.
MAX_EXAMPLES = 15

LEAK = re.compile(
    r"Traceback|File \"|SELECT |INSERT INTO|UPDATE .* SET|psycopg|sqlite3|django\.db|"
    r"IntegrityError|OperationalError|ProgrammingError",
)


@pytest.fixture
def world(two_districts: Tree, system: Actor) -> dict[str, Any]:
    """A small city: rulebook, persons in both districts, orders and assignments."""
    from fangkong.accounts.services import token_create
    from fangkong.assignments.tests.factories import assignment
    from fangkong.control.tests import factories as control

    t = two_districts
    control.rulebook(system)
    persons = [
        control.person(system, t.grid_a),
        control.person(system, t.grid_a2),
        control.person(system, t.grid_b),
    ]
    for who in persons[:2]:
        control.order(system, who, anchor=clock.local_date())
    assignment(system, t.grid_a)
    assignment(system, t.grid_b)
    _, secret = token_create(
        actor=system, name="fuzz", role="command_office", jurisdictions=[t.city]
    )
    return {"token": secret, "persons": persons}


@pytest.fixture
def _wsgi_in_test_transaction() -> Iterator[None]:
    """Keep the test's connection (and its transaction) across WSGI requests, as Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _schema() -> BaseSchema:
    """The document /api/openapi.json serves (checked below), sent to the WSGI application."""
    from fangkong.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


def test_served_schema_is_the_fuzzed_one(client: Client) -> None:
    from fangkong.api import api

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.content) == json.loads(json.dumps(api.get_openapi_schema()))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.usefixtures("_wsgi_in_test_transaction")
def test_api_fuzz(case: Any, world: dict[str, Any]) -> None:
    # Given to both calls, so that schemathesis's auth probes know these are the real credentials.
    auth = {"Authorization": f"Bearer {world['token']}"}
    response = case.call(headers=auth)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    leak = LEAK.search(response.text)
    assert leak is None, (case.method, case.formatted_path, leak.group(0), response.text[:500])
    # Not checked: whether requests are judged as the schema would. "Schema-valid request
    # rejected": the schemas give types and shapes, the services then refuse well-typed but wrong
    # input (an empty name, an ID number with a bad check digit, a status change the order's state
    # does not allow) with a documented 422/409. "Schema-violating request accepted": a negative
    # case may differ only in its Authorization header, which the real token above replaces, or
    # in a query value that does not survive serialization.
    case.validate_response(
        response,
        headers=auth,
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
