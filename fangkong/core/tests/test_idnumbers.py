"""Identity document validation: property tests over generated valid numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fangkong.core.errors import Invalid
from fangkong.core.idnumbers import DocType, check_char, validate_document

_DIGITS = "0123456789"
_CHECK_CHARS = "0123456789X"
_TODAY_SAFE = dt.date(2020, 12, 31)


@st.composite
def id_numbers(draw: st.DrawFn, prefixes: st.SearchStrategy[str]) -> str:
    """A valid 18-character number: area/prefix, birth date, sequence, MOD 11-2 check."""
    prefix = draw(prefixes)
    area = prefix + "".join(
        draw(st.lists(st.sampled_from(_DIGITS), min_size=6 - len(prefix), max_size=6 - len(prefix)))
    )
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=_TODAY_SAFE))
    seq = draw(st.integers(min_value=0, max_value=999))
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


resident_ids = id_numbers(st.sampled_from("123456"))
hmt_permits = id_numbers(st.sampled_from(["810000", "820000", "830000"]))
foreigner_cards = id_numbers(st.just("9"))


def _rejected(doc_type: DocType, number: str) -> bool:
    try:
        validate_document(doc_type, number)
    except Invalid:
        return True
    return False


@given(resident_ids)
def test_valid_resident_id_is_accepted_with_birth_date_and_sex(number: str) -> None:
    facts = validate_document(DocType.RESIDENT_ID, number)
    assert facts.number == number
    assert facts.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert facts.sex == ("M" if int(number[16]) % 2 else "F")


@given(resident_ids)
def test_every_single_character_change_is_rejected(number: str) -> None:
    for pos in range(18):
        for ch in _CHECK_CHARS:
            if ch == number[pos]:
                continue
            changed = number[:pos] + ch + number[pos + 1 :]
            assert _rejected(DocType.RESIDENT_ID, changed), (number, changed)


@given(resident_ids)
def test_every_adjacent_swap_is_rejected(number: str) -> None:
    for pos in range(17):
        a, b = number[pos], number[pos + 1]
        if a == b:
            continue
        swapped = number[:pos] + b + a + number[pos + 2 :]
        assert _rejected(DocType.RESIDENT_ID, swapped), (number, swapped)


@given(hmt_permits)
def test_residence_permits_are_accepted_as_permits_not_as_resident_ids(number: str) -> None:
    facts = validate_document(DocType.HMT_PERMIT, number)
    assert facts.birth_date is not None
    assert facts.sex in {"M", "F"}
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.RESIDENT_ID, number)
    assert exc.value.code == "id.wrong_type"


@given(foreigner_cards)
def test_new_foreigner_cards_are_accepted_as_foreigner_cards_only(number: str) -> None:
    assert validate_document(DocType.FOREIGNER_PR, number).birth_date is not None
    assert _rejected(DocType.RESIDENT_ID, number)
    assert _rejected(DocType.HMT_PERMIT, number)


@given(hmt_permits)
def test_every_single_character_change_of_a_permit_is_rejected(number: str) -> None:
    for pos in range(18):
        for ch in _CHECK_CHARS:
            if ch != number[pos]:
                changed = number[:pos] + ch + number[pos + 1 :]
                assert _rejected(DocType.HMT_PERMIT, changed), (number, changed)


def test_old_foreigner_card_format_is_accepted_without_facts() -> None:
    facts = validate_document(DocType.FOREIGNER_PR, "usa123456789012")
    assert facts.number == "USA123456789012"
    assert facts.birth_date is None
    assert facts.sex is None


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@given(resident_ids)
def test_full_width_digits_lower_case_x_and_spaces_are_normalised(number: str) -> None:
    raw = _full_width(number.lower())
    raw = f" {raw[:6]} {raw[6:14]}\u3000{raw[14:]} "
    assert validate_document(DocType.RESIDENT_ID, raw).number == number


def test_lower_case_x_check_character_is_upper_cased() -> None:
    body = "44090219900101002"
    assert check_char(body) == "X"  # the sample really ends in X
    assert validate_document(DocType.RESIDENT_ID, body + "x").number == body + "X"
    assert validate_document("resident_id", body + "ｘ").sex == "F"


@pytest.mark.parametrize("raw", ["4.40106E+17", "4.40106199001011e17", "4.4E+17"])
def test_scientific_notation_from_excel_is_rejected_with_a_clear_message(raw: str) -> None:
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.RESIDENT_ID, raw)
    assert exc.value.code == "id.excel_number"
    assert "Excel" in exc.value.message


def test_a_float_from_a_spreadsheet_is_rejected() -> None:
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.RESIDENT_ID, 4.40106199001011e17)
    assert exc.value.code == "id.excel_number"


@given(resident_ids)
def test_last_three_digits_zeroed_by_excel_are_rejected(number: str) -> None:
    zeroed = number[:15] + "000"
    assume(zeroed != number and check_char(zeroed[:17]) != "0")
    for raw in (zeroed, int(zeroed)):
        with pytest.raises(Invalid) as exc:
            validate_document(DocType.RESIDENT_ID, raw)
        assert exc.value.code == "id.excel_zeroed"
        assert "Excel" in exc.value.message


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("44090219900101123", "id.length"),
        ("440902199001011", "id.length"),
        ("4409021990010112A4", "id.characters"),
        ("440902199002301234", "id.birth_date"),
        ("440902187001011234", "id.birth_date"),
        ("", "id.empty"),
        ("   ", "id.empty"),
    ],
)
def test_malformed_resident_ids_name_their_reason(number: str, code: str) -> None:
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.RESIDENT_ID, number)
    assert exc.value.code == code


def test_birth_date_in_the_future_is_rejected() -> None:
    body = "44090221990101123"
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.RESIDENT_ID, body + check_char(body))
    assert exc.value.code == "id.birth_date"


def test_missing_value_is_empty_not_the_word_none() -> None:
    with pytest.raises(Invalid) as exc:
        validate_document(DocType.PASSPORT, None)
    assert exc.value.code == "id.empty"


def test_passport_numbers_are_checked_for_shape_only() -> None:
    assert validate_document(DocType.PASSPORT, "e 1234 5678").number == "E12345678"
    assert _rejected(DocType.PASSPORT, "E12")
    assert _rejected(DocType.PASSPORT, "E1234-5678")
