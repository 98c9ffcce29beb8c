"""Pure decisions about control orders: no ORM, no I/O, no clock (callers pass `today`).

The order's life:

    pending_approval ─approve─▶ issued ─▶ in_effect ─▶ released
           │                      │           │
           └─reject─▶ cancelled   └───────────┴─▶ escalated | transferred | cancelled | superseded

`issued` and `in_effect` are the active statuses: they count for the health code and for
supersession. Every other status but `pending_approval` is final: a released or superseded
order is history, and a new order is issued instead of reviving it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fangkong.policy.rules import MeasurePlan, PlannedPhase, strictness
from fangkong.policy.schema import Category, Duty, Measure, Rulebook


class Status(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ISSUED = "issued"
    IN_EFFECT = "in_effect"
    RELEASED = "released"
    ESCALATED = "escalated"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class BasisType(StrEnum):
    CASE = "case"
    CONTACT = "contact"
    ARRIVAL = "arrival"
    TEST = "test"
    REPORT = "report"
    MANUAL = "manual"  # no documentary basis: a second person must approve


class SampleStatus(StrEnum):
    PENDING = "pending"
    NEGATIVE = "negative"
    POSITIVE = "positive"
    MISSED = "missed"


ACTIVE = frozenset({Status.ISSUED, Status.IN_EFFECT})
FINAL = frozenset(
    {
        Status.RELEASED,
        Status.ESCALATED,
        Status.TRANSFERRED,
        Status.CANCELLED,
        Status.SUPERSEDED,
    }
)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING_APPROVAL: frozenset({Status.ISSUED, Status.CANCELLED}),
    Status.ISSUED: frozenset(
        {
            Status.IN_EFFECT,
            Status.RELEASED,
            Status.ESCALATED,
            Status.TRANSFERRED,
            Status.CANCELLED,
            Status.SUPERSEDED,
        }
    ),
    Status.IN_EFFECT: frozenset(
        {
            Status.RELEASED,
            Status.ESCALATED,
            Status.TRANSFERRED,
            Status.CANCELLED,
            Status.SUPERSEDED,
        }
    ),
    **{s: frozenset() for s in FINAL},
}

# Statuses a person may set by hand through order_change_status. Approval and supersession
# are the services' own moves; release has its own blockers but is reachable here too.
MANUAL_TARGETS = frozenset(
    {
        Status.IN_EFFECT,
        Status.RELEASED,
        Status.ESCALATED,
        Status.TRANSFERRED,
        Status.CANCELLED,
    }
)

# The duty an order creates for the person's grid. Cases are taken over by the hospital and
# key populations are routine monitoring: neither creates grid work here. Arrivals become
# "verify the arrival" work: the grid worker finds the person and puts the measure in place.
DUTY_OF_CATEGORY: dict[Category, Duty] = {
    Category.CLOSE_CONTACT: Duty.ISOLATE_CLOSE_CONTACT,
    Category.SECONDARY_CONTACT: Duty.ISOLATE_SECONDARY_CONTACT,
    Category.COPRESENCE_CONTACT: Duty.SCHEDULED_TEST,
    Category.ARRIVAL_HIGH_RISK: Duty.VERIFY_PUSHED_ARRIVAL,
    Category.ARRIVAL_MEDIUM_RISK: Duty.VERIFY_PUSHED_ARRIVAL,
    Category.ARRIVAL_LOW_RISK: Duty.VERIFY_PUSHED_ARRIVAL,
    Category.INBOUND_ABROAD: Duty.VERIFY_PUSHED_ARRIVAL,
    Category.DRUG_BUYER: Duty.FOLLOW_UP_DRUG_BUYER,
}

PLACE_OF_MEASURE: dict[Measure, str] = {
    Measure.HOSPITAL_TREATMENT: "hospital",
    Measure.CENTRALIZED_QUARANTINE: "facility",
}


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def place_kind(measure: Measure) -> str:
    """Where a person under `measure` stays: hospital, facility (centralized) or home."""
    return PLACE_OF_MEASURE.get(measure, "home")


# --- phases as stored (JSON) ---------------------------------------------------------------


def phases_to_json(plan: MeasurePlan) -> list[dict[str, Any]]:
    return [
        {
            "measure": p.measure.value,
            "first_day": p.first_day.isoformat(),
            "last_day": p.last_day.isoformat() if p.last_day else None,
            "test_dates": [d.isoformat() for d in p.test_dates],
        }
        for p in plan.phases
    ]


def phases_from_json(data: Sequence[dict[str, Any]]) -> tuple[PlannedPhase, ...]:
    return tuple(
        PlannedPhase(
            measure=Measure(p["measure"]),
            first_day=dt.date.fromisoformat(p["first_day"]),
            last_day=dt.date.fromisoformat(p["last_day"]) if p["last_day"] else None,
            test_dates=tuple(dt.date.fromisoformat(d) for d in p["test_dates"]),
        )
        for p in data
    )


def measure_on(phases: Sequence[PlannedPhase], day: dt.date) -> Measure:
    """The measure in force on `day`: the first phase before it starts, the last one after
    the planned end (an order not yet released keeps its last measure)."""
    for phase in phases:
        if day < phase.first_day:
            return phase.measure
        if phase.last_day is None or day <= phase.last_day:
            return phase.measure
    return phases[-1].measure


def remaining_strictness(book: Rulebook, phases: Sequence[PlannedPhase], day: dt.date) -> int:
    """The strictest measure still ahead of (or on) `day` in an order's phases."""
    ahead = [p.measure for p in phases if p.last_day is None or p.last_day >= day]
    return max(strictness(book, m) for m in (ahead or [phases[-1].measure]))


