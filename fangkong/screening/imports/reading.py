"""Reading and validating a list: the header row under any title rows, then every row checked
and normalised into an `Entry`, nothing written. Errors name the row, the column and the
reason, never the cell's value (reports and the batch row would otherwise keep personal data
in clear)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from fangkong.core import clock
from fangkong.core.errors import Invalid
from fangkong.core.uploads import table_rows
from fangkong.screening import columns
from fangkong.screening.services._common import Entry, entry_of

MAX_ROWS = 200_000
PROGRESS_EVERY = 2000

# Reasons by validation code.
REASONS: dict[str, str] = {
    "id.empty": gettext_noop("ID number is required"),
    "id.excel_number": gettext_noop(
        "ID number was stored by Excel as a number and lost its last digits: "
        "format the column as text and export again"
    ),
    "id.excel_zeroed": gettext_noop(
        "ID number ends in zeros where digits were expected (Excel rounded it): "
        "format the column as text and export again"
    ),
    "id.length": gettext_noop("ID number must have 18 characters"),
    "id.characters": gettext_noop("ID number must be 17 digits then a digit or X"),
    "id.birth_date": gettext_noop("ID number carries an impossible birth date"),
    "id.checksum": gettext_noop("ID number fails its check digit"),
    "id.wrong_type": gettext_noop("The number does not fit the document type"),
    "id.format": gettext_noop("Document number has the wrong format"),
    "phone.format": gettext_noop("Phone is not an 11-digit mainland mobile number"),
    "screening.name_required": gettext_noop("Name is required"),
    "screening.name_too_long": gettext_noop("Name is too long"),
    "screening.address_too_long": gettext_noop("Address is too long"),
    "screening.origin_too_long": gettext_noop("Origin is too long"),
    "screening.route_too_long": gettext_noop("Route is too long"),
    "screening.doc_type": gettext_noop("Unknown document type"),
    "future": gettext_noop("Arrival date lies in the future"),
}
MSG_NO_HEADER = gettext_noop(
    "No header row found in the first 20 rows: name the columns 姓名 and 身份证号 (or a synonym)"
)
MSG_MISSING = gettext_noop("Required column missing")
MSG_EMPTY = gettext_noop("The file has no data rows")
MSG_TOO_MANY = gettext_noop("The file has more than 200000 rows; split it")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as the spreadsheet numbers it
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    entry: Entry


def read_header(data: bytes, kind: str, saved: dict[str, str]) -> columns.Header | None:
    """The mapping step: the recognised header of a checked file."""
    head = []
    for number, cells in table_rows(data, kind):
        head.append((number, cells))
        if len(head) >= columns.HEADER_SCAN_ROWS:
            break
    return columns.find_header(head, saved)


def validate(
    data: bytes,
    kind: str,
    *,
    saved: dict[str, str],
    progress: Progress | None = None,
    recognised: dict[str, str] | None = None,
) -> tuple[list[Row], list[RowError]]:
    """Every row read and checked; nothing written. Returns (rows, errors); fills
    `recognised` with the header -> field mapping it used (the page shows it)."""
    rows_iter = table_rows(data, kind)
    head: list[tuple[int, list[Any]]] = []
    for number, cells in rows_iter:
        head.append((number, cells))
        if len(head) >= columns.HEADER_SCAN_ROWS:
            break
    header = columns.find_header(head, saved)
    if header is None:
        return [], [RowError(1, "", MSG_NO_HEADER)]
    index = header.index()
    if recognised is not None:
        recognised.update({text: f for _i, text, f in header.columns if f and text})
    missing = [f for f in columns.REQUIRED if f not in index]
    if missing:
        return [], [
            RowError(header.row, columns.LABELS[f], f"{MSG_MISSING}: {columns.LABELS[f]}")
            for f in missing
        ]
    body = _chain((r for r in head if r[0] > header.row), rows_iter)
    rows: list[Row] = []
    errors: list[RowError] = []
    reader = _RowReader(index, header, errors, today=clock.local_date())
    seen = 0
    for number, cells in body:
        if columns.is_blank(cells):
            continue
        seen += 1
        if seen > MAX_ROWS:
            return [], [RowError(number, "", MSG_TOO_MANY)]
        row = reader.row(number, cells)
        if row is not None:
            rows.append(row)
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen, 0)
    if not rows and not errors:
        errors.append(RowError(header.row + 1, "", MSG_EMPTY))
    return rows, errors


def _chain(
    first: Iterable[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from first
    yield from rest


# The cells parsed by lookup (date, returnee class, document type) repeat from row to row:
# their result, or the reason they fail, is remembered per cell value.
_PARSERS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("arrival_date", columns.parse_date),
    ("returnee_class", columns.parse_class),
    ("doc_type", columns.parse_doc_type),
)
_MEMO_MAX = 10_000


class _RowReader:
    """Checks rows of one file against its header."""

    def __init__(
        self,
        index: dict[str, int],
        header: columns.Header,
        errors: list[RowError],
        *,
        today: dt.date,
    ) -> None:
        self.header = header
        self.errors = errors
        self.today = today
        self.at = {name: index.get(name) for name in columns.FIELDS}
        self.memo: dict[str, dict[Any, tuple[Any, str]]] = {name: {} for name, _ in _PARSERS}

    def _cell(self, cells: list[Any], name: str) -> Any:
        i = self.at[name]
        return cells[i] if i is not None and i < len(cells) else None

    def _parse(self, name: str, parse: Callable[[Any], Any], raw: Any) -> tuple[Any, str]:
        memo = self.memo[name]
        try:
            return memo[raw]
        except (KeyError, TypeError):  # TypeError: an unhashable cell (never from csv/xlsx)
            pass
        try:
            found: tuple[Any, str] = (parse(raw), "")
        except columns.CellError as exc:
            found = (None, str(exc))
        if len(memo) < _MEMO_MAX:
            with contextlib.suppress(TypeError):
                memo[raw] = found
        return found

    def row(self, number: int, cells: list[Any]) -> Row | None:
        errors, before = self.errors, len(self.errors)

        def fail(name: str, reason: str) -> None:
            errors.append(RowError(number, self.header.header_text(name), reason))

        parsed: dict[str, Any] = {}
        for name, parse in _PARSERS:
            value, problem = self._parse(name, parse, self._cell(cells, name))
            if problem:
                fail(name, problem)
            else:
                parsed[name] = value
        day = parsed.get("arrival_date")
        if day is not None and (day - self.today).days > 7:
            fail("arrival_date", REASONS["future"])
        raw_doc = self._cell(cells, "doc_number")
        text = columns.text
        try:
            entry = entry_of(
                doc_type=parsed.get("doc_type") or "resident_id",
                doc_number=raw_doc if isinstance(raw_doc, float) else text(raw_doc),
                name=text(self._cell(cells, "name")),
                phone=text(self._cell(cells, "phone")),
                address=text(self._cell(cells, "address")),
                origin=text(self._cell(cells, "origin")),
                route=text(self._cell(cells, "route")),
                arrival_date=day,
                returnee_class=parsed.get("returnee_class") or "other",
            )
        except Invalid as exc:
            fail(_column_of(exc), REASONS.get(exc.code, exc.code))
            return None
        return Row(number, entry) if len(errors) == before else None


def _column_of(exc: Invalid) -> str:
    if exc.code.startswith("id."):
        return "doc_number"
    if exc.code.startswith("phone."):
        return "phone"
    name = str(exc.detail.get("field") or "")
    return name if name in columns.FIELDS else "doc_number"
