"""The member-list import: atomic, row/column/reason problems (exact messages), an xlsx
error report, idempotent re-import, replace mode, persons found or registered."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import translation

from conftest import Tree
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed
from fangkong.core.uploads import UploadRefused
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import Employer, Member, MemberImport, MemberTest
from fangkong.key_populations.tests import factories
from fangkong.people.models import Person
from fangkong.people.tests.factories import person as make_person
from fangkong.people.tests.factories import resident_id

pytestmark = pytest.mark.django_db


def _import(actor: Actor, emp: Employer, data: bytes, **kw: bool) -> MemberImport:
    return member_import(actor=actor, employer=emp, data=data, filename="list.csv", **kw)


def _counts() -> tuple[int, int, int]:
    return Member.objects.count(), Person.objects.count(), MemberTest.objects.count()


def test_a_clean_file_registers_new_persons_links_known_ones_and_records_sampling_days(
    employer_a: Employer, two_districts: Tree, system: Actor
) -> None:
    known = make_person(system, two_districts.grid_b, doc_number=resident_id(area="440903"))
    rows = [
        ["张三", resident_id(), "13800138000", "快递", two_districts.grid_a.code, "2022-01-08"],
        ["李四", known.doc_number, "", "", "", ""],
        ["王五", resident_id(), "", "司机", "", "2022/1/9"],
    ]
    result = _import(system, employer_a, factories.csv_bytes(rows))
    assert result.outcome == "done", result.errors
    assert (result.created, result.persons_registered, result.tests) == (3, 2, 2)
    members = {m.person_id: m for m in Member.objects.filter(employer=employer_a)}
    assert known.pk in members  # linked by document number, across districts
    linked = members[known.pk]
    assert (linked.status, linked.next_due_on) == ("due", factories.TODAY)  # never tested
    zhang = Person.objects.get(grid=two_districts.grid_a)
    assert str(members[zhang.pk].last_tested_on) == "2022-01-08"
    # ninth edition: mail and express daily, so tested on the 8th is overdue on the 10th
    assert members[zhang.pk].next_due_on.isoformat() == "2022-01-09"
    assert members[zhang.pk].status == "overdue"
    driver = next(m for m in members.values() if m.group_kind == "driver")
    assert (driver.next_due_on.isoformat(), driver.status) == ("2022-01-12", "ok")
    employer_a.refresh_from_db()
    assert (employer_a.member_count, employer_a.due_count, employer_a.overdue_count) == (3, 1, 1)
    # the unregistered one without a grid is registered at the employer's node
    assert Person.objects.filter(jurisdiction_path=two_districts.town_a.path).count() == 1
    assert AuditEntry.objects.filter(action="keypop.import", outcome="ok").count() == 1


def test_the_same_file_twice_creates_nothing_twice(employer_a: Employer, system: Actor) -> None:
    data = factories.csv_bytes(factories.member_rows(5, sampled_on="2022-01-09"))
    first = _import(system, employer_a, data)
    after_first = _counts()
    second = _import(system, employer_a, data)
    assert (first.created, first.tests) == (5, 5)
    assert (second.created, second.updated, second.unchanged, second.tests) == (0, 0, 5, 0)
    assert second.persons_registered == 0
    assert _counts() == after_first
    assert second.sha256 == first.sha256


def test_replace_mode_takes_members_missing_from_the_file_off_the_list(
    employer_a: Employer, system: Actor
) -> None:
    rows = factories.member_rows(4)
    _import(system, employer_a, factories.csv_bytes(rows))
    result = _import(system, employer_a, factories.csv_bytes(rows[:3]), replace=True)
    assert result.left == 1
    assert Member.objects.filter(employer=employer_a, active=True).count() == 3
    again = _import(system, employer_a, factories.csv_bytes(rows))  # back on the list
    assert (again.created, again.updated) == (0, 1)
    assert Member.objects.filter(employer=employer_a, active=True).count() == 4


def test_one_bad_row_refuses_the_whole_file_with_row_column_and_reason(
    employer_a: Employer, system: Actor
) -> None:
    good = resident_id()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        ["赵六", resident_id(), "", "", "", ""],  # row 2: fine
        ["", resident_id(), "12345", "", "", ""],  # row 3: no name, bad phone
        ["钱七", bad_check, "", "火星人", "", "2022-02-30"],  # row 4
        ["孙八", good, "", "", "4409020010010010", "2099-01-01"],  # row 5
        ["周九", good, "", "", "", ""],  # row 6: the same person again
        ["吴十", resident_id(), "", "", "440902001001001009", "2019-12-31"],  # row 7
        ["郑一", resident_id(), "", "", "440902001", ""],  # row 8: a town, not a grid
    ]
    before = _counts()
    with translation.override("en"):
        result = _import(system, employer_a, factories.csv_bytes(rows))
    assert result.outcome == "refused"
    assert _counts() == before
    assert [tuple(e) for e in result.errors] == [
        (3, "name", "name is required"),
        (3, "phone", "not an 11-digit mainland mobile number"),
        (4, "doc_number", "the ID number fails its check digit"),
        (4, "group", "unknown key-population group"),
        (4, "sampled_on", "not a date (write YYYY-MM-DD)"),
        (5, "home_grid", "a grid code has 18 digits"),
        (5, "sampled_on", "the sampling day is in the future"),
        (6, "doc_number", "the same person is in row 5"),
        (7, "home_grid", "no grid has this code"),
        (7, "sampled_on", "the sampling day is before 2020"),
        (8, "home_grid", "a grid code has 18 digits"),
    ]
    assert result.error_count == 11
    assert AuditEntry.objects.filter(action="keypop.import", outcome="refused").count() == 1


def test_a_grid_code_of_another_level_is_refused(
    employer_a: Employer, two_districts: Tree, system: Actor
) -> None:
    group_code = two_districts.group_a.code + "000"  # 18 digits, but no such node
    rows = [["郑一", resident_id(), "", "", group_code, ""]]
    with translation.override("en"):
        result = _import(system, employer_a, factories.csv_bytes(rows))
    assert [tuple(e) for e in result.errors] == [(2, "home_grid", "no grid has this code")]


def test_problems_in_the_header_are_row_one_and_in_chinese_by_default(
    employer_a: Employer, system: Actor
) -> None:
    data = factories.csv_bytes([["x", "y"]], header=["姓名", "备注"])
    result = _import(system, employer_a, data)
    assert [tuple(e) for e in result.errors] == [
        (1, "doc_number", "缺少列（doc_number/证件号码/证件号/身份证号/身份证号码）"),
    ]
    with translation.override("en"):
        empty = _import(system, employer_a, b"\xef\xbb\xbf")
    assert [tuple(e) for e in empty.errors] == [(1, "", "the file is empty")]


def test_an_excel_file_is_read_and_excel_mangled_numbers_are_explained(
    employer_a: Employer, system: Actor
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(factories.HEADER)
    sheet.append(["冯二", resident_id(), "", "冷链", "", "2022-01-09"])
    sheet.append(["陈三", 4.40902199001011e17, "", "", "", ""])  # Excel turned it into a number
    out = io.BytesIO()
    book.save(out)
    with translation.override("en"):
        result = member_import(
            actor=system, employer=employer_a, data=out.getvalue(), filename="list.xlsx"
        )
    assert [tuple(e) for e in result.errors] == [
        (
            3,
            "doc_number",
            "Excel stored the number as a figure and lost digits; format the column as text",
        )
    ]


def test_a_file_that_is_not_a_table_is_refused_before_reading(
    employer_a: Employer, system: Actor
) -> None:
    with pytest.raises(UploadRefused) as exc:
        _import(system, employer_a, b"%PDF-1.4 not a table")
    assert exc.value.code == "upload.type"
    assert not MemberImport.objects.exists()


def test_an_employer_account_imports_into_its_own_list_only(
    employer_a: Employer, employer_b: Employer, employer_actor: Actor, system: Actor
) -> None:
    data = factories.csv_bytes(factories.member_rows(2))
    assert _import(employer_actor, employer_a, data).outcome == "done"
    before = _counts()
    with pytest.raises(NotAllowed):
        _import(employer_actor, employer_b, data)
    assert _counts() == before
