"""Synthetic results files shaped like real runs, for the performance suite.

Every document is built through :mod:`bench.results` (``RunDocument``, ``Result``,
``Metric``) and written with :func:`bench.results.write_atomic`, so it passes the same
validation as a real run and has the same layout on disk
(``<root>/<platform-id>/<run-id>.json``). Each is marked as synthetic where a reader of the
file or the report sees it: ``host.os_version`` is :data:`SYNTHETIC`, the run id starts
with ``synthetic-`` and ``run.argv`` names this module.

The shape of one file (:data:`SCENARIOS`), about a thousand samples in 18 results: the
startup scenario (the native baseline and three container variants, 30 repetitions, six
phase metrics), a file I/O scenario (four targets times two fio jobs, 10 repetitions,
three metrics, plus the ``bind-windows`` target recorded as skipped, as on a host that is
not Windows) and a network scenario (five paths, 10 repetitions, three iperf3 metrics).
Files cycle through :data:`PLATFORMS`, so any ten consecutive files hold every platform
twice. Samples are log-normal around per-platform medians from a generator seeded with the
file's index: the same index always gives the same file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import workloads
from bench.metrics import metric
from bench.plan import Scalar
from bench.provision import cache
from bench.results import Metric, Result, RunDocument, result_path, write_atomic

#: What marks a synthetic file: its ``host.os_version``.
SYNTHETIC = "synthetic perf data"


@dataclass(frozen=True)
class PlatformShape:
    """A platform as the synthetic files show it: its record, and how much slower than
    native its containers start, read and write shared files, and move network data."""

    id: str
    family: str
    host_os: str
    vm: str | None
    file_sharing: str
    startup: float
    sharing: float
    network: float


PLATFORMS: tuple[PlatformShape, ...] = (
    PlatformShape("linux-native", "linux", "linux", None, "ext4", 1.0, 1.0, 1.1),
    PlatformShape(
        "docker-desktop-mac", "docker-desktop", "darwin", "linuxkit", "virtiofs", 1.6, 3.0, 2.5
    ),
    PlatformShape(
        "docker-desktop-windows-wsl2", "docker-desktop", "windows", "wsl2", "9p", 1.4, 8.0, 2.0
    ),
    PlatformShape("colima", "colima", "darwin", "lima", "virtiofs", 1.8, 3.5, 2.8),
    PlatformShape("orbstack", "orbstack", "darwin", "orbstack", "virtiofs", 1.2, 1.8, 1.6),
)


@dataclass(frozen=True)
class ScenarioShape:
    """One scenario of a synthetic run: its variants (overrides of the kind's parameter
    defaults), which of them are skipped, the metrics each container variant records and
    the native baseline records, and the platform slowdown that applies to its container
    variants (a :class:`PlatformShape` field name)."""

    name: str
    kind: str
    repetitions: int
    variants: tuple[Mapping[str, Scalar], ...]
    metrics: tuple[str, ...]
    native_metrics: tuple[str, ...]
    slowdown: str
    skipped: tuple[Mapping[str, Scalar], ...] = ()


_STARTUP_PHASES = ("create", "start", "run_to_exit", "remove", "end_to_end", "cli_run_rm")
_FIO_JOBS = ("seq-read", "rand-write")
_NETWORK_PATHS = ("native-loopback", "container-loopback", "bridge", "published-port", "to-host")

SCENARIOS: tuple[ScenarioShape, ...] = (
    ScenarioShape(
        name="startup",
        kind="startup",
        repetitions=30,
        variants=(
            {"runtime": "native"},
            {"network": "none"},
            {"network": "bridge"},
            {"network": "bridge", "mount": "bind"},
        ),
        metrics=_STARTUP_PHASES,
        native_metrics=("end_to_end",),
        slowdown="startup",
    ),
    ScenarioShape(
        name="fileio",
        kind="fileio",
        repetitions=10,
        variants=tuple(
            {"target": target, "workload": job}
            for target in ("native", "bind", "volume", "container")
            for job in _FIO_JOBS
        ),
        metrics=("bandwidth", "iops", "lat_p99"),
        native_metrics=("bandwidth", "iops", "lat_p99"),
        slowdown="sharing",
        skipped=tuple({"target": "bind-windows", "workload": job} for job in _FIO_JOBS),
    ),
    ScenarioShape(
        name="network",
        kind="network",
        repetitions=10,
        variants=tuple({"path": path} for path in _NETWORK_PATHS),
        metrics=("bitrate", "retransmits", "sender_cpu"),
        native_metrics=("bitrate", "retransmits", "sender_cpu"),
        slowdown="network",
    ),
)

#: Native medians of each metric, in its SI unit (startup's native end_to_end is a spawn).
MEDIANS: dict[str, float] = {
    "create": 0.030,
    "start": 0.120,
    "run_to_exit": 0.020,
    "remove": 0.030,
    "end_to_end": 0.250,
    "cli_run_rm": 0.450,
    "bandwidth": 2.0e9,
    "iops": 2.0e5,
    "lat_p99": 2.0e-4,
    "bitrate": 4.0e10,
    "retransmits": 3.0,
    "sender_cpu": 60.0,
}
_NATIVE_SPAWN = 0.002

_TOOLS: dict[str, dict[str, str]] = {
    "startup": {"name": "docker-engine-api", "version": "1.45"},
    "fileio": {"name": "fio", "version": "fio-3.36"},
    "network": {"name": "iperf3", "version": "iperf 3.16"},
}


def _variant(kind: str, overrides: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """Every parameter of *kind* (its defaults), with *overrides*: what a real run stores."""
    params = workloads.get(kind).params
    return {**{name: spec.default for name, spec in params.items()}, **overrides}


def _is_native(variant: Mapping[str, Scalar]) -> bool:
    return any(
        variant.get(key) == value
        for key, value in (("runtime", "native"), ("target", "native"), ("path", "native-loopback"))
    )


def _samples(rng: np.random.Generator, median: float, n: int) -> tuple[float, ...]:
    return tuple(float(x) for x in median * rng.lognormal(0.0, 0.08, n))


def _metric(rng: np.random.Generator, name: str, median: float, n: int) -> Metric:
    return Metric.of(name, _samples(rng, median, n))


def _results(
    rng: np.random.Generator, shape: ScenarioShape, platform: PlatformShape
) -> list[Result]:
    slowdown = float(getattr(platform, shape.slowdown))
    out = []
    for i, overrides in enumerate(shape.variants):
        variant = _variant(shape.kind, overrides)
        native = _is_native(variant)
        metrics = []
        for name in shape.native_metrics if native else shape.metrics:
            if native:
                median = _NATIVE_SPAWN if shape.kind == "startup" else MEDIANS[name]
            else:
                worse = slowdown * (1 + 0.15 * i)
                lower = metric(name).direction == "lower"
                median = MEDIANS[name] * (worse if lower else 1 / worse)
            metrics.append(_metric(rng, name, median, shape.repetitions))
        out.append(
            Result(
                scenario=shape.name,
                kind=shape.kind,
                variant=variant,
                status="ok",
                metrics=tuple(metrics),
                tool=_TOOLS[shape.kind],
                extra={
                    "repetitions": shape.repetitions,
                    "warmups": 1,
                    **_conditions(variant, platform),
                },
            )
        )
    out.extend(
        Result(
            scenario=shape.name,
            kind=shape.kind,
            variant=_variant(shape.kind, overrides),
            status="skipped",
            reason="bind-windows needs a Windows host (C:\\ through the engine's file sharing)",
        )
        for overrides in shape.skipped
    )
    return out


def _conditions(variant: Mapping[str, Scalar], platform: PlatformShape) -> dict[str, Any]:
    """The conditions a real result of *variant* records (what the report lists under each
    scenario): cache state, and per kind the filesystem, direct I/O or userland proxy."""
    if "target" in variant:
        target = str(variant["target"])
        direct = target != "tmpfs"
        fs_type = {"bind": platform.file_sharing, "container": "overlay", "tmpfs": "tmpfs"}
        return {
            "fs_type": fs_type.get(target, "ext4"),
            "direct": direct,
            "cache": cache.fileio_state(str(variant["workload"]), direct),
        }
    if "path" in variant:
        return {"userland_proxy": {"setting": "enabled", "how": "docker-proxy serves the port"}}
    return {"cache": cache.WARM}


def run_id(index: int) -> str:
    """The run id of synthetic file *index*: sortable, unique and marked as synthetic."""
    return f"synthetic-{index:05d}"


def document(index: int, *, results: Sequence[Result] | None = None) -> RunDocument:
    """Synthetic run *index*: on platform ``PLATFORMS[index % len(PLATFORMS)]``, holding
    *results* (by default the :data:`SCENARIOS`, seeded with *index*)."""
    platform = PLATFORMS[index % len(PLATFORMS)]
    if results is None:
        rng = np.random.default_rng(index)
        results = [r for shape in SCENARIOS for r in _results(rng, shape, platform)]
    return RunDocument(
        run={
            "id": run_id(index),
            "started_at": "2026-11-01T10:00:00Z",
            "finished_at": "2026-11-01T10:25:00Z",
            "harness_version": "0.1.0",
            "argv": ["python", "-m", "perf.synthetic"],
            "status": "complete",
            "context": None,
        },
        host={
            "os": platform.host_os,
            "os_version": SYNTHETIC,
            "arch": "x86_64",
            "cpu_model": SYNTHETIC,
            "cpu_count": 8,
            "memory_bytes": 16 * 2**30,
            "hostname_hash": f"{index:012x}",
        },
        engine=_engine(platform),
        platform={
            "id": platform.id,
            "family": platform.family,
            "host_os": platform.host_os,
            "vm": platform.vm,
            "file_sharing": platform.file_sharing,
            "detection": [f"{SYNTHETIC}: platform {platform.id} assigned, not detected"],
        },
        results=tuple(results),
    )


def _engine(platform: PlatformShape) -> dict[str, Any]:
    """An engine record with a ``raw_info`` about as large as a real ``docker info``'s."""
    desktop = platform.family == "docker-desktop"
    raw_info: dict[str, Any] = {
        "ServerVersion": "27.3.1",
        "OperatingSystem": "Docker Desktop" if desktop else "Ubuntu 24.04.1 LTS",
        "OSType": "linux",
        "Architecture": "x86_64",
        "NCPU": 8,
        "MemTotal": 8 * 2**30,
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
            "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local"],
        },
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
        "Labels": [SYNTHETIC],
    }
    return {
        "server_version": raw_info["ServerVersion"],
        "api_version": "1.47",
        "operating_system": raw_info["OperatingSystem"],
        "kernel_version": "6.10.14-linuxkit" if desktop else "6.8.0-48-generic",
        "os_type": "linux",
        "architecture": "x86_64",
        "ncpu": 8,
        "mem_total": 8 * 2**30,
        "storage_driver": "overlay2",
        "userland_proxy": None,
        "raw_info": raw_info,
    }


