"""Interoperability: results out to pyperf and CSV, pytest-benchmark JSON in.

One function per format, keyword-only, each raising :class:`~bench.errors.BadInputError`
(exit 2) for inputs it cannot use; only the CLI prints.

- :func:`export_pyperf`: a pyperf ``BenchmarkSuite`` JSON file that ``python -m pyperf
  stats`` and ``python -m pyperf compare_to`` read;
- :func:`export_csv`: the tidy samples table of :func:`bench.analysis.frame.load_frame`;
- :func:`import_pytest_benchmark`: a pytest-benchmark JSON file as a schema-v1 results file.

Exports are strict where the report is lenient: every file named must load, because an
exported file travels without the warnings, and a comparison that silently lost an input
would pass for a whole one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyperf

from bench import __version__
from bench.analysis.frame import PARAM_PREFIX, LoadedFrame, load_frame, variant_label
from bench.environment import host
from bench.environment.platform import FAMILIES, HOST_OSES, PLATFORM_IDS, Platform
from bench.errors import BadInputError, ResultsWriteError
from bench.metrics import METRICS, Direction, metric
from bench.results import Metric, Result, RunDocument, result_path, write_atomic


@dataclass(frozen=True)
class ExportInfo:
    """What an export wrote: the file, how many runs (results files) and sample values it
    holds, the pyperf benchmark names in file order (empty for CSV), and one line per kind
    of data left out, saying what and why."""

    output: Path
    n_runs: int
    n_values: int
    benchmarks: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


# --- pyperf ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyperfUnit:
    """How the samples of one crossdock unit become pyperf values.

    pyperf knows three units (its ``unit`` metadata: ``second``, ``byte``, ``integer``)
    and reads every value as lower-is-better: ``compare_to`` calls a larger mean
    "slower". So only metrics whose *direction* fits are exported; rates, where higher is
    better, go as their reciprocal (``invert``): time per unit of work, which is what
    ``meaning`` says one exported value is.
    """

    pyperf_unit: str
    direction: Direction
    invert: bool
    meaning: str


#: crossdock unit -> its pyperf mapping. Units absent here (``%``, ``1``: shares and
#: counts) have no lower-is-better pyperf reading and are left out.
PYPERF_UNITS: dict[str, PyperfUnit] = {
    "s": PyperfUnit("second", "lower", invert=False, meaning="seconds"),
    "B/s": PyperfUnit("second", "higher", invert=True, meaning="seconds per byte (1 / B/s)"),
    "bit/s": PyperfUnit("second", "higher", invert=True, meaning="seconds per bit (1 / bit/s)"),
    "op/s": PyperfUnit("second", "higher", invert=True, meaning="seconds per operation (1 / op/s)"),
    "B": PyperfUnit("byte", "lower", invert=False, meaning="bytes"),
}


def benchmark_name(result: Result, measured: Metric) -> str:
    """The pyperf benchmark name of one metric of one result:
    ``scenario[variant label].metric``, e.g.
    ``"startup[mount=bind, network=bridge, runtime=container].end_to_end"``.

    The label is :func:`bench.analysis.frame.variant_label` (parameters sorted by name), the one the
    report and ``crossdock compare`` show, so the name is the same in every run of the
    scenario and ``pyperf compare_to`` pairs the benchmarks of two files by it.
    """
    return f"{result.scenario}[{variant_label(result.variant)}].{measured.name}"


def export_pyperf(*, inputs: Sequence[Path], output: Path) -> ExportInfo:
    """Write the ``ok`` results of *inputs* (results files or folders) as one pyperf
    ``BenchmarkSuite`` JSON file at *output* (``.json``, or ``.json.gz`` compressed).

    Contract, following pyperf's data model (pyperf docs, "API" and "JSON format"):

    - one pyperf ``Benchmark`` per (scenario, variant, metric), named by
      :func:`benchmark_name`;
    - one pyperf ``Run`` per crossdock sample, holding that one value. A pyperf run is
      one independent worker process; a crossdock sample is one independent repetition
      (a fresh container, a fresh fio job), so this keeps pyperf's "number of runs" true
      and lets ``pyperf stats`` estimate the processes needed from the spread between
      runs. ``stats`` and ``compare_to`` (mean, standard deviation, Student's t-test)
      pool the values of all runs, so they see exactly the crossdock samples;
    - values follow :data:`PYPERF_UNITS`: times in seconds as they are; rates (``B/s``,
      ``bit/s``, ``op/s``, higher is better) as 1/value, seconds per byte, bit or
      operation, so that lower is better as pyperf assumes; sizes in bytes as they are.
      Metrics in ``%`` or ``1``, with a direction the mapping does not expect, or with a
      sample of 0 or less (pyperf requires values > 0) are left out and listed in
      :attr:`ExportInfo.skipped`. (pyperf's "Total duration" sums the values, so for
      rates it is no wall time);
    - metadata: pyperf's ``name``, ``unit`` and ``date`` (the run's start) and
      ``description`` (from :data:`bench.metrics.METRICS`), and ``crossdock_platform``,
      ``crossdock_run_id``, ``crossdock_harness_version``, ``crossdock_scenario``,
      ``crossdock_variant``, ``crossdock_metric``, ``crossdock_unit`` (the stored unit),
      ``crossdock_direction`` and ``crossdock_values`` (what one value is).

    ``compare_to`` compares files, pairing benchmarks by name, so one file holds one
    platform: inputs from several platforms are refused with a :class:`BadInputError`
    naming them (export each platform to its own file, then ``pyperf compare_to
    linux.json mac.json``). Several runs of the same platform merge: their samples become
    more runs of the same benchmarks, as ``pyperf`` itself appends runs.

    Raises :class:`BadInputError` for unreadable inputs, mixed platforms, and inputs with
    nothing exportable; :class:`ResultsWriteError` when *output* cannot be written.
    """
    loaded = _load_strict(inputs)
    _single_platform(loaded.documents)
    runs: dict[str, list[Any]] = {}
    left_out: Counter[str] = Counter()
    for document, result in _ok_results(loaded.documents):
        for measured in result.metrics:
            reason = _pyperf_refusal(measured)
            if reason is not None:
                left_out[reason] += 1
                continue
            name = benchmark_name(result, measured)
            runs.setdefault(name, []).extend(_pyperf_runs(name, document, result, measured))
    skipped = (*_not_ok_note(loaded), *(f"{r} ({n} series)" for r, n in left_out.items()))
    if not runs:
        raise BadInputError(f"nothing to export to pyperf: {'; '.join(skipped) or 'no samples'}")
    suite = pyperf.BenchmarkSuite([pyperf.Benchmark(r) for r in runs.values()])
    with _writing(output):
        suite.dump(str(output), replace=True)
    return ExportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_values=sum(len(r) for r in runs.values()),
        benchmarks=tuple(runs),
        skipped=skipped,
    )


def _single_platform(documents: Sequence[tuple[Path, RunDocument]]) -> None:
    files: dict[str, list[str]] = {}
    for path, document in documents:
        files.setdefault(str(document.platform["id"]), []).append(str(path))
    if len(files) > 1:
        listed = "; ".join(f"{pid} ({', '.join(paths)})" for pid, paths in files.items())
        raise BadInputError(
            f"a pyperf file holds one platform, but these inputs mix {len(files)}: {listed}. "
            "pyperf compare_to pairs benchmarks by name across files: export each platform "
            "to its own file and compare the files"
        )


def _pyperf_refusal(measured: Metric) -> str | None:
    """Why *measured* cannot be a pyperf benchmark, or None when it can."""
    mapping = PYPERF_UNITS.get(measured.unit)
    if mapping is None:
        return (
            f"{measured.name} (unit {measured.unit!r}) left out: pyperf values are times "
            "or sizes, lower is better, and a share or a count is neither"
        )
    if measured.direction != mapping.direction:
        return (
            f"{measured.name} (unit {measured.unit!r}, {measured.direction} is better) left "
            f"out: exported {mapping.meaning}, pyperf would read it the wrong way round"
        )
    if not measured.samples or min(measured.samples) <= 0:
        return f"{measured.name} left out where a sample is 0 or less: pyperf values are > 0"
    return None


def _pyperf_runs(name: str, document: RunDocument, result: Result, measured: Metric) -> list[Any]:
    """One ``pyperf.Run`` per sample, with the metadata :func:`export_pyperf` lists."""
    mapping = PYPERF_UNITS[measured.unit]
    definition = METRICS.get(measured.name)
    metadata = _present(
        name=name,
        unit=mapping.pyperf_unit,
        date=_pyperf_date(document.run.get("started_at")),
        description=definition.description if definition else None,
        crossdock_platform=document.platform["id"],
        crossdock_run_id=document.run["id"],
        crossdock_harness_version=document.run["harness_version"],
        crossdock_scenario=result.scenario,
        crossdock_variant=variant_label(result.variant),
        crossdock_metric=measured.name,
        crossdock_unit=measured.unit,
        crossdock_direction=measured.direction,
        crossdock_values=mapping.meaning,
    )
    values = [1.0 / s if mapping.invert else s for s in measured.samples]
    try:
        return [pyperf.Run([v], metadata=metadata, collect_metadata=False) for v in values]
    except ValueError as e:  # pyperf's metadata rules: no newlines, no empty values
        raise BadInputError(f"{name}: pyperf refused its metadata ({e})") from None


def _present(**metadata: Any) -> dict[str, str | int | float]:
    """*metadata* without empty values (pyperf rejects them), numbers kept, rest as text."""
    return {
        key: value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        for key, value in metadata.items()
        if value is not None and value != ""
    }


def _pyperf_date(started_at: Any) -> str | None:
    """A run's start as pyperf writes its ``date`` metadata, ``YYYY-MM-DD HH:MM:SS``
    without a zone (here UTC: pyperf compares the dates of all runs, and aware and naive
    times do not compare), or None when it is not an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(str(started_at))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


