"""The demo cluster on a small city: cases over several days, engine candidates confirmed into
orders in the right grids and assist requests to the other district; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pytest_django.fixtures import Settings as SettingsWrapper

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.control.models import ControlOrder
from fangkong.control.tests.factories import NOW
from fangkong.core.actor import Actor
from fangkong.people.models import Household
from fangkong.policy.models import RulebookVersion
from fangkong.screening.models import AssistRequest
from fangkong.tracing.demo import demo_run
from fangkong.tracing.models import Case, Cluster, Contact
from fangkong.tracing.tests import factories
from fangkong.tracing.tests.lakes import lake_with


def test_demo_builds_a_cluster_over_several_days_and_is_idempotent(
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    tmp_path: Path,
    settings: SettingsWrapper,
) -> None:
    settings.LAKE_DIR = tmp_path
    t = two_districts
    home = Household.objects.create(
        code="H1", grid=t.grid_a, jurisdiction_path=t.grid_a.path, size=3
    )
    family = [factories.person_in(system, t.grid_a, household=home) for _ in range(3)]
    neighbours = [
        factories.person_in(system, g) for g in (t.grid_a, t.grid_a2, t.grid_a2, t.grid_b, t.grid_b)
    ]
    everyone = family + neighbours
    scans = []
    for day in range(1, 8):
        when = NOW - dt.timedelta(days=day)
        for i, p in enumerate(everyone):
            scans.append((p.pk, 9001, when + dt.timedelta(minutes=2 * i)))
    lake_with(tmp_path, scans)

    lines = demo_run(actor=system, seed=7)
    assert len(lines) == 3
    cluster = Cluster.objects.get(basis_type="demo")
    cases = list(Case.objects.filter(cluster=cluster).order_by("pk"))
    assert len(cases) == 3
    assert cases[0].imported
    assert {c.infected_by_id for c in cases[1:]} == {cases[0].pk}
    assert len({c.sampled_at.date() for c in cases}) == 3  # confirmed over several days
    confirmed = Contact.objects.filter(case__cluster=cluster, status="confirmed")
    assert confirmed.filter(exposure="household").count() == 2
    # Every confirmed contact in district A has an order and work in their own grid.
    for edge in confirmed.filter(
        person_path__startswith=t.district_a.path, became_case__isnull=True
    ):
        order = ControlOrder.objects.get(pk=int(edge.order_id or 0))
        work = Assignment.objects.get(subject_type="control.order", subject_id=str(order.pk))
        assert work.jurisdiction_id == edge.person.grid_id
    # Those staying in district B went to B's assist inbox.
    elsewhere = confirmed.filter(person_path__startswith=t.district_b.path)
    assert elsewhere.exists()
    assert all(e.order_id is None and e.assist_request_id for e in elsewhere)
    assert AssistRequest.objects.filter(jurisdiction_path=t.district_b.path).exists()

    before = (Case.objects.count(), Contact.objects.count(), ControlOrder.objects.count())
    assert demo_run(actor=system, seed=7) == []
    assert (Case.objects.count(), Contact.objects.count(), ControlOrder.objects.count()) == before
