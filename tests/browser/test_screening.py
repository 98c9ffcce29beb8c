"""A grid worker on a phone-sized screen, in Debian's Chromium: opens the inbox of arrivals to
verify, opens one, records it as reached with a sample (tube barcode) and the rulebook's
measure, and the board of the grid shows it verified, sampled and under control. No request
leaves the application's origin and the Content-Security-Policy is never violated.

Like tests/browser/test_pages.py: no skip (a missing browser fails), the session comes from the
shared `login` fixture, and no database work happens while Playwright's loop runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import ConsoleMessage, ViewportSize, sync_playwright
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.control.models import ControlOrder
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.screening import services
from fangkong.screening.models import Arrival
from fangkong.screening.tests.factories import resident_id, rulebook

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.mark.django_db(transaction=True)
def test_grid_worker_verifies_an_arrival_on_a_phone(
    live_server: LiveServer,
    login: Callable[[User], Client],
    settings: SettingsWrapper,
    two_districts: Tree,
) -> None:
    assert CHROMIUM.exists(), (
        "Debian's chromium is required: apt-get install -y chromium fonts-noto-cjk"
    )
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
    host = urlsplit(base).hostname or "localhost"
    foreign: list[str] = []
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or (
            message.type == "error" and not message.text.startswith("Failed to load resource")
        ):
            problems.append(message.text)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
            )
            context.add_init_script(CSP_LISTENER)
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session,
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
            context.on(
                "request",
                lambda r: (
                    foreign.append(r.url)
                    if not r.url.startswith(base) and not r.url.startswith(("data:", "about:"))
                    else None
                ),
            )
            context.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and urlsplit(r.url).path != "/favicon.ico"
                    else None
                ),
            )
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda exc: problems.append(str(exc)))

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
            problems.extend(page.evaluate("window.__cspViolations"))

            page.goto(f"{base}/screening/?node={t.grid_a.code}", wait_until="networkidle")
            figures = {
                key: page.locator(f"#board-figures a[data-key={key}] strong").text_content()
                for key in ("received", "verified", "sampled", "under_control", "overdue")
            }
            problems.extend(page.evaluate("window.__cspViolations"))
            page.goto(f"{base}/screening/inbox/", wait_until="networkidle")
            left = page.locator("#inbox a.arrival-link").count()
        finally:
            browser.close()
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
    assert foreign == []
    assert problems == []
