"""Statistics of raw samples: summaries, ratios between sample sets, and their tests.

The headline is the median with a distribution-free confidence interval; the mean is
never shown alone (DESIGN 4). Comparisons between two sample sets use methods that need
no normality, because startup and I/O timings are skewed and heavy-tailed:

- :func:`median_ci` -- order-statistic interval of one median (Conover 1999, §3.2);
- :func:`ratio_of_medians` -- percentile-bootstrap interval of a ratio of medians
  (Efron & Tibshirani 1993, §13.3);
- :func:`mann_whitney_p` -- two-sided Mann-Whitney U test (Mann & Whitney 1947);
- :func:`check_sample_size` -- how many samples the order-statistic intervals of two
  medians need before they could separate.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

#: Coefficient of variation above which a metric gets a warning.
CV_WARN = 0.10

#: Significance level below which a difference is called significant.
ALPHA = 0.05

#: p-value thresholds and their marks, strictest first (the usual star convention).
SIGNIFICANCE_MARKS: tuple[tuple[float, str], ...] = ((0.001, "***"), (0.01, "**"), (ALPHA, "*"))

#: Bootstrap resamples used by :func:`ratio_of_medians` unless told otherwise.
RESAMPLES = 2000

_TIMES = "\N{MULTIPLICATION SIGN}"
_DASH = "\N{EN DASH}"

#: Largest per-set sample count :func:`check_sample_size` looks for.
SAMPLE_SIZE_LIMIT = 10_000


@dataclass(frozen=True)
class Summary:
    """Location and spread of one metric's samples.

    ``ci_low``/``ci_high`` bound the median at ``confidence``; they are ``None`` when *n* is
    too small for a distribution-free interval at that level (n < 6 for 95 %).
    """

    n: int
    median: float
    ci_low: float | None
    ci_high: float | None
    q1: float
    q3: float
    minimum: float
    maximum: float
    cv: float | None
    confidence: float = 0.95

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


@dataclass(frozen=True)
class Ratio:
    """``median(b) / median(a)`` with its bootstrap interval at ``confidence``.

    ``ci`` is ``None`` when a set has a single sample (nothing to resample).
    """

    value: float
    ci: tuple[float, float] | None
    confidence: float

    @property
    def effect(self) -> float:
        """Size of the effect regardless of its direction: ``|ln(value)|``."""
        return abs(math.log(self.value))


@dataclass(frozen=True)
class SampleSizeCheck:
    """Whether two sample sets are large enough to tell their medians apart.

    ``needed`` is the smallest per-set sample count at which the medians' intervals are
    projected to separate (see :func:`check_sample_size`), or ``None`` when they would not
    separate even at :data:`SAMPLE_SIZE_LIMIT` samples (the medians coincide or nearly).
    ``have`` is the smaller of the two sets' sizes.
    """

    needed: int | None
    have: int

    @property
    def too_few(self) -> bool:
        """More samples would be needed before a difference of this size could show."""
        return self.needed is not None and self.have < self.needed

    #: what is counted: the units of ``needed`` and ``have`` in :attr:`advice`
    UNITS: ClassVar[str] = "samples"

    @property
    def advice(self) -> str:
        """What to do about the count; empty when it is enough."""
        if not self.too_few:
            return ""
        return f"too few {self.UNITS} to tell: need {self.needed} per side, have {self.have}"


def format_slowdown(ratio: Ratio | None, direction: str, *, interval: bool = True) -> str:
    """The one way a ratio to a baseline is worded (terminal, report, compare, exports):
    how many times slower or faster than the baseline, whatever the metric's *direction*.

    *ratio* is ``value / baseline`` of the metric itself (a time or a rate). For a
    lower-is-better metric a ratio above 1 is slower; for a higher-is-better one, below 1
    is. The factor is always at least 1: ``2.00x slower``, ``1.50x faster`` (a factor
    that rounds to 1.00 is called slower). The interval, when asked for and known, is in
    the same words' units, e.g. ``1.02x slower [0.97-1.08]`` (a bound under 1 there is
    faster). An en dash alone when there is no ratio.
    """
    if ratio is None or ratio.value <= 0:
        return _DASH
    worse = ratio.value if direction == "lower" else 1.0 / ratio.value
    slower = worse >= 1.0 or round(1.0 / worse, 2) <= 1.0
    factor = worse if slower else 1.0 / worse
    text = f"{factor:.2f}{_TIMES} {'slower' if slower else 'faster'}"
    if not interval or ratio.ci is None or min(ratio.ci) <= 0:
        return text
    in_worse = [b if direction == "lower" else 1.0 / b for b in ratio.ci]
    low, high = sorted(b if slower else 1.0 / b for b in in_worse)
    return f"{text} [{low:.2f}{_DASH}{high:.2f}]"


def _lower_ranks(n: npt.NDArray[np.int64], confidence: float) -> npt.NDArray[np.int64]:
    """For each sample count in *n*, the 1-based lower rank ``l`` of the median's interval.

    ``l`` is the largest rank with ``P(B <= l - 1) <= (1 - confidence) / 2`` for
    ``B ~ Binomial(n, 1/2)``; 0 where no rank qualifies (no interval exists).
    """
    half_alpha = (1.0 - confidence) / 2.0
    # ppf: the smallest k with P(B <= k) >= half_alpha, so l - 1 is k, or k - 1 when
    # P(B <= k) overshoots half_alpha.
    k = np.asarray(sps.binom.ppf(half_alpha, n, 0.5), dtype=np.int64)
    return k + np.asarray(sps.binom.cdf(k, n, 0.5) <= half_alpha, dtype=np.int64)


@functools.cache
def _rank_table(
    confidence: float, limit: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sample counts from the first with an interval up to *limit*, and their lower ranks."""
    n = np.arange(min_samples_for_ci(confidence), limit + 1, dtype=np.int64)
    return n, _lower_ranks(n, confidence)


