"""The report's sections as template data: tables of text and figures, from a
:class:`Page` (the loaded results, the runs selected per platform and their
:mod:`bench.analysis.cells`).

Top to bottom as the page shows them: :func:`summary` (per area, each platform's headline
ratios to native as a heatmap and a table), :func:`scenario_sections` (per scenario, a box
plot and a table per metric, and the conditions its results recorded); the runs, what was
skipped or failed and the environments are in :mod:`bench.report.runs`.

A platform's figure comes from its selected runs (:mod:`bench.report.selection`): with one
run, that run's median and the ratio to native with its bootstrap interval; with several,
the median of the runs' figures and the range from the lowest to the highest run.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bench.analysis import advice, stats
from bench.analysis.cells import Cell, grouped
from bench.analysis.frame import LoadedFrame, scenario_variants, variant_label, varying_labels
from bench.kinds import AREAS, is_native
from bench.metrics import METRICS, format_value
from bench.plan import Scalar
from bench.report.figures import RunStyle, box_figure, heatmap
from bench.report.selection import Selection, started
from bench.results import RunDocument

#: what a result records about the conditions it was measured in (its ``extra``), shown
#: under each scenario: the same variant can mean other things on other platforms
CONDITIONS: tuple[tuple[str, str], ...] = (
    ("cache", "cache state"),
    ("cache_method", "cache dropped on"),
    ("fs_type", "filesystem"),
    ("direct", "direct I/O"),
    ("userland_proxy", "userland proxy"),
)

_UNSET = "\N{EN DASH}"


@dataclass(frozen=True)
class Table:
    """A table ready for the template: headers, rows of text, a CSS class per row, and
    the first column from which cells are kept on one line (numbers, names); ``None``
    lets every column wrap."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_classes: tuple[str, ...] = ()
    nowrap_from: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A scenario's variants (label -> parameters, first seen first), their short labels
    (only the parameters that vary) and the parameters all variants share, as text."""

    name: str
    kind: str
    params: Mapping[str, Mapping[str, Scalar]]
    short: Mapping[str, str]
    shared: str

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.params)

    def is_native(self, variant: str) -> bool:
        return is_native(self.kind, self.params[variant])


def scenarios(documents: Sequence[RunDocument]) -> list[Scenario]:
    """Every scenario with its variants, shortened to the parameters that vary."""
    kinds = {result.scenario: result.kind for d in documents for result in d.results}
    found = []
    for name, by_label in scenario_variants(documents).items():
        short, shared = varying_labels(by_label)
        found.append(Scenario(name, kinds[name], by_label, short, shared))
    return found


@dataclass(frozen=True)
class Page:
    """What the sections are drawn from: the loaded results; the selection and, per
    platform and scenario, the selected runs (oldest first,
    :func:`bench.report.selection.select`); each platform's style; the platform of every
    run id; the scenarios of the selected runs; and the analysed cells of every run (all
    metrics compared with native for the selected runs, the headline ones for the rest)."""

    loaded: LoadedFrame
    selection: Selection
    chosen: Mapping[str, Mapping[str, Sequence[RunDocument]]]
    styles: Mapping[str, RunStyle]
    platform_of: Mapping[str, str]
    scenarios: Sequence[Scenario]
    cells: Sequence[Cell]

    @property
    def picked(self) -> set[tuple[str, str]]:
        """The selected (run id, scenario) pairs."""
        return {
            (str(d.run["id"]), scenario)
            for by_scenario in self.chosen.values()
            for scenario, runs in by_scenario.items()
            for d in runs
        }

    @property
    def selected(self) -> set[str]:
        """The run ids of the runs selected for any scenario."""
        return {run_id for run_id, _ in self.picked}

    def runs_of(self, platform: str) -> list[RunDocument]:
        """*platform*'s runs selected for any scenario, oldest first."""
        found = {str(d.run["id"]): d for runs in self.chosen[platform].values() for d in runs}
        return sorted(found.values(), key=lambda d: (started(d), str(d.run["id"])))

    def selected_cells(self) -> list[Cell]:
        """The cells of the selected (run, scenario) pairs."""
        picked = self.picked
        return [c for c in self.cells if (c.run_id, c.scenario) in picked]


