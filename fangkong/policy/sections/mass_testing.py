"""Mass testing: pooling rules per area type, retest deadlines, the hold on pool members,
throughput assumptions for the planner."""

from enum import StrEnum

from pydantic import Field, model_validator

from fangkong.policy.sections.base import Strict


class AreaType(StrEnum):
    """What kind of area a round covers; the pooling rule follows from it."""

    GENERAL = "general"  # everywhere else: 10-in-1 (or 5-in-1 in a delimited area)
    DELIMITED = "delimited"  # a delimited area (封控区周边): smaller pools
    SEALED_COMPOUND = "sealed_compound"  # 封控小区: one tube per household
    ISOLATION_SITE = "isolation_site"  # quarantine facilities: single tubes
    KEY_GROUP = "key_group"  # key populations: single tubes


class Pooling(StrEnum):
    POOLED = "pooled"  # up to pool_size persons per tube
    HOUSEHOLD = "household"  # one tube per household (up to pool_size persons)
    SINGLE = "single"  # one person per tube


class PoolRule(Strict):
    pooling: Pooling
    pool_size: int = Field(ge=1, le=20)

    @model_validator(mode="after")
    def _single_is_one(self) -> "PoolRule":
        if self.pooling == Pooling.SINGLE and self.pool_size != 1:
            raise ValueError("a single-tube rule has pool_size 1")
        return self


def _default_pools() -> dict[AreaType, PoolRule]:
    return {
        AreaType.GENERAL: PoolRule(pooling=Pooling.POOLED, pool_size=10),
        AreaType.DELIMITED: PoolRule(pooling=Pooling.POOLED, pool_size=5),
        AreaType.SEALED_COMPOUND: PoolRule(pooling=Pooling.HOUSEHOLD, pool_size=10),
        AreaType.ISOLATION_SITE: PoolRule(pooling=Pooling.SINGLE, pool_size=1),
        AreaType.KEY_GROUP: PoolRule(pooling=Pooling.SINGLE, pool_size=1),
    }


class Throughput(Strict):
    """Planner assumptions; the command office tunes them from the last round's figures."""

    samples_per_sampler_hour: int = Field(default=60, ge=1, le=1000)
    sampler_hours_per_day: int = Field(default=8, ge=1, le=24)
    samplers_per_site: int = Field(default=4, ge=1, le=100)
    tubes_per_lab_hour: int = Field(default=400, ge=1, le=100000)
    lab_hours_per_day: int = Field(default=20, ge=1, le=24)
    swabs_spare_share: float = Field(default=0.05, ge=0, le=1)
    tubes_spare_share: float = Field(default=0.05, ge=0, le=1)


class MassTestingRules(Strict):
    pools: dict[AreaType, PoolRule] = Field(default_factory=_default_pools)
    # The retest deadline is the rulebook's deadlines_hours.retest_positive_pool (one place).
    # The control category that holds a positive pool's members until their retest is back
    # (its measure keeps them where they are); released by the negative retest.
    hold_category: str = Field(default="secondary_contact", min_length=1, max_length=32)
    # Round deadline defaults: a delimited area in 24 h, a whole city in 2-3 days.
    deadline_hours_delimited: int = Field(default=24, ge=1, le=168)
    deadline_hours_city: int = Field(default=48, ge=1, le=168)
    throughput: Throughput = Field(default_factory=Throughput)

    @model_validator(mode="after")
    def _every_area(self) -> "MassTestingRules":
        missing = set(AreaType) - set(self.pools)
        if missing:
            raise ValueError(f"pools: missing area types {', '.join(sorted(missing))}")
        if self.pools[AreaType.ISOLATION_SITE].pooling != Pooling.SINGLE:
            raise ValueError("isolation sites are sampled in single tubes")
        if self.pools[AreaType.KEY_GROUP].pooling != Pooling.SINGLE:
            raise ValueError("key groups are sampled in single tubes")
        return self
