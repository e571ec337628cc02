"""The ``crossdock`` command line: parses arguments, calls the core API, prints, exits.

Exit codes (DESIGN 3.1): 0 success, 1 a scenario failed, 2 bad input, 3 no usable
engine, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

import bench
from bench import argtypes, scenarios, signals
from bench.environment.platform import PLATFORM_IDS
from bench.errors import BadInputError, CrossdockError
from bench.version import __version__

if TYPE_CHECKING:
    from bench import driver

EXIT_FAILED = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(args_list)
    # tables stay readable when stderr is not a terminal (CI logs, pipes)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    try:
        code: int = args.handler(args, err, args_list)
    except KeyboardInterrupt:
        err.print(
            "[bold red]interrupted[/]: results measured so far are kept; labelled objects removed"
        )
        return signals.EXIT_INTERRUPTED
    except CrossdockError as e:
        print(f"crossdock: {e}", file=sys.stderr)  # plain: never wrapped or styled
        return e.exit_code
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossdock",
        description="Benchmark Linux containers against the native host: "
        "startup, file I/O, network.",
    )
    parser.add_argument("--version", action="version", version=f"crossdock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_run(sub)

    report = sub.add_parser("report", help="build the HTML comparison report")
    report.add_argument("inputs", nargs="*", type=Path, metavar="RESULTS")
    report.add_argument(
        "-o", "--output", type=Path, default=Path("reports/index.html"), metavar="FILE"
    )
    report.add_argument(
        "--latest",
        type=argtypes.latest,
        metavar="N|all",
        help="summarise each platform from its latest N runs, or all (default: 1; with "
        "--since: all since)",
    )
    report.add_argument(
        "--since",
        type=argtypes.iso_date,
        metavar="YYYY-MM-DD",
        help="summarise each platform from the runs started on or after this date (UTC)",
    )
    report.set_defaults(handler=_cmd_report)

    _add_compare(sub)

    detect = sub.add_parser("detect", help="classify the engine or a saved docker info/version")
    detect.add_argument("--from", dest="source", type=Path, metavar="FILE")
    detect.add_argument("--host-os", choices=("linux", "darwin", "windows"))
    detect.add_argument("--captured-in", choices=("wsl", "host"), help="where --from was taken")
    detect.add_argument("--context", metavar="NAME")
    detect.add_argument("--json", action="store_true")
    detect.set_defaults(handler=_cmd_detect)

    validate = sub.add_parser(
        "validate", help="the harness against the reference tools, side by side"
    )
    validate.add_argument(
        "--area", action="append", default=[], choices=("startup", "fileio", "network")
    )
    validate.add_argument(
        "--rounds", type=argtypes.positive, metavar="N",
        help="first rounds per area (default: startup 30, fileio 10, network 5)",
    )  # fmt: skip
    validate.add_argument(
        "--budget", type=argtypes.non_negative, metavar="S",
        help="no more rounds start after S seconds of measuring (default: 1800)",
    )  # fmt: skip
    validate.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    validate.add_argument("--context", metavar="NAME")
    validate.set_defaults(handler=_cmd_validate)

    export = sub.add_parser("export", help="results as pyperf JSON, CSV or a JSON summary")
    export.add_argument("inputs", nargs="*", type=Path, metavar="RESULTS")
    export.add_argument("--format", required=True, choices=("pyperf", "csv", "json"))
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    export.set_defaults(handler=_cmd_export)

    importer = sub.add_parser("import", help="store a pytest-benchmark JSON file as results")
    importer.add_argument("source", type=Path, metavar="FILE")
    importer.add_argument("--platform", choices=PLATFORM_IDS, metavar="ID")
    importer.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    importer.set_defaults(handler=_cmd_import)

    listing = sub.add_parser("list", help="the shipped scenarios and suites")
    listing.set_defaults(handler=_cmd_list)

    clean = sub.add_parser("clean", help="remove everything crossdock left in the engine")
    clean.add_argument("--run-id", metavar="ID", help="only this run's objects")
    clean.add_argument("--context", metavar="NAME")
    clean.set_defaults(handler=_cmd_clean)

    vm = sub.add_parser(
        "vm",
        help="crossdock's reference VM engine (Debian under QEMU): up, down, status",
        description="Docker Engine in a Debian VM on this Linux host, the work directory "
        "shared through virtiofs and <work directory>-alt through 9p, reached as docker "
        "context 'crossdock-vm'. Needs root, QEMU and mmdebstrap.",
    )
    vm.add_argument("action", choices=("up", "down", "status"))
    vm.add_argument("--rebuild", action="store_true", help="with up: build the image anew")
    vm.set_defaults(handler=_cmd_vm)
    return parser


def _add_run(sub: Any) -> None:
    """The ``run`` command's arguments."""
    run = sub.add_parser("run", help="run scenarios on the engine(s) and store the results")
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="names or .toml files")
    run.add_argument("--suite", choices=scenarios.SUITES, help="a shipped set (default: default)")
    run.add_argument("--repeat", type=argtypes.positive, metavar="N", help="samples per variant")
    run.add_argument(
        "--warmup", type=argtypes.non_negative, metavar="N", help="warmups per variant"
    )
    run.add_argument("--out", type=Path, default=Path("results"), metavar="DIR")
    run.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME",
        help="docker context to measure (repeatable)",
    )
    run.add_argument(
        "--allow-no-engine",
        action="store_true",
        help="without an engine, record the skip and run the native baselines",
    )
    run.add_argument(
        "--expect-platform",
        action="append",
        metavar="ID",
        choices=PLATFORM_IDS,
        help="fail (exit 3) unless the engine is this platform, e.g. linux-native; "
        "repeated, one per --context in the same order",
    )
    run.add_argument(
        "--target-ci",
        type=argtypes.percent,
        metavar="PERCENT",
        help="sample each variant until its median is known to within PERCENT (judged on "
        "its 99%% interval, so the stored 95%% one keeps its coverage)",
    )
    run.add_argument(
        "--max-repeat",
        type=argtypes.positive,
        default=200,
        metavar="N",
        help="with --target-ci: at most N samples per variant (default 200)",
    )
    run.add_argument(
        "--max-time",
        type=argtypes.positive,
        default=1800,
        metavar="SECONDS",
        help="with --target-ci: at most this long per scenario (default 1800)",
    )
    run.add_argument(
        "--resume",
        type=Path,
        metavar="RESULTS_FILE",
        help="complete a partial run without repeating the scenarios it stored",
    )
    run.set_defaults(handler=_cmd_run)