# --- text -------------------------------------------------------------------------------


def ratio_text(cell: Cell, *, interval: bool = True) -> str:
    """*cell*'s ratio to native in the one wording (:func:`bench.analysis.stats.format_slowdown`),
    marked with a dagger when there are too few samples to tell."""
    versus = cell.vs_native
    if versus is None:
        return _UNSET
    text = stats.format_slowdown(versus.ratio, cell.direction, interval=interval)
    return f"{text} \N{DAGGER}" if versus.sample_size.too_few else text


def platform_ratio(cells: Sequence[Cell]) -> stats.Ratio | None:
    """The ratio to native a platform shows from its selected runs' *cells* (one metric of
    one variant): one run's own ratio with its bootstrap interval; for several runs, the
    median of their ratios, with the lowest and highest in place of the interval."""
    ratios = [c.vs_native.ratio for c in cells if c.vs_native and c.vs_native.ratio]
    if not ratios:
        return None
    if len(cells) == 1:
        return ratios[0]
    values = [r.value for r in ratios]
    return stats.Ratio(statistics.median(values), (min(values), max(values)), ratios[0].confidence)


def platform_ratio_text(cells: Sequence[Cell], *, interval: bool = True) -> str:
    """:func:`platform_ratio` in the one wording; one run's as :func:`ratio_text`, several
    runs' with their count ("1.20x slower [1.10-1.31] over 4 runs")."""
    if len(cells) == 1:
        return ratio_text(cells[0], interval=interval)
    text = stats.format_slowdown(platform_ratio(cells), cells[0].direction, interval=interval)
    return text if text == _UNSET else f"{text} over {len(cells)} runs"


def _interval_text(summary: stats.Summary, unit: str) -> str:
    if summary.ci_low is None or summary.ci_high is None:
        return _UNSET
    low, high = format_value(summary.ci_low, unit), format_value(summary.ci_high, unit)
    return f"{low} \N{EN DASH} {high}"


# --- the summary ------------------------------------------------------------------------


def summary(page: Page) -> list[dict[str, Any]]:
    """Per area: a heatmap and a table of the headline ratios to native of each platform
    that has any in that area (from its selected runs), and the platforms that have none
    (left out)."""
    by_scenario = grouped(page.selected_cells(), lambda c: c.scenario)
    areas = []
    for kind, heading in AREAS:
        of_kind = [s for s in page.scenarios if s.kind == kind]
        headline: dict[tuple[str, str, str], list[Cell]] = {}
        for scenario in of_kind:
            labels = _container_labels(scenario)
            for cell in by_scenario.get(scenario.name, ()):
                if cell.headline and cell.vs_native is not None:
                    key = (scenario.name, labels[cell.variant], page.platform_of[cell.run_id])
                    headline.setdefault(key, []).append(cell)
        rows = list(dict.fromkeys((s, v) for s, v, _ in headline))
        # a platform with no comparison here (a validation run, one that did not measure
        # this area) would be an empty column
        compared = {platform for _, _, platform in headline}
        shown = {k: s for k, s in page.styles.items() if k in compared}
        areas.append(
            {
                "id": f"area-{kind}",
                "heading": heading,
                "has_scenarios": bool(of_kind),
                "figure": _heatmap(rows, headline, shown, f"heat-{kind}") if rows else None,
                "table": _summary_table(rows, headline, shown),
                "left_out": [s.label for k, s in page.styles.items() if k not in compared],
            }
        )
    return areas


def _container_labels(scenario: Scenario) -> dict[str, str]:
    """Short labels of *scenario*'s container variants among themselves (the native
    variant is not in the summary, so what only it differs in is left out)."""
    return _labels_within(scenario, [v for v in scenario.variants if not scenario.is_native(v)])


