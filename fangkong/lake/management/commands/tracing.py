"""`fangkong tracing ...`: the co-presence engine and the event lake from the command line.

- `copresence --checkins DIR_OR_FILES --cases CASES.csv [--window SECONDS] --output CANDIDATES.csv`
  runs the engine on plain files (Parquet or csv with person_id,venue_id,ts; a lake directory
  works too). CASES.csv has case_person_id,window_start,window_end (epoch seconds). The output
  has one row per (case, candidate): case_person_id,person_id,venue_id,case_ts,contact_ts,
  encounters, ordered by case, then exposure (most encounters first, then the earliest pair).
- `cells --dwell DIR_OR_FILES --cases CASES.csv [...] --output CANDIDATES.csv`: the cell-grid rule.
- `import-checkins FILE` / `import-dwell FILE`: a csv or Parquet file into the platform's lake.
- `compact`, `retention`: what the daily jobs do, on demand.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.actor import system_actor
from fangkong.core.errors import DomainError
from fangkong.core.uploads import CSV, UploadRefused, check_upload, table_rows
from fangkong.lake import engine, imports, services

VENUE_HEADER = ("case_person_id", "person_id", "venue_id", "case_ts", "contact_ts", "encounters")
CELL_HEADER = (
    "case_person_id",
    "person_id",
    "cell_id",
    "overlap_start",
    "shared_seconds",
    "cells",
    "cumulative_seconds",
)


MAX_CASES_BYTES = 64 * 1024 * 1024


def read_cases(path: Path) -> list[engine.CaseWindow]:
    """CASES.csv: case_person_id,window_start,window_end (epoch seconds), with a header row.
    Read through the upload gate (core.uploads) like every table the platform takes in."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from exc
    try:
        kind, checked = check_upload(data, max_bytes=MAX_CASES_BYTES, allowed={CSV})
        rows = list(table_rows(checked, kind))
    except UploadRefused as exc:
        raise CommandError(f"{path}: {exc.message}") from exc
    if not rows:
        raise CommandError(f"{path}: missing columns case_person_id, window_end, window_start")
    header = [str(c).strip() for c in rows[0][1]]
    missing = {"case_person_id", "window_start", "window_end"} - set(header)
    if missing:
        raise CommandError(f"{path}: missing columns {', '.join(sorted(missing))}")
    at = {name: header.index(name) for name in ("case_person_id", "window_start", "window_end")}
    cases = []
    for number, cells in rows[1:]:
        if not any(str(c).strip() for c in cells):
            continue
        try:
            case = engine.CaseWindow(
                int(cells[at["case_person_id"]]),
                int(cells[at["window_start"]]),
                int(cells[at["window_end"]]),
            )
        except (IndexError, TypeError, ValueError) as exc:
            raise CommandError(f"{path}, row {number}: not an integer ({exc})") from exc
        if case.window_end < case.window_start:
            raise CommandError(f"{path}, row {number}: window_end before window_start")
        cases.append(case)
    return cases


def _sources(values: list[str]) -> engine.Source:
    paths = [Path(v) for v in values]
    for path in paths:
        if not path.exists():
            raise CommandError(f"{path}: no such file or directory")
    return paths[0] if len(paths) == 1 and paths[0].is_dir() else paths


def _write(output: str, header: tuple[str, ...], rows: list[tuple[int, ...]]) -> None:
    handle = sys.stdout if output == "-" else open(output, "w", newline="", encoding="utf-8")  # noqa: SIM115
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    finally:
        if handle is not sys.stdout:
            handle.close()


