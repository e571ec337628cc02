"""Statistics of raw samples, per call, on log-normal samples like a startup phase's:
:func:`bench.stats.summarize`, :func:`bench.stats.ratio_of_medians` (its 2,000-resample
percentile bootstrap), :func:`bench.stats.check_sample_size`, and
:func:`bench.stats.min_samples_for_ci`, which the report asks once per metric series."""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench import stats

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


@pytest.mark.benchmark(group="stats.ratio_of_medians (2,000 resamples)")
@pytest.mark.parametrize("n", SIZES)
def test_ratio_of_medians(benchmark: BenchmarkFixture, n: int) -> None:
    ratio = benchmark(stats.ratio_of_medians, _samples(n, 0.002, 1), _samples(n, 0.25, 2))
    assert ratio is not None
    assert ratio.ci is not None


@pytest.mark.benchmark(group="stats.check_sample_size")
@pytest.mark.parametrize("n", SIZES)
def test_check_sample_size(benchmark: BenchmarkFixture, n: int) -> None:
    check = benchmark(stats.check_sample_size, _samples(n, 0.25, 1), _samples(n, 0.26, 2))
    assert check.have == n


@pytest.mark.benchmark(group="stats.min_samples_for_ci")
def test_min_samples_for_ci(benchmark: BenchmarkFixture) -> None:
    assert benchmark(stats.min_samples_for_ci) == 6
