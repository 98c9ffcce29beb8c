"""Arrival screening: intake, classification, verification, assist requests."""

from fangkong.policy.sections.base import Strict


class ScreeningRules(Strict):
    pass
