"""Where the lake's files live and how they are written. Pure file code: no ORM.

```
<lake>/checkins/day=2026-11-29/_manifest.json
                              place-g3-0.parquet ... place-g3-{B-1}.parquet   (venue_id, ts order)
                              person-g3-0.parquet ... person-g3-{B-1}.parquet (person_id, ts order)
                              batch-<uuid>.parquet                            (fresh, unsorted)
<lake>/dwell/day=.../          the same, with cell_id and start_ts
```

A day is a city day (Asia/Shanghai, UTC+8 without daylight saving): the partition of a record
is the local day of its time (`ts`, or `start_ts` for a dwell interval). Ingest writes each
batch as a new `batch-*.parquet` (atomic rename, fsynced). Compaction folds a day's files into
one generation of bucketed files: rows are deduplicated, split into B buckets by `key % B`,
and each bucket is written twice, sorted by (place, time) and by (person, time), in small row
groups whose min/max statistics let the engine read only the groups it needs; those bounds are
also written once per generation and order as a small sidecar (`place-g3.index.npy`), so a
query learns which row groups to read without parsing the footers. The manifest,
written last by rename, names the generation and the batch files it consumed; readers use the
manifest's generation plus the batch files it does not list, so a compaction never shows a
reader a half-written day (at worst a record twice, which the queries' DISTINCT absorbs).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.lake import bounds

DAY_SECONDS = 86_400
# City days: Asia/Shanghai is UTC+8 all year (no daylight saving since 1991).
DAY_OFFSET = 8 * 3600
# A dwell interval is at most one day long (ingest refuses longer ones), so the intervals that
# overlap a time lie in its day's partition or the one before.
MAX_DWELL_SECONDS = DAY_SECONDS
# Identities and times must fit the engine's composite sort keys: id << 32 | time.
MAX_ID = 2**31 - 1
MAX_TS = 2**32 - 1

ROW_GROUP_ROWS = 4096  # small groups: a venue-day (~500 scans) spans one or two of them
FILE_ROWS = 400_000  # rows per bucket file: small footers, cheap to open
# Every column is an integer and the files are sorted: delta encoding, bit-packed, takes less
# room than zstd over dictionary pages (about 45 % less) and decodes about twice as fast,
# which is most of what a co-presence query spends (it reads hundreds of small row groups).
ENCODING = "DELTA_BINARY_PACKED"


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema
    place: str  # venue_id or cell_id
    time: str  # ts or start_ts


CHECKINS = TableSpec(
    "checkins",
    pa.schema([("person_id", pa.int64()), ("venue_id", pa.int64()), ("ts", pa.int64())]),
    place="venue_id",
    time="ts",
)
DWELL = TableSpec(
    "dwell",
    pa.schema(
        [
            ("person_id", pa.int64()),
            ("cell_id", pa.int64()),
            ("start_ts", pa.int64()),
            ("end_ts", pa.int64()),
        ]
    ),
    place="cell_id",
    time="start_ts",
)
TABLES = {spec.name: spec for spec in (CHECKINS, DWELL)}


def day_of(ts: int) -> int:
    """The city-day number (days since 1970-01-01 local) of an epoch second."""
    return (ts + DAY_OFFSET) // DAY_SECONDS


def days_of(ts: np.ndarray) -> np.ndarray:
    return (ts + DAY_OFFSET) // DAY_SECONDS


def day_start(day: int) -> int:
    """The epoch second at which a city day begins."""
    return day * DAY_SECONDS - DAY_OFFSET


def day_label(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def day_from_label(label: str) -> int:
    return (dt.date.fromisoformat(label) - dt.date(1970, 1, 1)).days


def day_of_date(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class DayFiles:
    """The files a reader uses for one day of one table."""

    day: int
    generation: int
    buckets: int
    place_files: list[Path] = field(default_factory=list)  # index = bucket
    person_files: list[Path] = field(default_factory=list)
    batch_files: list[Path] = field(default_factory=list)
    rows: int = 0  # in the compacted generation
    # the generation's row-group bounds (see write_index), when present: kind -> sidecar
    indexes: dict[str, Path] = field(default_factory=dict)

    @property
    def all_rows_files(self) -> list[Path]:
        """One full copy of the day's rows (place-ordered buckets plus fresh batches)."""
        return [*self.place_files, *self.batch_files]


