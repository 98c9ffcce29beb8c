"""Synthetic check-ins and dwell records for the demo city and the benchmarks (vectorized).

Each person keeps to a neighbourhood: most scans are at venues near an anchor venue (venues in
the order the caller gives, e.g. by jurisdiction path, so that neighbours are near), a few
anywhere in the city. 2 or 3 scans per person per day between 07:00 and 22:00 city time.
Dwell records: each person stays at a home cell at night and an anchor cell by day, with a few
shorter stays elsewhere. The same seed gives the same records, day by day.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from fangkong.lake.layout import CHECKINS, DAY_SECONDS, DWELL, day_start

OPENING = 7 * 3600  # first scans at 07:00 city time
OPEN_SECONDS = 15 * 3600  # last at 22:00
FAR_SHARE = 0.15  # scans away from the person's neighbourhood
NEAR = 40  # neighbourhood: this many venues either side of the anchor


def _anchors(
    rng: np.random.Generator, persons: int, places: int, anchors: np.ndarray | None
) -> np.ndarray:
    if anchors is not None:
        return np.asarray(anchors, dtype=np.int64) % max(places, 1)
    return rng.integers(0, places, persons, dtype=np.int64)


def checkin_days(
    *,
    person_ids: np.ndarray,
    venue_ids: np.ndarray,
    first_day: int,
    days: int,
    seed: int,
    anchors: np.ndarray | None = None,
    until: int | None = None,
) -> Iterator[tuple[int, pa.Table]]:
    """(day, table) of check-ins for each city day; `anchors` are indexes into venue_ids
    (random when omitted); times after `until` (epoch seconds) are left out."""
    person_ids = np.asarray(person_ids, dtype=np.int64)
    venue_ids = np.asarray(venue_ids, dtype=np.int64)
    n, places = len(person_ids), len(venue_ids)
    anchor = _anchors(np.random.default_rng([seed, 0]), n, places, anchors)
    for offset in range(days):
        day = first_day + offset
        rng = np.random.default_rng([seed, 1, day])
        who = np.repeat(np.arange(n, dtype=np.int64), rng.integers(2, 4, n))
        m = len(who)
        near = (anchor[who] + rng.integers(-NEAR, NEAR + 1, m)) % places
        venue = np.where(rng.random(m) < FAR_SHARE, rng.integers(0, places, m), near)
        ts = day_start(day) + OPENING + rng.integers(0, OPEN_SECONDS, m)
        keep = slice(None) if until is None else ts <= until
        yield (
            day,
            pa.table(
                {
                    "person_id": person_ids[who][keep],
                    "venue_id": venue_ids[venue][keep],
                    "ts": ts[keep],
                },
                schema=CHECKINS.schema,
            ),
        )


def dwell_days(
    *,
    person_ids: np.ndarray,
    cell_ids: np.ndarray,
    first_day: int,
    days: int,
    seed: int,
    until: int | None = None,
) -> Iterator[tuple[int, pa.Table]]:
    """(day, table) of dwell intervals: home 00:00-08:xx, day cell 09:xx-17:xx, an errand
    of 20-90 minutes near the day cell, home again 18:xx-23:59 (intervals start in the day)."""
    person_ids = np.asarray(person_ids, dtype=np.int64)
    cell_ids = np.asarray(cell_ids, dtype=np.int64)
    n, cells = len(person_ids), len(cell_ids)
    base = np.random.default_rng([seed, 2])
    home = base.integers(0, cells, n)
    work = (home + base.integers(-20, 21, n)) % cells
    for offset in range(days):
        day = first_day + offset
        start = day_start(day)
        rng = np.random.default_rng([seed, 3, day])
        morning = start + 8 * 3600 + rng.integers(0, 3600, n)
        arrive = morning + rng.integers(600, 3600, n)
        leave = start + 17 * 3600 + rng.integers(0, 3600, n)
        errand_start = leave + rng.integers(0, 1800, n)
        errand_end = errand_start + rng.integers(1200, 5400, n)
        evening = np.minimum(errand_end + rng.integers(300, 1800, n), start + DAY_SECONDS - 60)
        errand_cell = (work + rng.integers(-3, 4, n)) % cells
        parts = [
            (home, np.full(n, start), morning),
            (work, arrive, leave),
            (errand_cell, errand_start, errand_end),
            (home, evening, np.full(n, start + DAY_SECONDS)),
        ]
        person = np.concatenate([person_ids] * len(parts))
        cell = np.concatenate([cell_ids[c] for c, _, _ in parts])
        begin = np.concatenate([b for _, b, _ in parts]).astype(np.int64)
        end = np.concatenate([e for _, _, e in parts]).astype(np.int64)
        keep = end > begin
        if until is not None:
            keep &= begin <= until
            end = np.minimum(end, until)
            keep &= end > begin
        yield (
            day,
            pa.table(
                {
                    "person_id": person[keep],
                    "cell_id": cell[keep],
                    "start_ts": begin[keep],
                    "end_ts": end[keep],
                },
                schema=DWELL.schema,
            ),
        )
