"""detect(): the entry point's contract, and properties of each method checked against direct
restatements of the package's formulas on arbitrary series (hypothesis)."""

from __future__ import annotations

import datetime
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from fangkong.sentinel.detection import METHODS, DetectionError, Evaluation, detect, detect_arrays
from fangkong.sentinel.detection.farrington import reference_dates

DAY0 = datetime.date(2024, 1, 1)
counts_st = st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=60)


def _daily(counts: list[int]) -> list[tuple[datetime.date, int]]:
    return [(DAY0 + datetime.timedelta(days=i), c) for i, c in enumerate(counts)]


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, baseline=st.integers(3, 10), alpha=st.floats(0.0001, 0.2))
def test_ears_c1_c2_bound_is_mean_plus_z_sd_of_the_reference_days(
    counts: list[int], baseline: int, alpha: float
) -> None:
    z = float(norm.ppf(1 - alpha))
    for method, lag in (("ears-c1", 0), ("ears-c2", 2)):
        got = detect(_daily(counts), method=method, alpha=alpha, baseline=baseline)
        first = baseline + lag
        assert [e.date for e in got] == [d for d, _ in _daily(counts)][first:]
        for t, e in zip(range(first, len(counts)), got, strict=True):
            ref = counts[t - lag - baseline : t - lag]
            bound = statistics.fmean(ref) + z * statistics.stdev(ref)
            assert e.threshold is not None
            assert math.isclose(e.threshold, bound, rel_tol=1e-9, abs_tol=1e-9)
            assert e.count == counts[t]
            if abs(counts[t] - bound) > 1e-9:
                assert e.alarm == (counts[t] > bound)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, min_sigma=st.floats(0, 3))
def test_ears_c3_alarms_when_the_two_previous_c2_excesses_exceed_z(
    counts: list[int], min_sigma: float
) -> None:
    """The package's C3 bound is observed + sigma * (z - excess): it alarms exactly when the
    C2 excesses (above 1) of the two previous days sum to more than z, sigma being > 0."""
    got = detect(_daily(counts), method="ears-c3", min_sigma=min_sigma)
    z = float(norm.ppf(1 - 0.025))

    def c2(t: int) -> float | None:
        ref = counts[t - 9 : t - 2]
        sigma = max(statistics.stdev(ref), min_sigma)
        return None if sigma == 0 else (counts[t] - statistics.fmean(ref)) / sigma

    for t, e in zip(range(11, len(counts)), got, strict=True):
        a, b = c2(t - 2), c2(t - 1)
        sigma = max(statistics.stdev(counts[t - 9 : t - 2]), min_sigma)
        if a is None or b is None or sigma == 0:
            continue  # 0/0 or an infinite excess: covered by the reference series
        excess = max(0.0, a - 1) + max(0.0, b - 1)
        if abs(excess - z) > 1e-9:
            assert e.alarm == (excess > z)
        assert e.threshold is not None
        assert e.threshold >= 0


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 60), min_size=2, max_size=60),
    baseline=st.integers(1, 10),
    k=st.floats(0.1, 3),
    h=st.floats(0.5, 8),
)
def test_cusum_standard_alarms_exactly_when_the_count_reaches_the_threshold(
    counts: list[int], baseline: int, k: float, h: float
) -> None:
    got = detect(_daily(counts), method="cusum", baseline=baseline, k=k, h=h)
    m = statistics.fmean(counts[:baseline])
    if m == 0:
        assert got == []
        return
    s = 0.0
    for x, e in zip(counts[baseline:], got, strict=True):
        needed = m + math.sqrt(m) * (h + k - s)  # the count at which S reaches h
        s = max(0.0, s + (x - m) / math.sqrt(m) - k)
        assert e.alarm == (s >= h)
        assert e.threshold == max(0.0, math.ceil(needed))
        if abs(x - needed) > 1e-9:
            assert e.alarm == (x >= needed)


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(0, 50), min_size=0, max_size=40), data=st.data())
def test_input_order_does_not_matter(counts: list[int], data: st.DataObject) -> None:
    points = _daily(counts)
    shuffled = data.draw(st.permutations(points))
    for method in ("ears-c1", "ears-c3", "cusum"):
        assert detect(shuffled, method=method) == detect(points, method=method)


def test_every_method_returns_evaluations_in_date_order() -> None:
    daily = _daily([(i * 7) % 11 for i in range(60)])
    weekly = [(DAY0 + datetime.timedelta(weeks=i), 5 + i % 3) for i in range(52 * 5 + 6)]
    for method in METHODS:
        got = detect(weekly if method == "farrington" else daily, method=method)
        assert got
        assert all(isinstance(e, Evaluation) for e in got)
        assert [e.date for e in got] == sorted(e.date for e in got)


def test_farrington_evaluates_from_week_52b_plus_w_plus_1() -> None:
    weekly = [(DAY0 + datetime.timedelta(weeks=i), 5 + i % 4) for i in range(52 * 5 + 5)]
    got = detect(weekly, method="farrington")
    assert [e.date for e in got] == [d for d, _ in weekly[52 * 5 + 3 :]]
    assert detect(weekly[: 52 * 5 + 3], method="farrington") == []


