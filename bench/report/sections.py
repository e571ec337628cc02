"""The report's sections as template data: tables of text and figures, from a
:class:`Page` (the loaded results and their :mod:`bench.analysis.cells`).

Top to bottom as the page shows them: :func:`summary` (per area, each run's headline
ratios to native as a heatmap and a table), :func:`scenario_sections` (per scenario, a box
plot and a table per metric, and the conditions its results recorded), :func:`outcomes`
(results skipped or failed) and :func:`environments` (each run's records).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bench.analysis import advice, stats
from bench.analysis.cells import Cell, Versus, grouped
from bench.analysis.frame import LoadedFrame, scenario_variants, variant_label, varying_labels
from bench.kinds import AREAS, is_native
from bench.metrics import METRICS, format_value
from bench.plan import Scalar
from bench.report.figures import RunStyle, box_figure, heatmap
from bench.results import RunDocument

#: Environment fields stored as numbers in a unit, shown in human units.
FIELD_UNITS: dict[str, str] = {"mem_total": "B", "memory_bytes": "B"}

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
    """What the sections are drawn from: the loaded results, each run's style, the
    scenarios and the analysed cells."""

    loaded: LoadedFrame
    runs: Mapping[str, RunStyle]
    scenarios: Sequence[Scenario]
    cells: Sequence[Cell]


# --- text -------------------------------------------------------------------------------


def ratio_text(versus: Versus | None, *, interval: bool = True) -> str:
    """The ratio to native, marked with a dagger when there are too few samples to tell."""
    if versus is None:
        return _UNSET
    text = stats.format_ratio(versus.ratio, interval=interval)
    return f"{text} \N{DAGGER}" if versus.sample_size.too_few else text


def _field_text(value: Any, unit: str | None = None) -> str:
    """A field of a results file as text: numbers in *unit* when given, lists and objects
    as compact JSON."""
    if value is None or value == "":
        return _UNSET
    if isinstance(value, str):
        return value
    if unit is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return format_value(value, unit)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _interval_text(summary: stats.Summary, unit: str) -> str:
    if summary.ci_low is None or summary.ci_high is None:
        return _UNSET
    low, high = format_value(summary.ci_low, unit), format_value(summary.ci_high, unit)
    return f"{low} \N{EN DASH} {high}"


# --- the summary ------------------------------------------------------------------------


def summary(page: Page) -> list[dict[str, Any]]:
    """Per area: a heatmap and a table of the headline ratios to native of each run that
    has any in that area, and the labels of the runs that have none (left out)."""
    by_scenario = grouped(page.cells, lambda c: c.scenario)
    areas = []
    for kind, heading in AREAS:
        of_kind = [s for s in page.scenarios if s.kind == kind]
        headline: dict[tuple[str, str, str], Cell] = {}
        for scenario in of_kind:
            labels = _container_labels(scenario)
            for cell in by_scenario.get(scenario.name, ()):
                if cell.headline:
                    headline[(scenario.name, labels[cell.variant], cell.run_id)] = cell
        rows = list(dict.fromkeys((s, v) for s, v, _ in headline))
        # a run with no comparison here (a validation run, one that did not measure this
        # area) would be an empty column
        compared = {run_id for _, _, run_id in headline}
        shown = {k: s for k, s in page.runs.items() if k in compared}
        areas.append(
            {
                "id": f"area-{kind}",
                "heading": heading,
                "has_scenarios": bool(of_kind),
                "figure": _heatmap(rows, headline, shown, f"heat-{kind}") if rows else None,
                "table": _summary_table(rows, headline, shown),
                "left_out": [s.label for k, s in page.runs.items() if k not in compared],
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
    cells: Mapping[tuple[str, str, str], Cell],
    runs: Mapping[str, RunStyle],
    div_id: str,
) -> Markup:
    """The area's heatmap (:func:`bench.report.figures.heatmap`): a row per (scenario,
    variant), a column per run in *runs*."""
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for scenario, variant in rows:
        found = [cells.get((scenario, variant, run_id)) for run_id in runs]
        z.append([_heat_value(c) for c in found])
        text.append(["" if c is None else ratio_text(c.vs_native, interval=False) for c in found])
    return heatmap(
        [f"{scenario}: {variant}" for scenario, variant in rows],
        [s.label for s in runs.values()],
        z,
        text,
        div_id,
    )


def _heat_value(cell: Cell | None) -> float | None:
    """log2 of how much worse than native *cell* is (positive: worse), whatever the
    metric's direction; ``None`` without a ratio to native."""
    versus = cell.vs_native if cell is not None else None
    if cell is None or versus is None or versus.ratio is None:
        return None
    worse = versus.times_worse(cell.direction)
    return None if worse is None else math.log2(worse)


def _summary_table(
    rows: Sequence[tuple[str, str]],
    headline: Mapping[tuple[str, str, str], Cell],
    runs: Mapping[str, RunStyle],
) -> Table:
    body = []
    for scenario, variant in rows:
        found = [headline.get((scenario, variant, run_id)) for run_id in runs]
        metric = next(c.metric for c in found if c is not None)
        ratios = [_UNSET if c is None else ratio_text(c.vs_native) for c in found]
        body.append((scenario, variant, metric, *ratios))
    headers = ("scenario", "variant", "metric", *(f"{s.label} vs native" for s in runs.values()))
    return Table(headers, tuple(body), nowrap_from=2)