# --- CSV ---------------------------------------------------------------------------------


def export_csv(*, inputs: Sequence[Path], output: Path) -> ExportInfo:
    """Write the samples table of :func:`bench.analysis.frame.load_frame` for *inputs* to *output*
    as CSV: UTF-8, a header row with :data:`bench.analysis.frame.SAMPLE_COLUMNS` then one
    ``v_<param>`` column per variant parameter, one row per raw sample of every ``ok``
    result, ``\\n`` line ends, no index column. A parameter a variant lacks is empty,
    whole-number parameters are written without a fraction, booleans as ``True`` and
    ``False``; values are written to full precision (they read back equal).

    Raises :class:`BadInputError` for unreadable inputs, :class:`ResultsWriteError` when
    *output* cannot be written.
    """
    loaded = _load_strict(inputs)
    with _writing(output):
        _csv_table(loaded.samples).to_csv(
            output, index=False, encoding="utf-8", lineterminator="\n"
        )
    return ExportInfo(
        output=output,
        n_runs=len(loaded.documents),
        n_values=len(loaded.samples),
        skipped=_not_ok_note(loaded),
    )


def _csv_table(samples: pd.DataFrame) -> pd.DataFrame:
    """*samples* with the ``v_`` columns in pandas' nullable types: a whole-number
    parameter that some variants lack is written ``4``, not the ``4.0`` of the float
    column a missing value turns it into."""
    params = [c for c in samples.columns if c.startswith(PARAM_PREFIX)]
    table = samples.copy()
    table[params] = samples[params].convert_dtypes()
    return table


