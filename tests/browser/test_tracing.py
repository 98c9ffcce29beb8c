"""The investigator's pages in Debian's Chromium: the demo cluster's transmission graph is drawn
by the tracing module's own script (nodes for every case, contact and venue), reacts to the
pointer, and no page violates the Content-Security-Policy or loads from another origin.

Like tests/browser/test_pages.py: no skip (a missing browser fails), the session comes from the
shared `login` fixture, and no database work happens while Playwright's loop runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.core.scope import Scope
from fangkong.core.tests.browser import DESKTOP, chromium
from fangkong.people.models import Person
from fangkong.policy.editions import edition_text
from fangkong.policy.services import rulebook_publish
from fangkong.simulation.city import city_generate
from fangkong.tracing import chains
from fangkong.tracing.demo import demo_run
from fangkong.tracing.models import Case, Cluster
from fangkong.tracing.tests.lakes import lake_with


@pytest.mark.django_db(transaction=True)
def test_cluster_graph_and_investigator_pages_in_chromium(
    live_server: LiveServer,
    login: Callable[[User], Client],
    settings: SettingsWrapper,
    tmp_path: Path,
) -> None:
    settings.LAKE_DIR = tmp_path
    demo = system_actor("demo")
    city_generate(population=300, seed=1)
    rulebook_publish(actor=demo, text=edition_text("ninth-edition-2022"), note="browser test")
    # Everyone in the first district scans one market each morning: co-presence for the demo.
    people = list(
        Person.objects.order_by("jurisdiction_path", "pk").values_list("pk", flat=True)[:60]
    )
    now = clock.now()
    scans = [
        (p, 424242, now - dt.timedelta(days=d, minutes=3 * i))
        for d in range(1, 8)
        for i, p in enumerate(people)
    ]
    lake_with(tmp_path, scans)
    assert demo_run(actor=demo, seed=3)
    cluster = Cluster.objects.get(basis_type="demo")
    case = Case.objects.filter(cluster=cluster).order_by("pk").first()
    assert case is not None
    graph = chains.cluster_graph(scope=Scope.system(), cluster=cluster)
    district = cluster.jurisdiction
    officer = User.objects.create(username="browser_investigator", role="investigator")
    officer.jurisdictions.set([district])
    session = login(officer).cookies[settings.SESSION_COOKIE_NAME].value
    pages = [
        reverse("tracing:cases"),
        reverse("tracing:case", args=[case.pk]),
        reverse("tracing:contacts", args=[case.pk]),
        reverse("tracing:clusters"),
        reverse("tracing:kpis"),
        reverse("tracing:cluster", args=[cluster.pk]),
    ]
    with chromium(live_server.url, session=session, viewport=DESKTOP) as (_context, page, recorder):
        for url in pages:
            response = page.goto(live_server.url + url, wait_until="networkidle")
            assert response is not None
            assert response.status == 200, url
            recorder.collect_csp(page)
        # The graph: one shape per node, one line per link, drawn by graph.js.
        shapes = page.locator("#tracing-graph circle, #tracing-graph rect")
        assert shapes.count() == len(graph["nodes"])
        assert page.locator("#tracing-graph line").count() == len(graph["links"])
        data = json.loads(page.locator("#tracing-graph-data").text_content() or "{}")
        assert len(data["nodes"]) == len(graph["nodes"])
        # The layout ran: circles have moved off their starting ring and sit inside the box.
        page.wait_for_timeout(500)
        cx = float(page.locator("#tracing-graph circle").first.get_attribute("cx") or "-1")
        assert 0 < cx < 900
        page.locator("#tracing-graph circle").first.hover()
        assert page.locator("#tracing-graph-info").text_content()
    assert recorder.foreign == []
    assert recorder.problems == []
