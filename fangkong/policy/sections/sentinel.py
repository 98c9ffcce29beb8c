"""Sentinel surveillance: the test requirement for buyers, detection method per series."""

from pydantic import Field

from fangkong.policy.sections.base import Strict


class SentinelRules(Strict):
    test_lookback_hours: int = Field(ge=1, le=240)
