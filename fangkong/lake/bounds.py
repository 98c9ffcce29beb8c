"""Row-group bounds of the lake's sorted files: which row groups can hold an id.

Each compacted generation writes, per order ("place", "person"), a sidecar `<kind>-g<N>.index.npy`
beside its bucket files: an int64 array of shape (3, row groups of all buckets) holding the
bucket, and the min and max of the sort column of each row group, bucket by bucket in row-group
order. A query reads one small array per day instead of parsing a footer per file and walking
its row groups in Python. A generation written before sidecars existed has none; readers then
take the bounds from the footers, and the next compaction run writes the missing sidecar.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

INDEX_SUFFIX = ".index.npy"


def index_name(kind: str, generation: int) -> str:
    return f"{kind}-g{generation}{INDEX_SUFFIX}"


def row_group_bounds(meta: pq.FileMetaData, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row group of a lake file: the min and max of its sort column (from the footer)."""
    position = meta.schema.names.index(column)
    groups = meta.num_row_groups
    lo = np.empty(groups, dtype=np.int64)
    hi = np.empty(groups, dtype=np.int64)
    for i in range(groups):
        stats = meta.row_group(i).column(position).statistics
        lo[i], hi[i] = stats.min, stats.max
    return lo, hi


def write_index(
    folder: Path,
    kind: str,
    generation: int,
    *,
    files: list[Path],
    column: str,
    missing_only: bool = False,
) -> None:
    """Write the sidecar of one order of a generation (`files`: its bucket files, by bucket)
    from their footers, atomically."""
    target = folder / index_name(kind, generation)
    if missing_only and target.exists():
        return
    parts = [np.empty((3, 0), np.int64)]
    for bucket, path in enumerate(files):
        lo, hi = row_group_bounds(pq.read_metadata(path), column)
        parts.append(np.stack([np.full(len(lo), bucket, dtype=np.int64), lo, hi]))
    tmp = folder / f".tmp-{target.name}"
    with open(tmp, "wb") as handle:
        np.save(handle, np.concatenate(parts, axis=1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_index(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """A sidecar as bucket -> (row-group mins, maxes)."""
    table = np.load(path, allow_pickle=False)
    buckets, lo, hi = table[0], table[1], table[2]
    edges = np.flatnonzero(np.diff(buckets)) + 1
    starts = np.concatenate([[0], edges]).tolist()
    ends = [*edges.tolist(), len(buckets)]
    return {int(buckets[a]): (lo[a:b], hi[a:b]) for a, b in zip(starts, ends, strict=True) if b > a}
