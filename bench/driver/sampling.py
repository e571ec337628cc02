"""How many samples to take: fixed counts, or adaptively until the median is tight enough;
and which samples stand far out (flagged, never dropped)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.analysis.stats import summarize

#: Tukey's "far out" fence: beyond 3 IQR outside the quartiles
FAR_OUT = 3.0


@dataclass(frozen=True)
class Adaptive:
    """Keep sampling a variant until its headline median's 95 % interval is at most
    ``target`` wide relative to the median (0.05: the interval spans 5 % of the median),
    or until ``max_repetitions`` samples or ``max_seconds`` for the scenario."""

    target: float
    max_repetitions: int
    max_seconds: float

    def __post_init__(self) -> None:
        if not 0 < self.target < 10:
            raise ValueError(f"target CI width must be between 0 and 1000 %, not {self.target:%}")

    def stop_reason(self, samples: Sequence[float], *, taken: int, elapsed: float) -> str | None:
        """Why sampling a variant stops now, or None to take another round: *samples* are
        its headline metric's, *taken* its samples so far, *elapsed* the seconds since its
        scenario began."""
        if converged(samples, self.target):
            return f"target {self.target:.1%} reached at n={len(samples)}"
        if taken >= self.max_repetitions:
            return f"maximum of {self.max_repetitions} samples reached"
        if elapsed > self.max_seconds:
            return f"maximum of {self.max_seconds:g} s for the scenario reached"
        return None


def ci_width(samples: Sequence[float]) -> float | None:
    """The 95 % interval of the median as a fraction of the median, or ``None`` when there
    are too few samples for an interval (or the median is zero)."""
    s = summarize(samples)
    if s.ci_low is None or s.ci_high is None or s.median == 0:
        return None
    return (s.ci_high - s.ci_low) / abs(s.median)


def converged(samples: Sequence[float], target: float) -> bool:
    width = ci_width(samples)
    return width is not None and width <= target


def outliers(samples: Sequence[float]) -> list[int]:
    """Indices of samples beyond Tukey's far-out fences (Q1 - 3 IQR, Q3 + 3 IQR); Tukey,
    *Exploratory Data Analysis*, 1977. Needs at least 4 samples."""
    if len(samples) < 4:
        return []
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    low, high = q1 - FAR_OUT * (q3 - q1), q3 + FAR_OUT * (q3 - q1)
    return [i for i, x in enumerate(samples) if x < low or x > high]
