"""The city plan and the identities it hands out, as pure functions (no database)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from fangkong.core.idnumbers import DocType, validate_document
from fangkong.core.phones import normalise_mobile
from fangkong.jurisdictions.models import CODE_LENGTH, Level
from fangkong.simulation.identities import IdNumbers, Phones
from fangkong.simulation.places import draft_places
from fangkong.simulation.residents import Residents
from fangkong.simulation.tree import CityPlan, district_count, plan_city, split


def _residents(plan: CityPlan) -> list[tuple[str, str, str, str]]:
    residents = Residents(plan, Phones(random.Random(plan.seed)))
    return [
        (m.doc_number, m.name, m.phone, h.address)
        for grid in plan.grids
        for h in residents.grid_households(grid)
        for m in h.members
    ]


def test_same_seed_gives_the_same_city() -> None:
    a = plan_city(population=3000, seed=7, name="甲市")
    b = plan_city(population=3000, seed=7, name="甲市")
    assert [(n.code, n.name) for n in a.nodes()] == [(n.code, n.name) for n in b.nodes()]
    assert _residents(a) == _residents(b)


def test_another_seed_gives_another_city() -> None:
    a = plan_city(population=3000, seed=7, name="甲市")
    b = plan_city(population=3000, seed=8, name="甲市")
    assert [n.name for n in a.nodes()] != [n.name for n in b.nodes()]
    docs_a = {d for d, *_ in _residents(a)}
    docs_b = {d for d, *_ in _residents(b)}
    assert len(docs_a & docs_b) < len(docs_a) // 10


def test_codes_follow_code_length_and_extend_their_parent() -> None:
    plan = plan_city(population=50_000, seed=1, name="甲市")
    for node in plan.nodes():
        assert len(node.code) == CODE_LENGTH[Level(node.level)]
        if node.parent is None:
            assert node.path == f"/{node.code}/"
        else:
            assert node.code.startswith(node.parent.code)
            assert node.level == node.parent.level + 1
            assert node.path == f"{node.parent.path}{node.code}/"
    assert len({n.code for n in plan.nodes()}) == sum(1 for _ in plan.nodes())


def test_grids_hold_a_few_hundred_households_and_sizes_sum_to_the_population() -> None:
    plan = plan_city(population=200_000, seed=3, name="甲市")
    sizes = [s for g in plan.grids for s in g.household_sizes]
    assert sum(sizes) == 200_000
    assert set(sizes) <= {1, 2, 3, 4, 5, 6}
    assert 2.4 <= sum(sizes) / len(sizes) <= 2.8
    per_grid = [len(g.household_sizes) for g in plan.grids]
    assert 200 <= sum(per_grid) / len(per_grid) <= 400


@pytest.mark.parametrize(("population", "expected"), [(500, 5), (20_000, 5), (10_000_000, 12)])
def test_district_count_scales_with_population(population: int, expected: int) -> None:
    assert district_count(population) == expected


def test_split_gives_positive_parts_that_sum_to_the_total() -> None:
    rng = random.Random(1)
    for total, parts in [(10, 10), (11, 3), (1_000_000, 1282)]:
        shares = split(total, parts, rng)
        assert sum(shares) == total
        assert len(shares) == parts
        assert min(shares) >= 1


def test_every_document_is_valid_and_its_birth_and_sex_agree() -> None:
    plan = plan_city(population=20_000, seed=5, name="甲市")
    residents = Residents(plan, Phones(random.Random(5)))
    local = {d.code for d in plan.districts}
    kinds: Counter[str] = Counter()
    areas: Counter[bool] = Counter()
    for grid in plan.grids:
        for household in residents.grid_households(grid):
            assert 1 <= len(household.members) <= 6
            for m in household.members:
                kinds[m.doc_type] += 1
                facts = validate_document(m.doc_type, m.doc_number)
                if m.doc_type == DocType.PASSPORT:
                    continue
                assert facts.birth_date == m.birth_date
                assert facts.sex == m.sex
                if m.doc_type == DocType.RESIDENT_ID:
                    areas[m.doc_number[:6] in local] += 1
    assert kinds[DocType.RESIDENT_ID] > 19_000
    assert kinds[DocType.HMT_PERMIT] > 0
    assert kinds[DocType.PASSPORT] > 0
    assert kinds[DocType.FOREIGNER_PR] > 0
    # Most residents were born in the city, some elsewhere.
    assert areas[True] > 0.8 * sum(areas.values())
    assert areas[False] > 0


def test_phones_are_valid_mainland_mobiles_and_unique() -> None:
    phones = Phones(random.Random(9))
    issued = [phones.issue() for _ in range(200_000)]
    assert len(set(issued)) == len(issued)
    assert all(normalise_mobile(p) == p for p in issued[:5000])


def test_id_numbers_stay_unique_when_a_birth_day_is_crowded() -> None:
    import datetime as dt

    ids = IdNumbers(["440902"])
    numbers = [ids.issue("440902", dt.date(1990, 1, 1), "M")[0] for _ in range(1200)]
    assert len(set(numbers)) == 1200
    for n in numbers:
        facts = validate_document(DocType.RESIDENT_ID, n)
        assert facts.sex == "M"


def test_places_cover_every_kind_and_facilities_have_rooms() -> None:
    from fangkong.places.models import PlaceKind
    from fangkong.places.rules import normalise_code

    plan = plan_city(population=5000, seed=2, name="甲市")
    drafts = list(draft_places(plan, Phones(random.Random(2))))
    assert {d.kind for d in drafts} == set(PlaceKind.values)
    assert all(d.rooms for d in drafts if d.kind == PlaceKind.QUARANTINE_FACILITY)
    assert len({d.code for d in drafts}) == len(drafts)
    assert all(normalise_code(d.code) == d.code for d in drafts)


@pytest.mark.slow
def test_places_scale_to_fifty_thousand_for_ten_million() -> None:
    from fangkong.places.models import PlaceKind
    from fangkong.simulation.places import place_counts

    plan = plan_city(population=10_000_000, seed=1, name="甲市")
    counts = place_counts(plan)
    rural_villages = sum(1 for v in plan.levels[Level.VILLAGE] if not v.urban)
    hospitals = counts[PlaceKind.HOSPITAL]
    total = sum(counts.values()) + rural_villages + hospitals
    assert 40_000 <= total <= 60_000
    sentinel = sum(counts[k] for k in (PlaceKind.PHARMACY, PlaceKind.CLINIC)) + rural_villages
    assert 4_000 <= sentinel + hospitals <= 6_500
    assert 10_000 <= len(plan.grids) <= 14_000
