"""Tests of bench.analysis.stats against textbook values and known distributions."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats as sps

from bench.analysis import stats


@pytest.mark.parametrize(
    ("n", "ranks"),
    # Conover, Practical Nonparametric Statistics, table A3 / the usual 95 % median table
    [(6, (1, 6)), (10, (2, 9)), (20, (6, 15)), (30, (10, 21)), (50, (18, 33)), (100, (40, 61))],
)
def test_median_ci_ranks_match_the_textbook_table(n: int, ranks: tuple[int, int]) -> None:
    assert stats.median_ci_ranks(n) == ranks


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_no_95_percent_interval_below_six_samples(n: int) -> None:
    assert stats.median_ci_ranks(n) is None
    assert stats.median_ci(list(range(n))) is None
    assert stats.min_samples_for_ci() == 6


def test_median_ci_picks_the_order_statistics_of_those_ranks() -> None:
    rng = np.random.default_rng(7)
    samples = list(rng.permutation(np.arange(1.0, 21.0)))  # 1..20 shuffled
    assert stats.median_ci(samples) == (6.0, 15.0)


def test_median_ci_coverage_is_at_least_nominal() -> None:
    """Over many samples from a skewed distribution the interval covers the true median
    at least 95 % of the time (it is conservative: exact coverage at n=20 is 95.86 %)."""
    rng = np.random.default_rng(11)
    true_median = math.exp(0.0)  # log-normal(0, 1)
    covered = 0
    trials = 2000
    for _ in range(trials):
        ci = stats.median_ci(rng.lognormal(0.0, 1.0, 20).tolist())
        assert ci is not None
        covered += ci[0] <= true_median <= ci[1]
    assert covered / trials >= 0.94


def test_summarize_keeps_its_contract() -> None:
    summary = stats.summarize([5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    assert summary.n == 10
    assert summary.median == 5.5
    assert (summary.ci_low, summary.ci_high) == (2.0, 9.0)
    assert (summary.minimum, summary.maximum) == (1.0, 10.0)
    assert summary.iqr == pytest.approx(4.5)
    assert summary.cv == pytest.approx(np.std(np.arange(1, 11), ddof=1) / 5.5)
    with pytest.raises(ValueError, match="at least one sample"):
        stats.summarize([])


def test_summarize_cv_agrees_with_the_exact_standard_deviation() -> None:
    """The spread is computed in floating point; it must agree with statistics.stdev
    (exact fractions) to rounding, on skewed sets of every size the suites use."""
    rng = np.random.default_rng(13)
    for n in (2, 3, 6, 10, 30, 1000):
        for _ in range(50):
            xs = (
                rng.lognormal(-3.0, rng.uniform(0.01, 1.5), n) * 10.0 ** rng.integers(-6, 9)
            ).tolist()
            cv = stats.summarize(xs).cv
            assert cv is not None
            assert cv == pytest.approx(statistics.stdev(xs) / statistics.fmean(xs), rel=1e-13)
    assert stats.summarize([0.5] * 4).cv == 0.0
    assert stats.summarize([0.5]).cv is None


@pytest.mark.parametrize(("n_a", "n_b", "sigma"), [(30, 25, 0.3), (10, 10, 0.08), (30, 30, 0.08)])
def test_ratio_of_medians_interval_covers_the_true_ratio(n_a: int, n_b: int, sigma: float) -> None:
    """Samples from log-normal distributions with medians 1 and 1.5: the 95 % bootstrap
    interval, with the report's resamples and seed, contains 1.5 in (nearly) 95 % of
    repeated experiments -- and not in all of them (an interval can be too wide). Every
    experiment here has the same sizes, so all of them share one set of resampling draws:
    what the report does for every comparison of two sets of the same sizes."""
    rng = np.random.default_rng(2024)
    covered = 0
    trials = 300
    for _ in range(trials):
        a = rng.lognormal(math.log(1.0), sigma, n_a)
        b = rng.lognormal(math.log(1.5), sigma, n_b)
        ratio = stats.ratio_of_medians(a.tolist(), b.tolist())
        assert ratio is not None and ratio.ci is not None
        assert ratio.ci[0] <= ratio.value <= ratio.ci[1]
        covered += ratio.ci[0] <= 1.5 <= ratio.ci[1]
    # the percentile bootstrap of a median is slightly liberal at these sizes, and
    # conservative where the medians' resampling distribution is coarse (n = 10)
    assert 0.90 <= covered / trials <= 0.99


def _bootstrap_by_numpy(
    a: np.ndarray, b: np.ndarray, *, resamples: int, seed: int, confidence: float
) -> tuple[float, float]:
    """The percentile bootstrap of median(b) / median(a) written plainly: resample the
    sorted sets with the index draws ratio_of_medians documents, take the medians, and
    the percentiles of the ratios."""
    rng = np.random.default_rng(seed)
    index_a = rng.integers(0, a.size, (resamples, a.size))
    index_b = rng.integers(0, b.size, (resamples, b.size))
    ratios = np.median(np.sort(b)[index_b], axis=1) / np.median(np.sort(a)[index_a], axis=1)
    low, high = np.quantile(ratios, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


@pytest.mark.parametrize(
    ("n_a", "n_b", "resamples", "seed", "confidence"),
    [
        (2, 2, 2000, 0, 0.95),
        (3, 8, 2000, 0, 0.95),
        (10, 10, 2000, 0, 0.95),
        (30, 25, 2000, 1, 0.90),
        (31, 1000, 500, 7, 0.99),
        (5000, 12, 300, 0, 0.95),  # drawn a block of rows at a time
    ],
)
def test_ratio_of_medians_equals_the_plain_numpy_bootstrap(
    n_a: int, n_b: int, resamples: int, seed: int, confidence: float
) -> None:
    """Reading each resample's median off its two middle ranks is the same computation as
    resampling the values and taking np.median."""
    rng = np.random.default_rng(n_a * n_b)
    a, b = rng.lognormal(0.0, 0.3, n_a), rng.lognormal(0.4, 0.3, n_b)
    ratio = stats.ratio_of_medians(
        a.tolist(), b.tolist(), resamples=resamples, seed=seed, confidence=confidence
    )
    assert ratio is not None and ratio.ci is not None
    expected = _bootstrap_by_numpy(a, b, resamples=resamples, seed=seed, confidence=confidence)
    assert ratio.ci == pytest.approx(expected, rel=1e-12)
    assert ratio.value == float(np.median(b) / np.median(a))


def test_ratio_of_medians_agrees_with_scipy_bootstrap_within_monte_carlo_error() -> None:
    """The same method as scipy.stats.bootstrap(method="percentile"), other draws: the
    bounds differ by Monte Carlo error, a small part of the interval's width."""
    rng = np.random.default_rng(15)
    deviations = []
    for trial in range(40):
        a, b = rng.lognormal(0.0, 0.3, 30), rng.lognormal(0.4, 0.3, 20)
        ratio = stats.ratio_of_medians(a.tolist(), b.tolist())
        assert ratio is not None and ratio.ci is not None
        reference = sps.bootstrap(
            (a, b),
            lambda x, y, axis: np.median(y, axis=axis) / np.median(x, axis=axis),
            paired=False,
            vectorized=True,
            n_resamples=stats.RESAMPLES,
            method="percentile",
            rng=np.random.default_rng(trial),
        ).confidence_interval
        width = reference.high - reference.low
        deviations += [
            abs(ratio.ci[0] - reference.low) / width,
            abs(ratio.ci[1] - reference.high) / width,
        ]
    assert max(deviations) < 0.2
    assert float(np.median(deviations)) < 0.04


