"""bench.analysis.batch gives, series for series, exactly what the one-series statistics
of bench.analysis.stats give; the document series are the samples table's series."""

from __future__ import annotations

import numpy as np
from factories import default_suite

from bench.analysis import batch, stats
from bench.analysis.cells import document_series, sample_series
from bench.analysis.frame import samples_table
from bench.driver.sampling import outliers


def _sets(seed: int) -> list[tuple[float, ...]]:
    """Skewed sets of 1 to 40 samples, several of each size, some with ties."""
    rng = np.random.default_rng(seed)
    sets = []
    for n in [*range(1, 13), 20, 30, 40] * 4:
        values = rng.lognormal(rng.normal(0, 2), rng.uniform(0.01, 0.8), n)
        if n > 3 and rng.random() < 0.3:
            values[: n // 3] = values[0]  # ties
        sets.append(tuple(float(v) for v in values))
    return sets


def test_summaries_are_summarize_of_each_series() -> None:
    sets = _sets(1)
    assert batch.summaries(sets) == [stats.summarize(s) for s in sets]


def test_ratios_and_sample_sizes_are_the_one_pair_functions() -> None:
    sets = _sets(2)
    rng = np.random.default_rng(3)
    pairs = [(sets[i], sets[j]) for i, j in rng.integers(0, len(sets), (300, 2))]
    pairs.append(((1.0, -2.0, 3.0), (1.0, 2.0)))  # not positive: no ratio
    assert batch.ratios(pairs) == [stats.ratio_of_medians(a, b) for a, b in pairs]
    assert batch.sample_sizes(pairs) == [stats.check_sample_size(a, b) for a, b in pairs]
    # without resamples: the same ratios of medians, no interval
    for quick, full in zip(batch.ratios(pairs, resamples=0), batch.ratios(pairs), strict=True):
        assert (quick is None) == (full is None)
        if quick is not None and full is not None:
            assert quick.value == full.value and quick.ci is None


def test_far_outliers_are_the_samples_the_driver_flags() -> None:
    sets = [*_sets(4), (0.1, 0.1, 0.1, 0.1, 5.0), (1.0, 1.1, 0.9, 1.0, 1.05, 30.0, 1.02)]
    for values in sets:
        flagged = tuple(values[i] for i in outliers(values))
        assert batch.far_outliers(values, stats.summarize(values)) == flagged


def test_document_series_are_the_samples_tables_series() -> None:
    documents = [
        default_suite(p, seed=i) for i, p in enumerate(("linux-native", "docker-desktop-mac"))
    ]
    from_table = sample_series(samples_table(documents))
    from_documents = document_series(documents)
    assert list(from_documents) == list(from_table)
    assert from_documents == from_table
