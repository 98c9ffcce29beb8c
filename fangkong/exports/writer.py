"""Writing a table to a file: cells escaped against formula injection, a stamp on top, and
a footer line when the caller has one once the rows are written (a cut-off list says so).

Pure output, no permission or masking decisions (those are `services`): rows go to a file
object row by row, so memory stays flat however long the list. openpyxl's write-only
workbook keeps its sheet in a temporary file and writes strings inline (no shared-string
table in memory); csv is written as it comes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from fangkong.core import clock

# A spreadsheet treats a cell starting with one of these as a formula (tab and CR too, in
# some programs after trimming): "=HYPERLINK(...)" in a resident's address must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters an xlsx cannot hold (XML 1.0 forbids them); openpyxl would raise, naming the value.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | int | float | Decimal | bool | None


def escape_cell(value: str) -> str:
    """Text that no spreadsheet will evaluate: a leading ' before = + - @ tab CR."""
    return "'" + value if value.startswith(FORMULA_START) else value


def cell_value(value: object) -> Cell:
    """A value as a file cell: numbers stay numbers, times in Asia/Shanghai, text escaped."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        value = clock.to_local(value).strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    return escape_cell(_ILLEGAL.sub("", str(value)))


def write_csv(
    out: IO[bytes],
    *,
    stamp: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    footer: Callable[[], str] = str,
) -> int:
    """UTF-8 with a byte-order mark (Excel needs it to read Chinese); returns the data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([escape_cell(stamp)])
    writer.writerow([escape_cell(h) for h in headers])
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    if last := footer():
        writer.writerow([escape_cell(last)])
    text.flush()
    text.detach()  # leave `out` open for the caller
    return count


def write_xlsx(
    out: IO[bytes],
    *,
    stamp: str,
    title: str,
    creator: str,
    created: dt.datetime,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    footer: Callable[[], str] = str,
) -> int:
    """A write-only workbook: the stamp in row 1 and in the document properties."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    book.properties.creator = creator
    book.properties.lastModifiedBy = creator
    book.properties.title = title
    book.properties.description = stamp
    # Document properties hold UTC; the stamp row says the same moment in Asia/Shanghai.
    book.properties.created = book.properties.modified = created.astimezone(dt.UTC).replace(
        tzinfo=None
    )
    sheet: Any = book.create_sheet(title=_sheet_title(title))
    sheet.append([escape_cell(stamp)])
    sheet.append([escape_cell(h) for h in headers])
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    if last := footer():
        sheet.append([escape_cell(last)])
    book.save(out)
    return count


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    return re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "export"
