"""Farrington flexible with the semantics of `surveillance::farringtonFlexible` (1.20).

Weekly series (dates 7 days apart, the sts's `epochAsDate = TRUE`, freq 52). For week k,
from the (52*b + w + 1)-th week on (the package's default `range`):

1. Reference weeks: the same date 1..b years back by the calendar (R's `seq(by = "-1 year")`,
   a 29 February going to 1 March), moved to the nearest date on the same weekday.
2. Blocks (R's `blocks`): weeks k-w..k and each reference week +-w form period `no_periods`;
   the weeks between two consecutive windows are cut into no_periods - 1 blocks, the first
   ones one week longer. The weeks k-past_weeks_not_included..k are then dropped, and so is
   every week in no block.
3. A quasi-Poisson GLM (log link) response ~ 1 + wtime + seasgroups (wtime in weeks since the
   first kept week; seasgroups only when no_periods > 1), fitted by IRLS exactly as R's
   glm.fit (start mu = y + 0.1, stop when |dev - dev_old| / (|dev| + 0.1) < 1e-8, at most 25
   iterations); not converging with the trend, it is refitted without; not converging without,
   the week has no threshold. phi = max(dispersion, 1). With `reweight`, observations whose
   Anscombe residual exceeds `weights_threshold` get weights gamma * s^-2 (others gamma), and
   the model is refitted with those prior weights.
4. The trend stays only if its t-test p-value is below p_threshold_trend, b >= 3 and the
   prediction does not exceed the largest count in the fitted data; otherwise steps 3 are
   repeated without it.
5. Threshold: "nbPlugin" (Noufaily): the (1-alpha) quantile of a negative binomial with mean
   exp(eta0) and variance phi * mean (Poisson when phi <= 1); "muan": the same with the mean
   exp(eta0 + z_(1-alpha) * se(eta0)); "delta" (Farrington 1996): the power-transformed normal
   bound (mu0^e + z * se)^(1/e), e from `powertrans`.
6. Fewer than limit54_cases counts in the last limit54_weeks weeks: no threshold, no alarm.
   Otherwise the package's score X = (y - pred) / (upper - pred) (pred on the link scale for
   nbPlugin and muan, as the package does) alarms when X > 1 and y != 0.

Defaults are the Noufaily et al. (2013) settings, not the R function's own defaults (noPeriods
1, pastWeeksNotIncluded = w, thresholdMethod "delta"): see docs/sentinel-detection.md.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from fangkong.sentinel.detection.base import (
    DetectionError,
    Evaluation,
    FloatArray,
    Points,
    check_series,
)
from fangkong.sentinel.detection.glm import Fit, Unfit, glm_fit

FREQ = 52
THRESHOLD_METHODS = ("nbPlugin", "muan", "delta")
POWERTRANS = {"2/3": 2 / 3, "1/2": 1 / 2, "none": 1.0}


@dataclass(frozen=True, slots=True)
class Settings:
    alpha: float
    b: int
    w: int
    reweight: bool
    weights_threshold: float
    past_weeks_not_included: int
    no_periods: int
    threshold_method: str
    trend: bool
    p_threshold_trend: float
    limit54_cases: int
    limit54_weeks: int
    powertrans: str


def detect_farrington(
    points: Points,
    *,
    alpha: float = 0.05,
    b: int = 5,
    w: int = 3,
    reweight: bool = True,
    weights_threshold: float = 2.58,
    past_weeks_not_included: int = 26,
    no_periods: int = 10,
    threshold_method: str = "nbPlugin",
    trend: bool = True,
    p_threshold_trend: float = 0.05,
    limit54_cases: int = 5,
    limit54_weeks: int = 4,
    powertrans: str = "2/3",
) -> list[Evaluation]:
    """Farrington flexible over a weekly series; one Evaluation per week from week 52*b + w + 1."""
    settings = Settings(
        float(alpha),
        b,
        w,
        bool(reweight),
        float(weights_threshold),
        past_weeks_not_included,
        no_periods,
        threshold_method,
        bool(trend),
        float(p_threshold_trend),
        limit54_cases,
        limit54_weeks,
        powertrans,
    )
    _check(settings)
    dates, counts = check_series(points, step_days=7)
    index = {day: i for i, day in enumerate(dates)}
    out = []
    for k in range(FREQ * settings.b + settings.w, len(counts)):
        count = int(counts[k])
        try:
            upper, alarm = _evaluate(k, dates, index, counts, settings)
        except Unfit:
            out.append(Evaluation(dates[k], count, None, False))
            continue
        out.append(Evaluation(dates[k], count, upper, alarm))
    return out


def _check(s: Settings) -> None:
    def bad(param: str, reason: str) -> DetectionError:
        return DetectionError("detection.param", f"{param} {reason}", param=param)

    for name in (
        "b",
        "w",
        "past_weeks_not_included",
        "no_periods",
        "limit54_cases",
        "limit54_weeks",
    ):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(name, "must be a whole number")
    if s.b < 1:
        raise bad("b", "must be >= 1")
    if s.w < 0:
        raise bad("w", "must be >= 0")
    if s.no_periods < 1:
        raise bad("no_periods", "must be >= 1")
    if s.past_weeks_not_included < 0:
        raise bad("past_weeks_not_included", "must be >= 0")
    if s.limit54_cases < 0 or s.limit54_weeks < 1:
        raise bad("limit54_cases", "and limit54_weeks must be >= 0 and >= 1")
    if not 0.0 < s.alpha < 1.0:
        raise bad("alpha", "must lie strictly between 0 and 1")
    if s.threshold_method not in THRESHOLD_METHODS:
        raise bad("threshold_method", f"must be one of: {', '.join(THRESHOLD_METHODS)}")
    if s.powertrans not in POWERTRANS:
        raise bad("powertrans", f"must be one of: {', '.join(POWERTRANS)}")


# ---- reference weeks and blocks -------------------------------------------------------------


def _years_back(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year: R's POSIXlt normalises to 1 March
        return datetime.date(day.year - years, 3, 1)


def reference_dates(day: datetime.date, b: int) -> list[datetime.date]:
    """R's algo.farrington.referencetimepoints for weekly dates: `day` and the same date
    1..b years back, each moved to the nearest date on `day`'s weekday (ties: the earlier
    candidate computed by the package, A)."""
    want = day.isoweekday() % 7  # R's format(, "%w"): Sunday 0
    out = []
    for i in range(b + 1):
        ref = _years_back(day, i)
        a = ref - datetime.timedelta(days=(ref.isoweekday() % 7) - want)
        other = a + datetime.timedelta(days=-7 if a > ref else 7)
        out.append(a if abs((a - ref).days) <= abs((other - ref).days) else other)
    return out


def _assign(vector: FloatArray, first: int, last: int, value: float) -> None:
    """R's `vector[first:last] <- value` with 1-based first, last: a decreasing sequence when
    first > last, index 0 ignored, a negative index an error (R refuses to mix signs)."""
    step = 1 if last >= first else -1
    idx = list(range(first, last + step, step))
    if any(i < 0 for i in idx):
        raise Unfit
    idx = [i - 1 for i in idx if i != 0]
    if idx and max(idx) >= len(vector):
        raise Unfit  # R would grow the vector: never the case for weeks before k
    vector[idx] = value


def blocks(refs: list[int], *, n: int, now: int, b: int, w: int, p: int) -> FloatArray:
    """R's `blocks` (1-based week numbers in, a factor level or NaN per week out)."""
    factors = np.full(n, np.nan)
    _assign(factors, now - w, now, p)
    weeks = sorted(refs, reverse=True)
    for i in range(1, b + 1):
        ref_week = weeks[i]
        _assign(factors, ref_week - w, ref_week + w, p)
        if p != 1:
            period = weeks[i - 1] - 2 * w - 1 - ref_week
            if period < p - (2 * w + 1):
                raise Unfit  # R: "Number of factors too big!"
            length, rest = divmod(period, p - 1)
            lengths = [length + 1 if j < rest else length for j in range(p - 1)]
            cum = np.cumsum([0, *lengths]).tolist()
            for j in range(1, p):
                _assign(factors, ref_week + w + 1 + cum[j - 1], ref_week + w + 1 + cum[j] - 1, j)
    return factors


