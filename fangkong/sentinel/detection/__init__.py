"""Statistical alarms on count series, with the semantics of the R package `surveillance` 1.20.

One entry point: `detect(points, method=..., **params)`. Methods and their parameters (all
plain values, so that a rulebook entry maps onto them 1:1; docs/sentinel-detection.md gives
the mapping to the R arguments):

- "ears-c1", "ears-c2", "ears-c3" (daily series; `earsC`): alpha (default 0.001 for C1 and
  C2, 0.025 for C3, as the package), baseline (7), min_sigma (0.0).
- "farrington" (weekly series, dates 7 days apart; `farringtonFlexible` with the Noufaily et
  al. 2013 settings): alpha (0.05), b (5), w (3), reweight (True), weights_threshold (2.58),
  past_weeks_not_included (26), no_periods (10), threshold_method ("nbPlugin"; also "delta",
  "muan"), trend (True), p_threshold_trend (0.05), limit54_cases (5), limit54_weeks (4),
  powertrans ("2/3"; also "1/2", "none"; used by "delta" only).
- "cusum" (any regular series; `cusum`/`algo.cusum`): k (1.04), h (2.26), m (None: the mean
  of the training days), trans ("standard"; also "rossi", "anscombe", "anscombe2nd",
  "pearsonNegBin", "none"), alpha (0.1, the negative binomial dispersion of
  "pearsonNegBin"), baseline (28: the training days before the first evaluated one).

The result holds one Evaluation per evaluable date (the package's `range`), in date order.
Raises DetectionError (an Invalid) for an unknown method or parameter, a bad value, or a
series with duplicate or missing dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from fangkong.sentinel.detection.base import (
    BoolArray,
    DetectionError,
    Evaluation,
    FloatArray,
    Points,
)
from fangkong.sentinel.detection.cusum import check_cusum, cusum_arrays, detect_cusum
from fangkong.sentinel.detection.ears import check_ears, detect_ears, ears_bounds
from fangkong.sentinel.detection.farrington import detect_farrington
from fangkong.sentinel.detection.params import PARSERS, parse_params

__all__ = [
    "METHODS",
    "ArrayResult",
    "DetectionError",
    "Evaluation",
    "detect",
    "detect_arrays",
    "parse_params",
]


def _ears(variant: str) -> Callable[..., list[Evaluation]]:
    def run(points: Points, **params: Any) -> list[Evaluation]:
        return detect_ears(points, variant=variant, **params)

    return run


_RUNNERS: Final[dict[str, Callable[..., list[Evaluation]]]] = {
    "ears-c1": _ears("C1"),
    "ears-c2": _ears("C2"),
    "ears-c3": _ears("C3"),
    "farrington": detect_farrington,
    "cusum": detect_cusum,
}
METHODS: Final = tuple(_RUNNERS)


def detect(points: Points, *, method: str, **params: Any) -> list[Evaluation]:
    """Evaluate `method` over one series of (date, count); see the module docstring."""
    runner = _RUNNERS.get(method)
    if runner is None:
        raise DetectionError(
            "detection.method", f"unknown method {method!r}; one of: {', '.join(METHODS)}"
        )
    _unknown(method, params)
    return runner(points, **params)


@dataclass(frozen=True, slots=True)
class ArrayResult:
    """Thresholds and alarms of many series at once: column j of `thresholds` and `alarms` is
    time index `first + j` of the input; NaN threshold where the method gives none."""

    first: int
    thresholds: FloatArray
    alarms: BoolArray


def _unknown(method: str, params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(PARSERS[method]))
    if unknown:
        raise DetectionError(
            "detection.param",
            f"{method} takes no parameter {', '.join(unknown)}; "
            f"it takes: {', '.join(sorted(PARSERS[method]))}",
            param=unknown[0],
        )


def detect_arrays(counts: FloatArray, *, method: str, **params: Any) -> ArrayResult:
    """The daily methods (EARS, CUSUM) over a matrix of regular, gap-free series (one row per
    series, time on the columns, whole numbers >= 0), vectorised across the series: the same
    thresholds and alarms as `detect` on each row, for bulk runs and benchmarks. Farrington
    fits a model per series and week and is not offered here. For CUSUM, a row whose training
    mean is 0 has NaN thresholds and no alarms (detect gives no evaluations for it)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or not np.all((counts >= 0) & (counts == np.floor(counts))):
        raise DetectionError("detection.count", "counts must be a matrix of whole numbers >= 0")
    if method.startswith("ears-") and method in _RUNNERS:
        _unknown(method, params)
        variant = method.removeprefix("ears-").upper()
        baseline = params.get("baseline", 7)
        min_sigma = float(params.get("min_sigma", 0.0))
        alpha = check_ears(variant, params.get("alpha"), baseline, min_sigma)
        first, bounds = ears_bounds(
            counts, variant=variant, alpha=alpha, baseline=baseline, min_sigma=min_sigma
        )
        with np.errstate(invalid="ignore"):
            alarms = counts[:, first:] > bounds
        return ArrayResult(first, bounds, alarms)
    if method == "cusum":
        _unknown(method, params)
        check_cusum(params.get("trans", "standard"), params.get("baseline", 28), params.get("m"))
        bounds, alarms, usable = cusum_arrays(counts, **params)
        bounds = np.where(usable[:, None], bounds, np.nan)
        return ArrayResult(params.get("baseline", 28), bounds, alarms & usable[:, None])
    raise DetectionError(
        "detection.method",
        f"detect_arrays takes ears-c1, ears-c2, ears-c3 or cusum, not {method!r}",
    )
