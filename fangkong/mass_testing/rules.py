"""Pure decisions of mass testing: no ORM, no I/O, no clock (callers pass times).

Pooling per area type, the planner's arithmetic, the answer to one scan, the reading of a
lab result, and when a positive pool is resolved.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum

from fangkong.policy.sections.mass_testing import AreaType, MassTestingRules, Pooling, PoolRule

BARCODE_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def pool_rule(rules: MassTestingRules, area_type: str) -> PoolRule:
    """The pooling rule of an area type (raises ValueError for an unknown type)."""
    return rules.pools[AreaType(area_type)]


def tube_kind(pooling: str) -> str:
    return {Pooling.POOLED: "pooled", Pooling.HOUSEHOLD: "household", Pooling.SINGLE: "single"}[
        Pooling(pooling)
    ]


def default_deadline(
    rules: MassTestingRules, *, starts_at: dt.datetime, whole_city: bool
) -> dt.datetime:
    """A delimited area is tested within a day; a whole city within two to three days."""
    hours = rules.deadline_hours_city if whole_city else rules.deadline_hours_delimited
    return starts_at + dt.timedelta(hours=hours)


# --- planner ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    population: int
    hours: float
    sampler_hours: int
    samplers: int
    sites: int
    tubes: int
    swabs: int
    lab_tube_hours: int
    labs_tube_capacity: int  # tubes the labs can run before the deadline at the assumed rate
    samplers_registered: int
    sites_registered: int

    @property
    def sampler_shortfall(self) -> int:
        return max(0, self.samplers - self.samplers_registered)

    @property
    def site_shortfall(self) -> int:
        return max(0, self.sites - self.sites_registered)

    @property
    def lab_shortfall_tubes(self) -> int:
        return max(0, self.tubes - self.labs_tube_capacity)


def plan(
    rules: MassTestingRules,
    *,
    population_by_pool_size: dict[int, int],
    hours: float,
    samplers_registered: int,
    sites_registered: int,
) -> Plan:
    """What a round needs to sample `population` within `hours`, against what is registered.

    Sampling hours per day cap the working hours: a 48 h round has two working days.
    """
    t = rules.throughput
    population = sum(population_by_pool_size.values())
    days = max(1.0, hours / 24)
    working_hours = max(1.0, min(hours, days * t.sampler_hours_per_day))
    sampler_hours = math.ceil(population / t.samples_per_sampler_hour)
    samplers = math.ceil(sampler_hours / working_hours) if population else 0
    sites = math.ceil(samplers / t.samplers_per_site) if samplers else 0
    tubes_exact = sum(math.ceil(n / size) for size, n in population_by_pool_size.items() if n)
    tubes = math.ceil(tubes_exact * (1 + t.tubes_spare_share))
    swabs = math.ceil(population * (1 + t.swabs_spare_share))
    lab_hours = max(1.0, min(hours, days * t.lab_hours_per_day))
    return Plan(
        population=population,
        hours=hours,
        sampler_hours=sampler_hours,
        samplers=samplers,
        sites=sites,
        tubes=tubes,
        swabs=swabs,
        lab_tube_hours=math.ceil(tubes_exact / t.tubes_per_lab_hour),
        labs_tube_capacity=int(lab_hours * t.tubes_per_lab_hour),
        samplers_registered=samplers_registered,
        sites_registered=sites_registered,
    )


# --- one scan --------------------------------------------------------------------------------


class ScanOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # this client id was accepted before: nothing added again
    TUBE_CLOSED = "tube_closed"
    TUBE_FULL = "tube_full"  # over its pool size
    IN_OTHER_OPEN_TUBE = "in_other_open_tube"
    ALREADY_IN_TUBE = "already_in_tube"
    PERSON_UNKNOWN = "person_unknown"
    TUBE_OTHER_ROUND = "tube_other_round"
    SITE_UNKNOWN = "site_unknown"
    OUT_OF_ROUND = "out_of_round"  # sampled outside the round's window
    OTHER_HOUSEHOLD = "other_household"  # a household tube holds one household only
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class TubeState:
    status: str  # "open" | "closed"
    members: int
    pool_size: int
    person_ids: AbstractSet[int]  # read only (the ingest passes its own set, not a copy)


def scan_outcome(  # noqa: PLR0911 - one answer per rule, in order
    tube: TubeState | None, *, person_id: int, open_tube_of_person: str | None, barcode: str
) -> ScanOutcome:
    """The answer to one scan of a known person into a tube (None: a new tube)."""
    if tube is None:
        if open_tube_of_person is not None and open_tube_of_person != barcode:
            return ScanOutcome.IN_OTHER_OPEN_TUBE
        return ScanOutcome.ACCEPTED
    if person_id in tube.person_ids:
        return ScanOutcome.ALREADY_IN_TUBE
    if tube.status != "open":
        return ScanOutcome.TUBE_CLOSED
    if open_tube_of_person is not None and open_tube_of_person != barcode:
        return ScanOutcome.IN_OTHER_OPEN_TUBE
    if tube.members >= tube.pool_size:
        return ScanOutcome.TUBE_FULL
    return ScanOutcome.ACCEPTED


def household_outcome(
    *, tube_kind: str, households_in_tube: Iterable[int | None], person_household: int | None
) -> ScanOutcome | None:
    """The household rule of sealed compounds (one tube per household): a household tube that
    already holds someone takes only persons of the same registered household; a person with
    no registered household is a household of one. None: the rule does not refuse the scan
    (not a household tube, or its first member). Call it where `scan_outcome` accepts."""
    if tube_kind != "household":
        return None
    present = set(households_in_tube)
    if not present:
        return None
    if person_household is None or present != {person_household}:
        return ScanOutcome.OTHER_HOUSEHOLD
    return None


# --- lab results -----------------------------------------------------------------------------

_RESULT_WORDS = {
    "negative": "negative",
    "neg": "negative",
    "阴性": "negative",
    "-": "negative",
    "positive": "positive",
    "pos": "positive",
    "阳性": "positive",
    "+": "positive",
}


def read_result(raw: object) -> str | None:
    """A lab's result word as "negative"/"positive"; None when it is neither (invalid)."""
    word = str(raw or "").strip().casefold()
    return _RESULT_WORDS.get(word)


def read_ct(raw: object) -> float | None:
    """A Ct value (0-50) or None when blank; raises ValueError when it is not one."""
    if raw is None or str(raw).strip() == "":
        return None
    value = float(str(raw).strip())
    if not 0 <= value <= 50:
        raise ValueError("Ct outside 0-50")
    return value


class ResultOutcome(StrEnum):
    MATCHED = "matched"
    REPEAT = "repeat"
    UNKNOWN_TUBE = "unknown_tube"
    CONFLICT = "conflict"


def result_outcome(*, recorded: str | None, incoming: str, seen_in_batch: str | None) -> str:
    """How one result line relates to the tube (recorded None: no such tube)."""
    if recorded is None:
        return ResultOutcome.UNKNOWN_TUBE
    earlier = seen_in_batch or (recorded if recorded != "pending" else None)
    if earlier is None:
        return ResultOutcome.MATCHED
    return ResultOutcome.REPEAT if earlier == incoming else ResultOutcome.CONFLICT


# --- positive pools --------------------------------------------------------------------------


def pool_resolved(retest_results: Iterable[str]) -> bool:
    """A pool is resolved once every member's retest is back."""
    results = list(retest_results)
    return bool(results) and all(r != "pending" for r in results)


def coverage_share(sampled: int, due: int) -> float:
    return 1.0 if due == 0 else min(1.0, sampled / due)
