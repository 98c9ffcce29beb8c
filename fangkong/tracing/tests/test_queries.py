"""List pages and the API lists read a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Tree, signed_in
from fangkong.accounts.models import User
from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion
from fangkong.tracing import services
from fangkong.tracing.models import Case
from fangkong.tracing.tests import factories


def _add_cases(system: Actor, tree: Tree, n: int) -> list[Case]:
    cases = []
    for _ in range(n):
        case = factories.case(system, factories.person_in(system, tree.grid_a))
        for _ in range(2):
            other = factories.person_in(system, tree.grid_a2)
            services.contact_add(
                system,
                case=case,
                person_id=other.pk,
                exposure="venue",
                first_exposure_at=NOW - dt.timedelta(hours=5),
                venue_id=7,
            )
        cases.append(case)
    return cases


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_list_pages_do_not_grow_with_rows(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    client = signed_in(Client(), personas["district_officer"], verified=True)
    first = _add_cases(system, two_districts, 2)
    urls = [
        "/tracing/",
        "/api/tracing/cases",
        f"/tracing/cases/{first[0].pk}/contacts/",
        "/tracing/kpis/",
        "/api/tracing/kpis",
    ]
    small = [_queries(client, u) for u in urls]
    more = _add_cases(system, two_districts, 4)
    for c in more:
        for edge in c.contacts.all():
            services.contact_add(
                system,
                case=first[0],
                person_id=edge.person_id,
                exposure="venue",
                first_exposure_at=NOW - dt.timedelta(hours=4),
                venue_id=8,
            )
    large = [_queries(client, u) for u in urls]
    assert large == small