def test_ratio_of_medians_is_reproducible_and_seeded() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.lognormal(0, 0.2, 15).tolist(), rng.lognormal(0.5, 0.2, 15).tolist()
    first = stats.ratio_of_medians(a, b)
    assert first == stats.ratio_of_medians(a, b)
    other = stats.ratio_of_medians(a, b, seed=1)
    assert other is not None and first is not None
    assert other.value == first.value and other.ci != first.ci


def test_ratio_of_medians_point_value_and_edge_cases() -> None:
    ratio = stats.ratio_of_medians([1.0, 2.0, 3.0], [4.0, 6.0, 8.0])
    assert ratio is not None and ratio.value == 3.0
    assert ratio.effect == pytest.approx(math.log(3.0))
    assert stats.ratio_of_medians([2.0], [1.0]) == stats.Ratio(0.5, None, 0.95)
    assert stats.ratio_of_medians([], [1.0]) is None
    assert stats.ratio_of_medians([0.0, 1.0], [1.0, 2.0]) is None
    constant = stats.ratio_of_medians([2.0] * 8, [3.0] * 8)
    assert constant is not None and constant.ci == (1.5, 1.5)


def test_mann_whitney_flags_a_real_shift() -> None:
    rng = np.random.default_rng(3)
    a = rng.lognormal(0.0, 0.5, 30)
    b = rng.lognormal(0.5, 0.5, 20)  # a 65 % slower median, heavy right tail
    assert stats.mann_whitney_p(a.tolist(), b.tolist()) < 0.01


