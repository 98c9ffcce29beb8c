"""Reading and checking an employer's member list: the header (with its Chinese synonyms), every
row's identity, group, home grid and sampling day. Nothing is written here: the result is the
checked rows and every problem with its row number, column and reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import pgettext, pgettext_lazy

from fangkong.core import idnumbers, phones
from fangkong.core.errors import Invalid
from fangkong.core.text import fold
from fangkong.key_populations.models import Employer
from fangkong.key_populations.services import (
    EARLIEST_TEST,
    NAME_MAX,
)
from fangkong.policy.sections.key_populations import GroupKind

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_KEPT_ERRORS = 2_000
LOOKUP_CHUNK = 900

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名"),
    "doc_type": ("doc_type", "证件类型"),
    "doc_number": ("doc_number", "证件号码", "证件号", "身份证号", "身份证号码"),
    "phone": ("phone", "手机号", "手机", "手机号码", "联系电话"),
    "group": ("group", "人群类别", "重点人群类别", "类别"),
    "home_grid": ("home_grid", "居住网格编码", "居住网格", "网格编码"),
    "sampled_on": ("sampled_on", "采样日期", "最近采样日期", "检测日期"),
}
REQUIRED = ("name", "doc_number")
_HEADER = {fold(s).casefold(): col for col, names in COLUMN_SYNONYMS.items() for s in names}

_DOC_WORDS: dict[str, str] = {
    **{d.value: d.value for d in idnumbers.DocType},
    **dict.fromkeys(("居民身份证", "身份证"), idnumbers.DocType.RESIDENT_ID.value),
    **dict.fromkeys(("港澳台居民居住证", "居住证"), idnumbers.DocType.HMT_PERMIT.value),
    **dict.fromkeys(("外国人永久居留身份证", "永居证"), idnumbers.DocType.FOREIGNER_PR.value),
    **dict.fromkeys(("护照",), idnumbers.DocType.PASSPORT.value),
    **dict.fromkeys(("其他", "其它"), idnumbers.DocType.OTHER.value),
}
_GROUP_WORDS: dict[str, str] = {
    **{g.value: g.value for g in GroupKind},
    **dict.fromkeys(("国际邮件", "快递", "国际邮件快递", "邮政快递"), GroupKind.MAIL_EXPRESS.value),
    **dict.fromkeys(("冷链", "冷链从业人员"), GroupKind.COLD_CHAIN.value),
    **dict.fromkeys(("口岸", "机场", "口岸机场", "港口"), GroupKind.PORT_AIRPORT.value),
    **dict.fromkeys(("医务人员", "医护人员", "医务"), GroupKind.MEDICAL.value),
    **dict.fromkeys(("隔离场所工作人员", "隔离点工作人员"), GroupKind.QUARANTINE_STAFF.value),
    **dict.fromkeys(("司机", "驾驶员", "货车司机"), GroupKind.DRIVER.value),
}


_EXCEL = pgettext_lazy(
    "member list",
    "Excel stored the number as a figure and lost digits; format the column as text",
)


def _id_reason(code: str) -> str:
    """The reason for an ID-number problem, by code (the core's messages may quote digits)."""
    reasons = {
        "id.empty": pgettext("member list", "document number is required"),
        "id.excel_number": str(_EXCEL),
        "id.excel_zeroed": str(_EXCEL),
        "id.length": pgettext("member list", "an ID number has 18 characters"),
        "id.characters": pgettext("member list", "an ID number is 17 digits then a digit or X"),
        "id.birth_date": pgettext("member list", "the ID number carries an impossible birth date"),
        "id.checksum": pgettext("member list", "the ID number fails its check digit"),
        "id.wrong_type": pgettext("member list", "the number does not match the document type"),
    }
    return reasons.get(code, pgettext("member list", "the number does not fit the document type"))


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass(slots=True)
class Row:
    row: int
    name: str
    doc_type: str
    number: str
    phone: str
    group: str
    home_grid: str
    sampled_on: dt.date | None


@dataclass(slots=True)
class Checked:
    rows: list[Row] = field(default_factory=list)  # the valid rows
    grid_refs: list[tuple[int, str]] = field(default_factory=list)  # (row, grid code), all rows
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fold(str(value))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell(value).replace("/", "-").replace(".", "-")
    text = text.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        year, month, day = (int(p) for p in text.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(
            "keypop.date", pgettext("member list", "not a date (write YYYY-MM-DD)")
        ) from None


def _header(cells: list[Any], errors: list[RowError]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(cells):
        col = _HEADER.get(_cell(raw).casefold())
        if col is None:
            continue  # remarks and other extra columns are ignored
        if col in columns:
            errors.append(RowError(1, col, pgettext("member list", "the column appears twice")))
        columns[col] = index
    for required in REQUIRED:
        if required not in columns:
            names = "/".join(COLUMN_SYNONYMS[required])
            errors.append(
                RowError(
                    1,
                    required,
                    pgettext("member list", "missing column (%(names)s)") % {"names": names},
                )
            )
    return columns


class _Cells:
    """One data row's cells by column name, collecting its errors."""

    def __init__(
        self, number: int, cells: list[Any], columns: dict[str, int], errors: list[RowError]
    ) -> None:
        self.number, self.cells, self.columns, self.errors = number, cells, columns, errors
        self.failed = False

    def raw(self, col: str) -> Any:
        i = self.columns.get(col)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def text(self, col: str) -> str:
        return _cell(self.raw(col))

    def fail(self, col: str, reason: str) -> None:
        self.errors.append(RowError(self.number, col, reason))
        self.failed = True


def _check_identity(c: _Cells) -> tuple[str, str, str]:
    """(name, document type, normalised number) of a row; problems go to the row."""
    name = " ".join(c.text("name").split())
    if not name:
        c.fail("name", pgettext("member list", "name is required"))
    elif len(name) > NAME_MAX:
        c.fail(
            "name",
            pgettext("member list", "name is longer than %(max)s characters") % {"max": NAME_MAX},
        )
    doc_text = c.text("doc_type")
    doc_type = _DOC_WORDS.get(doc_text.casefold(), "") if doc_text else "resident_id"
    number = ""
    if not doc_type:
        c.fail("doc_type", pgettext("member list", "unknown document type"))
    else:
        try:
            number = idnumbers.validate_document(doc_type, c.raw("doc_number")).number
        except Invalid as exc:
            c.fail("doc_number", _id_reason(exc.code))
    return name, doc_type, number


def _check_sampled_on(c: _Cells, today: dt.date) -> dt.date | None:
    if not c.text("sampled_on"):
        return None
    try:
        day = _date(c.raw("sampled_on"))
    except Invalid as exc:
        c.fail("sampled_on", exc.message)
        return None
    if day > today:
        c.fail("sampled_on", pgettext("member list", "the sampling day is in the future"))
    elif day < EARLIEST_TEST:
        c.fail("sampled_on", pgettext("member list", "the sampling day is before 2020"))
    return day


def _check_row(c: _Cells, employer: Employer, today: dt.date) -> Row:
    """The row's values; `c.failed` says whether any of them was refused."""
    name, doc_type, number = _check_identity(c)
    phone = ""
    if c.text("phone"):
        try:
            phone = phones.normalise_mobile(c.raw("phone"))
        except Invalid:
            c.fail("phone", pgettext("member list", "not an 11-digit mainland mobile number"))
    group_text = c.text("group")
    group = _GROUP_WORDS.get(group_text.casefold(), "") if group_text else employer.group_kind
    if not group:
        c.fail("group", pgettext("member list", "unknown key-population group"))
    home_grid = c.text("home_grid")
    if home_grid and (not home_grid.isdigit() or len(home_grid) != 18):
        c.fail("home_grid", pgettext("member list", "a grid code has 18 digits"))
    sampled_on = _check_sampled_on(c, today)
    return Row(c.number, name, doc_type, number, phone, group, home_grid, sampled_on)


def check_rows(
    rows: Iterator[tuple[int, list[Any]]], employer: Employer, today: dt.date
) -> Checked:
    out = Checked()
    header = next(rows, None)
    if header is None:
        out.errors.append(RowError(1, "", pgettext("member list", "the file is empty")))
        return out
    columns = _header(header[1], out.errors)
    if out.errors:
        return out
    seen: dict[str, int] = {}
    for number, cells in rows:
        if all(_cell(c) == "" for c in cells):
            continue
        out.total += 1
        if out.total > MAX_ROWS:
            out.errors.append(
                RowError(
                    number,
                    "",
                    pgettext("member list", "too many rows (at most %(max)s)") % {"max": MAX_ROWS},
                )
            )
            break
        cells_ = _Cells(number, cells, columns, out.errors)
        row = _check_row(cells_, employer, today)
        if row.home_grid and not any(
            e.row == number and e.column == "home_grid" for e in out.errors
        ):
            out.grid_refs.append((number, row.home_grid))
        if row.number:  # a usable number: a second row with it is a duplicate, even if bad
            first = seen.setdefault(row.number, row.row)
            if first != row.row:
                cells_.fail(
                    "doc_number",
                    pgettext("member list", "the same person is in row %(row)s") % {"row": first},
                )
        if not cells_.failed:
            out.rows.append(row)
    if out.total == 0 and not out.errors:
        out.errors.append(RowError(2, "", pgettext("member list", "the file has no member rows")))
    return out
