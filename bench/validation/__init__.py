"""Validation: the harness against reference measurements, side by side, as an
equivalence test.

Each area (``startup``, ``fileio``, ``network``) has a module here whose ``opened(ctx)``
yields an :class:`Area`: every call of :meth:`Area.round` measures each method once,
interleaved, and :meth:`Area.comparisons` judges what was measured so far. A comparison is
the median of the per-round ratios (the harness's figure over the reference's measured in
the same round) with its distribution-free 95 % interval, judged against a band:
:func:`judge` says ``pass`` when the whole interval lies inside the band, ``fail`` when it
lies wholly outside, ``inconclusive`` otherwise, with a projection of the rounds that
would settle it. ``crossdock validate``
(:mod:`bench.validation.runner`) adds rounds until every comparison is conclusive or its
time budget ends.

Each comparison says what it can catch (:data:`CATCHES`): a ``plumbing`` reference uses the
harness's own method (the same tool, the same calls) written out by hand, so it catches a
wrong option, field or unit between the method and the stored figure; a ``method``
reference measures the same thing another way (another tool, another clock), so it can
also catch a method that measures the wrong thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bench.analysis.stats import (
    Ratio,
    median_ci,
    min_samples_for_ci,
    ratio_of_medians,
    summarize,
)
from bench.plan import Scalar
from bench.results import Metric, Result

Verdict = Literal["pass", "fail", "inconclusive", "reported"]

#: what a comparison's reference can catch -> what that means
CATCHES: dict[str, str] = {
    "plumbing": "the harness's own method written out by hand: catches a wrong option, "
    "field or unit between the method and the stored figure, not a wrong method",
    "method": "the same quantity measured another way (another tool or clock): can also "
    "catch a method that measures the wrong thing",
    "reported": "shown, not judged",
}

#: fewer rounds than this are never judged: the size a distribution-free 95 % interval of
#: a median needs (:func:`bench.analysis.stats.min_samples_for_ci`)
MIN_ROUNDS = min_samples_for_ci(0.95)

#: the projection of rounds to settle a comparison stops here (beyond it: ``None``)
MAX_PROJECTED_ROUNDS = 100_000


@dataclass(frozen=True)
class Judgement:
    """A verdict and, for ``inconclusive``, the projected rounds that would settle it
    (``more_rounds``: additional rounds; ``None`` when no projection can be made)."""

    verdict: Verdict
    more_rounds: int | None = None


def judge(ratio: Ratio | None, band: float | None, n: int) -> Judgement:
    """Judge *ratio* (its 95 % interval) against the band ``[1/band, band]``.

    ``pass``: the whole interval lies inside the band; ``fail``: it lies wholly outside
    (entirely below ``1/band`` or above ``band``); ``inconclusive`` otherwise, and also when
    there is no interval. With fewer than :data:`MIN_ROUNDS` rounds the verdict is
    ``inconclusive`` whatever the interval (a bootstrap interval of so few samples is
    far narrower than 95 %), ``more_rounds`` then at least what reaches that minimum.
    ``reported`` when *band* is ``None``.

    Rounds projection for ``inconclusive``: in log space, the interval's two half-widths
    around the point estimate are assumed to shrink as ``1/sqrt(n)`` with the estimate
    staying where it is (the large-sample rate of a median's standard error). The verdict
    is settled once the half-width on the side facing the nearest band edge no longer
    reaches it (for a pass both sides must clear their edges); ``n' = n * (half /
    distance)^2`` rounds in all, ``n' - n`` more. No projection (``None``) without an
    interval, with a point estimate exactly on an edge, or beyond
    :data:`MAX_PROJECTED_ROUNDS`.
    """
    if band is None:
        return Judgement("reported")
    if ratio is None or ratio.ci is None:
        return Judgement("inconclusive", max(MIN_ROUNDS - n, 1) if ratio else None)
    edge = math.log(band)
    low, high = (math.log(b) for b in ratio.ci)
    more = _more_rounds(math.log(ratio.value), low, high, edge, n)
    if n < MIN_ROUNDS:
        return Judgement("inconclusive", max(MIN_ROUNDS - n, more or 0))
    if -edge <= low and high <= edge:
        return Judgement("pass")
    if high < -edge or low > edge:
        return Judgement("fail")
    return Judgement("inconclusive", more)


def _more_rounds(centre: float, low: float, high: float, edge: float, n: int) -> int | None:
    """Additional rounds for the interval ``[low, high]`` (log) around *centre* to clear
    the band ``[-edge, edge]`` or to fall wholly outside it (see :func:`judge`)."""
    below, above = centre - low, high - centre
    if -edge < centre < edge:  # settles as a pass: both sides inside
        shrink = min(
            (edge - centre) / above if above > 0 else math.inf,
            (centre + edge) / below if below > 0 else math.inf,
        )
    elif centre > edge:  # settles as a fail above: the lower side clears the edge
        shrink = (centre - edge) / below if below > 0 else math.inf
    elif centre < -edge:  # settles as a fail below
        shrink = (-edge - centre) / above if above > 0 else math.inf
    else:
        return None  # exactly on an edge: more rounds do not settle it
    if shrink <= 0:
        return None
    needed = math.ceil(n / shrink**2)
    if needed > MAX_PROJECTED_ROUNDS:
        return None
    return max(1, needed - n)


@dataclass(frozen=True)
class Comparison:
    """One side-by-side check of the measured quantity: ``ratio`` is the median of the
    per-round ratios numerator / denominator with its 95 % interval ``[ci_low, ci_high]``
    (``paired``), or, where the two sets are not measured round by round,
    median(numerator) / median(denominator) with a bootstrap interval.

    ``band`` is a factor (1.05: the ratio must lie within 1.05x either way, i.e. in
    ``[1/1.05, 1.05]``); ``None`` means reported, not judged. ``catches`` is a key of
    :data:`CATCHES`; ``direction`` is the metric's (``lower`` for times, ``higher`` for
    rates), for wording the ratio.
    """

    name: str
    catches: str
    numerator: str
    denominator: str
    unit: str
    direction: str
    median_numerator: float
    median_denominator: float
    ratio: float
    ci_low: float | None
    ci_high: float | None
    n: int
    band: float | None
    verdict: Verdict
    more_rounds: int | None = None
    note: str = ""
    paired: bool = True

    def __post_init__(self) -> None:
        if self.catches not in CATCHES:
            raise ValueError(f"comparison {self.name!r}: unknown catches {self.catches!r}")
        if self.band is not None and self.band <= 1.0:
            raise ValueError(f"comparison {self.name!r}: band {self.band} must be above 1")

    @property
    def as_ratio(self) -> Ratio | None:
        """The ratio and interval as :class:`bench.analysis.stats.Ratio` (for wording)."""
        if not self.ratio > 0:
            return None
        ci = (self.ci_low, self.ci_high)
        interval = (ci[0], ci[1]) if ci[0] is not None and ci[1] is not None else None
        return Ratio(value=self.ratio, ci=interval, confidence=0.95)


def compare(
    name: str,
    *,
    numerator: tuple[str, Sequence[float]],
    denominator: tuple[str, Sequence[float]],
    unit: str,
    direction: str,
    band: float | None,
    catches: str,
    note: str = "",
) -> Comparison:
    """A judged :class:`Comparison` of two labelled sample sets, judged by :func:`judge`.

    Sets of equal length are taken as measured round by round (the i-th of each in round
    i, adjacent in time): the comparison is then the median of the per-round ratios with
    its distribution-free interval (:func:`paired_ratio`), so drift in the machine's speed
    across rounds, which both sides of a round share, does not widen it. Otherwise the
    ratio of the medians with a bootstrap interval
    (:func:`bench.analysis.stats.ratio_of_medians`). ``n`` is the smaller set's size."""
    (num_name, num), (den_name, den) = numerator, denominator
    paired = len(num) == len(den)
    ratio = paired_ratio(num, den) if paired else ratio_of_medians(den, num)
    n = min(len(num), len(den))
    judgement = judge(ratio, band, n)
    return Comparison(
        name=name,
        catches="reported" if band is None else catches,
        numerator=num_name,
        denominator=den_name,
        unit=unit,
        direction=direction,
        median_numerator=summarize(num).median if num else float("nan"),
        median_denominator=summarize(den).median if den else float("nan"),
        ratio=ratio.value if ratio else float("nan"),
        ci_low=ratio.ci[0] if ratio and ratio.ci else None,
        ci_high=ratio.ci[1] if ratio and ratio.ci else None,
        n=n,
        band=band,
        verdict=judgement.verdict,
        more_rounds=judgement.more_rounds,
        note=note,
        paired=paired,
    )


