"""Files in: the one gate every uploaded or imported file passes before anything parses it.

`check_upload` decides what a file is from its bytes (never its name), refuses what is too
large, macro-enabled, or a decompression bomb, and `table_rows` reads the checked file. An
xlsx is a zip of XML parts, and both layers are hostile ground:

- the zip: sizes, member count and compression ratio are checked from the central directory
  before any member is inflated; Python's zipfile then stops inflating a member at its declared
  size (and fails its CRC), so a directory that lies about sizes cannot make reading unbounded;
- the XML: every part's prolog is checked for a DTD (no part of a real workbook has one), and
  openpyxl parses with defusedxml (it does whenever defusedxml is installed; `_openpyxl` refuses
  to run otherwise), so entity expansion (billion laughs) and external entities never happen;
- the cells: read with data_only=False, so a formula comes back as its text ("=1+1"), never a
  cached or computed value: a formula in an untrusted file is data, not code.

Callers: `check_upload(...)` then `table_rows(data, kind)`. See docs/architecture.md, "Files in
and out".
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Collection, Iterator
from typing import IO, Any, Final

from fangkong.core.errors import Invalid

XLSX: Final = "xlsx"
CSV: Final = "csv"
KINDS: Final = frozenset({XLSX, CSV})

MAX_MEMBERS = 1_000  # a workbook has tens of parts; thousands means a crafted file
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # all parts together, as the zip directory declares
MAX_RATIO = 100  # per member, once it inflates past RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_CONTENT_TYPES = 1024 * 1024
PROLOG_BYTES = 4096  # a part's XML declaration and comments before the root element

_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = (
    b"PK",  # any zip: an xlsx is checked as such, other zips are not tables
    b"\xd0\xcf\x11\xe0",  # OLE2: .xls, .doc, and password-protected .xlsx
    b"%PDF",
    b"\x7fELF",
    b"MZ",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
)
# C0 control characters other than tab, line feed, form feed and carriage return: no text table
# has them; every binary format does. (GB18030 and UTF-8 multi-byte sequences never use them.)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_MACRO_PARTS = ("vbaproject", "xl/macrosheets/", "xl/activex/", "xl/vbadata")


class UploadRefused(Invalid):
    """The file is not accepted; `code` says why (upload.too_large, upload.type, ...)."""


def _read_bounded(file: bytes | IO[bytes], max_bytes: int) -> bytes:
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    else:
        size = getattr(file, "size", None)
        if isinstance(size, int) and size > max_bytes:  # Django's UploadedFile: no read at all
            raise _too_large(max_bytes)
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
        if hasattr(file, "seek"):
            file.seek(0)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(
        "upload.too_large", f"The file is larger than {max_bytes} bytes", max_bytes=max_bytes
    )


def sniff(data: bytes) -> str:
    """What the bytes are: "xlsx", "csv" or "" (neither). Checks nothing else."""
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return ""
        return XLSX if {"[Content_Types].xml", "xl/workbook.xml"} <= names else ""
    if data.startswith(_BINARY_MAGIC) or any(c in data for c in _CONTROL):
        return ""
    return CSV if _decode(data) is not None else ""


def _decode(data: bytes) -> str | None:
    # Excel on a Chinese Windows saves "CSV" as GB18030; everything else sends UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None  # pragma: no cover - gb18030 decodes almost any byte string


def check_upload(
    file: bytes | IO[bytes], *, max_bytes: int, allowed: Collection[str] = KINDS
) -> tuple[str, bytes]:
    """(kind, bytes) of an acceptable file: one of `allowed`, at most `max_bytes`, by content.

    Raises UploadRefused (an Invalid, 422) with code upload.too_large, upload.type,
    upload.macros, upload.bomb or upload.xml, before anything is inflated or parsed.
    """
    data = _read_bounded(file, max_bytes)
    kind = sniff(data)
    if kind == XLSX and XLSX in allowed:
        _check_xlsx(data)
        return kind, data
    if kind == CSV and CSV in allowed:
        return kind, data
    if data.startswith(_ZIP_MAGIC) and XLSX in allowed:
        _check_macros_by_name(data)  # an .xlsm/.xlsb says so even when we cannot read it
    names = ", ".join(sorted(allowed))
    raise UploadRefused("upload.type", f"The file is not one of: {names}", detected=kind)


def _check_macros_by_name(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    if any(part in n.lower() for n in names for part in _MACRO_PARTS):
        raise UploadRefused("upload.macros", "Files with macros are refused")


def _check_xlsx(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UploadRefused("upload.bomb", f"The file has more than {MAX_MEMBERS} parts")
        total = 0
        for info in members:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > MAX_UNCOMPRESSED or (info.file_size > RATIO_FLOOR and ratio > MAX_RATIO):
                raise UploadRefused(
                    "upload.bomb", "The file inflates far beyond its size", part=info.filename
                )
            if any(part in info.filename.lower() for part in _MACRO_PARTS):
                raise UploadRefused("upload.macros", "Files with macros are refused")
        types_info = archive.getinfo("[Content_Types].xml")
        if types_info.file_size > MAX_CONTENT_TYPES:
            raise UploadRefused("upload.bomb", "The file's part list is too large")
        content_types = archive.read(types_info).lower()
        if b"macroenabled" in content_types or b"vbaproject" in content_types:
            raise UploadRefused("upload.macros", "Files with macros are refused")
        for info in members:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                with archive.open(info) as part:
                    _check_prolog(part.read(PROLOG_BYTES), info.filename)


def _check_prolog(head: bytes, name: str) -> None:
    """Refuse a part with a DTD (entity definitions live there) or one we cannot see into.

    Walks the XML declaration, processing instructions and comments up to the root element.
    A part in another encoding than UTF-8 (say UTF-16, where the bytes hide a DTD from this
    scan) is refused too: Excel writes UTF-8.
    """
    text = head.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while True:
        while pos < len(text) and text[pos : pos + 1] in b" \t\r\n":
            pos += 1
        rest = text[pos:]
        if rest.startswith(b"<?"):
            end = rest.find(b"?>")
            closing = 2
        elif rest.startswith(b"<!--"):
            end = rest.find(b"-->")
            closing = 3
        elif rest.startswith(b"<!"):
            raise UploadRefused("upload.xml", "XML with a DTD is refused", part=name)
        elif rest[:1] == b"<" and (rest[1:2].isalpha() or rest[1:2] in (b"_", b":")):
            return
        elif not rest and pos < PROLOG_BYTES:
            return  # an empty part: nothing to expand
        else:
            raise UploadRefused("upload.xml", "An XML part cannot be read safely", part=name)
        if end < 0:
            raise UploadRefused("upload.xml", "An XML part cannot be read safely", part=name)
        pos += end + closing


# --- reading a checked file -----------------------------------------------------------------


def table_rows(data: bytes, kind: str) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of every row of a checked file (an xlsx: its first sheet), header
    included. Formula cells come back as their text. Raises UploadRefused when unreadable."""
    if kind == XLSX:
        return _xlsx_rows(data)
    if kind == CSV:
        text = _decode(data)
        if text is None:  # pragma: no cover - sniff decoded it already
            raise UploadRefused("upload.type", "The csv file is neither UTF-8 nor GB18030")
        return ((i, list(cells)) for i, cells in enumerate(csv.reader(io.StringIO(text)), 1))
    raise UploadRefused("upload.type", f"Cannot read a {kind or 'unknown'} file")


