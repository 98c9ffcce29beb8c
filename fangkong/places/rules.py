"""Pure decisions about places: category of a kind, place codes. No ORM, no I/O."""

from __future__ import annotations

import re

from fangkong.core.errors import Invalid
from fangkong.core.text import squeeze
from fangkong.places.models import CATEGORY_OF_KIND, PlaceKind

CODE_MAX = 24
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,23}$")
# No 0/O or 1/I: place codes are read aloud and typed from printed QR posters.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_TOKEN_LEN = 4


def category_of(kind: str) -> str:
    """The category (key place, sentinel unit...) a kind belongs to. Raises Invalid."""
    category = CATEGORY_OF_KIND.get(kind)
    if category is None:
        raise Invalid("place.kind", f"Unknown place kind {kind!r}")
    return str(category)


def normalise_code(raw: str) -> str:
    """A place code as given: folded, spaces removed, upper-cased. Raises Invalid."""
    code = squeeze(raw).upper()
    if not _CODE.match(code):
        raise Invalid(
            "place.code", "Place code must be 4-24 letters, digits or dashes, starting alphanumeric"
        )
    return code


def generated_code(jurisdiction_code: str, token: str) -> str:
    """ "PL" + the jurisdiction's code + a short random token: unique enough, and readable
    as belonging to its jurisdiction."""
    return f"PL{jurisdiction_code}{token}"[:CODE_MAX]


def has_rooms(kind: str) -> bool:
    """Only quarantine facilities have rooms."""
    return kind == PlaceKind.QUARANTINE_FACILITY
