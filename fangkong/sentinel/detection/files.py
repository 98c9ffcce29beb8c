"""Plain files in and out of detection: counts.csv (series,date,count) to alarms.csv
(series,date,count,threshold,alarm), for epidemiologists working outside the platform.

Input rules (each broken one is reported as "row R, column C: reason"; nothing is written
while any is broken):
- a header row naming the columns series, date and count (any order, any case; other columns
  are ignored); csv in UTF-8 or GB18030, or an xlsx (its first sheet);
- series: any non-empty text; date: YYYY-MM-DD; count: a whole number >= 0;
- one row per series and date; for EARS every day between a series' first and last date, a
  day without cases given as 0; the same for CUSUM, which also takes a weekly series (all
  dates a multiple of 7 days apart: then every week);
- for farrington, a date stands for its ISO week (Monday to Sunday) and is reported as that
  week's Monday. A series gives either one row per week, or one row per day, summed into its
  week; with daily rows every week must be complete (7 days), a partial week would read as a
  fall. Every week between the first and the last must be present.

Output: one row per evaluated date, series in the order they first appear in the input, dates
ascending; threshold empty where the method gives none; alarm 1 or 0.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from fangkong.core.uploads import KINDS, check_upload, table_rows
from fangkong.sentinel.detection import Evaluation, detect
from fangkong.sentinel.detection.base import DetectionError

MAX_INPUT_BYTES: Final = 256 * 1024 * 1024
MAX_ERRORS: Final = 100
COLUMNS: Final = ("series", "date", "count")
OUTPUT_COLUMNS: Final = ("series", "date", "count", "threshold", "alarm")
WEEKLY_METHODS: Final = frozenset({"farrington"})


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str  # "" when the problem is the row or the series as a whole
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column or '-'}: {self.reason}"


@dataclass
class Counts:
    """The series of a counts file, in their order of first appearance, or the errors."""

    series: dict[str, list[tuple[datetime.date, int]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # (series, date) -> the row it came from, to name rows in later checks
    rows: dict[tuple[str, datetime.date], int] = field(default_factory=dict)

    def fail(self, row: int, column: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, reason))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):  # an xlsx date cell
        if value.time() != datetime.time(0):
            raise ValueError("a date without a time of day is expected (YYYY-MM-DD)")
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if len(text) != 10:
        raise ValueError("not a date (YYYY-MM-DD)")
    return datetime.date.fromisoformat(text)


def _count(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        number = int(value)
    else:
        text = _text(value)
        if not text or not text.lstrip("-").isdigit():
            raise ValueError("not a whole number" if text else "empty")
        number = int(text)
    if number < 0:
        raise ValueError("negative")
    return number


def _header(cells: list[Any]) -> dict[str, int] | None:
    names = [_text(c).lower() for c in cells]
    if not all(col in names for col in COLUMNS):
        return None
    return {col: names.index(col) for col in COLUMNS}


def read_counts(data: bytes | IO[bytes]) -> Counts:
    """The series in a counts file (csv or xlsx). Raises UploadRefused for a file that is not
    a readable table or is larger than MAX_INPUT_BYTES; row problems are in `errors`."""
    kind, raw = check_upload(data, max_bytes=MAX_INPUT_BYTES, allowed=KINDS)
    out = Counts()
    header: dict[str, int] | None = None
    for number, cells in table_rows(raw, kind):
        if not any(_text(c) for c in cells):
            continue  # blank lines
        if header is None:
            header = _header(cells)
            if header is None:
                out.fail(number, "", "the header must name the columns series, date, count")
                return out
            continue
        _read_row(out, number, cells, header)
    if header is None:
        out.fail(1, "", "the file is empty: a header series,date,count is expected")
    return out


def _read_row(out: Counts, number: int, cells: list[Any], header: Mapping[str, int]) -> None:
    def cell(col: str) -> Any:
        i = header[col]
        return cells[i] if i < len(cells) else None

    name = _text(cell("series"))
    if not name:
        out.fail(number, "series", "empty")
    try:
        day = _date(cell("date"))
    except ValueError as exc:
        out.fail(number, "date", f"{_text(cell('date'))!r}: {exc}")
        day = None
    try:
        count = _count(cell("count"))
    except ValueError as exc:
        out.fail(number, "count", f"{_text(cell('count'))!r}: {exc}")
        count = None
    if not name or day is None or count is None:
        return
    first = out.rows.get((name, day))
    if first is not None:
        out.fail(number, "date", f"series {name!r} already has {day} (row {first})")
        return
    out.rows[(name, day)] = number
    out.series.setdefault(name, []).append((day, count))


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def prepare(counts: Counts, *, method: str) -> dict[str, list[tuple[datetime.date, int]]]:
    """Each series as the method takes it: daily and gap-free, or summed into ISO weeks
    labelled by their Monday. Problems are added to counts.errors (series naming its rows)."""
    out: dict[str, list[tuple[datetime.date, int]]] = {}
    weekly = method in WEEKLY_METHODS
    for name, points in counts.series.items():
        ordered: list[tuple[datetime.date, int]] | None = sorted(points)
        if weekly:
            ordered = _weeks(counts, name, sorted(points))
        if ordered is None:
            continue
        step = datetime.timedelta(days=7 if weekly or _weekly_cusum(method, ordered) else 1)
        unit = "day" if step.days == 1 else "week"
        for (prev, _), (cur, _) in itertools.pairwise(ordered):
            if cur - prev != step:
                missing = prev + step
                row = counts.rows.get((name, cur), 0)
                counts.fail(
                    row,
                    "date",
                    f"series {name!r} has no row for the {unit} of {missing} (after {prev}): "
                    f"give every {unit} from the first to the last, 0 when there were no cases",
                )
                break
        else:
            out[name] = ordered
    return out


def _weekly_cusum(method: str, ordered: list[tuple[datetime.date, int]]) -> bool:
    """CUSUM takes a weekly series as well: one whose dates are all a multiple of 7 days apart."""
    return (
        method == "cusum"
        and all((cur - prev).days % 7 == 0 for (prev, _), (cur, _) in itertools.pairwise(ordered))
        and len(ordered) > 1
    )


def _weeks(
    counts: Counts, name: str, ordered: list[tuple[datetime.date, int]]
) -> list[tuple[datetime.date, int]] | None:
    weeks: dict[datetime.date, list[tuple[datetime.date, int]]] = {}
    for day, count in ordered:
        weeks.setdefault(_monday(day), []).append((day, count))
    daily = any(len(days) > 1 for days in weeks.values())
    if daily:
        for monday, days in weeks.items():
            if len(days) != 7:
                row = counts.rows[(name, days[0][0])]
                counts.fail(
                    row,
                    "date",
                    f"series {name!r}: the week of {monday} has {len(days)} of 7 days; "
                    "give whole weeks (Monday to Sunday) or one row per week",
                )
                return None
    return [(monday, sum(c for _, c in days)) for monday, days in weeks.items()]


def run(
    series: Mapping[str, list[tuple[datetime.date, int]]], *, method: str, params: dict[str, Any]
) -> Iterable[tuple[str, Evaluation]]:
    """Evaluations of every series, in order. Raises DetectionError (a bad parameter)."""
    for name, points in series.items():
        try:
            evaluations = detect(points, method=method, **params)
        except DetectionError as exc:
            if exc.code.startswith("detection.param") or exc.code == "detection.method":
                raise
            raise DetectionError(exc.code, f"series {name!r}: {exc.message}") from exc
        for e in evaluations:
            yield name, e


def _threshold(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def write_alarms(path: Path, rows: Iterable[tuple[str, Evaluation]]) -> tuple[int, int]:
    """Write alarms.csv atomically (a temporary file renamed into place, so that a failure
    leaves no partial file). Returns (rows, alarms)."""
    written = alarms = 0
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            for name, e in rows:
                writer.writerow(
                    [name, e.date.isoformat(), e.count, _threshold(e.threshold), int(e.alarm)]
                )
                written += 1
                alarms += e.alarm
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written, alarms
