"""File I/O: the harness's native sequential figures against two references, and
(reported, not judged) the bind / native ratio, which on a Linux-native engine should be
close to 1: far from 1 means the harness adds an artifact.

Each round, per workload (``seq-write`` first, so the dd reference has a file to read),
interleaved, the order alternating every round: harness native, fio by hand, harness
bind, dd.

- ``plumbing``: the same fio job typed out by hand on the host, bandwidth read from fio's
  own JSON (not through :mod:`bench.tools.fio`).
- ``method``: GNU ``dd`` moving the same size in the same 1 MiB blocks with direct I/O,
  timed by dd itself (:func:`bench.validation.references.dd_bandwidth`), in a directory
  of its own in the run's scratch directory (the same filesystem as the harness's native
  place); its file is laid out once, unmeasured, and then overwritten in place, as fio
  overwrites the file it lays out before its clock starts (writes into a fresh file,
  which allocate blocks, are another quantity). It catches a fio job that measures
  something else than sequential throughput (a wrong pattern, block size, cache state or
  unit). dd writes and reads the file once
  where fio runs for a fixed time, so the band is wider than the plumbing one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from bench.plan import Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.results import Result
from bench.validation import Comparison, compare, samples_result
from bench.validation.references import dd_bandwidth
from bench.workloads.fileio import FileioWorkload, parse_size

PLUMBING_BAND = 1.10
METHOD_BAND = 1.15
WORKLOADS = ("seq-write", "seq-read")
SIZE_MIB = 256
DURATION = 2.0
_METHODS = ("harness-native", "fio-by-hand", "harness-bind", "dd")
#: numerator, denominator, band, what it catches, title
_COMPARISONS: tuple[tuple[str, str, float | None, str, str], ...] = (
    ("harness-native", "fio-by-hand", PLUMBING_BAND, "plumbing", "native: harness / fio by hand"),
    ("harness-native", "dd", METHOD_BAND, "method", "native: harness / dd direct"),
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
        self._dd_file = ctx.scratch("validate-dd") / "crossdock-dd.dat"
        self._samples: dict[tuple[str, str], list[float]] = {
            (name, method): [] for name in WORKLOADS for method in _METHODS
        }
        self._dd_direct: set[bool] = set()
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
        if not self._dd_file.exists():  # laid out first, unmeasured, as fio lays out its file
            dd_bandwidth(self._dd_file, "write", size_mib=SIZE_MIB)
        run = dd_bandwidth(
            self._dd_file, "write" if name == "seq-write" else "read", size_mib=SIZE_MIB
        )
        self._dd_direct.add(run.direct)
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
        if self._dd_direct:
            extra["dd_direct"] = all(self._dd_direct)
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
    I/O; where the filesystem refuses it, buffered with a final fsync, as the harness
    falls back."""
    rw = {"seq-read": "read", "seq-write": "write"}[workload]
    job = [
        fio, "--name=byhand", f"--directory={directory}", "--filename=crossdock.dat",
        f"--size={parse_size(f'{SIZE_MIB}MiB')}", f"--rw={rw}", "--bs=1m", "--ioengine=psync",
        "--time_based", f"--runtime={int(DURATION * 1000)}ms", "--invalidate=1",
        "--output-format=json",
    ]  # fmt: skip
    try:
        out = subprocess.run(
            [*job, "--direct=1"], capture_output=True, text=True, check=True, timeout=300
        )
    except subprocess.CalledProcessError as e:
        if "Invalid argument" not in f"{e.stdout}{e.stderr}":
            raise
        out = subprocess.run(
            [*job, "--direct=0", "--end_fsync=1"],
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
    return float(json.loads(out.stdout[out.stdout.index("{") :])["jobs"][0][rw]["bw_bytes"])