# ---- the GLM, as R's glm.fit, summary.glm, predict.glm --------------------------------------


def _fit_flexible(x: FloatArray, y: FloatArray, s: Settings) -> tuple[Fit, float, float]:
    """algo.farrington.fitGLM.flexible for one design: (model, phi, dispersion seen later).

    The package stores the reweighting's prior weights over the model's working weights
    (`model$weights <- omega`), so every later `summary.glm` (the trend's t-test) and
    `predict.glm(se.fit = TRUE)` of a reweighted model uses sum(omega * r^2) / df, r the working
    residuals, as the dispersion; phi, used by the thresholds, is the true one.
    """
    fit = glm_fit(x, y, np.ones(len(y)), must_converge=True)
    phi = max(fit.dispersion, 1.0)
    if not s.reweight:
        return fit, phi, fit.dispersion
    with np.errstate(all="ignore"):
        a = 1.5 * (y ** (2 / 3) * fit.mu ** (-1 / 6) - fit.mu**0.5)
        res = a / np.sqrt(phi * (1 - fit.hat))
        big = res > s.weights_threshold
        gamma = len(res) / float(np.sum(np.where(big, res**-2.0, 1.0)))
        omega = np.where(big, gamma * res**-2.0, gamma)
    if not np.all(np.isfinite(omega)):
        raise Unfit
    fit = glm_fit(x, y, omega, must_converge=False)
    phi = max(fit.dispersion, 1.0)
    later = (
        float(np.sum(omega * fit.residuals**2) / fit.df_residual)
        if fit.df_residual > 0
        else math.nan
    )
    return fit, phi, later


@dataclass(frozen=True, slots=True)
class _Design:
    y: FloatArray
    base_x: FloatArray  # intercept and season dummies
    base_new: FloatArray  # the row of week k
    trend_x: FloatArray  # the same with wtime as second column
    trend_new: FloatArray