class Lake:
    """A lake directory: `checkins/` and `dwell/`, each partitioned by city day."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    def table_dir(self, spec: TableSpec) -> Path:
        return self.root / spec.name

    def day_dir(self, spec: TableSpec, day: int) -> Path:
        return self.table_dir(spec) / f"day={day_label(day)}"

    def days(self, spec: TableSpec) -> list[int]:
        """The days that have a partition, ascending."""
        base = self.table_dir(spec)
        if not base.is_dir():
            return []
        found = []
        for entry in base.iterdir():
            if entry.is_dir() and entry.name.startswith("day="):
                try:
                    found.append(day_from_label(entry.name.removeprefix("day=")))
                except ValueError:
                    continue
        return sorted(found)

    def day_files(self, spec: TableSpec, day: int) -> DayFiles | None:
        folder = self.day_dir(spec, day)
        if not folder.is_dir():
            return None
        manifest = _read_manifest(folder)
        generation = int(manifest.get("generation", 0))
        buckets = int(manifest.get("buckets", 0))
        consumed = set(manifest.get("consumed", []))
        names = os.listdir(folder)
        batches = sorted(
            folder / n
            for n in names
            if n.startswith("batch-") and n.endswith(".parquet") and n not in consumed
        )
        indexes = {
            kind: folder / bounds.index_name(kind, generation)
            for kind in ("place", "person")
            if buckets and bounds.index_name(kind, generation) in names
        }
        return DayFiles(
            day=day,
            generation=generation,
            buckets=buckets,
            place_files=generation_files(folder, "place", generation, buckets),
            person_files=generation_files(folder, "person", generation, buckets),
            batch_files=batches,
            rows=int(manifest.get("rows", 0)),
            indexes=indexes,
        )

    def all_files(self, spec: TableSpec, first_day: int, last_day: int) -> list[Path]:
        """One full copy of the rows of the days in [first_day, last_day]."""
        files: list[Path] = []
        for day in self.days(spec):
            if first_day <= day <= last_day and (found := self.day_files(spec, day)):
                files.extend(found.all_rows_files)
        return files

    # --- writing -------------------------------------------------------------------------

    def write_batch(self, spec: TableSpec, table: pa.Table) -> list[Path]:
        """Append validated rows as one new batch file per city day; return the files."""
        table = table.select(spec.schema.names).cast(spec.schema)
        days = days_of(table.column(spec.time).to_numpy())
        written = []
        for day in np.unique(days):
            part = table.filter(pa.array(days == day))
            folder = self.day_dir(spec, int(day))
            folder.mkdir(parents=True, exist_ok=True)
            written.append(_write_atomic(folder / f"batch-{uuid.uuid4().hex}.parquet", part))
        return written

    def compact_day(self, spec: TableSpec, day: int) -> int:
        """Fold a day's files into a new generation; return the rows it holds."""
        folder = self.day_dir(spec, day)
        if not folder.is_dir():
            return 0
        with _locked(folder):
            return self._compact_locked(spec, day, folder)

    def _compact_locked(self, spec: TableSpec, day: int, folder: Path) -> int:
        current = self.day_files(spec, day)
        if current is None:
            return 0
        sources = [p for p in current.all_rows_files if p.exists()]
        if not current.batch_files and current.buckets:
            for kind, first, files in (  # a generation from before the sidecars
                ("place", spec.place, current.place_files),
                ("person", "person_id", current.person_files),
            ):
                bounds.write_index(
                    folder, kind, current.generation, files=files, column=first, missing_only=True
                )
            return current.rows
        table = _distinct(spec, [pq.read_table(p, schema=spec.schema) for p in sources])
        consumed = sorted(p.name for p in current.batch_files)
        return self._write_generation(spec, folder, current.generation + 1, table, consumed)

    def write_day(self, spec: TableSpec, day: int, table: pa.Table) -> int:
        """Write a whole day as a compacted generation (bulk loads: the synthetic city, large
        imports). The rows join what the day already holds; they should be distinct."""
        folder = self.day_dir(spec, day)
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):
            current = self.day_files(spec, day)
            if current is not None and (current.buckets or current.batch_files):
                old = [pq.read_table(p, schema=spec.schema) for p in current.all_rows_files]
                table = _distinct(spec, [*old, table.cast(spec.schema)])
                consumed = sorted(p.name for p in current.batch_files)
                generation = current.generation + 1
            else:
                consumed, generation = [], 1
            return self._write_generation(spec, folder, generation, table, consumed)

    def _write_generation(
        self, spec: TableSpec, folder: Path, generation: int, table: pa.Table, consumed: list[str]
    ) -> int:
        table = table.select(spec.schema.names).cast(spec.schema)
        buckets = max(1, math.ceil(table.num_rows / FILE_ROWS))
        for kind, first in (("place", spec.place), ("person", "person_id")):
            files = generation_files(folder, kind, generation, buckets)
            for path, part in zip(files, _buckets(table, first, spec.time, buckets), strict=True):
                _write_atomic(path, part)
            bounds.write_index(folder, kind, generation, files=files, column=first)
        _write_manifest(
            folder,
            {
                "generation": generation,
                "buckets": buckets,
                "rows": table.num_rows,
                "consumed": consumed,
            },
        )
        # The new manifest is in place: what it superseded can go.
        keep = (
            f"place-g{generation}-",
            f"person-g{generation}-",
            bounds.index_name("place", generation),
            bounds.index_name("person", generation),
        )
        for path in [*folder.glob("*.parquet"), *folder.glob(f"*{bounds.INDEX_SUFFIX}")]:
            stale_gen = path.name.startswith(("place-g", "person-g")) and not path.name.startswith(
                keep
            )
            if stale_gen or path.name in consumed:
                path.unlink(missing_ok=True)
        _write_manifest(
            folder,
            {"generation": generation, "buckets": buckets, "rows": table.num_rows, "consumed": []},
        )
        return int(table.num_rows)

    def drop_day(self, spec: TableSpec, day: int) -> bool:
        """Remove a day's partition: renamed away first, so no reader sees half of it."""
        folder = self.day_dir(spec, day)
        if not folder.is_dir():
            return False
        trash = folder.with_name(f".trash-{folder.name}-{uuid.uuid4().hex}")
        folder.rename(trash)
        shutil.rmtree(trash)
        return True