def test_farrington_needs_five_cases_in_four_weeks_to_give_a_threshold() -> None:
    weekly = [(DAY0 + datetime.timedelta(weeks=i), 3) for i in range(52 * 5 + 4)]
    weekly[-4:] = [(d, 1) for d, _ in weekly[-4:]]  # 4 cases in the last 4 weeks
    (last,) = detect(weekly, method="farrington")
    assert last == Evaluation(weekly[-1][0], 1, None, False)
    (last,) = detect(weekly, method="farrington", limit54_cases=4)
    assert last.threshold is not None


def test_farrington_reference_weeks_follow_the_calendar() -> None:
    # 29 February 2016 (a Monday) is 1 March 2015 a year back (R's seq by "-1 year"),
    # moved to the nearest Monday, 2 March 2015.
    refs = reference_dates(datetime.date(2016, 2, 29), 2)
    assert refs == [
        datetime.date(2016, 2, 29),
        datetime.date(2015, 3, 2),
        datetime.date(2014, 3, 3),
    ]
    assert all(d.weekday() == 0 for d in refs)


@pytest.mark.parametrize(
    ("points", "code"),
    [
        ([(DAY0, 1), (DAY0, 2)], "detection.duplicate_date"),
        ([(DAY0, 1), (DAY0 + datetime.timedelta(days=2), 2)], "detection.gap"),
        ([(DAY0, -1)], "detection.count"),
        ([(DAY0, True)], "detection.count"),
        ([(DAY0, 1.5)], "detection.count"),
    ],
)
def test_irregular_series_are_refused(points: list[tuple[datetime.date, int]], code: str) -> None:
    with pytest.raises(DetectionError) as exc:
        detect(points, method="ears-c1")
    assert exc.value.code == code


def test_weekly_series_for_farrington_must_be_weekly() -> None:
    with pytest.raises(DetectionError, match="7 day"):
        detect(_daily([1, 2, 3]), method="farrington")


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("ears-c4", {}, "unknown method 'ears-c4'"),
        ("ears-c1", {"k": 1}, "ears-c1 takes no parameter k"),
        ("ears-c1", {"baseline": 2}, "baseline must be a whole number >= 3"),
        ("ears-c1", {"baseline": 7.0}, "baseline must be a whole number >= 3"),
        ("ears-c2", {"alpha": 0}, "alpha must lie strictly between 0 and 1"),
        ("ears-c2", {"min_sigma": -1}, "min_sigma must be >= 0"),
        ("cusum", {"trans": "anscombeNegBin"}, "trans must be one of"),
        ("cusum", {"baseline": 0}, "baseline must be a whole number >= 1"),
        ("farrington", {"no_periods": 0}, "no_periods must be >= 1"),
        ("farrington", {"threshold_method": "exact"}, "threshold_method must be one of"),
        ("farrington", {"b": 2.5}, "b must be a whole number"),
    ],
)
def test_bad_parameters_are_refused(method: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(DetectionError, match=message):
        detect(_daily(list(range(30))), method=method, **params)


def test_the_package_defaults_apply_when_parameters_are_left_out() -> None:
    points = _daily([3, 5, 4, 6, 2, 5, 4, 7, 3, 12, 4, 5, 6, 3, 2, 4])
    assert detect(points, method="ears-c3") == detect(
        points, method="ears-c3", alpha=0.025, baseline=7, min_sigma=0.0
    )
    assert detect(points, method="ears-c1") == detect(points, method="ears-c1", alpha=0.001)
    assert detect(points, method="cusum", baseline=5) == detect(
        points, method="cusum", baseline=5, k=1.04, h=2.26, trans="standard"
    )


@settings(max_examples=30, deadline=None)
@given(
    matrix=st.integers(1, 5).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(0, 30), min_size=width * 8, max_size=width * 8),
            min_size=1,
            max_size=4,
        )
    ),
    method=st.sampled_from(["ears-c1", "ears-c2", "ears-c3", "cusum"]),
    baseline=st.integers(3, 9),
)
def test_detect_arrays_agrees_with_detect_on_every_row(
    matrix: list[list[int]], method: str, baseline: int
) -> None:
    result = detect_arrays(np.array(matrix, dtype=float), method=method, baseline=baseline)
    for row, bounds, alarms in zip(matrix, result.thresholds, result.alarms, strict=True):
        want = detect(_daily(row), method=method, baseline=baseline)
        if not want:  # too short, or a CUSUM training mean of 0
            assert len(row) <= result.first or np.all(np.isnan(bounds))
            assert not alarms.any()
            continue
        got = [
            Evaluation(
                DAY0 + datetime.timedelta(days=result.first + j),
                c,
                None if math.isnan(b) else b,
                bool(a),
            )
            for j, (c, b, a) in enumerate(
                zip(row[result.first :], bounds.tolist(), alarms.tolist(), strict=True)
            )
        ]
        assert got == want


def test_detect_arrays_refuses_farrington_and_bad_input() -> None:
    with pytest.raises(DetectionError, match="not 'farrington'"):
        detect_arrays(np.ones((2, 400)), method="farrington")
    with pytest.raises(DetectionError, match="matrix of whole numbers >= 0"):
        detect_arrays(-np.ones((2, 40)), method="ears-c1")
    with pytest.raises(DetectionError, match="matrix of whole numbers >= 0"):
        detect_arrays(np.full((2, 40), 1.5), method="ears-c1")
    with pytest.raises(DetectionError, match="takes no parameter k"):
        detect_arrays(np.ones((2, 40)), method="ears-c1", k=1)
