"""`fangkong assignments rebuild-tally`: the counters after a bulk load that bypassed them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from conftest import Tree
from fangkong.assignments import services
from fangkong.assignments.models import Assignment, AssignmentDayTally, AssignmentTally
from fangkong.assignments.tests.factories import T0, assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db


def test_rebuild_tally_counts_rows_loaded_without_the_services(
    two_districts: Tree,
    system: Actor,
    rulebook: RulebookVersion,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with clock.frozen(T0):
        done = assignment(system, two_districts.grid_a, kind="contact_list")
        services.assignment_complete(actor=system, assignment=done, outcome="ok")
        assignment(system, two_districts.grid_a, kind="contact_list")
    # a bulk loader writes rows directly: the counters do not know about them
    Assignment.objects.bulk_create(
        [
            Assignment(
                kind="contact_list",
                title="Loaded",
                subject_type="person",
                subject_id=str(n),
                jurisdiction=two_districts.grid_b,
                jurisdiction_path=two_districts.grid_b.path,
                jurisdiction_level=two_districts.grid_b.level,
                status="done" if n else "open",
                due_at=T0,
                created_at=T0,
                updated_at=T0,
                closed_at=T0 + dt.timedelta(hours=n) if n else None,
            )
            for n in range(3)
        ]
    )
    AssignmentTally.objects.all().delete()

    call_command("assignments", "rebuild-tally")

    assert "active-work rows" in capsys.readouterr().out
    city = AssignmentTally.objects.get(node_path="/4409/", kind="contact_list")
    assert city.active == 2
    days = AssignmentDayTally.objects.filter(node_path="/4409/").values_list("day", "done")
    assert set(days) == {(dt.date(2022, 1, 20), 3)}
