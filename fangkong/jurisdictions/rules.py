"""Pure decisions about jurisdiction codes, paths and posts. No ORM, no I/O.

Codes are hierarchical: each level's code starts with its parent's code (4-digit city,
6-digit county, 9-digit town, 12-digit village, then our own 15-digit group and 18-digit
grid). So a node's level, its parent's code and its whole materialized path follow from
its code alone, which is what lets an importer check a file before touching the database.
"""

from __future__ import annotations

import re

from fangkong.core.errors import Invalid
from fangkong.core.masking import mask_phone
from fangkong.core.phones import normalise_mobile
from fangkong.core.text import squeeze
from fangkong.jurisdictions.models import CODE_LENGTH, Level, Post

LEVEL_OF_LENGTH: dict[int, Level] = {length: level for level, length in CODE_LENGTH.items()}
LENGTHS: tuple[int, ...] = tuple(sorted(LEVEL_OF_LENGTH))

# Which posts belong at which level. Building leaders are volunteers under a group or grid.
POST_KINDS_AT_LEVEL: dict[Level, frozenset[str]] = {
    Level.CITY: frozenset({Post.Kind.CITY_LEAD}),
    Level.DISTRICT: frozenset({Post.Kind.DISTRICT_LEAD}),
    Level.TOWN: frozenset({Post.Kind.TOWN_LEAD}),
    Level.VILLAGE: frozenset({Post.Kind.COMMUNITY_SECRETARY}),
    Level.GROUP: frozenset({Post.Kind.GROUP_LEADER, Post.Kind.BUILDING_LEADER}),
    Level.GRID: frozenset({Post.Kind.GRID_WORKER, Post.Kind.BUILDING_LEADER}),
}
# A node has many building leaders (one per building); every other post has one holder.
MULTI_HOLDER_KINDS: frozenset[str] = frozenset({Post.Kind.BUILDING_LEADER})

_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalise_code(raw: object) -> str:
    """Full-width folded, spaces removed. Raises Invalid for Excel-mangled numbers."""
    if isinstance(raw, float):
        if not raw.is_integer() or raw >= 1e15:
            raise Invalid(
                "code.excel_number",
                "Code was stored by Excel as a number and may have lost digits; "
                "format the column as text and export again",
            )
        raw = int(raw)
    if isinstance(raw, int) and raw >= 10**15:
        raise Invalid(
            "code.excel_number",
            "Code longer than 15 digits was stored as a number and may have lost digits; "
            "format the column as text and export again",
        )
    return squeeze(str(raw))


def level_of(code: str) -> Level:
    """The level a code's length denotes. Raises Invalid."""
    if not code.isdigit():
        raise Invalid("code.digits", f"Code {code!r} must contain digits only")
    level = LEVEL_OF_LENGTH.get(len(code))
    if level is None:
        lengths = ", ".join(str(n) for n in LENGTHS)
        raise Invalid("code.length", f"Code {code!r} has {len(code)} digits; expected {lengths}")
    return level


def parent_code_of(code: str) -> str | None:
    """The parent's code (a prefix of this one), or None for a city. Raises Invalid."""
    level = level_of(code)
    if level == Level.CITY:
        return None
    return code[: CODE_LENGTH[Level(level - 1)]]


def ancestor_codes(code: str) -> list[str]:
    """Codes from the city down to and including `code`. Raises Invalid."""
    level = level_of(code)
    return [code[: CODE_LENGTH[Level(lv)]] for lv in range(Level.CITY, level + 1)]


def path_of(code: str) -> str:
    """The materialized path "/4409/440902/.../" of a node with this code. Raises Invalid."""
    return "/" + "/".join(ancestor_codes(code)) + "/"


def validate_code(code: str, *, level: int | None = None, parent_code: str | None = None) -> Level:
    """Check a code: digits, a known length, matching `level` and `parent_code` when given,
    and its own segment not all zeros (zeros mean "the parent itself"). Returns the level.
    Raises Invalid."""
    derived = level_of(code)
    if level is not None and level != derived:
        raise Invalid(
            "code.level_mismatch",
            f"Code {code!r} has {len(code)} digits, which is level {int(derived)}, not {level}",
        )
    expected_parent = parent_code_of(code)
    if parent_code is not None and parent_code != expected_parent:
        raise Invalid(
            "code.parent_mismatch",
            f"Parent code {parent_code!r} does not match code {code!r} "
            f"(its parent is {expected_parent or 'none, it is a city'})",
        )
    if expected_parent is not None and set(code[len(expected_parent) :]) == {"0"}:
        raise Invalid("code.zero_segment", f"Code {code!r} ends in an all-zero segment")
    return derived


def validate_post_kind(kind: str, level: int) -> None:
    """A post must fit its node's level (a grid worker at a grid...). Raises Invalid."""
    if kind not in Post.Kind.values:
        raise Invalid("post.kind", f"Unknown post {kind!r}")
    if kind not in POST_KINDS_AT_LEVEL[Level(level)]:
        raise Invalid(
            "post.level",
            f"Post {kind!r} does not belong at level {Level(level).label}",
        )


def normalise_contact_phone(raw: object) -> str:
    """A staff contact number: an 11-digit mobile or a landline with area code; "" stays "".
    Raises Invalid."""
    if raw is None:
        return ""
    text = squeeze(str(raw)) if not isinstance(raw, float) else str(raw)
    if text == "":
        return ""
    try:
        return normalise_mobile(raw)
    except Invalid:
        if _LANDLINE.match(text):
            return text
        raise Invalid(
            "phone.format", f"Phone {text!r} is neither a mobile number nor a landline"
        ) from None


def shown_phone(phone: str, *, full: bool) -> str:
    """The phone as a page or API shows it: in full only to those allowed, masked otherwise."""
    if not phone or full:
        return phone
    return mask_phone(phone)
