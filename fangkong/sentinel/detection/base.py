"""What every detection method takes and gives back: a series in, one Evaluation per date out."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fangkong.core.errors import Invalid

Points = Sequence[tuple[datetime.date, int]]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluated date: the observed count, the method's upper bound, and whether it alarms.

    `threshold` is None when the method had too little data to compute a bound for the date
    (R's NA upperbound); such a date never alarms.
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
    for prev, cur in itertools.pairwise(dates):
        gap = (cur - prev).days
        if gap == 0:
            raise DetectionError(
                "detection.duplicate_date", f"{cur}: more than one count", date=str(cur)
            )
        if gap != step_days:
            raise DetectionError(
                "detection.gap",
                f"{prev} is followed by {cur}: dates must be {step_days} day(s) apart, without gaps",
                after=str(prev),
                date=str(cur),
            )
    counts = np.empty(len(ordered), dtype=np.float64)
    for i, (day, count) in enumerate(ordered):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise DetectionError(
                "detection.count", f"{day}: count must be a whole number >= 0", date=str(day)
            )
        counts[i] = float(count)
    return dates, counts
