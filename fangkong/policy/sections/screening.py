"""Arrival screening: verification deadlines by risk, returnee classes and their follow-up,
the public self-report's rate limit. Category and measure come from the rulebook's categories
and risk areas; this section only adds what screening decides on its own."""

from __future__ import annotations

from pydantic import Field, model_validator

from fangkong.policy.sections.base import Strict

# Returnee classes (返乡人员类别). Plain strings so the section imports no app.
RETURNEE_CLASSES = ("migrant_worker", "student", "abroad", "driver", "other")


class FollowUp(Strict):
    """A returnee class's follow-up: tests on these days after arrival (day 1 = arrival day),
    health monitoring for this many days, and whether the grid worker must visit at home."""

    test_days: tuple[int, ...] = ()
    monitoring_days: int = Field(default=0, ge=0, le=28)
    home_visit: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> FollowUp:
        if list(self.test_days) != sorted(set(self.test_days)) or any(
            d < 1 or d > 28 for d in self.test_days
        ):
            raise ValueError("test_days must be increasing, distinct days within 1..28")
        return self


def _default_followups() -> dict[str, FollowUp]:
    return {
        "migrant_worker": FollowUp(test_days=(1, 3), monitoring_days=7),
        "student": FollowUp(test_days=(1,), monitoring_days=7),
        "abroad": FollowUp(test_days=(1, 2, 3, 5, 7), monitoring_days=14, home_visit=True),
        "driver": FollowUp(test_days=(1,), monitoring_days=3),
        "other": FollowUp(test_days=(1,), monitoring_days=7),
    }


class ScreeningRules(Strict):
    # Verification deadline (hours) for arrivals from a high- or medium-risk area; the others
    # get the duty deadline `verify_pushed_arrival` of the rulebook.
    verify_high_risk_hours: int = Field(default=12, ge=1, le=72)
    verify_medium_risk_hours: int = Field(default=24, ge=1, le=72)
    # The board's "unverified for too long" line.
    stale_unverified_hours: int = Field(default=24, ge=1, le=168)
    # Follow-up per returnee class.
    followups: dict[str, FollowUp] = Field(default_factory=_default_followups)
    # Public self-reports accepted per client address and hour.
    self_report_per_hour: int = Field(default=20, ge=1, le=10_000)

    @model_validator(mode="after")
    def _known_classes(self) -> ScreeningRules:
        unknown = set(self.followups) - set(RETURNEE_CLASSES)
        if unknown:
            raise ValueError(f"unknown returnee classes: {', '.join(sorted(unknown))}")
        missing = set(RETURNEE_CLASSES) - set(self.followups)
        if missing:
            raise ValueError(f"missing returnee classes: {', '.join(sorted(missing))}")
        if self.verify_high_risk_hours > self.verify_medium_risk_hours:
            raise ValueError("high-risk arrivals cannot get longer than medium-risk ones")
        return self
