"""Households and their members, grid by grid: clear values only (the writer encrypts).

A household shares an address and a grid. Its head is an adult; a spouse of the other sex
follows in most households of two or more; the rest are children, grandchildren or an
elderly parent. Most residents carry an ID number of their own district; some were born
elsewhere in the city or the country, and a few households hold Hong Kong/Macao/Taiwan
residence permits, foreigner permanent residence cards or passports.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from fangkong.core.idnumbers import DocType
from fangkong.simulation import names
from fangkong.simulation.identities import (
    ELSEWHERE_AREAS,
    FOREIGNER_AREAS,
    HMT_AREAS,
    IdNumbers,
    Passports,
    Phones,
    birth_for_age,
    draw_age,
)
from fangkong.simulation.tree import CityPlan, NodePlan

# Per household: shares holding each kind of non-resident document.
HMT_SHARE = 0.004
FOREIGNER_PR_SHARE = 0.001
PASSPORT_SHARE = 0.002
# Per resident ID holder: born in the home district, elsewhere in the city, or outside it.
HOME_DISTRICT_SHARE = 0.82
CITY_SHARE = 0.08
HOUSEHOLDS_PER_BUILDING = 24  # 6 floors, 2 units, 2 flats a landing
BUILDINGS_PER_GRID = 40  # numbering room per grid inside its compound


@dataclass(frozen=True, slots=True)
class Resident:
    doc_type: str
    doc_number: str
    name: str
    sex: str
    birth_date: dt.date
    phone: str  # "" when the resident has no mobile of their own (young children)


@dataclass(frozen=True, slots=True)
class HouseholdDraft:
    code: str
    address: str
    members: list[Resident]


class Residents:
    """Draws the residents of a city's grids, in the plan's order."""

    def __init__(self, plan: CityPlan, phones: Phones) -> None:
        self.plan = plan
        self.local_areas = [d.code for d in plan.districts]
        self.ids = IdNumbers([*self.local_areas, *ELSEWHERE_AREAS, *HMT_AREAS, *FOREIGNER_AREAS])
        self.phones = phones
        self.passports = Passports(random.Random(f"fangkong-passports:{plan.seed}"))

    def grid_households(self, grid: NodePlan) -> Iterator[HouseholdDraft]:
        rng = random.Random(f"fangkong-residents:{self.plan.seed}:{grid.code}")
        district = grid
        while district.parent is not None and district.parent.parent is not None:
            district = district.parent
        for k, size in enumerate(grid.household_sizes):
            yield HouseholdDraft(
                code=f"H{grid.code}{k + 1:04d}",
                address=self._address(grid, k, rng),
                members=self._members(rng, size, home=district.code),
            )

    def _address(self, grid: NodePlan, k: int, rng: random.Random) -> str:
        if grid.urban:
            building = (grid.index - 1) * BUILDINGS_PER_GRID + k // HOUSEHOLDS_PER_BUILDING + 1
            flat = k % HOUSEHOLDS_PER_BUILDING
            unit, floor, door = flat // 12 + 1, (flat % 12) // 2 + 1, flat % 2 + 1
            return f"{grid.address}{building}栋{unit}单元{floor}0{door}室"
        return f"{grid.address}{(grid.index - 1) * 1000 + k + 1}号"

    def _members(self, rng: random.Random, size: int, *, home: str) -> list[Resident]:
        r = rng.random()
        if r < HMT_SHARE:
            kind, area = "hmt", rng.choice(HMT_AREAS)
        elif r < HMT_SHARE + FOREIGNER_PR_SHARE:
            kind, area = "foreigner", rng.choice(FOREIGNER_AREAS)
        elif r < HMT_SHARE + FOREIGNER_PR_SHARE + PASSPORT_SHARE:
            kind, area = "passport", ""
        else:
            kind, area = "resident", ""
        family = names.surname(rng)
        head_age = _head_age(rng)
        head_sex = "M" if rng.random() < 0.6 else "F"
        people: list[tuple[int, str, bool]] = [(head_age, head_sex, True)]  # age, sex, family name
        if size >= 2:
            if rng.random() < 0.85 or size >= 3:
                spouse_age = max(20, min(99, head_age + rng.randint(-6, 4)))
                people.append((spouse_age, "F" if head_sex == "M" else "M", False))
            else:
                people.append((max(0, head_age - rng.randint(20, 35)), _sex(rng), True))
        while len(people) < size:
            roll = rng.random()
            if head_age >= 50 and roll < 0.35:
                people.append((rng.randint(0, 17), _sex(rng), True))  # grandchild
            elif roll < 0.12 and head_age <= 70:
                parent = min(99, head_age + rng.randint(22, 32))
                people.append((parent, _sex(rng), True))  # elderly parent
            else:
                oldest = max(0, min(head_age - 20, 40))
                people.append((rng.randint(0, oldest), _sex(rng), True))  # child
        return [
            self._resident(
                rng,
                age=age,
                sex=sex,
                family=family if same_family else None,
                kind=kind,
                area=area,
                home=home,
            )
            for age, sex, same_family in people
        ]

    def _resident(
        self,
        rng: random.Random,
        *,
        age: int,
        sex: str,
        family: str | None,
        kind: str,
        area: str,
        home: str,
    ) -> Resident:
        birth = birth_for_age(rng, age)
        phone = self.phones.issue() if _has_phone(rng, age) else ""
        if kind == "passport":
            return Resident(
                doc_type=DocType.PASSPORT,
                doc_number=self.passports.issue(),
                name=names.foreign_name(rng),
                sex=sex,
                birth_date=birth,
                phone=phone,
            )
        if kind == "resident":
            area = self._birthplace(rng, home, age)
            doc_type = DocType.RESIDENT_ID
        else:
            doc_type = DocType.HMT_PERMIT if kind == "hmt" else DocType.FOREIGNER_PR
        number, birth = self.ids.issue(area, birth, sex)
        name = (
            names.foreign_name(rng) if kind == "foreigner" else names.person_name(rng, sex, family)
        )
        return Resident(
            doc_type=doc_type, doc_number=number, name=name, sex=sex, birth_date=birth, phone=phone
        )

    def _birthplace(self, rng: random.Random, home: str, age: int) -> str:
        r = rng.random()
        if age < 18:
            r *= 0.5  # children are mostly registered where they live
        if r < HOME_DISTRICT_SHARE:
            return home
        if r < HOME_DISTRICT_SHARE + CITY_SHARE:
            return rng.choice(self.local_areas)
        return rng.choice(ELSEWHERE_AREAS)


def _head_age(rng: random.Random) -> int:
    return max(22, draw_age(rng, adult=True))


def _sex(rng: random.Random) -> str:
    return "M" if rng.random() < 0.51 else "F"


def _has_phone(rng: random.Random, age: int) -> bool:
    if age < 12:
        return False
    if age >= 75:
        return rng.random() < 0.7
    return rng.random() < 0.97
