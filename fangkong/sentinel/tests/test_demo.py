"""The demo over a small city: units from the place registry report daily for four weeks, a
seeded cluster raises alerts, today's buyers get test requirements; a second run adds nothing."""

from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.core.actor import Actor
from fangkong.people.tests.factories import person as make_person
from fangkong.places.models import Place
from fangkong.policy.models import RulebookVersion
from fangkong.sentinel.demo import demo_run
from fangkong.sentinel.models import Alert, DailyReport, Registration, SeriesCount, Unit

pytestmark = pytest.mark.django_db


def test_demo_reports_daily_raises_alerts_and_assigns_tests_once(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    t = two_districts
    for i, (grid, kind) in enumerate(
        [
            (t.grid_a, "pharmacy"),
            (t.grid_a2, "pharmacy"),
            (t.grid_a, "clinic"),
            (t.grid_b, "pharmacy"),
            (t.grid_b, "fever_clinic"),
        ]
    ):
        Place.objects.create(
            code=f"PC{i:04d}", name=f"place {i}", kind=kind, category="sentinel",
            jurisdiction=grid, jurisdiction_path=grid.path,
        )  # fmt: skip
    for grid in [t.grid_a] * 6 + [t.grid_b] * 4:
        make_person(system, grid)
    lines = demo_run(actor=system, seed=1)
    assert len(lines) == 3
    assert Unit.objects.count() == 5
    assert Registration.objects.count() > 100
    assert DailyReport.objects.filter(zero=False).count() > 100
    assert SeriesCount.objects.filter(level="district").exists()
    assert Alert.objects.exists()
    assert Assignment.objects.filter(kind="verify_sentinel_alert").count() == Alert.objects.count()
    assert Assignment.objects.filter(kind="follow_up_drug_buyer").exists()
    counts = (Registration.objects.count(), Alert.objects.count(), Assignment.objects.count())
    assert demo_run(actor=system, seed=1) == []
    assert (
        Registration.objects.count(),
        Alert.objects.count(),
        Assignment.objects.count(),
    ) == counts