# --- one section per scenario -----------------------------------------------------------


def scenario_sections(page: Page) -> list[dict[str, Any]]:
    """One section per scenario, areas in :data:`AREAS` order, then any other kinds."""
    order = [kind for kind, _ in AREAS]
    ordered = sorted(
        page.scenarios,
        key=lambda s: order.index(s.kind) if s.kind in order else len(order),
    )
    by_scenario = grouped(page.cells, lambda c: c.scenario)
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
                    _chart(scenario, by_metric[metric], page.runs, f"box-{number}-{i}")
                    for i, metric in enumerate(_metric_order(list(by_metric)))
                ],
            }
        )
    return sections


def _conditions(page: Page, scenario: Scenario) -> Table | None:
    """One row per variant and run, with the :data:`CONDITIONS` the results recorded
    (only the columns some result has); None when none recorded any."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for _, document in page.loaded.documents:
        run = page.runs[str(document.run["id"])].label
        for result in document.results:
            if result.scenario != scenario.name or result.status != "ok":
                continue
            values = {
                key: _condition_text(result.extra[key])
                for key, _ in CONDITIONS
                if result.extra.get(key) is not None
            }
            found[(scenario.short[variant_label(result.variant)], run)] = values
    keys = [key for key, _ in CONDITIONS if any(key in v for v in found.values())]
    if not keys:
        return None
    names = dict(CONDITIONS)
    return Table(
        ("variant", "platform", *(names[k] for k in keys)),
        tuple(
            (variant, run, *(v.get(k, "–") for k in keys)) for (variant, run), v in found.items()
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


def _chart(
    scenario: Scenario, cells: Sequence[Cell], runs: Mapping[str, RunStyle], div_id: str
) -> dict[str, Any]:
    place = {variant: i for i, variant in enumerate(scenario.variants)}
    ordered = sorted(cells, key=lambda c: (place[c.variant], runs[c.run_id].position))
    variants = list(dict.fromkeys(c.variant for c in ordered))
    labels = _labels_within(scenario, variants)
    return {
        "metric": cells[0].metric,
        "figure": box_figure(variants, labels, ordered, runs, div_id),
        "table": _cell_table(scenario, labels, ordered, runs),
    }


def _cell_table(
    scenario: Scenario,
    labels: Mapping[str, str],
    cells: Sequence[Cell],
    runs: Mapping[str, RunStyle],
) -> Table:
    """Summary statistics of each variant and run in human units; the "vs native" column
    only where some row has a native baseline or is one."""
    headers: tuple[str, ...] = (
        "variant",
        "platform",
        "n",
        "median",
        "95 % interval",
        "IQR",
        "CV",
        "vs native",
    )
    rows: list[tuple[str, ...]] = []
    classes = []
    for cell in cells:
        s = cell.summary
        rows.append(
            (
                labels[cell.variant],
                runs[cell.run_id].label,
                str(s.n),
                format_value(s.median, cell.unit),
                _interval_text(s, cell.unit),
                format_value(s.iqr, cell.unit),
                _UNSET if s.cv is None else f"{s.cv:.1%}",
                "baseline" if scenario.is_native(cell.variant) else ratio_text(cell.vs_native),
            )
        )
        classes.append("warn" if advice.too_variable(s, cell.unit) else "")
    if all(row[-1] == _UNSET for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    return Table(headers, tuple(rows), tuple(classes), nowrap_from=1)


# --- outcomes and environments ----------------------------------------------------------


def outcomes(page: Page) -> Table:
    """Results that were skipped or failed, with their reasons."""
    frame = page.loaded.outcomes
    failed = frame[frame["status"] != "ok"]
    rows = tuple(
        (
            page.runs[str(row.run_id)].label,
            str(row.scenario),
            str(row.variant),
            str(row.status),
            str(row.reason),
        )
        for row in failed.itertuples()
    )
    return Table(
        ("platform", "scenario", "variant", "status", "reason"),
        rows,
        tuple(str(row.status) for row in failed.itertuples()),
    )


def environments(page: Page) -> list[dict[str, Any]]:
    """Each run's record: platform and its detection reasons, engine, host, tools."""
    return [
        {
            "label": page.runs[str(document.run["id"])].label,
            "path": str(path),
            "run": _fields(document.run),
            "platform": _fields(document.platform, omit=("detection",)),
            "detection": [str(reason) for reason in document.platform.get("detection") or ()],
            "engine": _fields(document.engine, omit=("raw_info",)),
            "host": _fields(document.host),
            "tools": sorted(
                {
                    f"{t.get('name', '?')} {t.get('version', '?')}"
                    for r in document.results
                    if (t := r.tool)
                }
            ),
        }
        for path, document in page.loaded.documents
    ]


def _fields(record: Mapping[str, Any], omit: Sequence[str] = ()) -> list[tuple[str, str]]:
    """A record's fields as text, sizes in human units (:data:`FIELD_UNITS`)."""
    return [
        (str(key), _field_text(value, FIELD_UNITS.get(str(key))))
        for key, value in record.items()
        if key not in omit
    ]
