"""Places of the synthetic city: key places, special places, sentinel units, sampling sites,
quarantine facilities with their rooms. Counts scale with the population (a city of 10
million gets about 50,000 places, 5,000 of them pharmacies and clinics)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from fangkong.places.models import CATEGORY_OF_KIND, PlaceKind
from fangkong.simulation import names
from fangkong.simulation.identities import Phones
from fangkong.simulation.tree import CityPlan, NodePlan

# Places per million residents.
PER_MILLION: dict[str, float] = {
    PlaceKind.RESTAURANT: 3000,
    PlaceKind.MARKET: 250,
    PlaceKind.MALL: 80,
    PlaceKind.PARK: 150,
    PlaceKind.SCENIC_SPOT: 30,
    PlaceKind.CINEMA: 30,
    PlaceKind.KTV: 150,
    PlaceKind.INTERNET_CAFE: 200,
    PlaceKind.ELDERLY_CARE: 60,
    PlaceKind.WELFARE_HOME: 5,
    PlaceKind.HOSPITAL: 15,
    PlaceKind.DETENTION: 3,
    PlaceKind.RELIGIOUS_SITE: 50,
    PlaceKind.PHARMACY: 250,
    PlaceKind.CLINIC: 100,
    PlaceKind.SAMPLING_SITE: 500,
    PlaceKind.QUARANTINE_FACILITY: 20,
}
# Kinds every district or county has at least one of.
PER_DISTRICT = {
    PlaceKind.HOSPITAL,
    PlaceKind.WELFARE_HOME,
    PlaceKind.DETENTION,
    PlaceKind.QUARANTINE_FACILITY,
    PlaceKind.SAMPLING_SITE,
}
CAPACITY: dict[str, tuple[int, int]] = {
    PlaceKind.RESTAURANT: (30, 400),
    PlaceKind.MARKET: (200, 2000),
    PlaceKind.MALL: (1000, 12000),
    PlaceKind.PARK: (500, 8000),
    PlaceKind.SCENIC_SPOT: (1000, 20000),
    PlaceKind.CINEMA: (200, 1500),
    PlaceKind.KTV: (50, 400),
    PlaceKind.INTERNET_CAFE: (40, 300),
    PlaceKind.ELDERLY_CARE: (30, 400),
    PlaceKind.WELFARE_HOME: (50, 300),
    PlaceKind.HOSPITAL: (300, 3000),
    PlaceKind.DETENTION: (100, 800),
    PlaceKind.RELIGIOUS_SITE: (50, 1500),
    PlaceKind.PHARMACY: (5, 40),
    PlaceKind.CLINIC: (10, 80),
    PlaceKind.VILLAGE_CLINIC: (5, 20),
    PlaceKind.FEVER_CLINIC: (20, 200),
    PlaceKind.SAMPLING_SITE: (100, 2000),
    PlaceKind.QUARANTINE_FACILITY: (60, 300),
}


Rooms = tuple[tuple[str, int, int], ...]  # (number, floor, beds) of a quarantine facility


@dataclass(frozen=True, slots=True)
class PlaceDraft:
    code: str
    name: str
    kind: str
    category: str
    grid: NodePlan
    address: str
    capacity: int
    responsible_name: str
    responsible_phone: str
    rooms: Rooms = ()


def place_counts(plan: CityPlan) -> dict[str, int]:
    """How many places of each kind (village clinics and fever clinics follow other rows)."""
    per_million = plan.population / 1_000_000
    counts = {}
    for kind, rate in PER_MILLION.items():
        floor = len(plan.districts) if kind in PER_DISTRICT else 1
        counts[kind] = max(floor, round(rate * per_million))
    return counts


def draft_places(plan: CityPlan, phones: Phones) -> Iterator[PlaceDraft]:
    """Every place of the city, in a deterministic order."""
    rng = random.Random(f"fangkong-places:{plan.seed}")
    grids = plan.grids
    cum = list(accumulate(len(g.household_sizes) for g in grids))
    by_district: dict[str, list[NodePlan]] = {}
    for grid in grids:
        by_district.setdefault(grid.path.split("/")[2], []).append(grid)
    serial = 0

    def draft(kind: str, grid: NodePlan, name: str, rooms: Rooms = ()) -> PlaceDraft:
        nonlocal serial
        serial += 1
        low, high = CAPACITY[kind]
        capacity = sum(beds for _, _, beds in rooms) if rooms else rng.randint(low, high)
        return PlaceDraft(
            code=f"PC{plan.city.code}{serial:08d}",
            name=name,
            kind=kind,
            category=str(CATEGORY_OF_KIND[kind]),
            grid=grid,
            address=f"{grid.address}{rng.randint(1, 300)}号",
            capacity=capacity,
            responsible_name=names.person_name(rng, "M" if rng.random() < 0.55 else "F"),
            responsible_phone=phones.issue(),
            rooms=rooms,
        )

    for kind, count in place_counts(plan).items():
        words = names.VENUE_WORDS[kind]
        for i in range(count):
            if kind in PER_DISTRICT and i < len(plan.districts):
                district = plan.districts[i]
                grid = rng.choice(by_district[district.code])
                if kind == PlaceKind.HOSPITAL:
                    name = district.name[:-1] + "人民医院"
                else:
                    name = district.name[:-1] + names.place_stem(rng) + rng.choice(words)
            else:
                grid = grids[rng.choices(range(len(grids)), cum_weights=cum)[0]]
                name = names.place_stem(rng) + rng.choice(words)
            if kind == PlaceKind.QUARANTINE_FACILITY:
                yield draft(kind, grid, name, _rooms(rng))
                continue
            place = draft(kind, grid, name)
            yield place
            if kind == PlaceKind.HOSPITAL:
                # Every hospital runs a fever clinic, at its own address.
                yield draft(PlaceKind.FEVER_CLINIC, grid, place.name + "发热门诊")
    # One clinic per rural village (村卫生站), in its first grid.
    for village in plan.levels[4]:
        if not village.urban:
            first_grid = village.children[0].children[0]
            yield draft(PlaceKind.VILLAGE_CLINIC, first_grid, village.name + "卫生站")


def _rooms(rng: random.Random) -> Rooms:
    floors = rng.randint(3, 12)
    per_floor = rng.randint(8, 30)
    rooms = []
    for floor in range(1, floors + 1):
        for r in range(1, per_floor + 1):
            rooms.append((f"{floor}{r:02d}", floor, 2 if rng.random() < 0.1 else 1))
    return tuple(rooms[:300])
