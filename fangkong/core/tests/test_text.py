"""`squeeze` drops every space and separator, exactly as the character-by-character definition
(whitespace by `str.isspace`, plus the zero-width space and the byte-order mark, after NFKC)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.text import fold, squeeze

SEPARATORS = " \u3000\t\xa0\u200b\ufeff\n\r\x0b\x0c\x1c\u2028\u2029\u2003\u205f"


def _reference(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).strip()
    return "".join(ch for ch in folded if ch not in "\u200b\ufeff" and not ch.isspace())


def test_squeeze_on_values_as_they_arrive() -> None:
    assert (
        squeeze("\ufeff１１０１０１ １９９０\u3000０３０７\u200b ００１２ ") == "110101199003070012"
    )
    assert squeeze("王\xa0小\t明") == "王小明"
    assert squeeze("") == ""
    assert fold(" ＡＢ Ｃ ") == "AB C"  # fold keeps inner spaces


@given(st.text(alphabet=st.sampled_from(SEPARATORS) | st.characters(), max_size=40))
def test_squeeze_equals_the_reference(value: str) -> None:
    assert squeeze(value) == _reference(value)
