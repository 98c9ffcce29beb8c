"""Pure decisions of the lake: what a valid record is, how long records are kept. No ORM, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fangkong.lake.layout import (
    CHECKINS,
    DAY_SECONDS,
    DWELL,
    MAX_DWELL_SECONDS,
    MAX_ID,
    MAX_TS,
    TableSpec,
)

# Check-ins and dwell records say where a person was, minute by minute: the most sensitive data
# of the platform. They are kept for 28 city days: a case's infectious window reaches at most 14
# days back, and the cell-grid cumulative-stay rule looks 14 days further back from its start.
# Older day partitions are deleted whole (services.retention_apply, daily job).
RETENTION_DAYS = 28
# A scanner's clock may run a little ahead; anything later than this is refused.
CLOCK_SKEW_SECONDS = 300
MAX_BATCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based, in the order sent
    column: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


def as_table(spec: TableSpec, rows: Sequence[Sequence[int]] | pa.Table) -> pa.Table:
    """Rows (tuples in the table's column order) or a table, as an int64 table of the spec."""
    if isinstance(rows, pa.Table):
        return rows.select(spec.schema.names).cast(spec.schema)
    width = len(spec.schema.names)
    # One C-level conversion of the whole batch; a ragged row or a non-integer raises.
    matrix = np.array(rows, dtype=np.int64).reshape(-1, width)
    return pa.table(
        {name: matrix[:, i].copy() for i, name in enumerate(spec.schema.names)},
        schema=spec.schema,
    )


def digest(table: pa.Table) -> str:
    """A batch's fingerprint: the same rows in the same order give the same digest."""
    h = hashlib.sha256()
    for name in table.column_names:
        h.update(name.encode())
        h.update(np.ascontiguousarray(table.column(name).to_numpy()).tobytes())
    return h.hexdigest()


def _first_rows(mask: np.ndarray, column: str, reason: str, limit: int) -> list[RowError]:
    return [RowError(int(i) + 1, column, reason) for i in np.flatnonzero(mask)[:limit]]


def row_errors(
    spec: TableSpec,
    table: pa.Table,
    *,
    now: int,
    retention_days: int = RETENTION_DAYS,
    limit: int = 100,
) -> list[RowError]:
    """What is wrong with the rows (at most `limit` errors), checked column by column."""
    errors: list[RowError] = []
    oldest = now - retention_days * DAY_SECONDS
    for name in ("person_id", spec.place):
        values = table.column(name).to_numpy()
        errors += _first_rows((values < 1) | (values > MAX_ID), name, "not a valid id", limit)
    times = [spec.time] if spec is CHECKINS else ["start_ts", "end_ts"]
    for name in times:
        values = table.column(name).to_numpy()
        errors += _first_rows((values < 0) | (values > MAX_TS), name, "not an epoch second", limit)
        errors += _first_rows(values > now + CLOCK_SKEW_SECONDS, name, "in the future", limit)
    first = table.column(spec.time).to_numpy()
    errors += _first_rows(
        (first >= 0) & (first < oldest), spec.time, "older than the retention period", limit
    )
    if spec is DWELL:
        span = table.column("end_ts").to_numpy() - first
        errors += _first_rows(span <= 0, "end_ts", "not after start_ts", limit)
        errors += _first_rows(span > MAX_DWELL_SECONDS, "end_ts", "longer than one day", limit)
    return sorted(errors, key=lambda e: (e.row, e.column))[:limit]


def expired_days(
    days: Sequence[int], *, today: int, retention_days: int = RETENTION_DAYS
) -> list[int]:
    """The day partitions past retention: older than `retention_days` city days before today."""
    return [day for day in days if day < today - retention_days]
