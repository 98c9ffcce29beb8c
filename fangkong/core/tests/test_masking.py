"""Masked display formats."""

from __future__ import annotations

import pytest

from fangkong.core.masking import mask_address, mask_document, mask_name, mask_phone


def test_document_keeps_first_four_and_last_four() -> None:
    assert mask_document("440902199001011234") == "4409**********1234"
    assert mask_document("81000019900101123X") == "8100**********123X"


@pytest.mark.parametrize("number", ["A", "AB", "ABC", "E1234567", "E12345678"])
def test_short_documents_show_at_most_half_their_characters(number: str) -> None:
    masked = mask_document(number)
    shown = sum(1 for c in masked if c != "*")
    assert shown <= len(number) // 2
    assert len(masked) == max(len(number), 2)


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("张", "张*"),
        ("John Smith", "John *****"),
        ("Alice", "A****"),
        ("", ""),
    ],
)
def test_name_keeps_only_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_single_letter_latin_name_is_still_masked() -> None:
    assert mask_name("A") != "A"


def test_address_keeps_the_area_and_hides_the_door() -> None:
    masked = mask_address("茂南区红旗街道站南路12号3栋502")
    assert masked.startswith("茂南区红旗街")
    assert "502" not in masked
    assert mask_address("茂南区") == "茂南*"
