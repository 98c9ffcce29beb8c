"""The sampler's phone page in Debian's Chromium on a phone viewport: scans recorded while the
network is down are kept in the browser and sent when it returns; a batch sent again (its
answer lost) is answered "duplicate". The database then holds every scan exactly once.

Like tests/browser/test_pages.py: no skip (a missing browser fails), the session comes from
the shared `login` fixture, and no database work happens while Playwright's loop runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, Request
from pytest_django.live_server_helper import LiveServer

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import system_actor
from fangkong.core.tests.browser import PHONE, chromium
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing import services
from fangkong.mass_testing.models import Sample, Tube
from fangkong.people.models import Person
from fangkong.policy.editions import edition_text
from fangkong.policy.services import rulebook_publish
from fangkong.simulation.city import city_generate


def _record(page: Page, barcode: str, doc: str) -> None:
    page.fill("#barcode", barcode)
    page.fill("#doc", doc)
    page.click("#record")


def _wait_counts(page: Page, pending: int, sent: int) -> None:
    page.wait_for_function(
        "([p, s]) => document.getElementById('pending-count').textContent === String(p)"
        " && document.getElementById('sent-count').textContent === String(s)",
        arg=[pending, sent],
        timeout=30_000,
    )


@pytest.mark.django_db(transaction=True)
def test_sampler_page_keeps_scans_offline_and_sends_each_once(
    live_server: LiveServer, login: Callable[[User], Client]
) -> None:
    demo = system_actor("browser")
    city_generate(population=200, seed=1)
    rulebook_publish(actor=demo, text=edition_text("ninth-edition-2022"), note="browser test")
    district = Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code").first()
    assert district is not None
    rnd = services.round_create(
        actor=demo,
        name="浏览器测试轮次",
        areas=[(district, "general")],
        starts_at=clock.now() - dt.timedelta(hours=1),
    )
    people = list(
        Person.objects.filter(jurisdiction_path__startswith=district.path).order_by("pk")[:5]
    )
    assert len(people) == 5
    docs = [p.doc_number for p in people]
    sampler = User.objects.create(username="browser_sampler", role="district_staff")
    sampler.jurisdictions.set([district])
    session = login(sampler).cookies[settings.SESSION_COOKIE_NAME].value
    url = live_server.url + reverse("mass_testing:sampler", args=[rnd.pk])
    bodies: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/scans" in request.url and request.post_data:
            bodies.append(request.post_data)

    with chromium(
        live_server.url, session=session, viewport=PHONE, is_mobile=True, has_touch=True
    ) as (context, page, _recorder):
        page.on("request", on_request)
        response = page.goto(url, wait_until="networkidle")
        assert response is not None
        assert response.status == 200
        context.set_offline(True)
        for doc in docs[:3]:
            _record(page, "BRW00001", doc)
        _wait_counts(page, pending=3, sent=0)
        assert bodies == []  # nothing could leave the phone
        page.wait_for_timeout(2500)  # a retry comes and goes while offline
        _wait_counts(page, pending=3, sent=0)
        context.set_offline(False)
        _wait_counts(page, pending=0, sent=3)
        context.set_offline(True)
        for doc in docs[3:]:
            _record(page, "BRW00001", doc)
        _wait_counts(page, pending=2, sent=3)
        context.set_offline(False)
        _wait_counts(page, pending=0, sent=5)
        # A batch whose answer was lost is sent again as it was: every scan "duplicate".
        answers = page.evaluate(
            """async ([endpoint, body]) => {
                const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
                const r = await fetch(endpoint, {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body});
                return (await r.json()).answers.map(a => a.outcome);
            }""",
            [reverse("api:mass_testing_scans", args=[rnd.pk]), bodies[0]],
        )
        outcomes = page.locator("#log li").evaluate_all("els => els.map(e => e.dataset.outcome)")
        shown = page.locator("#log li").all_text_contents()
    assert answers == ["duplicate"] * len(json.loads(bodies[0])["scans"])
    assert outcomes == ["accepted"] * 5
    assert all(text.endswith("已记录") for text in shown), shown  # the sampler reads Chinese
    rows = list(Sample.objects.filter(round=rnd).values_list("person_id", "client_id"))
    assert sorted(p for p, _ in rows) == sorted(p.pk for p in people)  # none lost
    assert len({c for _, c in rows}) == len(rows) == 5  # none doubled
    assert Tube.objects.get(barcode="BRW00001").members == 5
