"""Reading only the slices of the lake that a query needs.

A request is a set of key ranges: (id, time_lo, time_hi) on an id column (person, venue or cell)
and the table's time column. For each day the ranges touch, a range goes to the bucket file of
its id (`id % B`); in that file only the row groups whose id statistics contain the id are read
(one call per file; the row groups' bounds come from the day's sidecar, see bounds.py, or
else from the file's footer), and the rows are cut to the exact ranges with a binary search on
the composite key (id << 32 | time), by which each file is ordered. Fresh batch files (not yet
compacted, small) are read whole and filtered. The result is a superset-free slice: exactly the
stored rows that fall in the ranges, possibly with duplicates across files, which the queries'
DISTINCT absorbs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fangkong.lake import bounds
from fangkong.lake.layout import DAY_SECONDS, MAX_TS, DayFiles, Lake, TableSpec, day_of, day_start
from fangkong.lake.layout import sort_key as composite

_THREADS = max(1, min(4, os.cpu_count() or 1))
_NO_GROUPS: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0, np.int64))
T = TypeVar("T")
_POOL: dict[str, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """Reading files in parallel: Arrow decodes without the GIL. Made once per process."""
    if "pool" not in _POOL:
        _POOL["pool"] = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="lake-read")
    return _POOL["pool"]


# (ids, time_lo, time_hi) arrays of the ranges a file is asked for
_Ranges = tuple[np.ndarray, np.ndarray, np.ndarray]
# per row group of a sorted file: min and max of its sort column
_Bounds = tuple[np.ndarray, np.ndarray]
# file, sorted (else a fresh batch), ranges, bounds from the day's sidecar when it has one
_Task = tuple[Path, bool, _Ranges, _Bounds | None]

# Per process, keyed by path and checked against the file's mtime (a day dropped and written
# again reuses names): parsed footers (not open handles: a worker would hold thousands of file
# descriptors), row-group bounds taken from footers, and the days' sidecars.
_CACHE_LIMIT = 4096
_META: dict[Path, tuple[float, pq.FileMetaData]] = {}
_BOUNDS: dict[Path, tuple[float, _Bounds]] = {}
_SIDECARS: dict[Path, tuple[float, dict[int, _Bounds]]] = {}


def _cached(cache: dict[Path, tuple[float, T]], path: Path, make: Callable[[], T]) -> T:
    mtime = path.stat().st_mtime
    hit = cache.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    value = make()
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[path] = (mtime, value)
    return value


def _metadata(path: Path) -> pq.FileMetaData:
    return _cached(_META, path, lambda: pq.read_metadata(path))


def _open(path: Path) -> pq.ParquetFile:
    """The file, with its footer parsed once per process."""
    hit = _META.get(path)
    if hit is not None and hit[0] == path.stat().st_mtime:
        return pq.ParquetFile(path, metadata=hit[1])
    handle = pq.ParquetFile(path)
    _cached(_META, path, lambda: handle.metadata)
    return handle


def _footer_bounds(path: Path, column: str) -> _Bounds:
    return _cached(_BOUNDS, path, lambda: bounds.row_group_bounds(_metadata(path), column))


def _sidecar(path: Path) -> dict[int, _Bounds]:
    return _cached(_SIDECARS, path, lambda: bounds.read_index(path))


def _ranges_mask(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Rows (of sorted composite keys) inside any of the closed ranges [lo, hi]."""
    starts = np.searchsorted(keys, lo, side="left")
    ends = np.searchsorted(keys, hi, side="right")
    size = len(keys) + 1
    marks = np.bincount(starts, minlength=size) - np.bincount(ends, minlength=size)
    inside: np.ndarray = np.cumsum(marks[:-1]) > 0
    return inside


