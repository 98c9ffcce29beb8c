"""The daily file (csv or xlsx) a unit uploads instead of, or besides, the counter page.

Every file passes core.uploads (check_upload, table_rows). The whole file is checked before
anything is written: one bad row means nothing is stored, and every problem comes back with
its row number (as a spreadsheet shows it: the header is row 1), column and reason. A row
without a client id gets one from its content, so the same file twice stores nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import IO, Any

from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Invalid
from fangkong.core.text import fold
from fangkong.core.uploads import CSV, XLSX, check_upload, table_rows
from fangkong.sentinel.models import Unit
from fangkong.sentinel.services.records import Draft, clean_record
from fangkong.sentinel.services.registers import registrations_import
from fangkong.sentinel.services.units import check_reporter

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "client_id": ("client_id", "流水号", "单号", "编号"),
    "occurred_at": ("occurred_at", "time", "时间", "购药时间", "就诊时间"),
    "doc_type": ("doc_type", "证件类型"),
    "doc_number": ("doc_number", "id_number", "身份证号", "证件号码", "身份证号码"),
    "name": ("name", "姓名"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
    "drug_class": ("drug_class", "药品类别", "类别"),
    "product": ("product", "药品名称", "商品", "条码"),
    "quantity": ("quantity", "数量"),
    "fever": ("fever", "发热"),
    "cough": ("cough", "咳嗽"),
    "sore_throat": ("sore_throat", "咽痛"),
    "other_symptoms": ("other_symptoms", "其他症状"),
    "temperature": ("temperature", "体温"),
    "travel_history": ("travel_history", "旅居史"),
    "contact_history": ("contact_history", "接触史"),
    "for_other": ("for_other", "代购"),
    "for_name": ("for_name", "代购对象", "用药人"),
    "for_doc_number": ("for_doc_number", "用药人证件号码"),
    "for_relation": ("for_relation", "关系"),
    "sampled": ("sampled", "现场采样"),
    "sample_ref": ("sample_ref", "采样条码"),
}
_HEADER = {fold(s).casefold(): col for col, names in COLUMN_SYNONYMS.items() for s in names}
_CLASS_WORDS = {
    "退烧": "antipyretic", "退热": "antipyretic", "退烧药": "antipyretic",
    "止咳": "cough", "止咳药": "cough",
    "抗病毒": "antiviral", "抗病毒药": "antiviral",
    "抗生素": "antibiotic", "抗菌药": "antibiotic",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass(slots=True)
class ImportResult:
    rows: int = 0
    stored: int = 0
    skipped: int = 0  # already stored (the same rows uploaded before)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _content_id(unit: Unit, cells: dict[str, Any]) -> str:
    canon = "\x1f".join(
        f"{k}={fold(str(cells[k]))}" for k in sorted(cells) if cells[k] not in (None, "")
    )
    return "row-" + hashlib.sha256(f"{unit.code}\x1e{canon}".encode()).hexdigest()[:40]


def _header(cells: list[Any], unit: Unit, errors: list[RowError]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(cells):
        col = _HEADER.get(fold(str(raw or "")).strip().casefold())
        if col is not None and col in columns:
            errors.append(RowError(1, col, f"column {col!r} appears twice"))
        elif col is not None:
            columns[col] = index
    required = ["doc_number", "name", "phone"]
    if unit.record_kind == "purchase":
        required.append("drug_class")
    for col in required:
        if col not in columns:
            errors.append(RowError(1, col, f"missing column ({'/'.join(COLUMN_SYNONYMS[col])})"))
    return columns


def registrations_upload(*, actor: Actor, unit: Unit, file: bytes | IO[bytes]) -> ImportResult:
    """Check and store a daily file for a unit, all or nothing. Raises UploadRefused (an
    Invalid) for a refused file, NotFound/NotAllowed when the actor may not report for it."""
    check_reporter(actor, unit)
    kind, data = check_upload(file, max_bytes=MAX_BYTES, allowed={XLSX, CSV})
    result = ImportResult()
    columns: dict[str, int] = {}
    drafts: list[Draft] = []
    now = clock.now()
    for number, cells in table_rows(data, kind):
        if number == 1:
            columns = _header(cells, unit, result.errors)
            if result.errors:
                return result
            continue
        values = {c: _cell(cells[i]) if i < len(cells) else None for c, i in columns.items()}
        if all(v in (None, "") for v in values.values()):
            continue  # blank line
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.errors.append(RowError(number, "", f"more than {MAX_ROWS} rows: split the file"))
            break
        if isinstance(cls := values.get("drug_class"), str):
            word = fold(cls).strip()
            values["drug_class"] = _CLASS_WORDS.get(word, word)
        if not values.get("client_id"):
            values["client_id"] = _content_id(unit, values)
        try:
            drafts.append(clean_record(values, kind=unit.record_kind, now=now))
        except Invalid as exc:
            result.errors.append(RowError(number, str(exc.detail.get("field", "")), exc.message))
    if not columns:
        result.errors.append(RowError(1, "", "the file is empty"))
    seen: dict[str, int] = {}  # the same row twice in one file is stored once
    for i, d in enumerate(drafts):
        if d.client_id is not None:
            seen.setdefault(d.client_id, i)
    if result.errors:
        return result
    unique = [d for i, d in enumerate(drafts) if d.client_id is None or seen[d.client_id] == i]
    stored = registrations_import(actor=actor, unit=unit, drafts=unique, source="upload")
    result.stored = len(stored)
    result.skipped = len(drafts) - len(stored)
    return result
