"""Pure decisions about key populations: when a member is next due, and whether they are due
or overdue on a day. No ORM, no I/O, no clock: days are Asia/Shanghai calendar days that the
caller took from `core.clock` (`clock.local_date()`, `clock.to_local(instant).date()`).

Day counting: a member tested on day D with an interval of N days is next due on D + N (a
calendar-day addition, so 28 Feb + 1 is 29 Feb in a leap year and 1 Mar otherwise, and 31 Dec
+ 2 is 2 Jan). A member never tested is due on the day they joined. On the due day the member
is "due"; from the day after due + grace they are "overdue"; before the due day "ok".
The database recompute (`services.keypop_recompute`) asks the same questions in SQL; a test
holds the two to the same answers.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from fangkong.policy.sections.key_populations import Frequency, GroupKind, KeyPopulationRules


class MemberStatus(StrEnum):
    OK = "ok"  # tested recently enough
    DUE = "due"  # due today (or within the grace days)
    OVERDUE = "overdue"  # past due


def interval_days(rules: KeyPopulationRules, group: GroupKind | str) -> int:
    """The most days allowed between two tests for a group, by the rulebook."""
    return rules.groups[GroupKind(group)].interval_days


def next_due(*, joined_on: dt.date, last_tested_on: dt.date | None, interval: int) -> dt.date:
    """The day the member's next test is due."""
    if interval < 1:
        raise ValueError("interval must be at least one day")
    if last_tested_on is None:
        return joined_on
    return last_tested_on + dt.timedelta(days=interval)


def status_on(*, due_on: dt.date, today: dt.date, grace_days: int = 0) -> MemberStatus:
    """Whether a member due on `due_on` is ok, due or overdue on `today`."""
    if today < due_on:
        return MemberStatus.OK
    if today <= due_on + dt.timedelta(days=grace_days):
        return MemberStatus.DUE
    return MemberStatus.OVERDUE


def overdue_from(*, due_on: dt.date, grace_days: int = 0) -> dt.date:
    """The first day a member due on `due_on` counts as overdue."""
    return due_on + dt.timedelta(days=grace_days + 1)


def days_overdue(*, due_on: dt.date, today: dt.date, grace_days: int = 0) -> int:
    """How many days past the overdue line (1 on its first day); 0 when not overdue."""
    first = overdue_from(due_on=due_on, grace_days=grace_days)
    return max((today - first).days + 1, 0)


def later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    """The later of two optional days (a test date only ever moves forward)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def describe(freq: Frequency) -> tuple[str, int]:
    """("every_days" | "per_week", number) for display."""
    if freq.every_days is not None:
        return "every_days", freq.every_days
    assert freq.per_week is not None
    return "per_week", freq.per_week
