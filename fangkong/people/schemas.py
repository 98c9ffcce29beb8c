"""API shapes for /api/people. Out-shapes carry masked values only, except PersonFullOut."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from fangkong.core.idnumbers import DocType


class PersonOut(Schema):
    """A person as anyone in scope sees them: masked (see people.masked.PersonView)."""

    id: int
    name: str
    doc_type: str
    doc_number: str
    sex: str
    birth_year: int | None
    phone: str
    address: str
    grid_code: str
    household_code: str
    jurisdiction_path: str
    id_mismatch: bool
    merged_into_id: int | None


class PersonPageOut(Schema):
    items: list[PersonOut]
    next_before: int | None


class PersonSearchOut(Schema):
    kind: str
    items: list[PersonOut]


class SearchIn(Schema):
    q: str = Field(min_length=1, max_length=100)


class PersonRegisterIn(Schema):
    doc_type: DocType = Field(examples=["resident_id"])
    doc_number: str = Field(max_length=64)
    name: str = Field(max_length=100)
    sex: str | None = Field(default=None, pattern="^[MFU]$")
    birth_date: dt.date | None = None
    phone: str = Field(default="", max_length=32)
    address: str = Field(default="", max_length=300)
    grid_code: str | None = Field(default=None, description="Code of the person's grid")
    jurisdiction_code: str | None = Field(
        default=None, description="When the grid is not known: the node responsible"
    )


class PersonUpdateIn(Schema):
    reason: str = Field(min_length=1, max_length=500)
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    grid_code: str | None = None


class RevealIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class PersonFullOut(Schema):
    id: int
    name: str
    doc_type: str
    doc_number: str
    phone: str
    address: str
    birth_date: dt.date | None


class MergeIn(Schema):
    duplicate_id: int
    reason: str = Field(min_length=1, max_length=500)
