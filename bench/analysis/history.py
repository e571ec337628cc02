"""Runs over time: each platform's headline metrics by run date, and the calls between
consecutive runs (regression, improvement) that the report and ``crossdock compare
--history`` show.

A *trend* is one headline metric of one variant of one scenario, followed across the
runs of one platform and suite, ordered by run date (``run.started_at``). Its variant is
named by the parameters that vary among the scenario's variants in some run; the
parameters that never do (fio's file size and duration, the iperf3 duration) are the
scenario's settings, a condition like the engine version. Each point is the run's median with its
distribution-free 95 % interval (:class:`Estimate`).

Between two consecutive points the ratio of medians ``after / before`` has a
percentile-bootstrap interval (:func:`bench.analysis.stats.ratio_of_medians`). The call
(:func:`call`): a **regression** when the whole interval lies beyond
:data:`REGRESSION_THRESHOLD` times worse (slower, or a lower rate), an **improvement**
when it lies beyond that many times better; otherwise none. Runs with fewer samples than
a median's interval needs (6) are never called. Only headline metrics
(:func:`bench.analysis.baseline.headline_of`) are followed, one per variant, so a run of
a suite is a few dozen comparisons, not hundreds.

Conditions (:func:`run_conditions`) are what a run recorded about what it ran on: the
engine version, the platform's own version (Docker Desktop's, as the engine reports it),
the engine's kernel, the host OS and CPU, crossdock's own version (a release may change
how a figure is measured) and the scenario's shared parameters. A step
between runs whose conditions differ is a *break*: the trend is drawn with a gap there,
and a call across it names the changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bench.analysis import stats
from bench.analysis.baseline import by_scenario, headline_of
from bench.analysis.frame import variant_label
from bench.plan import Scalar
from bench.results import RunDocument

#: A call needs the whole 95 % interval of ``after / before`` beyond this many times worse
#: (or better): 10 %, above the run-to-run noise of a shared machine, well below the
#: changes people look for (a new engine release, a new file-sharing backend).
REGRESSION_THRESHOLD = 1.10

Call = Literal["regression", "improvement", ""]

#: The conditions a run records, in the order shown: (name, where it is in the file).
CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("engine", ("engine", "server_version")),
    ("platform version", ("engine", "raw_version", "Platform", "Name")),
    ("engine kernel", ("engine", "kernel_version")),
    ("host OS", ("host", "os_version")),
    ("host CPU", ("host", "cpu_model")),
    ("host CPUs", ("host", "cpu_count")),
    ("crossdock", ("run", "harness_version")),
)

#: The name of the condition that holds a scenario's shared parameters.
PARAMETERS = "scenario parameters"


@dataclass(frozen=True)
class Run:
    """One run as history sees it: its id, platform, suite, start date and conditions."""

    run_id: str
    platform: str
    suite: str
    date: datetime
    conditions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Estimate:
    """A median with its distribution-free interval (:func:`bench.analysis.stats.median_ci`;
    ``None`` bounds below 6 samples at 95 %) and the sample count: what a trend shows of
    a run, without the rest of a :class:`bench.analysis.stats.Summary` (a history of a
    thousand runs makes tens of thousands)."""

    n: int
    median: float
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, samples: Sequence[float]) -> Estimate:
        """The estimate of *samples* (at least one)."""
        xs = sorted(samples)
        n = len(xs)
        ranks = stats.median_ci_ranks(n)
        median = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
        if ranks is None:
            return cls(n, median, None, None)
        return cls(n, median, xs[ranks[0] - 1], xs[ranks[1] - 1])


@dataclass(frozen=True)
class Point:
    """One run's samples of a trend's metric, their median with its interval, and the
    conditions that hold for them (the run's and the scenario's settings)."""

    run: Run
    values: tuple[float, ...]
    summary: Estimate
    conditions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Change:
    """A condition that differs between two consecutive points."""

    name: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.name} {self.before} \N{RIGHTWARDS ARROW} {self.after}"


@dataclass(frozen=True)
class Step:
    """From one point of a trend to the next: ``ratio`` is ``after / before`` of the
    medians; it carries its bootstrap interval when the medians alone differ by more than
    the threshold and both runs have enough samples (a call is possible only then), else
    only its value. ``changes``: the conditions that differ (a break when any).
    ``too_few``: a run has fewer samples than a median's interval needs
    (:func:`bench.analysis.stats.min_samples_for_ci`, 6 at 95 %), so no call is made: a
    bootstrap of three samples (the ``quick`` suite) gives intervals far too narrow."""

    before: Point
    after: Point
    ratio: stats.Ratio | None
    call: Call
    changes: tuple[Change, ...]
    too_few: bool = False


@dataclass(frozen=True)
class Trend:
    """One headline metric of one variant across the runs of one platform and suite,
    in run-date order."""

    platform: str
    suite: str
    scenario: str
    variant: str
    params: Mapping[str, Scalar]
    metric: str
    unit: str
    direction: str
    points: tuple[Point, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Called:
    """A step with a call, with the trend it belongs to."""

    trend: Trend
    step: Step


@dataclass(frozen=True)
class History:
    """Every trend of the runs given, grouped by platform and suite in first-date order,
    and the threshold their calls used."""

    runs: tuple[Run, ...]
    trends: tuple[Trend, ...]
    threshold: float

    def called(self, kind: Call) -> list[Called]:
        """The steps called *kind*, latest first."""
        found = [Called(t, s) for t in self.trends for s in t.steps if s.call == kind]
        return sorted(found, key=lambda c: c.step.after.run.date, reverse=True)

    def groups(self) -> dict[tuple[str, str], list[Trend]]:
        """The trends by ``(platform, suite)``, in their order."""
        groups: dict[tuple[str, str], list[Trend]] = {}
        for trend in self.trends:
            groups.setdefault((trend.platform, trend.suite), []).append(trend)
        return groups


def call(
    ratio: stats.Ratio | None, direction: str, threshold: float = REGRESSION_THRESHOLD
) -> Call:
    """``"regression"`` when the whole interval of *ratio* (``after / before`` of a metric
    whose better *direction* is given) lies beyond *threshold* times worse,
    ``"improvement"`` when it lies beyond *threshold* times better, ``""`` otherwise
    (also when there is no interval)."""
    if ratio is None or ratio.ci is None or min(ratio.ci) <= 0:
        return ""
    low, high = sorted(b if direction == "lower" else 1.0 / b for b in ratio.ci)
    if low > threshold:
        return "regression"
    if high < 1.0 / threshold:
        return "improvement"
    return ""


def suite_of(run: Mapping[str, Any]) -> str:
    """The suite a run ran, from its ``argv``: ``--suite NAME``; the scenarios it named
    (``"scenarios: a, b"``); ``default`` for a bare ``crossdock run``; the command's name
    for what is not a run (``validate``, ``import``)."""
    argv = [str(a) for a in run.get("argv") or ()]
    command = argv[1] if len(argv) > 1 else "run"
    if command != "run":
        return command
    named: list[str] = []
    skip = False
    for i, arg in enumerate(argv[2:], start=2):
        if skip:
            skip = False
        elif arg == "--suite" and i + 1 < len(argv):
            return argv[i + 1]
        elif arg.startswith("--suite="):
            return arg.partition("=")[2]
        elif arg.startswith("-"):
            skip = "=" not in arg and arg not in _FLAGS
        else:
            named.append(arg)
    return f"scenarios: {', '.join(sorted(named))}" if named else "default"


#: ``crossdock run`` options that take no value (every other option takes one).
_FLAGS = frozenset({"--allow-no-engine"})


def run_date(run: Mapping[str, Any]) -> datetime:
    """When a run started (``run.started_at``, ISO 8601), as an aware UTC datetime; a
    time without a zone is taken as UTC."""
    date = datetime.fromisoformat(str(run["started_at"]))
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)


def run_conditions(document: RunDocument) -> tuple[tuple[str, str], ...]:
    """The :data:`CONDITIONS` *document* recorded, as text (``"-"`` when not recorded)."""
    sections: dict[str, Any] = {
        "engine": document.engine, "host": document.host, "run": document.run,
    }  # fmt: skip
    found = []
    for name, path in CONDITIONS:
        value: Any = sections[path[0]]
        for key in path[1:]:
            value = value.get(key) if isinstance(value, Mapping) else None
        found.append((name, "-" if value is None or value == "" else str(value)))
    return tuple(found)


def describe(document: RunDocument) -> Run:
    """*document* as a :class:`Run`."""
    return Run(
        run_id=str(document.run["id"]),
        platform=str(document.platform["id"]),
        suite=suite_of(document.run),
        date=run_date(document.run),
        conditions=run_conditions(document),
    )


def history(
    documents: Iterable[RunDocument], *, threshold: float = REGRESSION_THRESHOLD
) -> History:
    """The trends of every headline metric in *documents*, and their calls at
    *threshold*. Runs are ordered by start date (then run id); a run whose
    ``started_at`` cannot be read is left out."""
    dated: list[tuple[Run, RunDocument]] = []
    for document in documents:
        try:
            dated.append((describe(document), document))
        except (KeyError, TypeError, ValueError):
            continue
    dated.sort(key=lambda pair: (pair[0].date, pair[0].run_id))
    identity = _identity_params(dated)
    series: dict[tuple[str, ...], _Series] = {}
    for run, document in dated:
        for scenario, results in by_scenario(document.results).items():
            names = identity[(run.platform, run.suite, scenario)]
            settings = {k: v for r in results for k, v in r.variant.items() if k not in names}
            conditions = (*run.conditions, (PARAMETERS, variant_label(settings)))
            for result in results:
                measured = {m.name: m for m in result.metrics if m.samples}
                if result.status != "ok" or not measured:
                    continue
                metric = measured[headline_of(list(measured))]
                params = {k: v for k, v in result.variant.items() if k in names}
                key = (run.platform, run.suite, scenario, variant_label(params), metric.name)
                found = series.setdefault(key, _Series(params, metric.unit, metric.direction))
                estimate = Estimate.of(metric.samples)
                found.points.append(Point(run, metric.samples, estimate, conditions))
    # platforms and suites in the order of their first run; within one, first seen first
    first: dict[tuple[str, str], int] = {}
    for i, (run, _) in enumerate(dated):
        first.setdefault((run.platform, run.suite), i)
    ordered = sorted(series.items(), key=lambda item: first[(item[0][0], item[0][1])])
    trends = [_trend(key, found, threshold) for key, found in ordered]
    return History(runs=tuple(run for run, _ in dated), trends=tuple(trends), threshold=threshold)


def _identity_params(
    dated: Iterable[tuple[Run, RunDocument]],
) -> dict[tuple[str, str, str], set[str]]:
    """Per platform, suite and scenario, the variant parameters that name a variant: those
    whose values differ among the scenario's variants in at least one run. The others
    (one value in every run: fio's size, iperf3's duration) are the scenario's settings,
    a condition of each run rather than part of a variant's name, so that a run measuring
    fewer variants names the rest as the others do."""
    names: dict[tuple[str, str, str], set[str]] = {}
    for run, document in dated:
        for scenario, results in by_scenario(document.results).items():
            found = names.setdefault((run.platform, run.suite, scenario), set())
            values: dict[str, set[str]] = {}
            for result in results:
                for key, value in result.variant.items():
                    values.setdefault(key, set()).add(repr(value))
            # a parameter some variants lack varies too
            found.update(k for k, v in values.items() if len(v) > 1)
            found.update(k for k in values if any(k not in r.variant for r in results))
    return names


@dataclass
class _Series:
    """A trend while it is gathered: the variant's parameters, the metric's unit and
    direction, and the points so far."""

    params: Mapping[str, Scalar]
    unit: str
    direction: str
    points: list[Point] = field(default_factory=list)


def _trend(key: tuple[str, ...], found: _Series, threshold: float) -> Trend:
    platform, suite, scenario, variant, metric = key
    points = tuple(found.points)
    steps = tuple(
        _step(before, after, found.direction, threshold)
        for before, after in itertools.pairwise(points)
    )
    return Trend(
        platform=platform,
        suite=suite,
        scenario=scenario,
        variant=variant,
        params=found.params,
        metric=metric,
        unit=found.unit,
        direction=found.direction,
        points=points,
        steps=steps,
    )


def _step(before: Point, after: Point, direction: str, threshold: float) -> Step:
    changes = tuple(
        Change(name, old, new)
        for (name, old), (_, new) in zip(before.conditions, after.conditions, strict=True)
        if old != new
    )
    ratio: stats.Ratio | None = None
    b, a = before.summary.median, after.summary.median
    too_few = min(len(before.values), len(after.values)) < stats.min_samples_for_ci()
    if too_few:
        value = a / b if a > 0 and b > 0 else None
        ratio = None if value is None else stats.Ratio(value=value, ci=None, confidence=0.95)
        return Step(before, after, ratio, "", changes, too_few=True)
    if b > 0 and a > 0:
        ratio = stats.Ratio(value=a / b, ci=None, confidence=0.95)
        worse = ratio.value if direction == "lower" else 1.0 / ratio.value
        # the interval lies around the ratio of medians: only a ratio beyond the threshold
        # can have an interval beyond it, so only then is the bootstrap worth its cost
        if worse > threshold or worse < 1.0 / threshold:
            ratio = stats.ratio_of_medians(before.values, after.values)
    return Step(before, after, ratio, call(ratio, direction, threshold), changes)