# --- shared by the exports ---------------------------------------------------------------


def _load_strict(inputs: Sequence[Path]) -> LoadedFrame:
    """:func:`load_frame`, except that a file it would skip is an error here."""
    if not inputs:
        raise BadInputError("nothing to export: name results files or folders")
    loaded = load_frame(inputs)
    if loaded.warnings:
        raise BadInputError("cannot export every input: " + "; ".join(loaded.warnings))
    if not loaded.documents:
        raise BadInputError(f"no results files in {', '.join(str(p) for p in inputs)}")
    return loaded


def _ok_results(
    documents: Sequence[tuple[Path, RunDocument]],
) -> Iterator[tuple[RunDocument, Result]]:
    """The results with samples, as :attr:`LoadedFrame.samples` holds them: ``ok`` only."""
    for _, document in documents:
        for result in document.results:
            if result.status == "ok":
                yield document, result


def _not_ok_note(loaded: LoadedFrame) -> tuple[str, ...]:
    not_ok = int((loaded.outcomes["status"] != "ok").sum())
    if not not_ok:
        return ()
    return (f"{not_ok} skipped or failed results have no samples; the report lists why",)


@contextmanager
def _writing(output: Path) -> Iterator[None]:
    """Create *output*'s folder; a failure to write becomes a :class:`ResultsWriteError`."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as e:
        raise ResultsWriteError(f"{output}: cannot write ({e.strerror})") from None


# --- pytest-benchmark --------------------------------------------------------------------

#: The scenario name of every imported pytest-benchmark result.
PYTEST_BENCHMARK_SCENARIO = "pytest-benchmark"

_SAVE_DATA_HELP = (
    "pytest-benchmark writes them with --benchmark-json=PATH, and with --benchmark-save "
    "or --benchmark-autosave only when --benchmark-save-data is given: re-run with "
    "--benchmark-save-data"
)


def import_pytest_benchmark(*, source: Path, out: Path, platform: str | None = None) -> Path:
    """Store the pytest-benchmark JSON file *source* as a schema-v1 results file under
    *out* (``<out>/<platform>/<run id>.json``, DESIGN 3.2); return its path.

    Mapping: one ``ok`` result per benchmark, kind ``command``, scenario
    :data:`PYTEST_BENCHMARK_SCENARIO`, variant ``{"benchmark": fullname}`` plus
    ``"group"`` when the benchmark has one (no ``target``: where the code ran is not
    recorded, so it is no native baseline); one metric ``command`` (s, lower) whose
    samples are ``stats.data``, pytest-benchmark's raw per-round times divided by the
    round's iterations, i.e. seconds per call; ``name``, ``params``, ``extra_info``,
    ``iterations`` and ``rounds`` go to ``extra``. ``host`` comes from ``machine_info``
    (the host name only as its hash, as crossdock stores its own; memory is not
    recorded), ``engine`` has every key unknown, ``platform`` is *platform* (one of
    :data:`bench.environment.platform.PLATFORM_IDS`) or ``unknown``, with the reason. The run id is
    the file's ``datetime`` plus a hash of its bytes, so importing a file again writes the
    same path and the report never counts it twice.

    Raises :class:`BadInputError` for an unknown *platform*, an unreadable or foreign
    file, and benchmarks without raw timings (saved without ``--benchmark-save-data``).
    """
    platform_id = _platform_id(platform)
    raw = _read_bytes(source)
    data = _pytest_benchmark_json(raw, source)
    benchmarks = _benchmarks_with_data(data, source)
    saved_at = _saved_at(data, source)
    run_id = f"{saved_at:%Y%m%dT%H%M%SZ}-{hashlib.sha256(raw).hexdigest()[:6]}"
    machine = _mapping(data.get("machine_info"))
    tool = {"name": "pytest-benchmark", "version": str(data.get("version", "unknown"))}
    try:
        document = RunDocument(
            run=_imported_run(run_id, saved_at, source, platform, _mapping(data["commit_info"])),
            host=_imported_host(machine),
            engine=_no_engine(),
            platform=_imported_platform(platform_id, machine, source).to_json(),
            results=tuple(_imported_result(b, tool) for b in benchmarks),
        )
        path = result_path(out, platform_id, run_id)
        write_atomic(path, document)
    except (ValueError, TypeError) as e:  # a value that is no finite number, say
        raise BadInputError(f"{source}: cannot be stored as a results file ({e})") from None
    return path


def _platform_id(platform: str | None) -> str:
    if platform is None:
        return "unknown"
    if platform not in PLATFORM_IDS:
        raise BadInputError(f"unknown platform {platform!r} (valid: {', '.join(PLATFORM_IDS)})")
    return platform


def _read_bytes(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except OSError as e:
        raise BadInputError(f"{source}: cannot read ({e.strerror})") from None


def _pytest_benchmark_json(raw: bytes, source: Path) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInputError(f"{source}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise BadInputError(f"{source}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    data.setdefault("commit_info", {})
    return data


def _benchmarks_with_data(data: Mapping[str, Any], source: Path) -> list[Mapping[str, Any]]:
    """The file's benchmarks, each with its raw timings; refuses the file when any lacks
    them, rather than importing a part of it."""
    benchmarks = [_mapping(b) for b in data["benchmarks"]]
    if not benchmarks:
        raise BadInputError(f"{source}: no benchmarks in the file (all skipped or errored?)")
    lacking = [str(b.get("fullname", "?")) for b in benchmarks if not _raw_timings(b)]
    if lacking:
        more = f" and {len(lacking) - 3} more" if len(lacking) > 3 else ""
        raise BadInputError(
            f"{source}: {len(lacking)} of {len(benchmarks)} benchmarks have no raw timings "
            f"(stats.data), only summary statistics: {', '.join(lacking[:3])}{more}. "
            f"{_SAVE_DATA_HELP}"
        )
    return benchmarks


def _raw_timings(benchmark: Mapping[str, Any]) -> list[Any]:
    data = _mapping(benchmark.get("stats")).get("data")
    return data if isinstance(data, list) else []


def _saved_at(data: Mapping[str, Any], source: Path) -> datetime:
    """When pytest-benchmark wrote the file (its ``datetime``, UTC; pytest-benchmark
    before 4.0 wrote a naive UTC time)."""
    try:
        moment = datetime.fromisoformat(str(data["datetime"]))
    except (KeyError, ValueError):
        raise BadInputError(
            f"{source}: no valid 'datetime' (ISO 8601), which pytest-benchmark always writes"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _imported_run(
    run_id: str,
    saved_at: datetime,
    source: Path,
    platform: str | None,
    commit: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``run`` section. pytest-benchmark records one time, when it saved the file,
    so the run starts and finishes then; ``argv`` is the import command."""
    when = saved_at.isoformat(timespec="seconds")
    stated = ["--platform", platform] if platform else []
    return {
        "id": run_id,
        "started_at": when,
        "finished_at": when,
        "harness_version": __version__,
        "argv": ["crossdock", "import", str(source), *stated],
        "status": "complete",
        "imported_from": "pytest-benchmark",
        "commit": commit.get("id"),
        "branch": commit.get("branch"),
        "dirty": commit.get("dirty"),
        "project": commit.get("project"),
    }


