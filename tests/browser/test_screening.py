"""A grid worker on a phone-sized screen, in Debian's Chromium: opens the inbox of arrivals to
verify, opens one, records it as reached with a sample (tube barcode) and the rulebook's
measure, and the board of the grid shows it verified, sampled and under control. No request
leaves the application's origin and the Content-Security-Policy is never violated.

Like tests/browser/test_pages.py: no skip (a missing browser fails), the session comes from the
shared `login` fixture, and no database work happens while Playwright's loop runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.control.models import ControlOrder
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.core.tests.browser import PHONE, chromium
from fangkong.screening import services
from fangkong.screening.models import Arrival
from fangkong.screening.tests.factories import resident_id, rulebook


@pytest.mark.django_db(transaction=True)
def test_grid_worker_verifies_an_arrival_on_a_phone(
    live_server: LiveServer,
    login: Callable[[User], Client],
    settings: SettingsWrapper,
    two_districts: Tree,
) -> None:
    system = system_actor("browser test")
    rulebook(system)
    t = two_districts
    arrival = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id",
            doc_number=resident_id(),
            name="王小明",
            phone="13800000000",
            origin="北京市朝阳区",
            arrival_date=clock.local_date(),
            address="站南社区",
        ),
    )
    services.arrival_place(actor=system, arrival=arrival, grid=t.grid_a)
    worker = User.objects.create(username="browser_grid_worker", role="grid_worker")
    worker.jurisdictions.set([t.grid_a])
    session = login(worker).cookies[settings.SESSION_COOKIE_NAME].value
    base = live_server.url
    with chromium(
        live_server.url, session=session, viewport=PHONE, is_mobile=True, has_touch=True
    ) as (_context, page, recorder):
        page.goto(f"{base}/screening/inbox/", wait_until="networkidle")
        links = page.locator("#inbox a.arrival-link")
        assert links.count() == 1
        links.first.click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#verify-form").is_visible()
        page.locator("#verify-form input[name=reached][value='1']").check()
        page.locator("#verify-form input[name=sample_ref]").fill("TUBE-20220109-0001")
        page.locator("#verify-form input[name=apply_measure]").check()
        page.locator("#verify-form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#arrival-sample").text_content() == "TUBE-20220109-0001"
        assert page.locator("#arrival-order a").count() == 1
        recorder.collect_csp(page)

        page.goto(f"{base}/screening/?node={t.grid_a.code}", wait_until="networkidle")
        figures = {
            key: page.locator(f"#board-figures a[data-key={key}] strong").text_content()
            for key in ("received", "verified", "sampled", "under_control", "overdue")
        }
        recorder.collect_csp(page)
        page.goto(f"{base}/screening/inbox/", wait_until="networkidle")
        left = page.locator("#inbox a.arrival-link").count()
    assert figures == {
        "received": "1",
        "verified": "1",
        "sampled": "1",
        "under_control": "1",
        "overdue": "0",
    }
    assert left == 0
    done = Arrival.objects.get(pk=arrival.pk)
    assert done.status == "verified"
    assert done.order_id is not None
    assert ControlOrder.objects.filter(pk=done.order_id, basis_type="arrival").exists()
    assert recorder.foreign == []
    assert recorder.problems == []
