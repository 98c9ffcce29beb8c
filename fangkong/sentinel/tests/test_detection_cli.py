"""`fangkong sentinel detect`: plain files in and out, the reference values end to end, and
bad input refused with the row, the column and the reason, writing nothing."""

from __future__ import annotations

import csv
import datetime
import io
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

REFERENCE = Path(__file__).resolve().parents[1] / "detection" / "reference"
HEADER = ["series", "date", "count", "threshold", "alarm"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _write_series(path: Path, rows: list[dict[str, str]]) -> Path:
    return _write(
        path, [("series", "date", "count"), *((r["series"], r["date"], r["count"]) for r in rows)]
    )


def _series(prefix: str) -> list[dict[str, str]]:
    return [r for r in _rows(REFERENCE / "series.csv") if r["series"].startswith(prefix)]


def _detect(*args: str) -> str:
    out = io.StringIO()
    call_command("sentinel", "detect", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _assert_same(got: list[dict[str, str]], want: list[dict[str, str]]) -> None:
    assert [(r["series"], r["date"], r["count"], r["alarm"]) for r in got] == [
        (r["series"], r["date"], r["count"], r["alarm"]) for r in want
    ]
    for g, w in zip(got, want, strict=True):
        if w["threshold"] == "":
            assert g["threshold"] == ""
        else:
            assert math.isclose(float(g["threshold"]), float(w["threshold"]), rel_tol=1e-6)


def test_ears_c1_over_a_file_gives_the_reference_values(tmp_path: Path) -> None:
    source = _write_series(tmp_path / "counts.csv", _series("d_"))
    message = _detect(
        "--input", str(source), "--method", "ears-c1", "--output", str(tmp_path / "a.csv")
    )
    with (tmp_path / "a.csv").open(encoding="utf-8") as f:
        assert f.readline().strip() == ",".join(HEADER)
    _assert_same(_rows(tmp_path / "a.csv"), _rows(REFERENCE / "ears_c1_default.csv"))
    assert "6 series" in message
    assert "alarms" in message


def test_options_reach_the_method(tmp_path: Path) -> None:
    rows = [
        r for r in _series("d_") if r["series"] in {"d_trend", "d_outbreak", "d_zeros", "d_large"}
    ]
    source = _write_series(tmp_path / "counts.csv", rows)
    target = tmp_path / "a.csv"
    _detect(
        "--input", str(source), "--method", "ears-c1", "--baseline", "14", "--alpha", "0.01",
        "--min-sigma", "0.5", "--output", str(target),
    )  # fmt: skip
    _assert_same(_rows(target), _rows(REFERENCE / "ears_c1_b14.csv"))


def test_cusum_over_a_file_gives_the_reference_values(tmp_path: Path) -> None:
    rows = [r for r in _series("d_") if r["series"] in {"d_trend", "d_outbreak", "d_large"}]
    source = _write_series(tmp_path / "counts.csv", rows)
    target = tmp_path / "a.csv"
    _detect(
        "--input", str(source), "--method", "cusum", "--trans", "pearsonNegBin", "--alpha",
        "0.2", "--output", str(target),
    )  # fmt: skip
    _assert_same(_rows(target), _rows(REFERENCE / "cusum_negbin.csv"))
    _detect(
        "--input", str(source), "--method", "cusum", "--trans", "anscombe", "--k", "0.5",
        "--h", "4", "--output", str(target),
    )  # fmt: skip
    _assert_same(_rows(target), _rows(REFERENCE / "cusum_anscombe.csv"))


@pytest.mark.slow
def test_farrington_from_daily_rows_sums_iso_weeks(tmp_path: Path) -> None:
    """Daily rows are summed into their ISO week and reported on its Monday: spreading each
    weekly count over its seven days (all on Wednesday, zeros elsewhere) changes nothing."""
    weekly = _series("w_seasonal_outbreaks")
    daily: list[list[object]] = [["count", "date", "series", "note"]]  # any column order
    for r in weekly:
        monday = datetime.date.fromisoformat(r["date"])
        for offset in range(7):
            day = monday + datetime.timedelta(days=offset)
            daily.append([r["count"] if offset == 2 else 0, day.isoformat(), r["series"], "x"])
    source = _write(tmp_path / "daily.csv", daily)
    target = tmp_path / "a.csv"
    _detect("--input", str(source), "--method", "farrington", "--output", str(target))
    want = [
        r
        for r in _rows(REFERENCE / "farrington_noufaily.csv")
        if r["series"] == "w_seasonal_outbreaks"
    ]
    _assert_same(_rows(target), want)


def test_farrington_needs_whole_weeks_of_daily_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [["series", "date", "count"]]
    start = datetime.date(2024, 1, 1)  # a Monday
    rows += [["a", (start + datetime.timedelta(days=i)).isoformat(), 1] for i in range(10)]
    source = _write(tmp_path / "c.csv", rows)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problems"):
        call_command(
            "sentinel", "detect", "--input", str(source), "--method", "farrington",
            "--output", str(tmp_path / "a.csv"), stderr=err,
        )  # fmt: skip
    assert (
        "row 9, column date: series 'a': the week of 2024-01-08 has 3 of 7 days" in err.getvalue()
    )
    assert not (tmp_path / "a.csv").exists()


def test_a_short_series_gives_no_rows_but_a_header(tmp_path: Path) -> None:
    source = _write(tmp_path / "c.csv", [["series", "date", "count"], ["a", "2024-01-01", "3"]])
    target = tmp_path / "a.csv"
    assert "0 evaluated dates" in _detect(
        "--input", str(source), "--method", "ears-c3", "--output", str(target)
    )
    assert target.read_text(encoding="utf-8") == ",".join(HEADER) + "\n"


@pytest.mark.parametrize(
    ("lines", "problems"),
    [
        (
            ["series,day,count", "a,2024-01-01,1"],
            ["row 1, column -: the header must name the columns series, date, count"],
        ),
        (
            [
                "series,date,count",
                "a,2024-13-01,1",
                "a,2024-01-02,-1",
                ",2024-01-03,2",
                "a,2024-01-04,1.5",
            ],
            [
                "row 2, column date: '2024-13-01': month must be in 1..12",
                "row 3, column count: '-1': negative",
                "row 4, column series: empty",
                "row 5, column count: '1.5': not a whole number",
            ],
        ),
        (
            ["series,date,count", "a,2024-01-01,1", "b,2024-01-01,2", "a,2024-01-01,3"],
            ["row 4, column date: series 'a' already has 2024-01-01 (row 2)"],
        ),
        (
            ["series,date,count", "a,2024-01-01,1", "a,2024-01-02,1", "a,2024-01-04,1"],
            [
                "row 4, column date: series 'a' has no row for the day of 2024-01-03 "
                "(after 2024-01-02): give every day from the first to the last, 0 when there "
                "were no cases"
            ],
        ),
        (
            ["series,date,count", "a,1/2/2024,1"],
            ["row 2, column date: '1/2/2024': not a date (YYYY-MM-DD)"],
        ),
        ([], ["row 1, column -: the file is empty: a header series,date,count is expected"]),
    ],
)
def test_bad_rows_are_named_and_nothing_is_written(
    tmp_path: Path, lines: list[str], problems: list[str]
) -> None:
    source = tmp_path / "counts.csv"
    source.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    target = tmp_path / "alarms.csv"
    err = io.StringIO()
    with pytest.raises(CommandError, match=f"{len(problems)} problems in .*nothing was written"):
        call_command(
            "sentinel", "detect", "--input", str(source), "--method", "ears-c1",
            "--output", str(target), stderr=err,
        )  # fmt: skip
    assert err.getvalue().splitlines() == [f"counts.csv: {p}" for p in problems]
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "ears-c1", "--k", "2"], "--k: ears-c1 takes no parameter k"),
        (
            ["--method", "ears-c2", "--alpha", "abc"],
            "--alpha: 'abc' is not valid (expected a number)",
        ),
        (["--method", "ears-c2", "--alpha", "1.5"], "alpha must lie strictly between 0 and 1"),
        (["--method", "ears-c1", "--baseline", "2"], "baseline must be a whole number >= 3"),
        (
            ["--method", "farrington", "--reweight", "maybe"],
            "--reweight: 'maybe' is not valid (expected true or false)",
        ),
        (
            ["--method", "farrington", "--threshold-method", "exact"],
            "expected one of: nbPlugin, delta, muan",
        ),
        (["--method", "cusum", "--trans", "log"], "expected one of: standard, rossi"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    source = _write(
        tmp_path / "c.csv",
        [["series", "date", "count"], *[["a", f"2024-01-{d:02}", d] for d in range(1, 20)]],
    )
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _detect("--input", str(source), "--output", str(tmp_path / "a.csv"), *args)
    assert not (tmp_path / "a.csv").exists()


def test_missing_input_and_output_directory(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        _detect(
            "--input",
            str(tmp_path / "none.csv"),
            "--method",
            "cusum",
            "--output",
            str(tmp_path / "a.csv"),
        )
    source = _write(tmp_path / "c.csv", [["series", "date", "count"], ["a", "2024-01-01", 1]])
    with pytest.raises(CommandError, match="no such directory"):
        _detect(
            "--input", str(source), "--method", "cusum", "--output", str(tmp_path / "x" / "a.csv")
        )


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_bytes(b"\x7fELF\x00\x01\x02")
    with pytest.raises(CommandError, match="The file is not one of"):
        _detect("--input", str(source), "--method", "cusum", "--output", str(tmp_path / "a.csv"))


def test_gb18030_csv_with_chinese_series_names(tmp_path: Path) -> None:
    lines = ["series,date,count"] + [f"东城区,2024-01-{d:02},{d % 3}" for d in range(1, 12)]
    source = tmp_path / "c.csv"
    source.write_bytes("\n".join(lines).encode("gb18030"))
    target = tmp_path / "a.csv"
    _detect("--input", str(source), "--method", "ears-c1", "--output", str(target))
    rows = _rows(target)
    assert [r["series"] for r in rows] == ["东城区"] * 4
    assert [r["date"] for r in rows] == ["2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11"]


def test_works_from_a_plain_shell(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "c.csv",
        [["series", "date", "count"], *[["a", f"2024-01-{d:02}", d % 4] for d in range(1, 31)]],
    )
    target = tmp_path / "a.csv"
    done = subprocess.run(
        [sys.executable, "-m", "fangkong", "sentinel", "detect", "--input", str(source),
         "--method", "ears-c2", "--output", str(target)],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "FANGKONG_DEBUG": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ears-c2: 1 series, 21 evaluated dates" in done.stdout
    assert len(_rows(target)) == 21


def test_an_xlsx_with_date_cells_is_read_like_a_csv(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Series", "Date", "Count"])
    for d in range(1, 13):
        sheet.append(["a", datetime.datetime(2024, 1, d), d % 4])  # noqa: DTZ001 - a date cell
    book.save(tmp_path / "c.xlsx")
    book_csv = _write(
        tmp_path / "c.csv",
        [("series", "date", "count"), *(("a", f"2024-01-{d:02}", d % 4) for d in range(1, 13))],
    )
    _detect(
        "--input",
        str(tmp_path / "c.xlsx"),
        "--method",
        "ears-c1",
        "--output",
        str(tmp_path / "x.csv"),
    )
    _detect("--input", str(book_csv), "--method", "ears-c1", "--output", str(tmp_path / "y.csv"))
    assert (tmp_path / "x.csv").read_text(encoding="utf-8") == (tmp_path / "y.csv").read_text(
        encoding="utf-8"
    )
    assert len(_rows(tmp_path / "x.csv")) == 5
