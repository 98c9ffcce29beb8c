"""Pure decisions of investigation and source tracing: no ORM, no I/O, no clock (callers
pass `now`). The rulebook's `tracing` section (policy/sections/tracing.py) holds the numbers.

Windows are half-open in spirit but inclusive at both ends where an exposure is concerned: a
scan exactly at the start or the end of a window counts (the engine's band join is `<=`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fangkong.core.clock import LOCAL_TZ
from fangkong.policy.schema import Category, Duty
from fangkong.policy.sections.tracing import TracingRules


class CaseKind(StrEnum):
    CONFIRMED = "confirmed"
    ASYMPTOMATIC = "asymptomatic"


class FoundBy(StrEnum):
    SCREENING = "screening"
    FEVER_CLINIC = "fever_clinic"
    SENTINEL = "sentinel"
    CONTACT_TESTING = "contact_testing"
    MASS_TESTING = "mass_testing"
    OTHER = "other"


class ContactCategory(StrEnum):
    CLOSE = "close"
    SECONDARY = "secondary"
    COPRESENCE = "copresence"
    GENERAL = "general"


class ContactStatus(StrEnum):
    CANDIDATE = "candidate"  # found by the engine, waits for an investigator
    CONFIRMED = "confirmed"  # a contact: under an order (or an assist request)
    DISMISSED = "dismissed"  # the investigator ruled it out


class ExposureKind(StrEnum):
    HOUSEHOLD = "household"
    WORKPLACE = "workplace"
    VENUE = "venue"
    VEHICLE = "vehicle"
    MEAL = "meal"
    CARE = "care"
    COPRESENCE = "copresence"  # shared an 800 m cell (phones)


class Step(StrEnum):
    """The investigation's clocks, each a duty with a deadline in the rulebook."""

    FIRST_REPORT = "first_report"
    CONTACT_LIST = "contact_list"
    FULL_REPORT = "full_report"


STEP_DUTY: dict[Step, Duty] = {
    Step.FIRST_REPORT: Duty.FIRST_INVESTIGATION_REPORT,
    Step.CONTACT_LIST: Duty.CONTACT_LIST,
    Step.FULL_REPORT: Duty.FULL_INVESTIGATION_REPORT,
}

CASE_CATEGORY: dict[CaseKind, Category] = {
    CaseKind.CONFIRMED: Category.CONFIRMED_CASE,
    CaseKind.ASYMPTOMATIC: Category.ASYMPTOMATIC_INFECTION,
}

# The control-order category of each contact category. General contacts are told and
# monitored by their unit; they get no order.
ORDER_CATEGORY: dict[ContactCategory, Category | None] = {
    ContactCategory.CLOSE: Category.CLOSE_CONTACT,
    ContactCategory.SECONDARY: Category.SECONDARY_CONTACT,
    ContactCategory.COPRESENCE: Category.COPRESENCE_CONTACT,
    ContactCategory.GENERAL: None,
}

# Stricter first: when one person is linked several ways, the edge keeps the strictest.
CATEGORY_RANK: dict[ContactCategory, int] = {
    ContactCategory.CLOSE: 4,
    ContactCategory.SECONDARY: 3,
    ContactCategory.COPRESENCE: 2,
    ContactCategory.GENERAL: 1,
}


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)


