"""Builders of schema-v1 results documents for tests: made through bench.results, with
seeded random samples. Synthetic test data: platform records say what they imitate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bench.plan import Scalar
from bench.results import Metric, Result, RunDocument, result_path, write_atomic
from bench.workloads.startup import StartupWorkload

#: metrics of a single container started alone (not the concurrency sweep's)
STARTUP_METRICS = tuple(m for m in StartupWorkload.metrics if m not in ("throughput", "batch"))

#: platform id -> (host_os, vm, file sharing, container slowdown of startup, bind-mount slowdown)
PLATFORMS: dict[str, tuple[str, str, str, float, float]] = {
    "linux-native": ("linux", "", "ext4", 1.0, 1.0),
    "docker-desktop-mac": ("darwin", "LinuxKit (Apple Virtualization)", "virtiofs", 1.6, 3.0),
    "docker-desktop-windows-wsl2": ("windows", "WSL2", "9p", 1.4, 8.0),
}


def make_document(
    *,
    run_id: str,
    platform: str = "linux-native",
    results: Sequence[Result] = (),
    hostname_hash: str = "3f2a9c",
    detection: Sequence[str] = ("OperatingSystem is not Docker Desktop",),
) -> RunDocument:
    """A valid run document with the given results."""
    host_os, vm, sharing = PLATFORMS.get(platform, ("linux", "", "ext4", 1.0, 1.0))[:3]
    return RunDocument(
        run={
            "id": run_id,
            "started_at": "2024-05-01T10:00:00Z",
            "finished_at": "2024-05-01T10:20:00Z",
            "harness_version": "0.1.0",
            "argv": ["crossdock", "run", "--suite", "default"],
            "status": "complete",
        },
        host={
            "os": host_os,
            "os_version": "6.1",
            "arch": "x86_64",
            "cpu_model": "Test CPU",
            "cpu_count": 8,
            "memory_bytes": 16 * 2**30,
            "hostname_hash": hostname_hash,
        },
        engine={
            "server_version": "26.1.0",
            "api_version": "1.45",
            "operating_system": "Docker Desktop"
            if "desktop" in platform
            else "Debian GNU/Linux 12",
            "kernel_version": "6.6.22-linuxkit",
            "os_type": "linux",
            "architecture": "x86_64",
            "ncpu": 8,
            "mem_total": 8 * 2**30,
            "storage_driver": "overlay2",
            "userland_proxy": True,
            "raw_info": {"ServerVersion": "26.1.0", "Plugins": {"Volume": ["local"]}},
        },
        platform={
            "id": platform,
            "family": platform.split("-", maxsplit=1)[0],
            "host_os": host_os,
            "vm": vm,
            "file_sharing": sharing,
            "detection": list(detection),
        },
        results=tuple(results),
    )


def lognormal(
    rng: np.random.Generator, median: float, n: int, sigma: float = 0.08
) -> tuple[float, ...]:
    """*n* samples from a log-normal distribution with the given median."""
    return tuple(float(x) for x in median * rng.lognormal(0.0, sigma, n))


def result(
    scenario: str,
    kind: str,
    variant: Mapping[str, Scalar],
    metrics: Mapping[str, tuple[str, str, Sequence[float]]],
    *,
    tool: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Result:
    """An ok result; *metrics* maps name -> (unit, direction, samples)."""
    return Result(
        scenario=scenario,
        kind=kind,
        variant=dict(variant),
        status="ok",
        metrics=tuple(
            Metric(name=name, unit=unit, direction=direction, samples=tuple(samples))  # type: ignore[arg-type]
            for name, (unit, direction, samples) in metrics.items()
        ),
        tool=tool,
        extra=dict(extra or {}),
    )


def startup_variant(runtime: str, **overrides: Scalar) -> dict[str, Scalar]:
    """A startup variant with every parameter scenarios/startup.toml leaves at its default."""
    variant: dict[str, Scalar] = {
        "runtime": runtime,
        "network": "none",
        "publish": False,
        "mount": "none",
        "image": "busybox",
        "concurrency": 1,
        "cli": True,
        "cache": "warm",
    }
    variant.update(overrides)
    return variant


#: the container variants of scenarios/startup.toml: network x publish x mount, without
#: a published port on network none
STARTUP_MATRIX: tuple[dict[str, Scalar], ...] = tuple(
    {"network": network, "publish": publish, "mount": mount}
    for network in ("none", "bridge")
    for publish in (False, True)
    for mount in ("none", "bind")
    if not (network == "none" and publish)
)


def startup_results(
    rng: np.random.Generator, *, n: int = 30, slowdown: float = 1.0, containers: int = 6
) -> list[Result]:
    """scenarios/startup.toml: the native baseline and (up to) six container variants."""
    native = result(
        "startup",
        "startup",
        startup_variant("native"),
        {"end_to_end": ("s", "lower", lognormal(rng, 0.002, n))},
        tool={"name": "true", "version": "/usr/bin/true"},
    )
    out = [native]
    for i, overrides in enumerate(STARTUP_MATRIX[:containers]):
        phase = 0.07 * slowdown * (1 + 0.15 * i)
        metrics = {m: ("s", "lower", lognormal(rng, phase, n)) for m in STARTUP_METRICS}
        metrics["end_to_end"] = ("s", "lower", lognormal(rng, 4 * phase, n))
        metrics["throughput"] = ("op/s", "higher", lognormal(rng, 1 / (4 * phase), n))
        variant = startup_variant("container", **overrides)
        out.append(result("startup", "startup", variant, metrics, tool=ENGINE_API))
    return out


def concurrency_results(rng: np.random.Generator, *, slowdown: float) -> list[Result]:
    """scenarios/startup-concurrency.toml: containers only, no native baseline."""
    out = []
    for concurrency in (1, 2, 4, 8):
        rate = 3.0 / slowdown * concurrency**0.6
        metrics = {
            "throughput": ("op/s", "higher", lognormal(rng, rate, 10)),
            "batch": ("s", "lower", lognormal(rng, concurrency / rate, 10)),
        }
        variant = startup_variant("container", concurrency=concurrency, cli=False)
        out.append(result("startup-concurrency", "startup", variant, metrics, tool=ENGINE_API))
    return out


ENGINE_API = {"name": "docker-engine-api", "version": "1.45"}
FIO = {"name": "fio", "version": "fio-3.33"}
IPERF = {"name": "iperf3", "version": "iperf 3.12"}


#: fileio workload -> metrics it records: name -> (unit, direction, value on native)
FILEIO_METRICS: dict[str, dict[str, tuple[str, str, float]]] = {
    "fio": {
        "bandwidth": ("B/s", "higher", 1.2e9),
        "iops": ("op/s", "higher", 9e4),
        "lat_p50": ("s", "lower", 4e-5),
        "lat_p99": ("s", "lower", 3e-4),
    },
    "fsync-write": {"fsync_p50": ("s", "lower", 2e-3), "fsync_p99": ("s", "lower", 8e-3)},
    "metadata": {
        "create_rate": ("op/s", "higher", 4e4),
        "stat_rate": ("op/s", "higher", 2e5),
        "delete_rate": ("op/s", "higher", 5e4),
    },
    "tree": {
        "tree_unpack": ("s", "lower", 0.8),
        "tree_walk": ("s", "lower", 0.2),
        "tree_read": ("s", "lower", 0.3),
        "tree_delete": ("s", "lower", 0.4),
        "tree_total": ("s", "lower", 1.7),
    },
}
FILEIO_WORKLOADS = (
    "seq-read",
    "seq-write",
    "rand-read",
    "rand-write",
    "fsync-write",
    "metadata",
    "tree",
)


def fileio_variant(target: str, workload: str) -> dict[str, Scalar]:
    """A file I/O variant with the parameters scenarios/fileio.toml sets."""
    return {
        "target": target,
        "workload": workload,
        "size": "256MiB",
        "duration": 2.0,
        "files": 2000,
        "direct": "auto",
        "cache": "warm",
    }


def fileio_results(rng: np.random.Generator, *, bind_slowdown: float) -> list[Result]:
    """Every workload on every target, as scenarios/fileio.toml asks."""
    speed = {
        "native": 1.0,
        "bind": 1 / bind_slowdown,
        "volume": 0.9,
        "container": 0.8,
        "tmpfs": 3.0,
    }
    out = []
    for workload in FILEIO_WORKLOADS:
        metrics = {**FILEIO_METRICS["fio"], **FILEIO_METRICS.get(workload, {})}
        if workload in ("metadata", "tree"):
            metrics = FILEIO_METRICS[workload]
        for target, factor in speed.items():
            variant = fileio_variant(target, workload)
            samples = {
                name: (
                    unit,
                    direction,
                    lognormal(rng, value * (factor if direction == "higher" else 1 / factor), 10),
                )
                for name, (unit, direction, value) in metrics.items()
            }
            out.append(result("fileio", "fileio", variant, samples, tool=FIO))
    return out


def network_variant(
    path: str, measure: str = "throughput", **overrides: Scalar
) -> dict[str, Scalar]:
    """A network variant with every parameter bench/workloads/network.py defines."""
    variant: dict[str, Scalar] = {
        "path": path,
        "measure": measure,
        "direction": "forward",
        "streams": 1,
        "duration": 3,
        "omit": 1,
        "roundtrips": 1000,
    }
    variant.update(overrides)
    return variant


def network_results(rng: np.random.Generator, *, slowdown: float) -> list[Result]:
    """Throughput both ways and round-trip latency on every path."""
    speed = {
        "native-loopback": 1.0,
        "container-loopback": 0.95,
        "bridge": 0.7,
        "published-port": 0.3 / slowdown,
        "to-host": 0.5 / slowdown,
    }
    out = []
    for direction in ("forward", "reverse"):
        for path, factor in speed.items():
            metrics = {
                "bitrate": ("bit/s", "higher", lognormal(rng, 40e9 * factor, 10)),
                "retransmits": ("1", "lower", tuple(float(x) for x in rng.poisson(3, 10))),
                "sender_cpu": ("%", "lower", lognormal(rng, 60.0, 10)),
                "receiver_cpu": ("%", "lower", lognormal(rng, 45.0, 10)),
            }
            variant = network_variant(path, direction=direction)
            out.append(result("network", "network", variant, metrics, tool=IPERF))
    for path, factor in speed.items():
        metrics = {
            "rtt_p50": ("s", "lower", lognormal(rng, 2e-5 / factor, 10)),
            "rtt_p99": ("s", "lower", lognormal(rng, 6e-5 / factor, 10)),
        }
        out.append(result("network", "network", network_variant(path, "latency"), metrics))
    return out


def default_suite(platform: str, *, seed: int, run_id: str | None = None) -> RunDocument:
    """A realistic default-suite run of *platform*: startup, concurrency, file I/O, network,
    with one skipped and one failed variant."""
    rng = np.random.default_rng(seed)
    _, _, _, slowdown, bind_slowdown = PLATFORMS[platform]
    results = [
        *startup_results(rng, slowdown=slowdown),
        *concurrency_results(rng, slowdown=slowdown),
        *fileio_results(rng, bind_slowdown=bind_slowdown),
        *network_results(rng, slowdown=slowdown),
        Result(
            scenario="fileio",
            kind="fileio",
            variant=fileio_variant("bind-windows", "seq-read"),
            status="skipped",
            reason="no Windows filesystem on this host",
        ),
        Result(
            scenario="network",
            kind="network",
            variant=network_variant("to-host", "latency", roundtrips=50),
            status="failed",
            reason="nc exited 1: host.docker.internal did not resolve",
        ),
    ]
    return make_document(run_id=run_id or f"{platform}-{seed}", platform=platform, results=results)


def write_suite(folder: Path, platforms: Sequence[str] = tuple(PLATFORMS)) -> list[Path]:
    """Write a default-suite run per platform under *folder* as crossdock lays them out."""
    paths = []
    for seed, platform in enumerate(platforms):
        document = default_suite(platform, seed=seed)
        path = result_path(folder, platform, str(document.run["id"]))
        write_atomic(path, document)
        paths.append(path)
    return paths
