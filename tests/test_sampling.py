"""Adaptive sampling rules and outlier flags (pure), the coverage of the interval stored
after adaptive stopping (simulated), and --target-ci end to end."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy import optimize, stats

from bench import driver, results
from bench.analysis.stats import median_ci
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


def test_looks_come_at_sample_counts_a_quarter_apart() -> None:
    looks = [n for n in range(1, 60) if sampling.is_look(n, 10)]
    assert looks == [10, 13, 17, 22, 28, 35, 44, 55]
    assert [n for n in range(1, 8) if sampling.is_look(n, 3)] == [3, 4, 5, 7]


def test_a_converged_median_stops_only_at_a_look() -> None:
    rule = sampling.Adaptive(target=0.5, max_repetitions=100, max_seconds=600)
    tight = [1.0 + 0.001 * i for i in range(12)]
    assert rule.stop_reason(tight, taken=12, elapsed=0, first=10) is None  # 12: no look
    reason = rule.stop_reason(tight[:10], taken=10, elapsed=0, first=10)
    assert reason == "target 50.0% reached at n=10 (by the 99% interval)"
    assert (
        rule.stop_reason(tight, taken=100, elapsed=0, first=10) == "maximum of 100 samples reached"
    )
    late = rule.stop_reason(tight, taken=12, elapsed=601, first=10)
    assert late == "maximum of 600 s for the scenario reached"


Draw = Callable[[np.random.Generator, tuple[int, int]], npt.NDArray[np.float64]]


def _two_peaks(rng: np.random.Generator, size: tuple[int, int]) -> npt.NDArray[np.float64]:
    """Mostly about 1, a fifth about 1.5: a bimodal timing (say a cache hit or miss)."""
    low, high = rng.normal(1.0, 0.05, size), rng.normal(1.5, 0.1, size)
    return np.where(rng.random(size) < 0.8, low, high)


def _two_peaks_median() -> float:
    def cdf(x: float) -> float:
        return float(0.8 * stats.norm.cdf(x, 1.0, 0.05) + 0.2 * stats.norm.cdf(x, 1.5, 0.1))

    return float(optimize.brentq(lambda x: cdf(x) - 0.5, 0.5, 2.0))


#: name -> (how to draw, the true median): symmetric, skewed, heavy-tailed, flat, two peaks
DISTRIBUTIONS: dict[str, tuple[Draw, float]] = {
    "normal": (lambda rng, size: rng.normal(1.0, 0.1, size), 1.0),
    "lognormal": (lambda rng, size: rng.lognormal(0.0, 1.0, size), 1.0),
    "exponential": (lambda rng, size: rng.exponential(1.0, size), float(np.log(2))),
    "uniform": (lambda rng, size: rng.uniform(1.0, 2.0, size), 1.5),
    "two peaks": (_two_peaks, _two_peaks_median()),
}

#: Simulated runs per distribution: with 2,000, a coverage's standard error is about
#: 0.5 points, so the rule used (94.8-95.4 % here) and the rule judged on the stored
#: interval at every sample (92-94 %) stand apart from 94 % by more than their errors.
RUNS = 2000
FIRST = 10  # the samples of the fixed rounds: the first look
CAP = 200


def _coverage(
    rule: sampling.Adaptive, draw: Draw, median: float, seed: int, runs: int = RUNS
) -> float:
    """How often the stored 95 % interval covers the true *median* when *rule* decides,
    as the driver asks it, after each new sample, when a variant stops sampling."""
    target_rng, rng = (np.random.default_rng(s) for s in (seed, seed + 1))
    # a target reached at about 40 samples in a typical run: stops range from the first
    # look to over a hundred
    pilot = np.sort(draw(target_rng, (1001, 40)), axis=1)
    pilot_widths = [sampling.ci_width(row.tolist(), rule.stop_confidence) for row in pilot]
    target = float(np.median([w for w in pilot_widths if w is not None]))
    rule = dataclasses.replace(rule, target=target)
    covered = 0
    for row in draw(rng, (runs, CAP)).tolist():
        samples = row[:FIRST]
        while rule.stop_reason(samples, taken=len(samples), elapsed=0.0, first=FIRST) is None:
            samples.append(row[len(samples)])
        ci = median_ci(samples)
        assert ci is not None
        covered += ci[0] <= median <= ci[1]
    return covered / runs


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_the_stored_interval_covers_at_least_94_percent_after_adaptive_stopping(
    name: str,
) -> None:
    draw, median = DISTRIBUTIONS[name]
    rule = sampling.Adaptive(target=0.1, max_repetitions=CAP, max_seconds=600)
    assert _coverage(rule, draw, median, seed=3) >= 0.94


def test_stopping_on_the_stored_interval_at_every_sample_would_cover_less() -> None:
    """The simulation can tell: judged on the stored 95 % interval at every sample, the
    same stopping covers under 94 %."""
    draw, median = DISTRIBUTIONS["exponential"]
    naive = sampling.Adaptive(0.1, CAP, 600, stop_confidence=0.95, growth=1.0 + 1e-9)
    assert _coverage(naive, draw, median, seed=3, runs=RUNS // 2) < 0.94


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
        # the first look with a 99 % interval: n = 8 (none at 6 or 7)
        assert r.extra["sampling"]["stopped"].startswith("target 900.0% reached at n=8")


@pytest.mark.engine
def test_the_time_limit_counts_the_whole_scenario_not_only_the_adaptive_rounds(
    tmp_path: Path, live_engine: engine.Engine, no_leftovers: None
) -> None:
    """30 spawns of the native baseline take well over a millisecond: counted from the
    scenario's start, a 1 ms limit is spent before the first adaptive round."""
    path = tmp_path / "s.toml"
    path.write_text(
        'kind = "startup"\nrepetitions = 30\nwarmups = 0\n[params]\nruntime = "native"\n'
        "cli = false\n",
        encoding="utf-8",
    )
    adaptive = sampling.Adaptive(target=1e-6, max_repetitions=1000, max_seconds=0.001)
    (run_file,) = driver.run(scenarios=[str(path)], out=tmp_path / "r", adaptive=adaptive)
    (r,) = results.read(run_file.path).results
    assert r.extra["sampling"]["stopped"] == "maximum of 0.001 s for the scenario reached"
    assert [len(m.samples) for m in r.metrics] == [30]
