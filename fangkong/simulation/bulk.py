"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite.

Rows bypass the ORM, so whoever builds them encrypts personal fields (`core.crypto.encrypt`)
and computes blind indexes (`people.protect`) exactly as the model fields and services do.
Primary keys are allocated here, so that persons can point at households written in the
same chunk without a round trip; `reset_sequences` makes the database's own counters
continue after them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connections
from django.db.models import Max, Model

Row = Sequence[Any]


class TableWriter:
    """Appends rows to one model's table; column order is `fields` (model field names)."""

    def __init__(self, model: type[Model], fields: Sequence[str], *, using: str = "default"):
        self.model = model
        self.using = using
        self.connection = connections[using]
        self.table = model._meta.db_table
        self.columns = [str(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
        quote = self.connection.ops.quote_name
        self._cols_sql = ", ".join(quote(c) for c in self.columns)
        self._table_sql = quote(self.table)

    @property
    def vendor(self) -> str:
        return str(self.connection.vendor)

    def write(self, rows: Iterable[Row]) -> int:
        """Insert the rows in the caller's transaction. Returns how many were written."""
        written = 0
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                copy_sql = f"COPY {self._table_sql} ({self._cols_sql}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
            else:
                batch = list(rows)
                marks = ", ".join("?" for _ in self.columns)
                sql = f"INSERT INTO {self._table_sql} ({self._cols_sql}) VALUES ({marks})"  # noqa: S608 - names from the model
                # The driver's own cursor: Django's wrapper would rewrite %s per statement.
                raw = self.connection.connection
                assert raw is not None
                raw.executemany(sql, batch)
                written = len(batch)
        return written


def next_id(model: type[Model], *, using: str = "default") -> int:
    """The first primary key above every existing row of the table."""
    top = model._default_manager.using(using).aggregate(top=Max("pk"))["top"]
    return int(top or 0) + 1


def reset_sequences(models: Sequence[type[Model]], *, using: str = "default") -> None:
    """Let the database's id counters continue after ids we assigned ourselves.

    PostgreSQL identity sequences need `setval`; SQLite's AUTOINCREMENT counter already
    follows the largest rowid inserted, and Django returns no statement for it.
    """
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def date_adapter(*, using: str = "default") -> Callable[[dt.date | None], Any]:
    """How a date travels in a raw row: as text on SQLite, as itself for COPY."""
    if connections[using].vendor == "postgresql":
        return lambda value: value
    return lambda value: None if value is None else value.isoformat()


def datetime_value(value: dt.datetime, *, using: str = "default") -> Any:
    """An aware datetime as the backend stores it (UTC text on SQLite)."""
    return connections[using].ops.adapt_datetimefield_value(value)


def tune_for_bulk(*, using: str = "default") -> None:
    """Per-connection settings for a long bulk load (SQLite: a bigger page cache)."""
    connection = connections[using]
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-524288")  # 512 MiB of pages, this connection only
