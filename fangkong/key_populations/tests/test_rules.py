"""Due days and statuses as pure functions: month ends, year ends, leap days, frequencies."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from fangkong.key_populations.rules import (
    MemberStatus,
    days_overdue,
    interval_days,
    next_due,
    overdue_from,
    status_on,
)
from fangkong.policy.editions import edition_text
from fangkong.policy.schema import parse_rulebook
from fangkong.policy.sections.key_populations import Frequency, GroupKind, KeyPopulationRules

D = dt.date


@pytest.mark.parametrize(
    ("last", "interval", "due"),
    [
        (D(2022, 1, 31), 1, D(2022, 2, 1)),  # month end
        (D(2022, 1, 30), 3, D(2022, 2, 2)),  # across a month end
        (D(2022, 4, 30), 1, D(2022, 5, 1)),  # a 30-day month
        (D(2021, 12, 31), 1, D(2022, 1, 1)),  # year end
        (D(2021, 12, 30), 3, D(2022, 1, 2)),  # across a year end
        (D(2021, 12, 29), 7, D(2022, 1, 5)),
        (D(2024, 2, 28), 1, D(2024, 2, 29)),  # leap day exists in 2024
        (D(2024, 2, 29), 1, D(2024, 3, 1)),  # ... and is followed by 1 March
        (D(2024, 2, 27), 3, D(2024, 3, 1)),  # across the leap day: counts it
        (D(2023, 2, 27), 3, D(2023, 3, 2)),  # the same in a common year: no 29 February
        (D(2022, 2, 28), 1, D(2022, 3, 1)),
        (D(2100, 2, 28), 1, D(2100, 3, 1)),  # 2100 is not a leap year
        (D(2000, 2, 28), 1, D(2000, 2, 29)),  # 2000 is
        (D(2024, 2, 26), 7, D(2024, 3, 4)),  # a weekly group across the leap day
    ],
)
def test_next_due_counts_calendar_days_across_month_and_year_ends_and_leap_days(
    last: dt.date, interval: int, due: dt.date
) -> None:
    assert next_due(joined_on=D(2020, 1, 1), last_tested_on=last, interval=interval) == due


def test_a_member_never_tested_is_due_the_day_they_joined() -> None:
    assert next_due(joined_on=D(2022, 1, 31), last_tested_on=None, interval=3) == D(2022, 1, 31)


def test_an_interval_below_one_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        next_due(joined_on=D(2022, 1, 1), last_tested_on=None, interval=0)


@pytest.mark.parametrize(
    ("today", "grace", "status"),
    [
        (D(2022, 2, 28), 0, MemberStatus.OK),
        (D(2022, 3, 1), 0, MemberStatus.DUE),
        (D(2022, 3, 2), 0, MemberStatus.OVERDUE),
        (D(2022, 3, 2), 1, MemberStatus.DUE),
        (D(2022, 3, 3), 1, MemberStatus.OVERDUE),
    ],
)
def test_status_on_a_day_around_a_due_day_after_february(
    today: dt.date, grace: int, status: MemberStatus
) -> None:
    assert status_on(due_on=D(2022, 3, 1), today=today, grace_days=grace) == status


def test_overdue_from_and_days_overdue_across_a_year_end() -> None:
    assert overdue_from(due_on=D(2021, 12, 31)) == D(2022, 1, 1)
    assert days_overdue(due_on=D(2021, 12, 31), today=D(2021, 12, 31)) == 0
    assert days_overdue(due_on=D(2021, 12, 31), today=D(2022, 1, 1)) == 1
    assert days_overdue(due_on=D(2021, 12, 30), today=D(2022, 1, 2), grace_days=1) == 2


@pytest.mark.parametrize(("per_week", "interval"), [(1, 7), (2, 3), (3, 2), (4, 1), (7, 1)])
def test_k_times_a_week_means_at_most_seven_div_k_days_between_tests(
    per_week: int, interval: int
) -> None:
    assert Frequency(per_week=per_week).interval_days == interval


def test_a_frequency_needs_exactly_one_form() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Frequency(every_days=2, per_week=2)
    with pytest.raises(ValidationError, match="exactly one"):
        Frequency()


def test_the_section_needs_every_group() -> None:
    with pytest.raises(ValidationError, match="missing groups: driver"):
        KeyPopulationRules(
            groups={g: Frequency(every_days=1) for g in GroupKind if g != GroupKind.DRIVER}
        )


def test_both_editions_give_every_group_a_frequency() -> None:
    winter = parse_rulebook(edition_text("winter-2021")).key_populations
    ninth = parse_rulebook(edition_text("ninth-edition-2022")).key_populations
    assert interval_days(winter, "mail_express") == 3  # twice a week
    assert interval_days(winter, GroupKind.MEDICAL) == 7
    assert interval_days(ninth, "cold_chain") == 1
    assert interval_days(ninth, "driver") == 3
    assert set(winter.groups) == set(ninth.groups) == set(GroupKind)