def _labels_within(scenario: Scenario, variants: Sequence[str]) -> dict[str, str]:
    """Labels of *variants* by the parameters that differ among them alone (a chart of a
    metric only some variants record need not repeat what those share); a lone variant,
    and any variant of *scenario* not in *variants*, keeps its scenario-wide label."""
    labels = dict(scenario.short)
    if len(variants) > 1:
        labels.update(varying_labels({v: scenario.params[v] for v in variants})[0])
    return labels


def _heatmap(
    rows: Sequence[tuple[str, str]],
    cells: Mapping[tuple[str, str, str], Sequence[Cell]],
    platforms: Mapping[str, RunStyle],
    div_id: str,
) -> Markup:
    """The area's heatmap (:func:`bench.report.figures.heatmap`): a row per (scenario,
    variant), a column per platform in *platforms*."""
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for scenario, variant in rows:
        found = [cells.get((scenario, variant, platform), ()) for platform in platforms]
        z.append([_heat_value(c) for c in found])
        text.append([platform_ratio_text(c, interval=False) if c else "" for c in found])
    return heatmap(
        [f"{scenario}: {variant}" for scenario, variant in rows],
        [s.label for s in platforms.values()],
        z,
        text,
        div_id,
    )


def _heat_value(cells: Sequence[Cell]) -> float | None:
    """log2 of how many times slower than native the shown ratio is (positive: slower,
    negative: faster), whatever the metric's direction, so one colour means one factor
    for times and rates alike; ``None`` without a ratio to native."""
    ratio = platform_ratio(cells) if cells else None
    if ratio is None or ratio.value <= 0:
        return None
    worse = ratio.value if cells[0].direction == "lower" else 1.0 / ratio.value
    return math.log2(worse)


def _summary_table(
    rows: Sequence[tuple[str, str]],
    headline: Mapping[tuple[str, str, str], Sequence[Cell]],
    platforms: Mapping[str, RunStyle],
) -> Table:
    body = []
    for scenario, variant in rows:
        found = [headline.get((scenario, variant, platform), ()) for platform in platforms]
        metric = next(c[0].metric for c in found if c)
        ratios = [platform_ratio_text(c) if c else _UNSET for c in found]
        body.append((scenario, variant, metric, *ratios))
    headers = (
        "scenario",
        "variant",
        "metric",
        *(f"{s.label} vs native" for s in platforms.values()),
    )
    return Table(headers, tuple(body), nowrap_from=2)


# --- one section per scenario -----------------------------------------------------------


def scenario_sections(page: Page) -> list[dict[str, Any]]:
    """One section per scenario of the selected runs, areas in :data:`AREAS` order, then
    any other kinds."""
    order = [kind for kind, _ in AREAS]
    ordered = sorted(
        page.scenarios,
        key=lambda s: order.index(s.kind) if s.kind in order else len(order),
    )
    by_scenario = grouped(page.selected_cells(), lambda c: c.scenario)
    sections = []
    for number, scenario in enumerate(ordered):
        by_metric = grouped(by_scenario.get(scenario.name, ()), lambda c: c.metric)
        sections.append(
            {
                "id": f"scenario-{number}",
                "name": scenario.name,
                "kind": scenario.kind,
                "shared": scenario.shared,
                "conditions": _conditions(page, scenario),
                "charts": [
                    _chart(page, scenario, by_metric[metric], f"box-{number}-{i}")
                    for i, metric in enumerate(_metric_order(list(by_metric)))
                ],
            }
        )
    return sections


