"""Contacts: direct entries, engine candidates confirmed in bulk into orders in the right grid
or another district's assist inbox, second-degree windows, multi-case links, chains."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.control.models import ControlOrder
from fangkong.control.tests.factories import NOW
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.people.models import Person
from fangkong.screening.models import AssistItem, AssistRequest
from fangkong.tracing import services
from fangkong.tracing.models import Case, Contact
from fangkong.tracing.tests import factories
from fangkong.tracing.tests.lakes import lake_with

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
TZ = NOW.tzinfo


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2022, 1, day, hour, minute, tzinfo=TZ)


def _order(edge: Contact) -> ControlOrder:
    return ControlOrder.objects.get(pk=int(edge.order_id or 0))


def test_household_contact_is_a_contact_at_once_with_order_and_work_in_their_grid(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    case = factories.case(system, resident)
    member = factories.person_in(system, two_districts.grid_a2)
    edge = services.contact_add(
        system,
        case=case,
        person_id=member.pk,
        exposure="household",
        first_exposure_at=at(5, 20),
        last_exposure_at=NOW - H,
    )
    edge.refresh_from_db()
    assert (edge.status, edge.category, edge.degree) == ("confirmed", "close", 1)
    order = _order(edge)
    assert (order.category, order.basis_type, order.basis_id) == (
        "close_contact",
        "contact",
        str(edge.pk),
    )
    assert order.anchor_date == dt.date(2022, 1, 10)  # counted from the last exposure
    work = Assignment.objects.get(subject_type="control.order", subject_id=str(order.pk))
    assert (work.kind, work.jurisdiction_id) == ("isolate_close_contact", two_districts.grid_a2.pk)
    assert edge.isolated_at == NOW


def test_a_venue_entry_is_a_candidate_until_confirmed(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    case = factories.case(system, resident)
    other = factories.person_in(system, two_districts.grid_a)
    edge = services.contact_add(
        system, case=case, person_id=other.pk, exposure="venue", first_exposure_at=at(8, 12)
    )
    assert (edge.status, edge.order_id) == ("candidate", None)
    assert services.contacts_dismiss(system, contact_ids=[edge.pk], reason="sat outside") == 1
    edge.refresh_from_db()
    assert edge.status == "dismissed"


def test_engine_candidates_confirmed_in_bulk_get_orders_here_and_assist_requests_elsewhere(
    resident: Person, personas: dict[str, User], system: Actor, two_districts: Tree, tmp_path: Path
) -> None:
    officer = actor_of(personas["district_officer"])
    case = factories.case(officer, resident)
    y1 = factories.person_in(system, two_districts.grid_a2)
    y2 = factories.person_in(system, two_districts.grid_b)
    y3 = factories.person_in(system, two_districts.grid_a)
    lake = lake_with(
        tmp_path,
        [
            (resident.pk, 6001, at(8, 12)),
            (y1.pk, 6001, at(8, 12, 10)),
            (y2.pk, 6001, at(8, 12, 20)),
            (y3.pk, 6001, at(8, 13, 0) + M),  # 31 min after: outside the ±30 min window
        ],
    )
    run = services.copresence_run(officer, case=case, source=lake)
    assert (run.candidates, run.created) == (2, 2)
    edges = {e.person_id: e for e in Contact.objects.filter(case=case)}
    assert set(edges) == {y1.pk, y2.pk}
    assert {e.status for e in edges.values()} == {"candidate"}
    assert {e.category for e in edges.values()} == {"copresence"}
    assert edges[y1.pk].venue_id == 6001
    assert edges[y1.pk].first_exposure_at == at(8, 12, 10)

    # The sibling district cannot confirm district A's candidates: nothing happens.
    sibling = actor_of(personas["sibling_district_officer"])
    result = services.contacts_confirm(
        sibling, contact_ids=[e.pk for e in edges.values()], reason="x"
    )
    assert (result.confirmed, result.skipped) == (0, 2)

    result = services.contacts_confirm(
        officer,
        contact_ids=[e.pk for e in edges.values()],
        reason="shared the dining hall",
        category="close",
    )
    assert (result.confirmed, result.orders, len(result.assist_requests)) == (2, 1, 1)
    e1, e2 = (Contact.objects.get(pk=edges[p].pk) for p in (y1.pk, y2.pk))
    assert (e1.status, e1.category) == ("confirmed", "close")
    work = Assignment.objects.get(subject_type="control.order", subject_id=str(e1.order_id))
    assert (work.kind, work.jurisdiction_id) == ("isolate_close_contact", two_districts.grid_a2.pk)
    # The contact staying in district B: no order from A, an item in B's assist inbox.
    assert e2.order_id is None
    request = AssistRequest.objects.get(pk=int(e2.assist_request_id or 0))
    assert request.jurisdiction_path == two_districts.district_b.path
    assert (request.basis_type, request.basis_id) == ("tracing.case", str(case.pk))
    item = AssistItem.objects.get(request=request)
    assert (item.category, item.sender_person_id) == ("close_contact", y2.pk)

    # A retried confirmation confirms nothing twice.
    before = (ControlOrder.objects.count(), AssistItem.objects.count(), Assignment.objects.count())
    again = services.contacts_confirm(officer, contact_ids=[e1.pk, e2.pk], reason="retry")
    assert (again.confirmed, again.skipped) == (0, 2)
    assert (
        ControlOrder.objects.count(),
        AssistItem.objects.count(),
        Assignment.objects.count(),
    ) == before
    # A second run finds nobody new: linked people are left out.
    assert services.copresence_run(officer, case=case, source=lake).created == 0


def test_second_degree_counts_only_from_first_exposure_until_isolation(
    resident: Person, system: Actor, two_districts: Tree, tmp_path: Path
) -> None:
    # Case and its household contact C were registered yesterday at 09:00; C was isolated then.
    with clock.frozen(NOW - 24 * H):
        case = factories.case(system, resident, sampled_at=NOW - 34 * H)
        c = factories.person_in(system, two_districts.grid_a)
        close = services.contact_add(
            system,
            case=case,
            person_id=c.pk,
            exposure="household",
            first_exposure_at=at(7, 12),
            last_exposure_at=at(8, 20),
        )
    close.refresh_from_db()
    assert close.isolated_at == at(9, 9)
    xs = [factories.person_in(system, two_districts.grid_a) for _ in range(5)]
    lake = lake_with(
        tmp_path,
        [
            (c.pk, 5001, at(7, 11)),  # before C's first exposure
            (xs[0].pk, 5001, at(7, 11, 10)),
            (c.pk, 5001, at(8, 15)),  # inside
            (xs[1].pk, 5001, at(8, 15, 20)),
            (c.pk, 5001, at(9, 10)),  # after C was isolated
            (xs[2].pk, 5001, at(9, 10, 5)),
            (c.pk, 5002, at(9, 9)),  # exactly at isolation: counts
            (xs[3].pk, 5002, at(9, 9, 30)),  # exactly the window apart: counts
            (xs[4].pk, 5002, at(9, 9, 31)),  # one minute more: does not
        ],
    )
    run = services.copresence_run(system, case=case, degree=2, source=lake)
    seconds = {e.person_id: e for e in Contact.objects.filter(case=case, degree=2)}
    assert set(seconds) == {xs[1].pk, xs[3].pk}
    assert run.created == 2
    for e in seconds.values():
        assert (e.via_id, e.category, e.status) == (close.pk, "secondary", "candidate")
    result = services.contacts_confirm(
        system, contact_ids=[e.pk for e in seconds.values()], reason="secondary"
    )
    assert result.orders == 2
    assert {_order(Contact.objects.get(pk=e.pk)).category for e in seconds.values()} == {
        "secondary_contact"
    }


def test_a_person_linked_to_two_cases_has_two_edges_and_one_active_order(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    other_case_person = factories.person_in(system, two_districts.grid_a2)
    case1 = factories.case(system, resident)
    case2 = factories.case(system, other_case_person)
    shared = factories.person_in(system, two_districts.grid_a)
    e1 = services.contact_add(
        system, case=case1, person_id=shared.pk, exposure="meal", first_exposure_at=at(8, 12)
    )
    e2 = services.contact_add(
        system, case=case2, person_id=shared.pk, exposure="workplace", first_exposure_at=at(9, 9)
    )
    assert Contact.objects.filter(person=shared, status="confirmed").count() == 2
    active = ControlOrder.objects.filter(person=shared, status__in=["issued", "in_effect"])
    assert active.count() == 1
    e1.refresh_from_db()
    e2.refresh_from_db()
    assert e1.order_id is not None
    assert e2.order_id is not None
    # Adding the same person to a case again widens that edge, never a second edge.
    services.contact_add(
        system, case=case1, person_id=shared.pk, exposure="venue", first_exposure_at=at(6, 8)
    )
    e1.refresh_from_db()
    assert (Contact.objects.filter(case=case1, person=shared).count(), e1.first_exposure_at) == (
        1,
        at(6, 8),
    )
    assert e1.category == "close"


def test_a_contact_testing_positive_becomes_a_case_and_the_chain_extends(
    resident: Person, system: Actor, two_districts: Tree
) -> None:
    cluster = services.cluster_open(
        system,
        jurisdiction_code="440902",
        name="A",
        person_ids=[resident.pk],
        basis_type="manual",
        basis_id="1",
        reason="r",
    )
    with clock.frozen(NOW - 48 * H):
        case1 = factories.case(system, resident, sampled_at=NOW - 60 * H)
        contact_person = factories.person_in(system, two_districts.grid_a2)
        edge = services.contact_add(
            system,
            case=case1,
            person_id=contact_person.pk,
            exposure="household",
            first_exposure_at=at(7, 8),
        )
    case2 = factories.case(
        system, contact_person, found_by="contact_testing", sampled_at=NOW - 2 * H
    )
    edge.refresh_from_db()
    assert edge.became_case_id == case2.pk
    assert (case2.infected_by_id, case2.chain_root_id, case2.from_contact_id) == (
        case1.pk,
        case1.pk,
        edge.pk,
    )
    assert case2.cluster_id == Case.objects.get(pk=case1.pk).cluster_id == cluster.pk
    # The case's window ends when they were isolated as a contact, two days ago.
    assert case2.isolated_at == NOW - 48 * H
    assert case2.window_end == NOW - 48 * H
    # The contact's quarantine is superseded by the case's hospital treatment.
    assert _order(edge).status == "superseded"
    assert ControlOrder.objects.get(pk=int(case2.order_id or 0)).category == "confirmed_case"
    # The chain goes on: the new case's contacts hang under the same chain.
    third = factories.person_in(system, two_districts.grid_a)
    services.contact_add(
        system, case=case2, person_id=third.pk, exposure="care", first_exposure_at=at(9, 8)
    )
    case3 = factories.case(system, third)
    assert (case3.infected_by_id, case3.chain_root_id) == (case2.pk, case1.pk)


def test_a_district_officer_cannot_enter_a_person_of_the_sibling_district(
    resident: Person, resident_b: Person, personas: dict[str, User]
) -> None:
    officer = actor_of(personas["district_officer"])
    case = factories.case(officer, resident)
    with pytest.raises(NotFound):
        services.contact_add(
            officer,
            case=case,
            person_id=resident_b.pk,
            exposure="household",
            first_exposure_at=at(8, 8),
        )
    assert not Contact.objects.exists()


def test_follow_up_records_time(resident: Person, system: Actor, two_districts: Tree) -> None:
    case = factories.case(system, resident)
    member = factories.person_in(system, two_districts.grid_a)
    edge = services.contact_add(
        system, case=case, person_id=member.pk, exposure="household", first_exposure_at=at(8, 8)
    )
    done = services.contact_follow_up(system, contact=edge, note="no symptoms")
    assert done.followed_up_at == NOW
    assert "no symptoms" in done.note
