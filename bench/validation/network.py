"""Network: the harness's ``native-loopback`` and ``bridge`` throughput against iperf3 run
by hand the same way, side by side.

Round by round, interleaved, the order of the two methods alternating every round so
that drift lands on both: the harness's sample (the network workload), and iperf3
started by hand with the same options (one forward stream, :data:`DURATION` s after
:data:`OMIT` omitted s) — on the host with plain :mod:`subprocess` calls, across a bridge
with plain docker SDK calls on a labelled network and containers of its own. The
by-hand side reads ``end.sum_received.bits_per_second`` from the JSON directly, not
through :mod:`bench.tools.iperf`.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.plan import Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.validation import Validation, compare, samples_result
from bench.workloads.network import NetworkWorkload
from bench.workloads.network.addresses import LOOPBACK
from bench.workloads.network.servers import free_port

#: path -> allowed deviation of harness / by-hand from 1 (the bridge varies more)
TOLERANCES: dict[str, float] = {"native-loopback": 0.10, "bridge": 0.15}
DURATION = 3
OMIT = 1
TIMEOUT_S = 120.0
_READY = "Server listening"


def run(ctx: RunContext, *, rounds: int) -> Validation:
    """Measure *rounds* interleaved rounds per path and compare (see module docstring)."""
    workload = NetworkWorkload()
    variants = {path: _variant(workload, path) for path in TOLERANCES}
    scenario = Scenario(
        "validate-network", "network", "", tuple(variants.values()), rounds, 0, TIMEOUT_S
    )
    samples: dict[tuple[str, str], list[float]] = {
        (path, method): [] for path in TOLERANCES for method in ("harness", "by-hand")
    }
    workload.prepare(ctx, scenario, list(variants.values()))
    try:
        with _network(ctx) as network:
            by_hand: dict[str, Callable[[], float]] = {
                "native-loopback": _native_by_hand,
                "bridge": lambda: _bridge_by_hand(ctx, network),
            }

            def harness(variant: Variant) -> float:
                return workload.sample(ctx, scenario, variant)["bitrate"]

            for index in range(rounds):
                for path, variant in variants.items():
                    steps: list[tuple[str, Callable[[], float]]] = [
                        ("harness", functools.partial(harness, variant)),
                        ("by-hand", by_hand[path]),
                    ]
                    for method, step in steps[:: 1 if index % 2 == 0 else -1]:
                        samples[path, method].append(step())
    finally:
        workload.finish(ctx, scenario)
    comparisons = [
        compare(
            f"{path} bitrate: harness / iperf3 by hand",
            numerator=("harness", samples[path, "harness"]),
            denominator=("by-hand", samples[path, "by-hand"]),
            unit="bit/s",
            tolerance=tolerance,
        )
        for path, tolerance in TOLERANCES.items()
    ]
    extra = {"rounds": rounds, "duration": DURATION, "omit": OMIT, "streams": 1}
    stored = [
        samples_result("network", {"path": path, "method": method}, "bitrate", values, extra)
        for (path, method), values in samples.items()
    ]
    return Validation("network", comparisons, stored)


def _variant(workload: NetworkWorkload, path: str) -> Variant:
    chosen: dict[str, Scalar] = {"path": path, "duration": DURATION, "omit": OMIT}
    return Variant(tuple((k, chosen.get(k, s.default)) for k, s in workload.params.items()))


def _client_args(host: str, port: int) -> list[str]:
    return ["iperf3", "-c", host, "-p", str(port), "-J", "-t", str(DURATION), "-O", str(OMIT)]


def _received(json_text: str | bytes) -> float:
    return float(json.loads(json_text)["end"]["sum_received"]["bits_per_second"])


def _native_by_hand() -> float:
    """iperf3 server and client on the host over 127.0.0.1, with plain subprocess calls."""
    port = free_port(LOOPBACK)
    server = subprocess.Popen(
        ["iperf3", "-s", "-1", "--forceflush", "-B", LOOPBACK, "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if _READY in line:
                break
        client = subprocess.run(
            _client_args(LOOPBACK, port),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=True,
        )
    finally:
        server.kill()
        server.wait()
    return _received(client.stdout)


@contextmanager
def _network(ctx: RunContext) -> Iterator[Any]:
    """A labelled bridge network of the by-hand side's own, removed afterwards."""
    client = ctx.require_engine().client
    network = client.networks.create(
        f"crossdock-validate-{ctx.run_id.lower()}", driver="bridge", labels=dict(ctx.labels)
    )
    try:
        yield network
    finally:
        network.remove()


def _bridge_by_hand(ctx: RunContext, network: Any) -> float:
    """iperf3 server and client containers on *network*, with plain docker SDK calls."""
    client = ctx.require_engine().client
    tag = ctx.image("tools").tag
    server = client.containers.run(
        tag,
        ["iperf3", "-s", "-1", "--forceflush"],
        detach=True,
        network=network.name,
        labels=dict(ctx.labels),
    )
    try:
        for chunk in server.logs(stream=True, follow=True):
            if _READY.encode() in chunk:
                break
        server.reload()
        address = server.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        output = client.containers.run(
            tag,
            _client_args(address, 5201),
            network=network.name,
            labels=dict(ctx.labels),
            remove=True,
            stdout=True,
            stderr=False,
        )
    finally:
        server.remove(force=True)
    return _received(output)
