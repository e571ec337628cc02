"""Validation: the harness against the reference tools run by hand, side by side.

Each area has a module here with ``run(ctx, *, rounds, progress) -> Validation``: it
measures the harness's figure and the reference's figure interleaved, round by round, in
one run, and returns the comparisons with their targets plus the raw samples (stored as a
results file so the report can show them). ``crossdock validate`` runs them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.results import Result


@dataclass(frozen=True)
class Comparison:
    """One side-by-side check: ``ratio`` = median(numerator) / median(denominator).

    ``tolerance`` is the allowed relative deviation of the ratio from 1 (0.05 = within 5 %);
    ``None`` means the ratio is reported, not judged. ``passed`` judges the point estimate.
    """

    name: str
    numerator: str
    denominator: str
    unit: str
    median_numerator: float
    median_denominator: float
    ratio: float
    ci_low: float | None
    ci_high: float | None
    n: int
    tolerance: float | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.tolerance is None:
            return None
        return abs(self.ratio - 1.0) <= self.tolerance


@dataclass(frozen=True)
class Validation:
    """What one area's validation produced."""

    area: str
    comparisons: Sequence[Comparison]
    results: Sequence[Result] = field(default_factory=tuple)
