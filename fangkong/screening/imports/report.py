"""The row-level report of a refused file, as an xlsx (row, column, reason)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext_noop

from fangkong.screening import columns
from fangkong.screening.imports.reading import MSG_MISSING


def report_xlsx(errors: Iterable[dict[str, Any]], *, translate: Callable[[str], str]) -> bytes:
    """The row-level report: row, column and reason of each problem, as an xlsx."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(translate(gettext_noop("Import problems")))
    sheet.append(
        [
            translate(gettext_noop("Row")),
            translate(gettext_noop("Column")),
            translate(gettext_noop("Error")),
        ]
    )
    for e in errors:
        column = str(e.get("column", ""))
        label = columns.LABELS.get(column)
        sheet.append([e.get("row"), translate(label) if label else column, _reason(e, translate)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _reason(e: dict[str, Any], translate: Callable[[str], str]) -> str:
    reason = str(e.get("reason", ""))
    head, sep, tail = reason.partition(": ")
    if head == MSG_MISSING and sep:
        return f"{translate(MSG_MISSING)}: {translate(tail)}"
    return translate(reason)
