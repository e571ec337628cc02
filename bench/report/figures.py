"""The report's figures: plotly's JSON structures (``{"data": [...], "layout": {...}}``)
built as plain dicts and written as HTML fragments that rely on the page's one copy of
plotly.js.

:func:`run_styles` gives each run its label, colour and marker symbol; :func:`box_figure`
draws the raw samples of one metric of a scenario, :func:`heatmap` an area's ratios to
native. Text that plotly draws goes through :func:`plot_text` (plotly reads a few HTML
tags in labels).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.io
from markupsafe import Markup

from bench.analysis.batch import far_outliers
from bench.analysis.cells import Cell, grouped
from bench.metrics import METRICS, format_value

#: Okabe & Ito's colour-blind-safe palette (2008), most distinct first, without yellow
#: (too faint on white); each series also gets its own marker symbol.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross")

#: Heatmap colours: better than native (blue), equal (white), worse (vermillion).
RATIO_SCALE: tuple[tuple[float, str], ...] = ((0.0, "#0072B2"), (0.5, "#F7F7F7"), (1.0, "#D55E00"))

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


@dataclass(frozen=True)
class RunStyle:
    """One platform as drawn: its label (the platform id), colour and marker symbol, and
    its place on the page (first seen first)."""

    key: str
    label: str
    colour: str
    symbol: str
    position: int


def platform_styles(platforms: Sequence[str]) -> dict[str, RunStyle]:
    """Label, colour, symbol and position of each platform id in *platforms*, in order."""
    return {
        platform: RunStyle(
            platform, platform, PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)], i
        )
        for i, platform in enumerate(platforms)
    }


# --- text on figures --------------------------------------------------------------------


def plot_text(text: str) -> str:
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
    return "<br>".join(plot_text(line) for line in lines)


def _label_lines(labels: Iterable[str]) -> int:
    """The most lines any of the axis labels made by :func:`_plot_label` takes."""
    return max((label.count("<br>") + 1 for label in labels), default=1)


def _label_width(labels: Iterable[str]) -> float:
    """About how wide the widest line of the axis labels made by :func:`_plot_label` is,
    in pixels at the figures' font."""
    lines = (html.unescape(line) for label in labels for line in label.split("<br>"))
    return _CHAR_PX * max((len(line) for line in lines), default=0)


# --- writing a figure -------------------------------------------------------------------


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


# --- box plots --------------------------------------------------------------------------


def box_figure(
    variants: Sequence[str],
    labels: Mapping[str, str],
    cells: Sequence[Cell],
    *,
    platform_of: Mapping[str, str],
    styles: Mapping[str, RunStyle],
    div_id: str,
) -> Markup:
    """Raw samples of one metric of a scenario: a horizontal box per variant and platform
    (the samples of its selected runs together), platforms told apart by colour and
    marker symbol, with every sample drawn while a box has at most :data:`POINTS_LIMIT`;
    a larger box is drawn from its quartiles alone. Samples beyond Tukey's far-out fences
    of their own run are marked with :data:`OUTLIER_MARKER`. *variants* are the variants
    of *cells* in the order drawn, top first; *labels* their axis labels; *platform_of*
    maps a run id to its platform."""
    position = {v: i for i, v in enumerate(variants)}
    by_platform = grouped(cells, lambda c: platform_of[c.run_id])
    traces: list[dict[str, Any]] = []
    far: list[tuple[float, int]] = []
    for platform, mine in sorted(by_platform.items(), key=lambda item: styles[item[0]].position):
        style = styles[platform]
        marker = {"color": style.colour, "symbol": style.symbol, "size": 7}
        name = plot_text(style.label)
        # the legend shows the marker (colour and symbol), not a box icon
        traces.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": marker,
                "name": name,
                "legendgroup": platform,
            }
        )
        pooled = grouped(mine, lambda c: c.variant)
        traces.append(_box_trace(pooled, position, name, style, cells[0].unit))
        far.extend(
            (x, position[c.variant]) for c in mine for x in far_outliers(c.values, c.summary)
        )
    if far:
        traces.append(_outlier_trace(far, cells[0].unit))
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
        "xaxis": {**_value_axis(cells), "title": {"text": plot_text(_axis_title(cells[0]))}},
    }
    row = max(12 + 18 * len(by_platform), 8 + 16 * _label_lines(ticks))
    return _figure_html({"data": traces, "layout": layout}, div_id, 110 + len(variants) * row)


#: A box with more samples than this (several runs of a platform together) is drawn from
#: its quartiles, without its points: a page of many runs stays small.
POINTS_LIMIT = 300

#: How a sample beyond its run's far-out fences is marked in the box plots.
OUTLIER_MARKER: dict[str, Any] = {
    "symbol": "circle-open",
    "size": 13,
    "color": "#C00000",
    "line": {"width": 2},
}


