"""Pure decisions about control orders, tested without the database."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.control import rules
from fangkong.control.rules import ActiveFact, SampleFact, Status, Supersession
from fangkong.policy.editions import edition_text
from fangkong.policy.rules import plan_for
from fangkong.policy.schema import Category, Measure, Rulebook, parse_rulebook

D = dt.date(2022, 1, 10)


@pytest.fixture(scope="module")
def ninth() -> Rulebook:
    return parse_rulebook(edition_text("ninth-edition-2022"))


@pytest.fixture(scope="module")
def winter() -> Rulebook:
    return parse_rulebook(edition_text("winter-2021"))


def _active(book: Rulebook, category: Category, anchor: dt.date, order_id: int = 1) -> ActiveFact:
    plan = plan_for(book, category, anchor=anchor)
    return ActiveFact(order_id, plan.phases, plan.release_on)


def test_state_machine_allows_the_documented_moves_only() -> None:
    assert rules.can_transition(Status.ISSUED, Status.IN_EFFECT)
    assert rules.can_transition(Status.IN_EFFECT, Status.RELEASED)
    assert rules.can_transition(Status.PENDING_APPROVAL, Status.ISSUED)
    assert not rules.can_transition(Status.RELEASED, Status.IN_EFFECT)
    assert not rules.can_transition(Status.IN_EFFECT, Status.ISSUED)
    assert not rules.can_transition(Status.SUPERSEDED, Status.RELEASED)
    assert not rules.can_transition(Status.PENDING_APPROVAL, Status.RELEASED)
    for final in rules.FINAL:
        assert rules.TRANSITIONS[final] == frozenset()


def test_next_test_is_the_earliest_pending_one_overdue_included() -> None:
    tests = [
        SampleFact(1, D, "negative"),
        SampleFact(2, D + dt.timedelta(days=2), "pending"),
        SampleFact(3, D + dt.timedelta(days=1), "pending"),
        SampleFact(4, D - dt.timedelta(days=1), "missed"),
    ]
    assert rules.next_test(tests) == D + dt.timedelta(days=1)
    assert rules.next_test([SampleFact(1, D, "negative")]) is None


def test_release_is_blocked_by_a_missing_and_a_positive_test() -> None:
    tests = [
        SampleFact(1, D, "negative"),
        SampleFact(2, D + dt.timedelta(days=1), "missed"),
        SampleFact(3, D + dt.timedelta(days=2), "positive"),
        SampleFact(4, D + dt.timedelta(days=3), "pending"),
    ]
    blockers = rules.release_blockers(tests, release_on=D, today=D + dt.timedelta(days=5))
    assert [(b.code, b.test_id) for b in blockers] == [
        ("test_missing", 2),
        ("test_positive", 3),
        ("test_missing", 4),
    ]


def test_release_is_allowed_when_every_test_is_negative_on_the_release_date() -> None:
    tests = [SampleFact(1, D, "negative"), SampleFact(2, D + dt.timedelta(days=1), "negative")]
    assert (
        rules.release_blockers(
            tests, release_on=D + dt.timedelta(days=3), today=D + dt.timedelta(days=3)
        )
        == []
    )


def test_release_before_the_planned_end_is_blocked() -> None:
    blockers = rules.release_blockers([], release_on=D, today=D - dt.timedelta(days=1))
    assert [b.code for b in blockers] == ["before_release_date"]
    assert blockers[0].as_dict() == {
        "code": "before_release_date",
        "test_id": None,
        "due_on": D.isoformat(),
    }


def test_no_active_order_means_issue(ninth: Rulebook) -> None:
    plan = plan_for(ninth, Category.CLOSE_CONTACT, anchor=D)
    decision = rules.supersession(
        ninth, new_phases=plan.phases, new_release_on=plan.release_on, active=[], today=D
    )
    assert decision == (Supersession.ISSUE, None)


def test_close_contact_supersedes_copresence(ninth: Rulebook) -> None:
    active = [_active(ninth, Category.COPRESENCE_CONTACT, D)]
    plan = plan_for(ninth, Category.CLOSE_CONTACT, anchor=D)
    decision = rules.supersession(
        ninth, new_phases=plan.phases, new_release_on=plan.release_on, active=active, today=D
    )
    assert decision == (Supersession.SUPERSEDE, None)


def test_a_weaker_order_is_absorbed_by_a_stricter_one(ninth: Rulebook) -> None:
    active = [_active(ninth, Category.CLOSE_CONTACT, D, order_id=7)]
    plan = plan_for(ninth, Category.COPRESENCE_CONTACT, anchor=D)
    decision = rules.supersession(
        ninth, new_phases=plan.phases, new_release_on=plan.release_on, active=active, today=D
    )
    assert decision == (Supersession.ABSORB, 7)


def test_replacing_a_stricter_order_is_a_downgrade(ninth: Rulebook) -> None:
    active = [_active(ninth, Category.CLOSE_CONTACT, D, order_id=7)]
    plan = plan_for(ninth, Category.COPRESENCE_CONTACT, anchor=D)
    decision = rules.supersession(
        ninth,
        new_phases=plan.phases,
        new_release_on=plan.release_on,
        active=active,
        today=D,
        replace_stricter=True,
    )
    assert decision == (Supersession.DOWNGRADE, 7)


def test_a_later_exposure_of_the_same_kind_restarts_the_clock(ninth: Rulebook) -> None:
    active = [_active(ninth, Category.CLOSE_CONTACT, D, order_id=3)]
    later = plan_for(ninth, Category.CLOSE_CONTACT, anchor=D + dt.timedelta(days=2))
    earlier = plan_for(ninth, Category.CLOSE_CONTACT, anchor=D - dt.timedelta(days=1))
    assert rules.supersession(
        ninth, new_phases=later.phases, new_release_on=later.release_on, active=active, today=D
    ) == (Supersession.SUPERSEDE, None)
    assert rules.supersession(
        ninth, new_phases=earlier.phases, new_release_on=earlier.release_on, active=active, today=D
    ) == (Supersession.ABSORB, 3)


def test_strictness_compares_what_is_left_of_the_active_order(ninth: Rulebook) -> None:
    # Day 9 of a close-contact order: only home health monitoring is left, so a secondary
    # contact's home quarantine is stricter and supersedes it.
    active = [_active(ninth, Category.CLOSE_CONTACT, D, order_id=3)]
    day9 = D + dt.timedelta(days=9)
    plan = plan_for(ninth, Category.SECONDARY_CONTACT, anchor=day9)
    assert rules.supersession(
        ninth, new_phases=plan.phases, new_release_on=plan.release_on, active=active, today=day9
    ) == (Supersession.SUPERSEDE, None)


def test_measure_on_follows_the_phases(ninth: Rulebook) -> None:
    plan = plan_for(ninth, Category.CLOSE_CONTACT, anchor=D)
    phases = rules.phases_from_json(rules.phases_to_json(plan))
    assert phases == plan.phases
    assert rules.measure_on(phases, D) == Measure.CENTRALIZED_QUARANTINE  # before day 1
    assert rules.measure_on(phases, D + dt.timedelta(days=7)) == Measure.CENTRALIZED_QUARANTINE
    assert rules.measure_on(phases, D + dt.timedelta(days=8)) == Measure.HOME_HEALTH_MONITORING
    assert rules.measure_on(phases, D + dt.timedelta(days=30)) == Measure.HOME_HEALTH_MONITORING


def test_approval_is_needed_without_basis_over_the_bulk_threshold_and_to_downgrade(
    winter: Rulebook,
) -> None:
    threshold = winter.approval.bulk_change_threshold
    assert rules.approval_reasons(winter, basis_type="contact") == []
    assert rules.approval_reasons(winter, basis_type="manual") == ["no_basis"]
    assert rules.approval_reasons(winter, basis_type="test", count=threshold) == []
    assert rules.approval_reasons(winter, basis_type="test", count=threshold + 1) == ["bulk"]
    assert rules.approval_reasons(winter, basis_type="case", downgrade=True) == ["downgrade"]


def test_common_path_is_the_deepest_covering_node() -> None:
    assert rules.common_path(["/4409/440902/1/", "/4409/440902/2/"]) == "/4409/440902/"
    assert rules.common_path(["/4409/440902/1/"]) == "/4409/440902/1/"
    assert rules.common_path(["/4409/440902/", "/4409/440903/"]) == "/4409/"
    assert rules.common_path(["/4409/", "/4410/"]) == "/"


def test_place_follows_the_measure() -> None:
    assert rules.place_kind(Measure.CENTRALIZED_QUARANTINE) == "facility"
    assert rules.place_kind(Measure.HOSPITAL_TREATMENT) == "hospital"
    assert rules.place_kind(Measure.HOME_QUARANTINE) == "home"
