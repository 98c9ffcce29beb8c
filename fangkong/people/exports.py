"""The person list as a file (fangkong.exports does the masking, stamp and audit)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.utils.translation import gettext

from fangkong.core.masking import mask_address, mask_document, mask_name, mask_phone
from fangkong.core.scope import Scope
from fangkong.exports.services import MAX_ROWS, Column
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.people import selectors

_PAGE = 200


def _year(value: str) -> str:
    # Masked like the pages (masked.PersonView): the birth year only.
    return value[:4]


def person_columns() -> list[Column]:
    return [
        Column(gettext("ID")),
        Column(gettext("Name"), personal=True, mask=mask_name),
        Column(gettext("Document type")),
        Column(gettext("Document number"), personal=True, mask=mask_document),
        Column(gettext("Sex")),
        Column(gettext("Born"), personal=True, mask=_year),
        Column(gettext("Phone"), personal=True, mask=mask_phone),
        Column(gettext("Address"), personal=True, mask=mask_address),
        Column(gettext("Grid code")),
        Column(gettext("Grid")),
        Column(gettext("Household")),
    ]


def person_rows(*, scope: Scope, grid: Jurisdiction | None = None) -> Iterator[Sequence[object]]:
    """Raw rows of the person list in scope, page by page (person_list's keyset), newest first."""
    before: int | None = None
    sent = 0
    while sent <= MAX_ROWS:
        page = selectors.person_list(scope=scope, grid=grid, before=before, limit=_PAGE)
        for p in page.items:
            yield [
                p.pk,
                p.name,
                p.get_doc_type_display(),
                p.doc_number,
                p.get_sex_display() if p.sex else "",
                p.birth_date.isoformat() if p.birth_date else "",
                p.phone,
                p.address,
                p.grid.code if p.grid is not None else "",
                p.grid.name if p.grid is not None else "",
                p.household.code if p.household is not None else "",
            ]
        sent += len(page.items)
        if page.next_before is None:
            return
        before = page.next_before
