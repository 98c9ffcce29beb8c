"""Identity documents: GB 11643 resident ID numbers and the other document types.

18-digit numbers carry a 6-digit area code, the birth date and a sequence whose parity gives
the sex, then an ISO 7064 MOD 11-2 check character. Residence permits for Hong Kong, Macao
(810000/820000) and Taiwan (830000) residents use the same layout, and so do the 2023
foreigner permanent residence cards starting with 9: python-stdnum's `cn.ric` rejects those
area codes, so we check the structure ourselves and use no area-code table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from fangkong.core import clock
from fangkong.core.errors import Invalid
from fangkong.core.text import squeeze

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


class DocType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    HMT_PERMIT = "hmt_permit"  # 港澳台居民居住证
    FOREIGNER_PR = "foreigner_pr"  # 外国人永久居留身份证
    PASSPORT = "passport"  # 护照
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class IdFacts:
    number: str
    birth_date: dt.date | None
    sex: str | None  # "M" | "F"


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_document_number(raw: object) -> str:
    """Full-width to half-width, spaces removed, trailing x upper-cased.

    Excel-mangled values (numbers in scientific notation, or floats) are rejected here,
    because the digits they lost cannot be recovered.
    """
    if raw is None:
        return ""
    if isinstance(raw, float):
        raise Invalid(
            "id.excel_number",
            "ID number was stored by Excel as a number and has lost its last digits; "
            "format the column as text and export again",
        )
    text = squeeze(str(raw)).upper()
    if _SCIENTIFIC.match(text):
        raise Invalid(
            "id.excel_number",
            f"ID number {text!r} is in scientific notation (Excel); its digits are lost, "
            "format the column as text and export again",
        )
    return text


def parse_18(number: str, *, allow_structural_only: bool = False) -> IdFacts:
    """Validate an 18-character GB 11643 number. Raises Invalid with the reason."""
    if len(number) != 18:
        raise Invalid("id.length", f"ID number must have 18 characters, got {len(number)}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise Invalid("id.characters", "ID number must be 17 digits then a digit or X")
    # Excel keeps 15 significant digits: an ID number typed as a number ends in "000".
    if number[15:] == "000" and check_char(number[:17]) != number[17]:
        raise Invalid(
            "id.excel_zeroed",
            "ID number ends in zeros where digits were expected; Excel probably rounded it, "
            "format the column as text and export again",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise Invalid(
            "id.birth_date", f"ID number carries an impossible birth date {number[6:14]}"
        ) from exc
    # A date after today is as impossible as 30 February: a typo in the year, usually.
    if birth.year < 1880 or birth > clock.local_date():
        raise Invalid("id.birth_date", f"ID number carries an impossible birth date {number[6:14]}")
    if not allow_structural_only and check_char(number[:17]) != number[17]:
        raise Invalid("id.checksum", "ID number fails its check digit (GB 11643 MOD 11-2)")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdFacts(number=number, birth_date=birth, sex=sex)


def validate_document(doc_type: DocType | str, raw: object) -> IdFacts:
    """Normalise and validate a document number for its type. Raises Invalid."""
    doc_type = DocType(doc_type)
    number = normalise_document_number(raw)
    if not number:
        raise Invalid("id.empty", "Document number is required")
    if doc_type == DocType.RESIDENT_ID:
        if number[:1] == "9" or number[:2] in {"81", "82", "83"}:
            raise Invalid(
                "id.wrong_type",
                "This number is a residence permit or foreigner card, not a resident ID card",
            )
        if len(number) == 15:
            raise Invalid("id.length", "First-generation 15-digit ID numbers are not accepted")
        return parse_18(number)
    if doc_type == DocType.HMT_PERMIT:
        if number[:2] not in {"81", "82", "83"}:
            raise Invalid("id.wrong_type", "Residence permit numbers start with 81, 82 or 83")
        return parse_18(number)
    if doc_type == DocType.FOREIGNER_PR:
        if len(number) == 18 and number[:1] == "9":
            return parse_18(number)
        # Cards issued before 2023: 3 letters + 12 digits (15 characters), no embedded sex.
        if re.fullmatch(r"[A-Z]{3}\d{12}", number):
            return IdFacts(number=number, birth_date=None, sex=None)
        raise Invalid(
            "id.format",
            "Foreigner permanent residence card: 18 digits starting 9, or 3 letters + 12 digits",
        )
    if doc_type == DocType.PASSPORT:
        if not re.fullmatch(r"[A-Z0-9]{5,17}", number):
            raise Invalid("id.format", "Passport number must be 5-17 letters or digits")
        return IdFacts(number=number, birth_date=None, sex=None)
    if len(number) > 40:
        raise Invalid("id.format", "Document number is too long")
    return IdFacts(number=number, birth_date=None, sex=None)
