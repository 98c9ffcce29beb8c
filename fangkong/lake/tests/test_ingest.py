"""Batch ingestion: idempotent by (client_id, batch_id), atomic, scoped by venue; retention."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed
from fangkong.lake import selectors, services
from fangkong.lake.engine import CaseWindow, venue_copresence
from fangkong.lake.layout import CHECKINS, DWELL, Lake, day_of
from fangkong.lake.models import IngestBatch
from fangkong.people.tests.factories import person
from fangkong.places.tests.factories import place

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())


@pytest.fixture
def world(two_districts: Tree, system: Actor) -> dict[str, int]:
    t = two_districts
    return {
        "p1": person(system, t.grid_a).pk,
        "p2": person(system, t.grid_a).pk,
        "p3": person(system, t.grid_b).pk,
        "va": place(t.grid_a).pk,
        "vb": place(t.grid_b).pk,
    }


def test_the_same_batch_twice_is_stored_once(
    lake: Lake, system: Actor, world: dict[str, int]
) -> None:
    rows = [(world["p1"], world["va"], T - 600), (world["p2"], world["va"], T - 300)]
    with clock.frozen(NOW):
        first = services.checkins_ingest(system, client_id="scanner-1", batch_id="b1", rows=rows)
        again = services.checkins_ingest(system, client_id="scanner-1", batch_id="b1", rows=rows)
    assert first.created
    assert not again.created
    assert again.batch.pk == first.batch.pk
    assert IngestBatch.objects.count() == 1
    assert AuditEntry.objects.filter(action="lake.checkins_ingest").count() == 1
    assert len(list((lake.root / "checkins").rglob("batch-*.parquet"))) == 1
    found = venue_copresence(lake, [CaseWindow(world["p1"], T - 3600, T)])
    assert [(r.person_id, r.encounters) for r in found] == [(world["p2"], 1)]


def test_a_batch_id_reused_for_other_rows_is_a_conflict(
    lake: Lake, system: Actor, world: dict[str, int]
) -> None:
    with clock.frozen(NOW):
        services.checkins_ingest(
            system, client_id="c", batch_id="b", rows=[(world["p1"], world["va"], T)]
        )
        with pytest.raises(Conflict):
            services.checkins_ingest(
                system, client_id="c", batch_id="b", rows=[(world["p2"], world["va"], T)]
            )
    assert IngestBatch.objects.count() == 1


def test_partly_overlapping_batches_count_each_scan_once(
    lake: Lake, system: Actor, world: dict[str, int]
) -> None:
    p1, p2, p3, va = world["p1"], world["p2"], world["p3"], world["va"]
    with clock.frozen(NOW):
        services.checkins_ingest(
            system, client_id="c", batch_id="1", rows=[(p1, va, T - 100), (p2, va, T - 50)]
        )
        # the client resends p2's scan in its next batch, with a new one
        services.checkins_ingest(
            system, client_id="c", batch_id="2", rows=[(p2, va, T - 50), (p3, va, T - 40)]
        )
    found = venue_copresence(lake, [CaseWindow(p1, T - 3600, T)])
    assert [(r.person_id, r.encounters) for r in found] == [(p2, 1), (p3, 1)]
    services.compact(system, lake=lake)
    assert venue_copresence(lake, [CaseWindow(p1, T - 3600, T)]) == found
    files = lake.day_files(CHECKINS, day_of(T))
    assert files is not None
    assert files.buckets == 1
    assert not files.batch_files


def test_a_bad_row_refuses_the_whole_batch_naming_row_and_column(
    lake: Lake, system: Actor, world: dict[str, int]
) -> None:
    rows = [
        (world["p1"], world["va"], T),
        (world["p1"], 987_654_321, T),  # no such venue
        (world["p1"], world["va"], T + 3600),  # in the future
        (999_999, world["va"], T),  # no such person
    ]
    with clock.frozen(NOW), pytest.raises(Invalid) as raised:
        services.checkins_ingest(system, client_id="c", batch_id="b", rows=rows)
    errors = raised.value.detail["errors"]
    assert {"row": 3, "column": "ts", "reason": "in the future"} in errors
    with clock.frozen(NOW), pytest.raises(Invalid) as raised:
        services.checkins_ingest(system, client_id="c", batch_id="b", rows=rows[:2] + rows[3:])
    assert raised.value.detail["errors"] == [
        {"row": 2, "column": "venue_id", "reason": "unknown venue"},
        {"row": 3, "column": "person_id", "reason": "unknown person"},
    ]
    assert not IngestBatch.objects.exists()
    assert not lake.days(CHECKINS)


def test_a_district_feeds_its_own_venues_only(
    lake: Lake, personas: dict[str, User], world: dict[str, int]
) -> None:
    officer = actor_of(personas["district_officer"])
    sibling = actor_of(personas["sibling_district_officer"])
    rows = [(world["p3"], world["va"], T)]  # a person of district B scanning in district A
    with clock.frozen(NOW):
        assert services.checkins_ingest(officer, client_id="a", batch_id="1", rows=rows).created
        with pytest.raises(Invalid) as refused:
            services.checkins_ingest(sibling, client_id="b", batch_id="1", rows=rows)
        with pytest.raises(Invalid) as missing:
            services.checkins_ingest(
                sibling, client_id="b", batch_id="1", rows=[(world["p3"], 987_654_321, T)]
            )
        assert refused.value.detail == missing.value.detail
        with pytest.raises(NotAllowed):
            services.checkins_ingest(
                actor_of(personas["grid_worker"]), client_id="g", batch_id="1", rows=rows
            )
        with pytest.raises(Invalid):  # cells are city-wide: a district does not send them
            services.dwell_ingest(
                officer, client_id="a", batch_id="d", rows=[(world["p1"], 5, T - 900, T)]
            )
    assert IngestBatch.objects.count() == 1


def test_dwell_records_and_the_trajectory(lake: Lake, system: Actor, world: dict[str, int]) -> None:
    p1 = world["p1"]
    with clock.frozen(NOW):
        services.dwell_ingest(
            system,
            client_id="telecom",
            batch_id="1",
            rows=[(p1, 77, T - 7200, T - 3600), (p1, 78, T - 3600, T - 60)],
        )
        with pytest.raises(Invalid):
            services.dwell_ingest(
                system, client_id="telecom", batch_id="2", rows=[(p1, 77, T - 100, T - 200)]
            )
        services.checkins_ingest(
            system, client_id="c", batch_id="1", rows=[(p1, world["va"], T - 1000)]
        )
    seen = selectors.trajectory(scope=system.scope, person_id=p1, start=T - 5000, end=T)
    assert [(s.venue_id, s.ts) for s in seen.scans] == [(world["va"], T - 1000)]
    assert [(s.cell_id, s.start_ts) for s in seen.stays] == [(77, T - 7200), (78, T - 3600)]
    assert len(lake.days(DWELL)) == 1


def test_retention_removes_partitions_past_the_period(
    lake: Lake, system: Actor, world: dict[str, int]
) -> None:
    day = dt.timedelta(days=1)
    with clock.frozen(NOW - 27 * day):
        services.checkins_ingest(
            system, client_id="c", batch_id="old", rows=[(world["p1"], world["va"], T - 27 * 86400)]
        )
    with clock.frozen(NOW):
        services.checkins_ingest(
            system, client_id="c", batch_id="new", rows=[(world["p1"], world["va"], T)]
        )
    assert len(lake.days(CHECKINS)) == 2
    with clock.frozen(NOW):
        kept = services.retention_apply(system, lake=lake)
    assert kept.dropped == {}
    with clock.frozen(NOW + 2 * day):
        gone = services.retention_apply(system, lake=lake)
    assert list(gone.dropped) == ["checkins"]
    assert lake.days(CHECKINS) == [day_of(T)]
    assert list(IngestBatch.objects.values_list("batch_id", flat=True)) == ["new"]
    assert AuditEntry.objects.filter(action="lake.retention_apply").count() == 1
    # a record older than the period is refused at the door
    with clock.frozen(NOW), pytest.raises(Invalid):
        services.checkins_ingest(
            system,
            client_id="c",
            batch_id="late",
            rows=[(world["p1"], world["va"], T - 29 * 86400)],
        )
