"""Terminal output: the progress bar while a run works and the summary table after it.

Only the CLI uses this module; the core reports through :class:`bench.driver.Progress`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bench.analysis import cells, invariants
from bench.analysis.baseline import by_scenario, pair_with_natives
from bench.analysis.frame import short_labels, variant_label
from bench.analysis.stats import format_slowdown, summarize
from bench.kinds import BASELINES
from bench.metrics import format_value, metric
from bench.results import Metric, Result, RunDocument
from bench.validation import Comparison


class ProgressBar:
    """A rich progress bar implementing :class:`bench.driver.Progress` (on stderr)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.fields[label]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._last_scenario = ""
        self._last_tenth = -1

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def begin(self, label: str, total: int) -> None:
        self._task = self._progress.add_task("", total=total, label=label)

    def step(self, description: str) -> None:
        if self._task is None:
            return
        self._progress.update(self._task, advance=1, description=description)
        if not self._console.is_terminal:
            self._log_line(description)

    def _log_line(self, description: str) -> None:
        """Without a terminal (CI logs, pipes) the bar is not drawn: a plain line whenever
        a scenario starts and every tenth of the way instead."""
        assert self._task is not None
        task = self._progress.tasks[self._task]
        scenario = description.split(" [", 1)[0]
        tenth = int(10 * task.completed / task.total) if task.total else 0
        if scenario != self._last_scenario or tenth != self._last_tenth:
            self._console.print(
                f"{task.completed:.0f}/{task.total:.0f} {description}",
                highlight=False,
                markup=False,
            )
        self._last_scenario, self._last_tenth = scenario, tenth

    def more(self, count: int) -> None:
        if self._task is not None:
            total = self._progress.tasks[self._task].total or 0
            self._progress.update(self._task, total=total + count)

    def note(self, text: str) -> None:
        self._progress.console.print(text)


def summary_table(document: RunDocument) -> Table:
    """Median with its 95 % interval, IQR, CV and n of every headline metric per variant
    that was measured (all metrics are in the results file and the report)."""
    table = Table(
        title=escape(f"{document.platform['id']} · run {document.run['id']}"),
        title_justify="left",
        caption="headline metrics; all metrics: the results file and `crossdock report`",
        caption_justify="left",
    )
    for column in ("scenario", "variant", "metric", "median", "95% CI", "IQR", "CV", "n"):
        table.add_column(
            column, justify="right" if column in ("median", "IQR", "CV", "n") else "left"
        )
    previous = ("", "")
    labels = _Labels(document)
    for result in document.results:
        label = labels(result)
        shown = [m for m in result.metrics if metric(m.name).headline] or list(result.metrics)
        for row in (_metric_row(m) for m in shown):
            key = (result.scenario, label)
            shown_key = ("", "") if key == previous else tuple(escape(k) for k in key)
            table.add_row(*shown_key, *row)
            previous = key
    return table


def _metric_row(m: Metric) -> list[str]:
    s = summarize(m.samples)
    ci = (
        f"{format_value(s.ci_low, m.unit)} – {format_value(s.ci_high, m.unit)}"
        if s.ci_low is not None and s.ci_high is not None
        else "n too small"
    )
    cv = f"{s.cv:.0%}" if s.cv is not None else "–"
    return [m.name, format_value(s.median, m.unit), ci, format_value(s.iqr, m.unit), cv, str(s.n)]


def slowdown_tables(
    document: RunDocument, analysed: Sequence[cells.Cell] | None = None
) -> list[Table]:
    """At a glance, per scenario with a native baseline: how many times slower or faster
    than native each variant is on its headline metric, in the one wording
    (:func:`bench.analysis.stats.format_slowdown`), the cell the report's summary shows
    (:func:`bench.analysis.cells.analyse`).

    Rows are the scenario's other varying parameters, columns the baseline parameter's
    values; a variant and its baseline must agree on every other parameter. *analysed*:
    ``cells.analyse([document])`` when the caller has it already.
    """
    found = cells.analyse([document]) if analysed is None else analysed
    headline = {(c.scenario, c.variant): c for c in found if c.headline and c.vs_native}
    tables = []
    for scenario, results in by_scenario(document.results).items():
        baseline = BASELINES.get(results[0].kind)
        if baseline is None:
            continue
        key, native = baseline
        pairs = {id(c): n for c, n in pair_with_natives(results)}
        if not pairs:
            continue
        rows = _Labels(document, exclude=key)
        shown: dict[tuple[str, str], str] = {}
        columns: list[str] = []
        for r in results:
            if r.variant.get(key) == native:
                continue
            row = rows(r)
            column = _text(r.variant.get(key))
            columns += [column] if column not in columns else []
            cell = headline.get((scenario, variant_label(r.variant)))
            shown[(row, column)] = _slowdown_cell(r, pairs.get(id(r)), cell)
        if not shown:
            continue
        table = Table(
            title=escape(f"{scenario}: times slower or faster than {key}={native}"),
            title_justify="left",
        )
        table.add_column("")
        for column in columns:
            table.add_column(escape(column), justify="right")
        for row in dict.fromkeys(r for r, _ in shown):
            table.add_row(escape(row), *(shown.get((row, c), "") for c in columns))
        tables.append(table)
    return tables


