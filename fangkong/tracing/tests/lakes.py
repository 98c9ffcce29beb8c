"""Small lakes for tests: check-ins written to a private lake directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from fangkong.lake.layout import CHECKINS, DWELL, Lake


def ts(value: dt.datetime) -> int:
    return int(value.timestamp())


def lake_with(
    root: Path,
    checkins: Iterable[tuple[int, int, dt.datetime]],
    dwell: Iterable[tuple[int, int, dt.datetime, dt.datetime]] = (),
) -> Lake:
    """A lake holding these (person, venue, time) scans and (person, cell, start, end) stays."""
    lake = Lake(root)
    rows = list(checkins)
    if rows:
        lake.write_batch(
            CHECKINS,
            pa.table(
                {
                    "person_id": pa.array([r[0] for r in rows], pa.int64()),
                    "venue_id": pa.array([r[1] for r in rows], pa.int64()),
                    "ts": pa.array([ts(r[2]) for r in rows], pa.int64()),
                }
            ),
        )
    stays = list(dwell)
    if stays:
        lake.write_batch(
            DWELL,
            pa.table(
                {
                    "person_id": pa.array([r[0] for r in stays], pa.int64()),
                    "cell_id": pa.array([r[1] for r in stays], pa.int64()),
                    "start_ts": pa.array([ts(r[2]) for r in stays], pa.int64()),
                    "end_ts": pa.array([ts(r[3]) for r in stays], pa.int64()),
                }
            ),
        )
    return lake
