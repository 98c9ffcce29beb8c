"""Reading lists as they really arrive: finding the header row under title rows, recognising
Chinese headers and their synonyms, and parsing cells (Excel serial dates, Chinese dates,
full-width characters, returnee classes). Pure: no ORM, no I/O."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

from fangkong.core.text import fold, squeeze

FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "name"),
    "doc_number": (
        "身份证号",
        "身份证号码",
        "证件号码",
        "证件号",
        "公民身份号码",
        "身份证",
        "doc_number",
        "id_number",
    ),
    "doc_type": ("证件类型", "doc_type"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "联系方式", "phone"),
    "origin": (
        "来源地",
        "来自",
        "出发地",
        "始发地",
        "来源地区",
        "来自地区",
        "来源城市",
        "来自何地",
        "origin",
    ),
    "route": ("途经地", "途径地", "途经", "途经城市", "行程", "旅居史", "route"),
    "arrival_date": (
        "到达日期",
        "抵达日期",
        "返回日期",
        "到达时间",
        "抵达时间",
        "返乡日期",
        "来返日期",
        "入境日期",
        "arrival_date",
    ),
    "address": (
        "居住地址",
        "现住址",
        "住址",
        "地址",
        "落脚地址",
        "暂住地址",
        "详细地址",
        "现居住地址",
        "落脚点",
        "address",
    ),
    "returnee_class": ("人员类别", "类别", "人员类型", "返乡类别", "returnee_class"),
}
REQUIRED = ("name", "doc_number")
LABELS: dict[str, str] = {
    "name": gettext_noop("Name"),
    "doc_number": gettext_noop("ID number"),
    "doc_type": gettext_noop("Document type"),
    "phone": gettext_noop("Phone"),
    "origin": gettext_noop("Origin"),
    "route": gettext_noop("Route"),
    "arrival_date": gettext_noop("Arrival date"),
    "address": gettext_noop("Address"),
    "returnee_class": gettext_noop("Returnee class"),
}
_SYNONYM = {squeeze(s).casefold(): f for f, names in FIELDS.items() for s in names}
HEADER_SCAN_ROWS = 20

_CLASS_WORDS: dict[str, str] = {
    **dict.fromkeys(("务工", "外来务工", "务工人员", "农民工", "migrant_worker"), "migrant_worker"),
    **dict.fromkeys(("学生", "大学生", "返乡学生", "student"), "student"),
    **dict.fromkeys(("境外", "入境", "境外返回", "海外", "入境人员", "abroad"), "abroad"),
    **dict.fromkeys(("司机", "货车司机", "驾驶员", "司乘", "driver"), "driver"),
    **dict.fromkeys(("其他", "other", ""), "other"),
}
_DOC_TYPES: dict[str, str] = {
    **dict.fromkeys(("身份证", "居民身份证", "resident_id", ""), "resident_id"),
    **dict.fromkeys(("护照", "passport"), "passport"),
    **dict.fromkeys(("港澳台居民居住证", "居住证", "hmt_permit"), "hmt_permit"),
    **dict.fromkeys(("外国人永久居留身份证", "永居证", "foreigner_pr"), "foreigner_pr"),
    **dict.fromkeys(("其他", "other"), "other"),
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_SEP_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def field_of(header: object, saved: Mapping[str, str] | None = None) -> str | None:
    """The field a header names (a saved mapping of this source wins over the synonyms)."""
    key = squeeze(str(header or "")).casefold()
    if not key:
        return None
    if saved and key in saved:
        return saved[key] or None
    return _SYNONYM.get(key)


@dataclass(frozen=True, slots=True)
class Header:
    row: int  # the sheet's row number of the header
    columns: tuple[tuple[int, str, str | None], ...]  # (index, header text, field)

    def index(self) -> dict[str, int]:
        """field -> column index (the first column naming a field wins)."""
        out: dict[str, int] = {}
        for i, _text, f in self.columns:
            if f is not None and f not in out:
                out[f] = i
        return out

    def header_text(self, field: str) -> str:
        for _i, text, f in self.columns:
            if f == field:
                return text
        return LABELS.get(field, field)


def find_header(
    rows: Sequence[tuple[int, Sequence[Any]]], saved: Mapping[str, str] | None = None
) -> Header | None:
    """The first row among the first rows that names at least two known fields: title rows
    (merged cells arrive as one value and blanks) and notes above it are skipped."""
    for number, cells in rows[:HEADER_SCAN_ROWS]:
        fields = [field_of(c, saved) for c in cells]
        if len({f for f in fields if f}) >= 2:
            cols = tuple(
                (i, fold(str(c or "")), f)
                for i, (c, f) in enumerate(zip(cells, fields, strict=True))
            )
            return Header(row=number, columns=cols)
    return None


def is_blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not squeeze(c)) for c in cells)


class CellError(ValueError):
    """A cell that cannot be read; the message is the report's reason."""


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(fold(str(value)).split())


def parse_date(value: Any) -> dt.date | None:
    """A date from an Excel serial, a date/datetime cell or text such as 2022年1月20日,
    2022/1/20, 2022-01-20, 2022.1.20 or 20220120. None when empty."""
    if value is None or (isinstance(value, str) and not squeeze(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _date_of_number(value)
    return _date_of_text(squeeze(str(value)))


def _date_of_number(value: float) -> dt.date:
    if 20000 <= value <= 80000:  # 1954..2119 as Excel serials
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    if float(value).is_integer():
        return _compact(str(int(value)))
    raise CellError(DATE_MESSAGE)


def _date_of_text(raw: str) -> dt.date:
    for pattern in (_CN_DATE, _SEP_DATE):
        m = pattern.match(raw)
        if m:
            return _ymd(m.group(1), m.group(2), m.group(3))
    if raw.isdigit() and len(raw) == 5:
        return _date_of_number(int(raw))
    return _compact(raw)


DATE_MESSAGE = gettext_noop(
    "Date not understood: use 2022-01-20, 2022/1/20, 2022年1月20日, 20220120 or an Excel date"
)


def _compact(raw: str) -> dt.date:
    m = _COMPACT.match(raw)
    if not m:
        raise CellError(DATE_MESSAGE)
    return _ymd(m.group(1), m.group(2), m.group(3))


def _ymd(y: str, m: str, d: str) -> dt.date:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError as exc:
        raise CellError(gettext_noop("No such date")) from exc


def parse_class(value: Any) -> str:
    key = squeeze(str(value or "")).casefold()
    found = _CLASS_WORDS.get(key)
    if found is None:
        raise CellError(gettext_noop("Unknown returnee class: use 务工, 学生, 境外, 司机 or 其他"))
    return found


def parse_doc_type(value: Any) -> str:
    key = squeeze(str(value or "")).casefold()
    found = _DOC_TYPES.get(key)
    if found is None:
        raise CellError(gettext_noop("Unknown document type"))
    return found
