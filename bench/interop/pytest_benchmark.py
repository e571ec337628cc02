"""pytest-benchmark JSON in: a pytest-benchmark file stored as a schema-v1 results file
(:func:`import_pytest_benchmark`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.environment import host
from bench.environment.platform import FAMILIES, HOST_OSES, PLATFORM_IDS, Platform
from bench.errors import BadInputError
from bench.results import Metric, Result, RunDocument, result_path, write_atomic
from bench.version import __version__

#: The scenario name of every imported pytest-benchmark result.
PYTEST_BENCHMARK_SCENARIO = "pytest-benchmark"

_SAVE_DATA_HELP = (
    "pytest-benchmark writes them with --benchmark-json=PATH, and with --benchmark-save "
    "or --benchmark-autosave only when --benchmark-save-data is given: re-run with "
    "--benchmark-save-data"
)


def import_pytest_benchmark(
    *,
    source: Path,
    out: Path,
    platform: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Path:
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

    A *platform* that ``machine_info`` contradicts (:func:`contradiction`) is stored as
    stated, with the contradiction in ``platform.detection`` and told to *on_warning*.

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
    conflict = contradiction(platform_id, machine)
    if conflict and on_warning is not None:
        on_warning(f"{source}: {conflict}")
    try:
        document = RunDocument(
            run=_imported_run(run_id, saved_at, source, platform, _mapping(data["commit_info"])),
            host=_imported_host(machine),
            engine=_no_engine(),
            platform=_imported_platform(platform_id, machine, source, conflict).to_json(),
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


def _imported_platform(
    platform_id: str, machine: Mapping[str, Any], source: Path, conflict: str | None
) -> Platform:
    system = str(machine.get("system", "")).lower()
    if system not in HOST_OSES:
        raise BadInputError(
            f"{source}: machine_info.system {machine.get('system')!r} is no host OS crossdock "
            f"knows (valid: {', '.join(HOST_OSES)})"
        )
    detection = ["imported from pytest-benchmark"]
    if platform_id != "unknown":
        detection.append(f"platform {platform_id!r} stated at import, not detected")
    if conflict:
        detection.append(conflict)
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
    return Result(
        scenario=PYTEST_BENCHMARK_SCENARIO,
        kind="command",
        variant=variant,
        status="ok",
        metrics=(Metric.of("command", (float(v) for v in _raw_timings(benchmark))),),
        tool=tool,
        extra={
            "name": benchmark.get("name"),
            "params": benchmark.get("params"),
            "extra_info": benchmark.get("extra_info") or {},
            "iterations": stats.get("iterations"),
            "rounds": stats.get("rounds"),
        },
    )


_DESKTOP = (
    "docker-desktop-linux",
    "docker-desktop-mac",
    "docker-desktop-windows-wsl2",
    "docker-desktop-windows-hyperv",
    "docker-desktop-windows",
)
_ON_WINDOWS = (
    "docker-desktop-windows-wsl2",
    "docker-desktop-windows-hyperv",
    "docker-desktop-windows",
    "wsl2-engine",
    "rancher-desktop",
    "podman",
)

#: What ``machine_info`` shows -> the platforms that are consistent with it. The first
#: row that matches decides; a benchmark run natively on macOS or Windows ran on the host
#: of a VM-backed product at most, one run on Linux ran in the kernel it names.
_CONSISTENT: tuple[tuple[str, Callable[[str, str], bool], tuple[str, ...]], ...] = (
    (
        "ran on macOS",
        lambda system, _: system == "darwin",
        ("docker-desktop-mac", "colima", "lima", "orbstack", "rancher-desktop", "podman"),
    ),
    (
        "ran on Windows",
        lambda system, _: system == "windows",
        (*_ON_WINDOWS, "windows-containers"),
    ),
    (
        "ran in a WSL2 kernel",
        lambda system, release: system == "linux" and "microsoft" in release.lower(),
        _ON_WINDOWS,
    ),
    (
        "ran in a LinuxKit kernel (Docker Desktop's VM)",
        lambda system, release: system == "linux" and "linuxkit" in release,
        _DESKTOP,
    ),
    (
        "ran in a Linux kernel that is neither LinuxKit nor WSL2's",
        lambda system, _: system == "linux",
        tuple(p for p in PLATFORM_IDS if p not in (*_DESKTOP, "wsl2-engine", "windows-containers")),
    ),
)


def contradiction(platform_id: str, machine: Mapping[str, Any]) -> str | None:
    """Why ``machine_info`` (``system`` and kernel ``release``) says the benchmarks did not
    run on *platform_id*, or ``None`` when it agrees or cannot tell."""
    if platform_id == "unknown":
        return None
    system = str(machine.get("system", "")).lower()
    release = str(machine.get("release", ""))
    for meaning, holds, consistent in _CONSISTENT:
        if holds(system, release):
            if platform_id in consistent:
                return None
            return (
                f"machine_info ({machine.get('system')} {release}) says the benchmarks "
                f"{meaning}, which contradicts the stated platform {platform_id!r} "
                f"(consistent: {', '.join(consistent)})"
            )
    return None