def test_mann_whitney_false_alarm_rate_is_near_alpha() -> None:
    rng = np.random.default_rng(4)
    trials = 400
    alarms = sum(
        stats.mann_whitney_p(rng.pareto(3.0, 25).tolist(), rng.pareto(3.0, 15).tolist()) < 0.05
        for _ in range(trials)
    )
    assert 0.02 <= alarms / trials <= 0.08


def test_mann_whitney_edge_cases() -> None:
    assert stats.mann_whitney_p([1.0] * 5, [1.0] * 7) == 1.0
    # exact distribution for small samples without ties: all of b above all of a, 4 vs 4
    assert stats.mann_whitney_p([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]) == pytest.approx(2 / 70)
    with pytest.raises(ValueError, match="at least one sample"):
        stats.mann_whitney_p([], [1.0])


@pytest.mark.parametrize(
    ("p", "mark"),
    [(0.0001, "***"), (0.001, "**"), (0.009, "**"), (0.03, "*"), (0.05, ""), (0.5, "")],
)
def test_significance_marks(p: float, mark: str) -> None:
    assert stats.significance_mark(p) == mark


def test_sample_size_enough_for_a_clear_difference() -> None:
    rng = np.random.default_rng(8)
    a = rng.lognormal(0.0, 0.05, 30).tolist()
    b = rng.lognormal(1.0, 0.05, 30).tolist()  # medians 2.7x apart, 5 % spread
    check = stats.check_sample_size(a, b)
    assert check.needed == stats.min_samples_for_ci()
    assert not check.too_few and check.advice == ""


def test_sample_size_too_few_for_a_small_difference() -> None:
    rng = np.random.default_rng(9)
    check = stats.check_sample_size(
        rng.lognormal(0, 0.10, 10).tolist(), rng.lognormal(math.log(1.05), 0.10, 10).tolist()
    )
    assert check.too_few and check.have == 10
    assert check.needed is not None and 10 < check.needed < stats.SAMPLE_SIZE_LIMIT
    assert f"need {check.needed} per side, have 10" in check.advice


def _separation_rate(rng: np.random.Generator, n: int, shift: float, trials: int = 200) -> float:
    """How often the 95 % median intervals of fresh samples of size *n* are disjoint."""
    separated = 0
    for _ in range(trials):
        ci_a = stats.median_ci(rng.lognormal(0, 0.10, n).tolist())
        ci_b = stats.median_ci(rng.lognormal(shift, 0.10, n).tolist())
        assert ci_a is not None and ci_b is not None
        separated += ci_a[1] < ci_b[0]
    return separated / trials