def _design(
    k: int,
    dates: list[datetime.date],
    index: dict[datetime.date, int],
    counts: FloatArray,
    s: Settings,
) -> _Design:
    """algo.farrington.data.glm and the model matrix of formulaGLM for week k."""
    refs = []
    for ref in reference_dates(dates[k], s.b):
        if ref not in index:
            raise Unfit  # R: "Some reference time points did not exist"
        refs.append(index[ref] + 1)
    factors = blocks(refs, n=len(counts), now=k + 1, b=s.b, w=s.w, p=s.no_periods)
    kept = factors.copy()
    _assign(kept, k + 1 - s.past_weeks_not_included, k + 1, np.nan)
    rows = np.flatnonzero(~np.isnan(kept))
    if len(rows) == 0:
        raise Unfit
    wtime = np.array([(dates[i] - dates[rows[0]]).days / 7 for i in rows])
    wtime_now = (dates[k] - dates[rows[0]]).days / 7
    columns = [np.ones(len(rows))]
    new = [1.0]
    if s.no_periods != 1:
        levels = sorted(set(factors[rows].tolist()))
        if len(levels) < 2:
            raise Unfit  # R: contrasts need a factor with 2 or more levels
        for level in levels[1:]:  # treatment contrasts: the lowest level is the reference
            columns.append((factors[rows] == level).astype(np.float64))
            new.append(1.0 if level == s.no_periods else 0.0)
    base_x = np.column_stack(columns)
    base_new = np.array(new)
    return _Design(
        y=counts[rows],
        base_x=base_x,
        base_new=base_new,
        trend_x=np.column_stack([base_x[:, :1], wtime, base_x[:, 1:]]),
        trend_new=np.concatenate([base_new[:1], [wtime_now], base_new[1:]]),
    )


def _final_model(d: _Design, s: Settings) -> tuple[Fit, float, float, FloatArray]:
    """algo.farrington.glm: (model, phi, dispersion seen by predict, row of week k)."""
    if s.trend:
        try:
            fit, phi, disp = _fit_flexible(d.trend_x, d.y, s)
        except Unfit:
            pass  # the package refits without the trend
        else:
            eta = float(d.trend_new @ fit.coef)
            se_t = math.sqrt(disp * fit.cov_unscaled[1, 1])
            p_value = 2 * float(special.stdtr(fit.df_residual, -abs(fit.coef[1] / se_t)))
            if s.b >= 3 and p_value < s.p_threshold_trend and _exp(eta) <= float(d.y.max()):
                return fit, phi, disp, d.trend_new
    fit, phi, disp = _fit_flexible(d.base_x, d.y, s)
    return fit, phi, disp, d.base_new


def _evaluate(
    k: int,
    dates: list[datetime.date],
    index: dict[datetime.date, int],
    counts: FloatArray,
    s: Settings,
) -> tuple[float | None, bool]:
    fit, phi, disp, x_new = _final_model(_design(k, dates, index, counts, s), s)
    eta0 = float(x_new @ fit.coef)
    se_eta0 = math.sqrt(disp * float(x_new @ fit.cov_unscaled @ x_new))
    y_now = float(counts[k])
    upper, pred = _threshold(eta0, se_eta0, phi, s)
    recent = float(counts[max(0, k - s.limit54_weeks + 1) : k + 1].sum())
    if recent < s.limit54_cases or upper is None:
        return None, False
    with np.errstate(all="ignore"):
        score = np.float64(y_now - pred) / np.float64(upper - pred)
    return upper, bool(not np.isnan(score) and score > 1 and y_now != 0)


def _exp(value: float) -> float:
    """R's exp: Inf past the double range (math.exp raises)."""
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _threshold(eta0: float, se_eta0: float, phi: float, s: Settings) -> tuple[float | None, float]:
    """(upper bound or None, the `pred` the package's score subtracts)."""
    if s.threshold_method == "delta":
        # In numpy floats, as R computes: a mean that underflows to 0 gives Inf or NaN, not
        # an exception.
        with np.errstate(all="ignore"):
            mu0 = np.float64(_exp(eta0))
            se_fit = np.float64(se_eta0) * mu0  # predict.glm, type "response"
            tau = phi + se_fit**2 / mu0
            e = POWERTRANS[s.powertrans]
            if e == 2 / 3:
                se = np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau)
            elif e == 1 / 2:
                se = np.sqrt(1 / 4 * tau)
            else:
                se = np.sqrt(mu0 * tau)
            upper = float((mu0**e + float(stats.norm.ppf(1 - s.alpha)) * se) ** (1 / e))
        return (None if math.isnan(upper) else upper), float(mu0)
    if s.threshold_method == "nbPlugin":
        mean = _exp(eta0)
    else:  # muan
        mean = _exp(float(stats.norm.ppf(1 - s.alpha, loc=eta0, scale=se_eta0)))
    if math.isinf(mean):
        return None, eta0
    if phi > 1:
        upper = float(stats.nbinom.ppf(1 - s.alpha, mean / (phi - 1), 1 / phi))
    else:
        upper = float(stats.poisson.ppf(1 - s.alpha, mean))
    return upper, eta0
