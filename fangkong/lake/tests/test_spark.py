"""The same query text on Apache Spark (local mode) gives the same rows as DuckDB.

One Spark session for the module (a JVM starts in seconds), one small lake with fresh batch
files and compacted days, venue and cell-grid queries, venue-specific windows and the
cumulative-stay rule. Java 17 runs Spark 4; the test runs in the normal suite.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fangkong.lake import queries
from fangkong.lake.engine import CaseWindow, cell_copresence, venue_copresence
from fangkong.lake.tests.reference import cell_reference, venue_reference
from fangkong.lake.tests.test_engine import (
    MIDNIGHT,
    random_cases,
    random_checkins,
    random_dwell,
    write_lake,
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = queries.spark_session()
    yield session
    session.stop()
    queries.forget_spark_session()


def test_duckdb_and_spark_give_identical_rows(tmp_path: Path, spark: Any) -> None:
    rng = random.Random(11)
    checkins = random_checkins(rng, 500, persons=30, venues=5)
    lake = write_lake(tmp_path / "v", checkins, dwell=False, compact="some")
    cases = random_cases(rng, 30, 6)
    windows = {1: 3600}
    duck = venue_copresence(lake, cases, venue_windows=windows)
    on_spark = venue_copresence(lake, cases, venue_windows=windows, backend="spark", spark=spark)
    assert on_spark == duck == venue_reference(checkins, cases, window=1800, venue_windows=windows)
    assert duck

    dwell = random_dwell(rng, 300, persons=25, cells=4)
    cell_lake = write_lake(tmp_path / "c", dwell, dwell=True, compact="all")
    cell_cases = [CaseWindow(p, MIDNIGHT - 86_400, MIDNIGHT + 36_000) for p in (1, 2, 3)]
    options: dict[str, Any] = {
        "cumulative_seconds": 4 * 3600,
        "cumulative_lookback_seconds": 86_400,
    }
    duck_cells = cell_copresence(cell_lake, cell_cases, **options)
    spark_cells = cell_copresence(cell_lake, cell_cases, backend="spark", spark=spark, **options)
    assert (
        spark_cells
        == duck_cells
        == cell_reference(dwell, cell_cases, min_overlap=600, cumulative=4 * 3600, lookback=86_400)
    )
    assert duck_cells
