"""Tests of a difference between two sides made of whole runs, and their control over many
metrics at once.

A run's samples share its conditions (the machine's load, its thermal state, the VM's
placement, what else ran), so samples of different runs are not interchangeable: pooling
them counts run-to-run variation as if it were repeated evidence. Here the **run** is the
unit: each run contributes one number, the median of its samples, and the two sides'
run medians are compared.

- :func:`compare_runs` -- a two-sample t test on the logarithms of the run medians, its
  interval turned back into a ratio ``B / A`` of the runs' geometric means: Student's t
  with a pooled variance when both sides have as many runs or one side has a single
  run, Welch's unequal-variances t otherwise (Welch, *Biometrika* 34, 1947);
- :func:`runs_needed` -- how many runs per side the observed difference would need
  before its interval could exclude no difference;
- :func:`adjust_p` -- Benjamini-Hochberg adjusted p-values over every metric compared
  (Benjamini & Hochberg, *J. R. Statist. Soc. B* 57, 1995): calling a metric different
  when its adjusted p is below :data:`bench.analysis.stats.ALPHA` keeps the expected
  share of false calls among the metrics called different at or below that level.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from bench.analysis import stats

_Values = npt.NDArray[np.float64]

#: The names of the tests a comparison can use, as ``crossdock compare`` records them.
WELCH_LOG = "welch-t-log-run-medians"
POOLED_LOG = "student-t-log-run-medians"
WELCH_RAW = "welch-t-run-medians"
POOLED_RAW = "student-t-run-medians"

#: Largest run count per side :func:`runs_needed` looks for.
RUN_COUNT_LIMIT = 100


@dataclass(frozen=True)
class RunCountCheck(stats.SampleSizeCheck):
    """Whether there are runs enough on each side to tell the two sides apart.

    ``needed`` is the smallest per-side run count at which the observed difference, with
    the observed run-to-run spread, would give an interval that excludes no difference
    (:func:`runs_needed`); ``None`` when no count up to :data:`RUN_COUNT_LIMIT` would
    (no difference, or one far inside the spread). ``have`` is the smaller side's count.
    """

    UNITS: ClassVar[str] = "runs"


@dataclass(frozen=True)
class RunComparison:
    """Side B against side A with runs as the units (:func:`compare_runs`).

    ``centre_a``/``centre_b``: each side's geometric mean of its run medians (the
    arithmetic mean when a run median is not positive; a single run's median when the
    side has one). ``ratio``: ``centre_b / centre_a`` with the t interval at its
    ``confidence`` (``None`` when a run median is not positive). ``p_value``: two-sided,
    of the ``test`` named (one of :data:`WELCH_LOG`, :data:`POOLED_LOG`,
    :data:`WELCH_RAW`, :data:`POOLED_RAW`). ``runs``: whether there are runs enough.
    """

    centre_a: float
    centre_b: float
    ratio: stats.Ratio | None
    p_value: float
    test: str
    runs: RunCountCheck


def compare_runs(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], *, confidence: float = 0.95
) -> RunComparison:
    """Side *b* against side *a*, each a list of runs' samples, runs as the units.

    Method: each run is reduced to the median of its samples. When every run median is
    positive they are compared on a log scale (a ratio, as for times and rates): the
    difference ``d`` of the sides' mean log medians is tested with Student's t, its
    variance pooled from both sides (``n_a + n_b - 2`` degrees of freedom), when both
    sides have as many runs -- there the t statistic is Welch's, and keeping the pooled
    degrees of freedom keeps the power that Welch-Satterthwaite's (between 2 and 4 for
    three runs a side) would lose, at a level close to the nominal one whatever the two
    spreads -- or when one side has a single run (it is then assumed to vary from run to
    run as the other side does). With unequal counts of at least two runs, Welch's t
    (Welch-Satterthwaite degrees of freedom). The ratio is ``exp(d)`` and its interval
    ``exp(d -/+ t * se)``. Otherwise the run medians themselves are compared the same
    way, with no ratio. Sides with no spread at all give p = 1 when their centres are
    equal and p = 0 when not (a deterministic quantity such as an image size).

    Raises ValueError unless both sides have a run with samples and one side has two.
    """
    medians_a = [statistics.median(run) for run in a if len(run)]
    medians_b = [statistics.median(run) for run in b if len(run)]
    if not medians_a or not medians_b or max(len(medians_a), len(medians_b)) < 2:
        raise ValueError("runs as units need a run on each side and two runs on one side")
    logs = min(medians_a) > 0 and min(medians_b) > 0
    x = np.log(medians_a) if logs else np.asarray(medians_a, dtype=np.float64)
    y = np.log(medians_b) if logs else np.asarray(medians_b, dtype=np.float64)
    welch = min(x.size, y.size) >= 2 and x.size != y.size
    difference = float(y.mean() - x.mean())
    se, df = _welch_se(x, y) if welch else _pooled_se(x, y)
    if se > 0:
        p_value = float(2 * sps.t.sf(abs(difference) / se, df))
        half = float(sps.t.ppf((1 + confidence) / 2, df)) * se
    else:
        p_value, half = (1.0 if difference == 0 else 0.0), 0.0
    ratio = (
        stats.Ratio(
            value=math.exp(difference),
            ci=(math.exp(difference - half), math.exp(difference + half)),
            confidence=confidence,
        )
        if logs
        else None
    )
    names = {(True, True): WELCH_LOG, (False, True): POOLED_LOG}
    names |= {(True, False): WELCH_RAW, (False, False): POOLED_RAW}
    return RunComparison(
        centre_a=math.exp(x.mean()) if logs else float(x.mean()),
        centre_b=math.exp(y.mean()) if logs else float(y.mean()),
        ratio=ratio,
        p_value=p_value,
        test=names[welch, logs],
        runs=runs_needed(x, y, confidence=confidence),
    )


def _welch_se(x: _Values, y: _Values) -> tuple[float, float]:
    """Standard error of ``mean(y) - mean(x)`` and its Welch-Satterthwaite degrees of
    freedom (both sides with at least two values)."""
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0:
        return 0.0, math.inf
    return se, float((va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)))


def _pooled_se(x: _Values, y: _Values) -> tuple[float, float]:
    """Standard error of ``mean(y) - mean(x)`` with one variance pooled from both sides,
    and its ``n_a + n_b - 2`` degrees of freedom (at least one)."""
    df = x.size + y.size - 2
    squares = float(((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum())
    return math.sqrt(squares / df * (1 / x.size + 1 / y.size)), float(df)


def runs_needed(
    x: _Values, y: _Values, *, confidence: float = 0.95, limit: int = RUN_COUNT_LIMIT
) -> RunCountCheck:
    """How many runs per side the difference of *y*'s mean from *x*'s (one value per run,
    on the scale compared) would need before its interval excludes no difference.

    Rule: take the observed difference ``d`` and the observed run-to-run spread ``s``
    (pooled from both sides) as the truth; ``needed`` is the smallest ``k >= 2`` with
    ``t(2k - 2) * s * sqrt(2 / k) < |d|``: "could separate" -- with that many runs the
    interval misses zero about half of the time, as
    :func:`bench.analysis.stats.check_sample_size` projects for samples. ``None`` when
    ``d`` is 0 or no ``k`` up to *limit* separates.
    """
    have = min(x.size, y.size)
    difference = abs(float(y.mean() - x.mean()))
    df = x.size + y.size - 2
    squares = float(((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum())
    spread = math.sqrt(squares / df) if df > 0 else 0.0
    if difference == 0:
        return RunCountCheck(needed=None, have=have)
    k = np.arange(2, limit + 1)
    half = sps.t.ppf((1 + confidence) / 2, 2 * k - 2) * spread * np.sqrt(2 / k)
    separated = np.flatnonzero(half < difference)
    needed = int(k[separated[0]]) if separated.size else None
    return RunCountCheck(needed=needed, have=have)


def adjust_p(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in the order given.

    The adjusted p of the ``i``-th smallest of ``m`` p-values is the smallest
    ``m * p(j) / j`` over ``j >= i``, capped at 1 (Benjamini & Hochberg 1995;
    ``scipy.stats.false_discovery_control(method="bh")``). Calling different every metric
    whose adjusted p is below ``q`` controls the false discovery rate at ``q`` for
    independent or positively dependent tests.
    """
    if not p_values:
        return []
    adjusted = sps.false_discovery_control(np.asarray(p_values, dtype=np.float64), method="bh")
    return [float(p) for p in np.atleast_1d(adjusted)]
