"""The HTML comparison report: one self-contained page built from results files.

:func:`build_report` reads results (:func:`bench.analysis.frame.load_frame`), computes the
statistics (:mod:`bench.analysis.stats`) and renders ``templates/report.html.j2`` with plotly.js
inlined once, so the page works offline and can be published as a single file.

The page, top to bottom: a summary (per area, each platform's container figures as a
ratio to its own native baseline, as heatmaps and a table), warnings, one section per
scenario (box plots of the raw samples with a table of medians and intervals under each),
the results that were skipped or failed, and each run's environment.

Everything read from results files is escaped: Jinja2 autoescaping for the page, and
:func:`_plot_text` for text that plotly draws (plotly reads a few HTML tags in labels).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.io
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from bench import __version__
from bench.analysis import advice, invariants, stats
from bench.analysis.frame import (
    LoadedFrame,
    headlines,
    load_frame,
    native_counterparts,
    scenario_variants,
    variant_label,
    varying_labels,
)
from bench.kinds import AREAS, is_native
from bench.metrics import METRICS, format_value
from bench.plan import Scalar
from bench.results import RunDocument

#: Okabe & Ito's colour-blind-safe palette (2008), most distinct first, without yellow
#: (too faint on white); each series also gets its own marker symbol.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross")

#: Heatmap colours: better than native (blue), equal (white), worse (vermillion).
RATIO_SCALE: tuple[tuple[float, str], ...] = ((0.0, "#0072B2"), (0.5, "#F7F7F7"), (1.0, "#D55E00"))

#: Environment fields stored as numbers in a unit, shown in human units.
FIELD_UNITS: dict[str, str] = {"mem_total": "B", "memory_bytes": "B"}

#: Plotly options: no logo, no links to plotly's site, charts follow the page width.
PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}

#: Characters per line of a variant label on a plot axis.
_LABEL_WIDTH = 36

#: A value axis turns logarithmic when its largest value is this many times its smallest.
_LOG_SPAN = 30

#: At most this many labelled ticks on a heatmap's colour bar, and at least this many
#: pixels of colour bar for each.
_COLOURBAR_TICKS = 9
_COLOURBAR_TICK_PX = 20

#: Sizes of text at the figures' font (13 px), for laying figures out before a browser
#: does: a character's width (a little above the average of lower-case letters, digits and
#: hyphens), and the height of a line.
_CHAR_PX = 7.0
_LINE_PX = 16

#: Characters per line of a run's label on a heatmap's axis (the platform, then the run).
_RUN_LABEL_WIDTH = 24

#: The width of a heatmap's plot area on a page at its full width (1,200 px, less the
#: row labels and the colour bar): run labels lie flat when all fit across it.
_HEATMAP_PLOT_WIDTH = 640

#: A heatmap row's height at the least, and its plot area's.
_HEATMAP_ROW_PX = 28
_HEATMAP_MIN_PX = 120

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_UNSET = "\N{EN DASH}"


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`build_report` wrote: the page, how much it shows, and its warnings."""

    output: Path
    n_runs: int
    n_samples: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Series:
    """One run as drawn: its label (the platform id, plus the run id when a platform has
    several runs), colour and marker symbol."""

    run_id: str
    label: str
    colour: str
    symbol: str
    position: int


@dataclass(frozen=True)
class _VersusNative:
    """A container cell's headline comparison with its native counterpart."""

    native_variant: str
    ratio: stats.Ratio | None
    sample_size: stats.SampleSizeCheck


@dataclass(frozen=True)
class _Cell:
    """The samples of one metric of one variant in one run, with their statistics."""

    run_id: str
    scenario: str
    variant: str
    metric: str
    unit: str
    direction: str
    values: tuple[float, ...]
    summary: stats.Summary
    vs_native: _VersusNative | None


