"""Key populations: test frequency per group."""

from fangkong.policy.sections.base import Strict


class KeyPopulationRules(Strict):
    pass
