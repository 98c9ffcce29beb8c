"""The demo round over a small city: every board has numbers; a second run adds nothing."""

from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.core.actor import Actor
from fangkong.mass_testing.demo import demo_run
from fangkong.mass_testing.models import Coverage, PositivePool, Round, Sample, Tube
from fangkong.mass_testing.tests import factories as f
from fangkong.policy.models import RulebookVersion
from fangkong.tracing.models import Case

pytestmark = pytest.mark.django_db


def test_demo_round_fills_every_board_and_runs_once(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    t = two_districts
    for grid in [t.grid_a] * 25 + [t.grid_a2] * 20 + [t.grid_b] * 25:
        f.person(system, grid)
    lines = demo_run(actor=system, seed=3)
    assert len(lines) == 2
    rnd = Round.objects.get()
    assert Sample.objects.count() > 50
    assert Tube.objects.exclude(result="pending").exists()
    assert PositivePool.objects.filter(status="resolved").count() == 2
    assert PositivePool.objects.filter(status="open").count() == 1
    assert Case.objects.count() == 1
    assert Coverage.objects.filter(round=rnd).count() == 3
    samples = Sample.objects.count()
    assert demo_run(actor=system, seed=3) == []
    assert Sample.objects.count() == samples