@dataclass(frozen=True)
class _Table:
    """A table ready for the template: headers, rows of text, a CSS class per row, and
    the first column from which cells are kept on one line (numbers, names); ``None``
    lets every column wrap."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_classes: tuple[str, ...] = ()
    nowrap_from: int | None = None


@dataclass(frozen=True)
class _Scenario:
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


@dataclass
class _Analysis:
    """Everything the page shows, computed once from the loaded frame."""

    loaded: LoadedFrame
    series: dict[str, _Series]
    scenarios: list[_Scenario]
    cells: list[_Cell]
    headline: dict[tuple[str, str], str]
    warnings: list[str] = field(default_factory=list)


def build_report(*, inputs: Sequence[Path], output: Path) -> ReportInfo:
    """Build the HTML report of the results in *inputs* (files or folders) at *output*.

    Unusable files are skipped and listed as warnings on the page and in the returned
    :class:`ReportInfo`; no results at all still gives a page that says so. Parent
    folders of *output* are created.
    """
    analysis = _analyse(load_frame(inputs))
    page = _render(analysis, inputs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return ReportInfo(
        output=output,
        n_runs=len(analysis.loaded.documents),
        n_samples=len(analysis.loaded.samples),
        warnings=tuple(analysis.warnings),
    )


# --- analysis ---------------------------------------------------------------------------


def _analyse(loaded: LoadedFrame) -> _Analysis:
    documents = [document for _, document in loaded.documents]
    scenarios = _scenarios(documents)
    cells = _cells(loaded.samples, native_counterparts(documents))
    analysis = _Analysis(
        loaded=loaded,
        series=_series(documents),
        scenarios=scenarios,
        cells=cells,
        headline=headlines(
            ((c.scenario, c.variant), c.metric) for c in cells if c.vs_native is not None
        ),
        warnings=list(loaded.warnings),
    )
    analysis.warnings.extend(_cell_warnings(analysis))
    for path, document in loaded.documents:
        analysis.warnings.extend(f"{path.name}: {w}" for w in invariants.check(document))
    return analysis


def _series(documents: Sequence[RunDocument]) -> dict[str, _Series]:
    """Label, colour, symbol and position of each run, in load order."""
    platforms = [str(d.platform["id"]) for d in documents]
    runs_of = Counter(platforms)
    series: dict[str, _Series] = {}
    for i, (document, platform) in enumerate(zip(documents, platforms, strict=True)):
        run_id = str(document.run["id"])
        label = platform if runs_of[platform] == 1 else f"{platform} ({run_id})"
        series[run_id] = _Series(
            run_id, label, PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)], i
        )
    return series


def _scenarios(documents: Sequence[RunDocument]) -> list[_Scenario]:
    """Every scenario with its variants, shortened to the parameters that vary."""
    kinds = {result.scenario: result.kind for d in documents for result in d.results}
    return [
        _scenario(name, kinds[name], by_label)
        for name, by_label in scenario_variants(documents).items()
    ]


def _scenario(name: str, kind: str, by_label: Mapping[str, Mapping[str, Scalar]]) -> _Scenario:
    short, shared = varying_labels(by_label)
    return _Scenario(name, kind, by_label, short, shared)


def _cells(samples: pd.DataFrame, counterparts: Mapping[tuple[str, str, str], str]) -> list[_Cell]:
    """Statistics of every (run, scenario, variant, metric), each container cell compared
    with its native counterpart's samples of the same metric."""
    series = _sample_series(samples)
    cells = []
    for (run_id, scenario, variant, metric), (unit, direction, values) in series.items():
        native = counterparts.get((run_id, scenario, variant))
        native_series = series.get((run_id, scenario, native, metric)) if native else None
        native_values = native_series[2] if native_series else None
        cells.append(
            _Cell(
                run_id=run_id,
                scenario=scenario,
                variant=variant,
                metric=metric,
                unit=unit,
                direction=direction,
                values=values,
                summary=stats.summarize(values),
                vs_native=_versus(native, native_values, values),
            )
        )
    return cells


#: The columns that name one metric series in the samples table.
_SERIES_KEYS = ("run_id", "scenario", "variant", "metric")


