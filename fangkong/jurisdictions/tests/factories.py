"""Minimal valid jurisdiction rows for tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:
    from fangkong.accounts.models import User

from fangkong.jurisdictions import rules
from fangkong.jurisdictions.models import Jurisdiction, Post


def node(code: str, name: str = "", **extra: Any) -> Jurisdiction:
    """A node under its (existing) parent, its level and path derived from the code."""
    parent_code = rules.parent_code_of(code)
    return Jurisdiction.objects.create(
        code=code,
        name=name or f"Unit {code}",
        level=rules.level_of(code),
        parent=Jurisdiction.objects.get(code=parent_code) if parent_code else None,
        path=rules.path_of(code),
        **extra,
    )


def post(jurisdiction: Jurisdiction, **extra: Any) -> Post:
    fields: dict[str, Any] = {
        "kind": Post.Kind.GRID_WORKER,
        "holder_name": "王小明",
        "phone": "13800138000",
        **extra,
    }
    return Post.objects.create(
        jurisdiction=jurisdiction, jurisdiction_path=jurisdiction.path, **fields
    )


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LoginFn = Callable[["User"], Client]
