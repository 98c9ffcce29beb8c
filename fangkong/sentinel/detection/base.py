"""What every detection method takes and gives back: a series in, one Evaluation per date out."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fangkong.core.errors import Invalid

Points = Sequence[tuple[datetime.date, int]]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(slots=True)
class Evaluation:
    """One evaluated date: the observed count, the method's upper bound, and whether it alarms.

    `threshold` is None when the method gives no bound for the date (R's NA upperbound); such
    a date never alarms. A value: never changed once made (not frozen only because a frozen
    dataclass is three times slower to build, and a run builds millions).
    """

    date: datetime.date
    count: int
    threshold: float | None
    alarm: bool


class DetectionError(Invalid):
    """Bad input to a detection method: unknown method or parameter, out-of-range value, or a
    series that is not a regular sequence of dates. `code` names the case."""


def check_series(points: Points, *, step_days: int) -> tuple[list[datetime.date], FloatArray]:
    """(dates, counts) of a series sorted by date, checked to be regular: consecutive dates
    `step_days` apart, no duplicates, no gaps, counts whole and non-negative.

    Gaps are refused rather than filled with zeros: a missing day is not a zero report, and
    the caller (who knows whether a unit reported) must say which it is.
    """
    ordered = sorted(points, key=lambda p: p[0])
    dates = [d for d, _ in ordered]
    raw = [c for _, c in ordered]
    if len(dates) > 1:
        gaps = np.diff(np.fromiter((d.toordinal() for d in dates), np.int64, len(dates)))
        if not np.all(gaps == step_days):
            i = int(np.flatnonzero(gaps != step_days)[0])
            prev, cur = dates[i], dates[i + 1]
            if gaps[i] == 0:
                raise DetectionError(
                    "detection.duplicate_date", f"{cur}: more than one count", date=str(cur)
                )
            raise DetectionError(
                "detection.gap",
                f"{prev} is followed by {cur}: dates must be {step_days} day(s) apart, "
                "without gaps",
                after=str(prev),
                date=str(cur),
            )
    if not all(type(c) is int or (isinstance(c, np.integer)) for c in raw) or (
        raw and min(raw) < 0
    ):
        bad = next(
            i
            for i, c in enumerate(raw)
            if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0
        )
        raise DetectionError(
            "detection.count",
            f"{dates[bad]}: count must be a whole number >= 0",
            date=str(dates[bad]),
        )
    return dates, np.array(raw, dtype=np.float64)


def evaluations(
    dates: Sequence[datetime.date], counts: FloatArray, bounds: FloatArray, alarms: BoolArray
) -> list[Evaluation]:
    """Evaluations from aligned arrays; a NaN bound becomes None (and never alarms)."""
    out = []
    for day, count, bound, alarm in zip(
        dates, counts.tolist(), bounds.tolist(), alarms.tolist(), strict=True
    ):
        if math.isnan(bound):
            out.append(Evaluation(day, int(count), None, False))
        else:
            out.append(Evaluation(day, int(count), bound, alarm))
    return out
