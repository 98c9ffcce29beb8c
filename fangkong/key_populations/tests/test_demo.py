"""The demo: employers and members in every district, some overdue, and a second run that
adds nothing."""

from __future__ import annotations

import pytest

from conftest import Tree
from fangkong.accounts.models import User
from fangkong.assignments.models import Assignment
from fangkong.core.actor import Actor
from fangkong.key_populations.demo import demo_run
from fangkong.key_populations.models import Employer, EmployerAccount, Member, MemberTest
from fangkong.people.tests.factories import person, resident_id
from fangkong.policy.models import RulebookVersion

pytestmark = pytest.mark.django_db


def test_demo_fills_every_district_with_overdue_members_and_is_idempotent(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    for _ in range(12):
        person(system, two_districts.grid_a)
        person(system, two_districts.grid_b, doc_number=resident_id(area="440903"))
    user = User.objects.create(username="demo_employer", role="employer")
    user.jurisdictions.set([two_districts.town_a])
    lines = demo_run(actor=system, seed=7)
    assert lines[0].startswith("Key populations: 6 employers")
    paths = set(Employer.objects.values_list("jurisdiction_path", flat=True))
    assert paths == {two_districts.town_a.path, two_districts.town_b.path}
    assert Member.objects.count() == 24
    overdue = Member.objects.filter(status="overdue").count()
    assert overdue > 0
    assert Assignment.objects.filter(kind="keypop_overdue").count() == overdue
    assert EmployerAccount.objects.get(user=user).employer.jurisdiction_path == (
        two_districts.town_a.path
    )
    assert sum(Employer.objects.values_list("overdue_count", flat=True)) == overdue
    counts = (Employer.objects.count(), Member.objects.count(), MemberTest.objects.count())
    again = demo_run(actor=system, seed=7)
    assert (
        again[0]
        == "Key populations: 6 employers, 0 new members, 0 samplings from the employers' lists"
    )
    assert (Employer.objects.count(), Member.objects.count(), MemberTest.objects.count()) == counts
    assert Assignment.objects.filter(kind="keypop_overdue").count() == overdue
