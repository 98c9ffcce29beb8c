"""The venue co-presence query (queries.venue_sql) on numpy arrays, for slices small enough.

A query over a slice of a few thousand rows spends most of its time in DuckDB's fixed costs
(planning, a fresh instance's first query, thread hand-offs): tens of milliseconds, against a
millisecond here. The engine uses this path when the number of (case scan, other scan) pairs
is below a bound (`MAX_PAIRS`), and DuckDB otherwise. It computes exactly what the SQL text
defines, step by step (the CTE each step mirrors is named), and the tests hold both paths to
the brute-force reference and to each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from fangkong.lake.layout import MAX_ID, MAX_TS, sort_key
from fangkong.lake.slicing import spans

# Beyond this many pairs the arrays (five int64 columns per pair) are left to DuckDB, which
# spills and uses both cores.
MAX_PAIRS = 2_000_000


class Window(Protocol):
    @property
    def case_person_id(self) -> int: ...
    @property
    def window_start(self) -> int: ...
    @property
    def window_end(self) -> int: ...


def _distinct_rows(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct rows of equal-length columns, ordered by the columns (first is primary)."""
    if not len(columns[0]):
        return columns
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    change = np.zeros(len(order), dtype=bool)
    change[0] = True
    for c in ordered:
        change[1:] |= c[1:] != c[:-1]
    return tuple(c[change] for c in ordered)


def venue_pairs(
    checkins: pa.Table,
    cases: Sequence[Window],
    *,
    window_seconds: int,
    venue_windows: Mapping[int, int],
    max_pairs: int = MAX_PAIRS,
) -> pa.Table | None:
    """The rows of queries.venue_sql over `checkins`, or None when the pairs would exceed
    `max_pairs` (the caller then runs the SQL)."""
    venue, ts, person = _distinct_rows(
        *(checkins.column(n).to_numpy().astype(np.int64) for n in ("venue_id", "ts", "person_id"))
    )
    if len(ts) and (
        ts.min() < 0 or ts.max() > MAX_TS or venue[0] < -MAX_ID - 1 or venue[-1] > MAX_ID
    ):
        return None  # outside the composite key's range (plain files are not checked at ingest)
    # case_scans: DISTINCT (case, venue, ts) of the case's own scans inside its window
    own = np.isin(person, np.fromiter((c.case_person_id for c in cases), np.int64))
    own_person, own_venue, own_ts = person[own], venue[own], ts[own]
    picked = []
    for case in cases:
        hit = (
            (own_person == case.case_person_id)
            & (own_ts >= case.window_start)
            & (own_ts <= case.window_end)
        )
        picked.append(np.flatnonzero(hit))
    rows = np.concatenate(picked) if picked else np.empty(0, np.int64)
    scan_case, scan_venue, scan_ts = _distinct_rows(own_person[rows], own_venue[rows], own_ts[rows])
    # scoped: each case scan's window (the venue's own, else the query's)
    win = np.full(len(scan_venue), window_seconds, dtype=np.int64)
    if venue_windows:
        keys = np.fromiter(venue_windows.keys(), np.int64)
        values = np.fromiter(venue_windows.values(), np.int64)
        order = np.argsort(keys)
        keys, values = keys[order], values[order]
        at = np.clip(np.searchsorted(keys, scan_venue), 0, max(len(keys) - 1, 0))
        known = keys[at] == scan_venue
        win[known] = values[at[known]]
    # pairs: every other scan of the venue within the window (both ends included); the slice is
    # distinct, so each (case scan, scan) pair is one row, as the SQL's DISTINCT makes it
    key = sort_key(venue, ts)  # `venue, ts` are already in this order
    lo = sort_key(scan_venue, np.maximum(scan_ts - win, 0))
    hi = sort_key(scan_venue, np.minimum(scan_ts + win, MAX_TS))
    first = np.searchsorted(key, lo, side="left")
    last = np.searchsorted(key, hi, side="right")
    counts = np.maximum(last - first, 0)
    if int(counts.sum()) > max_pairs:
        return None
    other = spans(first, last)
    p_case = np.repeat(scan_case, counts)
    p_venue = np.repeat(scan_venue, counts)
    p_case_ts = np.repeat(scan_ts, counts)
    p_person, p_ts = person[other], ts[other]
    keep = p_person != p_case
    p_case, p_person, p_venue, p_case_ts, p_ts = (
        a[keep] for a in (p_case, p_person, p_venue, p_case_ts, p_ts)
    )
    # ranked: per (case, person) the first pair by (case_ts, contact_ts, venue), the number of
    # pairs and the closest gap
    order = np.lexsort((p_venue, p_ts, p_case_ts, p_person, p_case))
    p_case, p_person, p_venue, p_case_ts, p_ts = (
        a[order] for a in (p_case, p_person, p_venue, p_case_ts, p_ts)
    )
    n = len(p_case)
    starts = np.flatnonzero(
        np.concatenate([[n > 0], (p_case[1:] != p_case[:-1]) | (p_person[1:] != p_person[:-1])])
    )
    gaps = np.abs(p_ts - p_case_ts)
    encounters = np.diff(np.append(starts, n))
    min_gap = np.minimum.reduceat(gaps, starts) if n else gaps[:0]
    return pa.table(
        {
            "case_person_id": p_case[starts],
            "person_id": p_person[starts],
            "venue_id": p_venue[starts],
            "case_ts": p_case_ts[starts],
            "contact_ts": p_ts[starts],
            "encounters": encounters.astype(np.int64),
            "min_gap": min_gap,
        }
    )
