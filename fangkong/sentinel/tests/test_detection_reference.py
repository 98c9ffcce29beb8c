"""Thresholds and alarms agree with the R package surveillance 1.20.3 on fixed series.

The reference files were written by fangkong/sentinel/detection/reference/make_reference.R
(run with Debian's R and r-cran-surveillance); these tests need no R.

Tolerance: thresholds agree to a relative 1e-9 for EARS and CUSUM (the same closed formulas;
R sums in long double, numpy in double, so the last bits may differ) and 1e-6 for Farrington
(iteratively fitted GLMs: R's QR with pivoting against a least-squares solve converge to the
same optimum up to the IRLS stopping rule, 1e-8 on the deviance). Counts-valued thresholds
(CUSUM "standard", Farrington "nbPlugin") and every alarm must agree exactly.
"""

from __future__ import annotations

import csv
import datetime
import math
from pathlib import Path

import pytest

from fangkong.sentinel.detection import Evaluation, detect, parse_params

REFERENCE = Path(__file__).resolve().parents[1] / "detection" / "reference"


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _series() -> dict[str, list[tuple[datetime.date, int]]]:
    out: dict[str, list[tuple[datetime.date, int]]] = {}
    for row in _read("series.csv"):
        out.setdefault(row["series"], []).append(
            (datetime.date.fromisoformat(row["date"]), int(row["count"]))
        )
    return out


SERIES = _series()
CASES = _read("cases.csv")


def _params(text: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in text.split(";")) if text else {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c, id=c["case"], marks=[pytest.mark.slow] if c["method"] == "farrington" else []
        )
        for c in CASES
    ],
)
def test_thresholds_and_alarms_agree_with_surveillance(case: dict[str, str]) -> None:
    method = case["method"]
    params = parse_params(method, _params(case["params"]))
    rel = 1e-6 if method == "farrington" else 1e-9
    expected = _read(f"{case['case']}.csv")
    got: list[tuple[str, Evaluation]] = []
    for name in case["series"].split():
        got.extend((name, e) for e in detect(SERIES[name], method=method, **params))
    assert [(r["series"], r["date"]) for r in expected] == [
        (name, e.date.isoformat()) for name, e in got
    ]
    mismatches = []
    for row, (name, e) in zip(expected, got, strict=True):
        assert int(row["count"]) == e.count
        want = float(row["threshold"]) if row["threshold"] else None
        same = (want is None and e.threshold is None) or (
            want is not None
            and e.threshold is not None
            and math.isclose(want, e.threshold, rel_tol=rel, abs_tol=1e-12)
        )
        if not same or (row["alarm"] == "1") != e.alarm:
            mismatches.append(
                (name, row["date"], row["count"], want, e.threshold, row["alarm"], e.alarm)
            )
    assert not mismatches, mismatches[:10]


def test_reference_covers_alarms_and_missing_thresholds() -> None:
    """The fixed cases exercise alarms, and dates without a threshold, for every method."""
    alarms: dict[str, int] = {}
    missing: dict[str, int] = {}
    for case in CASES:
        rows = _read(f"{case['case']}.csv")
        family = case["method"].split("-")[0]
        alarms[family] = alarms.get(family, 0) + sum(r["alarm"] == "1" for r in rows)
        missing[family] = missing.get(family, 0) + sum(not r["threshold"] for r in rows)
    assert all(alarms[f] > 0 for f in ("ears", "cusum", "farrington"))
    assert missing["ears"] > 0
    assert missing["farrington"] > 0
