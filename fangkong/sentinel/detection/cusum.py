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
from typing import Any

import numpy as np

from fangkong.sentinel.detection.base import (
    BoolArray,
    DetectionError,
    Evaluation,
    FloatArray,
    Points,
    check_series,
    evaluations,
)

TRANSFORMS = ("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")
DEFAULT_BASELINE = 28


def _standardise_any(x: FloatArray, m: FloatArray, trans: str, alpha: float) -> Any:
    # The package's formulas, term by term, so that rounding agrees. m: one mean per series.
    if trans == "rossi":
        return (x - 3 * m + 2 * np.sqrt(x * m)) / (2 * np.sqrt(m))
    if trans == "standard":
        return (x - m) / np.sqrt(m)
    if trans == "anscombe":
        return 3 / 2 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6)
    if trans == "anscombe2nd":
        return (x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6))
    if trans == "pearsonNegBin":
        return (x - m) / np.sqrt(m + alpha * m**2)
    return x.copy()  # "none"


def _bounds_any(
    prev: FloatArray,
    cusum: FloatArray,
    *,
    m: FloatArray,
    h: float,
    k: float,
    trans: str,
    alpha: float,
) -> Any:
    # prev = S(t-1).
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
        return np.ceil(np.sqrt(m) * (h + k - prev) + m)
    if trans == "anscombe":
        base = (2 / 3) * m ** (1 / 6) * (h + k - prev) + m ** (2 / 3)
        return np.where(base < 0, 0.0, np.abs(base) ** (3 / 2))
    if trans == "anscombe2nd":
        base = (2 / 3) * m ** (1 / 6) * (h + k - prev) + (m ** (2 / 3) - m ** (1 / 3) / 9)
        return np.where(base < 0, 0.0, np.abs(base) ** (3 / 2))
    if trans == "pearsonNegBin":
        return np.sqrt(m + alpha * m**2) * (h + k - prev) + m
    return h - cusum  # "none"


def check_cusum(trans: str, baseline: int, m: float | None) -> None:
    """Raises DetectionError for a bad parameter."""
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


def cusum_arrays(
    counts: FloatArray,
    *,
    k: float = 1.04,
    h: float = 2.26,
    m: float | None = None,
    trans: str = "standard",
    alpha: float = 0.1,
    baseline: int = DEFAULT_BASELINE,
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """(bounds, alarms, usable) for the points after the training phase of one series, or of
    several as rows of a matrix (time on the last axis). `usable` says, per series, whether
    the reference mean is > 0; the other series' bounds and alarms mean nothing."""
    x = counts[..., baseline:]
    train = counts[..., :baseline]
    ref = (
        train.mean(axis=-1, keepdims=True)
        if m is None
        else np.full((*counts.shape[:-1], 1), float(m))
    )
    usable = (ref > 0)[..., 0]
    with np.errstate(all="ignore"):
        z = np.asarray(_standardise_any(x, ref, trans, float(alpha)), dtype=np.float64)
        sums = _recursion(z, float(k))
        cusum = sums[..., 1:]
        bounds = np.asarray(
            _bounds_any(
                sums[..., :-1],
                cusum,
                m=ref,
                h=float(h),
                k=float(k),
                trans=trans,
                alpha=float(alpha),
            ),
            dtype=np.float64,
        )
        bounds = np.where(np.isnan(bounds) | (bounds < 0), 0.0, bounds)
    return bounds, cusum >= h, usable


def _recursion(z: FloatArray, k: float) -> FloatArray:
    """S(0) = 0, S(t) = max(0, S(t-1) + (z(t) - k)): a recursion, so a loop over time (in
    Python floats for one series, vectorised across the series of a matrix)."""
    sums = np.zeros((*z.shape[:-1], z.shape[-1] + 1))
    if z.ndim == 1:
        s = 0.0
        values = [0.0]
        for zt in z.tolist():
            s = max(0.0, s + (zt - k))
            values.append(s)
        sums[:] = values
        return sums
    for t in range(z.shape[-1]):
        sums[..., t + 1] = np.maximum(0.0, sums[..., t] + (z[..., t] - k))
    return sums


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
    check_cusum(trans, baseline, m)
    dates, counts = check_series(points, step_days=_step(points))
    if len(counts) <= baseline:
        return []
    bounds, alarms, usable = cusum_arrays(
        counts, k=k, h=h, m=m, trans=trans, alpha=alpha, baseline=baseline
    )
    if not usable:
        return []
    return evaluations(dates[baseline:], counts[baseline:], bounds, alarms)


def _step(points: Points) -> int:
    """The series' own step: 1 day for daily data, 7 for weekly (the smallest gap seen)."""
    days = sorted({d for d, _ in points})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return min(gaps) if gaps else 1
