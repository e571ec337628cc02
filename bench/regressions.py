"""The history of runs in the terminal and as JSON (``crossdock compare --history DIR``),
and a bounded history folder (what the CI matrix keeps between workflow runs).

:func:`load` reads results files and folders into a
:class:`bench.analysis.history.History`; :func:`render` lays its regression and
improvement calls out as terminal tables, :func:`to_json` the calls and every trend as a
JSON document; :func:`keep` adds results files to a history folder laid out as
``results/`` is (``<platform-id>/<run-id>.json``) and drops the runs older than a number
of weeks.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from bench import results
from bench.analysis import stats
from bench.analysis.frame import load_frame
from bench.analysis.history import Called, History, Point, Trend, history, run_date
from bench.errors import ResultsError
from bench.metrics import format_value

#: How long the CI matrix keeps runs (:func:`keep`): a year of weekly runs.
KEEP_WEEKS = 52


def load(inputs: Sequence[Path]) -> History:
    """The history of the results in *inputs* (files or folders). Files that cannot be
    read are reported through :func:`warnings.warn`; no usable results at all raises
    :class:`ResultsError`."""
    loaded = load_frame(inputs)
    for message in loaded.warnings:
        warnings.warn(message, stacklevel=2)
    if not loaded.documents:
        raise ResultsError(f"{', '.join(map(str, inputs))}: no readable crossdock results")
    return history(document for _, document in loaded.documents)


# --- terminal ------------------------------------------------------------------------


def render(found: History) -> list[Table | str]:
    """The regression calls, then the improvements, as tables (a sentence when there are
    none), and a line saying what was followed."""
    threshold = stats.format_slowdown(stats.Ratio(found.threshold, None, 0.95), "lower")
    out: list[Table | str] = []
    for kind, title in (("regression", "Regressions"), ("improvement", "Improvements")):
        called = found.called(kind)  # type: ignore[arg-type]
        if not called:
            out.append(f"No {kind} between consecutive runs.")
            continue
        word = "slower" if kind == "regression" else "faster"
        table = Table(
            title=f"{title}: the whole 95 % interval of after/before beyond "
            f"{threshold.replace('slower', word)}",
            caption="conditions: what differs between the two runs (a break in the trend)",
            caption_justify="left",
        )
        for header in ("platform", "suite", "scenario", "variant", "metric"):
            table.add_column(header)
        table.add_column("after / before", justify="right")
        for header in ("before", "after"):
            table.add_column(header, no_wrap=True)
        table.add_column("conditions")
        for item in called:
            trend, step = item.trend, item.step
            table.add_row(
                Text(trend.platform),
                Text(trend.suite),
                Text(trend.scenario),
                Text(trend.variant),
                Text(trend.metric),
                stats.format_slowdown(step.ratio, trend.direction),
                Text(_point_text(step.before, trend.unit)),
                Text(_point_text(step.after, trend.unit)),
                Text("; ".join(str(c) for c in step.changes)),
            )
        out.append(table)
    platforms = {run.platform for run in found.runs}
    too_few = sum(s.too_few for t in found.trends for s in t.steps)
    out.append(
        f"{len(found.trends)} headline trends over {len(found.runs)} runs of "
        f"{len(platforms)} platform{'s' * (len(platforms) != 1)}"
        + (
            f"; {too_few} steps between runs not called: fewer than "
            f"{stats.min_samples_for_ci()} samples in a run (the quick suite has 3)"
            if too_few
            else ""
        )
    )
    return out


def _point_text(point: Point, unit: str) -> str:
    """The median, then the run's date and id, a line each."""
    median = format_value(point.summary.median, unit)
    return f"{median}\n{point.run.date:%Y-%m-%d}\n{point.run.run_id}"


# --- JSON --------------------------------------------------------------------------------


def to_json(found: History) -> dict[str, Any]:
    """*found* as a JSON document: the threshold, the regression and improvement calls
    (latest first) with the runs before and after, and every trend's points."""
    return {
        "threshold": found.threshold,
        "regressions": [_called_json(c) for c in found.called("regression")],
        "improvements": [_called_json(c) for c in found.called("improvement")],
        "not_called_too_few_samples": sum(s.too_few for t in found.trends for s in t.steps),
        "trends": [_trend_json(t) for t in found.trends],
    }


def _identity(trend: Trend) -> dict[str, Any]:
    return {
        "platform": trend.platform,
        "suite": trend.suite,
        "scenario": trend.scenario,
        "variant": trend.variant,
        "metric": trend.metric,
        "unit": trend.unit,
        "direction": trend.direction,
    }


def _point_json(point: Point) -> dict[str, Any]:
    summary = point.summary
    return {
        "run_id": point.run.run_id,
        "date": point.run.date.isoformat(),
        "n": summary.n,
        "median": summary.median,
        "ci": None if summary.ci_low is None else [summary.ci_low, summary.ci_high],
        "conditions": dict(point.conditions),
    }


def _called_json(called: Called) -> dict[str, Any]:
    step, trend = called.step, called.trend
    ratio = step.ratio
    return {
        **_identity(trend),
        "before": _point_json(step.before),
        "after": _point_json(step.after),
        "ratio": None if ratio is None else ratio.value,
        "ratio_ci": None if ratio is None or ratio.ci is None else list(ratio.ci),
        "change": stats.format_slowdown(ratio, trend.direction),
        "condition_changes": [
            {"name": c.name, "before": c.before, "after": c.after} for c in step.changes
        ],
    }


def _trend_json(trend: Trend) -> dict[str, Any]:
    return {
        **_identity(trend),
        "points": [_point_json(p) for p in trend.points],
        "breaks": [
            {"after_run": step.after.run.run_id, "changes": [str(c) for c in step.changes]}
            for step in trend.steps
            if step.changes
        ],
    }


# --- a bounded history folder -------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """What :func:`keep` did: the runs added, the runs dropped as too old, and the files
    skipped (unreadable), each as a path."""

    added: tuple[Path, ...]
    dropped: tuple[Path, ...]
    skipped: tuple[str, ...]


def keep(*, into: Path, sources: Sequence[Path], now: datetime, weeks: int = KEEP_WEEKS) -> Kept:
    """Copy the results files under *sources* into the history folder *into*
    (``<platform-id>/<run-id>.json``, an existing run left as it is), then delete every
    run in *into* that started more than *weeks* weeks before *now*, and the folders
    left empty. Unreadable files are skipped and named in :attr:`Kept.skipped`."""
    skipped: list[str] = []
    added: list[Path] = []
    for source in sources:
        for path in sorted(source.rglob("*.json")) if source.is_dir() else [source]:
            try:
                document = results.read(path)
            except ResultsError as e:
                skipped.append(str(e))
                continue
            target = results.result_path(
                into, str(document.platform["id"]), str(document.run["id"])
            )
            if target.exists() or run_date(document.run) < now - timedelta(weeks=weeks):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            added.append(target)
    dropped = []
    for path in sorted(into.rglob("*.json")):
        try:
            started = run_date(results.read(path).run)
        except (ResultsError, ValueError) as e:
            skipped.append(str(e))
            continue
        if started < now - timedelta(weeks=weeks):
            path.unlink()
            dropped.append(path)
    for folder in sorted((p for p in into.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return Kept(tuple(added), tuple(dropped), tuple(skipped))