def growing_results(count: int, *, samples: int = 30) -> tuple[Result, ...]:
    """*count* startup results of one metric with *samples* samples each: the results a
    run's document holds after *count* variants, as the driver rewrites it."""
    rng = np.random.default_rng(count)
    variants = [_variant("startup", v) for v in SCENARIOS[0].variants]
    return tuple(
        Result(
            scenario=f"startup-{i // len(variants)}",
            kind="startup",
            variant=variants[i % len(variants)],
            status="ok",
            metrics=(_metric(rng, "end_to_end", MEDIANS["end_to_end"], samples),),
            tool=_TOOLS["startup"],
            extra={"repetitions": samples, "warmups": 3},
        )
        for i in range(count)
    )


def write(root: Path, index: int) -> Path:
    """Write synthetic file *index* under *root* where ``crossdock run`` would put it."""
    doc = document(index)
    path = result_path(root, str(doc.platform["id"]), str(doc.run["id"]))
    write_atomic(path, doc)
    return path


def sample_count(doc: RunDocument) -> int:
    """How many raw samples *doc* holds."""
    return sum(len(m.samples) for r in doc.results for m in r.metrics)


#: The corpus sizes the suite loads and reports on.
SIZES: tuple[int, ...] = (10, 100, 1000)


class Corpus:
    """Synthetic results files under *root*, written on first use and kept.

    Files go into one folder per size step (the first 10, the next 90, the next 900), so
    the first *n* files are a list of folders, which is how ``crossdock report`` is given
    its inputs. :meth:`folders` writes only the steps it needs: deselecting the
    1,000-file cases writes 100 files, not 1,000.
    """

    def __init__(self, root: Path, sizes: Sequence[int] = SIZES) -> None:
        self.root = root
        self.sizes = tuple(sizes)
        self._written = 0

    def folders(self, n: int) -> list[Path]:
        """The folders holding synthetic files ``0 .. n-1`` (*n* one of :attr:`sizes`)."""
        if n not in self.sizes:
            raise ValueError(f"corpus size {n} is not a step (valid: {self.sizes})")
        steps = list(zip((0, *self.sizes), self.sizes, strict=False))[: self.sizes.index(n) + 1]
        for start, end in steps:
            for index in range(max(start, self._written), end):
                write(self._folder(start, end), index)
        self._written = max(self._written, n)
        return [self._folder(start, end) for start, end in steps]

    def files(self, n: int) -> list[Path]:
        """Synthetic files ``0 .. n-1`` themselves, in load order."""
        return [p for folder in self.folders(n) for p in sorted(folder.rglob("*.json"))]

    def _folder(self, start: int, end: int) -> Path:
        return self.root / f"files-{start:05d}-{end - 1:05d}"
