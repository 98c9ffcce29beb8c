"""Pure rules: pooling per area type, the planner, one scan's answer, lab result words."""

from __future__ import annotations

import pytest

from fangkong.mass_testing import rules
from fangkong.mass_testing.rules import ScanOutcome, TubeState
from fangkong.policy.sections.mass_testing import AreaType, MassTestingRules, Pooling, PoolRule

BOOK = MassTestingRules()


@pytest.mark.parametrize(
    ("area", "pooling", "size"),
    [
        ("general", Pooling.POOLED, 10),
        ("delimited", Pooling.POOLED, 5),
        ("sealed_compound", Pooling.HOUSEHOLD, 10),
        ("isolation_site", Pooling.SINGLE, 1),
        ("key_group", Pooling.SINGLE, 1),
    ],
)
def test_pool_rule_per_area_type(area: str, pooling: Pooling, size: int) -> None:
    rule = rules.pool_rule(BOOK, area)
    assert (rule.pooling, rule.pool_size) == (pooling, size)


def test_unknown_area_type_is_refused() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        rules.pool_rule(BOOK, "nowhere")


def test_isolation_sites_cannot_be_pooled() -> None:
    pools = dict(BOOK.pools)
    pools[AreaType.ISOLATION_SITE] = PoolRule(pooling=Pooling.POOLED, pool_size=10)
    with pytest.raises(ValueError, match="single tubes"):
        MassTestingRules(pools=pools)


def test_planner_counts_samplers_tubes_and_lab_shortfall() -> None:
    plan = rules.plan(
        BOOK,
        population_by_pool_size={10: 1_000_000, 1: 2_000},
        hours=24,
        samplers_registered=1000,
        sites_registered=100,
    )
    # 1,002,000 samples / 60 per sampler-hour = 16,700 sampler-hours over 8 working hours.
    assert plan.sampler_hours == 16_700
    assert plan.samplers == 2088
    assert plan.sites == 522
    assert plan.tubes == 107_100  # (100,000 + 2,000) * 1.05
    assert plan.sampler_shortfall == 1088
    assert plan.site_shortfall == 422
    assert plan.labs_tube_capacity == 20 * 400
    assert plan.lab_shortfall_tubes == 107_100 - 8000


def test_scan_outcomes() -> None:
    open_tube = TubeState("open", 3, 10, frozenset({1, 2, 3}))
    assert rules.scan_outcome(open_tube, person_id=4, open_tube_of_person=None, barcode="T") == (
        ScanOutcome.ACCEPTED
    )
    assert rules.scan_outcome(open_tube, person_id=2, open_tube_of_person="T", barcode="T") == (
        ScanOutcome.ALREADY_IN_TUBE
    )
    full = TubeState("open", 10, 10, frozenset(range(10)))
    assert rules.scan_outcome(full, person_id=99, open_tube_of_person=None, barcode="T") == (
        ScanOutcome.TUBE_FULL
    )
    closed = TubeState("closed", 4, 10, frozenset({1}))
    assert rules.scan_outcome(closed, person_id=9, open_tube_of_person=None, barcode="T") == (
        ScanOutcome.TUBE_CLOSED
    )
    assert rules.scan_outcome(None, person_id=9, open_tube_of_person="U", barcode="T") == (
        ScanOutcome.IN_OTHER_OPEN_TUBE
    )


def test_result_words_and_ct() -> None:
    assert rules.read_result("阴性") == "negative"
    assert rules.read_result(" Positive ") == "positive"
    assert rules.read_result("无效") is None
    assert rules.read_ct("") is None
    assert rules.read_ct("31.5") == 31.5
    with pytest.raises(ValueError, match="Ct"):
        rules.read_ct("99")


def test_result_outcome() -> None:
    assert rules.result_outcome(recorded=None, incoming="negative", seen_in_batch=None) == (
        "unknown_tube"
    )
    assert rules.result_outcome(recorded="pending", incoming="positive", seen_in_batch=None) == (
        "matched"
    )
    assert rules.result_outcome(recorded="negative", incoming="negative", seen_in_batch=None) == (
        "repeat"
    )
    assert rules.result_outcome(recorded="negative", incoming="positive", seen_in_batch=None) == (
        "conflict"
    )


def test_pool_resolved_once_every_retest_is_back() -> None:
    assert not rules.pool_resolved([])
    assert not rules.pool_resolved(["negative", "pending"])
    assert rules.pool_resolved(["negative", "positive"])


@pytest.mark.parametrize(
    ("kind", "present", "person", "refused"),
    [
        ("household", [], 7, False),  # the first member opens the household's tube
        ("household", [], None, False),
        ("household", [7, 7], 7, False),
        ("household", [7], 8, True),  # another household
        ("household", [7], None, True),  # no registered household: a household of one
        ("household", [None], None, True),
        ("household", [None], 7, True),
        ("pooled", [7], 8, False),  # the rule is the household tube's only
        ("single", [], 8, False),
    ],
)
def test_household_tube_takes_one_household(
    kind: str, present: list[int | None], person: int | None, refused: bool
) -> None:
    outcome = rules.household_outcome(
        tube_kind=kind, households_in_tube=present, person_household=person
    )
    assert outcome == (ScanOutcome.OTHER_HOUSEHOLD if refused else None)