@functools.cache
def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """1-based ranks ``(l, n + 1 - l)`` of the order statistics bounding the median.

    Method: the number of samples below the true median is Binomial(n, 1/2), so the
    interval between order statistics ``x(l)`` and ``x(n+1-l)`` covers the median with
    probability ``1 - 2 * P(B <= l - 1)``; the largest ``l`` keeping coverage at or above
    *confidence* is chosen (Conover, *Practical Nonparametric Statistics*, 3rd ed., §3.2).
    ``None`` when even ``(min, max)`` has lower coverage (n < 6 at 95 %).
    """
    if n < 1:
        return None
    low = int(_lower_ranks(np.array([n], dtype=np.int64), confidence)[0])
    return (low, n + 1 - low) if low >= 1 else None


@functools.cache
def min_samples_for_ci(confidence: float = 0.95) -> int:
    """The smallest sample count for which :func:`median_ci` gives an interval."""
    n = 1
    while median_ci_ranks(n, confidence) is None:
        n += 1
    return n


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free confidence interval for the median from order statistics.

    The interval is ``(x(l), x(n+1-l))`` with the ranks of :func:`median_ci_ranks`
    (Conover, *Practical Nonparametric Statistics*, 3rd ed., §3.2). Returns ``None`` when
    even ``(min, max)`` has lower coverage than *confidence*.
    """
    xs = sorted(samples)
    ranks = median_ci_ranks(len(xs), confidence)
    if ranks is None:
        return None
    return xs[ranks[0] - 1], xs[ranks[1] - 1]


def summarize(samples: Sequence[float], confidence: float = 0.95) -> Summary:
    """Median with its interval, quartiles, extremes and CV of *samples* (at least one)."""
    if not samples:
        raise ValueError("summarize needs at least one sample")
    xs = sorted(samples)
    ci = median_ci(xs, confidence)
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else (xs[0],) * 3
    mean = statistics.fmean(xs)
    cv = _stdev(xs, mean) / mean if len(xs) > 1 and mean != 0 else None
    return Summary(
        n=len(xs),
        median=statistics.median(xs),
        ci_low=ci[0] if ci else None,
        ci_high=ci[1] if ci else None,
        q1=q1,
        q3=q3,
        minimum=xs[0],
        maximum=xs[-1],
        cv=cv if cv is None or math.isfinite(cv) else None,
        confidence=confidence,
    )


def _stdev(xs: Sequence[float], mean: float) -> float:
    """Sample standard deviation (n - 1 in the denominator) of *xs* about *mean*.

    In floating point with a correctly rounded sum (``math.fsum``): within a few units in
    the last place of ``statistics.stdev``, which works in exact fractions and costs
    several times as much.
    """
    return math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def _sorted_median(ordered: npt.NDArray[np.float64]) -> float:
    """The median of a sorted, non-empty sample (the same number ``numpy.median`` gives)."""
    return float((ordered[(ordered.size - 1) // 2] + ordered[ordered.size // 2]) / 2)


@dataclass(frozen=True)
class _Positions:
    """Where given probabilities fall in a sorted sample of one size, for linear
    interpolation: the neighbouring indices, the weight of the upper one (and one minus
    it), and which positions interpolate from the upper end -- numpy's ``_lerp`` rule, so
    the result is bit for bit ``numpy.quantile``'s."""

    below: npt.NDArray[np.intp]
    above: npt.NDArray[np.intp]
    weight: npt.NDArray[np.float64]
    complement: npt.NDArray[np.float64]
    from_above: npt.NDArray[np.bool_]

    @classmethod
    def weibull(cls, size: int, probabilities: npt.NDArray[np.float64]) -> _Positions:
        """Weibull plotting positions, ``p * (size + 1) - 1`` (0-based; computed in the
        same floating-point order as ``numpy.quantile(method="weibull")``)."""
        return cls._at(size * probabilities + probabilities - 1, size)

    @classmethod
    def linear(cls, size: int, probabilities: npt.NDArray[np.float64]) -> _Positions:
        """``p * (size - 1)`` (0-based), ``numpy.quantile``'s default ``"linear"`` method."""
        return cls._at((size - 1) * probabilities, size)

    @classmethod
    def _at(cls, virtual: npt.NDArray[np.float64], size: int) -> _Positions:
        """The neighbours and weights of fractional 0-based positions *virtual* in *size*
        sorted samples; beyond either end both neighbours are the extreme sample."""
        floor = np.floor(virtual)
        weight = virtual - floor
        below = np.clip(floor, 0, size - 1).astype(np.intp)
        above = np.clip(floor + 1, 0, size - 1).astype(np.intp)
        below[virtual >= size - 1] = size - 1
        above[virtual < 0] = 0
        return cls(below, above, weight, 1 - weight, weight >= 0.5)

    def quantiles(
        self, ordered: npt.NDArray[np.float64], part: slice = slice(None)
    ) -> npt.NDArray[np.float64]:
        """The quantiles of the sorted sample *ordered* (of the size these positions are
        for), at the probabilities in *part* of them."""
        low, high = ordered.take(self.below[part]), ordered.take(self.above[part])
        step = high - low
        result = low + step * self.weight[part]
        np.subtract(high, step * self.complement[part], out=result, where=self.from_above[part])
        return result


