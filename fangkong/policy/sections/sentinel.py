"""Sentinel surveillance: the test requirement for buyers, flags, report deadlines, and the
detection method per series."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fangkong.policy.sections.base import Strict

# Kept here as plain strings so the section does not import an app (fangkong.sentinel.rules
# names the same values).
SERIES_LEVELS = ("unit", "town", "district")
STREAMS = ("antipyretic", "cough", "antiviral", "antibiotic", "visit", "fever_visit")
METHODS = ("ears-c1", "ears-c2", "ears-c3", "farrington", "cusum")

ParamValue = float | int | bool | str


class DetectionRule(Strict):
    """Which method watches which series. The first rule that matches a series applies."""

    level: Literal["unit", "town", "district"]
    # Empty: every stream of that level.
    streams: tuple[str, ...] = ()
    method: Literal["ears-c1", "ears-c2", "ears-c3", "farrington", "cusum"]
    # Passed to fangkong.sentinel.detection.detect as keyword arguments (alpha, baseline...).
    params: dict[str, ParamValue] = Field(default_factory=dict)
    # Days of history fed to the method for each run (EARS needs its baseline plus lag).
    history_days: int = Field(default=56, ge=8, le=6 * 366)
    # An alarm on a day with fewer records than this raises no alert (a pharmacy selling
    # three antipyretics instead of none is noise, not a signal).
    min_count: int = Field(default=3, ge=0, le=10_000)

    @model_validator(mode="after")
    def _known_streams(self) -> DetectionRule:
        unknown = set(self.streams) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown streams: {', '.join(sorted(unknown))}")
        return self


def _default_detection() -> tuple[DetectionRule, ...]:
    return (
        DetectionRule(level="unit", method="ears-c2", params={"alpha": 0.001}, min_count=5),
        DetectionRule(level="town", method="ears-c2", params={"alpha": 0.001}),
        DetectionRule(level="district", method="ears-c3", params={"alpha": 0.025}),
    )


class SentinelRules(Strict):
    # A buyer or patient without a negative test sampled within this many hours gets a test
    # requirement; a test sampled exactly this many hours ago still counts.
    test_lookback_hours: int = Field(ge=1, le=240)
    # A buyer with at least this many registrations (this one included) in the window is a
    # repeat buyer; the same window counts purchases made for other people.
    repeat_window_days: int = Field(default=7, ge=1, le=60)
    repeat_min_purchases: int = Field(default=2, ge=2, le=100)
    # A buyer who bought for others this many times in the window is flagged as a proxy buyer
    # (one purchase for a family member is normal; many are a hidden patient or resale).
    proxy_min_purchases: int = Field(default=2, ge=1, le=100)
    # Each reporting unit files its day (records or an explicit zero report) by this local
    # hour of the next day; after it the day shows as missing.
    report_due_hour: int = Field(default=10, ge=0, le=23)
    # Detection: the method and parameters per series kind.
    detection: tuple[DetectionRule, ...] = Field(default_factory=_default_detection)

    def rule_for(self, *, level: str, stream: str) -> DetectionRule | None:
        """The first detection rule that matches a series, or None (not watched)."""
        for rule in self.detection:
            if rule.level == level and (not rule.streams or stream in rule.streams):
                return rule
        return None
