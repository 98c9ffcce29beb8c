"""Detection runtime: fangkong.sentinel.detection against the R package surveillance 1.20 on
the same series, in the same run.

Series: `--series` daily Poisson series (a weekday effect, a slow trend, some outbreaks) of
`--days` days (default 5,000 x 1,096: 5,000 units' series over 3 years; 20,000 is 5,000 units
x 4 drug classes), and `--farrington-series` weekly series of 6 years (50 evaluated weeks
each with b = 5). Each figure is the median over `--runs` fresh processes:

- python arrays: `detect_arrays` over the whole matrix (EARS C1-C3, CUSUM);
- python detect: `detect` series by series (the object API), over `--detect-series` series,
  scaled to the full count (the per-series cost is linear);
- python farrington: `detect(..., method="farrington")` per weekly series;
- R: `earsC`, `cusum` on one sts holding `--r-series` of the series (R is slow: scaled to
  the full count), `farringtonFlexible` on the weekly series, timed inside R (data loading
  excluded). Skipped with --no-r or when Rscript is
  missing (`apt-get install r-cran-surveillance`).

    .venv/bin/python benchmarks/sentinel_detection.py [--series 5000] [--days 1096] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load, machine

DAILY = ("ears-c1", "ears-c2", "ears-c3", "cusum")
WEEKS = 6 * 52 + 1  # 50 weeks evaluated with b = 5, w = 3

R_SCRIPT = r"""
suppressPackageStartupMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
what <- args[1]; path <- args[2]; rows <- as.integer(args[3]); cols <- as.integer(args[4])
x <- matrix(readBin(path, "double", n = rows * cols), nrow = cols, ncol = rows)
x <- x[, seq_len(as.integer(args[5])), drop = FALSE]
# x: time on the rows, one column per series (sts's layout)
if (what == "farrington") {
  s <- sts(observed = x, epoch = as.Date("2015-01-05") + 7 * (seq_len(cols) - 1), frequency = 52)
  ctl <- list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, noPeriods = 10,
              pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin", glmWarnings = FALSE)
  t <- system.time(r <- farringtonFlexible(s, control = ctl))[["elapsed"]]
} else {
  s <- sts(observed = x, epoch = as.Date("2022-01-01") + seq_len(cols) - 1, frequency = 365)
  t <- switch(what,
    "ears-c1" = system.time(earsC(s, control = list(method = "C1")))[["elapsed"]],
    "ears-c2" = system.time(earsC(s, control = list(method = "C2")))[["elapsed"]],
    "ears-c3" = system.time(earsC(s, control = list(method = "C3")))[["elapsed"]],
    "cusum" = system.time(suppressMessages(capture.output(
      cusum(s, control = list(range = 29:cols))))) [["elapsed"]]
  )
}
cat(sprintf('{"seconds": %.4f}\n', t))
"""


def make_data(directory: Path, series: int, days: int, weekly_series: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(days)
    weekday = np.array([1.2, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7])[t % 7]
    level = rng.gamma(2.0, 3.0, size=(series, 1))
    mean = level * weekday * (1 + 0.0003 * t)
    daily = rng.poisson(mean).astype(np.float64)
    outbreaks = rng.integers(0, days - 10, size=series // 10)
    for row, start in zip(
        rng.choice(series, size=len(outbreaks), replace=False), outbreaks, strict=True
    ):
        daily[row, start : start + 7] += rng.poisson(3 * level[row, 0], size=7)
    np.save(directory / "daily.npy", daily)
    daily.tofile(directory / "daily.bin")  # row-major: R reads it as a days x series matrix
    tw = np.arange(WEEKS)
    season = np.exp(1.5 + 0.6 * np.cos(2 * np.pi * tw / 52))
    weekly = rng.poisson(season * rng.gamma(4.0, 0.5, size=(weekly_series, 1))).astype(np.float64)
    np.save(directory / "weekly.npy", weekly)
    weekly.tofile(directory / "weekly.bin")


def child(kind: str, method: str, directory: str, limit: int) -> dict[str, Any]:
    import datetime as dt

    import numpy as np

    from fangkong.sentinel.detection import detect, detect_arrays

    if method == "farrington":
        weekly = np.load(Path(directory) / "weekly.npy")
        start = dt.date(2015, 1, 5)
        series = [
            [(start + dt.timedelta(weeks=i), int(c)) for i, c in enumerate(row)] for row in weekly
        ]
        began = time.perf_counter()
        evaluated = sum(len(detect(points, method="farrington")) for points in series)
        return {
            "seconds": time.perf_counter() - began,
            "series": len(series),
            "evaluated": evaluated,
        }
    daily = np.load(Path(directory) / "daily.npy")
    if kind == "arrays":
        began = time.perf_counter()
        result = detect_arrays(daily, method=method)
        return {
            "seconds": time.perf_counter() - began,
            "series": daily.shape[0],
            "alarms": int(result.alarms.sum()),
        }
    start = dt.date(2022, 1, 1)
    dates = [start + dt.timedelta(days=i) for i in range(daily.shape[1])]
    rows = daily[:limit].astype(int).tolist()
    series = [list(zip(dates, row, strict=True)) for row in rows]
    began = time.perf_counter()
    alarms = sum(e.alarm for points in series for e in detect(points, method=method))
    return {"seconds": time.perf_counter() - began, "series": len(series), "alarms": alarms}


def run_python(kind: str, method: str, directory: Path, limit: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, method, str(directory), str(limit)],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_r(method: str, directory: Path, shape: tuple[int, int], limit: int) -> float:
    """R's own time on the first `limit` series (R reads them all, then keeps those)."""
    script = directory / "bench.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    name = "weekly.bin" if method == "farrington" else "daily.bin"
    out = subprocess.run(
        [
            "Rscript", str(script), method, str(directory / name), str(shape[0]),
            str(shape[1]), str(limit),
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--detect-series", type=int, default=500)
    parser.add_argument("--r-series", type=int, default=100)
    parser.add_argument("--farrington-series", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--r-runs", type=int, default=1, help="R is slow: fewer runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    with_r = not args.no_r and shutil.which("Rscript") is not None
    print(f"machine: {machine()}")
    print(
        f"series: {args.series} daily x {args.days} days; {args.farrington_series} weekly x "
        f"{WEEKS} weeks; median of {args.runs} fresh processes (R: "
        f"{args.r_runs if with_r else 'not run'})"
    )
    with tempfile.TemporaryDirectory(prefix="fk-detect-") as tmp:
        directory = Path(tmp)
        make_data(directory, args.series, args.days, args.farrington_series, args.seed)
        limit = min(args.detect_series, args.series)
        r_limit = min(args.r_series, args.series)
        print(f"{'method':<11} {'arrays s':>9} {'detect s*':>10} {'R s':>9} {'R/arrays':>9}")
        for method in DAILY:
            arrays = statistics.median(
                run_python("arrays", method, directory, 0)["seconds"] for _ in range(args.runs)
            )
            per = statistics.median(
                run_python("detect", method, directory, limit)["seconds"] for _ in range(args.runs)
            )
            scaled = per * args.series / limit
            r = statistics.median(
                run_r(method, directory, (args.series, args.days), r_limit)
                for _ in range(args.r_runs)
            ) * args.series / r_limit if with_r else float("nan")  # fmt: skip
            print(f"{method:<11} {arrays:>9.2f} {scaled:>10.1f} {r:>9.1f} {r / arrays:>9.0f}x")
        far = [run_python("detect", "farrington", directory, 0) for _ in range(args.runs)]
        seconds = statistics.median(f["seconds"] for f in far)
        r = statistics.median(
            run_r("farrington", directory, (args.farrington_series, WEEKS), args.farrington_series)
            for _ in range(args.r_runs)
        ) if with_r else float("nan")  # fmt: skip
        evaluated = far[0]["evaluated"]
        print(
            f"farrington  {args.farrington_series} series, {evaluated} weeks evaluated: python "
            f"{seconds:.1f} s ({1000 * seconds / evaluated:.1f} ms/week), R {r:.1f} s "
            f"({1000 * r / evaluated:.1f} ms/week), R/python {r / seconds:.1f}x"
        )
    print(
        f"* detect: {limit} series timed, R: {r_limit} series timed, both scaled to "
        f"{args.series}; load average at end {load()}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
        print(json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    else:
        main()
