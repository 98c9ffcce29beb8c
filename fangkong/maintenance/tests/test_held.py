"""Retention of the identities the operations modules hold outside the registry: arrivals
(screening) with their assist items, and pharmacy register lines (sentinel). Past their period
they are shredded and only they are; their counts stay; the ledger lets a restore shred them
again; a person with an open case or traced contact is not purged as a person."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.control.models import ControlOrder, OrderStatus
from fangkong.control.tests import factories as control
from fangkong.core.actor import Actor
from fangkong.maintenance import ledger, retention
from fangkong.maintenance.held import HELD
from fangkong.policy.models import RulebookVersion
from fangkong.screening import services as screening
from fangkong.screening.models import Arrival, ArrivalTally, AssistItem
from fangkong.screening.services import Verification
from fangkong.screening.tests.factories import assist_person, resident_id
from fangkong.sentinel import services as sentinel
from fangkong.sentinel.models import Registration, SeriesCount
from fangkong.sentinel.tests import factories as sentinel_factories
from fangkong.tracing.models import Case
from fangkong.tracing.tests import factories as tracing

pytestmark = pytest.mark.django_db

NOW = control.NOW
LONG_AGO = NOW - dt.timedelta(days=100)


def _arrival(system: Actor, tree: Tree, *, verified: bool) -> Arrival:
    a = screening.canvass_register(
        actor=system,
        entry=screening.entry_of(
            doc_type="resident_id", doc_number=resident_id(), name="赵六", phone="13900001111",
            address="站南社区3栋", arrival_date=NOW.date(),
        ),
    )  # fmt: skip
    a = screening.arrival_place(actor=system, arrival=a, grid=tree.grid_a)
    if verified:
        a = screening.arrival_verify(
            actor=system, arrival=a, result=Verification(reached=True, notes="养了一只猫")
        )
    return a


def _identity(a: Arrival) -> tuple[str, str, str, str, str]:
    row = Arrival.objects.get(pk=a.pk)
    return row.name, row.doc_number, row.phone, row.address, row.notes


@pytest.fixture
def arrivals(book: RulebookVersion, two_districts: Tree, system: Actor) -> dict[str, Arrival]:
    old = _arrival(system, two_districts, verified=True)
    recent = _arrival(system, two_districts, verified=True)
    waiting = _arrival(system, two_districts, verified=False)
    screening.assist_request_send(
        system, to_code=two_districts.town_a.code, persons=[assist_person()], reason="协查",
        basis_type="contact", basis_id="held-1",
    )  # fmt: skip
    sent = Arrival.objects.exclude(pk__in=[old.pk, recent.pk, waiting.pk]).get()
    screening.arrival_place(actor=system, arrival=sent, grid=two_districts.grid_a)
    screening.arrival_verify(actor=system, arrival=sent, result=Verification(reached=True))
    Arrival.objects.filter(pk__in=[old.pk, waiting.pk, sent.pk]).update(updated_at=LONG_AGO)
    Arrival.objects.filter(pk=recent.pk).update(updated_at=NOW - dt.timedelta(days=10))
    return {
        "old": old,
        "recent": recent,
        "waiting": waiting,
        "sent": Arrival.objects.get(pk=sent.pk),
    }


def test_arrivals_past_retention_lose_their_identity_and_keep_their_counts(
    arrivals: dict[str, Arrival], system: Actor
) -> None:
    tally = sorted(ArrivalTally.objects.values_list("node_path", "key", "count"))
    dry = retention.retention_run(actor=system, dry_run=True)
    assert dry.counts["arrival"] == 2
    assert _identity(arrivals["old"])[0] == "赵六"  # a dry run changes nothing

    report = retention.retention_run(actor=system)

    assert report.counts["arrival"] == 2
    for key in ("old", "sent"):
        row = Arrival.objects.get(pk=arrivals[key].pk)
        assert _identity(row) == ("", "", "", "", ""), key
        assert row.doc_bidx == f"purged:{row.pk}"
        assert row.status == "verified"  # the row stays, pseudonymous
    item = AssistItem.objects.get(arrival=arrivals["sent"])
    assert item.doc_bidx == f"purged:{item.pk}"
    assert _identity(arrivals["recent"])[0] == "赵六"  # verified 10 days ago
    assert _identity(arrivals["waiting"])[0] == "赵六"  # never verified: its work is not done
    assert sorted(ArrivalTally.objects.values_list("node_path", "key", "count")) == tally
    again = retention.retention_run(actor=system)
    assert again.counts["arrival"] == 0


def test_a_restore_shreds_the_arrivals_again_from_the_ledger(
    arrivals: dict[str, Arrival], system: Actor
) -> None:
    retention.retention_run(actor=system)
    old = arrivals["old"]
    [entry] = [e for e in ledger.entries() if e.category == "screening.arrival"]
    assert sorted(entry.ids) == sorted([old.pk, arrivals["sent"].pk])
    # The backup from before the run comes back: the identity is there again.
    Arrival.objects.filter(pk=old.pk).update(
        name=old.name, doc_number=old.doc_number, doc_bidx=old.doc_bidx
    )
    assert retention.ledger_reapply(actor=system) == 1
    assert _identity(old)[0] == ""
    assert Arrival.objects.get(pk=old.pk).doc_bidx == f"purged:{old.pk}"


def test_register_lines_past_retention_lose_the_buyers_identity_and_keep_the_series(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    unit = sentinel_factories.unit(system, two_districts.grid_a, code="HELD1")
    items = [
        sentinel_factories.purchase(travel_history="北京", for_other=True, for_name="李四")
        for _ in range(3)
    ]
    result = sentinel.registrations_submit(actor=system, unit=unit, items=items, source="api")
    ids = [i.id for i in result.items if i.id is not None]
    assert len(ids) == 3
    Registration.objects.filter(pk__in=ids[:2]).update(created_at=LONG_AGO)
    series = sorted(SeriesCount.objects.values_list("day", "stream", "count"))

    report = retention.retention_run(actor=system)

    assert report.counts["sentinel_record"] == 2
    for pk in ids[:2]:
        row = Registration.objects.get(pk=pk)
        assert (row.name, row.doc_number, row.phone, row.for_name, row.travel_history) == (
            "", "", "", "", ""
        )  # fmt: skip
        assert (row.doc_bidx, row.phone_bidx, row.for_doc_bidx) == (f"purged:{pk}", "", "")
        assert (row.drug_class, row.fever) == ("antipyretic", True)  # what it counted stays
    kept = Registration.objects.get(pk=ids[2])
    assert (kept.name, kept.travel_history) == ("张三", "北京")
    assert sorted(SeriesCount.objects.values_list("day", "stream", "count")) == series


def test_a_person_with_an_open_case_is_not_purged(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    person = control.person(system, two_districts.grid_a)
    case = tracing.case(system, person)
    # Every order released long ago and every work item closed: only the case remains open.
    ControlOrder.objects.filter(person=person).update(
        status=OrderStatus.RELEASED, released_at=LONG_AGO, updated_at=LONG_AGO
    )
    Assignment.objects.filter(person=person).update(closed_at=LONG_AGO, status="done")
    assert not retention.persons_past_retention(NOW).filter(pk=person.pk).exists()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_at=LONG_AGO)
    assert retention.persons_past_retention(NOW).filter(pk=person.pk).exists()


def test_every_held_category_is_in_the_policy() -> None:
    from fangkong.maintenance.policy import policy

    assert {h.category for h in HELD} <= {rule.category for rule in policy()}