# --- tests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleFact:
    id: int
    due_on: dt.date
    status: str


def next_test(tests: Iterable[SampleFact]) -> dt.date | None:
    """The earliest test still to be sampled (pending), overdue ones included."""
    due = [t.due_on for t in tests if t.status == SampleStatus.PENDING]
    return min(due) if due else None


@dataclass(frozen=True, slots=True)
class Blocker:
    code: str  # "test_missing" | "test_positive" | "before_release_date"
    test_id: int | None
    due_on: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "test_id": self.test_id,
            "due_on": self.due_on.isoformat() if self.due_on else None,
        }


def release_blockers(
    tests: Iterable[SampleFact], *, release_on: dt.date | None, today: dt.date
) -> list[Blocker]:
    """Why an order cannot be released today; empty when it can.

    Every scheduled test must be negative: a pending or missed one is missing (a missed test
    can be made up, and its result then counts), a positive one blocks outright. Ending an
    order before its planned release date is a cancellation with its own basis, not a release.
    """
    blockers: list[Blocker] = []
    if release_on is not None and today < release_on:
        blockers.append(Blocker("before_release_date", None, release_on))
    for t in sorted(tests, key=lambda t: (t.due_on, t.id)):
        if t.status == SampleStatus.POSITIVE:
            blockers.append(Blocker("test_positive", t.id, t.due_on))
        elif t.status != SampleStatus.NEGATIVE:
            blockers.append(Blocker("test_missing", t.id, t.due_on))
    return blockers


# --- supersession --------------------------------------------------------------------------


class Supersession(StrEnum):
    ISSUE = "issue"  # no active order: issue
    SUPERSEDE = "supersede"  # the new order replaces the active one(s)
    ABSORB = "absorb"  # an active order is as strict or stricter: keep it, issue nothing
    DOWNGRADE = "downgrade"  # replace a stricter order: only with a reason and approval


@dataclass(frozen=True, slots=True)
class ActiveFact:
    id: int
    phases: tuple[PlannedPhase, ...]
    release_on: dt.date | None


def supersession(
    book: Rulebook,
    *,
    new_phases: Sequence[PlannedPhase],
    new_release_on: dt.date | None,
    active: Sequence[ActiveFact],
    today: dt.date,
    replace_stricter: bool = False,
) -> tuple[Supersession, int | None]:
    """What issuing a new order does to the person's active orders: (decision, the active
    order that absorbs the new one, if any).

    Strictness compares what is left of each order from today. A stricter new order
    supersedes; an equally strict one supersedes only when it runs longer (a new exposure
    restarts the clock; an open end runs longest); otherwise the active order absorbs it.
    A weaker order never replaces a stricter one unless asked to (`replace_stricter`), and
    then only through a second person's approval.
    """
    if not active:
        return Supersession.ISSUE, None
    new_level = remaining_strictness(book, new_phases, today)
    strongest = max(
        active,
        key=lambda a: (remaining_strictness(book, a.phases, today), _end_key(a.release_on)),
    )
    old_level = remaining_strictness(book, strongest.phases, today)
    if new_level > old_level:
        return Supersession.SUPERSEDE, None
    if new_level == old_level and _end_key(new_release_on) > _end_key(strongest.release_on):
        return Supersession.SUPERSEDE, None
    if new_level < old_level and replace_stricter:
        return Supersession.DOWNGRADE, strongest.id
    return Supersession.ABSORB, strongest.id


def _end_key(release_on: dt.date | None) -> dt.date:
    return release_on or dt.date.max


# --- approval ------------------------------------------------------------------------------


def approval_reasons(
    book: Rulebook, *, basis_type: str, count: int = 1, downgrade: bool = False
) -> list[str]:
    """Why a change must wait for a second authorised person; empty when it need not."""
    reasons: list[str] = []
    if basis_type == BasisType.MANUAL:
        reasons.append("no_basis")
    if count > book.approval.bulk_change_threshold:
        reasons.append("bulk")
    if downgrade:
        reasons.append("downgrade")
    return reasons


def common_path(paths: Iterable[str]) -> str:
    """The deepest jurisdiction path that covers every path given ("/" when they share none)."""
    split = [p.strip("/").split("/") for p in paths]
    if not split:
        return "/"
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "".join(f"{c}/" for c in common) if common else "/"
