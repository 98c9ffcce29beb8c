"""The rulebook's shape, validated on load (pydantic). Errors name the path and the problem."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from fangkong.core.errors import Invalid
from fangkong.policy.sections.base import Strict
from fangkong.policy.sections.key_populations import KeyPopulationRules
from fangkong.policy.sections.mass_testing import MassTestingRules
from fangkong.policy.sections.screening import ScreeningRules
from fangkong.policy.sections.sentinel import SentinelRules
from fangkong.policy.sections.tracing import TracingRules


class Category(StrEnum):
    CONFIRMED_CASE = "confirmed_case"
    ASYMPTOMATIC_INFECTION = "asymptomatic_infection"
    CLOSE_CONTACT = "close_contact"
    SECONDARY_CONTACT = "secondary_contact"
    COPRESENCE_CONTACT = "copresence_contact"
    ARRIVAL_HIGH_RISK = "arrival_high_risk"
    ARRIVAL_MEDIUM_RISK = "arrival_medium_risk"
    ARRIVAL_LOW_RISK = "arrival_low_risk"
    INBOUND_ABROAD = "inbound_abroad"
    KEY_POPULATION = "key_population"
    DRUG_BUYER = "drug_buyer"


class Measure(StrEnum):
    HOSPITAL_TREATMENT = "hospital_treatment"
    CENTRALIZED_QUARANTINE = "centralized_quarantine"
    HOME_QUARANTINE = "home_quarantine"
    HOME_HEALTH_MONITORING = "home_health_monitoring"
    TESTS_WITHIN = "tests_within"
    DAILY_HEALTH_MONITORING = "daily_health_monitoring"


class CodeColour(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class CountsFrom(StrEnum):
    LAST_EXPOSURE = "last_exposure"
    ISOLATION = "isolation"
    IDENTIFICATION = "identification"
    DEPARTURE = "departure"  # left the risk area
    ARRIVAL = "arrival"


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Duty(StrEnum):
    VERIFY_PUSHED_ARRIVAL = "verify_pushed_arrival"
    LAND_ASSIST_REQUEST = "land_assist_request"
    ISOLATE_CLOSE_CONTACT = "isolate_close_contact"
    ISOLATE_SECONDARY_CONTACT = "isolate_secondary_contact"
    FIRST_INVESTIGATION_REPORT = "first_investigation_report"
    CONTACT_LIST = "contact_list"
    FULL_INVESTIGATION_REPORT = "full_investigation_report"
    RETEST_POSITIVE_POOL = "retest_positive_pool"
    FOLLOW_UP_DRUG_BUYER = "follow_up_drug_buyer"
    VERIFY_SENTINEL_ALERT = "verify_sentinel_alert"
    FIX_INSPECTION_FINDING = "fix_inspection_finding"
    SCHEDULED_TEST = "scheduled_test"


class Phase(Strict):
    measure: Measure
    days: int | None = Field(default=None, ge=1, le=60)  # None: until released by a decision
    test_days: tuple[int, ...] = ()
    tests: int | None = Field(default=None, ge=1, le=10)  # for tests_within
    min_interval_hours: int = Field(default=0, ge=0, le=72)

    @model_validator(mode="after")
    def _consistent(self) -> Phase:
        if self.days is not None and any(d < 1 or d > self.days for d in self.test_days):
            raise ValueError(f"test_days must lie within days 1..{self.days}")
        if list(self.test_days) != sorted(set(self.test_days)):
            raise ValueError("test_days must be increasing and distinct")
        if self.measure == Measure.TESTS_WITHIN:
            if self.tests is None or self.days is None:
                raise ValueError("tests_within needs `tests` and `days`")
            if (self.tests - 1) * self.min_interval_hours > self.days * 24:
                raise ValueError("the tests cannot fit in the window with that minimum interval")
        elif self.tests is not None:
            raise ValueError("`tests` only applies to tests_within")
        return self


class CategoryRule(Strict):
    phases: tuple[Phase, ...] = Field(min_length=1)
    counts_from: CountsFrom

    @model_validator(mode="after")
    def _open_end_last(self) -> CategoryRule:
        if any(p.days is None for p in self.phases[:-1]):
            raise ValueError("only the last phase may have no fixed number of days")
        return self


class MeasureRule(Strict):
    strictness: int = Field(ge=0, le=100)
    code: CodeColour


class RiskArea(Strict):
    code: str = Field(min_length=2, max_length=40)
    name: str
    level: RiskLevel
    declared_on: dt.date
    last_case_on: dt.date | None = None
    lifted_on: dt.date | None = None


class RiskAreaRules(Strict):
    high_to_medium_after_days: int = Field(ge=1, le=60)
    medium_to_low_after_days: int = Field(ge=1, le=60)


class Approval(Strict):
    bulk_change_threshold: int = Field(ge=1)


class Venues(Strict):
    capacity_share: float = Field(gt=0, le=1)


class Gatherings(Strict):
    cancel_at: int = Field(ge=1)
    prevention_plan_at: int = Field(ge=1)
    family_max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Gatherings:
        if not self.prevention_plan_at < self.cancel_at:
            raise ValueError("prevention_plan_at must be below cancel_at")
        return self


class Rulebook(Strict):
    edition: str = Field(min_length=1, max_length=64)
    title: str
    categories: dict[Category, CategoryRule]
    measures: dict[Measure, MeasureRule]
    risk_area_rules: RiskAreaRules
    risk_areas: tuple[RiskArea, ...] = ()
    deadlines_hours: dict[Duty, int]
    escalation_interval_hours: int = Field(ge=1, le=72)
    approval: Approval
    venues: Venues
    gatherings: Gatherings
    sentinel: SentinelRules
    # The operations modules' sections (fangkong/policy/sections/), optional with defaults.
    screening: ScreeningRules = ScreeningRules()
    tracing: TracingRules = TracingRules()
    mass_testing: MassTestingRules = MassTestingRules()
    key_populations: KeyPopulationRules = KeyPopulationRules()

    @field_validator("categories")
    @classmethod
    def _all_categories(cls, v: dict[Category, CategoryRule]) -> dict[Category, CategoryRule]:
        missing = set(Category) - set(v)
        if missing:
            raise ValueError(f"missing categories: {', '.join(sorted(missing))}")
        return v

    @field_validator("measures")
    @classmethod
    def _all_measures(cls, v: dict[Measure, MeasureRule]) -> dict[Measure, MeasureRule]:
        missing = set(Measure) - set(v)
        if missing:
            raise ValueError(f"missing measures: {', '.join(sorted(missing))}")
        if len({m.strictness for m in v.values()}) != len(v):
            raise ValueError("each measure needs a distinct strictness")
        return v

    @field_validator("deadlines_hours")
    @classmethod
    def _all_duties(cls, v: dict[Duty, int]) -> dict[Duty, int]:
        missing = set(Duty) - set(v)
        if missing:
            raise ValueError(f"missing deadlines: {', '.join(sorted(missing))}")
        if any(h < 1 for h in v.values()):
            raise ValueError("deadlines must be at least one hour")
        return v


def parse_rulebook(text: str) -> Rulebook:
    """Parse and validate rulebook YAML. Raises Invalid listing every problem with its path."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid("policy.yaml", f"The rulebook is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise Invalid("policy.yaml", "The rulebook must be a YAML mapping")
    try:
        return Rulebook.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"path": ".".join(str(p) for p in err["loc"]) or "(top)", "problem": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['path']}: {p['problem']}" for p in problems[:10])
        raise Invalid(
            "policy.invalid", f"The rulebook is not valid: {summary}", problems=problems
        ) from exc