def _conditions(page: Page, scenario: Scenario) -> Table | None:
    """One row per variant and platform, with the :data:`CONDITIONS` its selected runs'
    results recorded (the latest run's where they differ; only the columns some result
    has); None when none recorded any."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for platform, by_scenario in page.chosen.items():
        for document in by_scenario.get(scenario.name, ()):
            for result in document.results:
                if result.scenario != scenario.name or result.status != "ok":
                    continue
                values = {
                    key: _condition_text(result.extra[key])
                    for key, _ in CONDITIONS
                    if result.extra.get(key) is not None
                }
                found[(scenario.short[variant_label(result.variant)], platform)] = values
    keys = [key for key, _ in CONDITIONS if any(key in v for v in found.values())]
    if not keys:
        return None
    names = dict(CONDITIONS)
    return Table(
        ("variant", "platform", *(names[k] for k in keys)),
        tuple(
            (variant, platform, *(v.get(k, "–") for k in keys))
            for (variant, platform), v in found.items()
        ),
    )


def _condition_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):  # e.g. the userland proxy: its state and how it was found
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _metric_order(seen: Sequence[str]) -> list[str]:
    """The metrics *seen* (first seen first): headline metrics first, each group in the
    metric table's order, then metrics the table does not know, as first seen."""
    table = list(METRICS)

    def key(m: str) -> tuple[bool, int, int]:
        known = METRICS.get(m)
        place = table.index(m) if known else len(table)
        return (not (known and known.headline), place, seen.index(m))

    return sorted(seen, key=key)


def _chart(page: Page, scenario: Scenario, cells: Sequence[Cell], div_id: str) -> dict[str, Any]:
    place = {variant: i for i, variant in enumerate(scenario.variants)}
    styles = page.styles
    ordered = sorted(
        cells, key=lambda c: (place[c.variant], styles[page.platform_of[c.run_id]].position)
    )
    variants = list(dict.fromkeys(c.variant for c in ordered))
    labels = _labels_within(scenario, variants)
    return {
        "metric": cells[0].metric,
        "figure": box_figure(
            variants, labels, ordered, platform_of=page.platform_of, styles=styles, div_id=div_id
        ),
        "table": _cell_table(page, scenario, labels, ordered),
    }


def _cell_table(
    page: Page, scenario: Scenario, labels: Mapping[str, str], cells: Sequence[Cell]
) -> Table:
    """Summary statistics of each variant and platform in human units; the "vs native"
    column only where some row has a native baseline or is one. A platform with several
    selected runs shows the median of their medians, and the lowest to highest run median
    in place of the interval."""
    headers: tuple[str, ...] = (
        "variant",
        "platform",
        "runs",
        "n",
        "median",
        "95 % interval",
        "IQR",
        "CV",
        "outliers",
        "vs native",
    )
    groups = grouped(cells, lambda c: f"{c.variant}\0{page.platform_of[c.run_id]}")
    rows: list[tuple[str, ...]] = []
    classes = []
    for group in groups.values():
        first = group[0]
        native = scenario.is_native(first.variant)
        rows.append(
            (
                labels[first.variant],
                page.platform_of[first.run_id],
                str(len(group)),
                *_spread(group),
                str(sum(c.outliers for c in group)),
                "baseline" if native else platform_ratio_text(group),
            )
        )
        classes.append("warn" if any(advice.too_variable(c.summary, c.unit) for c in group) else "")
    if all(row[-1] == _UNSET for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    return Table(headers, tuple(rows), tuple(classes), nowrap_from=1)


def _spread(cells: Sequence[Cell]) -> tuple[str, str, str, str, str]:
    """n, median, interval, IQR and CV of one variant on one platform: one run's own; for
    several runs, the samples counted together, the median of the run medians, their
    range, and no IQR or CV (a spread across runs is not one run's noise)."""
    unit = cells[0].unit
    if len(cells) == 1:
        s = cells[0].summary
        return (
            str(s.n),
            format_value(s.median, unit),
            _interval_text(s, unit),
            format_value(s.iqr, unit),
            _UNSET if s.cv is None else f"{s.cv:.1%}",
        )
    medians = [c.summary.median for c in cells]
    low, high = format_value(min(medians), unit), format_value(max(medians), unit)
    return (
        str(sum(c.summary.n for c in cells)),
        format_value(statistics.median(medians), unit),
        f"runs {low} \N{EN DASH} {high}",
        _UNSET,
        _UNSET,
    )
