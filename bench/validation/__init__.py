"""Validation: the harness against the reference tools run by hand, side by side.

Each area has a module here with ``run(ctx, *, rounds) -> Validation``: it
measures the harness's figure and the reference's figure interleaved, round by round, in
one run, and returns the comparisons with their targets plus the raw samples (stored as a
results file so the report can show them). ``crossdock validate`` runs them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.analysis.stats import ratio_of_medians, summarize
from bench.plan import Scalar
from bench.results import Metric, Result


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


def samples_result(
    area: str,
    variant: Mapping[str, Scalar],
    metric_name: str,
    values: Sequence[float],
    extra: Mapping[str, Any],
) -> Result:
    """One method's raw samples from a validation, stored like any measured result
    (scenario ``validate-<area>``), with the metric's unit and direction from the table."""
    return Result(
        scenario=f"validate-{area}",
        kind=area,
        variant=dict(variant),
        status="ok",
        metrics=(Metric.of(metric_name, values),),
        extra=dict(extra),
    )


def compare(
    name: str,
    *,
    numerator: tuple[str, Sequence[float]],
    denominator: tuple[str, Sequence[float]],
    unit: str,
    tolerance: float | None,
    note: str = "",
) -> Comparison:
    """A :class:`Comparison` of two labelled sample sets: the ratio of their medians with a
    bootstrap interval (:func:`bench.analysis.stats.ratio_of_medians`)."""
    (num_name, num), (den_name, den) = numerator, denominator
    ratio = ratio_of_medians(den, num)
    return Comparison(
        name=name,
        numerator=num_name,
        denominator=den_name,
        unit=unit,
        median_numerator=summarize(num).median,
        median_denominator=summarize(den).median,
        ratio=ratio.value if ratio else float("nan"),
        ci_low=ratio.ci[0] if ratio and ratio.ci else None,
        ci_high=ratio.ci[1] if ratio and ratio.ci else None,
        n=min(len(num), len(den)),
        tolerance=tolerance,
        note=note,
    )