def _sample_series(
    samples: pd.DataFrame,
) -> dict[tuple[str, str, str, str], tuple[str, str, tuple[float, ...]]]:
    """Each metric series of the samples table, first seen first: its key
    (:data:`_SERIES_KEYS`) -> unit, direction and values in table order.

    One grouping of the whole table and one split of its value column at the group
    boundaries: no pandas object per series (a large report has tens of thousands).
    """
    if samples.empty:
        return {}
    codes = samples.groupby(list(_SERIES_KEYS), sort=False).ngroup().to_numpy()
    kept = np.flatnonzero(codes >= 0)  # a row with a missing key is in no group (NaN)
    numbers = codes[kept].astype(np.intp)
    rows = kept[np.argsort(numbers, kind="stable")]
    sizes = np.bincount(numbers)
    firsts = rows[np.concatenate(([0], np.cumsum(sizes)[:-1]))]
    columns = [samples[c].iloc[firsts].tolist() for c in (*_SERIES_KEYS, "unit", "direction")]
    values = np.split(samples["value"].to_numpy()[rows], np.cumsum(sizes)[:-1])
    return {
        (str(run), str(scenario), str(variant), str(metric)): (
            str(unit),
            str(direction),
            tuple(chunk.tolist()),
        )
        for run, scenario, variant, metric, unit, direction, chunk in zip(
            *columns, values, strict=True
        )
    }


def _grouped(cells: Iterable[_Cell], key: Callable[[_Cell], str]) -> dict[str, list[_Cell]]:
    """*cells* by *key*: groups in the order first seen, cells in their order."""
    groups: dict[str, list[_Cell]] = {}
    for cell in cells:
        groups.setdefault(key(cell), []).append(cell)
    return groups


def _versus(
    native: str | None, native_values: Sequence[float] | None, values: Sequence[float]
) -> _VersusNative | None:
    if native is None or not native_values:
        return None
    return _VersusNative(
        native_variant=native,
        ratio=stats.ratio_of_medians(native_values, values),
        sample_size=stats.check_sample_size(native_values, values),
    )


def _cell_warnings(analysis: _Analysis) -> Iterator[str]:
    """The :mod:`bench.analysis.advice` warnings of every cell, one per run, scenario and rule; the
    comparison with native is checked for headline cells only (those in the summary)."""
    short = {s.name: s.short for s in analysis.scenarios}
    needed_for_ci = stats.min_samples_for_ci()
    found = (
        advice.Located(
            analysis.series[cell.run_id].label,
            cell.scenario,
            short[cell.scenario][cell.variant],
            cell.metric,
            finding,
        )
        for cell in analysis.cells
        for finding in advice.findings(
            cell.summary,
            cell.unit,
            cell.vs_native.sample_size if cell.vs_native else None,
            headline=analysis.headline.get((cell.scenario, cell.variant)) == cell.metric,
            needed_for_ci=needed_for_ci,
        )
    )
    return advice.group_warnings(found)


# --- formatting -------------------------------------------------------------------------


def _plot_text(text: str) -> str:
    """*text* for plotly to draw literally: plotly reads some HTML tags in labels."""
    return html.escape(text, quote=False)


def _plot_label(label: str, width: int = _LABEL_WIDTH, separator: str = ", ") -> str:
    """A label for a plot axis: escaped, broken into lines of about *width* characters at
    *separator* (between a variant's parameters by default)."""
    lines: list[str] = []
    for part in label.split(separator):
        if lines and len(lines[-1]) + len(part) + len(separator) <= width:
            lines[-1] = f"{lines[-1]}{separator}{part}"
        else:
            lines.append(part)
    return "<br>".join(_plot_text(line) for line in lines)


def _label_lines(labels: Iterable[str]) -> int:
    """The most lines any of the axis labels made by :func:`_plot_label` takes."""
    return max((label.count("<br>") + 1 for label in labels), default=1)


def _label_width(labels: Iterable[str]) -> float:
    """About how wide the widest line of the axis labels made by :func:`_plot_label` is,
    in pixels at the figures' font."""
    lines = (html.unescape(line) for label in labels for line in label.split("<br>"))
    return _CHAR_PX * max((len(line) for line in lines), default=0)


def _cost(cell: _Cell, ratio: stats.Ratio) -> float:
    """log2 of how much worse than native the cell is (positive: worse), whatever the
    metric's direction; the heatmap's colour."""
    worse = ratio.value if cell.direction == "lower" else 1.0 / ratio.value
    return math.log2(worse)


def _ratio_text(versus: _VersusNative | None, *, interval: bool = True) -> str:
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


# --- figures ----------------------------------------------------------------------------