# --- commands ----------------------------------------------------------------------------------


def _add_compare(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``compare`` subcommand's arguments."""
    compare = sub.add_parser(
        "compare", help="compare two results files or folders, or the runs in one over time"
    )
    compare.add_argument("a", type=Path, nargs="?", metavar="A")
    compare.add_argument("b", type=Path, nargs="?", metavar="B")
    compare.add_argument(
        "--history",
        type=Path,
        metavar="DIR",
        help="each platform's runs over time: regressions between consecutive runs",
    )
    compare.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="with --history: exit 1 when a regression is called (for a CI gate)",
    )
    compare.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the rows (or, with --history, the calls and trends) as JSON to FILE "
        "(the table stays on stdout), or to stdout instead of the table when FILE is - "
        "or left out",
    )
    compare.set_defaults(handler=_cmd_compare)


def _cmd_run(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    from bench import console

    if args.resume is not None:
        if args.scenarios or args.suite or args.context or args.repeat or args.warmup:
            raise BadInputError(
                "--resume continues the recorded plan: give it alone (no scenarios, "
                "--suite, --context, --repeat or --warmup)"
            )
        with console.ProgressBar(err) as bar:
            files = [bench.resume(path=args.resume, argv=["crossdock", *argv], progress=bar)]
        return _print_runs(files, err)
    with console.ProgressBar(err) as bar:
        files = bench.run(
            scenarios=args.scenarios,
            suite=args.suite,
            repeat=args.repeat,
            warmup=args.warmup,
            out=args.out,
            contexts=args.context,
            allow_no_engine=args.allow_no_engine,
            expect_platform=args.expect_platform,
            target_ci=None if args.target_ci is None else args.target_ci / 100,
            max_repeat=args.max_repeat,
            max_time=args.max_time,
            argv=["crossdock", *argv],
            progress=bar,
            on_file=lambda p: bar.note(f"writing [bold]{p}[/]"),
        )
    return _print_runs(files, err)


def _warn(err: Console, text: str) -> None:
    """Say *text* on stderr as a warning (its brackets shown, not read as markup)."""
    err.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)


def _print_runs(files: list[driver.RunFile], err: Console) -> int:
    from bench import console
    from bench.analysis import cells

    for f in files:
        analysed = cells.analyse([f.document])  # once: the tables and the warnings read it
        err.print(console.summary_table(f.document))
        for table in console.slowdown_tables(f.document, analysed):
            err.print(table)
        for line in console.outcomes(f.document):
            err.print(f"[yellow]{escape(line)}", highlight=False)
        for warning in console.warnings(f.document, analysed):
            _warn(err, warning)
        print(f.path)
    return EXIT_FAILED if any(f.failed for f in files) else 0


