"""The driver: runs scenarios on each engine beside the native baselines and stores results.

The top flow of :func:`run` is: resolve the scenarios, connect to every engine, then for
each engine open a run (results file written at once, status ``partial``), execute each
scenario inside one failure boundary, rewrite the file after every scenario, and clean
up everything labelled with the run id on success, failure and interruption.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from bench import results, workloads
from bench.driver.sampling import Adaptive, converged, outliers
from bench.environment import engine, host, records
from bench.environment.engine import Engine
from bench.environment.records import (
    finish_document,
    new_document,
    new_run_id,
    platform_record,
)
from bench.errors import (
    BadInputError,
    EngineLostError,
    NoEngineError,
    PlatformMismatchError,
    ResultsWriteError,
    UnusableEngineError,
    first_line,
)
from bench.metrics import metric
from bench.plan import Scenario, Variant
from bench.provision import places
from bench.provision.context import EventLog, RunContext, work_root
from bench.scenarios import resolve


class Progress(Protocol):
    """How the driver reports progress; the CLI draws it, tests may ignore it."""

    def begin(self, label: str, total: int) -> None: ...

    def step(self, description: str) -> None: ...

    def more(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...


class _Silent:
    def begin(self, label: str, total: int) -> None: ...

    def step(self, description: str) -> None: ...

    def more(self, count: int) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunFile:
    """One engine's results: where they were written and the document itself."""

    path: Path
    document: results.RunDocument

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.document.results)


