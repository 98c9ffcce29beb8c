"""last_results: the latest test per person, set-based, scoped, across mass testing and
control orders' scheduled tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Tree
from fangkong.control import services as control
from fangkong.control.models import ScheduledTest
from fangkong.control.tests import factories as cf
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope
from fangkong.mass_testing import selectors
from fangkong.mass_testing.models import Round, Sample, Tube
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion

H = dt.timedelta(hours=1)


def _round(tree: Tree) -> Round:
    return Round.objects.create(
        name="r",
        jurisdiction_path=tree.district_a.path,
        starts_at=cf.NOW - 24 * H,
        deadline=cf.NOW + 24 * H,
        policy_version=1,
        created_by="t",
        created_at=cf.NOW,
    )


def _sample(rnd: Round, person: Person, barcode: str, at: dt.datetime, result: str) -> None:
    tube, _ = Tube.objects.get_or_create(
        barcode=barcode,
        defaults={
            "round": rnd,
            "jurisdiction_path": person.jurisdiction_path,
            "kind": "pooled",
            "pool_size": 10,
            "opened_at": at,
            "result": result,
            "result_at": None if result == "pending" else at + 5 * H,
        },
    )
    Sample.objects.create(
        round=rnd,
        tube=tube,
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        grid=person.grid,
        sampled_at=at,
        client_id=f"{barcode}-{person.pk}",
        received_at=at,
    )


@pytest.fixture
def people(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    t = two_districts
    return [cf.person(system, g) for g in (t.grid_a, t.grid_a, t.grid_a2, t.grid_b)]


def test_latest_sample_wins_and_negative_time_kept(
    two_districts: Tree, people: list[Person]
) -> None:
    rnd = _round(two_districts)
    a, b, c, _d = people
    _sample(rnd, a, "T1", cf.NOW - 30 * H, "negative")
    _sample(rnd, a, "T2", cf.NOW - 3 * H, "pending")
    _sample(rnd, b, "T1", cf.NOW - 30 * H, "negative")
    _sample(rnd, b, "T3", cf.NOW - 2 * H, "positive")
    got = selectors.last_results(scope=Scope.system(), person_ids=[a.pk, b.pk, c.pk])
    assert set(got) == {a.pk, b.pk}
    assert got[a.pk].last_result == "pending"
    assert got[a.pk].last_sampled_at == cf.NOW - 3 * H
    assert got[a.pk].last_negative_at == cf.NOW - 30 * H
    assert got[a.pk].last_result_at is None
    assert got[b.pk].last_result == "positive"
    assert got[b.pk].last_result_at == cf.NOW + 3 * H


def test_since_drops_older_tests(two_districts: Tree, people: list[Person]) -> None:
    rnd = _round(two_districts)
    a = people[0]
    _sample(rnd, a, "T1", cf.NOW - 50 * H, "negative")
    assert (
        selectors.last_results(scope=Scope.system(), person_ids=[a.pk], since=cf.NOW - 48 * H) == {}
    )
    got = selectors.last_results(scope=Scope.system(), person_ids=[a.pk], since=cf.NOW - 60 * H)
    assert got[a.pk].last_negative_at == cf.NOW - 50 * H


def test_out_of_scope_samples_are_invisible(two_districts: Tree, people: list[Person]) -> None:
    rnd = _round(two_districts)
    a, d = people[0], people[3]
    _sample(rnd, a, "T1", cf.NOW - 3 * H, "negative")
    _sample(rnd, d, "T9", cf.NOW - 3 * H, "negative")
    scope_a = Scope(paths=(two_districts.district_a.path,))
    got = selectors.last_results(scope=scope_a, person_ids=[a.pk, d.pk])
    assert set(got) == {a.pk}
    assert selectors.last_results(scope=Scope.empty(), person_ids=[a.pk]) == {}


def test_scheduled_test_of_a_control_order_counts(
    two_districts: Tree, people: list[Person], system: Actor
) -> None:
    rnd = _round(two_districts)
    a = people[0]
    _sample(rnd, a, "T1", cf.NOW - 30 * H, "positive")
    order = cf.order(system, a)
    test = ScheduledTest.objects.filter(order=order).order_by("due_on").first()
    assert test is not None
    control.scheduled_test_record(
        actor=system, test=test, result="negative", sampled_at=cf.NOW - 1 * H
    )
    got = selectors.last_results(scope=Scope.system(), person_ids=[a.pk])
    assert got[a.pk].last_result == "negative"
    assert got[a.pk].last_sampled_at == cf.NOW - 1 * H
    assert got[a.pk].last_negative_at == cf.NOW - 1 * H
    assert got[a.pk].last_result_at == cf.NOW


def test_one_query_whatever_the_number_of_persons(
    two_districts: Tree, people: list[Person]
) -> None:
    rnd = _round(two_districts)
    for p in people:
        _sample(rnd, p, f"T{p.pk}", cf.NOW - 3 * H, "negative")
    many = [p.pk for p in people] + list(range(10_000_000, 10_050_000))
    with CaptureQueriesContext(connection) as ctx:
        got = selectors.last_results(scope=Scope.system(), person_ids=many)
    assert len(ctx.captured_queries) == 1
    assert set(got) == {p.pk for p in people}
    assert selectors.last_results(scope=Scope.system(), person_ids=[]) == {}