def test_sample_size_needed_is_where_intervals_start_to_separate() -> None:
    """Observed sets as large as the population: at the n the check names, fresh samples
    give disjoint intervals about half the time; at half of it rarely, at twice it mostly."""
    rng = np.random.default_rng(10)
    shift = math.log(1.05)
    check = stats.check_sample_size(
        rng.lognormal(0, 0.10, 20_000).tolist(), rng.lognormal(shift, 0.10, 20_000).tolist()
    )
    assert check.needed is not None and not check.too_few
    assert _separation_rate(rng, check.needed // 2, shift) < 0.3
    assert 0.3 <= _separation_rate(rng, check.needed, shift) <= 0.7
    assert _separation_rate(rng, check.needed * 2, shift) > 0.7


def test_sample_size_too_few_for_tiny_sets_and_unknowable_for_equal_medians() -> None:
    small = stats.check_sample_size([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    assert small.too_few and small.needed == 6 and small.have == 3
    same = stats.check_sample_size([1.0, 2.0, 3.0], [0.5, 2.0, 9.0])
    assert same.needed is None and not same.too_few


def _sample_size_by_numpy_quantile(a: list[float], b: list[float]) -> stats.SampleSizeCheck:
    """check_sample_size's rule written straight with numpy.quantile over every n."""
    lower, upper = sorted((np.asarray(a), np.asarray(b)), key=lambda xs: float(np.median(xs)))
    n, low = stats._rank_table(0.95, stats.SAMPLE_SIZE_LIMIT)
    top = np.quantile(lower, (n + 1 - low) / (n + 1), method="weibull")
    bottom = np.quantile(upper, low / (n + 1), method="weibull")
    separated = np.flatnonzero(top < bottom)
    return stats.SampleSizeCheck(
        needed=int(n[separated[0]]) if separated.size else None, have=min(len(a), len(b))
    )


def test_sample_size_equals_the_rule_by_numpy_quantile() -> None:
    """Cached interpolation positions give what numpy.quantile gives, on pairs of every
    outcome: separate at once, after hundreds or thousands of samples, or never."""
    rng = np.random.default_rng(14)
    outcomes = set()
    for i in range(1000):
        n_a, n_b = rng.integers(1, 60, 2)
        a = rng.lognormal(0, rng.uniform(0.01, 0.5), n_a)
        b = rng.lognormal(rng.normal(0, 0.1), rng.uniform(0.01, 0.5), n_b)
        if i % 5 == 0:  # ties
            a, b = np.round(a, 2), np.round(b, 2)
        expected = _sample_size_by_numpy_quantile(a.tolist(), b.tolist())
        assert stats.check_sample_size(a.tolist(), b.tolist()) == expected
        outcomes.add(None if expected.needed is None else min(expected.needed // 500, 2))
    assert outcomes == {None, 0, 1, 2}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 6, 10, 29, 30, 31, 1000, 20_000])
def test_interpolation_positions_are_numpy_quantile_to_the_bit(size: int) -> None:
    xs = np.random.default_rng(size).lognormal(0.0, 1.0, size)
    n, low = stats._rank_table(0.95, stats.SAMPLE_SIZE_LIMIT)
    top, bottom = stats._separation_positions(size, 0.95, stats.SAMPLE_SIZE_LIMIT)
    for positions, probabilities in ((top, (n + 1 - low) / (n + 1)), (bottom, low / (n + 1))):
        expected = np.quantile(xs, probabilities, method="weibull")
        np.testing.assert_array_equal(positions.quantiles(np.sort(xs)), expected)
        np.testing.assert_array_equal(
            positions.quantiles(np.sort(xs), slice(100, 900)), expected[100:900]
        )


def test_format_slowdown_words_times_and_rates_alike() -> None:
    """One convention for every ratio to a baseline: a factor of at least 1, slower or
    faster, with the interval in the same words' units."""
    twice = stats.Ratio(2.0, (1.9, 2.1), 0.95)
    half = stats.Ratio(0.5, (0.45, 0.55), 0.95)
    assert stats.format_slowdown(twice, "lower") == "2.00\u00d7 slower [1.90\u20132.10]"
    assert stats.format_slowdown(twice, "higher") == "2.00\u00d7 faster [1.90\u20132.10]"
    assert stats.format_slowdown(half, "lower") == "2.00\u00d7 faster [1.82\u20132.22]"
    assert stats.format_slowdown(half, "higher", interval=False) == "2.00\u00d7 slower"
    assert stats.format_slowdown(None, "lower") == "\u2013"
