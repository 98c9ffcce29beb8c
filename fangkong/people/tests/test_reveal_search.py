"""Full values leave only through a logged reveal; searches are exact and logged."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid, NotAllowed, NotFound
from fangkong.people import selectors, services
from fangkong.people.masked import PersonView
from fangkong.people.tests.factories import person, resident_id

pytestmark = pytest.mark.django_db


def test_reveal_returns_full_values_and_logs_the_reason(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    number = resident_id()
    p = person(system, two_districts.grid_a, doc_number=number, name="钱七", phone="13512345678")
    officer = actor_of(personas["district_officer"])
    full = services.person_reveal(actor=officer, person=p, reason="  home visit  ")
    assert (full.name, full.doc_number, full.phone) == ("钱七", number, "13512345678")
    entry = AuditEntry.objects.get(action="people.reveal")
    assert (entry.reason, entry.actor_label, entry.target_id) == (
        "home visit",
        "district_officer",
        str(p.pk),
    )
    assert number not in str(entry.detail)


def test_reveal_without_a_reason_is_refused_and_not_logged(
    two_districts: Tree, system: Actor
) -> None:
    p = person(system, two_districts.grid_a)
    before = AuditEntry.objects.count()
    with pytest.raises(Invalid):
        services.person_reveal(actor=system, person=p, reason="   ")
    assert AuditEntry.objects.count() == before


def test_reveal_needs_the_full_view_permission_and_the_scope(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    p = person(system, two_districts.grid_a)
    before = AuditEntry.objects.count()
    with pytest.raises(NotAllowed):
        services.person_reveal(actor=actor_of(personas["other_role"]), person=p, reason="x")
    with pytest.raises(NotFound):
        services.person_reveal(
            actor=actor_of(personas["sibling_district_officer"]), person=p, reason="x"
        )
    assert AuditEntry.objects.count() == before


def test_masked_view_hides_the_values(two_districts: Tree, system: Actor) -> None:
    number = resident_id(seq=123)
    p = person(
        system,
        two_districts.grid_a,
        doc_number=number,
        name="孙小八",
        phone="13812345678",
        address="茂南区红旗街道站南路12号3栋502",
    )
    view = PersonView.of(selectors.person_get(scope=system.scope, person_id=p.pk))
    assert view.doc_number == "4409**********" + number[-4:]
    assert view.phone == "138****5678"
    assert view.name == "孙**"
    assert "502" not in view.address
    assert view.birth_year == 1990
    assert view.grid_code == two_districts.grid_a.code


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("13812345678", "phone"),
        ("+86 138-1234-5678", "phone"),
        ("440902199001011236", "document"),
        ("E12345678", "document"),
        ("孙小八", "name"),
        ("John Smith", "name"),
    ],
)
def test_search_box_decides_what_was_typed(query: str, kind: str) -> None:
    assert services.classify_query(query) == kind


def test_search_finds_exact_matches_within_scope_and_logs_no_plaintext(
    two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    number = resident_id()
    mine = person(system, two_districts.grid_a, doc_number=number, name="周九", phone="13911112222")
    person(system, two_districts.grid_b, name="周九", phone="13911112222")
    officer = actor_of(personas["district_officer"])
    for query in (number.lower(), "139 1111 2222", "周 九"):
        result = services.person_search(actor=officer, query=query)
        assert [p.pk for p in result.people] == [mine.pk], query
    assert services.person_search(actor=officer, query="周").people == []  # exact only
    entries = AuditEntry.objects.filter(action__startswith="people.search_").order_by("seq")
    assert [e.action for e in entries] == [
        "people.search_document",
        "people.search_phone",
        "people.search_name",
        "people.search_name",
    ]
    logged = " ".join(str(e.detail) + e.reason for e in entries)
    for secret in (number, "13911112222", "周九"):
        assert secret not in logged


def test_selectors_stay_within_a_fixed_number_of_queries(
    two_districts: Tree, system: Actor, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for i in range(30):
        person(system, two_districts.grid_a, name=f"批量{i}", phone=f"1370000{i:04d}")
    scope = system.scope
    with django_assert_max_num_queries(1):
        page = selectors.person_list(scope=scope, limit=20)
        views = [PersonView.of(p) for p in page.items]
    assert len(views) == 20
    assert page.next_before is not None
    with django_assert_max_num_queries(1):
        rest = selectors.person_list(scope=scope, before=page.next_before, limit=20)
        [PersonView.of(p) for p in rest.items]
    assert len(rest.items) == 10
    assert rest.next_before is None
    assert not {p.pk for p in page.items} & {p.pk for p in rest.items}
    with django_assert_max_num_queries(1):
        [PersonView.of(p) for p in selectors.person_find_by_name(scope=scope, name="批量3")]
    # The lookup, then the audit entry (head read, insert, head update) and savepoints.
    with django_assert_max_num_queries(8):
        services.person_search(actor=system, query="13700000007")
