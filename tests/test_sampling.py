"""Adaptive sampling rules and outlier flags (pure), and --target-ci end to end."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench import driver, results
from bench.driver import sampling
from bench.environment import engine


def test_ci_width_shrinks_with_more_samples_and_converges() -> None:
    rng = random.Random(7)
    few = [rng.gauss(1.0, 0.05) for _ in range(8)]
    many = few + [rng.gauss(1.0, 0.05) for _ in range(200)]
    wide, narrow = sampling.ci_width(few), sampling.ci_width(many)
    assert wide is not None and narrow is not None and narrow < wide
    assert sampling.converged(many, 0.05)
    assert not sampling.converged(few[:5], 10.0)  # no interval at n = 5, whatever the target
    assert sampling.ci_width([0.0] * 10) is None


def test_outliers_are_flagged_by_index_not_removed() -> None:
    data = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 9.0, 1.01]
    assert sampling.outliers(data) == [6]
    assert sampling.outliers([1.0, 1.1, 1.2, 1.3]) == []
    assert sampling.outliers([1.0, 50.0]) == []  # too few to judge


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1000"):
        sampling.Adaptive(0.0, 10, 10)


@pytest.mark.engine
def test_target_ci_samples_until_tight_or_capped_and_says_why(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'kind = "startup"\nrepetitions = 6\nwarmups = 0\n[params]\ncli = false\n'
        '[matrix]\nruntime = ["container", "native"]\n',
        encoding="utf-8",
    )
    adaptive = sampling.Adaptive(target=0.0001, max_repetitions=9, max_seconds=600)
    (run_file,) = driver.run(scenarios=[str(path)], out=tmp_path / "r", adaptive=adaptive)
    doc = results.read(run_file.path)
    assert doc.run["sampling"]["max_repetitions"] == 9
    for r in doc.results:
        # a 0.01 % interval is out of reach: every variant stops at the cap, and says so
        assert r.extra["sampling"]["stopped"] == "maximum of 9 samples reached"
        assert all(len(m.samples) == 9 for m in r.metrics)
    loose = sampling.Adaptive(target=9.0, max_repetitions=50, max_seconds=600)
    (run_file,) = driver.run(scenarios=[str(path)], out=tmp_path / "r2", adaptive=loose)
    for r in results.read(run_file.path).results:
        assert r.extra["sampling"]["stopped"].startswith("target 900.0% reached at n=6")
