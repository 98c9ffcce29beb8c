"""The baseline of the scan-ingest benchmark: the same rows loaded by the database's own bulk
path (PostgreSQL COPY from a file, SQLite one executemany), run in a Django child process."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def child_copy(out: Path, round_id: int) -> None:  # noqa: PLR0915 - two engines' baselines
    """The baseline: the same rows loaded by the database's own bulk path into a copy of the
    sample table with the same indexes. PostgreSQL: the rows are exported to a file first
    (COPY TO), then the timed COPY FROM reads that file (no per-row Python). SQLite: one
    executemany in one transaction, streamed from the table."""
    import django

    django.setup()
    from django.db import connection

    from fangkong.mass_testing.services._ingest_db import SAMPLE_COLUMNS

    cols = SAMPLE_COLUMNS

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_copy")
            cur.execute("CREATE TABLE bench_copy (LIKE mass_testing_sample INCLUDING ALL)")
        raw = connection.connection
        assert raw is not None
        dump = out.with_suffix(".copy")
        rows = 0
        with raw.cursor() as cur, dump.open("wb") as fh:
            sql = f"COPY (SELECT {cols} FROM mass_testing_sample WHERE round_id = {round_id:d}) TO STDOUT"  # noqa: S608
            with cur.copy(sql) as copy:
                for chunk in copy:
                    fh.write(chunk)
                    rows += bytes(chunk).count(b"\n")
        started = time.perf_counter()
        with (
            dump.open("rb") as src,
            raw.cursor() as cur,
            cur.copy(f"COPY bench_copy ({cols}) FROM STDIN") as copy,
        ):
            while block := src.read(1 << 20):
                copy.write(block)
        raw.commit()
        seconds = time.perf_counter() - started
        dump.unlink()
        with raw.cursor() as cur:
            cur.execute("DROP TABLE bench_copy")
        raw.commit()
    else:
        path = str(Path(os.environ["FANGKONG_DATA_DIR"]) / "fangkong.sqlite3")
        db = sqlite3.connect(path)
        reader = sqlite3.connect(path)
        db.execute("DROP TABLE IF EXISTS bench_copy")
        schema = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'mass_testing_sample'"
        ).fetchone()[0]
        db.execute(schema.replace('"mass_testing_sample"', "bench_copy", 1))
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'mass_testing_sample' AND type = 'index' AND sql IS NOT NULL"
        ).fetchall():
            db.execute(
                sql.replace('"mass_testing_sample"', "bench_copy").replace('INDEX "', 'INDEX "bc_')
            )
        db.commit()
        source = reader.execute(
            f"SELECT {cols} FROM mass_testing_sample WHERE round_id = ?",  # noqa: S608
            (round_id,),
        )
        counted = [0]

        def stream() -> Any:
            for row in source:
                counted[0] += 1
                yield row

        started = time.perf_counter()
        db.executemany(
            f"INSERT INTO bench_copy ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
            stream(),
        )
        db.commit()
        seconds = time.perf_counter() - started
        rows = counted[0]
        db.execute("DROP TABLE bench_copy")
        db.commit()
        db.close()
        reader.close()
    out.write_text(json.dumps({"rows": rows, "seconds": seconds}))
