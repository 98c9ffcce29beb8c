"""The sampling ingest's guarantees that depend on the database: the member table, and
concurrent batches on separate connections (threads) that meet on a tube or a person."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connections

from conftest import Tree
from fangkong.core.actor import Actor
from fangkong.mass_testing.models import Round, RoundMember, Sample, Tube
from fangkong.mass_testing.services import ScanAnswer, ScanIn
from fangkong.mass_testing.services.ingest import Collided
from fangkong.mass_testing.tests import factories as f
from fangkong.people.models import Person
from fangkong.policy.models import RulebookVersion


@pytest.fixture
def crowd(book: RulebookVersion, two_districts: Tree, system: Actor) -> list[Person]:
    return [f.person(system, two_districts.grid_a) for _ in range(24)]


def test_members_keep_their_latest_tube(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(p, "OPEN0001") for p in crowd[:4]])
    tube = Tube.objects.get(barcode="OPEN0001")
    assert set(RoundMember.objects.values_list("person_id", "tube_id")) == {
        (p.pk, tube.pk) for p in crowd[:4]
    }
    answers = f.ingest(system, rnd, [f.scan(p, "OPEN0001") for p in crowd[4:10]])
    assert [a.outcome for a in answers] == ["accepted"] * 6
    tube.refresh_from_db()
    assert tube.status == "closed"  # full
    assert RoundMember.objects.filter(tube=tube, repeat=False).count() == 10
    # Its members are free for the next tube (another day's sampling in the same round);
    # the row follows them there and marks them as sampled more than once.
    assert f.ingest(system, rnd, [f.scan(crowd[0], "OPEN0002")])[0].outcome == "accepted"
    row = RoundMember.objects.get(person=crowd[0])
    assert (row.tube.barcode, row.repeat, row.grid_id) == ("OPEN0002", True, crowd[0].grid_id)
    assert RoundMember.objects.count() == 10


def test_a_tube_closed_by_other_means_frees_its_members(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(crowd[0], "OPEN0003")])
    Tube.objects.filter(barcode="OPEN0003").update(status="closed")  # as a lab result does
    assert f.ingest(system, rnd, [f.scan(crowd[0], "OPEN0004")])[0].outcome == "accepted"
    assert list(RoundMember.objects.values_list("person_id", "tube__barcode")) == [
        (crowd[0].pk, "OPEN0004")
    ]


def test_closing_a_tube_and_moving_a_member_in_one_batch(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    f.ingest(system, rnd, [f.scan(crowd[0], "OPEN0005")])
    answers = f.ingest(
        system,
        rnd,
        [f.scan(crowd[1], "OPEN0005", close_tube=True), f.scan(crowd[0], "OPEN0006")],
    )
    assert [a.outcome for a in answers] == ["accepted", "accepted"]
    assert sorted(RoundMember.objects.values_list("person_id", "tube__barcode", "repeat")) == [
        (crowd[0].pk, "OPEN0006", True),
        (crowd[1].pk, "OPEN0005", False),
    ]


def test_free_text_is_stored_as_sent(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    sampler = "王\t5号\\台\n夜班\r\\N\x00"
    f.ingest(system, rnd, [f.scan(crowd[0], "TEXT0001", sampler=sampler)])
    assert Sample.objects.get().sampler == sampler.replace("\x00", "")


def _concurrently(system: Actor, rnd: Round, batches: list[list[ScanIn]]) -> list[list[str]]:
    """Each batch on its own thread and connection, started together; a batch refused for
    load (what the API answers 429) is sent again, as a client does."""
    barrier = threading.Barrier(len(batches))
    answers: list[list[ScanAnswer]] = [[] for _ in batches]
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(50):
                try:
                    answers[i] = f.ingest(system, rnd, batches[i])
                    return
                except (OperationalError, Collided):
                    continue
            raise AssertionError("never admitted")
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    return [[a.outcome for a in batch] for batch in answers]


@pytest.mark.django_db(transaction=True)
def test_two_batches_creating_the_same_new_tube_never_overfill_it(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    for n in range(4):
        code = f"RACE{n:04d}"
        first = [f.scan(p, code) for p in crowd[:6]]
        second = [f.scan(p, code) for p in crowd[6:12]]
        outcomes = _concurrently(system, rnd, [first, second])
        flat = outcomes[0] + outcomes[1]
        assert flat.count("accepted") == 10, outcomes
        assert flat.count("tube_closed") == 2, outcomes
        tube = Tube.objects.get(barcode=code)
        assert (tube.members, tube.status) == (10, "closed")
        assert Sample.objects.filter(tube=tube).count() == 10
    # Each person sampled once in the member table, whichever tubes took them.
    assert RoundMember.objects.count() == Sample.objects.values("person").distinct().count()


@pytest.mark.django_db(transaction=True)
def test_one_person_sent_into_two_new_tubes_at_once_lands_in_one(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    for n, p in enumerate(crowd[:4]):
        outcomes = _concurrently(
            system, rnd, [[f.scan(p, f"TWOA{n:04d}")], [f.scan(p, f"TWOB{n:04d}")]]
        )
        assert sorted(outcomes[0] + outcomes[1]) == ["accepted", "in_other_open_tube"], outcomes
        assert Sample.objects.filter(person=p).count() == 1
        assert RoundMember.objects.filter(person=p).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_is_counted_once(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    rnd = f.round_(system, two_districts)
    batch = [f.scan(p, f"SAME{i // 5:04d}") for i, p in enumerate(crowd[:20])]
    outcomes = _concurrently(system, rnd, [batch, batch])
    assert sorted(outcomes[0] + outcomes[1]) == ["accepted"] * 20 + ["duplicate"] * 20
    assert Sample.objects.count() == 20
    assert sum(Tube.objects.values_list("members", flat=True)) == 20


def test_a_household_tube_of_a_sealed_compound_takes_one_household(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    from fangkong.people.models import Household

    grid = two_districts.grid_a
    homes = [
        Household.objects.create(code=f"HH-{i}", grid=grid, jurisdiction_path=grid.path)
        for i in range(2)
    ]
    family, neighbour, loner = crowd[:3], crowd[3], crowd[4]
    Person.objects.filter(pk__in=[p.pk for p in family]).update(household=homes[0])
    Person.objects.filter(pk=neighbour.pk).update(household=homes[1])
    rnd = f.round_(system, two_districts, area_type="sealed_compound")
    first = f.ingest(system, rnd, [f.scan(family[0], "HOME0001"), f.scan(neighbour, "HOME0001")])
    assert [a.outcome for a in first] == ["accepted", "other_household"]
    assert Tube.objects.get(barcode="HOME0001").kind == "household"
    # A later batch: the tube's household comes from its stored members.
    later = f.ingest(
        system, rnd, [f.scan(loner, "HOME0001"), *(f.scan(p, "HOME0001") for p in family[1:])]
    )
    assert [a.outcome for a in later] == ["other_household", "accepted", "accepted"]
    assert sorted(
        Sample.objects.filter(tube__barcode="HOME0001").values_list("person_id", flat=True)
    ) == sorted(p.pk for p in family)
    # The neighbour's own tube is theirs alone, a loner's likewise.
    assert f.ingest(system, rnd, [f.scan(neighbour, "HOME0002")])[0].outcome == "accepted"


@pytest.mark.django_db(transaction=True)
def test_one_person_sampled_again_into_two_tubes_at_once_lands_in_one(
    two_districts: Tree, system: Actor, crowd: list[Person]
) -> None:
    """The member row already exists (an earlier, closed tube): both batches move it, the
    second sees the first's move (the row no longer names the tube it read) and runs again."""
    rnd = f.round_(system, two_districts)
    for n, p in enumerate(crowd[:4]):
        f.ingest(system, rnd, [f.scan(p, f"ONCE{n:04d}", close_tube=True)])
        outcomes = _concurrently(
            system, rnd, [[f.scan(p, f"AGNA{n:04d}")], [f.scan(p, f"AGNB{n:04d}")]]
        )
        assert sorted(outcomes[0] + outcomes[1]) == ["accepted", "in_other_open_tube"], outcomes
        assert Sample.objects.filter(person=p).count() == 2
        row = RoundMember.objects.get(person=p)
        assert row.repeat
        assert row.tube.barcode.startswith("AGN")


@pytest.mark.parametrize(
    ("values", "literal", "pg_type"),
    [
        ([3, 1, 2], "{3,1,2}", "bigint"),
        ([], "{}", "bigint"),
        ([5, None], "{5,NULL}", "bigint"),
        ([True, False], "{t,f}", "boolean"),
        (["AB-1", ""], '{"AB-1",""}', "text"),
        (['say "x"', "back\\slash", "NULL"], '{"say \\"x\\"","back\\\\slash","NULL"}', "text"),
    ],
)
@pytest.mark.django_db
def test_array_literals_read_back_as_sent(values: list[object], literal: str, pg_type: str) -> None:
    from django.db import connection

    from fangkong.mass_testing.services._ingest_db import arr

    assert arr(values) == literal
    if connection.vendor == "postgresql":  # the literal as PostgreSQL reads it
        with connection.cursor() as cur:
            cur.execute(f"SELECT %s::{pg_type}[]", [arr(values)])
            assert cur.fetchone()[0] == values
