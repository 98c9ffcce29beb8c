"""The arrival list as a file (fangkong.exports does the masking, stamp and audit)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.utils.translation import gettext

from fangkong.core.masking import mask_address, mask_document, mask_name, mask_phone
from fangkong.core.scope import Scope
from fangkong.exports.services import MAX_ROWS, Column
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.screening import selectors

_PAGE = 200


def arrival_columns() -> list[Column]:
    return [
        Column(gettext("Arrival")),
        Column(gettext("Name"), personal=True, mask=mask_name),
        Column(gettext("Document number"), personal=True, mask=mask_document),
        Column(gettext("Phone"), personal=True, mask=mask_phone),
        Column(gettext("Address"), personal=True, mask=mask_address),
        Column(gettext("Jurisdiction")),
        Column(gettext("Origin")),
        Column(gettext("Route")),
        Column(gettext("Risk")),
        Column(gettext("Category")),
        Column(gettext("Returnee class")),
        Column(gettext("Arrival date")),
        Column(gettext("Status")),
        Column(gettext("Reason")),
        Column(gettext("Sample")),
        Column(gettext("Under control")),
        Column(gettext("Lists")),
        Column(gettext("Due")),
    ]


def arrival_rows(
    *, scope: Scope, node: Jurisdiction | None, key: str
) -> Iterator[Sequence[object]]:
    """Raw rows of a drill-down list, newest first (keyset pages)."""
    after: str | None = None
    sent = 0
    while sent <= MAX_ROWS:
        page = selectors.arrival_list(scope=scope, node=node, key=key, after=after, limit=_PAGE)
        for a in page.items:
            yield [
                a.pk,
                a.name,
                a.doc_number,
                a.phone,
                a.address,
                a.jurisdiction.name,
                a.origin,
                a.route,
                a.risk_level,
                a.category,
                a.get_returnee_class_display(),
                a.arrival_date,
                a.get_status_display(),
                a.get_not_reached_reason_display() if a.not_reached_reason else "",
                a.sample_ref,
                a.under_control,
                a.source_count,
                a.due_at,
            ]
        sent += len(page.items)
        if page.next_after is None:
            return
        after = page.next_after
