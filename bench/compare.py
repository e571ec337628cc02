"""Two sets of results side by side: per metric, how B differs from A and whether it shows.

:func:`compare` pairs every ``(scenario, variant, metric)`` measured in both A and B (a
results file or a folder of them on each side) and tests each pair with the units its
data allow:

- **several runs on a side**: runs are the units. Each run counts once, by the median of
  its samples, and the sides' log run medians are compared with a t test
  (:func:`bench.analysis.inference.compare_runs`: Student's t, or Welch's when the run
  counts differ); the medians shown are the geometric means of the run medians and the
  ratio's interval is the t interval. Run-to-run variation is part of the test;
- **one run on each side**: samples are the units, as nothing else is there: the
  two-sided Mann-Whitney U test, the ratio of the medians with its percentile-bootstrap
  interval (:func:`bench.analysis.cells.versus`). Run-to-run variation is *not* covered:
  a second run of A may differ from the first as much.

Every metric compared is one test of many, so the p-values are adjusted together with
Benjamini-Hochberg (:func:`bench.analysis.inference.adjust_p`) and a row is
``significant`` when its adjusted p is below :data:`bench.analysis.stats.ALPHA` (a false
discovery rate of 5 %). :func:`render` lays the rows out as a terminal table and
:func:`to_json` as a document (:data:`JSON_FORMAT`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from bench import results
from bench.analysis import inference, stats
from bench.analysis.cells import Series, sample_series, versus
from bench.analysis.frame import LoadedFrame, load_frame, short_labels
from bench.errors import ResultsError
from bench.metrics import format_value

_KEY = ("scenario", "variant", "metric")

#: The test of a row whose sides have one run each: samples as the units.
MANN_WHITNEY = "mann-whitney-u-samples"

#: The ``format`` of :func:`to_json`'s document; changes bump its number.
JSON_FORMAT = "crossdock-compare/1"

_ONE_RUN = "one run per side: samples as units, run-to-run variation not covered"


@dataclass(frozen=True)
class ComparisonRow:
    """One metric of one scenario variant, measured in A and in B.

    ``variant`` is the full :func:`~bench.analysis.frame.variant_label`; ``label`` only the
    parameters that vary within the scenario (across A and B), for display, as the
    terminal and the report label them (:func:`~bench.analysis.frame.short_labels`; ``default``
    for a scenario's only variant). ``runs_a``/``runs_b``: the runs on each side with
    samples of the metric; ``n_a``/``n_b``: their samples, all runs together.

    ``median_a``/``median_b``: with one run per side, each side's median; with several
    runs on a side, each side's geometric mean of its run medians (the arithmetic mean
    when a run median is not positive). ``ratio`` is ``median_b / median_a`` with its
    interval (``None`` when a run median, or with one run per side a sample, is not
    positive). ``p_value``:
    two-sided, of the ``test`` named (:data:`MANN_WHITNEY` or one of
    :mod:`bench.analysis.inference`'s); ``p_adjusted``: Benjamini-Hochberg over every
    row of the comparison; ``significant``: ``p_adjusted`` below
    :data:`~bench.analysis.stats.ALPHA`. ``size_check``: whether there are samples (one
    run per side) or runs (several) enough to tell the two apart, and how many would do.
    """

    scenario: str
    variant: str
    label: str
    metric: str
    unit: str
    direction: str
    runs_a: int
    runs_b: int
    n_a: int
    n_b: int
    median_a: float
    median_b: float
    ratio: stats.Ratio | None
    p_value: float
    p_adjusted: float
    significant: bool
    test: str
    size_check: stats.SampleSizeCheck | inference.RunCountCheck

    @property
    def effect(self) -> float:
        """``|ln(B/A)|``, 0 when there is no ratio: the sort key, largest first."""
        return self.ratio.effect if self.ratio is not None else 0.0

    @property
    def runs_as_units(self) -> bool:
        """Whether run-to-run variation is part of the test (several runs on a side)."""
        return self.test != MANN_WHITNEY

    @property
    def mark(self) -> str:
        """Significance stars of the adjusted p (:func:`bench.analysis.stats.significance_mark`)."""
        return stats.significance_mark(self.p_adjusted)

    @property
    def slowdown(self) -> str:
        """B against A in the one wording of a ratio (:func:`stats.format_slowdown`)."""
        return stats.format_slowdown(self.ratio, self.direction)


@dataclass(frozen=True)
class _Measured:
    """A row's figures before the p-values of all rows are adjusted together."""

    median_a: float
    median_b: float
    ratio: stats.Ratio | None
    p_value: float
    test: str
    size_check: stats.SampleSizeCheck | inference.RunCountCheck


def compare(*, a: Path, b: Path) -> list[ComparisonRow]:
    """Compare the results in *a* with those in *b* (files or folders).

    Only ``(scenario, variant, metric)`` keys with samples on both sides are compared;
    runs are the units where a side has several (see the module's description); the
    p-values of all rows are adjusted together; rows come largest effect first. Files
    that cannot be read are reported through :func:`warnings.warn`; a side with no
    usable results raises :class:`ResultsError`.
    """
    loaded_a, loaded_b = _load(a), _load(b)
    labels = short_labels(d for _, d in (*loaded_a.documents, *loaded_b.documents))
    side_a, side_b = _runs(loaded_a), _runs(loaded_b)
    keys = [key for key in side_a if key in side_b]
    measured = [_measure(side_a[key], side_b[key]) for key in keys]
    adjusted = inference.adjust_p([m.p_value for m in measured])
    rows = [
        ComparisonRow(
            scenario=key[0],
            variant=key[1],
            label=labels[key[0]][key[1]],
            metric=key[2],
            unit=side_a[key][0].unit,
            direction=side_a[key][0].direction,
            runs_a=len(side_a[key]),
            runs_b=len(side_b[key]),
            n_a=sum(len(run.values) for run in side_a[key]),
            n_b=sum(len(run.values) for run in side_b[key]),
            median_a=m.median_a,
            median_b=m.median_b,
            ratio=m.ratio,
            p_value=m.p_value,
            p_adjusted=q,
            significant=q < stats.ALPHA,
            test=m.test,
            size_check=m.size_check,
        )
        for key, m, q in zip(keys, measured, adjusted, strict=True)
    ]
    return sorted(rows, key=lambda row: row.effect, reverse=True)


def _load(path: Path) -> LoadedFrame:
    """The results under *path*; its load warnings re-issued as Python warnings."""
    loaded = load_frame([path])
    for message in loaded.warnings:
        warnings.warn(message, stacklevel=3)
    if not loaded.documents:
        raise ResultsError(f"{path}: no readable crossdock results")
    return loaded


def _runs(loaded: LoadedFrame) -> dict[tuple[str, ...], list[Series]]:
    """Each ``(scenario, variant, metric)`` of a side: one series per run, first seen first."""
    runs: dict[tuple[str, ...], list[Series]] = {}
    for key, series in sample_series(loaded.samples, ("run_id", *_KEY)).items():
        runs.setdefault(key[1:], []).append(series)
    return runs


def _measure(a: Sequence[Series], b: Sequence[Series]) -> _Measured:
    """B against A: runs as the units when a side has several, else samples."""
    if len(a) == 1 and len(b) == 1:
        base, values = a[0].values, b[0].values
        b_vs_a = versus(base, values)
        return _Measured(
            median_a=b_vs_a.base_median,
            median_b=b_vs_a.median,
            ratio=b_vs_a.ratio,
            p_value=stats.mann_whitney_p(base, values),
            test=MANN_WHITNEY,
            size_check=b_vs_a.sample_size,
        )
    found = inference.compare_runs([r.values for r in a], [r.values for r in b])
    return _Measured(
        median_a=found.centre_a,
        median_b=found.centre_b,
        ratio=found.ratio,
        p_value=found.p_value,
        test=found.test,
        size_check=found.runs,
    )


def methods(rows: Sequence[ComparisonRow]) -> list[str]:
    """What the numbers of *rows* are, one sentence each, as the table's caption and the
    JSON document's ``methods`` say it."""
    tests = {row.test for row in rows}
    lines = []
    if tests - {MANN_WHITNEY}:
        lines.append(
            "several runs on a side: runs as units, medians are geometric means of run "
            "medians, p from a t test of log run medians ("
            + ", ".join(sorted(tests - {MANN_WHITNEY}))
            + "), interval of B against A from that t"
        )
    if MANN_WHITNEY in tests:
        lines.append(
            f"{_ONE_RUN}: p from Mann-Whitney U, interval of B against A from a "
            "percentile bootstrap of the ratio of medians"
        )
    lines.append(
        f"adj. p: Benjamini-Hochberg over the {len(rows)} metrics compared; significant: "
        f"adj. p < {stats.ALPHA:g} (false discovery rate {stats.ALPHA:.0%}); "
        + ", ".join(f"{mark} adj. p < {limit:g}" for limit, mark in stats.SIGNIFICANCE_MARKS)
    )
    return lines


def render(rows: list[ComparisonRow]) -> Table:
    """A terminal table of *rows*, one line each, in the given order, with the methods
    (:func:`methods`) as its caption."""
    table = Table(
        title="B against A: ratio of B's median to A's, with its 95 % interval",
        caption="\n".join(methods(rows)),
        caption_justify="left",
    )
    headers = ("scenario", "variant", "metric", "median A", "median B", "B against A")
    for header in (*headers, "units A/B", "p", "adj. p", "sig"):
        table.add_column(header, justify="left" if header in _KEY else "right")
    table.add_column("note")
    for row in rows:
        # Text, not str: names come from results files and must not be read as markup
        table.add_row(
            Text(row.scenario),
            Text(row.label),
            Text(row.metric),
            format_value(row.median_a, row.unit),
            format_value(row.median_b, row.unit),
            row.slowdown,
            _units(row),
            f"{row.p_value:.2g}",
            f"{row.p_adjusted:.2g}",
            row.mark,
            row.size_check.advice,
        )
    return table


def _units(row: ComparisonRow) -> str:
    """How many units each side contributed: runs, or samples of a single run."""
    if row.runs_as_units:
        return f"{row.runs_a}/{row.runs_b} runs"
    return f"{row.n_a}/{row.n_b} samples"


def to_json(rows: Sequence[ComparisonRow], *, a: Path, b: Path) -> dict[str, Any]:
    """The comparison as a JSON-ready document: ``format`` (:data:`JSON_FORMAT`), the two
    sides ``a`` and ``b`` as given, ``alpha`` (the false discovery rate of
    ``significant``), ``adjustment``, ``methods`` (:func:`methods`) and ``rows``, in the
    given order, each with: ``scenario``, ``variant`` (every parameter), ``label`` (the
    parameters that vary), ``metric``, ``unit``, ``direction``, ``median_a``,
    ``median_b``, ``runs_a``, ``runs_b``, ``samples_a``, ``samples_b``, ``ratio``
    (``median_b / median_a``; null when not defined), ``ratio_ci`` (``[low, high]`` at
    ``confidence``, or null), ``b_against_a`` (the ratio in words,
    :func:`stats.format_slowdown`), ``p``, ``p_adjusted``, ``significant``, ``test``,
    ``run_variation_covered`` and ``note`` (too few samples or runs to tell; or empty).
    """
    return {
        "format": JSON_FORMAT,
        "a": str(a),
        "b": str(b),
        "alpha": stats.ALPHA,
        "adjustment": "benjamini-hochberg",
        "methods": methods(rows),
        "rows": [_json_row(row) for row in rows],
    }


def write_json(rows: Sequence[ComparisonRow], *, a: Path, b: Path, output: Path) -> None:
    """Write :func:`to_json`'s document to *output* (its folder created); a failure to
    write raises :class:`ResultsWriteError`."""
    results.write_json(output, to_json(rows, a=a, b=b))


def _json_row(row: ComparisonRow) -> dict[str, Any]:
    ratio = row.ratio
    return {
        "scenario": row.scenario,
        "variant": row.variant,
        "label": row.label,
        "metric": row.metric,
        "unit": row.unit,
        "direction": row.direction,
        "median_a": row.median_a,
        "median_b": row.median_b,
        "runs_a": row.runs_a,
        "runs_b": row.runs_b,
        "samples_a": row.n_a,
        "samples_b": row.n_b,
        "ratio": ratio.value if ratio else None,
        "ratio_ci": list(ratio.ci) if ratio and ratio.ci else None,
        "confidence": ratio.confidence if ratio else None,
        "b_against_a": row.slowdown,
        "p": row.p_value,
        "p_adjusted": row.p_adjusted,
        "significant": row.significant,
        "test": row.test,
        "run_variation_covered": row.runs_as_units,
        "note": row.size_check.advice,
    }