def _openpyxl() -> Any:
    import openpyxl

    # openpyxl parses with defusedxml only when it is installed and OPENPYXL_DEFUSEDXML is not
    # turned off: refuse to read spreadsheets rather than parse them with the stdlib parser.
    if openpyxl.DEFUSEDXML is not True:
        raise UploadRefused("upload.xml", "Spreadsheets cannot be read safely here (defusedxml)")
    return openpyxl


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    openpyxl = _openpyxl()
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_vba=False, keep_links=False
        )
    except Exception as exc:  # openpyxl and defusedxml raise many types for a bad file
        raise UploadRefused("upload.unreadable", "Cannot read the xlsx file") from exc
    return _sheet_rows(book)


def _sheet_rows(book: Any) -> Iterator[tuple[int, list[Any]]]:
    # Row by row from the read-only sheet: memory holds one row, not the sheet.
    try:
        if not book.worksheets:
            return
        rows = book.worksheets[0].iter_rows(values_only=True)
        for i, cells in enumerate(rows, 1):
            yield i, [_as_data(v) for v in cells]
    except Exception as exc:
        raise UploadRefused("upload.unreadable", "Cannot read the xlsx file") from exc
    finally:
        book.close()


def _as_data(value: Any) -> Any:
    # A formula arrives as "=..." (a str) or, for array and data-table formulas, an object
    # that holds the text: keep the text, never evaluate it.
    if value is None or isinstance(value, str | int | float | bool):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    if hasattr(value, "isoformat"):
        return value
    return str(value)
