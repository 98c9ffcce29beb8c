"""The co-presence engine: pure functions over the lake's Parquet files (or plain csv/Parquet
files), no ORM. Tracing calls it with the cases' infectious windows and maps the rulebook to its
arguments; the `fangkong tracing copresence` command runs it on plain files.

Venue co-presence: a pair of check-ins, one of the case's made within the case's window and one
of another person's at the same venue no more than the window apart (both ends included; the
window may differ by venue). One result per (case, person): the earliest pair ordered by
case_ts then contact_ts (then venue_id), `encounters` = the number of pairs.

Cell-grid co-presence: a person whose dwell intervals overlap the case's (clipped to the case's
window) in the same 800 m cell for more than `min_overlap_seconds` in total, and, when the
cumulative-stay rule is on, where the case or the person stayed in that cell more than
`cumulative_seconds` within `cumulative_lookback_seconds` before the end of the case's window.

Backends: "duckdb" (default) reads only the slices of a lake that can matter and runs the query
in-process (a venue query over a small slice runs on numpy instead, see inmemory.py); "spark" runs the same SQL text on Apache Spark over the partitions themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fangkong.lake import inmemory, queries, slicing
from fangkong.lake.layout import (
    CHECKINS,
    DAY_SECONDS,
    DWELL,
    MAX_DWELL_SECONDS,
    Lake,
    TableSpec,
    day_of,
)

Backend = Literal["duckdb", "spark"]
Source = Lake | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

DEFAULT_WINDOW_SECONDS = 1800
DEFAULT_MIN_OVERLAP_SECONDS = 600
DEFAULT_CUMULATIVE_SECONDS = 30 * 3600
DEFAULT_LOOKBACK_SECONDS = 14 * DAY_SECONDS


class CaseWindow(NamedTuple):
    """A case and its infectious window, in epoch seconds (both ends included)."""

    case_person_id: int
    window_start: int
    window_end: int


class VenueCopresence(NamedTuple):
    case_person_id: int
    person_id: int
    venue_id: int
    case_ts: int
    contact_ts: int
    encounters: int
    min_gap_seconds: int  # the closest pair: |contact_ts - case_ts|


class CellCopresence(NamedTuple):
    case_person_id: int
    person_id: int
    cell_id: int  # the cell of the longest shared stay
    overlap_start: int  # the earliest qualifying overlap began
    shared_seconds: int  # total over the qualifying cells
    cells: int
    cumulative_seconds: int  # the larger cumulative stay of the two in `cell_id`


def lake_root() -> Lake:
    """The platform's lake (settings.LAKE_DIR)."""
    from django.conf import settings

    return Lake(settings.LAKE_DIR)


def _cases_table(cases: Iterable[CaseWindow]) -> pa.Table:
    items = list(cases)
    return pa.table(
        {
            "case_person_id": pa.array([c.case_person_id for c in items], pa.int64()),
            "window_start": pa.array([c.window_start for c in items], pa.int64()),
            "window_end": pa.array([c.window_end for c in items], pa.int64()),
        }
    )


def _plain_paths(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            paths.extend(
                sorted(
                    p for p in path.rglob("*") if p.suffix in {".parquet", ".csv"} and p.is_file()
                )
            )
        else:
            paths.append(path)
    return paths


def read_plain(paths: Sequence[Path], spec: TableSpec) -> pa.Table:
    """csv or Parquet files with the table's columns (extra columns ignored) as one table."""
    parts = []
    for path in paths:
        try:
            parts.append(_read_one(path, spec))
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{path} cannot be read as {spec.name}: {exc}") from exc
    return pa.concat_tables(parts) if parts else spec.schema.empty_table()


def _read_one(path: Path, spec: TableSpec) -> pa.Table:
    if path.suffix == ".csv":
        options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(spec.schema.names, pa.int64()),
            include_columns=spec.schema.names,
        )
        part = pacsv.read_csv(path, convert_options=options)
    else:
        part = pq.read_table(path, columns=spec.schema.names)
    if any(part.column(n).null_count for n in spec.schema.names):
        raise pa.ArrowInvalid("empty cells")
    return part.select(spec.schema.names).cast(spec.schema)


