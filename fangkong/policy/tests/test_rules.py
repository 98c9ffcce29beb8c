"""Policy decisions as pure functions: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.policy import rules
from fangkong.policy.editions import edition_text
from fangkong.policy.schema import (
    Category,
    CodeColour,
    Duty,
    Measure,
    RiskArea,
    RiskLevel,
    Rulebook,
    parse_rulebook,
)

D = dt.date
WINTER = parse_rulebook(edition_text("winter-2021"))
NINTH = parse_rulebook(edition_text("ninth-edition-2022"))
SPRING_FESTIVAL_2022 = D(2022, 2, 1)


def _shape(
    plan: rules.MeasurePlan,
) -> list[tuple[str, dt.date, dt.date | None, tuple[dt.date, ...]]]:
    return [(p.measure.value, p.first_day, p.last_day, p.test_dates) for p in plan.phases]


def test_winter_close_contact_14_days_centralized_then_7_home_monitoring_over_spring_festival() -> (
    None
):
    # Last exposure on 20 January: day 1 is 21 January; the 14 days run across the festival.
    plan = rules.plan_for(WINTER, Category.CLOSE_CONTACT, anchor=D(2022, 1, 20))
    assert _shape(plan) == [
        (
            "centralized_quarantine",
            D(2022, 1, 21),
            D(2022, 2, 3),
            (D(2022, 1, 21), D(2022, 1, 24), D(2022, 1, 27), D(2022, 2, 3)),
        ),
        ("home_health_monitoring", D(2022, 2, 4), D(2022, 2, 10), (D(2022, 2, 5), D(2022, 2, 10))),
    ]
    assert plan.release_on == D(2022, 2, 11)
    assert plan.phase_on(SPRING_FESTIVAL_2022) is not None
    assert plan.phase_on(SPRING_FESTIVAL_2022).measure == Measure.CENTRALIZED_QUARANTINE  # type: ignore[union-attr]


def test_winter_secondary_contact_7_days_centralized() -> None:
    plan = rules.plan_for(WINTER, Category.SECONDARY_CONTACT, anchor=D(2022, 1, 28))
    assert _shape(plan) == [
        (
            "centralized_quarantine",
            D(2022, 1, 28),
            D(2022, 2, 3),
            (D(2022, 1, 28), D(2022, 1, 31), D(2022, 2, 3)),
        ),
    ]
    assert plan.release_on == D(2022, 2, 4)


def test_ninth_close_contact_7_plus_3_across_a_month_end() -> None:
    plan = rules.plan_for(NINTH, Category.CLOSE_CONTACT, anchor=D(2022, 6, 27))
    assert _shape(plan) == [
        (
            "centralized_quarantine",
            D(2022, 6, 28),
            D(2022, 7, 4),
            (D(2022, 6, 28), D(2022, 6, 29), D(2022, 6, 30), D(2022, 7, 2), D(2022, 7, 4)),
        ),
        ("home_health_monitoring", D(2022, 7, 5), D(2022, 7, 7), (D(2022, 7, 7),)),
    ]
    assert plan.release_on == D(2022, 7, 8)


def test_ninth_secondary_contact_7_days_home_quarantine() -> None:
    plan = rules.plan_for(NINTH, Category.SECONDARY_CONTACT, anchor=D(2022, 2, 26))
    assert _shape(plan) == [
        (
            "home_quarantine",
            D(2022, 2, 26),
            D(2022, 3, 4),
            (D(2022, 2, 26), D(2022, 3, 1), D(2022, 3, 4)),
        ),
    ]
    assert plan.release_on == D(2022, 3, 5)


@pytest.mark.parametrize(
    ("category", "measure", "days", "tests"),
    [
        (Category.ARRIVAL_HIGH_RISK, Measure.CENTRALIZED_QUARANTINE, 7, (1, 2, 3, 5, 7)),
        (Category.ARRIVAL_MEDIUM_RISK, Measure.HOME_QUARANTINE, 7, (1, 4, 7)),
    ],
)
def test_ninth_arrivals_from_risk_areas(
    category: Category, measure: Measure, days: int, tests: tuple[int, ...]
) -> None:
    left = D(2022, 1, 31)  # left the area on New Year's Eve; day 1 is the festival
    plan = rules.plan_for(NINTH, category, anchor=left)
    first = plan.phases[0]
    assert first.measure == measure
    assert first.first_day == SPRING_FESTIVAL_2022
    assert first.last_day == SPRING_FESTIVAL_2022 + dt.timedelta(days=days - 1)
    assert first.test_dates == tuple(SPRING_FESTIVAL_2022 + dt.timedelta(days=d - 1) for d in tests)


@pytest.mark.parametrize("category", [Category.ARRIVAL_LOW_RISK, Category.COPRESENCE_CONTACT])
def test_ninth_two_tests_within_three_days_24h_apart(category: Category) -> None:
    plan = rules.plan_for(NINTH, category, anchor=D(2022, 2, 28))
    assert plan.measure == Measure.TESTS_WITHIN
    assert plan.test_dates == (D(2022, 2, 28), D(2022, 3, 1))
    assert plan.release_on == D(2022, 3, 3)


def test_cases_are_open_ended() -> None:
    for book in (WINTER, NINTH):
        plan = rules.plan_for(book, Category.CONFIRMED_CASE, anchor=D(2022, 1, 5))
        assert plan.measure == Measure.HOSPITAL_TREATMENT
        assert plan.release_on is None


def test_every_category_has_a_plan_in_both_editions() -> None:
    for book in (WINTER, NINTH):
        for category in Category:
            plan = rules.plan_for(book, category, anchor=D(2022, 12, 30))
            assert plan.phases
            assert all(d >= plan.day_one for d in plan.test_dates)


def test_a_late_start_drops_past_tests_and_tests_on_the_first_day() -> None:
    # Found 3 days after last exposure: days 1-2 tests cannot be done; test on isolation.
    plan = rules.plan_for(NINTH, Category.CLOSE_CONTACT, anchor=D(2022, 3, 1), start=D(2022, 3, 4))
    assert plan.phases[0].first_day == D(2022, 3, 4)
    assert plan.phases[0].test_dates == (D(2022, 3, 4), D(2022, 3, 6), D(2022, 3, 8))
    assert plan.release_on == D(2022, 3, 12)  # the end does not move: it counts from exposure


def test_strictness_and_health_code_colour() -> None:
    assert rules.is_stricter(NINTH, Measure.CENTRALIZED_QUARANTINE, Measure.HOME_QUARANTINE)
    assert not rules.is_stricter(NINTH, Measure.HOME_HEALTH_MONITORING, Measure.HOME_QUARANTINE)
    assert rules.code_colour(NINTH, []) == CodeColour.GREEN
    assert rules.code_colour(NINTH, [Measure.TESTS_WITHIN]) == CodeColour.YELLOW
    assert (
        rules.code_colour(NINTH, [Measure.TESTS_WITHIN, Measure.HOME_QUARANTINE]) == CodeColour.RED
    )


def test_deadlines_and_escalation_levels() -> None:
    created = dt.datetime(2022, 1, 31, 20, 0, tzinfo=dt.UTC)
    due = rules.deadline(NINTH, Duty.ISOLATE_CLOSE_CONTACT, from_=created)
    assert due == dt.datetime(2022, 2, 1, 4, 0, tzinfo=dt.UTC)
    assert rules.escalation_level(NINTH, due_at=due, now=due) == 0
    assert rules.escalation_level(NINTH, due_at=due, now=due + dt.timedelta(minutes=1)) == 1
    assert (
        rules.escalation_level(NINTH, due_at=due, now=due + dt.timedelta(hours=4, minutes=1)) == 2
    )


def test_risk_areas_step_down_by_edition() -> None:
    area = RiskArea(
        code="440902001",
        name="X街道",
        level=RiskLevel.HIGH,
        declared_on=D(2022, 1, 10),
        last_case_on=D(2022, 1, 15),
    )
    assert rules.effective_risk_level(NINTH, area, D(2022, 1, 9)) is None
    assert rules.effective_risk_level(NINTH, area, D(2022, 1, 21)) == RiskLevel.HIGH
    assert (
        rules.effective_risk_level(NINTH, area, D(2022, 1, 22)) == RiskLevel.MEDIUM
    )  # 7 quiet days
    assert rules.effective_risk_level(NINTH, area, D(2022, 1, 25)) == RiskLevel.LOW  # +3
    assert (
        rules.effective_risk_level(WINTER, area, D(2022, 1, 25)) == RiskLevel.HIGH
    )  # 14 days there
    assert rules.effective_risk_level(WINTER, area, D(2022, 1, 29)) == RiskLevel.MEDIUM
    assert rules.effective_risk_level(WINTER, area, D(2022, 2, 12)) == RiskLevel.LOW


def test_risk_level_of_route_takes_the_highest_matching_area() -> None:
    book: Rulebook = NINTH.model_copy(
        update={
            "risk_areas": (
                RiskArea(
                    code="440902", name="A区", level=RiskLevel.MEDIUM, declared_on=D(2022, 1, 1)
                ),
                RiskArea(
                    code="440902001", name="A街道", level=RiskLevel.HIGH, declared_on=D(2022, 1, 1)
                ),
            )
        }
    )
    assert rules.risk_level_of(book, ["440902001001"], D(2022, 1, 2)) == RiskLevel.HIGH
    assert rules.risk_level_of(book, ["440902002"], D(2022, 1, 2)) == RiskLevel.MEDIUM
    assert rules.risk_level_of(book, ["440903"], D(2022, 1, 2)) is None


def test_tests_within_needs_the_interval() -> None:
    t0 = dt.datetime(2022, 2, 1, 8, tzinfo=dt.UTC)
    ok = [t0, t0 + dt.timedelta(hours=25)]
    too_close = [t0, t0 + dt.timedelta(hours=10)]
    assert rules.tests_within_satisfied(ok, tests=2, window_hours=72, min_interval_hours=24)
    assert not rules.tests_within_satisfied(
        too_close, tests=2, window_hours=72, min_interval_hours=24
    )
    assert not rules.tests_within_satisfied(
        [t0, t0 + dt.timedelta(hours=80)], tests=2, window_hours=72, min_interval_hours=24
    )


def test_gatherings_and_venue_limits() -> None:
    assert not rules.gathering_decision(NINTH, size=300, family=False).allowed
    plan = rules.gathering_decision(NINTH, size=50, family=False)
    assert plan.allowed
    assert plan.needs_prevention_plan
    assert rules.gathering_decision(NINTH, size=49, family=False) == rules.GatheringDecision(
        True, False, "below the thresholds"
    )
    assert not rules.gathering_decision(NINTH, size=11, family=True).allowed
    assert rules.gathering_decision(NINTH, size=10, family=True).allowed
    assert rules.venue_limit(NINTH, 1000) == 750
    assert rules.venue_limit(NINTH, 7) == 5
