"""Startup: the harness's end-to-end figure against a bare loop of the same API calls, and
its ``docker run --rm`` figure against hyperfine timing the same command.

Round by round, interleaved: harness sample, bare API cycle, hyperfine run. The bare loop
is written out here with the docker SDK directly, not through the workload code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.plan import Scenario, Variant
from bench.provision.context import RunContext
from bench.validation import Comparison, Validation, compare, samples_result
from bench.workloads.startup import StartupWorkload

TOLERANCE = 0.05  # the harness adds at most 5 % to what it measures


def run(ctx: RunContext, *, rounds: int) -> Validation:
    """Measure *rounds* interleaved rounds and compare (see module docstring)."""
    workload = StartupWorkload()
    variant = Variant(tuple((k, s.default) for k, s in workload.params.items()))
    scenario = Scenario("validate-startup", "startup", "", (variant,), rounds, 0, 60.0)
    workload.prepare(ctx, scenario, [variant])
    tag = ctx.image("busybox").tag
    cli = ctx.require_engine().cli()
    hyperfine = shutil.which("hyperfine")
    samples: dict[str, list[float]] = {
        "harness": [],
        "bare-api": [],
        "harness-cli": [],
        "hyperfine": [],
    }
    for _ in range(rounds):
        harness = workload.sample(ctx, scenario, variant)
        samples["harness"].append(harness["end_to_end"])
        if "cli_run_rm" in harness:
            samples["harness-cli"].append(harness["cli_run_rm"])
        samples["bare-api"].append(_bare_cycle(ctx, tag))
        if hyperfine and cli:
            samples["hyperfine"].append(
                _hyperfine(
                    hyperfine,
                    [*cli, "run", "--rm", *_labels(ctx), "--network", "none", tag, "true"],
                )
            )

    def pair(name: str, num: str, den: str, tolerance: float | None) -> Comparison:
        return compare(
            name,
            numerator=(num, samples[num]),
            denominator=(den, samples[den]),
            unit="s",
            tolerance=tolerance,
        )

    comparisons = [
        pair("startup end-to-end: harness / bare API loop", "harness", "bare-api", TOLERANCE)
    ]
    if samples["hyperfine"] and samples["harness-cli"]:
        comparisons.append(
            pair("docker run --rm: harness / hyperfine", "harness-cli", "hyperfine", TOLERANCE)
        )
        comparisons.append(
            pair(
                "what the CLI adds: docker run --rm / bare API loop", "hyperfine", "bare-api", None
            )
        )
    # the whole `docker run --rm` process is its own metric, as the startup workload stores it
    stored = [
        samples_result("startup", {"method": method}, _METRIC[method], values, {"rounds": rounds})
        for method, values in samples.items()
        if values
    ]
    return Validation("startup", comparisons, stored)


def _bare_cycle(ctx: RunContext, tag: str) -> float:
    """create, start, wait, remove with the SDK's low-level client; seconds on the host clock."""
    api = ctx.require_engine().api
    t0 = time.perf_counter_ns()
    cid = api.create_container(
        tag,
        command=["true"],
        labels=dict(ctx.labels),
        host_config=api.create_host_config(network_mode="none"),
    )["Id"]
    api.start(cid)
    api.wait(cid, timeout=60)
    api.remove_container(cid, v=True)
    return (time.perf_counter_ns() - t0) * 1e-9


def _labels(ctx: RunContext) -> list[str]:
    return [arg for k, v in ctx.labels.items() for arg in ("--label", f"{k}={v}")]


#: method -> the startup metric its samples are stored under
_METRIC = {
    "harness": "end_to_end",
    "bare-api": "end_to_end",
    "harness-cli": "cli_run_rm",
    "hyperfine": "cli_run_rm",
}


def _hyperfine(exe: str, command: list[str]) -> float:
    """One run of *command* timed by hyperfine (no shell, no warmup): seconds."""
    with tempfile.TemporaryDirectory(prefix="crossdock-hyperfine-") as tmp:
        export = Path(tmp) / "h.json"
        subprocess.run(
            [exe, "--shell=none", "--runs", "1", "--style", "none", "--export-json", str(export),
             " ".join(command)],
            capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        return float(json.loads(export.read_text())["results"][0]["times"][0])
