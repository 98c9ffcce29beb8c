"""What pages and the API show of a person: masked values only.

Templates and schemas render a PersonView, never a Person, so a full name or number cannot
reach a page by accident. The full values come only from `services.person_reveal`.
The birth date is reduced to the year: with the masked number's first and last four digits,
a full birth date would give away all but two digits of a resident ID.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangkong.core.masking import mask_address, mask_document, mask_name, mask_phone
from fangkong.people.models import Person


@dataclass(frozen=True, slots=True)
class PersonView:
    id: int
    name: str
    doc_type: str
    doc_type_label: str
    doc_number: str
    sex: str
    sex_label: str
    birth_year: int | None
    phone: str
    address: str
    grid_code: str
    grid_name: str
    household_code: str
    jurisdiction_path: str
    id_mismatch: bool
    merged_into_id: int | None

    @classmethod
    def of(cls, person: Person) -> PersonView:
        """Build from a Person loaded with select_related("grid", "household")."""
        grid = person.grid
        household = person.household
        return cls(
            id=person.pk,
            name=mask_name(person.name),
            doc_type=person.doc_type,
            doc_type_label=str(person.get_doc_type_display()),
            doc_number=mask_document(person.doc_number),
            sex=person.sex,
            sex_label=str(person.get_sex_display()),
            birth_year=person.birth_date.year if person.birth_date else None,
            phone=mask_phone(person.phone) if person.phone else "",
            address=mask_address(person.address) if person.address else "",
            grid_code=grid.code if grid is not None else "",
            grid_name=grid.name if grid is not None else "",
            household_code=household.code if household is not None else "",
            jurisdiction_path=person.jurisdiction_path,
            id_mismatch=person.id_mismatch,
            merged_into_id=person.merged_into_id,
        )
