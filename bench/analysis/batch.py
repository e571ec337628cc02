"""The statistics of :mod:`bench.analysis.stats` over many series at once.

A report of many runs analyses hundreds of thousands of short series (a ``quick`` run
alone has some 280 of two or three samples). One call per series costs more in Python and
numpy overhead than in arithmetic, so here series of the same size are stacked into one
matrix and each statistic is computed for all rows together: :func:`summaries`,
:func:`ratios` and :func:`sample_sizes` give, row for row, exactly what
:func:`~bench.analysis.stats.summarize`, :func:`~bench.analysis.stats.ratio_of_medians`
and :func:`~bench.analysis.stats.check_sample_size` give for one series (the same
floating-point operations in the same order, the same resampling draws and positions;
tested equal). :func:`far_outliers` finds the samples beyond Tukey's far-out fences.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.analysis import stats

#: Tukey's far-out fences: this many IQRs beyond the quartiles (Tukey, *Exploratory Data
#: Analysis*, 1977), the rule the driver flags samples by; at least 4 samples.
FAR_OUT = 3.0
FAR_OUT_MIN_SAMPLES = 4

#: Rows of one size handled at a time by :func:`ratios` (bounds its memory: rows x
#: resamples float64, 32 MB at 2,000 resamples).
_ROWS = 2000

Matrix = npt.NDArray[np.float64]


def _by_size(series: Sequence[Sequence[float]]) -> Iterator[tuple[npt.NDArray[np.intp], Matrix]]:
    """The non-empty *series* grouped by length: their indices and a sorted matrix of them."""
    sizes = np.fromiter((len(s) for s in series), dtype=np.intp, count=len(series))
    for size in np.unique(sizes):
        if size == 0:
            continue
        rows = np.flatnonzero(sizes == size)
        matrix = np.array([series[i] for i in rows.tolist()], dtype=np.float64)
        matrix = matrix.reshape(rows.size, int(size))
        matrix.sort(axis=1)
        yield rows, matrix


def _medians(ordered: Matrix) -> Matrix:
    """Row medians of a row-sorted matrix, as :func:`statistics.median` computes them."""
    n = ordered.shape[1]
    if n % 2:
        return ordered[:, n // 2]
    return (ordered[:, n // 2 - 1] + ordered[:, n // 2]) / 2


def _quartiles(ordered: Matrix) -> tuple[Matrix, Matrix]:
    """First and third quartiles of each row, as ``statistics.quantiles(n=4,
    method="inclusive")`` computes them (the extremes of a single sample)."""
    n = ordered.shape[1]
    if n == 1:
        return ordered[:, 0], ordered[:, 0]
    m = n - 1
    found = []
    for i in (1, 3):
        j, delta = divmod(i * m, 4)
        found.append((ordered[:, j] * (4 - delta) + ordered[:, j + 1] * delta) / 4)
    return found[0], found[1]


def summaries(series: Sequence[Sequence[float]], confidence: float = 0.95) -> list[stats.Summary]:
    """:func:`bench.analysis.stats.summarize` of each of *series* (each non-empty)."""
    found: list[stats.Summary | None] = [None] * len(series)
    for rows, ordered in _by_size(series):
        n = ordered.shape[1]
        medians = _medians(ordered)
        ranks = stats.median_ci_ranks(n, confidence)
        q1, q3 = _quartiles(ordered)
        cvs = _cvs(ordered)
        for k, row in enumerate(rows.tolist()):
            found[row] = stats.Summary(
                n=n,
                median=float(medians[k]),
                ci_low=float(ordered[k, ranks[0] - 1]) if ranks else None,
                ci_high=float(ordered[k, ranks[1] - 1]) if ranks else None,
                q1=float(q1[k]),
                q3=float(q3[k]),
                minimum=float(ordered[k, 0]),
                maximum=float(ordered[k, -1]),
                cv=cvs[k],
                confidence=confidence,
            )
    if any(s is None for s in found):
        raise ValueError("summaries need at least one sample in every series")
    return [s for s in found if s is not None]


def _cvs(ordered: Matrix) -> list[float | None]:
    """Coefficient of variation of each row as :func:`~bench.analysis.stats.summarize`
    computes it (``math.fsum`` sums; ``None`` for one sample, a zero mean or no finite
    value)."""
    n = ordered.shape[1]
    if n < 2:
        return [None] * ordered.shape[0]
    import math

    out: list[float | None] = []
    for row in ordered.tolist():
        mean = math.fsum(row) / n
        if mean == 0:
            out.append(None)
            continue
        cv = math.sqrt(math.fsum((x - mean) ** 2 for x in row) / (n - 1)) / mean
        out.append(cv if math.isfinite(cv) else None)
    return out


def far_outliers(values: Sequence[float], summary: stats.Summary) -> tuple[float, ...]:
    """The *values* beyond Tukey's far-out fences (``Q1 - 3 IQR``, ``Q3 + 3 IQR``) of their
    *summary*, in order; none below :data:`FAR_OUT_MIN_SAMPLES` samples."""
    if summary.n < FAR_OUT_MIN_SAMPLES:
        return ()
    low, high = summary.q1 - FAR_OUT * summary.iqr, summary.q3 + FAR_OUT * summary.iqr
    return tuple(x for x in values if x < low or x > high)


def ratios(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    confidence: float = 0.95,
    resamples: int = stats.RESAMPLES,
    seed: int = 0,
) -> list[stats.Ratio | None]:
    """:func:`bench.analysis.stats.ratio_of_medians` ``(a, b)`` of each pair ``(a, b)``;
    with *resamples* 0, the ratios of medians without an interval."""
    found: list[stats.Ratio | None] = [None] * len(pairs)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(pairs):
        if len(a) and len(b) and min(a) > 0 and min(b) > 0:
            groups.setdefault((len(a), len(b)), []).append(i)
    positions = stats._percentile_positions(resamples, confidence)
    for (n_a, n_b), members in groups.items():
        for start in range(0, len(members), _ROWS):
            rows = members[start : start + _ROWS]
            xa = np.sort(np.array([pairs[i][0] for i in rows], dtype=np.float64), axis=1)
            xb = np.sort(np.array([pairs[i][1] for i in rows], dtype=np.float64), axis=1)
            values = _medians(xb) / _medians(xa)
            if n_a < 2 or n_b < 2 or resamples == 0:
                bounds: list[tuple[float, float] | None] = [None] * len(rows)
            else:
                bounds = _bootstrap(xa, xb, positions, resamples, seed)
            for k, i in enumerate(rows):
                found[i] = stats.Ratio(float(values[k]), bounds[k], confidence)
    return found


def _bootstrap(
    xa: Matrix, xb: Matrix, positions: Any, resamples: int, seed: int
) -> list[tuple[float, float] | None]:
    """The percentile-bootstrap bounds of each row pair, with the draws
    :func:`~bench.analysis.stats.ratio_of_medians` uses for these sizes."""
    low_a, high_a, low_b, high_b = stats._resampling_plan(xa.shape[1], xb.shape[1], resamples, seed)
    draws = (xb[:, low_b] + xb[:, high_b]) / (xa[:, low_a] + xa[:, high_a])
    # only the order statistics the interpolation reads need to be in place
    needed = np.unique(np.concatenate([positions.below, positions.above]))
    draws.partition(needed, axis=1)
    low = draws[:, positions.below]
    high = draws[:, positions.above]
    step = high - low
    result = low + step * positions.weight
    np.subtract(high, step * positions.complement, out=result, where=positions.from_above)
    return [(float(lo), float(hi)) for lo, hi in result.tolist()]


def sample_sizes(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    confidence: float = 0.95,
    limit: int = stats.SAMPLE_SIZE_LIMIT,
) -> list[stats.SampleSizeCheck]:
    """:func:`bench.analysis.stats.check_sample_size` ``(a, b)`` of each pair (each set
    non-empty)."""
    found: list[stats.SampleSizeCheck | None] = [None] * len(pairs)
    groups: dict[tuple[int, int], list[tuple[int, Matrix, Matrix]]] = {}
    for i, (a, b) in enumerate(pairs):
        if not len(a) or not len(b):
            raise ValueError("a sample-size check needs at least one sample in each set")
        lower, upper = sorted(
            (np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))),
            key=stats._sorted_median,
        )
        groups.setdefault((lower.size, upper.size), []).append((i, lower, upper))
    n, _ = stats._rank_table(confidence, limit)
    for (size_low, size_up), members in groups.items():
        lower = np.stack([m[1] for m in members])
        upper = np.stack([m[2] for m in members])
        top = stats._separation_positions(size_low, confidence, limit)[0]
        bottom = stats._separation_positions(size_up, confidence, limit)[1]
        needed = np.full(len(members), -1, dtype=np.int64)
        open_rows = np.arange(len(members))
        for start, end in stats._STEPS:
            if not open_rows.size:
                break
            part = slice(start, end)
            separated = _quantiles(top, lower[open_rows], part) < _quantiles(
                bottom, upper[open_rows], part
            )
            hit = separated.any(axis=1)
            first = separated.argmax(axis=1)
            needed[open_rows[hit]] = n[start + first[hit]]
            open_rows = open_rows[~hit]
        have = min(size_low, size_up)
        for k, (i, _, _) in enumerate(members):
            found[i] = stats.SampleSizeCheck(
                needed=int(needed[k]) if needed[k] >= 0 else None, have=have
            )
    return [f for f in found if f is not None]


def _quantiles(positions: Any, ordered: Matrix, part: slice) -> Any:
    """``positions.quantiles`` of every row of the row-sorted *ordered*, same arithmetic."""
    low = ordered[:, positions.below[part]]
    high = ordered[:, positions.above[part]]
    step = high - low
    result = low + step * positions.weight[part]
    np.subtract(
        high, step * positions.complement[part], out=result, where=positions.from_above[part]
    )
    return result
