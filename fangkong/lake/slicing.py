"""Reading only the slices of the lake that a query needs.

A request is a set of key ranges: (id, time_lo, time_hi) on an id column (person, venue or cell)
and the table's time column. For each day the ranges touch, a range goes to the bucket file of
its id (`id % B`); in that file only the row groups whose id statistics contain the id are read
(one call per file), and the rows are cut to the exact ranges with a binary search on the
composite key (id << 32 | time), by which each file is ordered. Fresh batch files (not yet
compacted, small) are read whole and filtered. The result is a superset-free slice: exactly the
stored rows that fall in the ranges, possibly with duplicates across files, which the queries'
DISTINCT absorbs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fangkong.lake.layout import DAY_SECONDS, MAX_TS, DayFiles, Lake, TableSpec, day_of, day_start
from fangkong.lake.layout import sort_key as composite

_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: dict[str, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """Reading files in parallel: Arrow decodes without the GIL. Made once per process."""
    if "pool" not in _POOL:
        _POOL["pool"] = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="lake-read")
    return _POOL["pool"]


@dataclass(frozen=True)
class _FileIndex:
    file: pq.ParquetFile
    lo: np.ndarray  # per row group: min of the first sort column
    hi: np.ndarray
    mtime: float


# (ids, time_lo, time_hi) arrays of the ranges a file is asked for
_Ranges = tuple[np.ndarray, np.ndarray, np.ndarray]
_Task = tuple[Path, bool, _Ranges]

_INDEX_CACHE: dict[Path, _FileIndex] = {}
_CACHE_LIMIT = 4096


def _index(path: Path, column: str) -> _FileIndex:
    mtime = path.stat().st_mtime
    cached = _INDEX_CACHE.get(path)
    if cached is not None and cached.mtime == mtime:
        return cached
    handle = pq.ParquetFile(path)
    meta = handle.metadata
    position = meta.schema.names.index(column)
    groups = meta.num_row_groups
    lo = np.empty(groups, dtype=np.int64)
    hi = np.empty(groups, dtype=np.int64)
    for i in range(groups):
        stats = meta.row_group(i).column(position).statistics
        lo[i], hi[i] = stats.min, stats.max
    if len(_INDEX_CACHE) >= _CACHE_LIMIT:
        _INDEX_CACHE.clear()
    made = _FileIndex(handle, lo, hi, mtime)
    _INDEX_CACHE[path] = made
    return made


def _ranges_mask(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Rows (of sorted composite keys) inside any of the closed ranges [lo, hi]."""
    starts = np.searchsorted(keys, lo, side="left")
    ends = np.searchsorted(keys, hi, side="right")
    marks = np.zeros(len(keys) + 1, dtype=np.int32)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    return np.cumsum(marks[:-1]) > 0


def _read_sorted(path: Path, spec: TableSpec, column: str, want: _Ranges) -> pa.Table:
    ids, lo, hi = want
    index = _index(path, column)
    first = np.searchsorted(index.hi, ids, side="left")
    last = np.searchsorted(index.lo, ids, side="right")
    wanted: set[int] = set()
    for a, b in zip(first.tolist(), last.tolist(), strict=True):
        wanted.update(range(a, b))
    if not wanted:
        return spec.schema.empty_table()
    table = index.file.read_row_groups(sorted(wanted), columns=spec.schema.names, use_threads=False)
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
        path, sorted_file, want = task
        reader = _read_sorted if sorted_file else _read_batch
        return reader(path, spec, column, want)

    parts = [run(task) for task in tasks] if len(tasks) <= 2 else list(_pool().map(run, tasks))
    return pa.concat_tables([p.cast(spec.schema) for p in parts])


def _day_tasks(files: DayFiles, by_person: bool, arr: np.ndarray) -> list[_Task]:
    tasks: list[_Task] = []
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    arr = arr[order]
    if files.buckets:
        sorted_files = files.person_files if by_person else files.place_files
        which = arr[:, 0] % files.buckets
        for bucket in np.unique(which).tolist():
            part = arr[which == bucket]
            tasks.append((sorted_files[bucket], True, (part[:, 0], part[:, 1], part[:, 2])))
    for path in files.batch_files:
        tasks.append((path, False, (arr[:, 0], arr[:, 1], arr[:, 2])))
    return tasks


def read_all(paths: Iterable[Path], spec: TableSpec) -> pa.Table:
    """Every row of the given lake files (used for small inputs and for Spark parity)."""
    parts = [pq.read_table(p, schema=spec.schema) for p in paths]
    return pa.concat_tables(parts) if parts else spec.schema.empty_table()


def distinct_ids(table: pa.Table, column: str) -> list[int]:
    return [int(v) for v in pc.unique(table.column(column)).to_pylist()]
