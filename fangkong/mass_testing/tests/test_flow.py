"""Sampling ingest, lab results, positive pools and retests, on the database."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.control.models import ControlOrder
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict
from fangkong.jobs.services import run_due
from fangkong.mass_testing import services
from fangkong.mass_testing.models import LabReport, PositivePool, Retest, Round, Sample, Tube
from fangkong.mass_testing.tests import factories as f
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion
from fangkong.tracing.models import Case


@pytest.fixture
def crowd(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    return [f.person(system, two_districts.grid_a) for _ in range(12)]


def test_same_batch_twice_is_counted_once(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    batch = [f.scan(p, "TUBE0001") for p in crowd[:5]]
    first = f.ingest(system, rnd, batch)
    assert [a.outcome for a in first] == ["accepted"] * 5
    again = f.ingest(system, rnd, batch)
    assert [a.outcome for a in again] == ["duplicate"] * 5
    assert Sample.objects.count() == 5
    assert Tube.objects.get(barcode="TUBE0001").members == 5


def test_pool_size_closes_the_tube_and_refuses_the_eleventh(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    answers = f.ingest(system, rnd, [f.scan(p, "TUBE0002") for p in crowd[:11]])
    assert [a.outcome for a in answers] == ["accepted"] * 10 + ["tube_closed"]
    tube = Tube.objects.get(barcode="TUBE0002")
    assert (tube.members, tube.status, tube.pool_size) == (10, "closed", 10)


def test_delimited_area_pools_five(two_districts: Tree, system: Actor, crowd: list[Person]) -> None:
    rnd = f.round_(system, two_districts, area_type="delimited")
    answers = f.ingest(system, rnd, [f.scan(p, "TUBE0003") for p in crowd[:6]])
    assert [a.outcome for a in answers][-1] == "tube_closed"
    assert Tube.objects.get(barcode="TUBE0003").pool_size == 5


def test_isolation_site_is_single_tubes(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts, area_type="isolation_site")
    answers = f.ingest(system, rnd, [f.scan(crowd[0], "TUBE0004"), f.scan(crowd[1], "TUBE0004")])
    assert [a.outcome for a in answers] == ["accepted", "tube_closed"]
    assert Tube.objects.get(barcode="TUBE0004").kind == "single"


def test_person_in_two_open_tubes_is_refused(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    p = crowd[0]
    assert f.ingest(system, rnd, [f.scan(p, "TUBE0005")])[0].outcome == "accepted"
    assert f.ingest(system, rnd, [f.scan(p, "TUBE0006")])[0].outcome == "in_other_open_tube"
    assert f.ingest(system, rnd, [f.scan(p, "TUBE0005")])[0].outcome == "already_in_tube"
    assert Sample.objects.filter(person=p).count() == 1
    assert not Tube.objects.filter(barcode="TUBE0006").exists()


def test_explicit_close_then_the_tube_is_closed(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(crowd[0], "TUBE0007", close_tube=True)])
    assert f.ingest(system, rnd, [f.scan(crowd[1], "TUBE0007")])[0].outcome == "tube_closed"


def test_unknown_person_and_bad_scan_answer_per_scan(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    scans = [
        services.ScanIn(
            client_id="x1", barcode="TUBE0008", sampled_at=f.NOW, doc_number="110101199003071234"
        ),
        services.ScanIn(client_id="x2", barcode="no", sampled_at=f.NOW, person_id=crowd[0].pk),
        f.scan(crowd[1], "TUBE0008"),
    ]
    assert [a.outcome for a in f.ingest(system, rnd, scans)] == [
        "person_unknown",
        "invalid",
        "accepted",
    ]


def test_scan_by_document_number(two_districts: Tree, system: Actor, crowd: list[Person]) -> None:
    rnd = f.round_(system, two_districts)
    scan = services.ScanIn(
        client_id="d1", barcode="TUBE0009", sampled_at=f.NOW, doc_number=crowd[0].doc_number
    )
    assert f.ingest(system, rnd, [scan])[0].outcome == "accepted"
    assert Sample.objects.get(client_id="d1").person_id == crowd[0].pk


def test_closed_round_refuses_scans(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    services.round_close(actor=system, rnd=rnd, reason="done")
    with pytest.raises(Conflict):
        f.ingest(system, rnd, [f.scan(crowd[0], "TUBE0010")])


def _fill(system: Actor, rnd: Round, people: list[Person], barcode: str) -> None:
    answers = f.ingest(
        system,
        rnd,
        [f.scan(p, barcode, close_tube=(i == len(people) - 1)) for i, p in enumerate(people)],
    )
    assert {a.outcome for a in answers} == {"accepted"}


def test_unknown_tube_and_conflicting_repeat_are_reported_not_guessed(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    _fill(system, rnd, crowd[:3], "TUBE0011")
    report = services.results_submit(
        actor=system,
        lab="lab",
        batch_id="r1",
        results=[f.result("TUBE0011", "negative"), f.result("NOSUCH01", "positive")],
    )
    assert (report.matched, len(report.unknown)) == (1, 1)
    assert report.unknown[0]["barcode"] == "NOSUCH01"
    assert not PositivePool.objects.exists()
    conflict = services.results_submit(
        actor=system, lab="lab", batch_id="r2", results=[f.result("TUBE0011", "positive")]
    )
    assert (conflict.matched, len(conflict.conflicts)) == (0, 1)
    assert Tube.objects.get(barcode="TUBE0011").result == "negative"
    again = services.results_submit(
        actor=system, lab="lab", batch_id="r1", results=[f.result("TUBE0011", "negative")]
    )
    assert again.already_received
    assert again.matched == 1
    assert LabReport.objects.count() == 3


def test_two_results_for_one_tube_in_a_batch_are_both_conflicts(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    _fill(system, rnd, crowd[:2], "TUBE0012")
    report = services.results_submit(
        actor=system,
        lab="lab",
        batch_id="r3",
        results=[f.result("TUBE0012", "negative"), f.result("TUBE0012", "positive")],
    )
    assert (report.matched, len(report.conflicts)) == (0, 2)
    assert Tube.objects.get(barcode="TUBE0012").result == "pending"


def test_positive_pool_holds_members_and_retests_resolve_it(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    members = crowd[:4]
    _fill(system, rnd, members, "TUBE0013")
    report = services.results_submit(
        actor=system, lab="lab", batch_id="r4", results=[f.result("TUBE0013", "positive")]
    )
    assert report.positives == 1
    pool = PositivePool.objects.get(tube__barcode="TUBE0013")
    assert pool.members == 4
    assert pool.status == "open"
    assert pool.retest_due_at == f.NOW + dt.timedelta(hours=6)
    run_due(worker="test")
    retests = list(Retest.objects.filter(pool=pool).order_by("person_id"))
    assert len(retests) == 4
    holds = ControlOrder.objects.filter(basis_id=f"mt-pool:{pool.pk}", status="issued")
    assert holds.count() == 4
    work = Assignment.objects.filter(
        kind="retest_positive_pool", subject_type="mass_testing.retest"
    )
    assert work.count() == 4
    assert {a.jurisdiction_id for a in work} == {two_districts.grid_a.pk}
    # Running the job again holds nobody twice.
    services.pool_hold(pool_id=pool.pk)
    assert holds.count() == 4
    assert work.count() == 4

    positive, *negatives = retests
    at = f.NOW - dt.timedelta(minutes=1)
    services.retest_record(actor=system, retest=positive, result="positive", sampled_at=at)
    for rt in negatives:
        services.retest_record(actor=system, retest=rt, result="negative", sampled_at=at)
    pool.refresh_from_db()
    assert (pool.status, pool.positives) == ("resolved", 1)
    assert Case.objects.filter(person_id=positive.person_id).count() == 1
    assert not Case.objects.filter(person_id__in=[r.person_id for r in negatives]).exists()
    # The negatives' holds are lifted; the positive person's is replaced by the case's order.
    assert not ControlOrder.objects.filter(
        person_id__in=[r.person_id for r in negatives], status__in=["issued", "in_effect"]
    ).exists()
    assert not Assignment.objects.filter(
        kind="retest_positive_pool", status__in=["open", "in_progress"]
    ).exists()
    with pytest.raises(Conflict):
        services.retest_record(actor=system, retest=negatives[0], result="positive", sampled_at=at)


def test_positive_single_tube_becomes_a_case(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts, area_type="isolation_site")
    f.ingest(system, rnd, [f.scan(crowd[0], "TUBE0014")])
    services.results_submit(
        actor=system, lab="lab", batch_id="r5", results=[f.result("TUBE0014", "positive")]
    )
    assert not PositivePool.objects.exists()
    run_due(worker="test")
    assert Case.objects.filter(person_id=crowd[0].pk).count() == 1