def _imported_host(machine: Mapping[str, Any]) -> dict[str, Any]:
    """The ``host`` section from pytest-benchmark's ``machine_info`` (``platform`` module
    facts and py-cpuinfo's ``cpu``)."""
    cpu = _mapping(machine.get("cpu"))
    node = machine.get("node")
    system, release = machine.get("system"), machine.get("release")
    return {
        "os": str(system).lower() if system else None,
        "os_version": " ".join(str(p) for p in (system, release) if p) or None,
        "kernel": release,
        "arch": machine.get("machine") or cpu.get("arch_string_raw"),
        "cpu_model": cpu.get("brand_raw") or machine.get("processor") or None,
        "cpu_count": cpu.get("count"),
        "memory_bytes": None,  # not in machine_info
        # the same hash as bench.environment.host.host_id: a results file never names its machine
        "hostname_hash": host.hash_hostname(str(node)) if node else None,
        "python": machine.get("python_version"),
        "python_implementation": machine.get("python_implementation"),
    }


def _no_engine() -> dict[str, Any]:
    """The ``engine`` section of a run no engine took part in, as a run without one has."""
    from bench.environment.records import engine_record  # docker SDK on import only

    return engine_record(None)


def _imported_platform(platform_id: str, machine: Mapping[str, Any], source: Path) -> Platform:
    system = str(machine.get("system", "")).lower()
    if system not in HOST_OSES:
        raise BadInputError(
            f"{source}: machine_info.system {machine.get('system')!r} is no host OS crossdock "
            f"knows (valid: {', '.join(HOST_OSES)})"
        )
    detection = ["imported from pytest-benchmark"]
    if platform_id != "unknown":
        detection.append(f"platform {platform_id!r} stated at import, not detected")
    return Platform(
        id=platform_id,
        family=FAMILIES[platform_id],
        host_os=system,
        vm=None,
        file_sharing=None,
        detection=tuple(detection),
    )


def _imported_result(benchmark: Mapping[str, Any], tool: Mapping[str, str]) -> Result:
    stats = _mapping(benchmark.get("stats"))
    variant: dict[str, str] = {"benchmark": str(benchmark.get("fullname") or benchmark["name"])}
    if benchmark.get("group"):
        variant["group"] = str(benchmark["group"])
    definition = metric("command")
    return Result(
        scenario=PYTEST_BENCHMARK_SCENARIO,
        kind="command",
        variant=variant,
        status="ok",
        metrics=(
            Metric(
                name=definition.name,
                unit=definition.unit,
                direction=definition.direction,
                samples=tuple(float(v) for v in _raw_timings(benchmark)),
            ),
        ),
        tool=tool,
        extra={
            "name": benchmark.get("name"),
            "params": benchmark.get("params"),
            "extra_info": benchmark.get("extra_info") or {},
            "iterations": stats.get("iterations"),
            "rounds": stats.get("rounds"),
        },
    )