def _cmd_report(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    # --since alone means every run since then; neither option, the latest run
    if args.latest is None:
        latest = None if args.since is not None else 1
    else:
        latest = None if args.latest == argtypes.ALL else args.latest
    info = bench.report(
        inputs=args.inputs or [Path("results")],
        output=args.output,
        latest=latest,
        since=args.since,
    )
    shown = 5
    for warning in info.warnings[:shown]:
        _warn(err, warning)
    if len(info.warnings) > shown:
        err.print(f"[yellow]… and {len(info.warnings) - shown} more warnings: see the report")
    err.print(f"{info.n_runs} runs, {info.n_samples} samples")
    print(info.output)
    return 0


def _cmd_compare(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    import warnings

    from bench.compare import render, to_json, write_json

    if args.history is not None:
        return _cmd_history(args, err)
    if args.fail_on_regression:
        raise BadInputError("--fail-on-regression goes with --history DIR")
    if args.a is None or args.b is None:
        raise BadInputError("compare needs two results files or folders, A and B, or --history DIR")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = bench.compare(a=args.a, b=args.b)
    for warning in caught:
        _warn(err, str(warning.message))
    if args.json is not None:
        if args.json == "-":
            print(json.dumps(to_json(rows, a=args.a, b=args.b), indent=1))
            return 0
        write_json(rows, a=args.a, b=args.b, output=Path(args.json))
        err.print(f"rows written to {escape(args.json)}")
    Console(width=None if sys.stdout.isatty() else 160).print(render(rows))
    return 0


def _cmd_history(args: argparse.Namespace, err: Console) -> int:
    import warnings

    from bench.regressions import render, to_json
    from bench.results import write_json

    if args.history is None or args.a is not None:
        raise BadInputError("--history DIR takes no A or B")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = bench.history(inputs=[args.history])
    for warning in caught:
        _warn(err, str(warning.message))
    status = EXIT_FAILED if args.fail_on_regression and found.called("regression") else 0
    if args.json == "-":
        print(json.dumps(to_json(found), indent=1))
        return status
    if args.json is not None:
        write_json(Path(args.json), to_json(found))
        err.print(f"calls and trends written to {escape(args.json)}")
    out = Console(width=None if sys.stdout.isatty() else 160)
    for part in render(found):
        out.print(part, highlight=False)
    return status


def _cmd_detect(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    record = bench.detect(
        source=args.source,
        host_os=args.host_os,
        captured_in=args.captured_in,
        context=args.context,
    )
    if args.json:
        print(json.dumps({"platform": record.to_json()}, indent=1))
    else:
        print(record.id)
        for reason in record.detection:
            print(f"  - {reason}")
    return 0


def _cmd_validate(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    from bench import console

    with console.ProgressBar(err) as bar:
        done, path = bench.validate(
            areas=args.area, rounds=args.rounds, budget=args.budget, out=args.out,
            context=args.context,
            argv=["crossdock", *argv], progress=bar,
        )  # fmt: skip
    comparisons = [c for v in done for c in v.comparisons]
    Console(width=None if sys.stdout.isatty() else 160).print(console.validation_table(comparisons))
    for v in done:
        if not v.comparisons:
            err.print(f"[yellow]{v.area}: nothing compared (reference tool missing on the host)")
    print(path)
    judged = [c for c in comparisons if c.verdict != "reported"]
    return 0 if judged and all(c.verdict == "pass" for c in judged) else EXIT_FAILED


def _cmd_export(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    export = {
        "pyperf": bench.export_pyperf,
        "csv": bench.export_csv,
        "json": bench.export_summary,
    }[args.format]
    info = export(inputs=args.inputs or [Path("results")], output=args.output)
    for note in info.skipped:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    err.print(f"{info.n_runs} runs, {info.n_values} values")
    print(info.output)
    return 0


def _cmd_import(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    path = bench.import_pytest_benchmark(
        source=args.source,
        out=args.out,
        platform=args.platform,
        on_warning=lambda text: _warn(err, text),
    )
    print(path)
    return 0


def _cmd_list(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    out = Console()
    for name, suite in scenarios.load_suites().items():
        out.print(f"[bold]suite {name}[/]: {', '.join(suite.scenarios)}")
        out.print(f"  {suite.description}", highlight=False)
    for name, path in scenarios.available().items():
        scenario = scenarios.load(path)
        out.print(
            f"\n[bold]{name}[/] ({scenario.kind}, {scenario.repetitions} samples, "
            f"{scenario.warmups} warmups): {scenario.description}",
            highlight=False,
        )
        for variant in scenario.variants:
            out.print(f"  - {variant.label(scenario.varying) or 'single variant'}", highlight=False)
    return 0


def _cmd_clean(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    removed = bench.clean(run_id=args.run_id, context=args.context)
    print(", ".join(f"{n} {kind}" for kind, n in removed.items()) + " removed")
    return 0


def _cmd_vm(args: argparse.Namespace, err: Console, argv: list[str]) -> int:
    from bench.vm import machine  # only this command needs it

    def progress(text: str) -> None:
        err.print(f"crossdock-vm: {escape(text)}", highlight=False)

    if args.action == "up":
        machine.up(progress, rebuild=args.rebuild)
        return 0
    if args.action == "down":
        stopped = machine.down(progress)
        progress(f"stopped {', '.join(stopped)}" if stopped else "was not running")
        return 0
    status = machine.status()
    print("\n".join(status.lines()))
    return 0 if status.up else 3
