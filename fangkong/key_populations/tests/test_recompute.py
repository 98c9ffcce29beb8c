"""The set-based recompute: the database's day arithmetic agrees with rules.next_due across
month ends, year ends and leap days; statuses, counters, mass-testing results and grid work."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.key_populations import rules
from fangkong.key_populations.models import Employer, Member
from fangkong.key_populations.recompute import keypop_recompute
from fangkong.key_populations.services import member_test_record
from fangkong.key_populations.tests import factories
from fangkong.mass_testing.models import Round, Sample, Tube
from fangkong.policy.selectors import rulebook_in_force

pytestmark = pytest.mark.django_db
D = dt.date

LAST_TESTED = [
    D(2021, 12, 29),
    D(2021, 12, 31),
    D(2022, 1, 30),
    D(2022, 1, 31),
    D(2022, 2, 28),
    D(2024, 2, 27),
    D(2024, 2, 28),
    D(2024, 2, 29),
    D(2023, 2, 28),
    D(2022, 4, 30),
    None,
]
GROUPS = ["mail_express", "medical", "driver", "port_airport"]


def test_the_database_counts_due_days_as_the_rules_do_across_month_and_year_ends(
    employer_a: Employer, system: Actor
) -> None:
    members = factories.members(system, employer_a, len(LAST_TESTED) * len(GROUPS))
    pairs = [(g, d) for g in GROUPS for d in LAST_TESTED]
    for m, (group, day) in zip(members, pairs, strict=True):
        Member.objects.filter(pk=m.pk).update(
            group_kind=group, last_tested_on=day, joined_on=D(2021, 12, 1)
        )
    section = rulebook_in_force().book.key_populations
    for today in (D(2022, 1, 1), D(2022, 3, 1), D(2024, 3, 1), D(2024, 2, 29)):
        keypop_recompute(actor=system, today=today)
        for m in Member.objects.filter(employer=employer_a):
            due = rules.next_due(
                joined_on=m.joined_on,
                last_tested_on=m.last_tested_on,
                interval=rules.interval_days(section, m.group_kind),
            )
            assert m.next_due_on == due, (m.group_kind, m.last_tested_on)
            assert m.status == rules.status_on(due_on=due, today=today), (m.last_tested_on, today)
    # spot checks, spelled out: medical staff twice a week (every 3 days) in the ninth edition
    medical = {
        m.last_tested_on: m.next_due_on
        for m in Member.objects.filter(employer=employer_a, group_kind="medical")
    }
    assert medical[D(2024, 2, 27)] == D(2024, 3, 1)
    assert medical[D(2023, 2, 28)] == D(2023, 3, 3)
    assert medical[D(2021, 12, 31)] == D(2022, 1, 3)
    assert medical[D(2022, 1, 30)] == D(2022, 2, 2)


def test_counters_follow_and_a_second_run_changes_nothing(
    employer_a: Employer, system: Actor, two_districts: Tree
) -> None:
    members = factories.members(system, employer_a, 4, grid=two_districts.grid_a.code)
    Member.objects.filter(pk=members[0].pk).update(last_tested_on=D(2022, 1, 10))  # ok
    Member.objects.filter(pk=members[1].pk).update(last_tested_on=D(2022, 1, 9))  # due
    Member.objects.filter(pk__in=[members[2].pk, members[3].pk]).update(
        last_tested_on=D(2022, 1, 5)
    )  # overdue
    first = keypop_recompute(actor=system)
    assert (first.overdue, first.work_created) == (2, 2)
    employer_a.refresh_from_db()
    assert (employer_a.member_count, employer_a.due_count, employer_a.overdue_count) == (4, 1, 2)
    second = keypop_recompute(actor=system)
    assert (second.due_changed, second.status_changed, second.work_created) == (0, 0, 0)
    assert Assignment.objects.filter(kind="keypop_overdue").count() == 2


def test_overdue_members_become_work_in_the_grid_where_they_live_and_a_test_closes_it(
    employer_a: Employer, system: Actor, two_districts: Tree
) -> None:
    (member,) = factories.members(system, employer_a, 1, grid=two_districts.grid_b.code)
    Member.objects.filter(pk=member.pk).update(last_tested_on=D(2022, 1, 1))
    keypop_recompute(actor=system)
    item = Assignment.objects.get(kind="keypop_overdue")
    # the employer is in district A; the person lives in grid B: territorial responsibility
    assert item.jurisdiction_id == two_districts.grid_b.pk
    assert (item.subject_type, item.subject_id) == ("keypop_member", str(member.pk))
    assert item.detail["duty"] == "scheduled_test"
    member.refresh_from_db()
    member_test_record(actor=system, member=member, sampled_on=D(2022, 1, 10))
    item.refresh_from_db()
    assert item.status == "done"
    member.refresh_from_db()
    assert (member.status, member.work_due_on) == ("ok", None)


def _sample(tree: Tree, member: Member, at: dt.datetime) -> None:
    rnd = Round.objects.create(
        name="r",
        jurisdiction_path=tree.district_a.path,
        starts_at=at,
        deadline=at + dt.timedelta(days=1),
        policy_version=1,
        created_by="t",
        created_at=at,
    )
    person = member.person
    tube = Tube.objects.create(
        barcode=f"T{member.pk}",
        round=rnd,
        jurisdiction_path=person.jurisdiction_path,
        kind="pooled",
        pool_size=10,
        opened_at=at,
        result="negative",
        result_at=at + dt.timedelta(hours=5),
    )
    Sample.objects.create(
        round=rnd,
        tube=tube,
        person=person,
        jurisdiction_path=person.jurisdiction_path,
        grid=person.grid,
        sampled_at=at,
        client_id=f"c-{member.pk}",
        received_at=at,
    )


def test_mass_testing_samples_move_the_last_test_day_by_the_city_calendar(
    employer_a: Employer, system: Actor, two_districts: Tree
) -> None:
    a, b = factories.members(system, employer_a, 2, grid=two_districts.grid_a.code)
    Member.objects.filter(pk__in=[a.pk, b.pk]).update(last_tested_on=D(2022, 1, 3))
    # 23:30 UTC on the 8th is 07:30 on the 9th in Shanghai: the city day counts
    _sample(two_districts, a, dt.datetime(2022, 1, 8, 23, 30, tzinfo=dt.UTC))
    result = keypop_recompute(actor=system)
    assert result.tests_seen == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.last_tested_on, a.next_due_on, a.status) == (D(2022, 1, 9), D(2022, 1, 10), "due")
    assert b.status == "overdue"
    assert clock.local_date() == D(2022, 1, 10)


def test_a_test_day_never_moves_back(
    employer_a: Employer, system: Actor, two_districts: Tree
) -> None:
    (m,) = factories.members(system, employer_a, 1, grid=two_districts.grid_a.code)
    member_test_record(actor=system, member=m, sampled_on=D(2022, 1, 10))
    _sample(two_districts, m, dt.datetime(2022, 1, 8, 1, 0, tzinfo=dt.UTC))
    keypop_recompute(actor=system)
    m.refresh_from_db()
    assert m.last_tested_on == D(2022, 1, 10)
