"""The driver: runs scenarios on each engine beside the native baselines and stores results.

:func:`run` resolves the plan, checks the scratch directory, connects to every engine,
opens one session per engine (its results file written at once, ``partial``), then
measures: each scenario on each engine in turn inside one failure boundary
(:mod:`bench.driver.boundary`), the file rewritten after every scenario, and everything
labelled with the run id cleaned up on success, failure and interruption
(:mod:`bench.driver.session`). :func:`resume` measures what a partial file's plan lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import results
from bench.driver.boundary import Progress, Silent, execute
from bench.driver.sampling import Adaptive
from bench.driver.session import (
    Session,
    no_engine_reason,
    open_session,
    running,
    scratch_root,
)
from bench.environment import engine, records
from bench.environment.engine import Engine
from bench.environment.records import platform_record
from bench.errors import (
    BadInputError,
    NoEngineError,
    PlatformMismatchError,
    UnusableEngineError,
)
from bench.plan import Scenario
from bench.scenarios import resolve

__all__ = ["Adaptive", "Progress", "RunFile", "resume", "run"]


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
    expect_platform: str | Sequence[str] | None = None,
    adaptive: Adaptive | None = None,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[RunFile]:
    """Run *scenarios* (names or paths; else *suite*'s) on each engine of *contexts* (else
    the current one) and return one :class:`RunFile` per engine.

    Raises :class:`NoEngineError` when an engine does not answer and *allow_no_engine* is
    false, :class:`ProvisionError` when no scratch directory can be made (nothing is
    written then), :class:`EngineLostError` when an engine stops answering mid-run (the
    file keeps what was measured), and ``KeyboardInterrupt`` after writing a partial file
    and cleaning up. *on_file* is told each results path as soon as it exists.
    With *expect_platform*, an engine detected as another platform raises
    :class:`PlatformMismatchError` before anything is measured (a CI cell that should have
    had an engine fails loudly instead of recording a skip): one id holds for every engine;
    several, one per context in order (a native and a VM-backed engine side by side).
    """
    plan = resolve(scenarios, suite=suite, repeat=repeat, warmup=warmup)
    expected = _expected_per_engine(expect_platform, contexts)
    scratch_root()
    engines = _connect_all(contexts, allow_no_engine)
    for engine_, platform_id in zip(engines, expected, strict=False):
        _check_expected(engines, platform_id, only=engine_)
    extra = _run_record(plan, adaptive)
    sessions = [
        open_session(eng=eng, context=context, out=out, argv=argv, run_extra=extra)
        for context, eng in engines
    ]
    for session in sessions:
        if on_file:
            on_file(session.path)
    return _measure(plan, sessions, progress or Silent(), adaptive)


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
    plan = _remaining_plan(document, path)
    scratch_root()
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
    sampling = document.run.get("sampling")
    adaptive = Adaptive(**sampling) if isinstance(sampling, dict) else None
    return _measure(plan, [Session(eng, document, path)], progress or Silent(), adaptive)[0]


def _run_record(plan: Sequence[Scenario], adaptive: Adaptive | None) -> dict[str, Any]:
    """What ``run`` records of the plan, so that :func:`resume` can complete it."""
    record: dict[str, Any] = {
        "suite_plan": [
            {
                "scenario": s.name,
                "source": str(s.path) if s.path else s.name,
                "repetitions": s.repetitions,
                "warmups": s.warmups,
            }
            for s in plan
        ]
    }
    if adaptive is not None:
        record["sampling"] = asdict(adaptive)
    return record


def _remaining_plan(document: results.RunDocument, path: Path) -> list[Scenario]:
    """The scenarios of *document*'s recorded plan that have no results yet."""
    if document.run["status"] == "complete":
        raise BadInputError(f"{path}: this run is complete; there is nothing to resume")
    entries = document.run.get("suite_plan")
    if not isinstance(entries, list):
        raise BadInputError(f"{path}: no plan recorded in run.suite_plan; cannot resume")
    done = {r.scenario for r in document.results}
    return [
        replace(
            resolve([str(e.get("source") or e["scenario"])])[0],
            repetitions=int(e["repetitions"]),
            warmups=int(e["warmups"]),
        )
        for e in entries
        if e["scenario"] not in done
    ]


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


def _expected_per_engine(
    expect_platform: str | Sequence[str] | None, contexts: Sequence[str]
) -> list[str]:
    """The platform id each engine must be, in the order of *contexts* (one engine when
    none is named); empty when nothing is expected."""
    if expect_platform is None:
        return []
    ids = [expect_platform] if isinstance(expect_platform, str) else list(expect_platform)
    engines = max(1, len(contexts))
    if len(ids) == 1:
        return ids * engines
    if len(ids) != engines:
        raise BadInputError(
            f"{len(ids)} expected platforms for {engines} engines: give one for all, "
            "or one per --context in the same order"
        )
    return ids


def _check_expected(
    engines: Sequence[tuple[str | None, Engine | NoEngineError]],
    expected: str,
    *,
    only: tuple[str | None, Engine | NoEngineError] | None = None,
) -> None:
    """Raise :class:`PlatformMismatchError` (closing every engine) unless each of
    *engines*, or only the one *only* names, is platform *expected*."""
    for context, eng in [only] if only is not None else engines:
        found = platform_record(eng)
        if found.id != expected:
            for _, other in engines:
                if isinstance(other, Engine):
                    other.close()
            where = f" on context {context!r}" if context else ""
            raise PlatformMismatchError(
                f"expected platform {expected!r}{where} but found {found.id!r} "
                f"({'; '.join(found.detection)}). Nothing was measured."
            )


def _measure(
    plan: Sequence[Scenario],
    sessions: Sequence[Session],
    report: Progress,
    adaptive: Adaptive | None,
) -> list[RunFile]:
    """Run *plan* on every session, interleaved scenario by scenario across engines, so
    drift lands on all of them; the file sharing is probed first."""
    label = " + ".join(f"{s.document.platform['id']} · {s.run_id}" for s in sessions)
    per_engine = sum((p.warmups + p.repetitions) * len(p.variants) for p in plan)
    report.begin(label, len(sessions) * per_engine)
    with running(sessions) as contexts:
        pairs = list(zip(sessions, contexts, strict=True))
        for session, ctx in pairs:
            session.probe_file_sharing(ctx)
        for scenario in plan:
            for session, ctx in pairs:
                no_engine = no_engine_reason(session.eng)
                session.add(execute(scenario, ctx, report, no_engine=no_engine, adaptive=adaptive))
    return [RunFile(s.path, s.document) for s in sessions]