def _slowdown_cell(result: Result, base: Result | None, headline: cells.Cell | None) -> str:
    """How many times worse than its native counterpart *result* is on its *headline*
    cell (the metric the report's summary shows for it, among those both measured)."""
    if result.status != "ok":
        return f"[dim]{result.status}"
    if base is None or base.status != "ok":
        return "[dim]no baseline"
    if headline is None or headline.vs_native is None:
        return "[dim]–"
    factor = headline.vs_native.times_worse(headline.direction)
    if factor is None:
        return "[dim]–"
    # one colour per factor, times and rates alike: slower warms, faster stays green
    style = "green" if factor <= 1.1 else "yellow" if factor <= 2 else "red"
    wording = format_slowdown(headline.vs_native.ratio, headline.direction, interval=False)
    return f"[{style}]{wording}[/] [dim]{headline.metric}"


def outcomes(document: RunDocument) -> list[str]:
    """Skipped and failed variants, grouped by scenario and reason."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    labels = _Labels(document)
    for r in document.results:
        if r.status != "ok":
            label = labels(r)
            groups.setdefault((r.status, r.scenario, r.reason or ""), []).append(label)
    return [
        f"{status}: {scenario}: {_count(labels)}: {reason}"
        for (status, scenario, reason), labels in groups.items()
    ]


def _count(labels: list[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    return f"{len(labels)} variants ({labels[0]}, …)"


class _Labels:
    """Each result's variant labelled by the parameters that vary within its scenario in
    *document* (:func:`bench.analysis.frame.short_labels`, as the report labels them), leaving out
    *exclude*."""

    def __init__(self, document: RunDocument, *, exclude: str = "") -> None:
        self._short = short_labels([document], exclude=exclude)

    def __call__(self, result: Result) -> str:
        return self._short[result.scenario][variant_label(result.variant)]


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def warnings(document: RunDocument, analysed: Sequence[cells.Cell] | None = None) -> list[str]:
    """What the user should change for tighter numbers, each saying what to do: the
    :mod:`bench.analysis.advice` warnings of the cells (as the report words them, without
    a run's label), the invariants the results break, and CPU frequency scaling.
    *analysed*: ``cells.analyse([document])`` when the caller has it already."""
    analysed = cells.analyse([document]) if analysed is None else analysed
    found = list(
        cells.cell_warnings(
            analysed,
            labels=short_labels([document]),
            imported=cells.imported_runs([document]),
        )
    )
    found.extend(invariants.check(document))
    governor = document.host.get("cpu_governor")
    if governor not in (None, "performance"):
        found.append(
            f"CPU frequency scaling is active (governor {governor!r}); for steadier numbers: "
            "sudo cpupower frequency-set -g performance"
        )
    return found


def validation_table(comparisons: Sequence[Comparison]) -> Table:
    """Each side-by-side comparison: what it can catch, the two medians, the ratio with its
    95 % interval (worded by :func:`format_slowdown`), the band, the verdict and n."""
    table = Table(
        title="validation: harness / reference; pass = the whole 95% interval inside the band",
        title_justify="left",
    )
    for column in ("comparison", "catches", "harness", "reference", "ratio [95% CI]", "band"):
        table.add_column(column, justify="right" if column == "ratio [95% CI]" else "left")
    table.add_column("verdict")
    table.add_column("n", justify="right")
    for c in comparisons:
        table.add_row(
            c.name,
            c.catches,
            f"{c.numerator} {format_value(c.median_numerator, c.unit)}",
            f"{c.denominator} {format_value(c.median_denominator, c.unit)}",
            format_slowdown(c.as_ratio, c.direction),
            f"within {c.band:.2f}x" if c.band is not None else "\N{EN DASH}",
            verdict_text(c),
            str(c.n),
        )
    return table


def verdict_text(comparison: Comparison) -> str:
    """The verdict as printed, with the projected rounds when inconclusive."""
    if comparison.verdict != "inconclusive":
        style = {"pass": "green", "fail": "red", "reported": "dim"}[comparison.verdict]
        return f"[{style}]{comparison.verdict}"
    more = comparison.more_rounds
    settle = f"~{more} more rounds to settle" if more is not None else "not projected"
    return f"[yellow]inconclusive ({settle})"
