"""Importing push lists: messy files, every bad-input class, atomicity, repeats, merges."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Tree
from fangkong.assignments.models import Assignment
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.uploads import UploadRefused
from fangkong.policy.models import RulebookVersion
from fangkong.screening import imports
from fangkong.screening.imports import ImportRejected, import_file
from fangkong.screening.models import Arrival, ArrivalSource, ArrivalTally, ImportBatch
from fangkong.screening.services import hand_out_pending
from fangkong.screening.tests.factories import resident_id
from fangkong.screening.tests.files import HEADERS, csv_bytes, person_row, xlsx

pytestmark = pytest.mark.django_db


def _import(
    system: Actor, tree: Tree, data: bytes, source: str = "省平台推送"
) -> imports.ImportResult:
    return import_file(
        actor=system, file=data, root=tree.city, source_name=source, filename="list.xlsx"
    )


def _tally(path: str, key: str) -> int:
    row = ArrivalTally.objects.filter(node_path=path, key=key).first()
    return row.count if row else 0


def test_a_messy_list_lands_whole(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    t = two_districts
    doc = resident_id()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in doc)  # full-width digits
    rows: list[list[object]] = [
        # Full-width ID and phone, an Excel serial date, stray spaces.
        [
            1,
            " 王 五 ",
            f" {wide} ",
            "１３８００００００１１",
            "北京市朝阳区",
            "",
            44569,
            "电白区南海街道海滨社区3号 ",
            "学生",
        ],
        [None, None, None, None, None, None, None, None, None],
        [
            2,
            "李四",
            resident_id(),
            "13800000012",
            "深圳",
            "上海市浦东新区、广州",
            "2022年1月9日",
            "茂南区红旗街道站南社区",
            "务工",
        ],
        [3, "赵六", resident_id(), "", "广州市", "", "20220107", "不知道哪里", ""],
        [
            4,
            "Smith",
            resident_id(),
            "13800000014",
            "英国伦敦",
            "",
            "2022/1/9",
            "南海街道海滨社区",
            "境外",
        ],
    ]
    result = _import(system, t, xlsx(rows))
    assert (result.rows, result.created, result.merged) == (4, 4, 0)
    by_name = {a.name: a for a in Arrival.objects.all()}
    wang = by_name["王 五"]
    assert wang.doc_number == doc
    assert wang.phone == "13800000011"
    assert wang.arrival_date == dt.date(2022, 1, 8)
    assert (wang.risk_level, wang.category, wang.returnee_class) == (
        "high",
        "arrival_high_risk",
        "student",
    )
    assert wang.placed
    assert wang.jurisdiction_id == t.grid_b.pk
    li = by_name["李四"]
    assert (li.risk_level, li.category) == ("medium", "arrival_medium_risk")
    # 站南社区 has two grids: the town's queue places it.
    assert not li.placed
    assert li.jurisdiction_path == t.village_a.path
    zhao = by_name["赵六"]
    assert (zhao.category, zhao.placed, zhao.jurisdiction_path) == ("", False, t.city.path)
    assert by_name["Smith"].category == "inbound_abroad"
    assert _tally(t.city.path, "received") == 4
    assert _tally(t.district_b.path, "received") == 2
    assert _tally(t.city.path, "unplaced") == 2
    assert AuditEntry.objects.filter(action="screening.import").count() == 1
    # The work follows in the hand-out job.
    assert hand_out_pending(limit=100) == 4
    assert Assignment.objects.filter(kind="verify_arrival").count() == 4
    high = Assignment.objects.get(subject_id=str(wang.pk))
    assert high.jurisdiction_id == t.grid_b.pk
    assert (high.due_at - wang.created_at).total_seconds() == 12 * 3600


def test_a_gb18030_csv_with_the_header_on_the_second_line(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    data = csv_bytes([person_row(1, resident_id())], encoding="gb18030")
    assert _import(system, two_districts, data).created == 1


BAD = [
    # (column index in HEADERS, value, column reported, reason)
    (1, "", "姓名", "Name is required"),
    (2, "", "公民身份号码", "ID number is required"),
    (
        2,
        4.40902199001011e17,
        "公民身份号码",
        "ID number was stored by Excel as a number and lost its last digits: format the column as text and export again",
    ),
    (
        2,
        "4.40902199001011E+17",
        "公民身份号码",
        "ID number was stored by Excel as a number and lost its last digits: format the column as text and export again",
    ),
    (
        2,
        "440902199001011000",
        "公民身份号码",
        "ID number ends in zeros where digits were expected (Excel rounded it): format the column as text and export again",
    ),
    (2, "44090219900101123", "公民身份号码", "ID number must have 18 characters"),
    (2, "11010519900101123A", "公民身份号码", "ID number must be 17 digits then a digit or X"),
    (2, "110105199002301231", "公民身份号码", "ID number carries an impossible birth date"),
    (2, "110105199001011230", "公民身份号码", "ID number fails its check digit"),
    (3, "1380000", "联系电话", "Phone is not an 11-digit mainland mobile number"),
    (6, "2022年13月1日", "到达日期", "No such date"),
    (
        6,
        "昨天",
        "到达日期",
        "Date not understood: use 2022-01-20, 2022/1/20, 2022年1月20日, 20220120 or an Excel date",
    ),
    (6, "2022-03-01", "到达日期", "Arrival date lies in the future"),
    (8, "游客", "人员类别", "Unknown returnee class: use 务工, 学生, 境外, 司机 or 其他"),
    (1, "名" * 101, "姓名", "Name is too long"),
    (7, "址" * 301, "现住址", "Address is too long"),
]


@pytest.mark.parametrize(("col", "value", "column", "reason"), BAD)
def test_each_bad_input_is_named_with_row_column_and_reason(
    *,
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    col: int,
    value: object,
    column: str,
    reason: str,
) -> None:
    good = person_row(1, resident_id())
    bad = person_row(2, "110105199001011238" if col != 2 else "")
    bad[2] = resident_id() if col != 2 else value
    bad[col] = value
    with pytest.raises(ImportRejected) as err:
        _import(system, two_districts, xlsx([good, bad]))
    assert [(e.row, e.column, e.reason) for e in err.value.errors] == [(5, column, reason)]
    assert err.value.message == "The file was not imported: 1 rows have problems"
    assert not Arrival.objects.exists()
    assert ImportBatch.objects.get().state == "failed"


@pytest.mark.parametrize(
    ("data", "row", "column", "reason"),
    [
        (
            xlsx([], headers=("甲", "乙")),
            1,
            "",
            "No header row found in the first 20 rows: name the columns 姓名 and 身份证号 (or a synonym)",
        ),
        (
            xlsx([["张三", "13800000000"]], headers=("姓名", "手机")),
            3,
            "ID number",
            "Required column missing: ID number",
        ),
        (xlsx([]), 4, "", "The file has no data rows"),
    ],
)
def test_files_without_a_usable_header_or_rows(
    *,
    book: RulebookVersion,
    two_districts: Tree,
    system: Actor,
    data: bytes,
    row: int,
    column: str,
    reason: str,
) -> None:
    with pytest.raises(ImportRejected) as err:
        _import(system, two_districts, data)
    assert [(e.row, e.column, e.reason) for e in err.value.errors] == [(row, column, reason)]


def test_a_file_that_is_not_a_table_is_refused_at_the_gate(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    with pytest.raises(UploadRefused) as err:
        _import(system, two_districts, b"\x00\x01binary")
    assert err.value.code == "upload.type"


def test_ten_thousand_rows_with_one_bad_row_in_the_middle_commit_nothing(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    rows = [
        person_row(i, resident_id(seq=i, birth=dt.date(1980, 1, 1) + dt.timedelta(days=i // 1000)))
        for i in range(10_000)
    ]
    rows[5000][3] = "12345"
    with pytest.raises(ImportRejected) as err:
        _import(system, two_districts, csv_bytes(rows))
    # csv: title line 1, header line 2, data from line 3
    assert [(e.row, e.column) for e in err.value.errors] == [(5003, "联系电话")]
    assert not Arrival.objects.exists()
    assert not ArrivalSource.objects.exists()
    assert not ArrivalTally.objects.exists()


def test_the_same_file_twice_creates_nothing_twice(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    data = xlsx([person_row(i, resident_id()) for i in range(5)])
    first = _import(system, two_districts, data)
    second = _import(system, two_districts, data)
    assert first.created == 5
    assert second.already_imported
    assert second.batch_id == first.batch_id
    assert Arrival.objects.count() == 5
    assert ArrivalSource.objects.count() == 5
    assert _tally(two_districts.city.path, "received") == 5


def test_the_same_person_in_two_lists_is_one_arrival_with_both_sources(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    shared = resident_id()
    _import(
        system, two_districts, xlsx([person_row(1, shared), person_row(2, resident_id())]), "省平台"
    )
    second = _import(
        system, two_districts, csv_bytes([person_row(3, shared), person_row(3, shared)]), "铁路"
    )
    assert (second.created, second.merged, second.unchanged) == (0, 1, 1)
    arrival = next(a for a in Arrival.objects.all() if a.name == "测试1")
    assert arrival.source_count == 2
    assert sorted(arrival.sources.values_list("name", flat=True)) == ["省平台", "铁路"]
    assert _tally(two_districts.city.path, "duplicates") == 1
    assert Arrival.objects.count() == 2


def test_saved_mapping_names_unknown_headers(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    headers = ("人名", "号码", "手机")
    data = xlsx([["张三", resident_id(), "13800000000"]], headers=headers)
    with pytest.raises(ImportRejected):
        _import(system, two_districts, data, "机场")
    imports.mapping_save(
        actor=system,
        root=two_districts.city,
        source_name="机场",
        mapping={"人名": "name", "号码": "doc_number"},
    )
    assert _import(system, two_districts, data, "机场").created == 1


def test_the_report_is_an_xlsx_with_row_column_and_reason(
    book: RulebookVersion, two_districts: Tree, system: Actor
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    bad = person_row(1, "123")
    with pytest.raises(ImportRejected) as err:
        _import(system, two_districts, xlsx([bad]))
    data = imports.report_xlsx((e.as_dict() for e in err.value.errors), translate=str)
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["Row", "Column", "Error"],
        [4, "公民身份号码", "ID number must have 18 characters"],
    ]


def test_headers_used_by_the_helpers_are_recognised() -> None:
    from fangkong.screening.columns import field_of

    assert [field_of(h) for h in HEADERS] == [
        None,
        "name",
        "doc_number",
        "phone",
        "origin",
        "route",
        "arrival_date",
        "address",
        "returnee_class",
    ]
