"""One scenario on one engine, inside one failure boundary (STYLE 7).

Warmups first, then samples, the variants interleaved round by round (A B C A B C ...);
with adaptive sampling, more rounds for the variants whose median is not tight enough yet.
A variant that fails becomes a ``failed`` status with its reason and the others go on;
only a lost engine or an interruption leaves :func:`execute`, and the workload's
``finish`` always runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench import results, workloads
from bench.driver.sampling import Adaptive, outliers
from bench.driver.session import check_engine
from bench.errors import first_line
from bench.metrics import metric
from bench.plan import Scenario, Variant
from bench.provision.context import RunContext


class Progress(Protocol):
    """How the driver reports progress; the CLI draws it, tests may ignore it."""

    def begin(self, label: str, total: int) -> None: ...

    def step(self, description: str) -> None: ...

    def more(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...


class Silent:
    """A :class:`Progress` that shows nothing."""

    def begin(self, label: str, total: int) -> None: ...

    def step(self, description: str) -> None: ...

    def more(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class VariantState:
    """One variant during its scenario: the samples so far and how it stands."""

    variant: Variant
    samples: dict[str, list[float]] = field(default_factory=dict)
    status: results.Status = "ok"
    reason: str | None = None
    stopped: str | None = None  # why adaptive sampling stopped


def execute(
    scenario: Scenario,
    ctx: RunContext,
    report: Progress,
    *,
    no_engine: str | None = None,
    adaptive: Adaptive | None = None,
) -> list[results.Result]:
    """Run one scenario's variants interleaved (A B C A B C ...), warmups first; with
    *adaptive*, go on sampling the variants whose median is not yet tight enough. With
    *no_engine*, the variants that need an engine are skipped for that reason.

    Every failure becomes a ``failed`` status with its reason on the variant it hit; the
    other variants go on. Only a lost engine or an interruption leaves this function.
    """
    started = time.monotonic()  # --max-time counts the whole scenario, preparing included
    workload = workloads.get(scenario.kind)
    states = [VariantState(v) for v in scenario.variants]
    for state in states:
        if no_engine and workload.needs_engine(state.variant):
            state.status, state.reason = "skipped", no_engine
    try:
        _prepare(workload, scenario, ctx, [s for s in states if s.status == "ok"])
        _sample_rounds(workload, scenario, ctx, states=states, report=report)
        if adaptive is not None:
            _sample_adaptively(
                workload,
                scenario,
                ctx,
                states=states,
                adaptive=adaptive,
                report=report,
                started=started,
            )
        return [_result(workload, scenario, ctx, s) for s in states]
    finally:
        workload.finish(ctx, scenario)


def _prepare(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    active: Sequence[VariantState],
) -> None:
    """Provision for the *active* variants, then ask which of them cannot run here."""
    if not active:
        return
    try:
        workload.prepare(ctx, scenario, [s.variant for s in active])
    except Exception as e:  # noqa: BLE001 - the failure boundary (STYLE 7)
        check_engine(ctx)
        for state in active:
            state.status, state.reason = "failed", f"preparing: {first_line(e, 500)}"
        return
    for state in active:
        reason = workload.skip_reason(ctx, state.variant)
        if reason:
            state.status, state.reason = "skipped", reason


def _sample_rounds(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    *,
    states: Sequence[VariantState],
    report: Progress,
) -> None:
    """The scenario's warmup rounds, then its sample rounds, each over every variant."""
    rounds = [("warmup", i) for i in range(scenario.warmups)]
    rounds += [("sample", i) for i in range(scenario.repetitions)]
    for phase, index in rounds:
        for state in states:
            if state.status == "ok":
                _sample_once(workload, scenario, ctx, state, record=phase == "sample", index=index)
            variant = state.variant.label(scenario.varying)
            report.step(f"{scenario.name} [{variant}] {phase} {index + 1}")


def _sample_adaptively(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    *,
    states: Sequence[VariantState],
    adaptive: Adaptive,
    report: Progress,
    started: float,
) -> None:
    """More interleaved rounds for the variants not yet converged; each records why it
    stopped (:meth:`Adaptive.stop_reason`). *started* is when the scenario began
    (:func:`time.monotonic`): the time limit is the scenario's, not this phase's."""
    index = scenario.repetitions
    while True:
        for state in states:
            if state.status == "ok" and not state.stopped:
                state.stopped = adaptive.stop_reason(
                    _headline_samples(state),
                    taken=index,
                    elapsed=time.monotonic() - started,
                    first=scenario.repetitions,
                )
        pending = [s for s in states if s.status == "ok" and not s.stopped]
        if not pending:
            return
        report.more(len(pending))
        for state in pending:
            _sample_once(workload, scenario, ctx, state, record=True, index=index)
            report.step(f"{scenario.name} [{state.variant.label(scenario.varying)}] +{index + 1}")
        index += 1


def _headline_samples(state: VariantState) -> list[float]:
    for name, values in state.samples.items():
        if metric(name).headline:
            return values
    return next(iter(state.samples.values()), [])


def _sample_once(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    state: VariantState,
    *,
    record: bool,
    index: int,
) -> None:
    """One repetition of *state*'s variant; kept when *record*, else a warmup. A failure
    becomes the variant's status."""
    try:
        values = workload.sample(ctx, scenario, state.variant)
    except Exception as e:  # noqa: BLE001 - the failure boundary (STYLE 7)
        check_engine(ctx)
        where = "sample" if record else "warmup"
        state.status, state.reason = "failed", f"{where} {index + 1}: {first_line(e, 500)}"
        return
    if record:
        for name, value in values.items():
            state.samples.setdefault(name, []).append(value)


def _result(
    workload: workloads.Workload, scenario: Scenario, ctx: RunContext, state: VariantState
) -> results.Result:
    """The stored outcome of *state*'s variant: status, raw samples, the tool and what
    else the workload describes, how sampling went and which samples stand far out."""
    tool: dict[str, str] | None = None
    extra: dict[str, Any] = {}
    if state.status != "skipped":
        try:
            tool, extra = workload.describe(ctx, state.variant)
        except Exception as e:  # noqa: BLE001 - describing must not lose the samples
            extra = {"describe_error": first_line(e, 500)}
    extra |= {"repetitions": scenario.repetitions, "warmups": scenario.warmups}
    if state.stopped:
        extra["sampling"] = {"mode": "adaptive", "stopped": state.stopped}
    far = {name: idx for name, values in state.samples.items() if (idx := outliers(values))}
    if far:
        extra["outliers"] = far  # flagged by sample index, never dropped
    return results.Result(
        scenario=scenario.name,
        kind=scenario.kind,
        variant=state.variant.as_dict(),
        status=state.status,
        reason=state.reason,
        metrics=tuple(results.Metric.of(name, values) for name, values in state.samples.items()),
        tool=tool,
        extra=extra,
    )