def _box_trace(
    pooled: Mapping[str, Sequence[Cell]],
    position: Mapping[str, int],
    name: str,
    style: RunStyle,
    unit: str,
) -> dict[str, Any]:
    """One platform's boxes, one per variant in *pooled* (variant -> its cells)."""
    common: dict[str, Any] = {
        "type": "box",
        "orientation": "h",
        "name": name,
        "legendgroup": style.key,
        "showlegend": False,
        "line": {"color": style.colour, "width": 1.5},
        "fillcolor": "rgba(0,0,0,0)",
    }
    sizes = {v: sum(c.summary.n for c in cs) for v, cs in pooled.items()}
    if max(sizes.values()) <= POINTS_LIMIT:
        return {
            **common,
            "x": _typed(np.array([x for cs in pooled.values() for c in cs for x in c.values])),
            "y": _typed(
                np.array(
                    [position[v] for v, cs in pooled.items() for c in cs for _ in c.values],
                    dtype=np.int16,
                )
            ),
            "boxpoints": "all",
            "jitter": 0.6,
            "pointpos": 0,
            "marker": {"color": style.colour, "symbol": style.symbol, "size": 6, "opacity": 0.75},
            "hovertemplate": _hover(unit),
        }
    quartiles = {v: _quartiles(cs) for v, cs in pooled.items()}
    return {
        **common,
        "y": [position[v] for v in pooled],
        **{
            key: [q[i] for q in quartiles.values()]
            for i, key in enumerate(("lowerfence", "q1", "median", "q3", "upperfence"))
        },
        "hoverinfo": "x",
    }


def _quartiles(cells: Sequence[Cell]) -> tuple[float, ...]:
    """Whisker ends (the most extreme samples within 1.5 IQR of the quartiles, as plotly
    draws them), quartiles and median of the samples of *cells* together."""
    values = np.sort(np.array([x for c in cells for x in c.values], dtype=np.float64))
    q1, median, q3 = (float(q) for q in np.quantile(values, (0.25, 0.5, 0.75)))
    inside = values[(values >= q1 - 1.5 * (q3 - q1)) & (values <= q3 + 1.5 * (q3 - q1))]
    return float(inside[0]), q1, median, q3, float(inside[-1])


def _outlier_trace(far: Sequence[tuple[float, int]], unit: str) -> dict[str, Any]:
    """The samples beyond their run's far-out fences: value and variant position each."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": _typed(np.array([x for x, _ in far], dtype=np.float64)),
        "y": _typed(np.array([y for _, y in far], dtype=np.int16)),
        "marker": OUTLIER_MARKER,
        "name": "outlier (beyond Q1 \N{MINUS SIGN} 3 IQR or Q3 + 3 IQR of its run)",
        "hovertemplate": _hover(unit).replace("%{fullData.name}", "outlier"),
    }


def _hover(unit: str) -> str:
    suffix = "" if unit == "1" else unit
    number = "%{x:.3s}" if unit not in ("%", "1") else "%{x:.3g}"
    return f"{number}{suffix}<extra>%{{fullData.name}}</extra>"


def _value_axis(cells: Sequence[Cell]) -> dict[str, Any]:
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


def _axis_title(cell: Cell) -> str:
    definition = METRICS.get(cell.metric)
    better = "lower is better" if cell.direction == "lower" else "higher is better"
    if definition is None or definition.unit != cell.unit:
        return f"{cell.metric} ({better})"
    return f"{cell.metric}: {definition.description} ({better})"


# --- heatmaps ---------------------------------------------------------------------------


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    z: Sequence[Sequence[float | None]],
    text: Sequence[Sequence[str]],
    div_id: str,
) -> Markup:
    """Container-to-native ratios of one area: a row per label in *rows* (a scenario's
    variant), a column per run label in *columns*; *z* is log2 of how much worse than
    native each is (whatever the metric's direction; ``None``: no ratio), the colour, and
    *text* what each cell reads.

    Laid out from its labels: each row tall enough for its label's lines, and room above
    the plot for the run labels, flat or slanted, so a long label never squeezes the rows
    (plotly makes room for labels by shrinking the plot within a fixed height).
    """
    labels = [_plot_label(row) for row in rows]
    ticks_x = [_plot_label(column, _RUN_LABEL_WIDTH, " ") for column in columns]
    row_px = max(_HEATMAP_ROW_PX, 8 + _LINE_PX * _label_lines(labels))
    plot_px = max(_HEATMAP_MIN_PX, len(rows) * row_px)
    column_px = _label_width(ticks_x) + 2 * _CHAR_PX
    column_lines_px = _LINE_PX * _label_lines(ticks_x)
    flat = len(ticks_x) * column_px <= _HEATMAP_PLOT_WIDTH
    # slanted at 45 degrees, a label of width w and height h rises (w + h) / sqrt(2)
    top = 20 + (
        column_lines_px if flat else math.ceil((column_px + column_lines_px) / math.sqrt(2))
    )
    limit = max([abs(v) for row in z for v in row if v is not None] + [1.0])
    count = min(_COLOURBAR_TICKS, plot_px // _COLOURBAR_TICK_PX)
    step = math.ceil(2 * math.ceil(limit) / max(count - 1, 1))
    ticks = [t for t in range(-math.ceil(limit), math.ceil(limit) + 1) if t % step == 0]
    trace = {
        "type": "heatmap",
        "z": [list(row) for row in z],
        "text": [[plot_text(t) for t in row] for row in text],
        "texttemplate": "%{text}",
        "x": ticks_x,
        "y": labels,
        "colorscale": [list(stop) for stop in RATIO_SCALE],
        "zmin": -limit,
        "zmax": limit,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{y}<br>%{x}: %{text} than native<extra></extra>",
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
    return _figure_html({"data": [trace], "layout": layout}, div_id, top + 10 + plot_px)


def _scale_label(log2_cost: int) -> str:
    """A colour-bar label in the words of :func:`bench.analysis.stats.format_slowdown`:
    "2x slower", "same as native", "4x faster" (with a times sign)."""
    if log2_cost == 0:
        return "same as native"
    factor = f"{2 ** abs(log2_cost)}\N{MULTIPLICATION SIGN}"
    return f"{factor} {'slower' if log2_cost > 0 else 'faster'}"
