"""Two sets of results side by side: per metric, how B differs from A and whether it shows.

:func:`compare` pairs every ``(scenario, variant, metric)`` measured in both A and B and
computes the medians, the ratio B/A with its bootstrap interval and whether there are too
few samples to tell (:func:`bench.analysis.cells.versus`, as a container against native in
the report), and the Mann-Whitney p-value; :func:`render` lays the rows out as a
terminal table. Samples of several runs on one side (a folder) are pooled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from bench.analysis import stats
from bench.analysis.cells import Series, sample_series, versus
from bench.analysis.frame import LoadedFrame, load_frame, short_labels
from bench.errors import ResultsError
from bench.metrics import format_value

_KEY = ("scenario", "variant", "metric")


@dataclass(frozen=True)
class ComparisonRow:
    """One metric of one scenario variant, measured in A and in B.

    ``variant`` is the full :func:`~bench.analysis.frame.variant_label`; ``label`` only the
    parameters that vary within the scenario (across A and B), for display, as the
    terminal and the report label them (:func:`~bench.analysis.frame.short_labels`; ``default``
    for a scenario's only variant).
    ``ratio`` is ``median_b / median_a`` with its interval (``None`` when the metric has
    values that are not positive); ``p_value`` is the two-sided Mann-Whitney p and
    ``mark`` its significance stars; ``sample_size`` says whether there are too few
    samples to tell the medians apart and how many would do.
    """

    scenario: str
    variant: str
    label: str
    metric: str
    unit: str
    direction: str
    n_a: int
    n_b: int
    median_a: float
    median_b: float
    ratio: stats.Ratio | None
    p_value: float
    mark: str
    sample_size: stats.SampleSizeCheck

    @property
    def effect(self) -> float:
        """``|ln(B/A)|``, 0 when there is no ratio: the sort key, largest first."""
        return self.ratio.effect if self.ratio is not None else 0.0


def compare(*, a: Path, b: Path) -> list[ComparisonRow]:
    """Compare the results in *a* with those in *b* (files or folders).

    Only ``(scenario, variant, metric)`` keys with samples on both sides are compared;
    rows come largest effect first. Files that cannot be read are reported through
    :func:`warnings.warn`; a side with no usable results raises :class:`ResultsError`.
    """
    loaded_a, loaded_b = _load(a), _load(b)
    labels = short_labels(d for _, d in (*loaded_a.documents, *loaded_b.documents))
    # runs on one side pool their samples
    side_a, side_b = (sample_series(side.samples, _KEY) for side in (loaded_a, loaded_b))
    rows = [
        _row(key, labels[key[0]][key[1]], group, side_b[key])
        for key, group in side_a.items()
        if key in side_b
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


def _row(key: tuple[str, ...], label: str, a: Series, b: Series) -> ComparisonRow:
    b_vs_a = versus(a.values, b.values)
    p_value = stats.mann_whitney_p(a.values, b.values)
    return ComparisonRow(
        scenario=key[0],
        variant=key[1],
        label=label,
        metric=key[2],
        unit=a.unit,
        direction=a.direction,
        n_a=len(a.values),
        n_b=len(b.values),
        median_a=b_vs_a.base_median,
        median_b=b_vs_a.median,
        ratio=b_vs_a.ratio,
        p_value=p_value,
        mark=stats.significance_mark(p_value),
        sample_size=b_vs_a.sample_size,
    )


def render(rows: list[ComparisonRow]) -> Table:
    """A terminal table of *rows*, one line each, in the given order."""
    table = Table(
        title="B compared with A: ratio of medians B/A with its 95 % bootstrap interval",
        caption="p: two-sided Mann-Whitney U; "
        + ", ".join(f"{mark} p < {limit:g}" for limit, mark in stats.SIGNIFICANCE_MARKS),
        caption_justify="left",
    )
    for header in ("scenario", "variant", "metric", "median A", "median B", "B/A", "p", "sig"):
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
            stats.format_ratio(row.ratio),
            f"{row.p_value:.2g}",
            row.mark,
            row.sample_size.advice,
        )
    return table
