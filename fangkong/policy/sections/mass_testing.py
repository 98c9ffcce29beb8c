"""Mass testing: pooling rules, retest deadlines, throughput assumptions."""

from fangkong.policy.sections.base import Strict


class MassTestingRules(Strict):
    pass