def _as_lake(source: Source) -> Lake | None:
    if isinstance(source, Lake):
        return source
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if (path / CHECKINS.name).is_dir() or (path / DWELL.name).is_dir():
            return Lake(path)
    return None


def _venue_windows_table(venue_windows: Mapping[int, int] | None) -> pa.Table:
    items = dict(venue_windows or {})
    return pa.table(
        {
            "venue_id": pa.array(list(items), pa.int64()),
            "window_seconds": pa.array(list(items.values()), pa.int64()),
        }
    )


def _checkin_slice(
    lake: Lake, cases: Sequence[CaseWindow], window: int, venue_windows: Mapping[int, int]
) -> pa.Table:
    own = slicing.read_ranges(
        lake,
        CHECKINS,
        by_person=True,
        ranges=[(c.case_person_id, c.window_start, c.window_end) for c in cases],
    )
    venues = own.column("venue_id").to_numpy()
    times = own.column("ts").to_numpy()
    ranges = []
    for venue, ts in zip(venues.tolist(), times.tolist(), strict=True):
        win = venue_windows.get(venue, window)
        ranges.append((venue, ts - win, ts + win))
    around = slicing.read_ranges(lake, CHECKINS, by_person=False, ranges=ranges)
    return pa.concat_tables([own, around])


def venue_copresence(
    source: Source,
    cases: Iterable[CaseWindow],
    *,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    venue_windows: Mapping[int, int] | None = None,
    backend: Backend = "duckdb",
    exclude: Mapping[int, set[int]] | None = None,
    spark: Any = None,
) -> list[VenueCopresence]:
    """Who scanned the same venue as a case within the window of one of the case's scans.

    `source`: a Lake, a lake directory, or csv/Parquet files (or directories of them) with
    person_id, venue_id, ts. `venue_windows`: venue_id -> window seconds where a venue type
    allows a different dwell. `exclude`: case -> person ids already linked (left out).
    Results come ordered by case, then person.
    """
    items = list(cases)
    if not items:
        return []
    sql = queries.venue_sql(window_seconds=window_seconds)
    relations: dict[str, Any] = {
        "cases": _cases_table(items),
        "venue_windows": _venue_windows_table(venue_windows),
    }
    lake = _as_lake(source)
    if backend == "spark":
        if lake is not None:
            widest = max([window_seconds, *(venue_windows or {}).values()])
            first = day_of(max(0, min(c.window_start for c in items) - widest))
            last = day_of(max(c.window_end for c in items) + widest)
            relations["checkins"] = (
                lake.all_files(CHECKINS, first, last) or CHECKINS.schema.empty_table()
            )
        else:
            relations["checkins"] = read_plain(_plain_paths(source), CHECKINS)  # type: ignore[arg-type]
        result = queries.run_spark(sql, relations, spark=spark)
    else:
        if lake is not None:
            relations["checkins"] = _checkin_slice(lake, items, window_seconds, venue_windows or {})
        else:
            relations["checkins"] = read_plain(_plain_paths(source), CHECKINS)  # type: ignore[arg-type]
        small = inmemory.venue_pairs(
            relations["checkins"],
            items,
            window_seconds=window_seconds,
            venue_windows=venue_windows or {},
            max_pairs=inmemory.MAX_PAIRS,
        )
        result = small if small is not None else queries.run_duckdb(sql, relations)
    rows = list(map(VenueCopresence._make, _columns(result, queries.VENUE_COLUMNS)))
    return _excluded(rows, exclude)


def _columns(result: pa.Table, names: Sequence[str]) -> Iterator[tuple[int, ...]]:
    """The result's rows as tuples of Python ints (numpy's tolist converts in C)."""
    columns = [result.column(n).to_numpy().astype("int64").tolist() for n in names]
    return zip(*columns, strict=True)


_Row = TypeVar("_Row", VenueCopresence, CellCopresence)


def _excluded(rows: list[_Row], exclude: Mapping[int, set[int]] | None) -> list[_Row]:
    if not exclude:
        return rows
    return [r for r in rows if r.person_id not in exclude.get(r.case_person_id, set())]


