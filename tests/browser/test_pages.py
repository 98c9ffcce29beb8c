"""Every main page of the demo, in Debian's Chromium: nothing loads from another origin, and
the Content-Security-Policy is never violated (no inline script or style, no eval).

The browser is /usr/bin/chromium driven by Playwright (CI installs the Debian package; there is
no skip: a missing browser fails the test). The city is the demo's, small: the same building
blocks `fangkong demo` calls. The session comes from the shared `login` fixture, so the test
signs in exactly as the rest of the suite does (password and second step passed), and the
sign-in page itself is opened anonymously first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from fangkong.accounts.models import User
from fangkong.control.demo import demo_orders_issue
from fangkong.control.models import ControlOrder
from fangkong.core.actor import system_actor
from fangkong.core.tests.browser import Recorder, add_session, chromium
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.places.models import Place
from fangkong.policy.editions import edition_text
from fangkong.policy.services import rulebook_publish
from fangkong.simulation.city import city_generate


@dataclass
class Demo:
    officer: User
    pages: list[str]


def _demo_city() -> Demo:
    """A small demo city and the main pages a district officer opens."""
    demo = system_actor("demo")
    city_generate(population=300, seed=1)
    rulebook_publish(actor=demo, text=edition_text("ninth-edition-2022"), note="browser test")
    demo_orders_issue(actor=demo, per_district=5)
    order = ControlOrder.objects.order_by("pk").first()
    assert order is not None, "the demo issued no control orders"
    district = Jurisdiction.objects.get(code=order.jurisdiction_path.strip("/").split("/")[1])
    assert district.level == Level.DISTRICT
    officer = User.objects.create(username="browser_officer", role="district_staff")
    officer.jurisdictions.set([district])
    place = Place.objects.filter(jurisdiction_path__startswith=district.path).first()
    assert place is not None
    pages = [
        reverse("command:home"),
        reverse("people:search"),
        reverse("people:detail", args=[order.person_id]),
        reverse("jurisdictions:tree"),
        reverse("jurisdictions:detail", args=[district.code]),
        reverse("places:list"),
        reverse("places:detail", args=[place.pk]),
        reverse("assignments:inbox"),
        reverse("assignments:board", args=[district.code]),
        reverse("control:list"),
        reverse("control:person", args=[order.person_id]),
        reverse("control:order", args=[order.pk]),
        reverse("control:approvals"),
        reverse("control:tests_due"),
        reverse("notifications:list"),
        "/api/docs",
    ]
    return Demo(officer, pages)


def _visit(page: Page, url: str, recorder: Recorder) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None, url
    assert response.status == 200, f"{url}: {response.status}"
    header = response.headers.get("content-security-policy", "")
    assert "'nonce-" in header, f"{url}: no CSP header"
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    recorder.collect_csp(page, url)


@pytest.mark.django_db(transaction=True)
def test_every_main_page_loads_only_from_the_application_without_csp_violations(
    live_server: LiveServer, login: Callable[[User], Client]
) -> None:
    demo = _demo_city()
    session = login(demo.officer).cookies[settings.SESSION_COOKIE_NAME].value
    with chromium(live_server.url) as (context, page, recorder):
        _visit(page, live_server.url + reverse("accounts:login"), recorder)
        assert page.locator("main button[type=submit]").count() >= 1
        add_session(context, live_server.url, session)
        for url in demo.pages:
            _visit(page, live_server.url + url, recorder)
            assert "/accounts/" not in page.url, f"{url}: sent to {page.url}"
    assert len(recorder.paths) > len(demo.pages)  # pages, and their css, js and htmx requests
    # htmx ran under the policy: the top bar's badge is loaded by htmx on every page
    assert reverse("notifications:badge") in recorder.paths
    assert recorder.foreign == []
    assert recorder.violations == []
    assert recorder.errors == []