class Command(BaseCommand):
    help = "Co-presence from plain files, and the event lake's imports, compaction and retention."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        venue = sub.add_parser("copresence", help="Venue co-presence candidates of cases")
        venue.add_argument("--checkins", nargs="+", required=True, metavar="DIR_OR_FILES")
        venue.add_argument("--cases", required=True, type=Path, metavar="CASES.csv")
        venue.add_argument("--window", type=int, default=engine.DEFAULT_WINDOW_SECONDS)
        venue.add_argument("--output", required=True, metavar="CANDIDATES.csv")
        venue.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
        cells = sub.add_parser("cells", help="Cell-grid co-presence candidates of cases")
        cells.add_argument("--dwell", nargs="+", required=True, metavar="DIR_OR_FILES")
        cells.add_argument("--cases", required=True, type=Path, metavar="CASES.csv")
        cells.add_argument("--min-overlap", type=int, default=engine.DEFAULT_MIN_OVERLAP_SECONDS)
        cells.add_argument(
            "--cumulative",
            type=int,
            default=engine.DEFAULT_CUMULATIVE_SECONDS,
            help="seconds of cumulative stay (0: rule off)",
        )
        cells.add_argument("--lookback", type=int, default=engine.DEFAULT_LOOKBACK_SECONDS)
        cells.add_argument("--output", required=True, metavar="CANDIDATES.csv")
        cells.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
        for name in ("import-checkins", "import-dwell"):
            imp = sub.add_parser(name, help="Import a csv or Parquet file into the lake")
            imp.add_argument("file", type=Path)
        sub.add_parser("compact", help="Fold fresh batch files into sorted day files")
        sub.add_parser("retention", help="Delete day partitions past the retention period")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            getattr(self, "_" + o["action"].replace("-", "_"))(o)
        except ValueError as exc:  # an input file the engine cannot read
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            errors = exc.detail.get("errors") or []
            lines = [f"  row {e['row']}, {e['column']}: {e['reason']}" for e in errors]
            raise CommandError("\n".join([exc.message, *lines])) from exc

    def _copresence(self, o: dict[str, Any]) -> None:
        if o["window"] < 0:
            raise CommandError("--window must be zero or more seconds")
        rows = engine.venue_copresence(
            _sources(o["checkins"]),
            read_cases(o["cases"]),
            window_seconds=o["window"],
            backend=o["backend"],
        )
        ranked = sorted(
            rows,
            key=lambda r: (r.case_person_id, -r.encounters, r.case_ts, r.contact_ts, r.person_id),
        )
        _write(
            o["output"],
            VENUE_HEADER,
            [
                (r.case_person_id, r.person_id, r.venue_id, r.case_ts, r.contact_ts, r.encounters)
                for r in ranked
            ],
        )
        if o["output"] != "-":
            self.stdout.write(f"{len(ranked)} candidates -> {o['output']}")

    def _cells(self, o: dict[str, Any]) -> None:
        rows = engine.cell_copresence(
            _sources(o["dwell"]),
            read_cases(o["cases"]),
            min_overlap_seconds=o["min_overlap"],
            cumulative_seconds=o["cumulative"] or None,
            cumulative_lookback_seconds=o["lookback"],
            backend=o["backend"],
        )
        ranked = sorted(rows, key=lambda r: (r.case_person_id, -r.shared_seconds, r.person_id))
        _write(
            o["output"],
            CELL_HEADER,
            [
                (
                    r.case_person_id,
                    r.person_id,
                    r.cell_id,
                    r.overlap_start,
                    r.shared_seconds,
                    r.cells,
                    r.cumulative_seconds,
                )
                for r in ranked
            ],
        )
        if o["output"] != "-":
            self.stdout.write(f"{len(ranked)} candidates -> {o['output']}")

    def _import(self, o: dict[str, Any], dwell: bool) -> None:
        path: Path = o["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = system_actor(f"cli:{getpass.getuser()}")
        with path.open("rb") as handle:
            run = imports.dwell_import if dwell else imports.checkins_import
            result = run(actor, file=handle)
        said = "imported" if result.created else "already imported (nothing stored)"
        self.stdout.write(f"{path}: {result.rows} rows {said}")

    def _import_checkins(self, o: dict[str, Any]) -> None:
        self._import(o, dwell=False)

    def _import_dwell(self, o: dict[str, Any]) -> None:
        self._import(o, dwell=True)

    def _compact(self, o: dict[str, Any]) -> None:
        totals = services.compact(system_actor(f"cli:{getpass.getuser()}"))
        self.stdout.write(", ".join(f"{name}: {rows} rows" for name, rows in totals.items()))

    def _retention(self, o: dict[str, Any]) -> None:
        done = services.retention_apply(system_actor(f"cli:{getpass.getuser()}"))
        gone = "; ".join(f"{k}: {', '.join(v)}" for k, v in done.dropped.items()) or "nothing"
        self.stdout.write(f"kept from {done.oldest_kept}; removed {gone}")
