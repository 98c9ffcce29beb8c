"""Rebuilding the board's counters (`ArrivalTally`) from the arrivals, set-based: one grouped
scan per tree level. The writes keep the tally themselves; bulk loaders (benchmarks, a restore)
call `fangkong screening rebuild-tally`."""

from __future__ import annotations

from django.db import connection, transaction

from fangkong.assignments.rules import PATH_LENGTH
from fangkong.screening import rules
from fangkong.screening.models import ArrivalTally

_SUMS = {
    "received": "1",
    "verified": "CASE WHEN status = 'verified' THEN 1 ELSE 0 END",
    "not_reached": "CASE WHEN status = 'not_reached' THEN 1 ELSE 0 END",
    "transferred": "CASE WHEN status = 'transferred' THEN 1 ELSE 0 END",
    "not_in_city": (
        "CASE WHEN status = 'not_reached' AND not_reached_reason IN ('not_in_city', 'left') "
        "THEN 1 ELSE 0 END"
    ),
    "under_control": "CASE WHEN under_control THEN 1 ELSE 0 END",
    "sampled": "CASE WHEN sample_ref <> '' THEN 1 ELSE 0 END",
    "duplicates": "CASE WHEN source_count > 1 THEN 1 ELSE 0 END",
    "unplaced": "CASE WHEN NOT placed AND closed_at IS NULL THEN 1 ELSE 0 END",
}
assert set(_SUMS) == set(rules.TALLY_KEYS)


@transaction.atomic
def rebuild() -> int:
    """Recompute every counter; returns how many tally rows were written."""
    ArrivalTally.objects.all().delete()
    keys = list(_SUMS)
    sums = ", ".join(f"SUM({_SUMS[k]})" for k in keys)
    written = 0
    for length in sorted(PATH_LENGTH.values()):
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT SUBSTR(jurisdiction_path, 1, %s) AS node, {sums} "  # noqa: S608
                "FROM screening_arrival WHERE LENGTH(jurisdiction_path) >= %s GROUP BY node",
                [length, length],
            )
            rows = [
                ArrivalTally(
                    node_path=node, parent_path=rules.parent_path(node), key=key, count=int(n)
                )
                for node, *counts in cur.fetchall()
                for key, n in zip(keys, counts, strict=True)
                if n
            ]
        ArrivalTally.objects.bulk_create(rows, batch_size=1000)
        written += len(rows)
    return written
