"""How many samples to take: fixed counts, or adaptively until the median is tight enough;
and which samples stand far out (flagged, never dropped)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.analysis.stats import median_ci_ranks

#: Tukey's "far out" fence: beyond 3 IQR outside the quartiles
FAR_OUT = 3.0

#: The confidence of the interval the stopping rule judges: wider than the 95 % interval
#: stored and shown, so that stopping when it is narrow does not leave the stored one
#: covering less than 95 % (see :class:`Adaptive`).
STOP_CONFIDENCE = 0.99

#: The stopping rule looks at a variant only when its sample count has grown by this
#: factor since the last look: fewer looks, less chance of stopping on a lucky interval.
LOOK_GROWTH = 1.25


@dataclass(frozen=True)
class Adaptive:
    """Keep sampling a variant until its headline median is known to within ``target``
    (0.05: an interval spanning 5 % of the median), or until ``max_repetitions`` samples
    or ``max_seconds`` since its scenario began.

    Stopping as soon as an interval looks narrow enough selects the intervals that came
    out narrow by chance, and those miss the true median more often: judged on the
    stored 95 % interval at every new sample, the stored interval covered 92-94 %
    in simulation (the cost of repeated looks at accumulating data; Armitage, McPherson
    & Rowe, *J. R. Stat. Soc. A* 132, 1969). So the rule judges the wider
    ``stop_confidence`` (99 %) interval, and only at looks whose sample counts grow by
    ``growth`` (25 %) each time; the stored 95 % interval is then narrower than the
    target, and covered 94.8-95.4 % of 2,000 simulated runs for each of normal,
    log-normal, exponential, uniform and two-peaked samples (tests/test_sampling.py
    simulates it and requires at least 94 %).
    """

    target: float
    max_repetitions: int
    max_seconds: float
    stop_confidence: float = STOP_CONFIDENCE
    growth: float = LOOK_GROWTH

    def __post_init__(self) -> None:
        if not 0 < self.target < 10:
            raise ValueError(f"target CI width must be between 0 and 1000 %, not {self.target:%}")
        if not 0.5 < self.stop_confidence < 1 or self.growth <= 1:
            raise ValueError("the stopping confidence must be in (0.5, 1), the growth above 1")

    def stop_reason(
        self, samples: Sequence[float], *, taken: int, elapsed: float, first: int
    ) -> str | None:
        """Why sampling a variant stops now, or None to take another round: *samples* are
        its headline metric's, *taken* its samples so far, *elapsed* the seconds since its
        scenario began, *first* the sample count of the first look (the scenario's
        repetitions: the looks are *first*, then every :attr:`growth` times more)."""
        n = len(samples)
        if is_look(n, first, self.growth) and converged(samples, self.target, self.stop_confidence):
            return (
                f"target {self.target:.1%} reached at n={n} "
                f"(by the {self.stop_confidence:.0%} interval)"
            )
        if taken >= self.max_repetitions:
            return f"maximum of {self.max_repetitions} samples reached"
        if elapsed > self.max_seconds:
            return f"maximum of {self.max_seconds:g} s for the scenario reached"
        return None


def is_look(n: int, first: int, growth: float = LOOK_GROWTH) -> bool:
    """Whether the stopping rule looks at *n* samples: the looks are *first* (at least 1),
    then each ``ceil(previous * growth)`` (at least one more than the previous)."""
    look = max(1, first)
    while look < n:
        look = max(look + 1, math.ceil(look * growth))
    return look == n


def ci_width(samples: Sequence[float], confidence: float = 0.95) -> float | None:
    """The *confidence* interval of the median as a fraction of the median, or ``None``
    when there are too few samples for an interval (or the median is zero)."""
    xs = sorted(samples)
    ranks = median_ci_ranks(len(xs), confidence)
    if ranks is None:
        return None
    median = (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2
    return None if median == 0 else (xs[ranks[1] - 1] - xs[ranks[0] - 1]) / abs(median)


def converged(samples: Sequence[float], target: float, confidence: float = 0.95) -> bool:
    """Whether the *confidence* interval of the median is at most *target* wide."""
    width = ci_width(samples, confidence)
    return width is not None and width <= target


def outliers(samples: Sequence[float]) -> list[int]:
    """Indices of samples beyond Tukey's far-out fences (Q1 - 3 IQR, Q3 + 3 IQR); Tukey,
    *Exploratory Data Analysis*, 1977. Needs at least 4 samples."""
    if len(samples) < 4:
        return []
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    low, high = q1 - FAR_OUT * (q3 - q1), q3 + FAR_OUT * (q3 - q1)
    return [i for i, x in enumerate(samples) if x < low or x > high]
