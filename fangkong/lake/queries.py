"""The co-presence queries, written once, run by DuckDB (in-process) or Apache Spark.

Each query reads named relations: `cases(case_person_id, window_start, window_end)`,
`checkins(person_id, venue_id, ts)` with `venue_windows(venue_id, window_seconds)`, or
`dwell(person_id, cell_id, start_ts, end_ts)`. The text uses only SQL that both engines share
(CTEs, window functions, GREATEST/LEAST); integer parameters are formatted in after a type check,
so the same string runs on both. The engine decides what the relations hold: on DuckDB the
slices of the lake that can matter (see slicing.py), on Spark the day partitions themselves;
either way the answer is the same, because the slices hold every row the joins can reach.

Check-ins and dwell intervals are sets: a record stored twice (a retried batch under another
id, a compaction in progress) counts once (DISTINCT).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

VENUE_COLUMNS = (
    "case_person_id",
    "person_id",
    "venue_id",
    "case_ts",
    "contact_ts",
    "encounters",
    "min_gap",
)
CELL_COLUMNS = (
    "case_person_id",
    "person_id",
    "cell_id",
    "overlap_start",
    "shared_seconds",
    "cells",
    "cumulative_seconds",
)


def _int(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def venue_sql(*, window_seconds: int) -> str:
    """One row per (case, person): the earliest pair of check-ins (by case_ts, contact_ts,
    venue_id), the number of pairs, and the closest gap between the two scans of a pair."""
    w = _int(window_seconds)
    return f"""
WITH case_scans AS (
    SELECT DISTINCT k.case_person_id, c.venue_id, c.ts AS case_ts
    FROM cases k JOIN checkins c ON c.person_id = k.case_person_id
    WHERE c.ts >= k.window_start AND c.ts <= k.window_end
),
scoped AS (
    SELECT s.case_person_id, s.venue_id, s.case_ts, COALESCE(w.window_seconds, {w}) AS win
    FROM case_scans s LEFT JOIN venue_windows w ON w.venue_id = s.venue_id
),
pairs AS (
    SELECT DISTINCT s.case_person_id, c.person_id, s.venue_id, s.case_ts, c.ts AS contact_ts
    FROM scoped s JOIN checkins c
      ON c.venue_id = s.venue_id AND c.ts >= s.case_ts - s.win AND c.ts <= s.case_ts + s.win
    WHERE c.person_id <> s.case_person_id
),
ranked AS (
    SELECT case_person_id, person_id, venue_id, case_ts, contact_ts,
        ROW_NUMBER() OVER (
            PARTITION BY case_person_id, person_id ORDER BY case_ts, contact_ts, venue_id
        ) AS rn,
        COUNT(*) OVER (PARTITION BY case_person_id, person_id) AS encounters,
        MIN(ABS(contact_ts - case_ts)) OVER (PARTITION BY case_person_id, person_id) AS min_gap
    FROM pairs
)
SELECT case_person_id, person_id, venue_id, case_ts, contact_ts, encounters, min_gap
FROM ranked WHERE rn = 1
ORDER BY case_person_id, person_id
"""  # noqa: S608 -- only integers are formatted in (checked by _int), never caller text


def cell_sql(*, min_overlap_seconds: int, cumulative_seconds: int | None, lookback: int) -> str:
    """One row per (case, person) sharing a cell for more than `min_overlap_seconds` within the
    case's window (summed per cell), where, if `cumulative_seconds` is set, the case or the
    person stayed in that cell more than `cumulative_seconds` in the `lookback` seconds before
    the end of the case's window."""
    m = _int(min_overlap_seconds)
    lb = _int(lookback)
    cumulative = (
        "TRUE" if cumulative_seconds is None else f"t.cumulative > {_int(cumulative_seconds)}"
    )
    return f"""
WITH d AS (SELECT DISTINCT person_id, cell_id, start_ts, end_ts FROM dwell),
stays AS (
    SELECT k.case_person_id, k.window_end, d.cell_id,
        GREATEST(d.start_ts, k.window_start) AS s, LEAST(d.end_ts, k.window_end) AS e
    FROM cases k JOIN d ON d.person_id = k.case_person_id
    WHERE d.end_ts > k.window_start AND d.start_ts < k.window_end
),
spans AS (
    SELECT s.case_person_id, s.window_end, d.person_id, s.cell_id,
        LEAST(s.e, d.end_ts) - GREATEST(s.s, d.start_ts) AS seconds,
        GREATEST(s.s, d.start_ts) AS overlap_start
    FROM stays s JOIN d
      ON d.cell_id = s.cell_id AND d.start_ts < s.e AND d.end_ts > s.s
    WHERE d.person_id <> s.case_person_id
),
per_cell AS (
    SELECT case_person_id, person_id, cell_id, MAX(window_end) AS window_end,
        SUM(seconds) AS shared, MIN(overlap_start) AS first_start
    FROM spans GROUP BY case_person_id, person_id, cell_id
    HAVING SUM(seconds) > {m}
),
sides AS (  -- each pair twice, once per person, so the join below is on equalities only
    SELECT case_person_id, person_id, cell_id, window_end, person_id AS who FROM per_cell
    UNION ALL
    SELECT case_person_id, person_id, cell_id, window_end, case_person_id AS who FROM per_cell
),
stay_totals AS (
    SELECT p.case_person_id, p.person_id, p.cell_id, p.who,
        SUM(LEAST(d.end_ts, p.window_end) - GREATEST(d.start_ts, p.window_end - {lb})) AS total
    FROM sides p JOIN d
      ON d.cell_id = p.cell_id AND d.person_id = p.who
      AND d.end_ts > p.window_end - {lb} AND d.start_ts < p.window_end
    GROUP BY p.case_person_id, p.person_id, p.cell_id, p.who
),
totals AS (
    SELECT case_person_id, person_id, cell_id, MAX(total) AS cumulative
    FROM stay_totals GROUP BY case_person_id, person_id, cell_id
),
kept AS (
    SELECT p.case_person_id, p.person_id, p.cell_id, p.shared, p.first_start,
        COALESCE(t.cumulative, 0) AS cumulative
    FROM per_cell p LEFT JOIN totals t
      ON t.case_person_id = p.case_person_id AND t.person_id = p.person_id
      AND t.cell_id = p.cell_id
    WHERE {cumulative}
),
ranked AS (
    SELECT case_person_id, person_id, cell_id, shared, first_start, cumulative,
        ROW_NUMBER() OVER (
            PARTITION BY case_person_id, person_id ORDER BY shared DESC, cell_id
        ) AS rn,
        SUM(shared) OVER (PARTITION BY case_person_id, person_id) AS total_shared,
        MIN(first_start) OVER (PARTITION BY case_person_id, person_id) AS overlap_start,
        COUNT(*) OVER (PARTITION BY case_person_id, person_id) AS cells
    FROM kept
)
SELECT case_person_id, person_id, cell_id, overlap_start, total_shared AS shared_seconds, cells,
    cumulative AS cumulative_seconds
FROM ranked WHERE rn = 1
ORDER BY case_person_id, person_id
"""  # noqa: S608 -- only integers are formatted in (checked by _int), never caller text


