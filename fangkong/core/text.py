"""Text normalisation for input as it really arrives (full-width digits, stray spaces)."""

from __future__ import annotations

import unicodedata

_SPACES = {" ", "\u3000", "\t", "\xa0", "\u200b", "\ufeff"}


def fold(value: str) -> str:
    """NFKC (full-width to half-width) and trim, keeping inner spaces."""
    return unicodedata.normalize("NFKC", value).strip()


def squeeze(value: str) -> str:
    """`fold`, then drop every space and separator character."""
    return "".join(ch for ch in fold(value) if ch not in _SPACES and not ch.isspace())
