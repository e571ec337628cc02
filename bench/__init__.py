"""crossdock: how Linux containers behave on the platforms people use.

The keyword-only API; the command line (:mod:`bench.cli`) is a thin adapter over it, and
tests and notebooks call it without argv. Each function returns values and raises the
typed errors of :mod:`bench.errors` (each carrying the exit code the CLI maps it to):

- :func:`run` measures scenarios on the engine(s) and stores one results file per engine;
  :func:`resume` completes a partial one;
- :func:`report` builds the HTML comparison page; :func:`compare` compares two results;
  :func:`history` follows runs over time and calls regressions between consecutive ones;
- :func:`detect` classifies an engine, live or from a saved ``docker info`` capture;
- :func:`validate` checks the harness against the reference tools run by hand;
- :func:`export_pyperf`, :func:`export_csv`, :func:`export_summary` and
  :func:`import_pytest_benchmark` convert;
- :func:`clean` removes what crossdock left in an engine.

Each function imports what it needs when called, so ``import bench`` and
``crossdock --help`` stay fast.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.analysis.history import History
    from bench.compare import ComparisonRow
    from bench.driver import Progress, RunFile
    from bench.environment.platform import Platform
    from bench.interop import ExportInfo
    from bench.report import ReportInfo
    from bench.validation import Validation

from bench.version import __version__

__all__ = [
    "__version__",
    "clean",
    "compare",
    "detect",
    "export_csv",
    "export_pyperf",
    "export_summary",
    "history",
    "import_pytest_benchmark",
    "report",
    "resume",
    "run",
    "validate",
]

#: where results files are written, and read, by default
_RESULTS = Path("results")


def run(
    *,
    scenarios: Sequence[str] = (),
    suite: str | None = None,
    repeat: int | None = None,
    warmup: int | None = None,
    out: Path = _RESULTS,
    contexts: Sequence[str] = (),
    allow_no_engine: bool = False,
    expect_platform: str | Sequence[str] | None = None,
    target_ci: float | None = None,
    max_repeat: int = 200,
    max_time: float = 1800,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[RunFile]:
    """Run *scenarios* (names or ``.toml`` paths; else *suite*'s, else the default suite)
    on each engine of *contexts* (else the current one); one results file per engine.

    With *target_ci* (a fraction: 0.05 for 5 %), each variant is sampled until its
    median's 99 % interval is that narrow (:class:`bench.driver.sampling.Adaptive`), up
    to *max_repeat* samples and *max_time* seconds per scenario. See
    :func:`bench.driver.run` for the errors raised.
    """
    from bench import driver
    from bench.errors import BadInputError

    adaptive = None
    if target_ci is not None:
        try:
            adaptive = driver.Adaptive(target_ci, max_repeat, max_time)
        except ValueError as e:
            raise BadInputError(str(e)) from None
    return driver.run(
        scenarios=scenarios,
        suite=suite,
        repeat=repeat,
        warmup=warmup,
        out=out,
        contexts=contexts,
        allow_no_engine=allow_no_engine,
        expect_platform=expect_platform,
        adaptive=adaptive,
        argv=argv,
        progress=progress,
        on_file=on_file,
    )


def resume(*, path: Path, argv: Sequence[str] = (), progress: Progress | None = None) -> RunFile:
    """Complete the partial run stored at *path* (see :func:`bench.driver.resume`)."""
    from bench import driver

    return driver.resume(path=path, argv=argv, progress=progress)


def report(
    *,
    inputs: Sequence[Path] = (_RESULTS,),
    output: Path = Path("reports/index.html"),
    latest: int | None = 1,
    since: date | None = None,
) -> ReportInfo:
    """Build the HTML report of the results in *inputs* (files or folders) at *output*,
    each platform summarised from its *latest* runs (``None``: all) started on or after
    *since* (``None``: any date); every run is listed with its own headline figures."""
    from bench.report import build_report
    from bench.report.selection import Selection

    return build_report(
        inputs=inputs, output=output, selection=Selection(latest=latest, since=since)
    )


def compare(*, a: Path, b: Path) -> list[ComparisonRow]:
    """Per metric, the median of *b* against *a*'s (results files or folders): ratio with
    its confidence interval, p-value, Benjamini-Hochberg adjusted p and whether it is
    significant; runs are the units where a side holds several (see
    :mod:`bench.compare`). Problems with the inputs are issued as :class:`UserWarning`."""
    from bench.compare import compare as compare_results

    return compare_results(a=a, b=b)


def history(*, inputs: Sequence[Path] = (_RESULTS,)) -> History:
    """Each platform's headline metrics over time in the results *inputs* (files or
    folders), with the regression and improvement calls between consecutive runs of a
    platform and suite (:mod:`bench.analysis.history`). Problems with the inputs are
    issued as :class:`UserWarning`; no usable results raise
    :class:`~bench.errors.ResultsError`."""
    from bench.regressions import load

    return load(inputs)


def detect(
    *,
    source: Path | None = None,
    text: str | None = None,
    host_os: str | None = None,
    captured_in: str | None = None,
    context: str | None = None,
) -> Platform:
    """The platform record (DESIGN 3.3) of a saved ``docker info`` / ``docker version``
    capture, given as *text* or the file *source* (*host_os*: the host it was taken on,
    else inferred; *captured_in*: ``"wsl"`` or ``"host"`` for where a capture was taken, when it
    cannot tell); without one, of the engine of *context* (else the current one), with
    its file sharing probed by a container.

    Raises :class:`BadInputError` for an unreadable capture file or an unknown *host_os*,
    :class:`NoEngineError` when no engine answers.
    """
    from bench.environment import platform
    from bench.errors import BadInputError

    if host_os is not None and host_os not in platform.HOST_OSES:
        raise BadInputError(f"unknown host OS {host_os!r} (valid: {', '.join(platform.HOST_OSES)})")
    if source is not None:
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as e:
            raise BadInputError(f"{source}: cannot read ({e.strerror})") from None
        except UnicodeDecodeError:
            raise BadInputError(f"{source}: not text; expected a docker info capture") from None
    if text is not None:
        return platform.detect_capture(text, host_os=host_os, captured_in=captured_in)
    from bench.driver.session import probed_platform
    from bench.environment import engine

    return probed_platform(engine.connect(context))


def validate(
    *,
    areas: Sequence[str] = (),
    rounds: int | None = None,
    budget: float | None = None,
    out: Path = _RESULTS,
    context: str | None = None,
    argv: Sequence[str] = (),
    progress: Progress | None = None,
) -> tuple[list[Validation], Path]:
    """The harness against the reference measurements of *areas* (all by default), as an
    equivalence test: *rounds* first rounds per area, then more until every comparison is
    conclusive or *budget* seconds (default 900) have passed; stored as a results file.
    Returns the validations and the file's path (see
    :func:`bench.validation.runner.validate`)."""
    from bench.validation.runner import validate as validate_areas

    return validate_areas(
        areas=areas, rounds=rounds, budget=budget, out=out, context=context, argv=argv,
        progress=progress,
    )  # fmt: skip


def export_pyperf(*, inputs: Sequence[Path] = (_RESULTS,), output: Path) -> ExportInfo:
    """The results in *inputs* as a pyperf JSON file at *output*."""
    from bench import interop

    return interop.export_pyperf(inputs=inputs, output=output)


def export_csv(*, inputs: Sequence[Path] = (_RESULTS,), output: Path) -> ExportInfo:
    """The results in *inputs* as a CSV file at *output*, one row per sample."""
    from bench import interop

    return interop.export_csv(inputs=inputs, output=output)


def export_summary(*, inputs: Sequence[Path] = (_RESULTS,), output: Path) -> ExportInfo:
    """The results in *inputs* as a JSON summary at *output*: per run, scenario, variant
    and metric the median, its interval, n and the ratio to native with its interval
    (:mod:`bench.interop.summary`)."""
    from bench import interop

    return interop.export_summary(inputs=inputs, output=output)


def import_pytest_benchmark(
    *,
    source: Path,
    out: Path = _RESULTS,
    platform: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Path:
    """Store the pytest-benchmark JSON file *source* as a results file under *out*; its
    path. A stated *platform* that the file's ``machine_info`` contradicts is kept, with
    the contradiction recorded and told to *on_warning*."""
    from bench import interop

    return interop.import_pytest_benchmark(
        source=source, out=out, platform=platform, on_warning=on_warning
    )


def clean(*, run_id: str | None = None, context: str | None = None) -> dict[str, int]:
    """Remove every container, volume, network and image crossdock left in the engine of
    *context* (only *run_id*'s, if given); how many of each kind were removed."""
    from bench.environment import engine

    eng = engine.connect(context)
    try:
        return eng.cleanup(run_id)
    finally:
        eng.close()


class _Package(types.ModuleType):
    """The ``bench`` package itself. ``report`` and ``compare`` name both API functions and
    submodules, and importing a submodule sets the package attribute of its name, which
    would hide the function; so the functions stay. The submodules are reached by their
    dotted names: ``from bench.report import build_report``, ``from bench.compare import
    render`` (not as attributes of ``bench``)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("report", "compare") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
