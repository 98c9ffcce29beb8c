"""Reading an export back in tests: its bytes, every part of an xlsx inflated, its rows."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.http.response import HttpResponseBase
from openpyxl import load_workbook


def body(response: HttpResponseBase) -> bytes:
    """The whole response, streamed or not. The test client closes a streamed response (and
    with it the temporary file) once its content is consumed; closing it again here would
    close the test's database connection too."""
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def all_bytes(data: bytes) -> bytes:
    """The bytes themselves and, for an xlsx, every part inflated: what a search must cover."""
    if not data.startswith(b"PK"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return data + b"".join(archive.read(n) for n in archive.namelist())


def xlsx_rows(data: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows
