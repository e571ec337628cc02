"""Statistics of raw samples, per call, on log-normal samples like a startup phase's:
:func:`bench.analysis.stats.summarize`, :func:`bench.analysis.stats.ratio_of_medians` (its
2,000-resample percentile bootstrap), :func:`bench.analysis.stats.check_sample_size`, and
:func:`bench.analysis.stats.min_samples_for_ci`.

The bootstrap's resampling draws and the sample-size check's interpolation positions are
made once per set size (pair of sizes) and kept: the ``warm`` cases measure a call that
finds them made, as all but the first comparison of a report do; the ``first`` cases
clear them before each round, so they measure the first call for a size."""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.analysis import stats

#: Samples per set: the quick suite's 5 would give no interval; 10 (file I/O, network),
#: 30 (startup), 1,000 (an adaptive run at its limit).
SIZES = (10, 30, 1000)


def _samples(n: int, median: float, seed: int) -> list[float]:
    return [float(x) for x in median * np.random.default_rng(seed).lognormal(0.0, 0.08, n)]


@pytest.mark.benchmark(group="stats.summarize")
@pytest.mark.parametrize("n", SIZES)
def test_summarize(benchmark: BenchmarkFixture, n: int) -> None:
    summary = benchmark(stats.summarize, _samples(n, 0.25, 1))
    assert summary.n == n


#: Rounds of a ``first`` case (each clears the caches, so no calibration).
FIRST_ROUNDS = 20


@pytest.mark.benchmark(group="stats.ratio_of_medians (2,000 resamples)")
@pytest.mark.parametrize("n", SIZES)
def test_ratio_of_medians(benchmark: BenchmarkFixture, n: int) -> None:
    ratio = benchmark(stats.ratio_of_medians, _samples(n, 0.002, 1), _samples(n, 0.25, 2))
    assert ratio is not None
    assert ratio.ci is not None


@pytest.mark.benchmark(group="stats.ratio_of_medians, first call for its sizes")
@pytest.mark.parametrize("n", SIZES)
def test_ratio_of_medians_first(benchmark: BenchmarkFixture, n: int) -> None:
    a, b = _samples(n, 0.002, 1), _samples(n, 0.25, 2)
    ratio = benchmark.pedantic(  # type: ignore[no-untyped-call]
        stats.ratio_of_medians,
        args=(a, b),
        setup=stats._resampling_plan.cache_clear,
        rounds=FIRST_ROUNDS,
    )
    assert ratio is not None


@pytest.mark.benchmark(group="stats.check_sample_size")
@pytest.mark.parametrize("n", SIZES)
def test_check_sample_size(benchmark: BenchmarkFixture, n: int) -> None:
    check = benchmark(stats.check_sample_size, _samples(n, 0.25, 1), _samples(n, 0.26, 2))
    assert check.have == n


@pytest.mark.benchmark(group="stats.check_sample_size, first call for its sizes")
@pytest.mark.parametrize("n", SIZES)
def test_check_sample_size_first(benchmark: BenchmarkFixture, n: int) -> None:
    a, b = _samples(n, 0.25, 1), _samples(n, 0.26, 2)
    check = benchmark.pedantic(  # type: ignore[no-untyped-call]
        stats.check_sample_size,
        args=(a, b),
        setup=stats._separation_positions.cache_clear,
        rounds=FIRST_ROUNDS,
    )
    assert check.have == n


@pytest.mark.benchmark(group="stats.min_samples_for_ci")
def test_min_samples_for_ci(benchmark: BenchmarkFixture) -> None:
    assert benchmark(stats.min_samples_for_ci) == 6
