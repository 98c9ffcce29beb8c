"""Pure policy decisions over a parsed Rulebook: no ORM, no I/O, no clock.

Day counting: a measure's "day 1" is the first day of the measure. When the rulebook counts from
a past event (last exposure, leaving a risk area), that event's date is day 0 and day 1 is the
next day; when it counts from the measure's own start (isolation, identification, arrival),
that date is day 1. A phase of N days covers days 1..N; the person is released on the morning
after the last day of the last phase.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fangkong.policy.schema import (
    Category,
    CodeColour,
    CountsFrom,
    Duty,
    Measure,
    RiskArea,
    RiskLevel,
    Rulebook,
)

_DAY_ZERO_ANCHORS = {CountsFrom.LAST_EXPOSURE, CountsFrom.DEPARTURE}
_COLOUR_RANK = {CodeColour.GREEN: 0, CodeColour.YELLOW: 1, CodeColour.RED: 2}


@dataclass(frozen=True, slots=True)
class PlannedPhase:
    measure: Measure
    first_day: dt.date
    last_day: dt.date | None  # None: open-ended (cases, key populations)
    test_dates: tuple[dt.date, ...]


@dataclass(frozen=True, slots=True)
class MeasurePlan:
    category: Category
    edition: str
    day_one: dt.date
    phases: tuple[PlannedPhase, ...]
    release_on: dt.date | None  # the first day free of every phase; None when open-ended

    @property
    def test_dates(self) -> tuple[dt.date, ...]:
        return tuple(d for p in self.phases for d in p.test_dates)

    @property
    def measure(self) -> Measure:
        """The measure of the first phase (what the person is put under now)."""
        return self.phases[0].measure

    def phase_on(self, day: dt.date) -> PlannedPhase | None:
        for phase in self.phases:
            if phase.first_day <= day and (phase.last_day is None or day <= phase.last_day):
                return phase
        return None


def day_one(book: Rulebook, category: Category, anchor: dt.date) -> dt.date:
    """Day 1 of the category's measures, given the date of the event it counts from."""
    rule = book.categories[category]
    return anchor + dt.timedelta(days=1) if rule.counts_from in _DAY_ZERO_ANCHORS else anchor


def _tests_within_dates(first: dt.date, tests: int, min_interval_hours: int) -> tuple[dt.date, ...]:
    step = max(1, math.ceil(min_interval_hours / 24)) if tests > 1 else 0
    return tuple(first + dt.timedelta(days=i * step) for i in range(tests))


def plan_for(
    book: Rulebook, category: Category, *, anchor: dt.date, start: dt.date | None = None
) -> MeasurePlan:
    """The measures, test dates and release date for a person of `category`.

    `anchor` is the date the rulebook counts from (see `counts_from`); `start` is the day the
    order actually starts (default day 1). Test days that fall before `start` cannot be done any
    more: they are dropped and one test is scheduled on `start` instead, so that nobody enters a
    measure late without a first test.
    """
    rule = book.categories[category]
    first = day_one(book, category, anchor)
    start = start or first
    phases: list[PlannedPhase] = []
    cursor = first
    for phase in rule.phases:
        last = None if phase.days is None else cursor + dt.timedelta(days=phase.days - 1)
        if phase.measure == Measure.TESTS_WITHIN:
            assert phase.tests is not None
            tests = _tests_within_dates(max(cursor, start), phase.tests, phase.min_interval_hours)
        else:
            tests = tuple(cursor + dt.timedelta(days=d - 1) for d in phase.test_days)
        phases.append(PlannedPhase(phase.measure, cursor, last, tests))
        if last is None:
            break
        cursor = last + dt.timedelta(days=1)
    release_on = None if phases[-1].last_day is None else phases[-1].last_day + dt.timedelta(days=1)
    if start > first:
        phases = _late_start(phases, start)
    return MeasurePlan(category, book.edition, first, tuple(phases), release_on)


def _late_start(phases: list[PlannedPhase], start: dt.date) -> list[PlannedPhase]:
    kept: list[PlannedPhase] = []
    moved_test = False
    for phase in phases:
        if phase.last_day is not None and phase.last_day < start:
            moved_test = moved_test or bool(phase.test_dates)
            continue
        dropped = any(d < start for d in phase.test_dates)
        dates = [d for d in phase.test_dates if d >= start]
        if (dropped or moved_test) and start not in dates and not kept:
            dates.insert(0, start)
        moved_test = False
        kept.append(
            PlannedPhase(
                phase.measure,
                max(phase.first_day, start),
                phase.last_day,
                tuple(sorted(set(dates))),
            )
        )
    return kept


