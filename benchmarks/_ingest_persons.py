"""Residents for the scan-ingest benchmark: as many as the run has scans, so that every scan
is a person's first in the round (as on the morning of a city-wide round), added set-based
inside the database to the simulated city's grids, neighbours in blocks of consecutive ids.
Run in the setup child, before the round is created (the round counts them as due)."""

# ruff: noqa: S608 - statements built from this file's constants and integers

from __future__ import annotations

from typing import Any


def add_persons(n: int) -> tuple[int, int]:
    """Add `n` residents; returns their ids as a half-open range (first, end)."""
    from django.db import connection

    from fangkong.core import clock, crypto
    from fangkong.jurisdictions.models import Jurisdiction, Level

    grids = list(
        Jurisdiction.objects.filter(level=Level.GRID).order_by("pk").values_list("pk", "path")
    )
    block = -(-n // len(grids))
    sealed = crypto.encrypt("x")  # one valid ciphertext for every encrypted column
    now: Any = connection.ops.adapt_datetimefield_value(clock.now())
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM people_person")
        first = int(cur.fetchone()[0]) + 1
        cur.execute("DROP TABLE IF EXISTS bench_grid")
        cur.execute("CREATE TABLE bench_grid (idx integer PRIMARY KEY, id bigint, path text)")
        cur.executemany(
            "INSERT INTO bench_grid (idx, id, path) VALUES (%s, %s, %s)",
            [(i, pk, path) for i, (pk, path) in enumerate(grids)],
        )
        if pg:
            series = f"generate_series(0, {n - 1}) AS s(i)"
            col = "s.i"
        else:
            series = (
                f"(WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c "
                f"WHERE i + 1 < {n}) SELECT i FROM c) AS s"
            )
            col = "s.i"
        cur.execute(
            "INSERT INTO people_person (id, doc_type, doc_number, doc_bidx, name, name_bidx, sex, "
            "phone, phone_bidx, address, grid_id, jurisdiction_path, id_mismatch, created_at, "
            f"updated_at) SELECT {first} + {col}, 'resident_id', %s, 'bench' || ({first} + {col}), "
            f"%s, '', 'U', '', '', '', g.id, g.path, %s, %s, %s FROM {series} "
            f"JOIN bench_grid g ON g.idx = {col} / {block}",
            [sealed, sealed, False, now, now],
        )
        if pg:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('people_person', 'id'), %s)", [first + n]
            )
            cur.execute("ANALYZE people_person")
        else:
            cur.execute("ANALYZE")
        cur.execute("DROP TABLE bench_grid")
    return first, first + n
