"""The report's history section: regression calls between consecutive runs at the top of
the page, and each platform's headline metrics over time as trend charts
(:mod:`bench.analysis.history`).

:func:`section` gives the template data, or ``None`` when no platform has two runs of
one suite (a report of single runs shows no history). A trend chart is one scenario and
metric of one platform and suite: a line per variant through each run's median, with the
median's 95 % interval as error bars; the line is broken, and a dotted rule drawn, where
the conditions changed between two runs (hover on "break" for what changed); a
regression's later run is ringed in vermillion, an improvement's in blue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from markupsafe import Markup

from bench.analysis import stats
from bench.analysis.frame import varying_labels
from bench.analysis.history import Called, History, Point, Trend, history
from bench.metrics import format_value
from bench.report.figures import (
    PALETTE,
    SYMBOLS,
    _figure_html,
    _log_ticks,
    _typed,
    plot_text,
)
from bench.report.sections import Table
from bench.results import RunDocument

#: At most this many of the latest runs of a platform and suite are drawn (a year of
#: weekly runs); calls are made over all of them.
DRAWN_RUNS = 52

#: Ring colours of the runs after a call.
CALL_COLOURS = {"regression": "#D55E00", "improvement": "#0072B2"}

_DATE = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Chart:
    """One trend chart: its title and the figure."""

    title: str
    figure: Markup


@dataclass(frozen=True)
class Group:
    """The trends of one platform and suite: a heading, what the runs span, the
    conditions that changed between them, and the charts."""

    id: str
    heading: str
    span: str
    breaks: tuple[str, ...]
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Trends:
    """The history section: the threshold as worded, the calls table (regressions
    first), how many there are of each, how many steps between runs had too few samples
    to call (fewer than ``min_samples`` in a run), and each platform and suite's trends."""

    threshold: str
    calls: Table
    n_regressions: int
    n_improvements: int
    n_too_few: int
    min_samples: int
    groups: tuple[Group, ...]


def section(documents: Sequence[RunDocument]) -> Trends | None:
    """The history section of *documents*; ``None`` when no platform and suite has two
    runs."""
    found = history(documents)
    groups = {k: v for k, v in found.groups().items() if len(_runs(v)) > 1}
    if not groups:
        return None
    regressions, improvements = found.called("regression"), found.called("improvement")
    return Trends(
        threshold=stats.format_slowdown(stats.Ratio(found.threshold, None, 0.95), "lower"),
        calls=_calls_table([*regressions, *improvements]),
        n_regressions=len(regressions),
        n_improvements=len(improvements),
        n_too_few=sum(s.too_few for t in found.trends for s in t.steps),
        min_samples=stats.min_samples_for_ci(),
        groups=tuple(
            _group(i, platform, suite, trends, found)
            for i, ((platform, suite), trends) in enumerate(groups.items())
        ),
    )


def _runs(trends: Sequence[Trend]) -> list[Point]:
    """One point per run of *trends* (the first trend that has it), by date."""
    points = {p.run.run_id: p for t in reversed(trends) for p in t.points}
    return sorted(points.values(), key=lambda p: (p.run.date, p.run.run_id))


def _point_text(point: Point, unit: str) -> str:
    return (
        f"{format_value(point.summary.median, unit)} "
        f"({point.run.date:%Y-%m-%d}, {point.run.run_id})"
    )


def _calls_table(called: Sequence[Called]) -> Table:
    rows = []
    classes = []
    for item in called:
        trend, step = item.trend, item.step
        rows.append(
            (
                step.call,
                trend.platform,
                trend.suite,
                trend.scenario,
                trend.variant,
                trend.metric,
                stats.format_slowdown(step.ratio, trend.direction),
                _point_text(step.before, trend.unit),
                _point_text(step.after, trend.unit),
                "; ".join(str(c) for c in step.changes) or "same",
            )
        )
        classes.append("warn" if step.call == "regression" else "")
    headers = ("call", "platform", "suite", "scenario", "variant", "metric", "after / before")
    return Table(
        headers=(*headers, "before", "after", "conditions"),
        rows=tuple(rows),
        row_classes=tuple(classes),
        nowrap_from=6,
    )


def _group(index: int, platform: str, suite: str, trends: list[Trend], found: History) -> Group:
    runs = _runs(trends)
    drawn = runs[-DRAWN_RUNS:]
    first = drawn[0].run.date
    breaks = {
        f"{s.after.run.date:%Y-%m-%d} ({s.after.run.run_id}): "
        + "; ".join(str(c) for c in s.changes if c.name != "scenario parameters"): None
        for t in trends
        for s in t.steps
        if s.after.run.date >= first and any(c.name != "scenario parameters" for c in s.changes)
    }
    span = f"{len(runs)} runs from {runs[0].run.date:%Y-%m-%d} to {runs[-1].run.date:%Y-%m-%d}"
    if len(drawn) < len(runs):
        span += f"; the charts draw the latest {len(drawn)}"
    by_chart: dict[tuple[str, str], list[Trend]] = {}
    for trend in trends:
        if sum(p.run.date >= first for p in trend.points) > 1:  # a single point is no trend
            by_chart.setdefault((trend.scenario, trend.metric), []).append(trend)
    charts = tuple(
        _chart(mine, f"trend-{index}-{n}", first) for n, mine in enumerate(by_chart.values())
    )
    return Group(
        id=f"trends-{index}",
        heading=f"{platform}, suite {suite}",
        span=span,
        breaks=tuple(breaks),
        charts=charts,
    )