def paired_ratio(
    numerator: Sequence[float], denominator: Sequence[float], confidence: float = 0.95
) -> Ratio | None:
    """The median of the ratios ``numerator[i] / denominator[i]`` with the order-statistic
    interval of a median (:func:`bench.analysis.stats.median_ci`: at least *confidence*
    coverage for any distribution of the ratios, the rounds independent); ``ci`` is
    ``None`` below :data:`MIN_ROUNDS` pairs. ``None`` without pairs or with a value that
    is not positive."""
    if not numerator or len(numerator) != len(denominator):
        return None
    if min(numerator) <= 0 or min(denominator) <= 0:
        return None
    ratios = [a / b for a, b in zip(numerator, denominator, strict=True)]
    return Ratio(
        value=summarize(ratios).median, ci=median_ci(ratios, confidence), confidence=confidence
    )


@dataclass(frozen=True)
class Validation:
    """What one area's validation produced: its judged comparisons, its raw samples and
    the rounds measured."""

    area: str
    comparisons: Sequence[Comparison]
    results: Sequence[Result] = field(default_factory=tuple)
    rounds: int = 0


class Area(Protocol):
    """One area's validation, open (its places, servers and streams ready)."""

    name: str
    #: rounds measured so far
    rounds: int

    def round(self) -> None:
        """Measure every method of the area once, interleaved."""

    def comparisons(self) -> list[Comparison]:
        """What the rounds so far show, judged."""

    def results(self) -> list[Result]:
        """The raw samples of every method so far, as results (see :func:`samples_result`)."""


def unsettled(comparisons: Sequence[Comparison]) -> bool:
    """Whether any judged comparison is still inconclusive."""
    return any(c.verdict == "inconclusive" for c in comparisons)


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
