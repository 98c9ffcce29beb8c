"""Investigation: infectious window, co-presence windows, contact rules."""

from fangkong.policy.sections.base import Strict


class TracingRules(Strict):
    pass
