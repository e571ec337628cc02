"""Tests of bench.analysis.inference: runs as the units, and Benjamini-Hochberg."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bench.analysis import inference
from bench.analysis.inference import adjust_p, compare_runs


def _runs(rng: np.random.Generator, centres: list[float], n: int = 10) -> list[list[float]]:
    """One run per centre: *n* log-normal samples around it."""
    return [list(c * rng.lognormal(0.0, 0.08, n)) for c in centres]


def _log_medians(runs: list[list[float]]) -> np.ndarray:
    return np.log([np.median(run) for run in runs])


def test_equal_run_counts_use_students_t_on_log_run_medians() -> None:
    rng = np.random.default_rng(1)
    a, b = _runs(rng, [1.0, 1.04, 0.97]), _runs(rng, [1.3, 1.25, 1.38])

    found = compare_runs(a, b)

    reference = sps.ttest_ind(_log_medians(b), _log_medians(a), equal_var=True)
    interval = reference.confidence_interval(0.95)
    assert found.test == inference.POOLED_LOG
    assert found.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert found.ratio is not None and found.ratio.ci is not None
    assert found.ratio.ci == pytest.approx((math.exp(interval.low), math.exp(interval.high)))
    centre_a = math.exp(_log_medians(a).mean())
    assert found.centre_a == pytest.approx(centre_a)
    assert found.ratio.value == pytest.approx(found.centre_b / found.centre_a)
    assert found.ratio.ci[0] < found.ratio.value < found.ratio.ci[1]


def test_unequal_run_counts_use_welchs_t() -> None:
    rng = np.random.default_rng(2)
    a, b = _runs(rng, [1.0, 1.1, 0.9, 1.05]), _runs(rng, [1.2, 1.5])

    found = compare_runs(a, b)

    reference = sps.ttest_ind(_log_medians(b), _log_medians(a), equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert found.test == inference.WELCH_LOG
    assert found.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert found.ratio is not None
    assert found.ratio.ci == pytest.approx((math.exp(interval.low), math.exp(interval.high)))


def test_a_single_run_borrows_the_other_sides_run_to_run_spread() -> None:
    rng = np.random.default_rng(3)
    a, b = _runs(rng, [1.0]), _runs(rng, [1.5, 1.4, 1.6])

    found = compare_runs(a, b)

    x, y = _log_medians(a), _log_medians(b)
    spread = y.std(ddof=1)  # the single run adds no squares
    t = (y.mean() - x.mean()) / (spread * math.sqrt(1 + 1 / 3))
    assert found.test == inference.POOLED_LOG
    assert found.p_value == pytest.approx(2 * sps.t.sf(abs(t), 2))
    assert found.centre_a == pytest.approx(float(np.median(a[0])))


def test_one_run_per_side_is_not_a_run_comparison() -> None:
    with pytest.raises(ValueError, match="two runs on one side"):
        compare_runs([[1.0, 2.0]], [[1.0, 3.0]])


def test_values_that_are_not_positive_compare_run_medians_without_a_ratio() -> None:
    a = [[0.0, 0.0, 2.0], [0.0, 3.0, 3.0]]
    b = [[5.0, 6.0, 7.0], [6.0, 7.0, 8.0]]

    found = compare_runs(a, b)

    assert found.test == inference.POOLED_RAW and found.ratio is None
    assert (found.centre_a, found.centre_b) == (1.5, 6.5)
    reference = sps.ttest_ind([6.0, 7.0], [0.0, 3.0])
    assert found.p_value == pytest.approx(reference.pvalue)


def test_sides_with_no_spread_are_equal_or_certainly_different() -> None:
    same = compare_runs([[4.0], [4.0]], [[4.0], [4.0]])
    differ = compare_runs([[4.0], [4.0]], [[5.0], [5.0]])

    assert same.p_value == 1.0 and same.runs.needed is None
    assert differ.p_value == 0.0
    assert differ.ratio is not None and differ.ratio.ci == pytest.approx((1.25, 1.25))
    assert differ.runs.needed == 2 and not differ.runs.too_few


def test_runs_needed_grows_as_the_difference_shrinks_in_the_spread() -> None:
    x = np.log([1.0, 1.05, 0.95])
    clear = inference.runs_needed(x, np.log([1.5, 1.55, 1.45]))
    faint = inference.runs_needed(x, np.log([1.04, 1.09, 0.99]))
    none = inference.runs_needed(x, x.copy())

    assert clear.needed is not None and clear.needed <= 3 and not clear.too_few
    assert faint.needed is not None and faint.needed > 3 and faint.too_few
    assert faint.advice == f"too few runs to tell: need {faint.needed} per side, have 3"
    assert none.needed is None and none.advice == ""


def test_benjamini_hochberg_adjusts_in_the_given_order() -> None:
    # sorted: 0.005 -> 4*0.005/1 = 0.02; 0.01 -> 4*0.01/2 = 0.02; 0.03 -> 0.04; 0.04 -> 0.04
    assert adjust_p([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p([0.5, 0.9]) == pytest.approx([0.9, 0.9])  # step-up: min over the larger
    assert adjust_p([0.2]) == [0.2]
    assert adjust_p([]) == []
