"""The demo's check-ins: 14 days, 2-3 scans per person per day, co-presences found; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.audit.models import AuditEntry
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.lake.demo import DAYS, demo_run
from fangkong.lake.engine import CaseWindow, cell_copresence, venue_copresence
from fangkong.lake.layout import CHECKINS, DWELL, Lake
from fangkong.lake.models import IngestBatch
from fangkong.people.tests.factories import person
from fangkong.places.models import PlaceKind
from fangkong.places.tests.factories import place

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def test_demo_lake_has_fourteen_days_of_scans_and_a_second_run_adds_nothing(
    lake: Lake, two_districts: Tree, system: Actor
) -> None:
    people = [
        person(system, g).pk for g in [two_districts.grid_a] * 12 + [two_districts.grid_b] * 8
    ]
    for grid in (two_districts.grid_a, two_districts.grid_b):
        place(grid, kind=PlaceKind.RESTAURANT)
        place(grid, kind=PlaceKind.MARKET)
    place(two_districts.grid_a, kind=PlaceKind.QUARANTINE_FACILITY)  # no place code to scan
    with clock.frozen(NOW):
        lines = demo_run(actor=system, seed=3)
        assert len(lines) == 1
        assert len(lake.days(CHECKINS)) == DAYS
        assert len(lake.days(DWELL)) == DAYS
        scans = IngestBatch.objects.filter(kind="checkins").values_list("rows", flat=True)
        per_person_day = sum(scans) / len(people) / DAYS
        # 2 or 3 scans a day; the last day ends at the demo's "now" (20:00 city time)
        assert 2.0 <= per_person_day <= 3.0
        assert demo_run(actor=system, seed=3) == []
    assert AuditEntry.objects.filter(action="lake.demo_generate").count() == 1
    start = int((NOW - dt.timedelta(days=5)).timestamp())
    window = [CaseWindow(people[0], start, int(NOW.timestamp()))]
    assert venue_copresence(lake, window)  # twenty people, four venues: they meet
    assert cell_copresence(lake, window, cumulative_seconds=None)