def _figure_html(figure: dict[str, Any], div_id: str, height: int) -> Markup:
    """A figure (plotly's JSON structure, ``{"data": [...], "layout": {...}}``) as an HTML
    fragment that relies on the page's single plotly.js.

    The figure is written as built, without plotly's validation: building validated
    plotly objects cost more than everything else in a large report, and the structures
    here are fixed by this module (the browser test renders every kind).
    """
    figure["layout"].update(
        height=height,
        font={"family": _FONT, "size": 13, "color": "#222"},
        margin={"l": 10, "r": 10, "t": 30, "b": 40, **figure["layout"].get("margin", {})},
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    fragment = plotly.io.to_html(
        figure,
        validate=False,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        default_height=f"{height}px",
    )
    return Markup(fragment)  # noqa: S704 -- plotly's own output; its JSON escapes "<"


def _typed(values: npt.NDArray[Any]) -> dict[str, str]:
    """A numeric array in plotly.js's typed-array form (base64 of little-endian values),
    as plotly itself writes numpy arrays: a quarter of the size of their decimal text."""
    kinds = {np.dtype(np.float64): "f8", np.dtype(np.int16): "i2"}
    code = kinds[values.dtype]
    data = values.astype(f"<{code}", copy=False).tobytes()
    return {"dtype": code, "bdata": base64.b64encode(data).decode("ascii")}


def _box_figure(
    scenario: _Scenario,
    labels: Mapping[str, str],
    cells: Sequence[_Cell],
    series: Mapping[str, _Series],
    div_id: str,
) -> Markup:
    """Raw samples of one metric of *scenario*: a horizontal box with all points per
    variant and run, runs told apart by colour and marker symbol."""
    present = {c.variant for c in cells}
    variants = [v for v in scenario.variants if v in present]
    position = {v: i for i, v in enumerate(variants)}
    by_run = _grouped(cells, lambda c: c.run_id)
    traces: list[dict[str, Any]] = []
    for run_id, mine in sorted(by_run.items(), key=lambda item: series[item[0]].position):
        run = series[run_id]
        marker = {"color": run.colour, "symbol": run.symbol, "size": 7}
        name = _plot_text(run.label)
        # the legend shows the marker (colour and symbol), not a box icon
        traces.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": marker,
                "name": name,
                "legendgroup": run_id,
            }
        )
        traces.append(
            {
                "type": "box",
                "x": _typed(np.array([v for c in mine for v in c.values], dtype=np.float64)),
                "y": _typed(
                    np.array([position[c.variant] for c in mine for _ in c.values], dtype=np.int16)
                ),
                "orientation": "h",
                "name": name,
                "legendgroup": run_id,
                "showlegend": False,
                "boxpoints": "all",
                "jitter": 0.6,
                "pointpos": 0,
                "line": {"color": run.colour, "width": 1.5},
                "fillcolor": "rgba(0,0,0,0)",
                "marker": {**marker, "size": 6, "opacity": 0.75},
                "hovertemplate": _hover(cells[0].unit),
            }
        )
    ticks = [_plot_label(labels[v]) for v in variants]
    layout = {
        "boxmode": "group",
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.0,
            "yanchor": "bottom",
            "traceorder": "normal",
        },
        "yaxis": {
            "tickvals": list(range(len(variants))),
            "ticktext": ticks,
            "autorange": "reversed",
            "automargin": True,
            "showgrid": False,
        },
        "xaxis": {**_value_axis(cells), "title": {"text": _plot_text(_axis_title(cells[0]))}},
    }
    row = max(12 + 18 * len(by_run), 8 + 16 * _label_lines(ticks))
    return _figure_html({"data": traces, "layout": layout}, div_id, 110 + len(variants) * row)


def _hover(unit: str) -> str:
    suffix = "" if unit == "1" else unit
    number = "%{x:.3s}" if unit not in ("%", "1") else "%{x:.3g}"
    return f"{number}{suffix}<extra>%{{fullData.name}}</extra>"


