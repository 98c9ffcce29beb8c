"""Blind indexes of personal fields: the one definition of what "the same value" means.

Services and bulk writers (the synthetic city, importers) must compute indexes here, so
that a lookup finds what any path wrote. Inputs are normalised values.
"""

from __future__ import annotations

from collections.abc import Iterable

from fangkong.core import crypto
from fangkong.core.text import squeeze


def doc_index(number: str) -> str:
    """Index of a normalised document number (any document type)."""
    return crypto.blind_index(number, purpose="doc")


def doc_index_many(numbers: Iterable[str]) -> list[str]:
    """`doc_index` of each number, in order (bulk importers)."""
    return crypto.blind_index_many(numbers, purpose="doc")


def phone_index(phone: str) -> str:
    """Index of a normalised 11-digit mobile number."""
    return crypto.blind_index(phone, purpose="phone")


def name_index(name: str) -> str:
    """Index of a name: full-width folded, spaces removed, case-folded (exact match only)."""
    return crypto.blind_index(squeeze(name).casefold(), purpose="name")
