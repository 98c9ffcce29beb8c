"""CUSUM with the semantics of `surveillance::algo.cusum` (and `cusum` on an sts), 1.20.

The first `baseline` points are the training phase: with m None the reference mean is their
mean (R: `m <- mean(observed[1:(range[1]-1)])`), and the evaluated range is every point after
them. Each observation x is standardised by `trans`; the sum is
S(t) = max(0, S(t-1) + z(t) - k) from S = 0, and t alarms when S(t) >= h. The upper bound is
the package's: the smallest count that would have alarmed given S(t-1) (rounded up for
"standard"), floored at 0; for "none" it is h - S(t), as in the package.

Supported `trans`: standard, rossi, anscombe, anscombe2nd, pearsonNegBin (with the dispersion
`alpha`), none. Not supported: m = "glm" and anscombeNegBin. m must be > 0: with a zero
reference mean every standardisation divides by zero (R then returns NaN/NA throughout), so
such a series gives no evaluations.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from fangkong.sentinel.detection.base import (
    DetectionError,
    Evaluation,
    FloatArray,
    Points,
    check_series,
)

TRANSFORMS = ("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")
DEFAULT_BASELINE = 28


def _standardise_any(x: FloatArray, m: float, trans: str, alpha: float) -> Any:
    if trans == "rossi":
        return (x - 3 * m + 2 * np.sqrt(x * m)) / (2 * math.sqrt(m))
    if trans == "standard":
        return (x - m) / math.sqrt(m)
    if trans == "anscombe":
        return 3 / 2 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6)
    if trans == "anscombe2nd":
        return (x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6))
    if trans == "pearsonNegBin":
        return (x - m) / math.sqrt(m + alpha * m**2)
    return x.copy()  # "none"


def _bounds_any(
    prev: FloatArray, cusum: FloatArray, *, m: float, h: float, k: float, trans: str, alpha: float
) -> Any:
    # prev = S(t-1). The formulas are the package's, term by term, so that rounding agrees.
    if trans == "rossi":
        return (
            2 * h * m ** (1 / 2)
            + 2 * k * m ** (1 / 2)
            - 2 * prev * m ** (1 / 2)
            + 5 * m
            - 2
            * (4 * m**2 + 2 * m ** (3 / 2) * h + 2 * m ** (3 / 2) * k - 2 * m ** (3 / 2) * prev)
            ** (1 / 2)
        )
    if trans == "standard":
        return np.ceil(math.sqrt(m) * (h + k - prev) + m)
    if trans == "anscombe":
        base = (2 / 3) * m ** (1 / 6) * (h + k - prev) + m ** (2 / 3)
        return np.where(base < 0, 0.0, np.abs(base) ** (3 / 2))
    if trans == "anscombe2nd":
        base = (2 / 3) * m ** (1 / 6) * (h + k - prev) + (m ** (2 / 3) - m ** (1 / 3) / 9)
        return np.where(base < 0, 0.0, np.abs(base) ** (3 / 2))
    if trans == "pearsonNegBin":
        return math.sqrt(m + alpha * m**2) * (h + k - prev) + m
    return h - cusum  # "none"


def _standardise(x: FloatArray, m: float, trans: str, alpha: float) -> FloatArray:
    return np.asarray(_standardise_any(x, m, trans, alpha), dtype=np.float64)


def _bounds(
    prev: FloatArray, cusum: FloatArray, *, m: float, h: float, k: float, trans: str, alpha: float
) -> FloatArray:
    return np.asarray(
        _bounds_any(prev, cusum, m=m, h=h, k=k, trans=trans, alpha=alpha), dtype=np.float64
    )


def detect_cusum(
    points: Points,
    *,
    k: float = 1.04,
    h: float = 2.26,
    m: float | None = None,
    trans: str = "standard",
    alpha: float = 0.1,
    baseline: int = DEFAULT_BASELINE,
) -> list[Evaluation]:
    """CUSUM over a daily (or any regular) series; one Evaluation per point after the training
    phase of `baseline` points."""
    if trans not in TRANSFORMS:
        raise DetectionError(
            "detection.param", f"trans must be one of: {', '.join(TRANSFORMS)}", param="trans"
        )
    if isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 1:
        raise DetectionError(
            "detection.param", "baseline must be a whole number >= 1", param="baseline"
        )
    if m is not None and (isinstance(m, bool) or not isinstance(m, int | float)):
        raise DetectionError("detection.param", "m must be a number or empty", param="m")
    dates, counts = check_series(points, step_days=_step(points))
    if len(counts) <= baseline:
        return []
    ref = float(counts[:baseline].mean()) if m is None else float(m)
    if not ref > 0:
        return []
    x = counts[baseline:]
    with np.errstate(all="ignore"):
        z = _standardise(x, ref, trans, float(alpha))
        sums = np.empty(len(x) + 1)
        sums[0] = 0.0
        for t, zt in enumerate(z.tolist()):  # a recursion: no vector form
            sums[t + 1] = max(0.0, sums[t] + (zt - k))
        cusum = sums[1:]
        bounds = _bounds(
            sums[:-1], cusum, m=ref, h=float(h), k=float(k), trans=trans, alpha=float(alpha)
        )
        bounds = np.where(np.isnan(bounds) | (bounds < 0), 0.0, bounds)
    alarms = cusum >= h
    return [
        Evaluation(day, int(count), bound, bool(alarm))
        for day, count, bound, alarm in zip(
            dates[baseline:], x.tolist(), bounds.tolist(), alarms.tolist(), strict=True
        )
    ]


def _step(points: Points) -> int:
    """The series' own step: 1 day for daily data, 7 for weekly (the smallest gap seen)."""
    days = sorted({d for d, _ in points})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return min(gaps) if gaps else 1