def _value_axis(cells: Sequence[_Cell]) -> dict[str, Any]:
    """A value axis in the metric's unit with SI prefixes; logarithmic when the values
    span more than :data:`_LOG_SPAN` times (say tmpfs next to a shared folder)."""
    unit = cells[0].unit
    values = [v for c in cells for v in c.values]
    common = {"zeroline": False, "gridcolor": "#e5e5e5", "automargin": True}
    low, high = min(values), max(values)
    if low > 0 and high / low > _LOG_SPAN:
        return {**common, "type": "log", **_log_ticks(low, high, unit)}
    return {
        **common,
        "tickformat": "~s" if unit not in ("%", "1") else "~g",
        "ticksuffix": "" if unit == "1" else unit,
    }


def _log_ticks(low: float, high: float, unit: str) -> dict[str, Any]:
    """Ticks at 1, 2 and 5 times the powers of ten around *low*..*high*, labelled like
    the tables (:func:`bench.metrics.format_value`)."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5)]
    ticks = [t for t in ticks if low / 2 <= t <= high * 2]
    return {"tickvals": ticks, "ticktext": [format_value(t, unit) for t in ticks]}


def _axis_title(cell: _Cell) -> str:
    definition = METRICS.get(cell.metric)
    better = "lower is better" if cell.direction == "lower" else "higher is better"
    if definition is None or definition.unit != cell.unit:
        return f"{cell.metric} ({better})"
    return f"{cell.metric}: {definition.description} ({better})"


def _heatmap(
    rows: Sequence[tuple[str, str]],
    cells: Mapping[tuple[str, str, str], _Cell],
    series: Mapping[str, _Series],
    div_id: str,
) -> Markup:
    """Container-to-native ratios of one area: a row per (scenario, variant), a column per
    run in *series*; colour is how much worse than native (whatever the metric's direction).

    Laid out from its labels: each row tall enough for its label's lines, and room above
    the plot for the run labels, flat or slanted, so a long label never squeezes the rows
    (plotly makes room for labels by shrinking the plot within a fixed height).
    """
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for scenario, variant in rows:
        found = [cells.get((scenario, variant, run_id)) for run_id in series]
        z.append([_heat_value(c) for c in found])
        text.append(["" if c is None else _ratio_text(c.vs_native, interval=False) for c in found])
    labels = [_plot_label(f"{scenario}: {variant}") for scenario, variant in rows]
    columns = [_plot_label(s.label, _RUN_LABEL_WIDTH, " ") for s in series.values()]
    row_px = max(_HEATMAP_ROW_PX, 8 + _LINE_PX * _label_lines(labels))
    plot_px = max(_HEATMAP_MIN_PX, len(rows) * row_px)
    column_px = _label_width(columns) + 2 * _CHAR_PX
    column_lines_px = _LINE_PX * _label_lines(columns)
    flat = len(columns) * column_px <= _HEATMAP_PLOT_WIDTH
    # slanted at 45 degrees, a label of width w and height h rises (w + h) / sqrt(2)
    top = 20 + (
        column_lines_px if flat else math.ceil((column_px + column_lines_px) / math.sqrt(2))
    )
    limit = max([abs(v) for row in z for v in row if v is not None] + [1.0])
    count = min(_COLOURBAR_TICKS, plot_px // _COLOURBAR_TICK_PX)
    step = math.ceil(2 * math.ceil(limit) / max(count - 1, 1))
    ticks = [t for t in range(-math.ceil(limit), math.ceil(limit) + 1) if t % step == 0]
    heatmap = {
        "type": "heatmap",
        "z": z,
        "text": [[_plot_text(t) for t in row] for row in text],
        "texttemplate": "%{text}",
        "x": columns,
        "y": labels,
        "colorscale": [list(stop) for stop in RATIO_SCALE],
        "zmin": -limit,
        "zmax": limit,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{y}<br>%{x}: %{text} of native<extra></extra>",
        "colorbar": {
            "title": {"text": "vs native", "side": "right"},
            "tickvals": ticks,
            "ticktext": [_scale_label(t) for t in ticks],
        },
    }
    layout = {
        "yaxis": {"autorange": "reversed", "automargin": True},
        "xaxis": {"side": "top", "automargin": True, "tickangle": 0 if flat else -45},
        "margin": {"t": top, "b": 10},
    }
    return _figure_html({"data": [heatmap], "layout": layout}, div_id, top + 10 + plot_px)


def _scale_label(log2_cost: int) -> str:
    """A colour-bar label: "2x worse", "same as native", "4x better" (with a times sign)."""
    if log2_cost == 0:
        return "same as native"
    factor = f"{2 ** abs(log2_cost)}\N{MULTIPLICATION SIGN}"
    return f"{factor} {'worse' if log2_cost > 0 else 'better'}"


def _heat_value(cell: _Cell | None) -> float | None:
    if cell is None or cell.vs_native is None or cell.vs_native.ratio is None:
        return None
    return _cost(cell, cell.vs_native.ratio)


# --- page sections ----------------------------------------------------------------------


def _summary(analysis: _Analysis) -> list[dict[str, Any]]:
    """Per area: a heatmap and a table of the headline ratios to native of each run that
    has any in that area, and the labels of the runs that have none (left out)."""
    by_scenario = _grouped(analysis.cells, lambda c: c.scenario)
    areas = []
    for kind, heading in AREAS:
        scenarios = [s for s in analysis.scenarios if s.kind == kind]
        headline: dict[tuple[str, str, str], _Cell] = {}
        for scenario in scenarios:
            labels = _container_labels(scenario)
            for cell in by_scenario.get(scenario.name, ()):
                if analysis.headline.get((cell.scenario, cell.variant)) == cell.metric:
                    headline[(scenario.name, labels[cell.variant], cell.run_id)] = cell
        rows = list(dict.fromkeys((s, v) for s, v, _ in headline))
        # a run with no comparison here (a validation run, one that did not measure this
        # area) would be an empty column
        compared = {run_id for _, _, run_id in headline}
        shown = {k: s for k, s in analysis.series.items() if k in compared}
        areas.append(
            {
                "id": f"area-{kind}",
                "heading": heading,
                "has_scenarios": bool(scenarios),
                "figure": _heatmap(rows, headline, shown, f"heat-{kind}") if rows else None,
                "table": _summary_table(rows, headline, shown),
                "left_out": [s.label for k, s in analysis.series.items() if k not in compared],
            }
        )
    return areas


def _container_labels(scenario: _Scenario) -> dict[str, str]:
    """Short labels of *scenario*'s container variants among themselves (the native
    variant is not in the summary, so what only it differs in is left out)."""
    return _labels_within(scenario, [v for v in scenario.variants if not scenario.is_native(v)])


def _labels_within(scenario: _Scenario, variants: Sequence[str]) -> dict[str, str]:
    """Labels of *variants* by the parameters that differ among them alone (a chart of a
    metric only some variants record need not repeat what those share); a lone variant,
    and any variant of *scenario* not in *variants*, keeps its scenario-wide label."""
    labels = dict(scenario.short)
    if len(variants) > 1:
        labels.update(varying_labels({v: scenario.params[v] for v in variants})[0])
    return labels


def _summary_table(
    rows: Sequence[tuple[str, str]],
    headline: Mapping[tuple[str, str, str], _Cell],
    series: Mapping[str, _Series],
) -> _Table:
    body = []
    for scenario, variant in rows:
        found = [headline.get((scenario, variant, run_id)) for run_id in series]
        metric = next(c.metric for c in found if c is not None)
        ratios = [_UNSET if c is None else _ratio_text(c.vs_native) for c in found]
        body.append((scenario, variant, metric, *ratios))
    headers = ("scenario", "variant", "metric", *(f"{s.label} vs native" for s in series.values()))
    return _Table(headers, tuple(body), nowrap_from=2)


def _scenario_sections(analysis: _Analysis) -> list[dict[str, Any]]:
    """One section per scenario, areas in :data:`AREAS` order, then any other kinds."""
    order = [kind for kind, _ in AREAS]
    scenarios = sorted(
        analysis.scenarios,
        key=lambda s: order.index(s.kind) if s.kind in order else len(order),
    )
    by_scenario = _grouped(analysis.cells, lambda c: c.scenario)
    sections = []
    for number, scenario in enumerate(scenarios):
        by_metric = _grouped(by_scenario.get(scenario.name, ()), lambda c: c.metric)
        sections.append(
            {
                "id": f"scenario-{number}",
                "name": scenario.name,
                "kind": scenario.kind,
                "shared": scenario.shared,
                "conditions": _conditions(analysis, scenario),
                "charts": [
                    _chart(scenario, by_metric[metric], analysis.series, f"box-{number}-{i}")
                    for i, metric in enumerate(_metric_order(list(by_metric)))
                ],
            }
        )
    return sections


#: what a result records about the conditions it was measured in (its ``extra``), shown
#: under each scenario: the same variant can mean other things on other platforms
CONDITIONS: tuple[tuple[str, str], ...] = (
    ("cache", "cache state"),
    ("cache_method", "cache dropped on"),
    ("fs_type", "filesystem"),
    ("direct", "direct I/O"),
    ("userland_proxy", "userland proxy"),
)


def _conditions(analysis: _Analysis, scenario: _Scenario) -> _Table | None:
    """One row per variant and run, with the :data:`CONDITIONS` the results recorded
    (only the columns some result has); None when none recorded any."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for _, document in analysis.loaded.documents:
        run = analysis.series[str(document.run["id"])].label
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
    return _Table(
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
    scenario: _Scenario, cells: Sequence[_Cell], series: Mapping[str, _Series], div_id: str
) -> dict[str, Any]:
    place = {variant: i for i, variant in enumerate(scenario.variants)}
    ordered = sorted(cells, key=lambda c: (place[c.variant], series[c.run_id].position))
    labels = _labels_within(scenario, list(dict.fromkeys(c.variant for c in ordered)))
    return {
        "metric": cells[0].metric,
        "figure": _box_figure(scenario, labels, ordered, series, div_id),
        "table": _cell_table(scenario, labels, ordered, series),
    }