_DUCKDB: dict[str, Any] = {}


def _duckdb() -> Any:
    """The process's in-memory DuckDB instance: starting one costs more than a small query, so
    it is made once and each query runs on its own cursor (a connection to the same instance;
    safe to use from several threads, each with its own cursor)."""
    if "db" not in _DUCKDB:
        import duckdb

        _DUCKDB["db"] = duckdb.connect(":memory:")
    return _DUCKDB["db"]


def run_duckdb(sql: str, relations: dict[str, Any]) -> pa.Table:
    """Run a query over Arrow tables in the in-process DuckDB."""
    cursor = _duckdb().cursor()
    try:
        for name, value in relations.items():
            cursor.register(name, value)
        result: pa.Table = cursor.sql(sql).to_arrow_table()
        return result
    finally:
        cursor.close()


def run_spark(sql: str, relations: dict[str, Any], *, spark: Any = None) -> pa.Table:
    """Run the same query on Apache Spark (local mode unless a session is given).

    A relation is an Arrow table (sent as a DataFrame) or a list of Parquet paths that Spark
    reads itself, which is how a province-sized lake is meant to be queried.
    """
    session = spark or spark_session()
    for name, value in relations.items():
        if isinstance(value, pa.Table):
            frame = session.createDataFrame(
                value.cast(pa.schema([(f.name, pa.int64()) for f in value.schema]))
            )
        else:
            frame = session.read.parquet(*[str(p) for p in value])
        frame.createOrReplaceTempView(name)
    rows = session.sql(sql).collect()
    names = [f.name for f in session.sql(sql).schema.fields] if not rows else list(rows[0].asDict())
    return pa.table({n: pa.array([r[n] for r in rows], type=pa.int64()) for n in names})


_SESSIONS: dict[str, Any] = {}


def spark_session() -> Any:
    """A local Spark session for the process (started once: a JVM takes seconds)."""
    if "local" not in _SESSIONS:
        import logging

        from pyspark.sql import SparkSession

        # py4j logs its socket closing from finalizers, sometimes after logging has shut down.
        logging.getLogger("py4j").setLevel(logging.WARNING)
        _SESSIONS["local"] = (
            SparkSession.builder.master("local[2]")
            .appName("fangkong-lake")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
    return _SESSIONS["local"]


def forget_spark_session() -> None:
    """Drop the cached session (after `stop()`), so the next call starts a new one."""
    _SESSIONS.pop("local", None)
