"""The person pages: masked by default, full values only through the logged reveal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.people import services
from fangkong.people.models import Person, PersonNote
from fangkong.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "欧阳明月", "13822223333", "茂南区红旗街道站南路12号3栋502"


@pytest.fixture
def resident(two_districts: Tree, system: Actor) -> Person:
    return person(
        system,
        two_districts.grid_a,
        doc_number=resident_id(birth=dt.date(1988, 8, 8), seq=11),
        name=NAME,
        phone=PHONE,
        address=ADDRESS,
        sex="F",  # the number says M: flagged
    )


def _assert_masked(html: str, p: Person) -> None:
    for secret in (NAME, PHONE, ADDRESS, p.doc_number, "1988-08-08", "19880808"):
        assert secret not in html, secret


def test_person_page_shows_masked_values_and_the_mismatch_flag(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    response = client.get(reverse("people:detail", args=[resident.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    _assert_masked(html, resident)
    assert "欧阳**" in html
    assert "138****3333" in html
    assert "flag" in html
    assert 'hx-post="' + reverse("people:reveal", args=[resident.pk]) in html
    assert "style=" not in html
    assert "<script>" not in html


def test_reveal_returns_the_partial_with_full_values_and_logs_it(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    url = reverse("people:reveal", args=[resident.pk])
    response = client.post(url, {"reason": "home visit"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a partial
    for value in (NAME, PHONE, ADDRESS, resident.doc_number, "1988-08-08"):
        assert value in html
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="people.reveal")
    assert (entry.reason, entry.actor_label) == ("home visit", "district_officer")


def test_reveal_without_reason_shows_the_form_again_and_logs_nothing(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    url = reverse("people:reveal", args=[resident.pk])
    response = client.post(url, {"reason": "  "}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    _assert_masked(response.content.decode(), resident)
    assert not AuditEntry.objects.filter(action="people.reveal").exists()


def test_search_page_finds_by_document_phone_and_name_masked(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["district_officer"])
    for q in (resident.doc_number, "138 2222 3333", NAME):
        response = client.post(reverse("people:search"), {"q": q})
        html = response.content.decode()
        assert response.status_code == 200
        assert reverse("people:detail", args=[resident.pk]) in html, q
        _assert_masked(html.replace(f'value="{q}"', ""), resident)
    bad = client.post(reverse("people:search"), {"q": "4.40106E+17"})
    assert "Excel" in bad.content.decode()


def test_search_and_list_page_query_count_does_not_grow_with_rows(
    login: Callable[[User], Client],
    personas: dict[str, User],
    two_districts: Tree,
    system: Actor,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for i in range(60):
        person(system, two_districts.grid_a, name=f"列表{i}")
    client = login(personas["district_officer"])
    # session, user, scope, the page of persons (+ savepoints and session save)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("people:search"))
    assert response.status_code == 200
    assert response.context["next_before"] is not None
    with django_assert_max_num_queries(16):  # plus the audited search
        client.post(reverse("people:search"), {"q": "列表7"})


def test_register_page_creates_a_person_and_flags_the_mismatch(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree
) -> None:
    client = login(personas["grid_worker"])
    form = client.get(reverse("people:register"))
    assert two_districts.grid_a.code in form.content.decode()  # the worker's grid, prefilled
    number = resident_id(birth=dt.date(2001, 2, 3), seq=21)
    response = client.post(
        reverse("people:register"),
        {
            "doc_type": "resident_id",
            "doc_number": number,
            "name": "新登记",
            "sex": "F",
            "phone": "139-0000-0000",
            "grid_code": two_districts.grid_a.code,
        },
    )
    assert response.status_code == 302
    created = Person.objects.get()
    assert created.id_mismatch
    assert created.sex == "M"


def test_register_page_explains_an_invalid_number(
    login: Callable[[User], Client], personas: dict[str, User], two_districts: Tree
) -> None:
    client = login(personas["grid_worker"])
    response = client.post(
        reverse("people:register"),
        {
            "doc_type": "resident_id",
            "doc_number": "440902199001011230",
            "name": "错号",
            "grid_code": two_districts.grid_a.code,
        },
    )
    assert response.status_code == 422
    assert "check digit" in response.content.decode()
    assert not Person.objects.exists()


def test_notes_are_added_from_the_person_page(
    login: Callable[[User], Client], personas: dict[str, User], resident: Person
) -> None:
    client = login(personas["grid_worker"])
    url = reverse("people:note_add", args=[resident.pk])
    assert client.post(url, {"text": "上门核实，居家"}).status_code == 302
    note = PersonNote.objects.get()
    assert (note.person_id, note.author_label) == (resident.pk, "grid_worker")
    page = client.get(reverse("people:detail", args=[resident.pk])).content.decode()
    assert "上门核实，居家" in page


def test_merged_record_page_redirects_to_the_survivor(
    login: Callable[[User], Client],
    personas: dict[str, User],
    resident: Person,
    two_districts: Tree,
    system: Actor,
) -> None:
    duplicate = person(system, two_districts.grid_a, name=NAME)
    services.person_merge(actor=system, survivor=resident, duplicate=duplicate, reason="dup")
    client = login(personas["district_officer"])
    response = client.get(reverse("people:detail", args=[duplicate.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[resident.pk])
    api = client.get(f"/api/people/{duplicate.pk}").json()
    assert api["merged_into_id"] == resident.pk
