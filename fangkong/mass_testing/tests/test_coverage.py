"""Coverage: the set-based rebuild equals a brute-force count; excusals; progress; the
not-yet-sampled lists reach the grids' inboxes once."""

from __future__ import annotations

import random

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid, NotFound
from fangkong.core.scope import Scope
from fangkong.mass_testing import selectors, services
from fangkong.mass_testing.models import Coverage, Excusal, Progress, Sample, Tube
from fangkong.mass_testing.services import coverage
from fangkong.mass_testing.tests import factories as f
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion


@pytest.fixture
def city(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    t = two_districts
    grids = [t.grid_a] * 9 + [t.grid_a2] * 7 + [t.grid_b] * 4
    return [f.person(system, g) for g in grids]


def _brute(rnd_id: int, people: list[Person], area_prefix: str) -> dict[int, tuple[int, ...]]:
    out: dict[int, list[int]] = {}
    excused = set(Excusal.objects.filter(round_id=rnd_id).values_list("person_id", flat=True))
    for p in people:
        if not p.jurisdiction_path.startswith(area_prefix) or p.grid_id is None:
            continue
        samples = list(Sample.objects.filter(round_id=rnd_id, person=p).select_related("tube"))
        sampled = bool(samples)
        row = out.setdefault(p.grid_id, [0, 0, 0, 0, 0])
        row[0] += 1 if (p.pk not in excused or sampled) else 0
        row[1] += 1 if sampled else 0
        row[2] += 1 if any(s.tube.result != "pending" for s in samples) else 0
        row[3] += 1 if any(s.tube.result == "positive" for s in samples) else 0
        row[4] += 1 if (p.pk in excused and not sampled) else 0
    return {k: tuple(v) for k, v in out.items()}


@pytest.mark.parametrize("whole_registry_share", [0.0, 1.01])
def test_coverage_equals_a_brute_force_count(
    two_districts: Tree,
    system: Actor,
    city: list[Person],
    whole_registry_share: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both plans: the whole registry in key order, and the round's grids picked first.
    monkeypatch.setattr(coverage, "WHOLE_REGISTRY_SHARE", whole_registry_share)
    rnd = f.round_(system, two_districts)
    rng = random.Random(7)
    in_a = [p for p in city if p.jurisdiction_path.startswith(two_districts.district_a.path)]
    sampled = rng.sample(in_a, 11)
    for i in range(0, len(sampled), 3):
        group = sampled[i : i + 3]
        f.ingest(
            system,
            rnd,
            [f.scan(p, f"COV{i:05d}", close_tube=j == len(group) - 1) for j, p in enumerate(group)],
        )
    # Sampled twice (their first tubes are closed): once more into a tube that comes back
    # positive, and once more into a tube still pending.
    f.ingest(system, rnd, [f.scan(sampled[1], "COV00099", close_tube=True)])
    f.ingest(system, rnd, [f.scan(sampled[4], "COV00098", close_tube=True)])
    services.results_submit(
        actor=system,
        lab="lab",
        batch_id="cov",
        results=[
            f.result("COV00000", "negative"),
            f.result("COV00003", "positive"),
            f.result("COV00099", "positive"),
        ],
    )
    unsampled = [p for p in in_a if p not in sampled]
    services.excusal_record(actor=system, rnd=rnd, person=unsampled[0], reason="bedridden")
    services.excusal_record(actor=system, rnd=rnd, person=unsampled[1], reason="away")
    # Excused but sampled anyway: counts as due and sampled, not as excused.
    services.excusal_record(actor=system, rnd=rnd, person=sampled[0], reason="under_control")
    grids = services.coverage_refresh(rnd=rnd)

    got = {
        c.grid_id: (c.due, c.sampled, c.resulted, c.positive, c.excused)
        for c in Coverage.objects.filter(round=rnd)
    }
    assert Sample.objects.filter(person=sampled[1]).count() == 2
    assert got == _brute(rnd.pk, city, two_districts.district_a.path)
    assert sum(row[3] for row in got.values()) == 3 + 1  # tube COV00003's three, and sampled[1]
    assert grids == 2
    assert two_districts.grid_b.pk not in got
    total, children, node = selectors.coverage(scope=Scope.system(), rnd=rnd)
    assert node == two_districts.district_a
    assert (total.due, total.sampled, total.excused) == (16 - 2, 11, 2)
    assert total.unsampled == 3
    assert sum(c.sampled for c in children) == 11
    assert sum(p.sampled for p in Progress.objects.filter(round=rnd)) == 11
    series = selectors.progress(scope=Scope.system(), rnd=rnd, node=node)
    assert series[-1].sampled == 11


def test_unsampled_list_and_inbox(two_districts: Tree, system: Actor, city: list[Person]) -> None:
    rnd = f.round_(system, two_districts)
    grid = two_districts.grid_a
    mine = [p for p in city if p.grid_id == grid.pk]
    f.ingest(system, rnd, [f.scan(mine[0], "INB00001")])
    services.excusal_record(actor=system, rnd=rnd, person=mine[1], reason="away")
    page = selectors.unsampled_list(scope=Scope.system(), rnd=rnd, grid=grid)
    assert [p.pk for p in page.items] == sorted(p.pk for p in mine[2:])
    services.coverage_refresh(rnd=rnd)
    assert services.unsampled_to_inbox(actor=system, rnd=rnd) == 2
    assert services.unsampled_to_inbox(actor=system, rnd=rnd) == 2
    items = Assignment.objects.filter(kind="sample_unsampled")
    assert items.count() == 2
    assert items.get(jurisdiction=grid).detail["missing"] == len(mine) - 2
    with pytest.raises(NotFound):
        selectors.unsampled_list(scope=Scope.system(), rnd=rnd, grid=two_districts.grid_b)


def test_excusal_rules(two_districts: Tree, system: Actor, city: list[Person]) -> None:
    rnd = f.round_(system, two_districts)
    a = next(p for p in city if p.grid_id == two_districts.grid_a.pk)
    b = next(p for p in city if p.grid_id == two_districts.grid_b.pk)
    with pytest.raises(Invalid):
        services.excusal_record(actor=system, rnd=rnd, person=b, reason="away")  # not due
    with pytest.raises(Invalid):
        services.excusal_record(actor=system, rnd=rnd, person=a, reason="other")  # no note
    with pytest.raises(Invalid):
        services.excusal_record(actor=system, rnd=rnd, person=a, reason="sleepy")
    e1 = services.excusal_record(actor=system, rnd=rnd, person=a, reason="away")
    e2 = services.excusal_record(actor=system, rnd=rnd, person=a, reason="away")
    assert e1.pk == e2.pk
    services.excusal_record(actor=system, rnd=rnd, person=a, reason="other", note="出差返乡途中")
    assert Excusal.objects.get().reason == "other"
    services.excusal_withdraw(actor=system, excusal=Excusal.objects.get())
    assert not Excusal.objects.exists()
    assert not Tube.objects.exists()


def _counters(rnd_id: int) -> dict[int, tuple[int, ...]]:
    rows = Coverage.objects.filter(round_id=rnd_id)
    return {c.grid_id: (c.due, c.sampled, c.resulted, c.positive, c.excused) for c in rows}


def _hours(rnd_id: int) -> list[tuple[str, object, int]]:
    rows = Progress.objects.filter(round_id=rnd_id).exclude(sampled=0)
    return sorted(rows.values_list("jurisdiction_path", "hour", "sampled"))


def test_counters_kept_by_ingest_results_and_excusals_equal_a_brute_force_count(
    two_districts: Tree, system: Actor, city: list[Person]
) -> None:
    """No recount: the counters move with every batch, lab file and excusal, and equal the
    brute-force count after each step; the recount then finds nothing to correct."""
    t = two_districts
    rnd = f.round_(system, t)
    area = t.district_a.path
    a = [p for p in city if p.grid_id == t.grid_a.pk]  # 9
    a2 = [p for p in city if p.grid_id == t.grid_a2.pk]  # 7
    b = [p for p in city if p.grid_id == t.grid_b.pk]  # 4, outside the round

    def check() -> None:
        assert _counters(rnd.pk) == _brute(rnd.pk, city, area)

    check()  # the round's creation counted the residents due
    services.excusal_record(actor=system, rnd=rnd, person=a[8], reason="bedridden")
    services.excusal_record(actor=system, rnd=rnd, person=a2[6], reason="away")  # sampled later
    check()
    # One grid per tube; grids mixed in a tube; a visitor from outside the round; a tube
    # that closes in the batch and a member who goes on into the next tube (twice in one
    # batch); a retried batch.
    batch = [
        *[f.scan(p, "CNT00001") for p in a[:4]],
        *[f.scan(p, "CNT00002") for p in [a[4], a2[0], a2[1], b[0]]],
        f.scan(a2[2], "CNT00003", close_tube=True),
        f.scan(a2[2], "CNT00004"),
        f.scan(a2[6], "CNT00004", close_tube=True),
    ]
    f.ingest(system, rnd, batch)
    f.ingest(system, rnd, batch)
    check()
    assert Tube.objects.get(barcode="CNT00001").member_grid == t.grid_a.pk
    assert Tube.objects.get(barcode="CNT00002").grids_mixed
    services.excusal_record(actor=system, rnd=rnd, person=a[0], reason="under_control")
    check()  # sampled already: stays due and sampled
    services.results_submit(
        actor=system,
        lab="lab",
        batch_id="r1",
        results=[
            f.result("CNT00001", "negative"),
            f.result("CNT00002", "positive"),
            f.result("CNT00003", "negative"),
            f.result("CNT00003", "negative"),  # a repeat line
            f.result("NOSUCH001", "positive"),  # unknown tube
        ],
    )
    check()
    # Sampled again after a result: into tubes that come back positive and negative.
    f.ingest(
        system,
        rnd,
        [f.scan(a[0], "CNT00005", close_tube=True), f.scan(a[4], "CNT00006", close_tube=True)],
    )
    f.ingest(system, rnd, [f.scan(a[5], "CNT00007", close_tube=True)])
    check()
    services.results_submit(
        actor=system,
        lab="lab",
        batch_id="r2",
        results=[
            f.result("CNT00004", "negative"),
            f.result("CNT00005", "positive"),
            f.result("CNT00006", "negative"),
            f.result("CNT00007", "positive"),
            f.result("CNT00007", "negative"),  # conflicting lines: neither believed
        ],
    )
    check()
    services.excusal_withdraw(actor=system, excusal=Excusal.objects.get(person=a[8]))
    check()
    got = _counters(rnd.pk)
    assert got[t.grid_a.pk] == (9, 6, 5, 2, 0)  # a[0..5]; a[0] and a[4] positive
    assert t.grid_b.pk not in got
    hours = _hours(rnd.pk)
    assert sum(n for _, _, n in hours) == 6 + 4
    # The recount finds nothing to correct.
    assert services.coverage_refresh(rnd=rnd) == 2
    assert _counters(rnd.pk) == got
    assert _hours(rnd.pk) == hours


def test_the_recount_corrects_a_resident_who_moved(
    two_districts: Tree, system: Actor, city: list[Person]
) -> None:
    t = two_districts
    rnd = f.round_(system, t)
    mover = next(p for p in city if p.grid_id == t.grid_a.pk)
    f.ingest(system, rnd, [f.scan(mover, "MOV00001", close_tube=True)])
    Person.objects.filter(pk=mover.pk).update(
        grid=t.grid_a2, jurisdiction_path=t.grid_a2.path
    )  # a registry correction
    city = list(Person.objects.filter(pk__in=[p.pk for p in city]))
    assert _counters(rnd.pk) != _brute(rnd.pk, city, t.district_a.path)
    services.coverage_refresh(rnd=rnd)
    assert _counters(rnd.pk) == _brute(rnd.pk, city, t.district_a.path)
    assert [(p, n) for p, _, n in _hours(rnd.pk)] == [(t.grid_a2.path, 1)]
