"""EARS C1, C2 and C3 with the semantics of `surveillance::earsC` (package version 1.20).

For a day t with `baseline` = n reference days:

- C1 compares day t with days t-n .. t-1; C2 and C3 with days t-n-2 .. t-3 (a two-day lag);
- upper bound = mean + z * max(sd, min_sigma), sd with the n-1 denominator, z = qnorm(1-alpha);
- C3 sums the C2 statistics of days t-2 and t-1 in excess of 1 and bounds day t by
  observed(t) + max(sd(t), min_sigma) * (z - excess), floored at 0: exactly the package's
  formula, whose alarm therefore depends on the two previous days' C2 statistics;
- the alarm is observed > upper bound; an undefined bound (0/0 when sd and min_sigma are both 0
  in C3) gives no threshold and no alarm (R: NA).

The first evaluable day is the (n+1)-th for C1, the (n+3)-th for C2 and the (n+5)-th for C3
(R's default `range`). Defaults as in the package: baseline 7, min_sigma 0, alpha 0.001 for
C1 and C2 and 0.025 for C3.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from fangkong.sentinel.detection.base import (
    DetectionError,
    Evaluation,
    FloatArray,
    Points,
    check_series,
    evaluations,
)

VARIANTS = ("C1", "C2", "C3")
DEFAULT_ALPHA = {"C1": 0.001, "C2": 0.001, "C3": 0.025}
DEFAULT_BASELINE = 7


def _check_params(alpha: float, baseline: int, min_sigma: float) -> None:
    if isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 3:
        raise DetectionError(
            "detection.param", "baseline must be a whole number >= 3", param="baseline"
        )
    if not 0.0 < alpha < 1.0:
        raise DetectionError(
            "detection.param", "alpha must lie strictly between 0 and 1", param="alpha"
        )
    if not min_sigma >= 0.0:
        raise DetectionError("detection.param", "min_sigma must be >= 0", param="min_sigma")


def _window_stats(x: FloatArray, n: int, lag: int, first: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sd (n-1 denominator) of x[..., t-lag-n .. t-lag-1] for every t >= first
    (time on the last axis), from running sums: for counts (whole numbers, sums below 2^53)
    the sums and n * S2 - S1^2 are exact, so the sd is correctly rounded (R's two-pass sd
    agrees to the last bits) and exactly 0 for a constant window."""
    zero = np.zeros((*x.shape[:-1], 1))
    s1 = np.concatenate([zero, np.cumsum(x, axis=-1)], axis=-1)
    s2 = np.concatenate([zero, np.cumsum(x * x, axis=-1)], axis=-1)
    lo, hi = first - lag - n, x.shape[-1] - lag - n  # window starts
    w1 = s1[..., lo + n : hi + n] - s1[..., lo:hi]
    w2 = s2[..., lo + n : hi + n] - s2[..., lo:hi]
    mean = w1 / n
    sd = np.sqrt(np.maximum(n * w2 - w1 * w1, 0.0) / (n * (n - 1)))
    return mean, sd


def ears_bounds(
    counts: FloatArray, *, variant: str, alpha: float, baseline: int, min_sigma: float
) -> tuple[int, FloatArray]:
    """(index of the first evaluated day, upper bounds from there on; NaN where undefined).

    `counts` is one series, or several as rows of a matrix (time on the last axis); the
    alarms are `counts[..., first:] > bounds`.
    """
    n = baseline
    z = float(norm.ppf(1.0 - alpha))
    first = {"C1": n, "C2": n + 2, "C3": n + 4}[variant]
    if counts.shape[-1] <= first:
        return first, np.empty((*counts.shape[:-1], 0))
    with np.errstate(all="ignore"):
        if variant == "C1":
            mean, sd = _window_stats(counts, n, 0, first)
            return first, mean + z * np.maximum(sd, min_sigma)
        if variant == "C2":
            mean, sd = _window_stats(counts, n, 2, first)
            return first, mean + z * np.maximum(sd, min_sigma)
        # C3: C2 statistics from two days before the first evaluated day on.
        mean, sd = _window_stats(counts, n, 2, first - 2)
        sigma = np.maximum(sd, min_sigma)
        c2 = (counts[..., first - 2 :] - mean) / sigma
        excess = np.maximum(0.0, c2[..., :-2] - 1.0) + np.maximum(0.0, c2[..., 1:-1] - 1.0)
        bound = counts[..., first:] + sigma[..., 2:] * (z - excess)
        return first, np.maximum(0.0, bound)


def check_ears(variant: str, alpha: float | None, baseline: int, min_sigma: float) -> float:
    """The alpha to use (the package's default for the variant when None); raises
    DetectionError for a bad variant or parameter."""
    if variant not in VARIANTS:
        raise DetectionError("detection.method", f"unknown EARS variant {variant!r}")
    alpha = DEFAULT_ALPHA[variant] if alpha is None else float(alpha)
    _check_params(alpha, baseline, float(min_sigma))
    return alpha


def detect_ears(
    points: Points,
    *,
    variant: str,
    alpha: float | None = None,
    baseline: int = DEFAULT_BASELINE,
    min_sigma: float = 0.0,
) -> list[Evaluation]:
    """EARS `variant` (C1, C2, C3) over a daily series; one Evaluation per evaluable day."""
    alpha = check_ears(variant, alpha, baseline, min_sigma)
    dates, counts = check_series(points, step_days=1)
    first, bounds = ears_bounds(
        counts, variant=variant, alpha=alpha, baseline=baseline, min_sigma=float(min_sigma)
    )
    with np.errstate(invalid="ignore"):
        alarms = counts[first:] > bounds  # NaN compares False: no alarm (R: NA)
    return evaluations(dates[first:], counts[first:], bounds, alarms)