def strictness(book: Rulebook, measure: Measure) -> int:
    return book.measures[measure].strictness


def is_stricter(book: Rulebook, a: Measure, b: Measure) -> bool:
    """Whether measure `a` is stricter than measure `b` (it may supersede it)."""
    return strictness(book, a) > strictness(book, b)


def code_colour(book: Rulebook, measures: Iterable[Measure]) -> CodeColour:
    """The health-code colour given the measures a person is under now (green when none)."""
    colour = CodeColour.GREEN
    for measure in measures:
        candidate = book.measures[measure].code
        if _COLOUR_RANK[candidate] > _COLOUR_RANK[colour]:
            colour = candidate
    return colour


def deadline(book: Rulebook, duty: Duty, *, from_: dt.datetime) -> dt.datetime:
    """When a duty created at `from_` is due."""
    return from_ + dt.timedelta(hours=book.deadlines_hours[duty])


def escalation_level(book: Rulebook, *, due_at: dt.datetime, now: dt.datetime) -> int:
    """0 while on time; 1 once overdue; +1 for each further escalation interval overdue."""
    if now <= due_at:
        return 0
    interval = dt.timedelta(hours=book.escalation_interval_hours)
    return 1 + int((now - due_at) // interval)


def effective_risk_level(book: Rulebook, area: RiskArea, on: dt.date) -> RiskLevel | None:
    """The risk level of an area on a day, applying the step-down rules; None before it was
    declared or after it was lifted."""
    if on < area.declared_on or (area.lifted_on is not None and on >= area.lifted_on):
        return None
    if area.level == RiskLevel.LOW or area.last_case_on is None:
        return area.level
    quiet_days = (on - area.last_case_on).days
    rules = book.risk_area_rules
    if area.level == RiskLevel.HIGH:
        if quiet_days < rules.high_to_medium_after_days:
            return RiskLevel.HIGH
        quiet_days -= rules.high_to_medium_after_days
    return RiskLevel.MEDIUM if quiet_days < rules.medium_to_low_after_days else RiskLevel.LOW


def risk_level_of(book: Rulebook, codes: Sequence[str], on: dt.date) -> RiskLevel | None:
    """The highest risk level among areas matching any of `codes` (an area matches a code it is
    a prefix of, so a declared town covers its villages)."""
    order = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}
    best: RiskLevel | None = None
    for area in book.risk_areas:
        if not any(code.startswith(area.code) for code in codes):
            continue
        level = effective_risk_level(book, area, on)
        if level is not None and (best is None or order[level] > order[best]):
            best = level
    return best


ARRIVAL_CATEGORY = {
    RiskLevel.HIGH: Category.ARRIVAL_HIGH_RISK,
    RiskLevel.MEDIUM: Category.ARRIVAL_MEDIUM_RISK,
    RiskLevel.LOW: Category.ARRIVAL_LOW_RISK,
}


def tests_within_satisfied(
    sampled_at: Sequence[dt.datetime], *, tests: int, window_hours: int, min_interval_hours: int
) -> bool:
    """Whether `tests` samples exist within a window, each at least `min_interval_hours` apart."""
    times = sorted(sampled_at)
    for i, first in enumerate(times):
        chosen = [first]
        for t in times[i + 1 :]:
            if t - first > dt.timedelta(hours=window_hours):
                break
            if t - chosen[-1] >= dt.timedelta(hours=min_interval_hours):
                chosen.append(t)
            if len(chosen) >= tests:
                return True
        if len(chosen) >= tests:
            return True
    return False


@dataclass(frozen=True, slots=True)
class GatheringDecision:
    allowed: bool
    needs_prevention_plan: bool
    reason: str


def gathering_decision(book: Rulebook, *, size: int, family: bool) -> GatheringDecision:
    g = book.gatherings
    if family:
        if size > g.family_max:
            return GatheringDecision(
                False, False, f"family gatherings are limited to {g.family_max} people"
            )
        return GatheringDecision(True, False, "within the family gathering limit")
    if size >= g.cancel_at:
        return GatheringDecision(False, False, f"gatherings of {g.cancel_at} or more are cancelled")
    if size >= g.prevention_plan_at:
        return GatheringDecision(
            True, True, f"gatherings of {g.prevention_plan_at} or more need a prevention plan"
        )
    return GatheringDecision(True, False, "below the thresholds")


def venue_limit(book: Rulebook, capacity: int) -> int:
    """The most people a venue of `capacity` may admit under the capacity limit."""
    return math.floor(capacity * book.venues.capacity_share)
