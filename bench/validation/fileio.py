"""File I/O: the harness's native sequential figures against the same fio job run by hand
on the host, and (reported, not judged) the bind / native ratio, which on a Linux-native
engine should be close to 1: far from 1 means the harness adds an artifact.

Interleaved round by round: harness native, fio by hand, harness bind, per workload.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from bench.plan import Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.validation import Comparison, Validation, compare, samples_result
from bench.workloads.fileio import FileioWorkload, parse_size

TOLERANCE = 0.10
WORKLOADS = ("seq-read", "seq-write")
SIZE = "256MiB"
DURATION = 2.0


def run(ctx: RunContext, *, rounds: int) -> Validation:
    """Measure *rounds* interleaved rounds and compare (see module docstring)."""
    fio = shutil.which("fio")
    if fio is None:
        return Validation("fileio", [], [])
    workload = FileioWorkload()
    variants = [
        Variant(tuple((k, _value(k, s.default, target, name)) for k, s in workload.params.items()))
        for name in WORKLOADS
        for target in ("native", "bind")
    ]
    scenario = Scenario("validate-fileio", "fileio", "", tuple(variants), rounds, 0, 300.0)
    workload.prepare(ctx, scenario, variants)
    samples: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(rounds):
            for variant in variants:
                method = f"harness-{variant['target']}"
                got = workload.sample(ctx, scenario, variant)["bandwidth"]
                samples.setdefault((str(variant["workload"]), method), []).append(got)
                if variant["target"] == "native":
                    directory = workload.place_path("native")
                    by_hand = _fio_by_hand(fio, str(variant["workload"]), directory)
                    samples.setdefault((str(variant["workload"]), "fio-by-hand"), []).append(
                        by_hand
                    )
    finally:
        workload.finish(ctx, scenario)
    comparisons: list[Comparison] = []
    for name in WORKLOADS:
        comparisons.append(
            compare(
                f"{name} native: harness / fio by hand",
                numerator=("harness-native", samples[(name, "harness-native")]),
                denominator=("fio-by-hand", samples[(name, "fio-by-hand")]),
                unit="B/s",
                tolerance=TOLERANCE,
            )
        )
        comparisons.append(
            compare(
                f"{name}: bind / native (expect ~1 on linux-native)",
                numerator=("harness-bind", samples[(name, "harness-bind")]),
                denominator=("harness-native", samples[(name, "harness-native")]),
                unit="B/s",
                tolerance=None,
            )
        )
    extra = {"rounds": rounds, "size": SIZE, "duration": DURATION}
    stored = [
        samples_result("fileio", {"workload": name, "method": method}, "bandwidth", values, extra)
        for (name, method), values in samples.items()
    ]
    return Validation("fileio", comparisons, stored)


def _value(key: str, default: Scalar, target: str, workload: str) -> Scalar:
    chosen: dict[str, Scalar] = {
        "target": target, "workload": workload, "size": SIZE, "duration": DURATION,
    }  # fmt: skip
    return chosen.get(key, default)


def _fio_by_hand(fio: str, workload: str, directory: str) -> float:
    """The fio job as a person would type it: bandwidth in B/s from fio's own JSON."""
    rw = {"seq-read": "read", "seq-write": "write"}[workload]
    out = subprocess.run(
        [
            fio, "--name=byhand", f"--directory={directory}", "--filename=crossdock.dat",
            f"--size={parse_size(SIZE)}", f"--rw={rw}", "--bs=1m", "--ioengine=psync",
            "--direct=1", "--time_based", f"--runtime={int(DURATION * 1000)}ms",
            "--invalidate=1", "--output-format=json",
        ],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    job = json.loads(out.stdout[out.stdout.index("{") :])["jobs"][0]
    return float(job["read" if rw == "read" else "write"]["bw_bytes"])
