"""Mainland mobile numbers as they really arrive."""

from __future__ import annotations

import pytest

from fangkong.core.errors import Invalid
from fangkong.core.phones import normalise_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "138-1234-5678",
        "138 1234 5678",
        "0086 13812345678",
        "86 13812345678",
        "(+86) 13812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８１２３４５６７８",
        13812345678,
        13812345678.0,
    ],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(raw: object) -> None:
    assert normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    ["12812345678", "1381234567", "138123456789", "02012345678", "1.38123E+10", "", "abc", 1.5],
)
def test_non_mobile_numbers_are_rejected(raw: object) -> None:
    with pytest.raises(Invalid) as exc:
        normalise_mobile(raw)
    assert exc.value.code == "phone.format"
