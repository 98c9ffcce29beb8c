"""Keeping AssignmentTally: per-node counts of active work, written in the caller's transaction.

Every ancestor of an item's node carries the item in its counts, so a board reads one row per
kind for the node and one per kind for each child, whatever the number of items below.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from fangkong.assignments import rules
from fangkong.assignments.models import ACTIVE_STATUSES, Assignment, AssignmentTally


@dataclass(frozen=True, slots=True)
class Delta:
    path: str  # the item's own node path
    kind: str
    active: int = 0
    in_progress: int = 0
    overdue: int = 0


def _table() -> str:
    return connection.ops.quote_name(AssignmentTally._meta.db_table)


def apply(deltas: Iterable[Delta]) -> None:
    """Add the deltas to the item's node and every ancestor: one statement."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in deltas:
        for node in rules.ancestor_paths(d.path):
            row = sums[(node, d.kind)]
            row[0] += d.active
            row[1] += d.in_progress
            row[2] += d.overdue
    rows = [(k, v) for k, v in sums.items() if any(v)]
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[str | int] = []
    for (node, kind), (active, in_progress, overdue) in rows:
        params += [node, rules.parent_path(node), kind, active, in_progress, overdue]
    t = _table()
    sql = (
        f"INSERT INTO {t} (node_path, parent_path, kind, active, in_progress, overdue) "  # noqa: S608 - table name from the model, values bound
        f"VALUES {values} ON CONFLICT (node_path, kind) DO UPDATE SET "
        f"active = {t}.active + excluded.active, "
        f"in_progress = {t}.in_progress + excluded.in_progress, "
        f"overdue = {t}.overdue + excluded.overdue"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def state_delta(item: Assignment, sign: int) -> Delta:
    """What one item contributes to the counts in its current state, times `sign`."""
    if item.status not in ACTIVE_STATUSES:
        return Delta(item.jurisdiction_path, item.kind)
    return Delta(
        item.jurisdiction_path,
        item.kind,
        active=sign,
        in_progress=sign if item.status == "in_progress" else 0,
        overdue=sign if item.escalation_level > 0 else 0,
    )


def add_newly_overdue(*, at: dt.datetime) -> None:
    """Count items first escalated by the pass at `at` as overdue in every ancestor's tally.

    Set-based: one INSERT ... SELECT ... GROUP BY per tree level.
    """
    stamp = connection.ops.adapt_datetimefield_value(at)
    t = _table()
    a = connection.ops.quote_name(Assignment._meta.db_table)
    for level in rules.LEVELS:
        length = rules.PATH_LENGTH[level]
        parent_len = rules.PATH_LENGTH.get(level - 1, 0)
        sql = (
            f"INSERT INTO {t} (node_path, parent_path, kind, active, in_progress, overdue) "  # noqa: S608 - names from the models, lengths are ints, values bound
            f"SELECT SUBSTR(jurisdiction_path, 1, {length:d}), "
            f"SUBSTR(jurisdiction_path, 1, {parent_len:d}), kind, 0, 0, COUNT(*) FROM {a} "
            f"WHERE escalated_at = %s AND overdue_since = %s AND jurisdiction_level >= %s "
            f"GROUP BY 1, 2, 3 "
            f"ON CONFLICT (node_path, kind) DO UPDATE SET overdue = {t}.overdue + excluded.overdue"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [stamp, stamp, level])


def rebuild() -> int:
    """Recompute the whole table from the items (after bulk loads, or to repair). Set-based."""
    t = _table()
    a = connection.ops.quote_name(Assignment._meta.db_table)
    AssignmentTally.objects.all().delete()
    for level in rules.LEVELS:
        length = rules.PATH_LENGTH[level]
        parent_len = rules.PATH_LENGTH.get(level - 1, 0)
        sql = (
            f"INSERT INTO {t} (node_path, parent_path, kind, active, in_progress, overdue) "  # noqa: S608 - names from the models, lengths are ints
            f"SELECT SUBSTR(jurisdiction_path, 1, {length:d}), "
            f"SUBSTR(jurisdiction_path, 1, {parent_len:d}), kind, COUNT(*), "
            f"SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN escalation_level > 0 THEN 1 ELSE 0 END) "
            f"FROM {a} WHERE closed_at IS NULL AND jurisdiction_level >= %s "
            f"GROUP BY 1, 2, 3"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [level])
    return AssignmentTally.objects.count()
