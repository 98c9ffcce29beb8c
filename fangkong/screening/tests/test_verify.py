"""Verification on the grid: reached or not, sample, measure (never a downgrade), replies to
the assist sender, transfer to another district, placing from the queue, the board."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.control.models import ControlOrder
from fangkong.control.tests.factories import order as issue_order
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.people.tests.factories import person as make_person
from fangkong.policy.models import RulebookVersion
from fangkong.policy.schema import Category
from fangkong.screening import selectors, services
from fangkong.screening.models import Arrival, AssistItem, AssistRequest
from fangkong.screening.services import Verification
from fangkong.screening.tests.factories import assist_person, resident_id

pytestmark = pytest.mark.django_db


def _arrival(system: Actor, tree: Tree, *, origin: str = "北京市朝阳区", doc: str = "") -> Arrival:
    """A newcomer at grid A (placed), from a high-risk area by default."""
    a = services.canvass_register(
        actor=system,
        entry=services.entry_of(
            doc_type="resident_id",
            doc_number=doc or resident_id(),
            name="王五",
            phone="13800000000",
            origin=origin,
            arrival_date=dt.date(2022, 1, 9),
        ),
    )
    return services.arrival_place(actor=system, arrival=a, grid=tree.grid_a)


def _figure(user: User, tree: Tree, key: str) -> int:
    return selectors.board(scope=actor_of(user).scope, node=tree.district_a).figures[key]


def test_reached_sampled_and_put_under_the_rulebooks_measure(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    worker = personas["grid_worker"]
    a = _arrival(system, two_districts)
    assert (a.category, a.measure) == ("arrival_high_risk", "centralized_quarantine")
    done = services.arrival_verify(
        actor=actor_of(worker),
        arrival=a,
        result=Verification(
            reached=True,
            sample_ref="TUBE-0001",
            apply_measure=True,
            confirmed_address="站南社区1栋101",
        ),
    )
    assert done.status == "verified"
    assert done.sample_ref == "TUBE-0001"
    assert done.address_confirmed
    assert done.order_id is not None
    order = ControlOrder.objects.get(pk=done.order_id)
    assert (order.category, order.basis_type, order.basis_id) == (
        "arrival_high_risk",
        "arrival",
        str(a.pk),
    )
    assert done.under_control
    assert not Assignment.objects.filter(
        subject_type="screening.arrival", closed_at__isnull=True
    ).exists()
    officer = personas["district_officer"]
    for key, value in (("received", 1), ("verified", 1), ("sampled", 1), ("under_control", 1)):
        assert _figure(officer, two_districts, key) == value, key
    with pytest.raises(Conflict):
        services.arrival_verify(
            actor=actor_of(worker), arrival=a, result=Verification(reached=True)
        )


def test_a_stricter_existing_order_is_not_downgraded(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    doc = resident_id()
    person = make_person(system, two_districts.grid_a, doc_number=doc)
    stricter = issue_order(system, person, Category.CLOSE_CONTACT)
    a = _arrival(system, two_districts, origin="深圳市南山区", doc=doc)  # low risk
    assert a.category == "arrival_low_risk"
    done = services.arrival_verify(
        actor=actor_of(personas["grid_worker"]),
        arrival=a,
        result=Verification(reached=True, apply_measure=True),
    )
    assert done.order_id == stricter.pk
    assert ControlOrder.objects.filter(person=person).count() == 1
    stricter.refresh_from_db()
    assert stricter.category == "close_contact"


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("no_such_person", "no_such_person"),
        ("not_in_city", "not_in_city"),
        ("left", "left"),
        ("wrong_number", "not_reached"),
    ],
)
def test_not_reached_goes_back_to_the_assist_sender_as_a_structured_reply(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], reason: str, outcome: str
) -> None:
    request = services.assist_request_send(
        actor_of(personas["sibling_district_officer"]),
        to_code="440902",
        persons=[assist_person()],
        reason="contact of case 3",
        basis_type="contact",
        basis_id="c-3",
    )
    arrival = AssistItem.objects.get(request=request).arrival
    services.arrival_verify(
        actor=actor_of(personas["district_officer"]),
        arrival=arrival,
        result=Verification(reached=False, reason=reason, notes="邻居说春节前已离开"),
    )
    seen_by_sender = selectors.assist_items(
        scope=actor_of(personas["sibling_district_officer"]).scope, request=request
    )
    assert [(i.outcome, i.outcome_note) for i in seen_by_sender] == [
        (outcome, "邻居说春节前已离开")
    ]
    request.refresh_from_db()
    assert request.state == "replied"
    not_in_city = _figure(personas["district_officer"], two_districts, "not_in_city")
    assert not_in_city == (1 if reason in ("not_in_city", "left") else 0)


def test_a_person_staying_in_another_district_is_transferred_not_lost(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    a = _arrival(system, two_districts)
    services.arrival_verify(
        actor=actor_of(personas["grid_worker"]),
        arrival=a,
        result=Verification(reached=False, stays_in="440903", notes="住在电白区亲戚家"),
    )
    a.refresh_from_db()
    assert a.status == "transferred"
    assert a.closed_at is not None
    moved = Arrival.objects.get(closed_at__isnull=True)
    assert moved.jurisdiction_path.startswith(two_districts.district_b.path)
    request = AssistRequest.objects.get()
    assert (request.from_path, request.jurisdiction_path) == (
        two_districts.grid_a.path,
        two_districts.district_b.path,
    )
    assert _figure(personas["district_officer"], two_districts, "transferred") == 1


def test_inconsistent_outcomes_are_refused(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    a = _arrival(system, two_districts)
    worker = actor_of(personas["grid_worker"])
    cases = [
        (Verification(reached=False), "Say why the person was not reached"),
        (
            Verification(reached=False, reason="left", sample_ref="T"),
            "No sample from a person not reached",
        ),
        (Verification(reached=True, reason="left"), "A reached person needs no reason"),
        (
            Verification(reached=False, reason="left", apply_measure=True),
            "No measure for a person not reached",
        ),
    ]
    for result, message in cases:
        with pytest.raises(Invalid) as err:
            services.arrival_verify(actor=worker, arrival=a, result=result)
        assert err.value.message == message
    with pytest.raises(NotFound):
        services.arrival_verify(
            actor=actor_of(personas["sibling_district_officer"]),
            arrival=a,
            result=Verification(reached=True),
        )


def test_the_town_places_an_unresolved_address_and_the_work_follows(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    t = two_districts
    a = services.canvass_register(
        actor=actor_of(personas["district_officer"]),
        entry=services.entry_of(
            doc_type="resident_id",
            doc_number=resident_id(),
            name="赵六",
            address="站南社区",
            arrival_date=dt.date(2022, 1, 9),
        ),
    )
    assert not a.placed
    officer = personas["district_officer"]
    assert _figure(officer, t, "unplaced") == 1
    services.arrival_place(actor=actor_of(officer), arrival=a, grid=t.grid_a2)
    assert _figure(officer, t, "unplaced") == 0
    work = Assignment.objects.get(subject_type="screening.arrival", closed_at__isnull=True)
    assert work.jurisdiction_id == t.grid_a2.pk
    board = selectors.board(scope=actor_of(officer).scope, node=t.town_a)
    assert [c.figures["received"] for c in board.children] == [1]


def test_overdue_and_stale_are_counted_live(
    book: RulebookVersion, two_districts: Tree, personas: dict[str, User], system: Actor
) -> None:
    from fangkong.core import clock

    a = _arrival(system, two_districts)  # high risk: due in 12 h
    officer = personas["district_officer"]
    assert _figure(officer, two_districts, "overdue") == 0
    with clock.frozen(a.created_at + dt.timedelta(hours=13)):
        assert _figure(officer, two_districts, "overdue") == 1
        assert _figure(officer, two_districts, "stale") == 0
    with clock.frozen(a.created_at + dt.timedelta(hours=25)):
        assert _figure(officer, two_districts, "stale") == 1
        page = selectors.arrival_list(scope=actor_of(officer).scope, key="stale")
        assert [x.pk for x in page.items] == [a.pk]
