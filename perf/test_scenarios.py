"""Plan expansion: :func:`bench.scenarios.resolve` (which loads and expands each scenario
file) of every shipped suite, of every shipped scenario, and of synthetic matrices of 3, 4
and 5 parameters with 6 values each (216, 1,296 and 7,776 variants)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench import scenarios
from perf.measure import timed

#: Six values of each of five fileio parameters (fileio accepts every combination).
MATRIX: dict[str, list[str] | list[float] | list[int]] = {
    "target": ["native", "bind", "volume", "container", "tmpfs", "bind-windows"],
    "workload": ["seq-read", "seq-write", "rand-read", "rand-write", "fsync-write", "metadata"],
    "size": ["16MiB", "32MiB", "64MiB", "128MiB", "256MiB", "512MiB"],
    "duration": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
    "files": [100, 200, 500, 1000, 2000, 5000],
}


def matrix_file(directory: Path, axes: int) -> Path:
    """A fileio scenario file whose matrix is the first *axes* parameters of :data:`MATRIX`."""
    # a JSON array of strings and numbers is also a TOML array
    lines = [f"{key} = {json.dumps(values)}" for key, values in list(MATRIX.items())[:axes]]
    path = directory / f"matrix-{axes}.toml"
    path.write_text('kind = "fileio"\n\n[matrix]\n' + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.benchmark(group="scenarios.resolve: shipped")
@pytest.mark.parametrize("suite", scenarios.SUITES)
def test_resolve_suite(benchmark: BenchmarkFixture, suite: str) -> None:
    plan = benchmark(scenarios.resolve, [], suite=suite)
    assert plan


@pytest.mark.benchmark(group="scenarios.resolve: shipped")
def test_resolve_every_shipped_scenario(benchmark: BenchmarkFixture) -> None:
    names = list(scenarios.available())
    plan = benchmark(scenarios.resolve, names)
    assert len(plan) == len(names)


@pytest.mark.benchmark(group="scenarios.resolve: matrix of 6 values per parameter")
@pytest.mark.parametrize(
    ("axes", "rounds"),
    [(2, None), (3, None), (4, 3), pytest.param(5, 1, marks=pytest.mark.large)],
    ids=["2x6", "3x6", "4x6", "5x6"],
)
def test_resolve_matrix(
    benchmark: BenchmarkFixture, tmp_path: Path, axes: int, rounds: int | None
) -> None:
    path = matrix_file(tmp_path, axes)
    plan = timed(benchmark, scenarios.resolve, [str(path)], rounds=rounds)
    assert len(plan[0].variants) == 6**axes
