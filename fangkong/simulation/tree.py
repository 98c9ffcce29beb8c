"""Planning the jurisdiction tree of a synthetic prefecture-level city.

The plan is made in memory (a city of 10 million has about 20,000 nodes) and decides, before
anything is written, how many persons each grid holds and how its households are sized. Each
grid draws from its own seeded generator, so its residents do not depend on how the writer
chunks its work.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fangkong.jurisdictions.models import CODE_LENGTH, Level
from fangkong.simulation.names import StemPool

PERSONS_PER_GRID = 780  # about 300 households of 2.6 persons
# Targets of the tree's fan-out, in grids per node: a town/street holds ~40 grids, a
# village/community ~5, a group/compound ~2.
GRIDS_PER_TOWN = 40
GRIDS_PER_VILLAGE = 5
GRIDS_PER_GROUP = 2
# Household sizes 1-6 and their shares; mean about 2.6.
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_WEIGHTS = (25, 30, 20, 13, 8, 4)
_CN_DIGITS = "零一二三四五六七八九十"


@dataclass(eq=False)
class NodePlan:
    code: str
    name: str
    level: int
    path: str
    parent: NodePlan | None
    urban: bool
    # The address text down to this node, e.g. 金岭区榕湾街道东华社区.
    address: str
    index: int  # 1-based position among its siblings
    household_sizes: bytes = b""  # grids only
    id: int | None = None
    population: int = 0
    households: int = 0
    children: list[NodePlan] = field(default_factory=list)

    def child(self, *, code_suffix: int, name: str, level: Level, index: int) -> NodePlan:
        width = CODE_LENGTH[level] - CODE_LENGTH[Level(self.level)]
        code = f"{self.code}{code_suffix:0{width}d}"
        node = NodePlan(
            code=code,
            name=name,
            level=level,
            path=f"{self.path}{code}/",
            parent=self,
            urban=self.urban,
            address=self.address + (name if level <= Level.VILLAGE else ""),
            index=index,
        )
        self.children.append(node)
        return node


@dataclass
class CityPlan:
    seed: int
    population: int
    city: NodePlan
    levels: dict[int, list[NodePlan]]

    @property
    def grids(self) -> list[NodePlan]:
        return self.levels[Level.GRID]

    @property
    def districts(self) -> list[NodePlan]:
        return self.levels[Level.DISTRICT]

    def nodes(self) -> Iterator[NodePlan]:
        """Every node, parents before children."""
        for level in sorted(self.levels):
            yield from self.levels[level]


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (第十二网格)."""
    if n <= 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{head}十{_CN_DIGITS[ones] if ones else ''}" if n < 100 else str(n)


def district_count(population: int) -> int:
    """5 districts/counties for a small city, 12 for 10 million, log-scaled between."""
    if population <= 20_000:
        return 5
    share = math.log10(population / 20_000) / math.log10(500)
    return max(5, min(12, round(5 + 7 * share)))


def split(total: int, parts: int, rng: random.Random, spread: float = 0.4) -> list[int]:
    """`total` as `parts` positive integers with random weights (largest remainder)."""
    if parts <= 0 or total < parts:
        raise ValueError(f"cannot split {total} into {parts} positive parts")
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    raw = [w * scale for w in weights]
    shares = [1 + int(r) for r in raw]
    by_remainder = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _fanout(grids: int, per_child: int, cap: int, rng: random.Random) -> int:
    return max(1, min(grids, cap, round(grids / per_child * rng.uniform(0.8, 1.2))))


def household_sizes(rng: random.Random, persons: int) -> bytes:
    """Household sizes for a grid, summing to exactly `persons`."""
    sizes = bytearray()
    left = persons
    while left > 0:
        size = rng.choices(HOUSEHOLD_SIZES, weights=HOUSEHOLD_WEIGHTS)[0]
        sizes.append(min(size, left))
        left -= sizes[-1]
    return bytes(sizes)