def _chart(trends: list[Trend], div_id: str, first: datetime) -> Chart:
    head = trends[0]
    labels, shared = varying_labels({t.variant: t.params for t in trends})
    traces: list[dict[str, Any]] = []
    rings: dict[str, list[Point]] = {"regression": [], "improvement": []}
    rules: dict[str, list[str]] = {}
    for i, trend in enumerate(trends):
        xs: list[str | None] = []
        ys: list[float] = []
        highs: list[float] = []
        lows: list[float] = []
        texts: list[str] = []
        points = [p for p in trend.points if p.run.date >= first]
        broken = {s.after.run.run_id: s for s in trend.steps if s.changes}
        for step in trend.steps:
            if step.call and step.after.run.date >= first:
                rings[step.call].append(step.after)
        for point in points:
            crossed = broken.get(point.run.run_id)
            if crossed is not None and xs:
                xs.append(None)  # a gap: plotly does not join across it
                ys.append(float("nan"))
                highs.append(0.0)
                lows.append(0.0)
                texts.append("")
                when = f"{crossed.after.run.date:{_DATE}}"
                rules.setdefault(when, [str(c) for c in crossed.changes])
            summary = point.summary
            xs.append(f"{point.run.date:{_DATE}}")
            ys.append(summary.median)
            highs.append(0.0 if summary.ci_high is None else summary.ci_high - summary.median)
            lows.append(0.0 if summary.ci_low is None else summary.median - summary.ci_low)
            interval = (
                ""
                if summary.ci_low is None or summary.ci_high is None
                else f" [{format_value(summary.ci_low, trend.unit)}"
                f" \N{EN DASH} {format_value(summary.ci_high, trend.unit)}]"
            )
            texts.append(
                plot_text(
                    f"{format_value(summary.median, trend.unit)}{interval}, {point.run.run_id}"
                )
            )
        colour = PALETTE[i % len(PALETTE)]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plot_text(labels[trend.variant]),
                "x": xs,
                "y": _typed(np.array(ys, dtype=np.float64)),
                "error_y": {
                    "type": "data",
                    "array": _typed(np.array(highs, dtype=np.float64)),
                    "arrayminus": _typed(np.array(lows, dtype=np.float64)),
                    "thickness": 1,
                    "width": 3,
                    "color": colour,
                },
                "text": texts,
                "line": {"color": colour, "width": 1.5},
                "marker": {"color": colour, "symbol": SYMBOLS[i % len(SYMBOLS)], "size": 7},
                "hovertemplate": "%{x}<br>%{text}<extra>%{fullData.name}</extra>",
            }
        )
    for call, points in rings.items():
        if points:
            traces.append(_rings(call, points))
    layout = {
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "xaxis": {"type": "date", "gridcolor": "#e5e5e5", "automargin": True},
        "yaxis": {
            **_value_axis(_drawn_medians(trends, first), head.unit),
            "title": {"text": _title(head)},
        },
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": when,
                "x1": when,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#888", "width": 1, "dash": "dot"},
            }
            for when in rules
        ],
        "annotations": [
            {
                "x": when,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": "break",
                "showarrow": False,
                "font": {"size": 11, "color": "#666"},
                "hovertext": "<br>".join(plot_text(c) for c in changes),
            }
            for when, changes in rules.items()
        ],
        "margin": {"t": 60},
    }
    title = f"{head.scenario}: {head.metric}" + (f" ({shared})" if shared else "")
    legend_rows = 1 + len(trends) // 4
    height = 300 + 20 * legend_rows
    return Chart(title, _figure_html({"data": traces, "layout": layout}, div_id, height))


def _drawn_medians(trends: Sequence[Trend], first: datetime) -> list[float]:
    """The medians of *trends* drawn (from *first* on)."""
    return [p.summary.median for t in trends for p in t.points if p.run.date >= first]


def _rings(call: str, points: list[Point]) -> dict[str, Any]:
    """Open circles around the runs after a call."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{call} (after this run)",
        "x": [f"{p.run.date:{_DATE}}" for p in points],
        "y": _typed(np.array([p.summary.median for p in points], dtype=np.float64)),
        "marker": {
            "symbol": "circle-open",
            "size": 18,
            "color": CALL_COLOURS[call],
            "line": {"width": 2.5},
        },
        "hovertemplate": f"{call}<extra></extra>",
    }


def _value_axis(values: Sequence[float], unit: str) -> dict[str, Any]:
    """A value axis in *unit*; logarithmic when the medians span more than 30 times."""
    common = {"gridcolor": "#e5e5e5", "automargin": True, "zeroline": False}
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 30:
        return {**common, "type": "log", **_log_ticks(min(positive), max(positive), unit)}
    return {
        **common,
        "tickformat": "~s" if unit not in ("%", "1") else "~g",
        "ticksuffix": "" if unit == "1" else unit,
    }


def _title(trend: Trend) -> str:
    better = "lower is better" if trend.direction == "lower" else "higher is better"
    return plot_text(f"median ({better})")
