"""Code, path and post rules as pure functions: no database."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Invalid
from fangkong.jurisdictions import rules
from fangkong.jurisdictions.models import Level, Post


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("4409", Level.CITY),
        ("440902", Level.DISTRICT),
        ("440902001", Level.TOWN),
        ("440902001001", Level.VILLAGE),
        ("440902001001001", Level.GROUP),
        ("440902001001001001", Level.GRID),
    ],
)
def test_level_follows_from_code_length(code: str, level: int) -> None:
    assert rules.level_of(code) == level


@pytest.mark.parametrize("code", ["44090", "4409020011", "", "1234567"])
def test_unknown_lengths_are_rejected(code: str) -> None:
    with pytest.raises(Invalid) as exc:
        rules.level_of(code)
    assert exc.value.code in {"code.length", "code.digits"}


def test_non_digits_are_rejected() -> None:
    with pytest.raises(Invalid, match="digits only"):
        rules.level_of("44O9")


def test_parent_code_is_the_prefix_of_the_level_above() -> None:
    assert rules.parent_code_of("4409") is None
    assert rules.parent_code_of("440902") == "4409"
    assert rules.parent_code_of("440902001") == "440902"
    assert rules.parent_code_of("440902001001001001") == "440902001001001"


def test_path_lists_every_ancestor_code() -> None:
    assert rules.path_of("440902001") == "/4409/440902/440902001/"
    assert rules.ancestor_codes("440902001001") == ["4409", "440902", "440902001", "440902001001"]


def test_validate_code_accepts_a_matching_level_and_parent() -> None:
    assert rules.validate_code("440902001", level=3, parent_code="440902") == Level.TOWN


def test_validate_code_rejects_a_wrong_level() -> None:
    with pytest.raises(Invalid) as exc:
        rules.validate_code("440902001", level=Level.VILLAGE)
    assert exc.value.code == "code.level_mismatch"


def test_validate_code_rejects_a_parent_that_is_not_its_prefix() -> None:
    with pytest.raises(Invalid) as exc:
        rules.validate_code("440902001", parent_code="440903")
    assert exc.value.code == "code.parent_mismatch"


def test_validate_code_rejects_an_all_zero_own_segment() -> None:
    with pytest.raises(Invalid) as exc:
        rules.validate_code("440902000")
    assert exc.value.code == "code.zero_segment"


def test_normalise_code_folds_full_width_digits_and_spaces() -> None:
    assert rules.normalise_code(" ４４０９ ０２ ") == "440902"


def test_normalise_code_accepts_short_numbers_but_not_long_excel_floats() -> None:
    assert rules.normalise_code(440902.0) == "440902"
    assert rules.normalise_code(440902001) == "440902001"
    with pytest.raises(Invalid):
        rules.normalise_code(4.40902001001001e17)
    with pytest.raises(Invalid):
        rules.normalise_code(440902001001001001)


def test_posts_must_fit_the_level() -> None:
    rules.validate_post_kind(Post.Kind.GRID_WORKER, Level.GRID)
    rules.validate_post_kind(Post.Kind.BUILDING_LEADER, Level.GROUP)
    with pytest.raises(Invalid) as exc:
        rules.validate_post_kind(Post.Kind.GRID_WORKER, Level.DISTRICT)
    assert exc.value.code == "post.level"
    with pytest.raises(Invalid):
        rules.validate_post_kind("mayor", Level.CITY)


def test_contact_phone_accepts_mobiles_and_landlines() -> None:
    assert rules.normalise_contact_phone("+86 138-0013-8000") == "13800138000"
    assert rules.normalise_contact_phone("0668-2281234") == "0668-2281234"
    assert rules.normalise_contact_phone("") == ""
    assert rules.normalise_contact_phone(None) == ""
    with pytest.raises(Invalid):
        rules.normalise_contact_phone("12345")


def test_phone_is_masked_unless_full_view() -> None:
    assert rules.shown_phone("13800138000", full=False) == "138****8000"
    assert rules.shown_phone("13800138000", full=True) == "13800138000"
    assert rules.shown_phone("", full=False) == ""