def plan_city(*, population: int, seed: int, name: str, code: str = "4409") -> CityPlan:
    """The tree, the persons per grid and the household sizes for a city. Pure."""
    if population < 100:
        raise ValueError("a simulated city needs at least 100 persons")
    if len(code) != CODE_LENGTH[Level.CITY] or not code.isdigit():
        raise ValueError("the city code must have 4 digits")
    rng = random.Random(f"fangkong-city:{seed}")
    city = NodePlan(
        code=code, name=name, level=Level.CITY, path=f"/{code}/", parent=None, urban=True,
        address="", index=1,
    )  # fmt: skip
    levels: dict[int, list[NodePlan]] = {level: [] for level in Level.values}
    levels[Level.CITY].append(city)

    n_districts = district_count(population)
    n_grids = max(n_districts, round(population / PERSONS_PER_GRID))
    n_urban = max(2, round(n_districts * 0.4))
    district_stems = StemPool(rng)
    per_district = split(n_grids, n_districts, rng, spread=0.5)
    for i, grids in enumerate(per_district):
        urban = i < n_urban
        if urban:
            suffix, kind = 2 + i, "区"
        elif i % 3 == 2:
            suffix, kind = 81 + i // 3, "市"  # county-level city
        else:
            suffix, kind = 21 + i, "县"
        stem = district_stems.take()
        district = city.child(
            code_suffix=suffix, name=stem + kind, level=Level.DISTRICT, index=i + 1
        )
        district.urban = urban
        district.address = stem + kind
        levels[Level.DISTRICT].append(district)
        _plan_district(district, grids, rng, levels)

    persons = split(population, len(levels[Level.GRID]), rng, spread=0.25)
    for grid, count in zip(levels[Level.GRID], persons, strict=True):
        grid_rng = random.Random(f"fangkong-grid:{seed}:{grid.code}")
        grid.household_sizes = household_sizes(grid_rng, count)
    return CityPlan(seed=seed, population=population, city=city, levels=levels)


def _plan_district(
    district: NodePlan, grids: int, rng: random.Random, levels: dict[int, list[NodePlan]]
) -> None:
    town_stems = StemPool(rng)
    n_towns = _fanout(grids, GRIDS_PER_TOWN, 99, rng)
    for t, town_grids in enumerate(split(grids, n_towns, rng)):
        # Streets (街道) are numbered 001-099 and towns (镇) 100-199, as in the official codes.
        if district.urban:
            town = district.child(
                code_suffix=t + 1, name=town_stems.take() + "街道", level=Level.TOWN, index=t + 1
            )
        else:
            town = district.child(
                code_suffix=100 + t, name=town_stems.take() + "镇", level=Level.TOWN, index=t + 1
            )
        levels[Level.TOWN].append(town)
        village_stems = StemPool(rng)
        n_villages = _fanout(town_grids, GRIDS_PER_VILLAGE, 199, rng)
        for v, village_grids in enumerate(split(town_grids, n_villages, rng)):
            # Communities (居委会) 001-199, villages (村委会) 200-399.
            if district.urban:
                village = town.child(
                    code_suffix=v + 1,
                    name=village_stems.take() + "社区",
                    level=Level.VILLAGE,
                    index=v + 1,
                )
            else:
                village = town.child(
                    code_suffix=200 + v,
                    name=village_stems.take() + "村",
                    level=Level.VILLAGE,
                    index=v + 1,
                )
            levels[Level.VILLAGE].append(village)
            _plan_village(village, village_grids, rng, levels)


def _plan_village(
    village: NodePlan, grids: int, rng: random.Random, levels: dict[int, list[NodePlan]]
) -> None:
    group_stems = StemPool(rng)
    n_groups = _fanout(grids, GRIDS_PER_GROUP, 99, rng)
    for g, group_grids in enumerate(split(grids, n_groups, rng)):
        if village.urban:
            name = group_stems.take() + rng.choice(("小区", "花园", "苑", "新村"))
        else:
            name = f"第{cn_number(g + 1)}村民小组"
        group = village.child(code_suffix=g + 1, name=name, level=Level.GROUP, index=g + 1)
        group.address = village.address + (name if village.urban else f"{cn_number(g + 1)}组")
        levels[Level.GROUP].append(group)
        for n in range(group_grids):
            grid = group.child(
                code_suffix=n + 1,
                name=f"{name}第{cn_number(n + 1)}网格",
                level=Level.GRID,
                index=n + 1,
            )
            grid.address = group.address
            levels[Level.GRID].append(grid)
