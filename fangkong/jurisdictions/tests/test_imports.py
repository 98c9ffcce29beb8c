"""Importing a tree: atomic, explained row by row, idempotent, csv and xlsx."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from conftest import Tree, actor_of
from fangkong.accounts.models import User
from fangkong.audit.models import AuditEntry
from fangkong.core.actor import Actor
from fangkong.core.errors import NotAllowed
from fangkong.jurisdictions.imports import RowError, tree_import
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.jurisdictions.tests.factories import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["code", "name", "level", "parent_code", "post_kind", "holder_name", "phone"]
# Children before parents on purpose: the importer sorts by level.
TREE: list[list[Any]] = [
    HEADER,
    ["440904001001001001", "一网格", "", "", "grid_worker", "李四", "13900139000"],
    ["440904001001001", "一组", "", "440904001001", "", "", ""],
    ["440904001001", "城东社区", 4, "", "community_secretary", "张三", "13700137000"],
    ["440904001", "城东街道", "town", "", "", "", ""],
    ["440904", "新区", "", "4409", "district_lead", "赵六", "0668-2281234"],
]


def test_csv_import_creates_the_tree_with_paths_and_posts(
    two_districts: Tree, system: Actor
) -> None:
    result = tree_import(actor=system, data=csv_bytes(TREE), filename="tree.csv")
    assert result.ok, result.errors
    assert result.created == 5
    assert result.posts_created == 3
    grid = Jurisdiction.objects.get(code="440904001001001001")
    assert grid.path == "/4409/440904/440904001/440904001001/440904001001001/440904001001001001/"
    assert grid.parent is not None
    assert grid.parent.code == "440904001001001"
    assert grid.level == 6
    worker = Post.objects.get(jurisdiction=grid)
    assert (worker.kind, worker.holder_name, worker.phone) == ("grid_worker", "李四", "13900139000")
    assert worker.jurisdiction_path == grid.path
    assert AuditEntry.objects.filter(action="jurisdiction.import").count() == 1


def test_xlsx_import_gives_the_same_tree(two_districts: Tree, system: Actor) -> None:
    result = tree_import(actor=system, data=xlsx_bytes(TREE), filename="tree.xlsx")
    assert result.ok, result.errors
    assert result.created == 5
    assert Jurisdiction.objects.filter(code__startswith="440904").count() == 5


def test_chinese_headers_and_gb18030_csv_are_understood(two_districts: Tree, system: Actor) -> None:
    rows = [
        ["区划代码", "名称", "层级", "上级编码", "岗位", "姓名", "手机"],
        ["440904", "新区", "区县", "4409", "", "", ""],
        ["440904001", "城东街道", "街道", "440904", "", "", ""],
        ["440904001001", "城东社区", "社区", "", "社区书记", "张三", "13700137000"],
    ]
    result = tree_import(actor=system, data=csv_bytes(rows, encoding="gb18030"), filename="树.csv")
    assert result.ok, result.errors
    assert result.created == 3
    assert Post.objects.get(jurisdiction__code="440904001001").kind == "community_secretary"


def test_reimport_creates_nothing_twice_and_updates_changed_names(
    two_districts: Tree, system: Actor
) -> None:
    tree_import(actor=system, data=csv_bytes(TREE), filename="tree.csv")
    before = (Jurisdiction.objects.count(), Post.objects.count())
    again = tree_import(actor=system, data=csv_bytes(TREE), filename="tree.csv")
    assert again.ok
    assert (again.created, again.renamed, again.unchanged) == (0, 0, 5)
    assert (again.posts_created, again.posts_updated) == (0, 0)
    assert (Jurisdiction.objects.count(), Post.objects.count()) == before

    changed = [list(r) for r in TREE]
    changed[4][1] = "城东街道办事处"
    changed[1][5] = "王五"  # a new grid worker replaces the old one
    third = tree_import(actor=system, data=csv_bytes(changed), filename="tree.csv")
    assert (third.created, third.renamed, third.posts_updated) == (0, 1, 1)
    assert Jurisdiction.objects.get(code="440904001").name == "城东街道办事处"
    assert list(
        Post.objects.filter(jurisdiction__code="440904001001001001").values_list(
            "holder_name", flat=True
        )
    ) == ["王五"]


def test_existing_nodes_are_matched_by_code(two_districts: Tree, system: Actor) -> None:
    rows = [["编码", "名称"], ["440902", "茂南区"], ["440902001001001003", "第三网格"]]
    result = tree_import(actor=system, data=csv_bytes(rows), filename="t.csv")
    assert (result.created, result.unchanged) == (1, 1)
    new = Jurisdiction.objects.get(code="440902001001001003")
    assert new.parent_id == two_districts.group_a.pk


def test_bad_rows_are_all_reported_and_nothing_is_written(
    two_districts: Tree, system: Actor
) -> None:
    rows = [
        HEADER,
        ["440904", "新区", "", "", "", "", ""],
        ["44090", "坏编码", "", "", "", "", ""],  # row 3: length
        ["440904001", "", "", "", "", "", ""],  # row 4: name missing
        ["440904002", "二街道", "village", "", "", "", ""],  # row 5: level mismatch
        ["440904003", "三街道", "", "440903", "", "", ""],  # row 6: parent mismatch
        ["440905001", "孤儿街道", "", "", "", "", ""],  # row 7: parent nowhere
        ["440904004", "四街道", "", "", "grid_worker", "李四", ""],  # row 8: post at wrong level
        ["440904005", "五街道", "", "", "town_lead", "周七", "12345"],  # row 9: phone
    ]
    audits = AuditEntry.objects.count()
    result = tree_import(actor=system, data=csv_bytes(rows), filename="bad.csv")
    assert not result.ok
    assert {(e.row, e.column) for e in result.errors} == {
        (3, "code"),
        (4, "name"),
        (5, "level"),
        (6, "parent_code"),
        (7, "code"),
        (8, "post_kind"),
        (9, "phone"),
    }
    assert all(e.reason for e in result.errors)
    assert not Jurisdiction.objects.filter(code__startswith="440904").exists()
    assert AuditEntry.objects.count() == audits


def test_missing_required_column_is_reported_on_the_header_row(
    two_districts: Tree, system: Actor
) -> None:
    result = tree_import(actor=system, data=csv_bytes([["名称"], ["x"]]), filename="t.csv")
    assert result.errors == [RowError(1, "code", result.errors[0].reason)]


def test_conflicting_duplicate_rows_are_rejected(two_districts: Tree, system: Actor) -> None:
    rows = [
        HEADER,
        ["440904", "新区", "", "", "district_lead", "赵六", ""],
        ["440904", "新区二", "", "", "district_lead", "钱七", ""],
    ]
    result = tree_import(actor=system, data=csv_bytes(rows), filename="t.csv")
    assert {(e.row, e.column) for e in result.errors} == {(3, "name"), (3, "holder_name")}


def test_several_building_leaders_at_one_grid_are_kept(two_districts: Tree, system: Actor) -> None:
    grid = two_districts.grid_a.code
    rows = [
        HEADER,
        [grid, "第一网格", "", "", "楼道长", "甲", ""],
        [grid, "第一网格", "", "", "楼道长", "乙", ""],
    ]
    assert tree_import(actor=system, data=csv_bytes(rows), filename="t.csv").posts_created == 2
    assert tree_import(actor=system, data=csv_bytes(rows), filename="t.csv").posts_created == 0
    assert Post.objects.filter(jurisdiction=two_districts.grid_a).count() == 2


def test_rows_outside_the_importers_scope_are_rejected(personas: dict[str, User]) -> None:
    actor = actor_of(personas["district_officer"])
    rows = [HEADER, ["440903002", "别区街道", "", "", "", "", ""], ["440902002", "本区街道"]]
    result = tree_import(actor=actor, data=csv_bytes(rows), filename="t.csv")
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (2, "code", "outside your jurisdiction")
    ]
    assert not Jurisdiction.objects.filter(code__in=["440903002", "440902002"]).exists()


def test_district_officer_imports_inside_own_district(personas: dict[str, User]) -> None:
    actor = actor_of(personas["district_officer"])
    rows = [HEADER, ["440902002", "本区街道"]]
    assert tree_import(actor=actor, data=csv_bytes(rows), filename="t.csv").created == 1


def test_import_without_write_permission_changes_nothing(personas: dict[str, User]) -> None:
    actor = actor_of(personas["grid_worker"])
    audits = AuditEntry.objects.count()
    with pytest.raises(NotAllowed):
        tree_import(actor=actor, data=csv_bytes(TREE), filename="t.csv")
    assert not Jurisdiction.objects.filter(code__startswith="440904").exists()
    assert AuditEntry.objects.count() == audits


def test_a_large_tree_is_written_in_batches(
    two_districts: Tree, system: Actor, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    rows: list[list[Any]] = [["code", "name"], ["440904", "新区"]]
    for t in range(1, 4):
        town = f"440904{t:03d}"
        rows.append([town, f"街道{t}"])
        for v in range(1, 11):
            village = f"{town}{v:03d}"
            rows.append([village, f"社区{v}"])
            group = f"{village}001"
            rows.append([group, "小区"])
            rows.extend([f"{group}{g:03d}", f"网格{g}"] for g in range(1, 11))
    data = csv_bytes(rows)
    with django_assert_max_num_queries(40):
        result = tree_import(actor=system, data=data, filename="big.csv")
    assert result.created == len(rows) - 1
