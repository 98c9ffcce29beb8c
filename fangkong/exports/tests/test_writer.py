"""Cells a spreadsheet would run as formulas are written as text; the file is stamped."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from fangkong.core import clock
from fangkong.exports import writer
from fangkong.exports.tests.helpers import xlsx_rows


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800138000", "'+8613800138000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("茂南区", "茂南区"),
        ("a=b", "a=b"),
    ],
)
def test_formula_starts_are_escaped(raw: str, written: str) -> None:
    assert writer.cell_value(raw) == written


def test_numbers_stay_numbers_and_times_are_local() -> None:
    assert writer.cell_value(-5) == -5
    at = dt.datetime(2022, 1, 10, 1, 0, tzinfo=dt.UTC)
    assert writer.cell_value(at) == "2022-01-10 09:00:00"
    assert writer.cell_value(dt.date(2022, 1, 10)) == "2022-01-10"
    assert writer.cell_value("a\x00b\x1bc") == "abc"


def test_csv_has_a_bom_the_stamp_and_escaped_headers() -> None:
    out = io.BytesIO()
    rows = [['=HYPERLINK("http://x")', 1]]
    cells = [[writer.cell_value(v) for v in r] for r in rows]
    count = writer.write_csv(out, stamp="导出人 a", headers=["=h", "n"], rows=cells)
    text = out.getvalue()
    assert count == 1
    assert text.startswith(b"\xef\xbb\xbf")
    assert text.decode("utf-8-sig").splitlines() == [
        "导出人 a",
        "'=h,n",
        '"\'=HYPERLINK(""http://x"")",1',
    ]


def test_xlsx_keeps_escaped_text_as_text_and_has_properties() -> None:
    out = io.BytesIO()
    now = clock.now()
    cells = [[writer.cell_value("=1+1"), writer.cell_value(3)]]
    writer.write_xlsx(
        out,
        stamp="导出人 a",
        title="人员",
        creator="a",
        created=now,
        headers=["x", "y"],
        rows=cells,
    )
    assert xlsx_rows(out.getvalue()) == [["导出人 a"], ["x", "y"], ["'=1+1", 3]]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(out.getvalue()))
    assert (book.properties.creator, book.properties.description) == ("a", "导出人 a")
