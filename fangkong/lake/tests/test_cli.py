"""`fangkong tracing copresence` on plain csv and Parquet files, and `tracing cells`."""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.lake.engine import CaseWindow
from fangkong.lake.layout import CHECKINS, DWELL
from fangkong.lake.rules import as_table
from fangkong.lake.tests.reference import cell_reference, venue_reference
from fangkong.lake.tests.test_engine import MIDNIGHT, random_cases, random_checkins, random_dwell


def _cases_csv(path: Path, cases: list[CaseWindow]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_person_id", "window_start", "window_end"])
        writer.writerows((c.case_person_id, c.window_start, c.window_end) for c in cases)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "mixed"])
def test_copresence_command_on_plain_files(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(5)
    rows = random_checkins(rng, 400, persons=25, venues=4)
    table = as_table(CHECKINS, rows).append_column("note", pa.array(["x"] * len(rows)))
    half = table.num_rows // 2
    files = []
    (tmp_path / "data").mkdir()
    for i, part in enumerate((table.slice(0, half), table.slice(half))):
        kind = fmt if fmt != "mixed" else ("csv", "parquet")[i]
        path = tmp_path / "data" / f"part{i}.{kind}"
        if kind == "csv":
            pacsv.write_csv(part, path)
        else:
            pq.write_table(part, path)
        files.append(str(path))
    cases = random_cases(rng, 25, 4)
    output = tmp_path / "out.csv"
    call_command(
        "tracing",
        "copresence",
        "--checkins",
        *files,
        "--cases",
        str(_cases_csv(tmp_path / "cases.csv", cases)),
        "--window",
        "1200",
        "--output",
        str(output),
    )
    got = _read(output)
    expected = venue_reference(rows, cases, window=1200)
    assert list(got[0]) == [
        "case_person_id",
        "person_id",
        "venue_id",
        "case_ts",
        "contact_ts",
        "encounters",
    ]
    as_tuples = sorted(tuple(int(v) for v in r.values()) for r in got)
    assert as_tuples == sorted(
        (r.case_person_id, r.person_id, r.venue_id, r.case_ts, r.contact_ts, r.encounters)
        for r in expected
    )
    # ranked within each case: most encounters first
    for a, b in itertools.pairwise(got):
        if a["case_person_id"] == b["case_person_id"]:
            assert int(a["encounters"]) >= int(b["encounters"])
    # a directory of the same files gives the same output
    call_command(
        "tracing", "copresence", "--checkins", str(tmp_path / "data"), "--cases", str(tmp_path / "cases.csv"),
        "--window", "1200", "--output", str(tmp_path / "again.csv"),
    )  # fmt: skip
    assert (tmp_path / "again.csv").read_text() == output.read_text()


def test_cells_command_and_bad_input(tmp_path: Path) -> None:
    rng = random.Random(8)
    rows = random_dwell(rng, 200, persons=20, cells=3)
    pq.write_table(as_table(DWELL, rows), tmp_path / "dwell.parquet")
    cases = [CaseWindow(1, MIDNIGHT - 86_400, MIDNIGHT + 36_000)]
    _cases_csv(tmp_path / "cases.csv", cases)
    call_command(
        "tracing", "cells", "--dwell", str(tmp_path / "dwell.parquet"),
        "--cases", str(tmp_path / "cases.csv"), "--cumulative", "0",
        "--output", str(tmp_path / "cells.csv"),
    )  # fmt: skip
    expected = cell_reference(rows, cases, min_overlap=600, cumulative=None, lookback=14 * 86_400)
    assert {int(r["person_id"]) for r in _read(tmp_path / "cells.csv")} == {
        r.person_id for r in expected
    }
    (tmp_path / "bad.csv").write_text("case_person_id,window_start\n1,2\n")
    with pytest.raises(CommandError, match="missing columns window_end"):
        call_command(
            "tracing", "copresence", "--checkins", str(tmp_path / "dwell.parquet"),
            "--cases", str(tmp_path / "bad.csv"), "--output", str(tmp_path / "x.csv"),
        )  # fmt: skip
    with pytest.raises(CommandError, match="cannot be read"):
        call_command(
            "tracing", "copresence", "--checkins", str(tmp_path / "bad.csv"),
            "--cases", str(tmp_path / "cases.csv"), "--output", str(tmp_path / "x.csv"),
        )  # fmt: skip
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "tracing", "copresence", "--checkins", str(tmp_path / "nope"),
            "--cases", str(tmp_path / "cases.csv"), "--output", str(tmp_path / "x.csv"),
        )  # fmt: skip