def infectious_window(
    rules: TracingRules,
    *,
    onset_date: dt.date | None,
    sampled_at: dt.datetime,
    isolated_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """From N days before onset (or before sampling when there is no onset) to isolation.

    The start is the local midnight of that day: the rulebook counts days, not hours. The end
    is the isolation time, or `now` while the case is not isolated.
    """
    if onset_date is not None:
        start_day = onset_date - dt.timedelta(days=rules.infectious_days_before_onset)
    else:
        sampled_day = sampled_at.astimezone(LOCAL_TZ).date()
        start_day = sampled_day - dt.timedelta(days=rules.infectious_days_before_sampling)
    end = isolated_at or now
    start = local_midnight(start_day)
    return start, max(start, end)


def secondary_window(
    *, first_exposure_at: dt.datetime, isolated_at: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """When a close contact could pass it on: from their first exposure to a case until they
    were isolated (or now). None when the contact was isolated before being exposed (a
    household member already in quarantine with the case)."""
    end = isolated_at or now
    if end < first_exposure_at:
        return None
    return first_exposure_at, end


def source_window(
    rules: TracingRules, *, onset_date: dt.date | None, sampled_at: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Where a case could have been infected: the incubation period before onset (or sampling)."""
    day = onset_date or sampled_at.astimezone(LOCAL_TZ).date()
    return local_midnight(day - dt.timedelta(days=rules.incubation_days)), local_midnight(day)


def category_of(kind: ExposureKind, *, degree: int, found_by_engine: bool) -> ContactCategory:
    """The contact category an exposure makes: second degree is secondary whatever the kind;
    what the engine found (a shared venue or cell) is co-presence until an investigator says
    otherwise; what an investigator entered with a case is close, except a shared cell."""
    if degree >= 2:
        return ContactCategory.SECONDARY
    if found_by_engine or kind == ExposureKind.COPRESENCE:
        return ContactCategory.COPRESENCE
    return ContactCategory.CLOSE


def is_direct(rules: TracingRules, *, kind: ExposureKind, encounters: int, manual: bool) -> bool:
    """Whether an exposure makes a contact at once (True) or a candidate to confirm (False).

    An investigator's entry of a direct kind (household, care, ...) is a contact at once; an
    engine finding is a candidate unless it reaches the rulebook's encounter threshold.
    """
    if manual and kind.value in rules.direct_exposure_kinds:
        return True
    threshold = rules.copresence_direct_min_encounters
    return not manual and threshold > 0 and encounters >= threshold


def stricter(a: ContactCategory, b: ContactCategory) -> ContactCategory:
    return a if CATEGORY_RANK[a] >= CATEGORY_RANK[b] else b


def window_for_venue(rules: TracingRules, venue_kind: str | None) -> int:
    """The co-presence window (seconds) at a venue of that kind."""
    return max(rules.copresence_window_seconds, rules.venue_dwell_seconds.get(venue_kind or "", 0))


def exposure_score(*, encounters: int, overlap_seconds: int, dwell_venue: bool) -> float:
    """Rank of a candidate: repeated encounters count most, then the time shared, then a
    venue where people stay (a meal is closer than a corridor)."""
    return round(
        encounters * 10 + min(overlap_seconds, 4 * 3600) / 360 + (5 if dwell_venue else 0), 2
    )


# --- source tracing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    case_id: int
    venue_id: int
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class SharedVenue:
    venue_id: int
    cases: int  # distinct cases that visited it in their source windows
    visits: int
    first_at: dt.datetime
    last_at: dt.datetime
    case_ids: tuple[int, ...]


def shared_venues(visits: Iterable[Visit], *, min_cases: int = 2) -> list[SharedVenue]:
    """Venues visited by at least `min_cases` of the cluster's cases before their onsets,
    ranked by how many cases went there, then by the earliest visit (older is likelier the
    source), then by venue id for a stable order."""
    by_venue: dict[int, list[Visit]] = defaultdict(list)
    for v in visits:
        by_venue[v.venue_id].append(v)
    out = []
    for venue_id, vs in by_venue.items():
        cases = sorted({v.case_id for v in vs})
        if len(cases) < min_cases:
            continue
        times = [v.at for v in vs]
        out.append(SharedVenue(venue_id, len(cases), len(vs), min(times), max(times), tuple(cases)))
    out.sort(key=lambda s: (-s.cases, s.first_at, s.venue_id))
    return out


@dataclass(frozen=True, slots=True)
class CaseFacts:
    case_id: int
    onset_or_sampled: dt.date


def earliest_case(facts: Sequence[CaseFacts]) -> int | None:
    """The case with the earliest onset (or sampling when no onset); ties to the lower id."""
    if not facts:
        return None
    return min(facts, key=lambda f: (f.onset_or_sampled, f.case_id)).case_id


# --- KPIs ------------------------------------------------------------------------------------


def chain_active(
    rules: TracingRules,
    *,
    last_case_at: dt.datetime,
    last_exposure_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """A chain is active while a case joined it, or one of its contacts was exposed, within
    the rulebook's closing period."""
    latest = max(last_case_at, last_exposure_at) if last_exposure_at else last_case_at
    return now - latest < dt.timedelta(days=rules.chain_closed_after_days)


def epi_curve(days: Iterable[dt.date]) -> list[tuple[dt.date, int]]:
    """Cases per day, every day from the first to the last (zeros included)."""
    counts: dict[dt.date, int] = defaultdict(int)
    for d in days:
        counts[d] += 1
    if not counts:
        return []
    first, last = min(counts), max(counts)
    n = (last - first).days + 1
    return [
        (first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0))
        for i in range(n)
    ]
