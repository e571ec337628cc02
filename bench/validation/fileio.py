"""File I/O: the harness's native sequential figures against two references, and
(reported, not judged) the bind / native ratio, which on a Linux-native engine should be
close to 1: far from 1 means the harness adds an artifact.

Each round, per workload (``seq-write`` first), interleaved, the order alternating every
round: harness native, fio by hand, harness bind, the direct I/O loop.

- ``plumbing``: the same fio job typed out by hand on the host, over the same file,
  bandwidth read from fio's own JSON (not through :mod:`bench.tools.fio`'s parser).
- ``method``: a loop of 1 MiB ``pwrite`` / ``pread`` calls with direct I/O from one
  page-aligned buffer, on its own clock, in a process of its own
  (:func:`bench.validation.references.direct_io_bandwidth`), over the very file the
  harness's native fio job uses (the same blocks: on this project's virtual disk, three
  256 MiB files written by the same loop, interleaved, had medians 13 % apart), wrapping
  round it for the same time as fio runs. It catches a fio job that measures something
  else than sequential throughput (a wrong pattern, block size, cache state or unit) or
  spends its own time inside the clock. GNU ``dd`` is no such reference for writes: its
  clock includes its reads of ``/dev/zero`` into the block it then writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from bench.plan import Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.results import Result
from bench.tools.fio import DATA_FILE
from bench.validation import Comparison, compare, samples_result
from bench.validation.references import direct_io_bandwidth
from bench.workloads.fileio import FileioWorkload, parse_size

PLUMBING_BAND = 1.10
#: the same blocks for the same time; what differs is each program's CPU per block
METHOD_BAND = 1.10
WORKLOADS = ("seq-write", "seq-read")
SIZE_MIB = 256
DURATION = 2.0
_METHODS = ("harness-native", "fio-by-hand", "harness-bind", "direct-loop")
#: numerator, denominator, band, what it catches, title
_COMPARISONS: tuple[tuple[str, str, float | None, str, str], ...] = (
    ("harness-native", "fio-by-hand", PLUMBING_BAND, "plumbing", "native: harness / fio by hand"),
    ("harness-native", "direct-loop", METHOD_BAND, "method", "native: harness / direct I/O loop"),
    ("harness-bind", "harness-native", None, "reported", "bind / native (~1 on linux-native)"),
)


class FileioArea:
    """The file I/O validation, open (see the module docstring)."""

    name = "fileio"

    def __init__(self, ctx: RunContext, fio: str, workload: FileioWorkload) -> None:
        self._ctx, self._fio, self._workload = ctx, fio, workload
        self._variants = {
            (name, target): Variant(
                tuple((k, _value(k, s.default, target, name)) for k, s in workload.params.items())
            )
            for name in WORKLOADS
            for target in ("native", "bind")
        }
        self._scenario = Scenario(
            "validate-fileio", "fileio", "", tuple(self._variants.values()), 1, 0, 300.0
        )
        self._samples: dict[tuple[str, str], list[float]] = {
            (name, method): [] for name in WORKLOADS for method in _METHODS
        }
        self._loop_direct: set[bool] = set()
        self.rounds = 0

    def prepare(self) -> None:
        self._workload.prepare(self._ctx, self._scenario, list(self._variants.values()))

    def finish(self) -> None:
        self._workload.finish(self._ctx, self._scenario)

    def round(self) -> None:
        for name in WORKLOADS:
            steps = _METHODS if self.rounds % 2 == 0 else _METHODS[::-1]
            for method in steps:
                self._samples[name, method].append(self._measure(name, method))
        self.rounds += 1

    def _measure(self, name: str, method: str) -> float:
        if method.startswith("harness-"):
            variant = self._variants[name, method.removeprefix("harness-")]
            return self._workload.sample(self._ctx, self._scenario, variant)["bandwidth"]
        if method == "fio-by-hand":
            return _fio_by_hand(self._fio, name, self._workload.place_path("native"))
        mode: Literal["write", "read"] = "write" if name == "seq-write" else "read"
        # the very file fio writes and reads: on a virtual disk, two files of the same
        # size can lie on host storage of different speed
        data = Path(self._workload.place_path("native")) / DATA_FILE
        run = direct_io_bandwidth(data, mode, size_mib=SIZE_MIB, duration=DURATION)
        self._loop_direct.add(run.direct)
        return run.bandwidth

    def comparisons(self) -> list[Comparison]:
        return [
            compare(
                f"{name} {title}",
                numerator=(num, self._samples[name, num]),
                denominator=(den, self._samples[name, den]),
                unit="B/s",
                direction="higher",
                band=band,
                catches=catches,
            )
            for name in WORKLOADS
            for num, den, band, catches, title in _COMPARISONS
        ]

    def results(self) -> list[Result]:
        extra: dict[str, Scalar] = {"rounds": self.rounds, "size": f"{SIZE_MIB}MiB"}
        extra["duration"] = DURATION
        if self._loop_direct:
            extra["loop_direct"] = all(self._loop_direct)
        return [
            samples_result("fileio", {"workload": n, "method": m}, "bandwidth", values, extra)
            for (n, m), values in self._samples.items()
            if values
        ]


@contextmanager
def opened(ctx: RunContext) -> Iterator[FileioArea | None]:
    """The file I/O area with its places prepared, or ``None`` without fio on the host."""
    fio = shutil.which("fio")
    if fio is None:
        yield None
        return
    area = FileioArea(ctx, fio, FileioWorkload())
    area.prepare()
    try:
        yield area
    finally:
        area.finish()


def _value(key: str, default: Scalar, target: str, workload: str) -> Scalar:
    chosen: dict[str, Scalar] = {
        "target": target, "workload": workload, "size": f"{SIZE_MIB}MiB", "duration": DURATION,
    }  # fmt: skip
    return chosen.get(key, default)


def _fio_by_hand(fio: str, workload: str, directory: str) -> float:
    """The fio job as a person would type it: bandwidth in B/s from fio's own JSON. Direct
    I/O; where the filesystem refuses it, buffered, writes with a final fsync, as the
    harness falls back."""
    rw = {"seq-read": "read", "seq-write": "write"}[workload]
    job = [
        fio, "--name=byhand", f"--directory={directory}", f"--filename={DATA_FILE}",
        f"--size={parse_size(f'{SIZE_MIB}MiB')}", f"--rw={rw}", "--bs=1m", "--ioengine=psync",
        "--time_based", f"--runtime={int(DURATION * 1000)}ms", "--invalidate=1",
        "--scramble_buffers=0", "--output-format=json",
    ]  # fmt: skip
    try:
        out = subprocess.run(
            [*job, "--direct=1"], capture_output=True, text=True, check=True, timeout=300
        )
    except subprocess.CalledProcessError as e:
        if "Invalid argument" not in f"{e.stdout}{e.stderr}":
            raise
        buffered = [*job, "--direct=0", *(["--end_fsync=1"] if rw == "write" else [])]
        out = subprocess.run(buffered, capture_output=True, text=True, check=True, timeout=300)
    return float(json.loads(out.stdout[out.stdout.index("{") :])["jobs"][0][rw]["bw_bytes"])
