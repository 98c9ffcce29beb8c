"""The demo city's control orders: several districts, every path through the services."""

from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.audit.models import AuditEntry
from fangkong.control.demo import demo_orders_issue
from fangkong.control.models import ChangeRequest, ControlOrder
from fangkong.control.tests import factories
from fangkong.core.actor import Actor
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db


def test_demo_orders_cover_every_district_and_a_second_run_changes_nothing(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    for _ in range(4):
        factories.person(system, two_districts.grid_a)
    for _ in range(3):
        factories.person(system, two_districts.grid_b)
    first = demo_orders_issue(actor=system, per_district=10)
    assert first.issued == 7
    assert first.pending_requests == 2
    assert first.in_effect >= 4
    paths = set(ControlOrder.objects.values_list("jurisdiction_path", flat=True))
    assert any(p.startswith(two_districts.district_a.path) for p in paths)
    assert any(p.startswith(two_districts.district_b.path) for p in paths)
    orders = ControlOrder.objects.count()
    second = demo_orders_issue(actor=system, per_district=10)
    assert (second.issued, second.pending_requests) == (0, 0)
    assert ControlOrder.objects.count() == orders
    assert ChangeRequest.objects.filter(status="pending").count() == 2
    assert not AuditEntry.objects.filter(action="control.order_absorb").exists()
