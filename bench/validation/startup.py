"""Startup: the harness's container lifecycle figures against three references.

Each round, interleaved, the order alternating every round: one harness sample (API
phases, then ``docker run --rm``), one bare API cycle, one hyperfine run of
``docker run --rm``.

- ``plumbing``: end-to-end against a bare loop of the same docker SDK calls written out
  here (create, start, wait, remove on the host clock); ``docker run --rm`` against
  hyperfine timing the same command.
- ``method``: the harness's host-clock interval from create's return to remove's return
  (start + run-to-exit + remove) against the engine's own ``create`` -> ``destroy`` event
  span for the same container, read from an event stream of the validation's own
  (:class:`bench.validation.references.EventSpans`). It catches a host-side timing that
  measures something other than the container's lifecycle (a wait that polls, a clock
  read in the wrong place); a whole-second or unit slip would show too.
- reported: what the CLI adds (``docker run --rm`` / bare API cycle).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.plan import Scenario, Variant
from bench.provision.context import RunContext
from bench.results import Result
from bench.validation import Comparison, compare, samples_result
from bench.validation.references import EventSpans, hyperfine_seconds
from bench.workloads.startup import StartupWorkload

PLUMBING_BAND = 1.05  # the harness adds at most 5 % to what it measures
#: the API response's transit is outside the engine's span at both ends, about cancelling
METHOD_BAND = 1.05

#: method -> the startup metric its samples are stored under
_METRIC = {
    "harness": "end_to_end",
    "bare-api": "end_to_end",
    "harness-after-create": "end_to_end",
    "engine-events": "end_to_end",
    "harness-cli": "cli_run_rm",
    "hyperfine": "cli_run_rm",
}


class StartupArea:
    """The startup validation, open (see the module docstring)."""

    name = "startup"

    def __init__(self, ctx: RunContext, workload: StartupWorkload, spans: EventSpans) -> None:
        self._ctx, self._workload, self._spans = ctx, workload, spans
        self._variant = Variant(tuple((k, s.default) for k, s in workload.params.items()))
        self._scenario = Scenario("validate-startup", "startup", "", (self._variant,), 1, 0, 60.0)
        self._tag = ctx.image("busybox").tag
        self._cli = ctx.require_engine().cli()
        self._hyperfine = shutil.which("hyperfine")
        self._samples: dict[str, list[float]] = {method: [] for method in _METRIC}
        self.rounds = 0

    def prepare(self) -> None:
        self._workload.prepare(self._ctx, self._scenario, [self._variant])

    def finish(self) -> None:
        self._workload.finish(self._ctx, self._scenario)

    def round(self) -> None:
        steps = [self._harness, self._bare, self._by_hyperfine]
        for step in steps if self.rounds % 2 == 0 else steps[::-1]:
            step()
        self.rounds += 1

    def _harness(self) -> None:
        mark = self._spans.mark()
        harness = self._workload.sample(self._ctx, self._scenario, self._variant)
        self._samples["harness"].append(harness["end_to_end"])
        self._samples["harness-after-create"].append(harness["end_to_end"] - harness["create"])
        self._samples["engine-events"].append(self._spans.span_after(mark))
        if "cli_run_rm" in harness:
            self._samples["harness-cli"].append(harness["cli_run_rm"])

    def _bare(self) -> None:
        self._samples["bare-api"].append(_bare_cycle(self._ctx, self._tag))

    def _by_hyperfine(self) -> None:
        if self._hyperfine and self._cli:
            command = [*self._cli, "run", "--rm", *_labels(self._ctx), "--network", "none"]
            self._samples["hyperfine"].append(
                _hyperfine(self._hyperfine, [*command, self._tag, "true"])
            )

    def comparisons(self) -> list[Comparison]:
        def pair(name: str, num: str, den: str, band: float | None, catches: str) -> Comparison:
            return compare(
                name,
                numerator=(num, self._samples[num]),
                denominator=(den, self._samples[den]),
                unit="s",
                direction="lower",
                band=band,
                catches=catches,
            )

        found = [
            pair(
                "startup end-to-end: harness / bare API loop",
                "harness", "bare-api", PLUMBING_BAND, "plumbing",
            ),
            pair(
                "startup create→removed: harness host clock / engine events",
                "harness-after-create", "engine-events", METHOD_BAND, "method",
            ),
        ]  # fmt: skip
        if self._samples["hyperfine"] and self._samples["harness-cli"]:
            found.append(
                pair(
                    "docker run --rm: harness / hyperfine",
                    "harness-cli", "hyperfine", PLUMBING_BAND, "plumbing",
                )
            )  # fmt: skip
            found.append(
                pair(
                    "what the CLI adds: docker run --rm / bare API loop",
                    "hyperfine", "bare-api", None, "reported",
                )
            )  # fmt: skip
        return found

    def results(self) -> list[Result]:
        # the whole `docker run --rm` process is its own metric, as the startup workload stores it
        return [
            samples_result(
                "startup", {"method": method}, _METRIC[method], values, {"rounds": self.rounds}
            )
            for method, values in self._samples.items()
            if values
        ]


@contextmanager
def opened(ctx: RunContext) -> Iterator[StartupArea]:
    """The startup area, its workload prepared and its event stream open until the end."""
    spans = EventSpans(ctx.require_engine().api, dict(ctx.labels))
    try:
        area = StartupArea(ctx, StartupWorkload(), spans)
        area.prepare()
        try:
            yield area
        finally:
            area.finish()
    finally:
        spans.close()


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


def _hyperfine(exe: str, command: list[str]) -> float:
    """One run of *command* timed by hyperfine (no shell, no warmup): seconds."""
    with tempfile.TemporaryDirectory(prefix="crossdock-hyperfine-") as tmp:
        export = Path(tmp) / "h.json"
        subprocess.run(
            [exe, "--shell=none", "--runs", "1", "--style", "none", "--export-json", str(export),
             " ".join(command)],
            capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        return hyperfine_seconds(export.read_text())
