"""Lists as they really arrive, built in memory for the import tests and benchmarks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

HEADERS = (
    "序号",
    "姓名",
    "公民身份号码",
    "联系电话",
    "来源地",
    "途经地",
    "到达日期",
    "现住址",
    "人员类别",
)


def xlsx(
    rows: Iterable[Sequence[Any]], *, headers: Sequence[str] = HEADERS, title: bool = True
) -> bytes:
    """A workbook with a merged title row and a blank row above the header (as lists come)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append(["茂名市疫情防控指挥部 推送名单（2022年1月20日）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.append([])
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(
    rows: Iterable[Sequence[Any]], *, headers: Sequence[str] = HEADERS, encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["推送名单", "", ""])
    writer.writerow(list(headers))
    for row in rows:
        writer.writerow(list(row))
    return out.getvalue().encode(encoding)


def person_row(
    i: int, doc: str, *, origin: str = "北京市朝阳区", address: str = "茂南区红旗街道站南社区1号"
) -> list[Any]:
    return [
        i,
        f"测试{i}",
        doc,
        f"1380000{i % 10000:04d}",
        origin,
        "",
        "2022-01-08",
        address,
        "务工",
    ]
