"""Text normalisation for input as it really arrives (full-width digits, stray spaces)."""

from __future__ import annotations

import unicodedata


def fold(value: str) -> str:
    """NFKC (full-width to half-width) and trim, keeping inner spaces."""
    return unicodedata.normalize("NFKC", value).strip()


_INVISIBLE = str.maketrans("", "", "\u200b\ufeff")  # separators that are not whitespace


def squeeze(value: str) -> str:
    """`fold`, then drop every space and separator character (whitespace as `str.isspace`
    sees it, and the zero-width space and byte-order mark)."""
    return "".join(fold(value).translate(_INVISIBLE).split())
