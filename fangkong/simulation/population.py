"""Writing households and persons in bounded chunks, through the bulk path.

Each chunk (about `chunk_size` persons) is one transaction. Personal fields are encrypted
with `core.crypto.encrypt` and indexed with `people.protect`, exactly what the model fields
and people services do, so a row written here is found by the same lookups as any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fangkong.core import clock, crypto
from fangkong.people import protect
from fangkong.people.models import Household, Person
from fangkong.simulation.bulk import (
    Row,
    TableWriter,
    date_adapter,
    datetime_value,
    next_id,
    reset_sequences,
)
from fangkong.simulation.residents import Residents
from fangkong.simulation.tree import CityPlan

HOUSEHOLD_FIELDS = ("id", "code", "grid", "jurisdiction_path", "address", "size")
PERSON_FIELDS = (
    "id", "doc_type", "doc_number", "doc_bidx", "name", "name_bidx", "sex", "birth_date",
    "phone", "phone_bidx", "address", "grid", "jurisdiction_path", "household", "id_mismatch",
    "merged_into", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class PopulationCounts:
    persons: int = 0
    households: int = 0
    resident_ids: int = 0
    other_documents: int = 0
    with_phone: int = 0


def write_population(
    plan: CityPlan,
    residents: Residents,
    *,
    chunk_size: int = 20_000,
    using: str = "default",
    progress: Callable[[int], None] | None = None,
) -> PopulationCounts:
    """Write every grid's households and persons; set each grid's population counts on the
    plan (the caller writes the aggregates). Memory stays at one chunk of rows."""
    households = TableWriter(Household, HOUSEHOLD_FIELDS, using=using)
    persons = TableWriter(Person, PERSON_FIELDS, using=using)
    as_date = date_adapter(using=using)
    now = datetime_value(clock.now(), using=using)
    encrypt, doc_index = crypto.encrypt, protect.doc_index
    name_index, phone_index = protect.name_index, protect.phone_index
    household_id, person_id = next_id(Household, using=using), next_id(Person, using=using)
    counts = PopulationCounts()
    household_rows: list[Row] = []
    person_rows: list[Row] = []

    def flush() -> None:
        with transaction.atomic(using=using):
            households.write(household_rows)
            persons.write(person_rows)
        household_rows.clear()
        person_rows.clear()
        if progress is not None:
            progress(counts.persons)

    for grid in plan.grids:
        assert grid.id is not None, "the tree is written before its residents"
        grid_persons = grid_households = 0
        for draft in residents.grid_households(grid):
            address = draft.address
            household_rows.append(
                (
                    household_id, draft.code, grid.id, grid.path, encrypt(address),
                    len(draft.members),
                )
            )  # fmt: skip
            for member in draft.members:
                phone = member.phone
                row: tuple[Any, ...] = (
                    person_id,
                    member.doc_type,
                    encrypt(member.doc_number),
                    doc_index(member.doc_number),
                    encrypt(member.name),
                    name_index(member.name),
                    member.sex,
                    as_date(member.birth_date),
                    encrypt(phone) if phone else "",
                    phone_index(phone) if phone else "",
                    encrypt(address),
                    grid.id,
                    grid.path,
                    household_id,
                    False,
                    None,
                    now,
                    now,
                )
                person_rows.append(row)
                person_id += 1
                counts.with_phone += bool(phone)
                if member.doc_type == Person.DocumentType.RESIDENT_ID:
                    counts.resident_ids += 1
                else:
                    counts.other_documents += 1
            grid_persons += len(draft.members)
            grid_households += 1
            household_id += 1
        grid.population, grid.households = grid_persons, grid_households
        counts.persons += grid_persons
        counts.households += grid_households
        if len(person_rows) >= chunk_size:
            flush()
    if person_rows:
        flush()
    reset_sequences([Household, Person], using=using)
    return counts
