"""Results files: :func:`bench.results.write_atomic` of a run's growing document, as the
driver rewrites it after every scenario, and :func:`bench.results.read` of the same
documents and of one realistic synthetic run file.

The written documents hold 10, 100 and 1,000 results of 30 samples each; the write
includes the fsync and the rename, on the filesystem of pytest's temporary directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench import results
from perf import synthetic
from perf.measure import timed

#: Results in a run's document after 10, 100 and 1,000 scenario variants.
GROWTH = (10, 100, 1000)


@pytest.fixture(scope="module", params=GROWTH, ids=[f"{n}-results" for n in GROWTH])
def grown(request: pytest.FixtureRequest) -> results.RunDocument:
    """A run's document holding *n* results of 30 samples each."""
    return synthetic.document(0, results=synthetic.growing_results(request.param))


@pytest.mark.benchmark(group="results.write_atomic: growing run document")
def test_write_atomic(
    benchmark: BenchmarkFixture, tmp_path: Path, grown: results.RunDocument
) -> None:
    path = tmp_path / "run.json"
    timed(benchmark, results.write_atomic, path, grown)
    assert results.read(path) == grown


@pytest.mark.benchmark(group="results.read: growing run document")
def test_read(benchmark: BenchmarkFixture, tmp_path: Path, grown: results.RunDocument) -> None:
    path = tmp_path / "run.json"
    results.write_atomic(path, grown)
    assert timed(benchmark, results.read, path) == grown


@pytest.mark.benchmark(group="results.read: synthetic run file")
def test_read_run_file(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    """One file of the synthetic corpus: 19 results, 960 samples."""
    path = synthetic.write(tmp_path, 0)
    document = timed(benchmark, results.read, path)
    assert synthetic.sample_count(document) == synthetic.sample_count(synthetic.document(0))
