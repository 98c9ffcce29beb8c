"""The quasi-Poisson GLM (log link) of the Farrington methods, fitted by IRLS exactly as R's
glm.fit: start mu = y + 0.1, step halving when the deviance is not finite, stop when
|dev - dev_old| / (|dev| + 0.1) < 1e-8, at most 25 iterations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fangkong.sentinel.detection.base import FloatArray

MAXIT = 25
EPSILON = 1e-8


class Unfit(Exception):
    """This week cannot be evaluated (R: an error, or NA from a model that did not converge)."""


@dataclass(frozen=True, slots=True)
class Fit:
    coef: FloatArray
    mu: FloatArray
    cov_unscaled: FloatArray  # (R'R)^-1 of the last iteration's weighted design
    hat: FloatArray
    dispersion: float  # summary.glm's, not floored
    df_residual: int
    residuals: FloatArray  # working residuals (y - mu) / mu


def _dev(y: FloatArray, mu: FloatArray, wt: FloatArray) -> float:
    ratio = np.where(y == 0, 1.0, y / mu)
    return float(np.sum(2 * wt * (y * np.log(ratio) - (y - mu))))


def glm_fit(x: FloatArray, y: FloatArray, prior: FloatArray, *, must_converge: bool) -> Fit:
    # Near-empty series drive fitted means to underflow (0/0 in the deviance): R halves the
    # step then, as below, and so must not be stopped by numpy's warnings.
    with np.errstate(all="ignore"):
        return _irls(x, y, prior, must_converge=must_converge)


def _irls(x: FloatArray, y: FloatArray, prior: FloatArray, *, must_converge: bool) -> Fit:
    """Quasi-Poisson, log link, by IRLS with glm.fit's start, steps and stopping rule.

    Each step solves the weighted least squares by the normal equations where R
    uses a QR decomposition: the same solution up to rounding (the designs here are small and
    well conditioned), about ten times faster. Raises Unfit when the design is rank deficient,
    or when `must_converge` and it does not converge (the package checks convergence of the
    unweighted fit only).
    """
    mu = y + 0.1
    eta = np.log(mu)
    mu = np.exp(eta)
    devold = _dev(y, mu, prior)
    coef_old: FloatArray | None = None
    working_w = prior * mu
    gram = np.eye(x.shape[1])
    for _ in range(MAXIT):
        z = eta + (y - mu) / mu
        working_w = prior * mu
        xw = x.T * working_w
        gram = xw @ x
        try:
            coef = np.asarray(np.linalg.solve(gram, xw @ z), dtype=np.float64)
        except np.linalg.LinAlgError as exc:
            raise Unfit from exc  # R would drop an aliased column; not supported
        eta = x @ coef
        mu = np.exp(eta)
        dev = _dev(y, mu, prior)
        # glm.fit halves the step while the deviance is not finite or mu leaves (0, inf).
        halvings = 0
        while not (math.isfinite(dev) and np.all(np.isfinite(mu)) and np.all(mu > 0)):
            if coef_old is None or halvings >= MAXIT:
                raise Unfit
            coef = (coef + coef_old) / 2
            eta = x @ coef
            mu = np.exp(eta)
            dev = _dev(y, mu, prior)
            halvings += 1
        if abs(dev - devold) / (abs(dev) + 0.1) < EPSILON:
            break
        devold = dev
        coef_old = coef
    else:
        if must_converge:
            raise Unfit
    # glm.fit's `weights`, `qr` (hence the covariance and hat values) are those of the last
    # step: from the mu before the last solve.
    cov = np.asarray(np.linalg.inv(gram), dtype=np.float64)
    residuals = (y - mu) / mu
    df_residual = len(y) - x.shape[1]
    dispersion = (
        float(np.sum(working_w * residuals**2) / df_residual) if df_residual > 0 else math.nan
    )
    return Fit(
        coef=coef,
        mu=mu,
        cov_unscaled=cov,
        hat=working_w * np.sum((x @ cov) * x, axis=1),
        dispersion=dispersion,
        df_residual=df_residual,
        residuals=residuals,
    )
