"""Key populations (重点人群): the groups under routine testing and how often each is tested.

A frequency is either `every_days: N` (a test at most N days after the last one) or
`per_week: K` (K tests a week, read as at most 7 // K days between two tests: twice a week
means every 3 days, three times every 2). The section is optional in an edition; its
defaults are the winter 2021-22 frequencies.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from fangkong.policy.sections.base import Strict


class GroupKind(StrEnum):
    MAIL_EXPRESS = "mail_express"  # 国际邮件、快递从业人员
    COLD_CHAIN = "cold_chain"  # 冷链从业人员
    PORT_AIRPORT = "port_airport"  # 口岸、机场工作人员
    MEDICAL = "medical"  # 医务人员
    QUARANTINE_STAFF = "quarantine_staff"  # 隔离场所工作人员
    DRIVER = "driver"  # 司机（货运、客运、网约车）


class Frequency(Strict):
    every_days: int | None = Field(default=None, ge=1, le=60)
    per_week: int | None = Field(default=None, ge=1, le=7)

    @model_validator(mode="after")
    def _one_of(self) -> Frequency:
        if (self.every_days is None) == (self.per_week is None):
            raise ValueError("give exactly one of every_days and per_week")
        return self

    @property
    def interval_days(self) -> int:
        """The most days allowed between two tests."""
        if self.every_days is not None:
            return self.every_days
        assert self.per_week is not None
        return 7 // self.per_week


_DEFAULT_GROUPS: dict[GroupKind, Frequency] = {
    GroupKind.MAIL_EXPRESS: Frequency(per_week=2),
    GroupKind.COLD_CHAIN: Frequency(per_week=2),
    GroupKind.PORT_AIRPORT: Frequency(every_days=2),
    GroupKind.MEDICAL: Frequency(per_week=1),
    GroupKind.QUARANTINE_STAFF: Frequency(every_days=2),
    GroupKind.DRIVER: Frequency(per_week=1),
}


class KeyPopulationRules(Strict):
    groups: dict[GroupKind, Frequency] = Field(default_factory=lambda: dict(_DEFAULT_GROUPS))
    # Days after the due date before a member counts as overdue (0: the day after it).
    grace_days: int = Field(default=0, ge=0, le=14)
    # Overdue members become work for the grid where they live (besides the employer's list).
    grid_work: bool = True

    @field_validator("groups")
    @classmethod
    def _all_groups(cls, v: dict[GroupKind, Frequency]) -> dict[GroupKind, Frequency]:
        missing = set(GroupKind) - set(v)
        if missing:
            raise ValueError(f"missing groups: {', '.join(sorted(missing))}")
        return v