def spans(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The concatenation of range(first[i], last[i]) for every i, without a Python loop."""
    counts = np.maximum(last - first, 0)
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    out: np.ndarray = np.arange(total, dtype=np.int64) + np.repeat(first - offsets, counts)
    return out


def _read_sorted(
    path: Path, spec: TableSpec, column: str, want: _Ranges, known: _Bounds | None
) -> pa.Table:
    ids, lo, hi = want
    group_lo, group_hi = known if known is not None else _footer_bounds(path, column)
    first = np.searchsorted(group_hi, ids, side="left")
    last = np.searchsorted(group_lo, ids, side="right")
    groups = np.unique(spans(first, last)).tolist()
    if not groups:
        return spec.schema.empty_table()
    with _open(path) as handle:
        table = handle.read_row_groups(groups, columns=spec.schema.names, use_threads=False)
    keys = composite(table.column(column).to_numpy(), table.column(spec.time).to_numpy())
    mask = _ranges_mask(keys, composite(ids, lo), composite(ids, hi))
    return table.filter(pa.array(mask))


def _read_batch(path: Path, spec: TableSpec, column: str, want: _Ranges) -> pa.Table:
    ids, lo, hi = want
    table = pq.read_table(path, schema=spec.schema)
    found = table.column(column).to_numpy()
    times = table.column(spec.time).to_numpy()
    order = np.argsort(composite(found, times), kind="stable")
    table = table.take(pa.array(order))
    keys = composite(found[order], times[order])
    return table.filter(pa.array(_ranges_mask(keys, composite(ids, lo), composite(ids, hi))))


def read_ranges(
    lake: Lake,
    spec: TableSpec,
    *,
    by_person: bool,
    ranges: Iterable[tuple[int, int, int]],
) -> pa.Table:
    """Rows of `spec` whose (id, time) lies in one of the ranges (id, time_lo, time_hi).

    The id is person_id when `by_person`, else the table's place column (venue or cell).
    """
    column = "person_id" if by_person else spec.place
    per_day: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for ident, time_lo, time_hi in ranges:
        lo, hi = max(time_lo, 0), min(time_hi, MAX_TS)
        if hi < lo:
            continue
        for day in range(day_of(lo), day_of(hi) + 1):
            start = day_start(day)
            per_day[day].append((ident, max(lo, start), min(hi, start + DAY_SECONDS - 1)))
    tasks: list[_Task] = []
    for day, items in per_day.items():
        files = lake.day_files(spec, day)
        if files is None:
            continue
        arr = np.array(items, dtype=np.int64)
        tasks.extend(_day_tasks(files, by_person, arr))
    if not tasks:
        return spec.schema.empty_table()

    def run(task: _Task) -> pa.Table:
        path, sorted_file, want, known = task
        if sorted_file:
            return _read_sorted(path, spec, column, want, known)
        return _read_batch(path, spec, column, want)

    parts = [run(task) for task in tasks] if len(tasks) <= 2 else list(_pool().map(run, tasks))
    return pa.concat_tables([p.cast(spec.schema) for p in parts])


def _day_tasks(files: DayFiles, by_person: bool, arr: np.ndarray) -> list[_Task]:
    tasks: list[_Task] = []
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    arr = arr[order]
    if files.buckets:
        kind = "person" if by_person else "place"
        sorted_files = files.person_files if by_person else files.place_files
        sidecar = _sidecar(files.indexes[kind]) if kind in files.indexes else None
        which = arr[:, 0] % files.buckets
        for bucket in np.unique(which).tolist():
            part = arr[which == bucket]
            known = None if sidecar is None else sidecar.get(bucket, _NO_GROUPS)
            tasks.append((sorted_files[bucket], True, (part[:, 0], part[:, 1], part[:, 2]), known))
    for path in files.batch_files:
        tasks.append((path, False, (arr[:, 0], arr[:, 1], arr[:, 2]), None))
    return tasks


def read_all(paths: Iterable[Path], spec: TableSpec) -> pa.Table:
    """Every row of the given lake files (used for small inputs and for Spark parity)."""
    parts = [pq.read_table(p, schema=spec.schema) for p in paths]
    return pa.concat_tables(parts) if parts else spec.schema.empty_table()


def distinct_ids(table: pa.Table, column: str) -> list[int]:
    return [int(v) for v in pc.unique(table.column(column)).to_pylist()]