#: Resampling plans :func:`ratio_of_medians` keeps, one per pair of set sizes, resample
#: count and seed: four arrays of *resamples* small integers each (16 KB at 2,000), and a
#: report meets only a handful of size pairs.
_PLANS_CACHED = 256

#: Ranks drawn at a time while making a plan: bounds its transient memory (16 MB).
_DRAW_BLOCK = 1 << 22


def _middle_ranks(
    rng: np.random.Generator, n: int, resamples: int
) -> tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[np.signedinteger[Any]]]:
    """For *resamples* draws of *n* ranks out of *n* with replacement, the 0-based ranks of
    each draw's two middle order statistics (the same rank twice when *n* is odd).

    The draws are ``rng.integers(0, n, (resamples, n))``, taken a block of rows at a time
    (the same stream as in one piece)."""
    dtype: type[np.signedinteger[Any]] = np.int16 if n <= np.iinfo(np.int16).max else np.int32
    middle = ((n - 1) // 2, n // 2)
    low: npt.NDArray[np.signedinteger[Any]] = np.empty(resamples, dtype=dtype)
    high: npt.NDArray[np.signedinteger[Any]] = np.empty(resamples, dtype=dtype)
    rows = max(1, _DRAW_BLOCK // n)
    for start in range(0, resamples, rows):
        block = rng.integers(0, n, (min(rows, resamples - start), n), dtype=np.int32)
        block.partition(middle, axis=1)
        low[start : start + rows] = block[:, middle[0]]
        high[start : start + rows] = block[:, middle[1]]
    return low, high


@functools.lru_cache(maxsize=_PLANS_CACHED)
def _resampling_plan(
    n_a: int, n_b: int, resamples: int, seed: int
) -> tuple[npt.NDArray[np.signedinteger[Any]], ...]:
    """The middle ranks of every resample of a set of *n_a* and then of a set of *n_b*
    (:func:`_middle_ranks`), drawn from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return (*_middle_ranks(rng, n_a, resamples), *_middle_ranks(rng, n_b, resamples))


def ratio_of_medians(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Ratio | None:
    """``median(b) / median(a)`` with a percentile-bootstrap confidence interval.

    Method: each set is resampled with replacement independently of the other (the sets
    are unpaired and may differ in size), the ratio of the resampled medians is computed
    *resamples* times, and the interval is the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` percentiles of those ratios (Efron & Tibshirani, *An
    Introduction to the Bootstrap*, 1993, §13.3; linear interpolation between ratios).

    A resample is drawn as ranks into the sorted set, so its median is read off the
    sorted set at the resample's two middle ranks: those ranks depend only on the sizes,
    *resamples* and *seed*, and are drawn once per combination from
    ``numpy.random.default_rng(seed)`` (the set of size ``len(a)`` first). The same inputs
    always give the same interval, and every comparison of two sets of the same sizes
    uses the same draws. The draws are not ``scipy.stats.bootstrap``'s, so intervals
    differ from it by Monte Carlo error, not by method.

    Returns ``None`` when a set is empty or holds a value that is not positive: a ratio of
    medians is a speed-up only for positive quantities (times, rates, sizes).
    """
    xa = np.sort(np.asarray(a, dtype=np.float64))
    xb = np.sort(np.asarray(b, dtype=np.float64))
    if xa.size == 0 or xb.size == 0 or xa[0] <= 0 or xb[0] <= 0:
        return None
    value = _sorted_median(xb) / _sorted_median(xa)
    if xa.size < 2 or xb.size < 2:
        return Ratio(value=value, ci=None, confidence=confidence)
    low_a, high_a, low_b, high_b = _resampling_plan(xa.size, xb.size, resamples, seed)
    # the halves of the two medians cancel exactly (a power of two)
    ratios = (xb.take(low_b) + xb.take(high_b)) / (xa.take(low_a) + xa.take(high_a))
    low, high = _percentile_positions(resamples, confidence).quantiles(np.sort(ratios))
    return Ratio(value=value, ci=(float(low), float(high)), confidence=confidence)


@functools.lru_cache(maxsize=16)
def _percentile_positions(resamples: int, confidence: float) -> _Positions:
    """Where the two ends of a *confidence* percentile interval fall among *resamples*
    sorted values (``numpy.quantile``'s linear interpolation)."""
    return _Positions.linear(resamples, np.array([(1 - confidence) / 2, (1 + confidence) / 2]))


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test that *a* and *b* share a distribution.

    Rank-based, so suited to skewed, heavy-tailed samples of unequal size (Mann & Whitney,
    *Ann. Math. Statist.* 18, 1947). ``scipy.stats.mannwhitneyu`` with ``method="auto"``:
    the exact null distribution when a set has at most 8 samples and there are no ties,
    else the normal approximation with tie and continuity correction. Sets with no
    variation at all (every value tied) give 1.0. Raises ValueError for an empty set.
    """
    if len(a) == 0 or len(b) == 0:
        raise ValueError("the Mann-Whitney test needs at least one sample in each set")
    p = float(sps.mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue)
    return p if math.isfinite(p) else 1.0


def significance_mark(p: float) -> str:
    """``***``, ``**``, ``*`` for p below 0.001, 0.01, :data:`ALPHA`; else an empty string."""
    return next((mark for limit, mark in SIGNIFICANCE_MARKS if p < limit), "")


#: Sample sizes whose interpolation positions :func:`check_sample_size` keeps: each entry
#: holds two sets of five arrays of about ``limit`` numbers (some 0.7 MB at the default
#: limit), and a report meets only a handful of sizes.
_POSITIONS_CACHED = 16

#: The sample counts :func:`check_sample_size` tries at a time (as positions in its table).
_STEPS: tuple[tuple[int, int | None], ...] = ((0, 64), (64, 512), (512, 4096), (4096, None))


@functools.lru_cache(maxsize=_POSITIONS_CACHED)
def _separation_positions(
    size: int, confidence: float, limit: int
) -> tuple[_Positions, _Positions]:
    """For a sample of *size*, the positions of the projected interval ends of
    :func:`check_sample_size`, for every ``n`` of :func:`_rank_table`: the top end when the
    sample is the lower of the two, the bottom end when it is the upper."""
    n, low_rank = _rank_table(confidence, limit)
    top = _Positions.weibull(size, (n + 1 - low_rank) / (n + 1))
    bottom = _Positions.weibull(size, low_rank / (n + 1))
    return top, bottom


def check_sample_size(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = 0.95,
    limit: int = SAMPLE_SIZE_LIMIT,
) -> SampleSizeCheck:
    """How many samples per set are needed before the two medians could be told apart.

    Rule: take each set's observed distribution as its population. With ``n`` samples
    the median's interval runs between the order statistics of ranks ``l`` and
    ``n + 1 - l`` (:func:`median_ci_ranks`), whose expected values are close to the
    population quantiles at ``l / (n + 1)`` and ``(n + 1 - l) / (n + 1)`` (David &
    Nagaraja, *Order Statistics*, 3rd ed., 2003: ``E[X(r)] ~ F^-1(r / (n + 1))``); these
    are read off the observed samples with the same plotting positions
    (``numpy.quantile(method="weibull")``, to the bit; the positions depend on a set's
    size alone and are computed once per size).
    ``needed`` is the smallest ``n`` at which the projected interval of the lower median
    ends below the start of the other's: "could separate" -- with that many samples about
    half of repeated experiments give disjoint intervals, with twice as many most do. It is
    never below :func:`min_samples_for_ci`,
    because without an interval nothing can be told; it is ``None`` when no ``n`` up to
    *limit* separates them (equal medians or a difference far inside the spread).
    """
    if len(a) == 0 or len(b) == 0:
        raise ValueError("a sample-size check needs at least one sample in each set")
    have = min(len(a), len(b))
    lower, upper = sorted(
        (np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))),
        key=_sorted_median,
    )
    n, _ = _rank_table(confidence, limit)
    top = _separation_positions(lower.size, confidence, limit)[0]
    bottom = _separation_positions(upper.size, confidence, limit)[1]
    # smallest n first, in growing steps: a clear difference separates in the first few
    for start, end in _STEPS:
        part = slice(start, end)
        separated = np.flatnonzero(top.quantiles(lower, part) < bottom.quantiles(upper, part))
        if separated.size:
            return SampleSizeCheck(needed=int(n[start + separated[0]]), have=have)
    return SampleSizeCheck(needed=None, have=have)
