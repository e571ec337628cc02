"""The analysis of every metric series: one :class:`Cell` per run, scenario, variant and
metric, computed once and rendered by both the report (:mod:`bench.report`) and the
terminal after a run (:mod:`bench.console`), so the two never disagree.

:func:`sample_series` splits the samples table (:func:`bench.analysis.frame.load_frame`)
into series; :func:`analyse` gives each series its summary and, for a container variant,
its :class:`Versus` comparison with the same metric of its native counterpart
(:mod:`bench.analysis.baseline`); :func:`cell_warnings` words what the cells break of the
:mod:`bench.analysis.advice` rules. :func:`versus` is the one place a series is compared
with a baseline: ``crossdock compare`` uses it for B against A.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from bench.analysis import advice, batch, stats
from bench.analysis.baseline import headlines, native_counterparts
from bench.analysis.frame import ok_results, variant_label
from bench.results import RunDocument

#: The columns that name one metric series of a run in the samples table.
SERIES_KEYS: tuple[str, ...] = ("run_id", "scenario", "variant", "metric")


class Series(NamedTuple):
    """The samples of one metric series, in table order, with the metric's unit and
    direction."""

    unit: str
    direction: str
    values: tuple[float, ...]


def sample_series(
    samples: pd.DataFrame, keys: Sequence[str] = SERIES_KEYS
) -> dict[tuple[str, ...], Series]:
    """Each series of the samples table by the values of its *keys* columns (as text),
    first seen first: values in table order, unit and direction from its first row. Rows
    with a missing key are in no series (as in pandas' ``groupby``).

    One grouping of the whole table and one split of its value column at the group
    boundaries: no pandas object per series (a large report has tens of thousands).
    """
    if samples.empty:
        return {}
    codes = samples.groupby(list(keys), sort=False).ngroup().to_numpy()
    kept = np.flatnonzero(codes >= 0)  # a row with a missing key is in no group (NaN)
    numbers = codes[kept].astype(np.intp)
    rows = kept[np.argsort(numbers, kind="stable")]
    sizes = np.bincount(numbers)
    firsts = rows[np.concatenate(([0], np.cumsum(sizes)[:-1]))]
    columns = [[str(name) for name in samples[c].iloc[firsts].tolist()] for c in keys]
    names = zip(*columns, strict=True)
    units, directions = (samples[c].iloc[firsts].tolist() for c in ("unit", "direction"))
    values = np.split(samples["value"].to_numpy()[rows], np.cumsum(sizes)[:-1])
    return {
        key: Series(str(unit), str(direction), tuple(chunk.tolist()))
        for key, unit, direction, chunk in zip(names, units, directions, values, strict=True)
    }


def document_series(documents: Iterable[RunDocument]) -> dict[tuple[str, ...], Series]:
    """Each series of the ``ok`` results of *documents* by :data:`SERIES_KEYS`, read off the
    documents themselves: the same series in the same order as :func:`sample_series` of
    their samples table, without building the table (a metric recorded twice for one
    variant of a run is one series, its samples in file order)."""
    found: dict[tuple[str, ...], Series] = {}
    for document, result in ok_results(documents):
        run_id, label = str(document.run["id"]), variant_label(result.variant)
        for metric in result.metrics:
            if not metric.samples:
                continue
            key = (run_id, result.scenario, label, metric.name)
            seen = found.get(key)
            found[key] = (
                Series(metric.unit, metric.direction, metric.samples)
                if seen is None
                else seen._replace(values=seen.values + metric.samples)
            )
    return found


@dataclass(frozen=True)
class Versus:
    """A series against a baseline series of the same metric.

    ``base_median`` and ``median``: the two medians. ``ratio``: ``median / base_median``
    with its percentile-bootstrap interval (:func:`bench.analysis.stats.ratio_of_medians`;
    ``None`` when a set holds a value that is not positive). ``sample_size``: whether
    there are enough samples to tell the medians apart
    (:func:`bench.analysis.stats.check_sample_size`).
    """

    base_median: float
    median: float
    ratio: stats.Ratio | None
    sample_size: stats.SampleSizeCheck

    def times_worse(self, direction: str) -> float | None:
        """How many times worse than the baseline the median is, whatever the metric's
        *direction* (above 1: worse, below 1: better): ``median / base_median`` for a
        lower-is-better metric, its reciprocal otherwise. ``None`` when a median is not
        positive."""
        if self.median <= 0 or self.base_median <= 0:
            return None
        ratio = self.median / self.base_median
        return ratio if direction == "lower" else 1.0 / ratio


def versus(base: Sequence[float], values: Sequence[float]) -> Versus:
    """The series *values* against the baseline series *base* (both non-empty)."""
    return Versus(
        base_median=statistics.median(base),
        median=statistics.median(values),
        ratio=stats.ratio_of_medians(base, values),
        sample_size=stats.check_sample_size(base, values),
    )


@dataclass(frozen=True)
class Cell:
    """The samples of one metric of one variant in one run, with their statistics.

    ``vs_native``: the series against the same metric of its native counterpart
    (:func:`bench.analysis.baseline.native_counterparts`); ``None`` for a native variant,
    one without a counterpart, or when the counterpart has no samples of the metric.
    ``headline``: whether the metric is the one that stands for the variant (its scenario
    and variant label, over all runs analysed) in the comparison with native
    (:func:`bench.analysis.baseline.headline_of`). ``outliers``: how many samples lie
    beyond Tukey's far-out fences (:func:`bench.analysis.batch.far_outliers`; the samples
    the driver flags, never dropped).
    """

    run_id: str
    scenario: str
    variant: str
    metric: str
    unit: str
    direction: str
    values: tuple[float, ...]
    summary: stats.Summary
    vs_native: Versus | None
    headline: bool
    outliers: int = 0


def analyse(
    documents: Sequence[RunDocument],
    samples: pd.DataFrame | None = None,
    *,
    detail: Collection[str] | None = None,
) -> list[Cell]:
    """Every metric series of the ``ok`` results of *documents*, first seen first, as
    cells. *samples*, their samples table (:attr:`bench.analysis.frame.LoadedFrame.samples`),
    is split into series when given; otherwise the series are read off the documents
    (:func:`document_series`, the same series without building the table).

    *detail*: the run ids analysed in full; of other runs only the headline series are
    cells, compared with native by the ratio of medians alone (no bootstrap interval):
    what a list of many runs shows. ``None``: every run in full.

    The statistics are computed for all series at once (:mod:`bench.analysis.batch`):
    the same numbers as one :func:`bench.analysis.stats.summarize` and one :func:`versus`
    per series, at a fraction of the cost when there are many short series.
    """
    series = document_series(documents) if samples is None else sample_series(samples)
    counterparts = native_counterparts(documents)
    natives: dict[tuple[str, ...], tuple[str, ...]] = {}
    for key in series:
        run_id, scenario, variant, metric = key
        native = counterparts.get((run_id, scenario, variant))
        found = (run_id, scenario, native, metric) if native else None
        if found is not None and found in series:
            natives[key] = found
    headline = headlines(((scenario, variant), metric) for _, scenario, variant, metric in natives)

    def full(key: tuple[str, ...]) -> bool:
        return detail is None or key[0] in detail

    def shown(key: tuple[str, ...]) -> bool:
        return full(key) or headline.get((key[1], key[2])) == key[3]

    keys = [k for k in series if shown(k)]
    keys_set = set(keys)
    compared = [k for k in keys if k in natives]
    needed = keys + [n for n in dict.fromkeys(natives[k] for k in compared) if n not in keys_set]
    summary = dict(zip(needed, batch.summaries([series[k].values for k in needed]), strict=True))
    against: dict[tuple[str, ...], Versus] = {}
    for in_full in (True, False):
        part = [k for k in compared if full(k) == in_full]
        pairs = [(series[natives[k]].values, series[k].values) for k in part]
        ratios = batch.ratios(pairs, resamples=stats.RESAMPLES if in_full else 0)
        sizes = batch.sample_sizes(pairs)
        against.update(
            (key, Versus(summary[natives[key]].median, summary[key].median, ratio, size))
            for key, ratio, size in zip(part, ratios, sizes, strict=True)
        )
    cells = []
    for key in keys:
        unit, direction, values = series[key]
        run_id, scenario, variant, metric = key
        cells.append(
            Cell(
                run_id=run_id,
                scenario=scenario,
                variant=variant,
                metric=metric,
                unit=unit,
                direction=direction,
                values=values,
                summary=summary[key],
                vs_native=against.get(key),
                headline=headline.get((scenario, variant)) == metric,
                outliers=len(batch.far_outliers(values, summary[key])),
            )
        )
    return cells


def grouped(cells: Iterable[Cell], key: Callable[[Cell], str]) -> dict[str, list[Cell]]:
    """*cells* by *key*: groups in the order first seen, cells in their order."""
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(key(cell), []).append(cell)
    return groups


def cell_warnings(
    cells: Iterable[Cell],
    *,
    labels: Mapping[str, Mapping[str, str]],
    runs: Mapping[str, str] | None = None,
    imported: Collection[str] = (),
) -> Iterator[str]:
    """The :mod:`bench.analysis.advice` warnings of *cells*, one per run, scenario and rule
    (:func:`bench.analysis.advice.group_warnings`); the comparison with native is checked
    for headline cells only (those in the report's summary).

    Variants are named by *labels* (scenario -> variant label -> its short label), runs
    by *runs* (run id -> label); without *runs* a warning starts at its scenario, as the
    terminal words it (it shows one run). Runs whose id is in *imported* were imported
    from another harness (:func:`imported_runs`): their advice names its options, not
    crossdock's.
    """
    needed_for_ci = stats.min_samples_for_ci()
    found = (
        advice.Located(
            runs[cell.run_id] if runs is not None else "",
            cell.scenario,
            labels[cell.scenario][cell.variant],
            cell.metric,
            finding,
            imported=cell.run_id in imported,
        )
        for cell in cells
        for finding in advice.findings(
            cell.summary,
            cell.unit,
            cell.vs_native.ratio if cell.vs_native else None,
            headline=cell.headline,
            needed_for_ci=needed_for_ci,
            direction=cell.direction,
        )
    )
    return advice.group_warnings(found)


def imported_runs(documents: Iterable[RunDocument]) -> set[str]:
    """The run ids of *documents* imported from another harness (``run.imported_from``)."""
    return {str(d.run.get("id")) for d in documents if d.run.get("imported_from")}