def run(
    *,
    scenarios: Sequence[str] = (),
    suite: str | None = None,
    repeat: int | None = None,
    warmup: int | None = None,
    out: Path = Path("results"),
    contexts: Sequence[str] = (),
    allow_no_engine: bool = False,
    expect_platform: str | None = None,
    adaptive: Adaptive | None = None,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[RunFile]:
    """Run *scenarios* (names or paths; else *suite*'s) on each engine of *contexts* (else
    the current one) and return one :class:`RunFile` per engine.

    Raises :class:`NoEngineError` when an engine does not answer and *allow_no_engine* is
    false (nothing is written then), :class:`EngineLostError` when an engine stops answering
    mid-run (the file keeps what was measured), and ``KeyboardInterrupt`` after writing a
    partial file and cleaning up. *on_file* is told each results path as soon as it exists.
    With *expect_platform*, an engine detected as another platform raises
    :class:`PlatformMismatchError` before anything is measured (a CI cell that should have
    had an engine fails loudly instead of recording a skip).
    """
    plan = resolve(scenarios, suite=suite, repeat=repeat, warmup=warmup)
    engines = _connect_all(contexts, allow_no_engine)
    if expect_platform is not None:
        _check_expected(engines, expect_platform)
    sessions = [
        _open(plan=plan, eng=eng, context=context, out=out, argv=argv, adaptive=adaptive)
        for context, eng in engines
    ]
    for session in sessions:
        if on_file:
            on_file(session.path)
    return _execute_plan(plan, sessions, progress or _Silent(), adaptive)


def resume(
    *,
    path: Path,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
) -> RunFile:
    """Complete the partial run stored at *path*: run the scenarios of its plan that have no
    results yet, on the same platform, into the same file. Completed scenarios are not
    repeated (the driver stores results a whole scenario at a time)."""
    document = results.read(path)
    if document.run["status"] == "complete":
        raise BadInputError(f"{path}: this run is complete; there is nothing to resume")
    entries = document.run.get("suite_plan")
    if not isinstance(entries, list):
        raise BadInputError(f"{path}: no plan recorded in run.suite_plan; cannot resume")
    done = {r.scenario for r in document.results}
    plan = [
        replace(
            resolve([str(e.get("source") or e["scenario"])])[0],
            repetitions=int(e["repetitions"]),
            warmups=int(e["warmups"]),
        )
        for e in entries
        if e["scenario"] not in done
    ]
    context = document.run.get("context")
    try:
        eng: Engine | NoEngineError = engine.connect(context)
    except NoEngineError as e:
        if document.platform["id"] != "unknown":
            raise
        eng = e
    _check_expected([(context, eng)], str(document.platform["id"]))
    resumed = [*document.run.get("resumed", []), {"at": records.now(), "argv": list(argv)}]
    document = replace(document, run={**document.run, "resumed": resumed})
    session = _Session(eng, document, path)
    sampling = document.run.get("sampling")
    adaptive = Adaptive(**sampling) if isinstance(sampling, dict) else None
    return _execute_plan(plan, [session], progress or _Silent(), adaptive)[0]


def _connect_all(
    contexts: Sequence[str], allow_no_engine: bool
) -> list[tuple[str | None, Engine | NoEngineError]]:
    connected: list[tuple[str | None, Engine | NoEngineError]] = []
    names: list[str | None] = list(contexts) or [None]
    for name in names:
        try:
            connected.append((name, _usable(engine.connect(name))))
        except NoEngineError as e:
            if not allow_no_engine:
                for _, eng in connected:
                    if isinstance(eng, Engine):
                        eng.close()
                raise
            connected.append((name, e))
    return connected


def _usable(eng: Engine) -> Engine:
    """*eng*, if it runs Linux containers; else :class:`UnusableEngineError`."""
    os_type = eng.info.get("OSType")
    if os_type in (None, "", "linux"):
        return eng
    raise UnusableEngineError(
        f"the engine at {eng.target.endpoint} runs {os_type} containers; crossdock's "
        "workloads need Linux containers. Switch the engine to Linux containers (Docker "
        "Desktop: 'Switch to Linux containers'), or add --allow-no-engine to record the skip "
        "and run the native baselines.",
        eng,
    )


def _check_expected(
    engines: Sequence[tuple[str | None, Engine | NoEngineError]], expected: str
) -> None:
    for _, eng in engines:
        found = platform_record(eng)
        if found.id != expected:
            for _, other in engines:
                if isinstance(other, Engine):
                    other.close()
            raise PlatformMismatchError(
                f"expected platform {expected!r} but found {found.id!r} "
                f"({'; '.join(found.detection)}). Nothing was measured."
            )


@dataclass
class _Session:
    """One engine's part of a run: its engine, results document and file."""

    eng: Engine | NoEngineError
    document: results.RunDocument
    path: Path

    @property
    def live(self) -> Engine | None:
        return self.eng if isinstance(self.eng, Engine) else None

    def store(self, document: results.RunDocument) -> None:
        """Keep *document* as this session's, on disk first (atomically)."""
        try:
            results.write_atomic(self.path, document)
        except OSError as e:
            raise ResultsWriteError(
                f"cannot write {self.path}: {e.strerror or e}. The file keeps its last "
                "complete version (every scenario finished before this one); free space or "
                f"choose another --out, then finish with: crossdock run --resume {self.path}"
            ) from None
        self.document = document


def _open(
    *,
    plan: Sequence[Scenario],
    eng: Engine | NoEngineError,
    context: str | None,
    out: Path,
    argv: Sequence[str],
    adaptive: Adaptive | None,
) -> _Session:
    """A new session with its results file written at once (``partial``)."""
    run_id = new_run_id()
    record = [
        {
            "scenario": s.name,
            "source": str(s.path) if s.path else s.name,
            "repetitions": s.repetitions,
            "warmups": s.warmups,
        }
        for s in plan
    ]
    extra: dict[str, Any] = {"suite_plan": record}
    if adaptive is not None:
        extra["sampling"] = asdict(adaptive)
    document = new_document(run_id=run_id, eng=eng, context=context, argv=argv, run_extra=extra)
    session = _Session(
        eng, document, results.result_path(out, str(document.platform["id"]), run_id)
    )
    session.store(document)
    return session


def _execute_plan(
    plan: Sequence[Scenario],
    sessions: Sequence[_Session],
    report: Progress,
    adaptive: Adaptive | None = None,
) -> list[RunFile]:
    """Run *plan* on every session, interleaved scenario by scenario across engines, so
    drift lands on all of them; always cleans up, and marks the files complete at the end."""
    label = " + ".join(f"{s.document.platform['id']} · {s.document.run['id']}" for s in sessions)
    report.begin(
        label, len(sessions) * sum((p.warmups + p.repetitions) * len(p.variants) for p in plan)
    )
    with contextlib.ExitStack() as stack:
        contexts = [
            stack.enter_context(run_context(str(s.document.run["id"]), s.live)) for s in sessions
        ]
        try:
            for session, ctx in zip(sessions, contexts, strict=True):
                if session.document.platform.get("file_sharing") is None:
                    session.store(with_file_sharing(session.document, ctx))
            for scenario in plan:
                for session, ctx in zip(sessions, contexts, strict=True):
                    outcome = execute(
                        scenario,
                        ctx,
                        report,
                        no_engine=_no_engine_reason(session.eng),
                        adaptive=adaptive,
                    )
                    session.store(
                        replace(session.document, results=session.document.results + tuple(outcome))
                    )
        except BaseException:
            for session in sessions:
                with contextlib.suppress(ResultsWriteError):
                    session.store(finish_document(session.document, complete=False))
            raise
    for session in sessions:
        session.store(finish_document(session.document, complete=True))
    return [RunFile(s.path, s.document) for s in sessions]


@contextmanager
def run_context(run_id: str, eng: Engine | None) -> Iterator[RunContext]:
    """The run's context; on leaving (however) removes every object labelled with the
    run id and the scratch directory."""
    root = work_root()
    root.mkdir(parents=True, exist_ok=True)
    _sweep_scratch(root)
    workdir = Path(tempfile.mkdtemp(prefix=f"{run_id}-", dir=root))
    (workdir / _OWNER).write_text(f"{host.host_id()} {os.getpid()}\n", encoding="utf-8")
    ctx = RunContext(run_id=run_id, engine=eng, labels=engine.labels(run_id), workdir=workdir)
    try:
        if eng is not None:
            eng.remove_orphans()
            ctx.events = EventLog(eng, run_id)
        yield ctx
    finally:
        if ctx.events is not None:
            ctx.events.close()
        for undo in reversed(ctx.cleanups):
            with contextlib.suppress(Exception):
                undo()
        if eng is not None:
            # an engine that went away cannot be cleaned now; the next run removes the
            # leftovers (their owner process is gone by then)
            with contextlib.suppress(Exception):
                eng.cleanup(run_id)
            eng.close()
        shutil.rmtree(workdir, ignore_errors=True)


_OWNER = ".crossdock-owner"


def _sweep_scratch(root: Path) -> None:
    """Remove scratch directories of runs of this machine whose process is gone."""
    for owner in root.glob(f"*/{_OWNER}"):
        try:
            machine, pid = owner.read_text(encoding="utf-8").split()
        except (OSError, ValueError):
            continue
        if machine == host.host_id() and pid.isdigit() and not host.alive(int(pid)):
            shutil.rmtree(owner.parent, ignore_errors=True)


def with_file_sharing(document: results.RunDocument, ctx: RunContext) -> results.RunDocument:
    """*document* with ``platform.file_sharing`` probed on the engine (DESIGN 3.3); a probe
    that fails says why in ``platform.detection`` instead of guessing."""
    if ctx.engine is None:
        return document
    try:
        fs_type, reason = places.probe_file_sharing(ctx)
    except Exception as e:  # noqa: BLE001 - a failed probe is recorded, not fatal
        _check_engine(ctx)
        fs_type, reason = None, f"file-sharing probe failed: {first_line(e, 500)}"
    record = {
        **document.platform,
        "file_sharing": fs_type,
        "detection": [*document.platform["detection"], reason],
    }
    return replace(document, platform=record)


# --- one scenario: the failure boundary ------------------------------------------------------


@dataclass
class _VariantState:
    variant: Variant
    samples: dict[str, list[float]] = field(default_factory=dict)
    status: str = "ok"
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
    *adaptive*, go on sampling the variants whose median is not yet tight enough.

    Every failure becomes a ``failed`` status with its reason on the variant it hit; the
    other variants go on. Only a lost engine or an interruption leaves this function.
    """
    workload = workloads.get(scenario.kind)
    states = [_VariantState(v) for v in scenario.variants]
    for state in states:
        if no_engine and workload.needs_engine(state.variant):
            state.status, state.reason = "skipped", no_engine
    try:
        _prepare(workload, scenario, ctx, [s for s in states if s.status == "ok"])
        rounds = [("warmup", i) for i in range(scenario.warmups)]
        rounds += [("sample", i) for i in range(scenario.repetitions)]
        for phase, index in rounds:
            for state in states:
                if state.status == "ok":
                    _sample_once(
                        workload, scenario, ctx, state, record=phase == "sample", index=index
                    )
                variant = state.variant.label(scenario.varying)
                report.step(f"{scenario.name} [{variant}] {phase} {index + 1}")
        if adaptive is not None:
            _sample_adaptively(
                workload, scenario, ctx, states=states, adaptive=adaptive, report=report
            )
        return [_result(workload, scenario, ctx, s) for s in states]
    finally:
        workload.finish(ctx, scenario)


def _sample_adaptively(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    *,
    states: Sequence[_VariantState],
    adaptive: Adaptive,
    report: Progress,
) -> None:
    """More interleaved rounds for the variants not yet converged; each records why it
    stopped."""
    started = time.monotonic()
    index = scenario.repetitions
    while True:
        pending = []
        for state in states:
            if state.status != "ok" or state.stopped:
                continue
            samples = _headline_samples(state)
            if converged(samples, adaptive.target):
                state.stopped = f"target {adaptive.target:.1%} reached at n={len(samples)}"
            elif index >= adaptive.max_repetitions:
                state.stopped = f"maximum of {adaptive.max_repetitions} samples reached"
            elif time.monotonic() - started > adaptive.max_seconds:
                state.stopped = f"maximum of {adaptive.max_seconds:g} s for the scenario reached"
            else:
                pending.append(state)
        if not pending:
            return
        report.more(len(pending))
        for state in pending:
            _sample_once(workload, scenario, ctx, state, record=True, index=index)
            report.step(f"{scenario.name} [{state.variant.label(scenario.varying)}] +{index + 1}")
        index += 1


def _headline_samples(state: _VariantState) -> list[float]:
    for name, values in state.samples.items():
        if metric(name).headline:
            return values
    return next(iter(state.samples.values()), [])


def _prepare(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    active: Sequence[_VariantState],
) -> None:
    """Provision for the *active* variants, then ask which of them cannot run here."""
    if not active:
        return
    try:
        workload.prepare(ctx, scenario, [s.variant for s in active])
    except Exception as e:  # noqa: BLE001 - the failure boundary (STYLE 7)
        _check_engine(ctx)
        for state in active:
            state.status, state.reason = "failed", f"preparing: {first_line(e, 500)}"
        return
    for state in active:
        reason = workload.skip_reason(ctx, state.variant)
        if reason:
            state.status, state.reason = "skipped", reason


def _sample_once(
    workload: workloads.Workload,
    scenario: Scenario,
    ctx: RunContext,
    state: _VariantState,
    *,
    record: bool,
    index: int,
) -> None:
    try:
        values = workload.sample(ctx, scenario, state.variant)
    except Exception as e:  # noqa: BLE001 - the failure boundary (STYLE 7)
        _check_engine(ctx)
        where = "sample" if record else "warmup"
        state.status, state.reason = "failed", f"{where} {index + 1}: {first_line(e, 500)}"
        return
    if record:
        for name, value in values.items():
            state.samples.setdefault(name, []).append(value)


def _result(
    workload: workloads.Workload, scenario: Scenario, ctx: RunContext, state: _VariantState
) -> results.Result:
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
    metrics = tuple(
        results.Metric(
            name=name,
            unit=metric(name).unit,
            direction=metric(name).direction,
            samples=tuple(values),
        )
        for name, values in state.samples.items()
    )
    return results.Result(
        scenario=scenario.name,
        kind=scenario.kind,
        variant=state.variant.as_dict(),
        status=state.status,  # type: ignore[arg-type]
        reason=state.reason,
        metrics=metrics,
        tool=tool,
        extra=extra,
    )


def _check_engine(ctx: RunContext) -> None:
    if ctx.engine is not None and not ctx.engine.ping():
        raise EngineLostError(
            f"the engine at {ctx.engine.target.endpoint} stopped answering; the results "
            "measured so far are kept. Restart the engine and run again."
        )


def _no_engine_reason(eng: Engine | NoEngineError) -> str | None:
    if isinstance(eng, UnusableEngineError):
        return f"no usable engine: {first_line(eng, None)}"
    if isinstance(eng, NoEngineError):
        virtualization = host.hypervisor_problem()
        prefix = f"{virtualization}; " if virtualization else ""
        return f"{prefix}no engine: {first_line(eng, None)}"
    return None
