"""Loading for analysis: :func:`bench.analysis.frame.load_frame` over 10, 100 and 1,000 synthetic
results files (about 1,000 samples each), given as folders like ``crossdock report``."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.analysis.frame import load_frame
from perf.measure import timed
from perf.synthetic import Corpus

#: files -> fixed rounds (None: as the --benchmark-* options say)
CASES = [(10, None), (100, 3), pytest.param(1000, 1, marks=pytest.mark.large)]


@pytest.mark.benchmark(group="frame.load_frame: synthetic files")
@pytest.mark.parametrize(("files", "rounds"), CASES, ids=["10", "100", "1000"])
def test_load_frame(
    benchmark: BenchmarkFixture, corpus: Corpus, files: int, rounds: int | None
) -> None:
    folders = corpus.folders(files)
    loaded = timed(benchmark, load_frame, folders, rounds=rounds)
    assert len(loaded.documents) == files
    assert not loaded.warnings
