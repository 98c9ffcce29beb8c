"""Stored markup renders inert: names, addresses and free text that look like HTML or template
code come back escaped in full pages and in htmx partials.

The Content-Security-Policy (fangkong.core.csp) is the second line: even an unescaped payload
could not run. There are no charts yet; when ECharts tooltips arrive, their formatter must
escape too, and a test belongs here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.assignments.tests.factories import assignment
from fangkong.control.models import ControlOrder
from fangkong.control.tests import factories as control_factories
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.people import services as people_services
from fangkong.people.models import Person
from fangkong.people.tests.factories import resident_id
from fangkong.places import services as places_services
from fangkong.places.models import Place

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
PAYLOAD = f"{SCRIPT}{IMG}{TEMPLATE}"
RAW = ("<script>alert(1)", "<img src=x")  # as markup; escaped, they start with &lt;


def assert_inert(body: str, *, shown: bool = True) -> None:
    """No payload piece appears as markup; where the value is shown, it is shown escaped."""
    for piece in RAW:
        assert piece not in body, piece
    if shown:
        assert escape(PAYLOAD) in body


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen(control_factories.NOW):
        yield


@pytest.fixture
def officer(login: Callable[[User], Client], personas: dict[str, User]) -> Client:
    return login(personas["district_officer"])


@pytest.fixture
def resident(two_districts: Tree, system: Actor) -> Person:
    control_factories.rulebook(system)
    person, _ = people_services.person_register(
        actor=system,
        grid=two_districts.grid_a,
        doc_type="resident_id",
        doc_number=resident_id(),
        name=PAYLOAD,
        address=PAYLOAD,
    )
    return person


def test_a_name_and_address_render_escaped_on_the_person_page_and_the_reveal_partial(
    officer: Client, resident: Person
) -> None:
    page = officer.get(reverse("people:detail", args=[resident.pk]))
    assert page.status_code == 200
    assert_inert(page.content.decode(), shown=False)  # masked on the page
    partial = officer.post(
        reverse("people:reveal", args=[resident.pk]), {"reason": "visit"}, HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "<html" not in body  # a partial, not a page
    assert_inert(body)
    assert body.count(escape(PAYLOAD)) >= 2  # name and address


def test_search_results_render_a_name_escaped(officer: Client, resident: Person) -> None:
    response = officer.post(reverse("people:search"), {"q": resident.doc_number})
    assert response.status_code == 200
    assert reverse("people:detail", args=[resident.pk]) in response.content.decode()
    assert_inert(response.content.decode(), shown=False)


def test_a_note_renders_escaped(officer: Client, resident: Person, system: Actor) -> None:
    people_services.person_note_add(actor=system, person=resident, text=PAYLOAD)
    response = officer.get(reverse("people:detail", args=[resident.pk]))
    assert_inert(response.content.decode())


def test_a_place_name_and_address_render_escaped(officer: Client, two_districts: Tree) -> None:
    from conftest import actor_of

    place = places_services.place_create(
        actor=actor_of(User.objects.get(username="district_officer")),
        jurisdiction=two_districts.grid_a,
        kind="mall",
        name=PAYLOAD[:120],
        address=PAYLOAD,
    )
    assert Place.objects.filter(pk=place.pk, name=PAYLOAD).exists()
    assert_inert(officer.get(reverse("places:detail", args=[place.pk])).content.decode())
    listing = officer.get(reverse("places:list")).content.decode()
    assert_inert(listing)
    partial = officer.get(reverse("places:list"), HTTP_HX_REQUEST="true").content.decode()
    assert_inert(partial)


def test_an_assignment_title_and_outcome_render_escaped_in_the_page_and_the_panel(
    officer: Client, two_districts: Tree, system: Actor, resident: Person
) -> None:
    item: Assignment = assignment(system, two_districts.grid_a, title=PAYLOAD)
    page = officer.get(reverse("assignments:detail", args=[item.pk]))
    assert_inert(page.content.decode())
    inbox = officer.get(reverse("assignments:inbox")).content.decode()
    assert_inert(inbox)
    panel = officer.post(
        reverse("assignments:complete", args=[item.pk]),
        {"outcome": PAYLOAD},
        HTTP_HX_REQUEST="true",
    )
    assert panel.status_code == 200
    body = panel.content.decode()
    assert "<html" not in body
    assert_inert(body)


def test_an_order_reason_renders_escaped(officer: Client, resident: Person, system: Actor) -> None:
    order: ControlOrder = control_factories.order(system, resident, reason=PAYLOAD)
    page = officer.get(reverse("control:order", args=[order.pk])).content.decode()
    assert_inert(page)
    person_page = officer.get(reverse("control:person", args=[resident.pk])).content.decode()
    assert_inert(person_page, shown=False)
    listing = officer.get(reverse("control:list")).content.decode()
    assert_inert(listing, shown=False)


def test_the_api_returns_stored_markup_as_data(officer: Client, resident: Person) -> None:
    """JSON is not HTML: the value comes back as it was stored, with a JSON content type."""
    response = officer.post(
        f"/api/people/{resident.pk}/reveal",
        '{"reason": "visit"}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"] == PAYLOAD
