"""Network: the harness's ``native-loopback`` and ``bridge`` throughput against
references, side by side.

Round by round, interleaved, the order of the methods alternating every round so that
drift lands on all of them.

- ``plumbing``: iperf3 started by hand with the same options (one forward stream,
  :data:`DURATION` s after :data:`OMIT` omitted s) -- on the host with plain
  :mod:`subprocess` calls, across a bridge with plain docker SDK calls on a labelled
  network and containers of its own. The by-hand side reads
  ``end.sum_received.bits_per_second`` from the JSON directly, not through
  :mod:`bench.tools.iperf`.
- ``method`` (native loopback): iperf2 (:func:`bench.validation.references.iperf2_bitrate`),
  a second implementation of the measurement, with iperf3's default write size (128 KiB)
  and the same omitted first second, its figure taken from its server's own count of what
  arrived. It catches an iperf3 figure that measures something else than the bytes that
  arrived (the sender's side, the omitted second counted, bits for bytes). Left out
  where iperf2 (``iperf``) is not on the host, as the hyperfine check is without hyperfine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.plan import Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.provision.processes import free_port
from bench.results import Result
from bench.validation import Comparison, compare, samples_result
from bench.validation.references import iperf2_bitrate
from bench.workloads.network import NetworkWorkload
from bench.workloads.network.addresses import LOOPBACK

#: path -> band of harness / iperf3 by hand (the bridge varies more)
PLUMBING_BANDS: dict[str, float] = {"native-loopback": 1.10, "bridge": 1.15}
#: two programs moving the same bytes through the same loopback path
METHOD_BAND = 1.10
DURATION = 3
OMIT = 1
TIMEOUT_S = 120.0
_READY = "Server listening"
#: path -> its methods, in round order
_METHODS: dict[str, tuple[str, ...]] = {
    "native-loopback": ("harness", "by-hand", "iperf2"),
    "bridge": ("harness", "by-hand"),
}


class NetworkArea:
    """The network validation, open (see the module docstring)."""

    name = "network"

    def __init__(self, ctx: RunContext, workload: NetworkWorkload, network: Any) -> None:
        self._ctx, self._workload, self._network = ctx, workload, network
        self._iperf2 = shutil.which("iperf")
        self._methods = {
            path: tuple(m for m in methods if m != "iperf2" or self._iperf2)
            for path, methods in _METHODS.items()
        }
        self._variants = {path: _variant(workload, path) for path in _METHODS}
        self._scenario = Scenario(
            "validate-network", "network", "", tuple(self._variants.values()), 1, 0, TIMEOUT_S
        )
        self._samples: dict[tuple[str, str], list[float]] = {
            (path, method): [] for path, methods in self._methods.items() for method in methods
        }
        self.rounds = 0

    def prepare(self) -> None:
        self._workload.prepare(self._ctx, self._scenario, list(self._variants.values()))

    def finish(self) -> None:
        self._workload.finish(self._ctx, self._scenario)

    def round(self) -> None:
        for path, methods in self._methods.items():
            for method in methods[:: 1 if self.rounds % 2 == 0 else -1]:
                self._samples[path, method].append(self._measure(path, method))
        self.rounds += 1

    def _measure(self, path: str, method: str) -> float:
        steps: dict[str, Callable[[], float]] = {
            "harness": lambda: self._workload.sample(
                self._ctx, self._scenario, self._variants[path]
            )["bitrate"],
            "by-hand": (
                _native_by_hand
                if path == "native-loopback"
                else lambda: _bridge_by_hand(self._ctx, self._network)
            ),
            "iperf2": lambda: iperf2_bitrate(
                duration=DURATION, omit=OMIT, iperf=self._iperf2 or "iperf"
            ),
        }
        return steps[method]()

    def comparisons(self) -> list[Comparison]:
        def pair(path: str, den: str, band: float, catches: str, title: str) -> Comparison:
            return compare(
                f"{path} bitrate: harness / {title}",
                numerator=("harness", self._samples[path, "harness"]),
                denominator=(den, self._samples[path, den]),
                unit="bit/s",
                direction="higher",
                band=band,
                catches=catches,
            )

        found = [
            pair(path, "by-hand", band, "plumbing", "iperf3 by hand")
            for path, band in PLUMBING_BANDS.items()
        ]
        if self._iperf2:
            found.insert(1, pair("native-loopback", "iperf2", METHOD_BAND, "method", "iperf2"))
        return found

    def results(self) -> list[Result]:
        extra: dict[str, Scalar] = {
            "rounds": self.rounds, "duration": DURATION, "omit": OMIT, "streams": 1,
        }  # fmt: skip
        return [
            samples_result("network", {"path": path, "method": method}, "bitrate", values, extra)
            for (path, method), values in self._samples.items()
            if values
        ]


@contextmanager
def opened(ctx: RunContext) -> Iterator[NetworkArea]:
    """The network area: its servers prepared and its own bridge network, until the end."""
    with _network(ctx) as network:
        area = NetworkArea(ctx, NetworkWorkload(), network)
        area.prepare()
        try:
            yield area
        finally:
            area.finish()


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
