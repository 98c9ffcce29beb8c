"""The demo city's screening: push lists and self-reports over simulated days; idempotent."""

from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.core.actor import Actor
from fangkong.people.tests.factories import person
from fangkong.policy.models import RulebookVersion
from fangkong.screening.demo import demo_run
from fangkong.screening.models import Arrival, ArrivalTally, AssistRequest, ImportBatch

pytestmark = pytest.mark.django_db


def test_demo_fills_the_board_and_a_second_run_adds_nothing(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    for grid in (two_districts.grid_a, two_districts.grid_a2, two_districts.grid_b):
        for _ in range(3):
            person(system, grid, phone="13800000000", address="站南社区1号")
    lines = demo_run(actor=system, seed=7)
    assert len(lines) == 3
    assert ImportBatch.objects.filter(state="done").count() == 8  # 2 districts x 4 days
    assert Arrival.objects.filter(status="verified").exists()
    assert AssistRequest.objects.count() == 1
    figures = dict(
        ArrivalTally.objects.filter(node_path=two_districts.city.path).values_list("key", "count")
    )
    assert figures["received"] == Arrival.objects.count()
    assert figures["verified"] > 0
    assert figures["duplicates"] > 0
    before = Arrival.objects.count()
    assert demo_run(actor=system, seed=7) == []
    assert Arrival.objects.count() == before


def test_the_tally_rebuild_agrees_with_the_kept_counters(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    from fangkong.screening import tally

    for grid in (two_districts.grid_a, two_districts.grid_b):
        person(system, grid, phone="13800000000", address="站南社区1号")
    demo_run(actor=system, seed=3)
    kept = set(ArrivalTally.objects.exclude(count=0).values_list("node_path", "key", "count"))
    tally.rebuild()
    assert set(ArrivalTally.objects.values_list("node_path", "key", "count")) == kept
