"""The pure decisions of tracing, without the database."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.clock import LOCAL_TZ
from fangkong.policy.editions import edition_text
from fangkong.policy.schema import parse_rulebook
from fangkong.policy.sections.tracing import TracingRules
from fangkong.tracing import rules
from fangkong.tracing.rules import ContactCategory, ExposureKind

BOOK = TracingRules()
NOW = dt.datetime(2022, 1, 10, 9, 0, tzinfo=LOCAL_TZ)


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2022, 1, day, hour, minute, tzinfo=LOCAL_TZ)


def test_infectious_window_starts_n_days_before_onset_at_local_midnight() -> None:
    start, end = rules.infectious_window(
        BOOK, onset_date=dt.date(2022, 1, 8), sampled_at=at(9, 10), isolated_at=at(9, 20), now=NOW
    )
    assert (start, end) == (at(4), at(9, 20))


def test_infectious_window_without_onset_counts_from_the_local_sampling_day() -> None:
    # 23:30 UTC on the 8th is 07:30 on the 9th in Shanghai: the local day counts.
    sampled = dt.datetime(2022, 1, 8, 23, 30, tzinfo=dt.UTC)
    start, end = rules.infectious_window(
        BOOK, onset_date=None, sampled_at=sampled, isolated_at=None, now=NOW
    )
    assert (start, end) == (at(5), NOW)


def test_infectious_window_follows_the_rulebook() -> None:
    book = TracingRules(infectious_days_before_onset=2)
    start, _ = rules.infectious_window(
        book, onset_date=dt.date(2022, 1, 8), sampled_at=at(9), isolated_at=None, now=NOW
    )
    assert start == at(6)


def test_secondary_window_runs_from_first_exposure_to_isolation() -> None:
    assert rules.secondary_window(first_exposure_at=at(7, 12), isolated_at=at(9, 9), now=NOW) == (
        at(7, 12),
        at(9, 9),
    )
    assert rules.secondary_window(first_exposure_at=at(7, 12), isolated_at=None, now=NOW) == (
        at(7, 12),
        NOW,
    )
    # Isolated before the exposure (a household member already in quarantine): no window.
    assert (
        rules.secondary_window(first_exposure_at=at(9, 12), isolated_at=at(9, 9), now=NOW) is None
    )


@pytest.mark.parametrize(
    ("kind", "degree", "engine", "expected"),
    [
        (ExposureKind.HOUSEHOLD, 1, False, ContactCategory.CLOSE),
        (ExposureKind.VENUE, 1, False, ContactCategory.CLOSE),
        (ExposureKind.VENUE, 1, True, ContactCategory.COPRESENCE),
        (ExposureKind.COPRESENCE, 1, False, ContactCategory.COPRESENCE),
        (ExposureKind.HOUSEHOLD, 2, False, ContactCategory.SECONDARY),
        (ExposureKind.VENUE, 2, True, ContactCategory.SECONDARY),
    ],
)
def test_category_of_an_exposure(
    kind: ExposureKind, degree: int, engine: bool, expected: ContactCategory
) -> None:
    assert rules.category_of(kind, degree=degree, found_by_engine=engine) == expected


def test_direct_contacts_follow_the_rulebook() -> None:
    assert rules.is_direct(BOOK, kind=ExposureKind.HOUSEHOLD, encounters=1, manual=True)
    assert not rules.is_direct(BOOK, kind=ExposureKind.VENUE, encounters=1, manual=True)
    assert not rules.is_direct(BOOK, kind=ExposureKind.VENUE, encounters=9, manual=False)
    strict = TracingRules(copresence_direct_min_encounters=3)
    assert rules.is_direct(strict, kind=ExposureKind.VENUE, encounters=3, manual=False)
    assert not rules.is_direct(strict, kind=ExposureKind.VENUE, encounters=2, manual=False)


def test_venue_dwell_widens_the_window() -> None:
    book = TracingRules(venue_dwell_seconds={"restaurant": 5400})
    assert rules.window_for_venue(book, "restaurant") == 5400
    assert rules.window_for_venue(book, "mall") == 1800
    assert rules.window_for_venue(book, None) == 1800


def test_the_stricter_category_wins() -> None:
    assert (
        rules.stricter(ContactCategory.COPRESENCE, ContactCategory.CLOSE) == ContactCategory.CLOSE
    )
    assert (
        rules.stricter(ContactCategory.SECONDARY, ContactCategory.GENERAL)
        == ContactCategory.SECONDARY
    )


def test_shared_venues_rank_by_cases_then_earliest_visit() -> None:
    visits = [
        rules.Visit(1, 10, at(3, 9)),
        rules.Visit(2, 10, at(4, 9)),
        rules.Visit(1, 20, at(2, 9)),
        rules.Visit(2, 20, at(2, 10)),
        rules.Visit(3, 20, at(5, 10)),
        rules.Visit(1, 30, at(1, 9)),  # one case only: not shared
        rules.Visit(1, 40, at(1, 9)),
        rules.Visit(3, 40, at(1, 8)),
    ]
    ranked = rules.shared_venues(visits)
    assert [(s.venue_id, s.cases) for s in ranked] == [(20, 3), (40, 2), (10, 2)]
    assert ranked[0].case_ids == (1, 2, 3)
    assert (ranked[1].first_at, ranked[1].last_at) == (at(1, 8), at(1, 9))


def test_earliest_case_by_onset_then_id() -> None:
    facts = [
        rules.CaseFacts(5, dt.date(2022, 1, 4)),
        rules.CaseFacts(3, dt.date(2022, 1, 4)),
        rules.CaseFacts(1, dt.date(2022, 1, 6)),
    ]
    assert rules.earliest_case(facts) == 3
    assert rules.earliest_case([]) is None


def test_chain_closes_after_the_rulebook_period() -> None:
    book = TracingRules(chain_closed_after_days=28)
    assert rules.chain_active(
        book, last_case_at=NOW - dt.timedelta(days=27), last_exposure_at=None, now=NOW
    )
    assert not rules.chain_active(
        book, last_case_at=NOW - dt.timedelta(days=28), last_exposure_at=None, now=NOW
    )
    assert rules.chain_active(
        book,
        last_case_at=NOW - dt.timedelta(days=40),
        last_exposure_at=NOW - dt.timedelta(days=3),
        now=NOW,
    )


def test_epi_curve_fills_gaps() -> None:
    days = [dt.date(2022, 1, 3), dt.date(2022, 1, 5), dt.date(2022, 1, 5)]
    assert rules.epi_curve(days) == [
        (dt.date(2022, 1, 3), 1),
        (dt.date(2022, 1, 4), 0),
        (dt.date(2022, 1, 5), 2),
    ]
    assert rules.epi_curve([]) == []


def test_both_editions_carry_the_tracing_section() -> None:
    for edition in ("winter-2021", "ninth-edition-2022"):
        book = parse_rulebook(edition_text(edition)).tracing
        assert book.copresence_window_seconds == 1800
        assert book.cell_min_overlap_seconds == 600
        assert book.venue_dwell_seconds["restaurant"] > book.copresence_window_seconds


def test_the_section_refuses_unknown_kinds_and_inconsistent_cells() -> None:
    with pytest.raises(ValueError, match="unknown exposure kinds"):
        TracingRules(direct_exposure_kinds=("hug",))
    with pytest.raises(ValueError, match="cell_cumulative_seconds"):
        TracingRules(cell_min_overlap_seconds=3600, cell_cumulative_seconds=600)