def _cell_table(
    scenario: _Scenario,
    labels: Mapping[str, str],
    cells: Sequence[_Cell],
    series: Mapping[str, _Series],
) -> _Table:
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
                series[cell.run_id].label,
                str(s.n),
                format_value(s.median, cell.unit),
                _interval_text(s, cell.unit),
                format_value(s.iqr, cell.unit),
                _UNSET if s.cv is None else f"{s.cv:.1%}",
                "baseline" if scenario.is_native(cell.variant) else _ratio_text(cell.vs_native),
            )
        )
        classes.append("warn" if advice.too_variable(s, cell.unit) else "")
    if all(row[-1] == _UNSET for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    return _Table(headers, tuple(rows), tuple(classes), nowrap_from=1)


def _outcomes(analysis: _Analysis) -> _Table:
    """Results that were skipped or failed, with their reasons."""
    frame = analysis.loaded.outcomes
    failed = frame[frame["status"] != "ok"]
    rows = tuple(
        (
            analysis.series[str(row.run_id)].label,
            str(row.scenario),
            str(row.variant),
            str(row.status),
            str(row.reason),
        )
        for row in failed.itertuples()
    )
    return _Table(
        ("platform", "scenario", "variant", "status", "reason"),
        rows,
        tuple(str(row.status) for row in failed.itertuples()),
    )


def _environments(analysis: _Analysis) -> list[dict[str, Any]]:
    """Each run's record: platform and its detection reasons, engine, host, tools."""
    return [
        {
            "label": analysis.series[str(document.run["id"])].label,
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
        for path, document in analysis.loaded.documents
    ]


def _fields(record: Mapping[str, Any], omit: Sequence[str] = ()) -> list[tuple[str, str]]:
    """A record's fields as text, sizes in human units (:data:`FIELD_UNITS`)."""
    return [
        (str(key), _field_text(value, FIELD_UNITS.get(str(key))))
        for key, value in record.items()
        if key not in omit
    ]


def _render(analysis: _Analysis, inputs: Sequence[Path]) -> str:
    environment = Environment(
        loader=PackageLoader("bench.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("report.html.j2")
    has_results = bool(analysis.loaded.documents)
    sections = _scenario_sections(analysis) if has_results else []
    return template.render(
        version=__version__,
        inputs=[str(p) for p in inputs],
        has_results=has_results,
        plotly_js=Markup(get_plotlyjs()) if has_results else None,  # noqa: S704 -- plotly's own code
        series=list(analysis.series.values()),
        areas=_summary(analysis) if has_results else [],
        sections=sections,
        outcomes=_outcomes(analysis),
        environments=_environments(analysis),
        warnings=analysis.warnings,
        cv_warn=f"{stats.CV_WARN:.0%}",
        resamples=stats.RESAMPLES,
    )
