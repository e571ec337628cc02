"""The two programs the network workload measures with: iperf3 for throughput, and a
busybox echo server with a ping-pong client for request/response latency.

Each is a :class:`Program`: the argument vectors of its server and client, the line its
server prints once it listens, and how the client's :class:`Output` becomes figures
(:class:`Measured`). :data:`PROGRAMS` picks one by the variant's ``measure``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Protocol

from bench.errors import SampleError
from bench.plan import Variant
from bench.provision.processes import Output, output_tail
from bench.tools import iperf

#: round trips done before the counted ones (connection set-up, first-packet paths)
WARM_ROUND_TRIPS = 10
CONNECT_TIMEOUT_MS = 5000

LATENCY_METHOD = (
    "busybox on both ends, host and container alike: echo server `nc -ll -e cat`, client "
    "`nc -e sh` whose loop writes 1 byte, reads the echo and prints $EPOCHREALTIME (µs) "
    "before and after; p50/p99 over the counted round trips of one connection (quantiles, "
    "inclusive method); includes the shell loop's own cost, the same on every path"
)


@dataclass(frozen=True)
class Measured:
    """One repetition's figures, the metrics it could not give (with why), and what the
    tool itself reported about the connection."""

    values: dict[str, float]
    absent: dict[str, str] = field(default_factory=dict)
    observed: dict[str, object] = field(default_factory=dict)


class Program(Protocol):
    """A server/client pair. Argument vectors start with the tool's name; on the host
    it is replaced by its path (:func:`bench.workloads.network.servers.on_host`)."""

    tool: str
    port: int  # the server's port inside a container
    ready: str  # the line the server prints once it listens
    install: str  # what to install where the tool is missing on the host

    def server(self, bind: str | None, port: int) -> list[str]: ...

    def client(self, host: str, port: int, variant: Variant) -> list[str]: ...

    def measure(self, output: Output, variant: Variant) -> Measured: ...


class Iperf3:
    """Throughput: an iperf3 server and a ``-J`` client.

    The server is not one-off (``-1``): in ``container-loopback`` it is the container's
    first process, whose exit would stop the container and kill the client in it before
    the client prints. The harness stops every server itself.
    """

    tool = "iperf3"
    port = 5201
    ready = "Server listening"
    install = "install iperf3"

    def server(self, bind: str | None, port: int) -> list[str]:
        # --forceflush: the "Server listening" line must reach a pipe at once
        return ["iperf3", "-s", "--forceflush", "-p", str(port), *(["-B", bind] if bind else [])]

    def client(self, host: str, port: int, variant: Variant) -> list[str]:
        argv = ["iperf3", "-c", host, "-p", str(port), "-J"]
        argv += ["-t", str(variant["duration"]), "-O", str(variant["omit"])]
        argv += ["-P", str(variant["streams"]), "--connect-timeout", str(CONNECT_TIMEOUT_MS)]
        return argv + (["-R"] if variant["direction"] == "reverse" else [])

    def measure(self, output: Output, variant: Variant) -> Measured:
        try:
            run = iperf.parse(output.stdout)
        except iperf.IperfError as e:
            raise SampleError(f"{e}{output_tail(output.stderr, prefix=': ')}") from None
        values = {
            "bitrate": run.received_bps,
            "sender_cpu": run.sender_cpu,
            "receiver_cpu": run.receiver_cpu,
        }
        absent = {}
        if run.retransmits is None:
            absent["retransmits"] = "the sender's iperf3 does not report them (no TCP_INFO)"
        else:
            values["retransmits"] = float(run.retransmits)
        observed: dict[str, object] = {
            "iperf3_connections": [c.to_json() for c in run.connections],
            "iperf3_version": run.version,
        }
        return Measured(values, absent, observed)


class Echo:
    """Latency: the busybox echo server and ping-pong client (the method:
    :mod:`bench.workloads.network`)."""

    tool = "busybox"
    port = 7007
    ready = "crossdock-echo-listening"
    install = (
        "install busybox (Debian/Ubuntu: busybox-static); the latency ends must be the "
        "same busybox programs on the host as in the container"
    )

    def server(self, bind: str | None, port: int) -> list[str]:
        listening = f"{bind or ''}:{port} "
        script = (
            f"busybox nc -ll -p {port} {bind or ''} -e busybox cat & "
            f'until busybox netstat -ltn | busybox grep -qF "{listening}"; '
            f"do busybox usleep 10000; done; echo {self.ready}; wait"
        )
        return ["busybox", "sh", "-c", script]

    def client(self, host: str, port: int, variant: Variant) -> list[str]:
        total = int(variant["roundtrips"]) + WARM_ROUND_TRIPS
        loop = (
            f"i=0; while [ $i -lt {total} ]; do t=$EPOCHREALTIME; printf x; "
            'read -r -n 1 c || exit 3; echo "$t $EPOCHREALTIME" >&2; i=$((i+1)); done'
        )
        return ["busybox", "nc", host, str(port), "-e", "busybox", "sh", "-c", loop]

    def measure(self, output: Output, variant: Variant) -> Measured:
        expected = int(variant["roundtrips"]) + WARM_ROUND_TRIPS
        rtts = round_trips(output.stderr)
        if len(rtts) != expected:
            raise SampleError(
                f"the latency client finished {len(rtts)} of {expected} round trips "
                f"(exit {output.code}){output_tail(output.stderr, prefix=': ')}"
            )
        counted = rtts[WARM_ROUND_TRIPS:]
        p99 = statistics.quantiles(counted, n=100, method="inclusive")[98]
        return Measured({"rtt_p50": statistics.median(counted), "rtt_p99": p99})


_RTT_LINE = re.compile(r"^(\d+)\.(\d{6}) (\d+)\.(\d{6})$")


def round_trips(text: str) -> list[float]:
    """Seconds of each round trip in the ping-pong client's stderr, in order.

    Each line is ``<before> <after>``, two ``$EPOCHREALTIME`` readings (seconds with six
    decimals), subtracted as whole microseconds: as floats, readings near 1.8e9 s would
    lose a few tenths of a microsecond. Stops at the first line that is not such a pair
    (a client error message); raises :class:`SampleError` when the shell printed no time
    at all (a busybox ash without ``$EPOCHREALTIME``).
    """
    values: list[float] = []
    for line in text.splitlines():
        match = _RTT_LINE.match(line.strip())
        if match is None:
            if not values and not line.strip():
                raise SampleError("the client's busybox shell has no $EPOCHREALTIME")
            break
        before, after = (
            int(s) * 1_000_000 + int(us) for s, us in (match.group(1, 2), match.group(3, 4))
        )
        values.append((after - before) * 1e-6)
    return values


PROGRAMS: dict[str, Program] = {"throughput": Iperf3(), "latency": Echo()}
