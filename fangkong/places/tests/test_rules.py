"""Place rules as pure functions."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Invalid
from fangkong.places import rules


def test_category_follows_from_kind() -> None:
    assert rules.category_of("pharmacy") == "sentinel"
    assert rules.category_of("elderly_care") == "special_place"
    assert rules.category_of("quarantine_facility") == "quarantine"


def test_unknown_kind_is_invalid() -> None:
    with pytest.raises(Invalid):
        rules.category_of("spaceport")


def test_codes_are_normalised_and_checked() -> None:
    assert rules.normalise_code(" pc-0001 ") == "PC-0001"
    with pytest.raises(Invalid):
        rules.normalise_code("a")
    with pytest.raises(Invalid):
        rules.normalise_code("X" * 25)


def test_generated_code_carries_the_jurisdiction_and_fits() -> None:
    code = rules.generated_code("440902001001001001", "AB23")
    assert code == "PL440902001001001001AB23"
    assert len(code) <= rules.CODE_MAX


def test_only_quarantine_facilities_have_rooms() -> None:
    assert rules.has_rooms("quarantine_facility")
    assert not rules.has_rooms("hotel")
