"""Hostile files: every upload passes core.uploads.check_upload before anything parses it.

The hostile files are generated here, small in memory: the zip bomb's gigabyte of zeros is
compressed from a generator, one megabyte at a time.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook

from fangkong.core import uploads
from fangkong.core.uploads import UploadRefused, check_upload, table_rows

MB = 1024 * 1024
LIMIT = 20 * MB


def _workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(
    data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """The same workbook with some parts replaced or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info)))
        for name, content in add.items():
            dst.writestr(name, content)
    return out.getvalue()


def _refused(code: str, call: Callable[[], object]) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


def test_a_workbook_and_a_csv_pass_and_are_read_by_content_not_name() -> None:
    book = _workbook(["code", "name"], ["440902", "茂南区"])
    assert check_upload(book, max_bytes=LIMIT, allowed={"xlsx", "csv"}) == ("xlsx", book)
    assert list(table_rows(book, "xlsx")) == [(1, ["code", "name"]), (2, ["440902", "茂南区"])]
    text = "code,name\n440902,茂南区\n".encode("gb18030")
    assert check_upload(io.BytesIO(text), max_bytes=LIMIT, allowed={"csv"})[0] == "csv"
    assert list(table_rows(text, "csv"))[1] == (2, ["440902", "茂南区"])


def test_oversize_is_refused_before_reading_it_all() -> None:
    stream = io.BytesIO(b"a,b\n" * (LIMIT // 4 + 1))
    _refused("upload.too_large", lambda: check_upload(stream, max_bytes=LIMIT))


def test_a_text_file_named_xlsx_is_not_a_workbook() -> None:
    _refused(
        "upload.type", lambda: check_upload(b"code,name\n1,x\n", max_bytes=LIMIT, allowed={"xlsx"})
    )


def test_a_zip_is_not_a_csv_nor_any_other_binary() -> None:
    book = _workbook(["a"])
    _refused("upload.type", lambda: check_upload(book, max_bytes=LIMIT, allowed={"csv"}))
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _refused("upload.type", lambda: check_upload(other.getvalue(), max_bytes=LIMIT))
    for blob in (b"\xd0\xcf\x11\xe0" + bytes(100), b"%PDF-1.7\n", b"a,b\x00c\n"):
        with pytest.raises(UploadRefused, match="not one of"):
            check_upload(blob, max_bytes=LIMIT)


def test_a_macro_enabled_workbook_is_refused() -> None:
    book = _workbook(["a"])
    with_vba = _rewrite(book, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(512)})
    _refused("upload.macros", lambda: check_upload(with_vba, max_bytes=LIMIT))
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        types = archive.read("[Content_Types].xml")
    xlsm_type = types.replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    xlsm = _rewrite(book, replace={"[Content_Types].xml": xlsm_type})
    _refused("upload.macros", lambda: check_upload(xlsm, max_bytes=LIMIT))


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A workbook whose sheet inflates to 1 GiB of zeros; about 5 MB as sent."""
    book = _workbook(["a"])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = bytes(MB)
            for _ in range(1024):
                sheet.write(chunk)
    return out.getvalue()


@pytest.mark.slow
def test_a_zip_bomb_is_refused_from_the_directory_before_inflating(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < LIMIT
    with zipfile.ZipFile(io.BytesIO(zip_bomb)) as archive:
        declared = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert declared == 1024 * MB > uploads.MAX_UNCOMPRESSED
    error = _refused("upload.bomb", lambda: check_upload(zip_bomb, max_bytes=LIMIT))
    assert error.detail["part"] == "xl/worksheets/sheet1.xml"


def test_a_small_bomb_is_caught_by_its_ratio_and_many_parts_by_their_count() -> None:
    book = _workbook(["a"])
    dense = _rewrite(book, add={"xl/media/pad.bin": bytes(8 * MB)})  # ~1000:1
    _refused("upload.bomb", lambda: check_upload(dense, max_bytes=LIMIT))
    many = _rewrite(book, add={f"xl/media/{i}.txt": b"x" for i in range(uploads.MAX_MEMBERS)})
    _refused("upload.bomb", lambda: check_upload(many, max_bytes=LIMIT))


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>
"""


def _with_shared_strings(book: bytes, content: bytes) -> bytes:
    """The workbook with an xl/sharedStrings.xml that the workbook really refers to."""
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        rels = archive.read("xl/_rels/workbook.xml.rels")
        types = archive.read("[Content_Types].xml")
    rel = (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId99" />'
    )
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
    )
    return _rewrite(
        book,
        replace={
            "xl/_rels/workbook.xml.rels": rels.replace(
                b"</Relationships>", rel + b"</Relationships>"
            ),
            "[Content_Types].xml": types.replace(b"</Types>", override + b"</Types>"),
        },
        add={"xl/sharedStrings.xml": content},
    )


def test_billion_laughs_in_shared_strings_is_refused_by_the_gate_and_by_the_parser() -> None:
    hostile = _with_shared_strings(_workbook([1]), BILLION_LAUGHS)
    _refused("upload.xml", lambda: check_upload(hostile, max_bytes=LIMIT))
    # Past the gate (as if its prolog scan missed it), openpyxl parses with defusedxml.
    error = _refused("upload.unreadable", lambda: list(table_rows(hostile, "xlsx")))
    causes = []
    cause: BaseException | None = error
    while cause is not None:
        causes.append(type(cause).__module__)
        cause = cause.__cause__ or cause.__context__
    assert any(m.startswith("defusedxml") for m in causes), causes
    # The same part without its DTD is an ordinary table: the refusal was the entities.
    plain = BILLION_LAUGHS.split(b"]>")[1].replace(b"&lol9;", b"ok")
    assert check_upload(_with_shared_strings(_workbook([1]), plain), max_bytes=LIMIT)[0] == "xlsx"


def test_an_xml_part_in_utf16_is_refused_since_the_scan_cannot_see_into_it() -> None:
    book = _workbook(["a"])
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    utf16 = sheet.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    hostile = _rewrite(book, replace={"xl/worksheets/sheet1.xml": utf16})
    _refused("upload.xml", lambda: check_upload(hostile, max_bytes=LIMIT))


def test_formula_cells_are_read_as_their_text_never_evaluated() -> None:
    book = _workbook(["code", "name"], ['=HYPERLINK("http://evil.example/","click")', "=1+1"])
    kind, data = check_upload(book, max_bytes=LIMIT, allowed={"xlsx"})
    rows = list(table_rows(data, kind))
    assert rows[1] == (2, ['=HYPERLINK("http://evil.example/","click")', "=1+1"])


def test_the_parser_is_defusedxml() -> None:
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


def test_only_the_gate_parses_uploaded_tables() -> None:
    """A new importer goes through check_upload/table_rows, not its own reader."""
    from pathlib import Path

    root = Path(uploads.__file__).resolve().parent.parent
    readers = ("load_workbook(", "csv.reader(", "csv.DictReader(", "ZipFile(")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and "migrations" not in path.parts
        and path != Path(uploads.__file__).resolve()
        and any(r in path.read_text(encoding="utf-8") for r in readers)
    ]
    assert offenders == []