def _dwell_slice(lake: Lake, cases: Sequence[CaseWindow], lookback: int) -> pa.Table:
    own = slicing.read_ranges(
        lake,
        DWELL,
        by_person=True,
        ranges=[
            (c.case_person_id, c.window_start - MAX_DWELL_SECONDS, c.window_end) for c in cases
        ],
    )
    window_of = {c.case_person_id: c for c in cases}
    ranges = []
    persons = own.column("person_id").to_pylist()
    cells = own.column("cell_id").to_pylist()
    for person, cell in set(zip(persons, cells, strict=True)):
        case = window_of[person]
        first = min(case.window_start, case.window_end - lookback) - MAX_DWELL_SECONDS
        ranges.append((cell, first, case.window_end))
    around = slicing.read_ranges(lake, DWELL, by_person=False, ranges=ranges)
    return pa.concat_tables([own, around])


def cell_copresence(
    source: Source,
    cases: Iterable[CaseWindow],
    *,
    min_overlap_seconds: int = DEFAULT_MIN_OVERLAP_SECONDS,
    cumulative_seconds: int | None = DEFAULT_CUMULATIVE_SECONDS,
    cumulative_lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    backend: Backend = "duckdb",
    exclude: Mapping[int, set[int]] | None = None,
    spark: Any = None,
) -> list[CellCopresence]:
    """Who shared an 800 m cell with a case for more than `min_overlap_seconds` within the
    case's window, under the cumulative-stay rule (`cumulative_seconds=None` turns it off).

    `source`: a Lake, a lake directory, or csv/Parquet files with person_id, cell_id,
    start_ts, end_ts. Results come ordered by case, then person.
    """
    items = list(cases)
    if not items:
        return []
    sql = queries.cell_sql(
        min_overlap_seconds=min_overlap_seconds,
        cumulative_seconds=cumulative_seconds,
        lookback=cumulative_lookback_seconds,
    )
    relations: dict[str, Any] = {"cases": _cases_table(items)}
    lake = _as_lake(source)
    if backend == "spark":
        if lake is not None:
            first = day_of(
                max(
                    0,
                    min(
                        min(c.window_start, c.window_end - cumulative_lookback_seconds)
                        for c in items
                    )
                    - MAX_DWELL_SECONDS,
                )
            )
            last = day_of(max(c.window_end for c in items))
            relations["dwell"] = lake.all_files(DWELL, first, last) or DWELL.schema.empty_table()
        else:
            relations["dwell"] = read_plain(_plain_paths(source), DWELL)  # type: ignore[arg-type]
        result = queries.run_spark(sql, relations, spark=spark)
    else:
        if lake is not None:
            relations["dwell"] = _dwell_slice(lake, items, cumulative_lookback_seconds)
        else:
            relations["dwell"] = read_plain(_plain_paths(source), DWELL)  # type: ignore[arg-type]
        result = queries.run_duckdb(sql, relations)
    rows = list(map(CellCopresence._make, _columns(result, queries.CELL_COLUMNS)))
    return _excluded(rows, exclude)


def exposure_score(
    row: VenueCopresence, *, window_seconds: int, venue_weight: float = 1.0
) -> float:
    """How strongly a venue co-presence exposes the person: more pairs, closer in time, and a
    riskier venue type (weight from the caller, e.g. 1.5 for an enclosed dining room) rank
    higher. Used to order candidates for the investigator, not to decide."""
    closeness = 1.0 - min(row.min_gap_seconds, window_seconds) / max(window_seconds, 1)
    return venue_weight * (row.encounters + closeness)


def rank_venue(
    rows: Iterable[VenueCopresence],
    *,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    venue_weights: Mapping[int, float] | None = None,
) -> list[VenueCopresence]:
    """Candidates ordered by exposure, strongest first (ties: earlier pair, lower person id)."""
    weights = venue_weights or {}
    return sorted(
        rows,
        key=lambda r: (
            -exposure_score(
                r, window_seconds=window_seconds, venue_weight=weights.get(r.venue_id, 1.0)
            ),
            r.case_ts,
            r.contact_ts,
            r.person_id,
        ),
    )


def rank_cell(rows: Iterable[CellCopresence]) -> list[CellCopresence]:
    """Cell-grid candidates ordered by shared time, longest first."""
    return sorted(rows, key=lambda r: (-r.shared_seconds, r.overlap_start, r.person_id))