def _distinct(spec: TableSpec, tables: list[pa.Table]) -> pa.Table:
    if not tables:
        return spec.schema.empty_table()
    merged = pa.concat_tables(tables).cast(spec.schema)
    return (
        merged.group_by(spec.schema.names, use_threads=False)
        .aggregate([])
        .select(spec.schema.names)
    )


def generation_files(folder: Path, kind: str, generation: int, buckets: int) -> list[Path]:
    """The bucket files of one order ("place" or "person") of a generation, by bucket."""
    return [folder / f"{kind}-g{generation}-{b}.parquet" for b in range(buckets)]


def sort_key(first: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The composite key (id << 32 | time) by which the lake's files are ordered."""
    return (np.asarray(first, dtype=np.int64) << 32) | np.asarray(time, dtype=np.int64)


def _buckets(table: pa.Table, first: str, time: str, buckets: int) -> Iterator[pa.Table]:
    """The table split by `first % buckets`, each part ordered by (first, time)."""
    ids = table.column(first).to_numpy()
    key = sort_key(ids, table.column(time).to_numpy())
    grouped = np.argsort(ids % buckets, kind="stable")  # a radix sort of small integers
    bounds = np.searchsorted((ids % buckets)[grouped], np.arange(buckets + 1))
    for bucket in range(buckets):
        rows = grouped[bounds[bucket] : bounds[bucket + 1]]
        order = rows[np.argsort(key[rows])]
        yield table.take(pa.array(order))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One compaction of a day at a time (ingest needs no lock: it only adds new files)."""
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_atomic(path: Path, table: pa.Table) -> Path:
    tmp = path.with_name(f".tmp-{path.name}")
    pq.write_table(
        table,
        tmp,
        row_group_size=ROW_GROUP_ROWS,
        compression="none",
        use_dictionary=False,
        column_encoding=dict.fromkeys(table.column_names, ENCODING),
        write_statistics=True,
    )
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads((folder / "_manifest.json").read_text())
    except FileNotFoundError:
        return {}
    return loaded


def _write_manifest(folder: Path, content: dict[str, Any]) -> None:
    tmp = folder / ".tmp-_manifest.json"
    tmp.write_text(json.dumps(content, sort_keys=True))
    os.replace(tmp, folder / "_manifest.json")
    _fsync_dir(folder)
