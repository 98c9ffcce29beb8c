"""The control-order list as a file (fangkong.exports does the masking, stamp and audit)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.utils.translation import gettext

from fangkong.control import selectors
from fangkong.core.masking import mask_document, mask_name, mask_phone
from fangkong.core.scope import Scope
from fangkong.exports.services import MAX_ROWS, Column

_PAGE = 200


def order_columns() -> list[Column]:
    return [
        Column(gettext("Order")),
        Column(gettext("Name"), personal=True, mask=mask_name),
        Column(gettext("Document number"), personal=True, mask=mask_document),
        Column(gettext("Phone"), personal=True, mask=mask_phone),
        Column(gettext("Grid")),
        Column(gettext("Category")),
        Column(gettext("Measure")),
        Column(gettext("Status")),
        Column(gettext("Start")),
        Column(gettext("Release on")),
        Column(gettext("Basis")),
        Column(gettext("Policy version")),
    ]


def order_rows(
    *, scope: Scope, status: str | None = None, measure: str | None = None
) -> Iterator[Sequence[object]]:
    """Raw rows of the order list in scope with the page's filters, newest first."""
    after: int | None = None
    sent = 0
    while sent <= MAX_ROWS:
        page = selectors.order_list(
            scope=scope, status=status, measure=measure, after=after, limit=_PAGE
        )
        for o in page.items:
            p = o.person
            yield [
                o.pk,
                p.name,
                p.doc_number,
                p.phone,
                p.grid.name if p.grid is not None else "",
                o.get_category_display(),
                o.get_measure_display(),
                o.get_status_display(),
                o.start_date,
                o.release_on,
                f"{o.get_basis_type_display()} {o.basis_id}".strip(),
                o.policy_version,
            ]
        sent += len(page.items)
        if page.next_after is None:
            return
        after = page.next_after
