"""Assist requests across districts: send, land, acknowledge, reply; idempotent per person."""

from __future__ import annotations

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.core.errors import Invalid, NotAllowed, NotFound
from fangkong.policy.models import RulebookVersion
from fangkong.screening.models import Arrival, ArrivalSource, AssistItem, AssistRequest
from fangkong.screening.services import (
    AssistPerson,
    assist_request_acknowledge,
    assist_request_send,
)
from fangkong.screening.tests.factories import NOW, assist_person, resident_id

pytestmark = pytest.mark.django_db


def _send(
    user: User,
    to: str = "440903",
    *,
    persons: list[AssistPerson] | None = None,
    basis_id: str = "contact-7",
) -> AssistRequest:
    return assist_request_send(
        actor_of(user),
        to_code=to,
        persons=persons or [assist_person(category="close_contact")],
        reason="close contact of case 12",
        basis_type="contact",
        basis_id=basis_id,
    )


def test_send_lands_in_the_receivers_inbox_with_the_rulebook_deadline(
    book: RulebookVersion, personas: dict[str, User], two_districts: Tree
) -> None:
    request = _send(personas["district_officer"])
    assert request.from_path == two_districts.district_a.path
    assert request.jurisdiction_path == two_districts.district_b.path
    # ninth edition: land_assist_request 2 h
    assert (request.due_at - NOW).total_seconds() == 2 * 3600
    arrival = Arrival.objects.get()
    assert arrival.jurisdiction_path.startswith(two_districts.district_b.path)
    assert arrival.category == "close_contact"
    land = Assignment.objects.get(kind="land_assist_request")
    assert land.jurisdiction_id == two_districts.district_b.pk
    assert land.due_at == request.due_at
    assert Assignment.objects.filter(kind="verify_arrival", subject_id=str(arrival.pk)).exists()
    assert AuditEntry.objects.filter(action="screening.assist_send").count() == 1


def test_send_is_idempotent_per_basis_receiver_and_person(
    book: RulebookVersion, personas: dict[str, User]
) -> None:
    p1, p2 = assist_person(), assist_person()
    first = _send(personas["district_officer"], persons=[p1])
    again = _send(personas["district_officer"], persons=[p1, p2])
    assert again.pk == first.pk
    assert again.items_total == 2
    assert AssistItem.objects.count() == 2
    assert Arrival.objects.count() == 2
    third = _send(personas["district_officer"], persons=[p1, p2])
    assert third.items_total == 2
    assert ArrivalSource.objects.count() == 2
    assert Assignment.objects.filter(kind="land_assist_request").count() == 1


def test_the_same_person_already_arriving_there_is_merged(
    book: RulebookVersion, personas: dict[str, User]
) -> None:
    number = resident_id()
    _send(personas["district_officer"], persons=[assist_person(doc_number=number)], basis_id="c-1")
    _send(
        personas["city_commander"],
        persons=[assist_person(doc_number=number)],
        basis_id="c-2",
        to="440903001",
    )
    arrival = Arrival.objects.get()
    assert arrival.source_count == 2
    assert AssistItem.objects.filter(arrival=arrival).count() == 2


def test_acknowledge_stops_the_landing_clock_for_the_receiver_only(
    book: RulebookVersion, personas: dict[str, User]
) -> None:
    request = _send(personas["district_officer"])
    with pytest.raises(NotFound):
        assist_request_acknowledge(actor=actor_of(personas["district_officer"]), request=request)
    done = assist_request_acknowledge(
        actor=actor_of(personas["sibling_district_officer"]), request=request
    )
    assert done.state == "acknowledged"
    assert not Assignment.objects.filter(
        kind="land_assist_request", closed_at__isnull=True
    ).exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"to": "440902"}, "A request cannot go to its own sender"),
        ({"to": "440902001001001001"}, "Send to a district or a town"),
        ({"persons": [assist_person(doc_number="123")]}, "Person 1: "),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    book: RulebookVersion, personas: dict[str, User], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(Invalid) as err:
        _send(personas["district_officer"], **kwargs)  # type: ignore[arg-type]
    assert err.value.message.startswith(message)
    assert not AssistRequest.objects.exists()


def test_unknown_receiver_and_missing_permission(
    book: RulebookVersion, personas: dict[str, User]
) -> None:
    with pytest.raises(NotFound):
        _send(personas["district_officer"], to="449999")
    with pytest.raises(NotAllowed):
        _send(personas["grid_worker"])
    assert not Arrival.objects.exists()
