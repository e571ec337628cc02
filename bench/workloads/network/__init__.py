"""Network: throughput and request/response latency along the paths containers use,
against the same measurement on the host's own loopback.

Paths (variant parameter ``path``; see :data:`PATHS`), server <- client:

- ``native-loopback``: host process <- host process, over 127.0.0.1 (the baseline);
- ``container-loopback``: a container on network ``none`` <- the same container
  (``docker exec``), over 127.0.0.1;
- ``bridge``: a container <- another container, on a user bridge network made for the
  scenario, through the server's address there;
- ``published-port``: a container whose port is published on 127.0.0.1 only <- a host
  process, through 127.0.0.1:<published port>;
- ``to-host``: a host process <- a container, through ``host.docker.internal``
  (``host-gateway``); the server binds what that name resolves to when it is this
  host's address (Linux: the bridge's gateway), else 127.0.0.1; never 0.0.0.0
  (:func:`probe_host_gateway`).

``measure = "throughput"`` runs iperf3 (``-J``, parsed by :mod:`bench.tools.iperf`) for
``duration`` seconds after ``omit`` warm-up seconds, ``streams`` parallel streams,
``direction = "reverse"`` adding ``-R`` (the server sends). Metrics: ``bitrate`` at the
receiving side, ``retransmits``, ``sender_cpu``, ``receiver_cpu``.

``measure = "latency"`` times ``roundtrips`` TCP round trips of one byte over one
connection (after :data:`WARM_ROUND_TRIPS` uncounted ones) and stores their median and
99th percentile (``rtt_p50``, ``rtt_p99``). Both ends are the same busybox programs on
every path, host and container alike, so a ratio to native measures the path rather
than the tools: the server is ``nc -ll -e cat`` (an echo), the client ``nc -e sh`` whose
shell writes a byte, reads the echo and prints ``$EPOCHREALTIME`` (µs) before and after,
using builtins only (no process per round trip). The figures include that shell loop's
own cost, which is the same on every path. Where busybox is not on the host the
host-side paths are skipped with that reason; the metric is never a zero.

Each repetition starts its own server (a host process in its own session, or a
labelled container), waits until it reports listening (iperf3's ``Server listening``
line; the echo server's line printed once ``netstat`` shows its port) rather than
sleeping, runs the client, and stops the server and removes every container whatever
happened. A repetition not done within the scenario's ``timeout`` is killed and fails.

Traffic stays on this machine: every address a server binds or a client targets is
checked to be loopback or inside one of the engine's own bridge networks
(:func:`check_address`), and host<->container paths are skipped when the engine is not
local. The engine's userland-proxy setting (:func:`userland_proxy`) and the addresses
actually used are recorded in the result's ``extra``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import docker.errors

from bench import signals
from bench.environment.engine import Engine
from bench.errors import SampleError, first_line
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.provision.processes import decoded, output_tail
from bench.tools import iperf
from bench.workloads.startup import force_remove, wait_exit

LOOPBACK = "127.0.0.1"
#: the name a container uses for the host, mapped by the engine's ``host-gateway``
HOST_ALIAS = "host.docker.internal"
HOST_GATEWAY = {HOST_ALIAS: "host-gateway"}
#: round trips done before the counted ones (connection set-up, first-packet paths)
WARM_ROUND_TRIPS = 10
CONNECT_TIMEOUT_MS = 5000
#: how often a server's output is looked at while waiting for it to listen
POLL_S = 0.02
IMAGE = "tools"

LATENCY_METHOD = (
    "busybox on both ends, host and container alike: echo server `nc -ll -e cat`, client "
    "`nc -e sh` whose loop writes 1 byte, reads the echo and prints $EPOCHREALTIME (µs) "
    "before and after; p50/p99 over the counted round trips of one connection (quantiles, "
    "inclusive method); includes the shell loop's own cost, the same on every path"
)

ClientSide = Literal["host", "container", "server-container"]


@dataclass(frozen=True)
class PathSpec:
    """Where one path's server and client run (``server-container``: inside the server's
    container, by ``docker exec``)."""

    server: Literal["host", "container"]
    client: ClientSide
    description: str

    @property
    def on_host(self) -> bool:
        """Whether an end runs on the host (needs the tool there)."""
        return "host" in (self.server, self.client)

    @property
    def crosses(self) -> bool:
        """Whether the path joins the host and a container (needs a local engine)."""
        return self.on_host and "container" in (self.server, self.client)


PATHS: dict[str, PathSpec] = {
    "native-loopback": PathSpec("host", "host", "host -> host over 127.0.0.1 (the baseline)"),
    "container-loopback": PathSpec(
        "container", "server-container", "inside one container (network none) over 127.0.0.1"
    ),
    "bridge": PathSpec(
        "container", "container", "container -> container on a user bridge made for the run"
    ),
    "published-port": PathSpec(
        "container", "host", "host -> container through a port published on 127.0.0.1"
    ),
    "to-host": PathSpec(
        "host", "container", f"container -> host through {HOST_ALIAS} (host-gateway)"
    ),
}


# --- the two programs: iperf3 and the busybox echo ----------------------------------------


@dataclass(frozen=True)
class Output:
    """What a client printed, and how it exited."""

    stdout: str
    stderr: str
    code: int


@dataclass(frozen=True)
class Measured:
    """One repetition's figures, the metrics it could not give (with why), and what the
    tool itself reported about the connection."""

    values: dict[str, float]
    absent: dict[str, str] = field(default_factory=dict)
    observed: dict[str, object] = field(default_factory=dict)


class Program(Protocol):
    """A server/client pair. Argument vectors start with the tool's name; on the host
    it is replaced by its path (:func:`_on_host`)."""

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
    """Latency: the busybox echo server and ping-pong client (see module docstring)."""

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


# --- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """Where one repetition's server listens and where its client connects.

    ``target_address`` is the address ``target_host`` stands for (what is checked against
    :func:`check_address`); ``client_network`` and ``extra_hosts`` configure a client
    container; ``server_container`` is the container a ``server-container`` client joins.
    """

    server: str
    target_host: str
    target_port: int
    target_address: str
    client_network: str | None = None
    extra_hosts: Mapping[str, str] | None = None
    server_container: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "client_connects_to": f"{self.target_host}:{self.target_port}",
            "which_is": self.target_address,
            "client_network": self.client_network,
            "extra_hosts": dict(self.extra_hosts) if self.extra_hosts else None,
        }


@dataclass(frozen=True)
class HostGateway:
    """How a container reaches a host server here: bind the server to ``bind``; in a
    container ``host.docker.internal`` resolves to ``resolved``."""

    bind: str
    resolved: str
    how: str


class NetworkWorkload:
    """The ``network`` kind (see module docstring).

    One instance serves one scenario (the driver asks the registry for each): it keeps
    the scenario's bridge network, the to-host probe's outcome, the userland proxy seen,
    and per variant the addresses and facts of its last repetition for :meth:`describe`.
    """

    kind = "network"
    params: Mapping[str, ParamSpec] = {
        "path": ParamSpec(str, "native-loopback", tuple(PATHS), help="native-loopback = baseline"),
        "measure": ParamSpec(str, "throughput", tuple(PROGRAMS), help="iperf3, or 1-byte RTTs"),
        "direction": ParamSpec(
            str, "forward", ("forward", "reverse"), help="reverse = iperf3 -R (server sends)"
        ),
        "streams": ParamSpec(int, 1, minimum=1, maximum=128, help="parallel streams (-P)"),
        "duration": ParamSpec(int, 3, minimum=1, maximum=3600, help="measured seconds (-t)"),
        "omit": ParamSpec(int, 1, minimum=0, maximum=60, help="warm-up seconds, not counted (-O)"),
        "roundtrips": ParamSpec(
            int, 1000, minimum=10, maximum=100_000, help="counted round trips (latency)"
        ),
    }
    metrics: tuple[str, ...] = (
        "bitrate",
        "retransmits",
        "sender_cpu",
        "receiver_cpu",
        "rtt_p50",
        "rtt_p99",
    )
    #: the parameters each measure uses; the others must keep their defaults
    _USES: Mapping[str, tuple[str, ...]] = {
        "throughput": ("direction", "streams", "duration", "omit"),
        "latency": ("roundtrips",),
    }

    def __init__(self) -> None:
        self._bridge: str | None = None
        self._gateway: HostGateway | str | None = None
        self._proxy: dict[str, str] | None = None
        self._facts: dict[Variant, dict[str, Any]] = {}

    def check_variant(self, variant: Mapping[str, Scalar]) -> str | None:
        measure = str(variant["measure"])
        unused = {k for uses in self._USES.values() for k in uses} - set(self._USES[measure])
        changed = sorted(k for k in unused if variant[k] != self.params[k].default)
        if changed:
            return f'measure = "{measure}" does not use {", ".join(changed)}; leave the default'
        return None

    def needs_engine(self, variant: Variant) -> bool:
        return variant["path"] != "native-loopback"

    def prepare(self, ctx: RunContext, scenario: Scenario, variants: Sequence[Variant]) -> None:
        """Build the tools image; make the bridge network and probe the way to the host
        when those paths are among *variants*."""
        paths = {v["path"] for v in variants if self.needs_engine(v)}
        if not paths:
            return
        ctx.image(IMAGE)
        if "bridge" in paths:
            self._bridge_network(ctx)
        if "to-host" in paths:
            self._host_gateway(ctx)

    def finish(self, ctx: RunContext, scenario: Scenario) -> None:
        """Remove the bridge network :meth:`prepare` made (samples remove their own
        containers and stop their own host processes)."""
        if self._bridge is not None and ctx.engine is not None:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                ctx.engine.client.networks.get(self._bridge).remove()
            self._bridge = None

    def skip_reason(self, ctx: RunContext, variant: Variant) -> str | None:
        path = PATHS[str(variant["path"])]
        program = PROGRAMS[str(variant["measure"])]
        if path.on_host and shutil.which(program.tool) is None:
            return f"no `{program.tool}` on the host PATH: {program.install}"
        if ctx.engine is None or not self.needs_engine(variant):
            return None
        os_type = ctx.engine.info.get("OSType", "linux")
        if os_type != "linux":
            return f"the engine runs {os_type} containers; the tools image is Linux"
        if path.crosses and not engine_is_local(ctx.engine):
            return (
                f"the engine at {ctx.engine.target.endpoint} is on another machine: a path "
                "between this host and a container would leave this machine"
            )
        if variant["path"] == "to-host":
            gateway = self._host_gateway(ctx)
            return gateway if isinstance(gateway, str) else None
        return None

    def sample(self, ctx: RunContext, scenario: Scenario, variant: Variant) -> dict[str, float]:
        deadline = Deadline(scenario.timeout)
        program = PROGRAMS[str(variant["measure"])]
        path = str(variant["path"])
        with contextlib.ExitStack() as stack:
            route = self._serve(ctx, stack, path, program, deadline)
            gateway = self._gateway if path == "to-host" else None
            check_address(
                ctx.engine,
                route.target_address,
                host_gateway=isinstance(gateway, HostGateway)
                and gateway.resolved == route.target_address,
            )
            argv = program.client(route.target_host, route.target_port, variant)
            output = self._client(ctx, PATHS[path].client, route, argv, deadline)
        measured = program.measure(output, variant)
        self._facts[variant] = {
            "addresses": route.to_json(),
            **measured.observed,
            "absent": measured.absent,
        }
        return measured.values

    def describe(
        self, ctx: RunContext, variant: Variant
    ) -> tuple[dict[str, str] | None, dict[str, object]]:
        path = PATHS[str(variant["path"])]
        program = PROGRAMS[str(variant["measure"])]
        facts = dict(self._facts.get(variant, {}))
        absent = facts.pop("absent", {})
        extra: dict[str, object] = {
            "path": path.description,
            "server_side": path.server,
            "client_side": path.client,
            **facts,
        }
        if "addresses" in extra:
            extra["addresses_note"] = "of the last repetition; ports are new every repetition"
        if variant["measure"] == "latency":
            extra |= {"latency_method": LATENCY_METHOD, "warm_round_trips": WARM_ROUND_TRIPS}
        versions: dict[str, str] = {}
        if path.on_host:
            versions["host"] = host_tool_version(program.tool)
        image = ctx.built.get(IMAGE)  # not built: preparing failed, nothing to describe
        if ctx.engine is not None and self.needs_engine(variant) and image is not None:
            versions["container"] = image.tool_versions.get(program.tool, "unknown")
            extra["image"] = image.to_json()
            self._proxy = self._proxy or userland_proxy(ctx.engine, None)
            extra["userland_proxy"] = self._proxy
            if variant["path"] == "bridge" and self._bridge:
                extra["bridge_network"] = self._bridge_facts(ctx)
            if variant["path"] == "to-host" and isinstance(self._gateway, HostGateway):
                extra["host_gateway"] = dataclasses.asdict(self._gateway)
        if absent:
            extra["absent"] = absent
        return {"name": program.tool, "version": _one_version(versions)}, extra

    # --- servers --------------------------------------------------------------------------

    def _serve(
        self,
        ctx: RunContext,
        stack: contextlib.ExitStack,
        path: str,
        program: Program,
        deadline: Deadline,
    ) -> Route:
        """Start *path*'s server for one repetition (stopped when *stack* closes) and say
        where its client connects."""
        if path == "native-loopback":
            port = _host_server(stack, program, LOOPBACK, deadline, ctx.engine)
            return Route(f"host {LOOPBACK}:{port}", LOOPBACK, port, LOOPBACK)
        if path == "to-host":
            gateway = self._host_gateway(ctx)
            if isinstance(gateway, str):
                raise SampleError(gateway)
            port = _host_server(stack, program, gateway.bind, deadline, ctx.engine)
            return Route(
                f"host {gateway.bind}:{port}",
                HOST_ALIAS,
                port,
                gateway.resolved,
                client_network="bridge",
                extra_hosts=HOST_GATEWAY,
            )
        if path == "container-loopback":
            cid = _container_server(ctx, stack, program, deadline, network="none", bind=LOOPBACK)
            where = f"container {cid[:12]} {LOOPBACK}:{program.port}"
            return Route(where, LOOPBACK, program.port, LOOPBACK, server_container=cid)
        if path == "bridge":
            network = self._bridge_network(ctx)
            cid = _container_server(ctx, stack, program, deadline, network=network)
            ip = _container_address(ctx, cid, network)
            where = f"container {cid[:12]} {ip}:{program.port} on {network}"
            return Route(where, ip, program.port, ip, client_network=network)
        cid = _container_server(ctx, stack, program, deadline, network="bridge", publish=True)
        host_port = _published_port(ctx, cid, program.port)
        self._proxy = userland_proxy(ctx.require_engine(), host_port)
        where = f"container {cid[:12]} :{program.port} published on {LOOPBACK}:{host_port}"
        return Route(where, LOOPBACK, host_port, LOOPBACK)

    def _client(
        self, ctx: RunContext, side: ClientSide, route: Route, argv: list[str], deadline: Deadline
    ) -> Output:
        if side == "host":
            return run_on_host(_on_host(argv), deadline)
        if side == "server-container":
            assert route.server_container is not None
            return _exec_client(ctx, route.server_container, argv, deadline)
        return _container_client(
            ctx, argv, deadline, network=route.client_network, extra_hosts=route.extra_hosts
        )

    # --- what the run shares -------------------------------------------------------------

    def _bridge_network(self, ctx: RunContext) -> str:
        """The scenario's user-defined bridge network (labelled), made on first use and
        removed by :meth:`finish` (the run's label cleanup is the safety net)."""
        if self._bridge is None:
            name = f"crossdock-net-{ctx.run_id.lower()}"
            client = ctx.require_engine().client
            if not any(n.name == name for n in client.networks.list(names=[name])):
                with signals.deferred():
                    client.networks.create(name, driver="bridge", labels=dict(ctx.labels))
            self._bridge = name
        return self._bridge

    def _bridge_facts(self, ctx: RunContext) -> dict[str, object]:
        attrs = ctx.require_engine().api.inspect_network(self._bridge)
        return {"name": self._bridge, "subnets": _subnets_of(attrs)}

    def _host_gateway(self, ctx: RunContext) -> HostGateway | str:
        """Where a host server is reachable from a container (probed once), or why not."""
        if self._gateway is None:
            try:
                self._gateway = probe_host_gateway(ctx)
            except Exception as e:  # noqa: BLE001 - any failure of the probe is the skip's reason
                self._gateway = f"could not probe the host from a container: {first_line(e)}"
        return self._gateway


# --- the to-host probe ------------------------------------------------------------------------


def probe_host_gateway(ctx: RunContext) -> HostGateway | str:
    """Find where a host server must listen for a container to reach it through
    ``host.docker.internal``, and check that it does; or say why it cannot.

    A first container reads what the name resolves to (``host-gateway``); that address
    must pass :func:`check_address` before any traffic goes there. The server binds it
    when it is an address of this host (a Linux engine: the bridge's gateway), else
    127.0.0.1 (an engine in a VM forwards to the host's loopback); never 0.0.0.0. A
    second container then connects to a listener there.
    """
    engine = ctx.require_engine()
    if not engine_is_local(engine):
        return f"the engine at {engine.target.endpoint} is on another machine"
    hosts = _probe_container(ctx, f"busybox grep -m1 {HOST_ALIAS} /etc/hosts")
    resolved = hosts.stdout.split()[0] if hosts.stdout.split() else None
    if resolved is None:
        return (
            f"{HOST_ALIAS} does not resolve in a container{output_tail(hosts.stderr, prefix=': ')}"
        )
    try:
        check_address(engine, resolved, host_gateway=True)
    except SampleError as e:
        return f"{HOST_ALIAS} resolves to {resolved} in a container: {e}"
    bind = resolved if is_local_address(resolved) else LOOPBACK
    check_address(engine, bind)
    peers: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((bind, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])

        def accept() -> None:
            with contextlib.suppress(OSError):
                conn, peer = listener.accept()
                peers.append(str(peer[0]))
                conn.close()

        waiter = threading.Thread(target=accept, name="crossdock-probe", daemon=True)
        waiter.start()
        try:
            connect = _probe_container(ctx, f"busybox nc -w 5 {resolved} {port} </dev/null")
        finally:
            with contextlib.suppress(OSError):  # wakes the accepting thread if nothing came
                listener.shutdown(socket.SHUT_RDWR)
            waiter.join(timeout=5)
    if not peers:
        return (
            f"a host server on {bind} is not reachable from a container through {HOST_ALIAS} "
            f"({resolved}){output_tail(connect.stderr, prefix=': ')}"
        )
    where = "an address of this host" if bind == resolved else "not this host's: bound 127.0.0.1"
    return HostGateway(
        bind=bind,
        resolved=resolved,
        how=f"{HOST_ALIAS} -> {resolved} ({where}); the probe arrived from {peers[0]}",
    )


def _probe_container(ctx: RunContext, script: str) -> Output:
    return _container_client(
        ctx,
        ["busybox", "sh", "-c", script],
        Deadline(30),
        network="bridge",
        extra_hosts=HOST_GATEWAY,
    )


def is_local_address(address: str) -> bool:
    """Whether *address* belongs to this host (a socket can bind it)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


def engine_is_local(engine: Engine) -> bool:
    """Whether the engine runs on this machine (a local socket or pipe, or TCP to loopback)."""
    endpoint = engine.target.endpoint
    if endpoint.startswith(("unix://", "npipe://")):
        return True
    host = re.sub(r"^tcp://", "", endpoint).rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", LOOPBACK, "::1")


# --- the address rule -------------------------------------------------------------------------


def check_address(engine: Engine | None, address: str, *, host_gateway: bool = False) -> None:
    """Raise :class:`SampleError` unless *address* is loopback or inside one of the
    engine's own bridge networks: no traffic ever leaves this machine (DESIGN 4).

    With *host_gateway* (the address ``host.docker.internal`` resolves to in a container
    of a local engine), a private address outside the bridges is allowed too: the
    gateway a VM-backed engine (Docker Desktop: 192.168.65.254) keeps on its own virtual
    network to reach the host, which forwards to the host's loopback."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SampleError(f"refusing to use {address!r}: not an IP address") from None
    if ip.is_loopback:
        return
    subnets = engine_bridge_subnets(engine) if engine is not None else []
    if any(ip in ipaddress.ip_network(s) for s in subnets):
        return
    if host_gateway and engine is not None and engine_is_local(engine) and _private(ip):
        return
    allowed = "loopback, the engine's bridge networks" + (
        " and a private host-gateway address of a local engine" if host_gateway else ""
    )
    raise SampleError(
        f"refusing to use {address}: only {allowed} ({', '.join(subnets) or 'none'}) "
        "may be targeted"
    )


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A private or link-local address that is not also routable on the internet."""
    return (ip.is_private or ip.is_link_local) and not (
        ip.is_global or ip.is_multicast or ip.is_unspecified
    )


def engine_bridge_subnets(engine: Engine) -> list[str]:
    """The subnets of every bridge-driver network of the engine."""
    return [s for n in engine.api.networks() if n.get("Driver") == "bridge" for s in _subnets_of(n)]


def _subnets_of(network: Mapping[str, Any]) -> list[str]:
    configs = (network.get("IPAM") or {}).get("Config") or []
    return [str(c["Subnet"]) for c in configs if c.get("Subnet")]


# --- the userland proxy -----------------------------------------------------------------------

#: dockerd's socket when neither ``-H`` nor daemon.json's ``hosts`` names one (root mode);
#: ``fd://`` (systemd's docker.socket) is this socket too
DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_CONFIG = "/etc/docker/daemon.json"
#: what Go's strconv.ParseBool accepts, as dockerd's boolean flags read it
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


@dataclass(frozen=True)
class Dockerd:
    """A dockerd process seen in /proc, read as dockerd itself would: relative paths from
    its working directory, files through its own root (another mount namespace), its
    environment for rootless mode. Where this user may not read those (another user's
    process), its paths are taken as this host's, and its environment as empty."""

    pid: int
    argv: tuple[str, ...]

    @property
    def _proc(self) -> Path:
        return Path("/proc", str(self.pid))

    def environ(self) -> dict[str, str]:
        with contextlib.suppress(OSError):
            raw = (self._proc / "environ").read_bytes().split(b"\0")
            return dict(e.decode("utf-8", "replace").split("=", 1) for e in raw if b"=" in e)
        return {}

    @property
    def rootless(self) -> bool:
        """Run by rootlesskit (``dockerd-rootless.sh``), as dockerd itself tells."""
        return "ROOTLESSKIT_STATE_DIR" in self.environ()

    def resolve(self, path: str) -> Path:
        """*path* as dockerd means it: absolute in its own filesystem."""
        with contextlib.suppress(OSError):
            return Path((self._proc / "cwd").readlink(), path)
        return Path(path)

    def read_text(self, path: Path) -> str:
        """The file dockerd sees at *path* (raises :class:`OSError`, :class:`ValueError`)."""
        root = self._proc / "root"
        try:
            root.readlink()
        except OSError:
            return path.read_text(encoding="utf-8")
        return (root / path.relative_to(path.anchor)).read_text(encoding="utf-8")

    def config_file(self) -> Path:
        """dockerd's daemon.json: ``--config-file``, else the rootless or root default."""
        flag = _flag(self.argv, "--config-file")
        if flag is not None:
            return self.resolve(flag)
        if not self.rootless:
            return Path(DEFAULT_CONFIG)
        env = self.environ()
        config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "/"), ".config"))
        return Path(config_home, "docker", "daemon.json")

    def config(self) -> dict[str, Any] | str | None:
        """The daemon.json document, None when there is none, or why it is unreadable."""
        path = self.config_file()
        try:
            document = json.loads(self.read_text(path))
        except FileNotFoundError:
            return None
        except OSError as e:
            return f"{path} is unreadable here ({e.strerror or type(e).__name__})"
        except ValueError as e:
            return f"{path} is not UTF-8 JSON ({e})"
        if not isinstance(document, dict):
            return f"{path} is not a JSON object"
        return document

    def hosts(self) -> list[str]:
        """Where dockerd listens: ``-H``/``--host``, else daemon.json ``hosts``, else the
        default socket (rootless: ``$XDG_RUNTIME_DIR/docker.sock``)."""
        flags = _flags(self.argv, ("-H", "--host"))
        if flags:
            return flags
        config = self.config()
        if isinstance(config, dict) and isinstance(config.get("hosts"), list):
            return [str(h) for h in config["hosts"]]
        if self.rootless:
            return [f"unix://{self.environ().get('XDG_RUNTIME_DIR', '')}/docker.sock"]
        return [f"unix://{DEFAULT_SOCKET}"]

    def serves(self, endpoint: str) -> bool:
        """Whether *endpoint* is one of the addresses dockerd listens on."""
        return _socket_key(endpoint) in {_socket_key(h) for h in self.hosts()}


def _socket_key(address: str) -> str:
    """*address* comparable with another: a unix socket by its real path, ``fd://`` as the
    default socket; other schemes as written."""
    if address.startswith("fd://"):
        address = f"unix://{DEFAULT_SOCKET}"
    if address.startswith("unix://"):
        return f"unix://{os.path.realpath(address.removeprefix('unix://'))}"
    return address


def engine_dockerd(engine: Engine) -> Dockerd | str:
    """The dockerd process serving *engine*, or why none is known: not visible here, or
    none of those visible listens on the engine's endpoint (a rootless and a root engine
    side by side, a stand-in, ...)."""
    processes = _processes() if engine_is_local(engine) else []
    found = [
        Dockerd(pid, tuple(argv)) for pid, argv in processes if Path(argv[0]).name == "dockerd"
    ]
    if not found:
        return (
            "no dockerd process is visible on this host (the engine runs in a VM, on "
            "another machine or in another PID namespace): docker-proxy cannot be looked for"
        )
    endpoint = engine.target.endpoint
    serving = next((d for d in found if d.serves(endpoint)), None)
    if serving is None:
        seen = "; ".join(f"pid {d.pid} on {', '.join(d.hosts())}" for d in found)
        return f"no visible dockerd listens on {endpoint} ({seen})"
    return serving


def userland_proxy(engine: Engine, published_port: int | None) -> dict[str, str]:
    """The engine's userland-proxy setting as this host can see it, and how it is known:
    ``{"setting": "enabled" | "disabled" | "unknown", "how": ...}``.

    With *published_port* (a port published on 127.0.0.1 and in use now) it is observed:
    is a ``docker-proxy`` process serving that port? Else it is what the engine's dockerd
    was started with (:func:`configured_userland_proxy`). ``unknown`` with the reason
    where the engine's dockerd is not visible here (:func:`engine_dockerd`).
    """
    dockerd = engine_dockerd(engine)
    if isinstance(dockerd, str):
        return {"setting": "unknown", "how": dockerd}
    if published_port is None:
        return configured_userland_proxy(dockerd)
    proxies = [
        pid
        for pid, argv in _processes()
        if Path(argv[0]).name == "docker-proxy" and _flag(argv, "-host-port") == str(published_port)
    ]
    if proxies:
        return {
            "setting": "enabled",
            "how": f"docker-proxy pid {proxies[0]} serves port {published_port}",
        }
    return {
        "setting": "disabled",
        "how": f"no docker-proxy process serves the published port {published_port}",
    }


def configured_userland_proxy(dockerd: Dockerd) -> dict[str, str]:
    """The userland-proxy setting *dockerd* was started with: its ``--userland-proxy``
    flag, else the ``userland-proxy`` key of its daemon.json, else the engine default
    (enabled); ``unknown`` when its daemon.json cannot be read. (dockerd refuses
    to start with the setting in both places, so their order does not matter.)"""
    flag = _bool_flag(dockerd.argv, "--userland-proxy")
    if flag is not None:
        return {"setting": _enabled(flag), "how": f"dockerd --userland-proxy={str(flag).lower()}"}
    path = dockerd.config_file()
    config = dockerd.config()
    if isinstance(config, str):
        return {"setting": "unknown", "how": f"no --userland-proxy flag, and {config}"}
    value = None if config is None else config.get("userland-proxy")
    if isinstance(value, bool):
        return {"setting": _enabled(value), "how": f"{path}: userland-proxy={json.dumps(value)}"}
    if value is not None:
        return {"setting": "unknown", "how": f"{path}: userland-proxy={value!r} is not a boolean"}
    return {
        "setting": "enabled",
        "how": "engine default: no --userland-proxy flag, "
        + (f"no {path}" if config is None else f"no userland-proxy key in {path}"),
    }


def _enabled(on: bool) -> str:
    return "enabled" if on else "disabled"


def _flags(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """Every value of the options *names* in *argv* (``name=value`` or ``name value``)."""
    values = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg.startswith(f"{name}="):
                values.append(arg.split("=", 1)[1])
            elif arg == name and i + 1 < len(argv):
                values.append(argv[i + 1])
    return values


def _flag(argv: Sequence[str], name: str) -> str | None:
    """The value of option *name* in *argv* (the last one given), or None."""
    values = _flags(argv, (name,))
    return values[-1] if values else None


def _bool_flag(argv: Sequence[str], name: str) -> bool | None:
    """A Go boolean flag: ``name`` alone is true, ``name=value`` is the value (a separate
    word after it is not its value); the last one given counts; None when absent."""
    value = None
    for arg in argv:
        if arg == name:
            value = True
        elif arg.startswith(f"{name}="):
            value = _GO_BOOLS.get(arg.split("=", 1)[1])
    return value


def _processes() -> list[tuple[int, list[str]]]:
    """Every process visible in /proc with its argv (empty where /proc is absent)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = [
                a.decode("utf-8", "replace")
                for a in (entry / "cmdline").read_bytes().split(b"\0")
                if a
            ]
            if argv:
                found.append((int(entry.name), argv))
    return found


# --- host processes ---------------------------------------------------------------------------


class Deadline:
    """The scenario's timeout for one repetition, counted from its start."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; raises :class:`SampleError` once none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise SampleError(f"not done within the scenario timeout of {self.seconds:g} s; killed")
        return left


def run_on_host(argv: list[str], deadline: Deadline) -> Output:
    """Run *argv* on the host to completion within *deadline*; on timeout its whole
    process group is killed and :class:`SampleError` raised."""
    proc = _spawn(argv, stderr=subprocess.PIPE)
    try:
        stdout, stderr = proc.communicate(timeout=deadline.remaining())
    except subprocess.TimeoutExpired:
        raise SampleError(
            f"`{Path(argv[0]).name}` not done within the scenario timeout of "
            f"{deadline.seconds:g} s; killed"
        ) from None
    finally:
        _stop(proc)
    return Output(stdout, stderr, proc.returncode)


def _host_server(
    stack: contextlib.ExitStack,
    program: Program,
    bind: str,
    deadline: Deadline,
    engine: Engine | None,
) -> int:
    """Start *program*'s server on the host at *bind* (a free port), stopped with its
    whole process group when *stack* closes; returns the port once it listens."""
    check_address(engine, bind)
    port = free_port(bind)
    proc = _spawn(_on_host(program.server(bind, port)), stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    lines: list[str] = []
    pump = threading.Thread(target=_collect, args=(proc.stdout, lines), daemon=True)
    pump.start()
    stack.callback(pump.join, 5)  # after _stop: callbacks run last in, first out
    stack.callback(_stop, proc)
    _await_ready(
        lambda: ("".join(lines), proc.poll() is None), program.ready, deadline, "the host server"
    )
    return port


def _spawn(argv: list[str], *, stderr: int) -> subprocess.Popen[str]:
    # a session of its own, so that stopping it also stops what it started (nc's children)
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    """Kill *proc*'s process group if it still runs, and reap it."""
    if proc.poll() is None:
        # the group, so that nc's children go too; no killpg (Windows): the process only
        with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _collect(stream: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def free_port(address: str) -> int:
    """A TCP port free at *address* now (the kernel's pick; a race is unlikely and fails
    the repetition loudly rather than measuring something else)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _on_host(argv: list[str]) -> list[str]:
    exe = shutil.which(argv[0])
    if exe is None:
        raise SampleError(f"no `{argv[0]}` on the host PATH")
    return [exe, *argv[1:]]


@functools.cache
def host_tool_version(tool: str) -> str:
    """The first line *tool* prints about its version on the host, or ``unknown``."""
    exe = shutil.which(tool)
    if exe is None:
        return "unknown (not installed)"
    argv = [exe, "--version"] if tool == "iperf3" else [exe]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        lines = str(out.stdout or out.stderr).strip().splitlines()
        if lines:
            return lines[0].strip()
    return "unknown"


# --- containers -------------------------------------------------------------------------------


def _container_server(
    ctx: RunContext,
    stack: contextlib.ExitStack,
    program: Program,
    deadline: Deadline,
    *,
    network: str,
    bind: str | None = None,
    publish: bool = False,
) -> str:
    """Start *program*'s server in a labelled container on *network* (its port published
    on 127.0.0.1 only when *publish*), removed when *stack* closes; returns its id once
    the server listens."""
    api = ctx.require_engine().api
    host_config = api.create_host_config(
        network_mode=network,
        port_bindings={program.port: (LOOPBACK, None)} if publish else None,
    )
    with signals.deferred():  # an interrupted create finishes server-side, unseen by cleanup
        cid = str(
            api.create_container(
                image=ctx.image(IMAGE).tag,
                command=program.server(bind, program.port),
                labels=dict(ctx.labels),
                host_config=host_config,
                ports=[program.port] if publish else None,
            )["Id"]
        )
    stack.callback(force_remove, api, cid)
    api.start(cid)

    def state() -> tuple[str, bool]:
        logs = api.logs(cid, stdout=True, stderr=True).decode("utf-8", "replace")
        return logs, api.inspect_container(cid)["State"]["Running"]

    _await_ready(state, program.ready, deadline, "the server container")
    return cid


def _container_client(
    ctx: RunContext,
    argv: list[str],
    deadline: Deadline,
    *,
    network: str | None,
    extra_hosts: Mapping[str, str] | None = None,
) -> Output:
    """Run *argv* in a new labelled container on *network* to completion; the container
    is removed in every case, and killed when *deadline* passes."""
    api = ctx.require_engine().api
    host_config = api.create_host_config(
        network_mode=network or "bridge", extra_hosts=dict(extra_hosts) if extra_hosts else None
    )
    with signals.deferred():
        cid = str(
            api.create_container(
                image=ctx.image(IMAGE).tag,
                command=argv,
                labels=dict(ctx.labels),
                host_config=host_config,
            )["Id"]
        )
    try:
        api.start(cid)
        code = wait_exit(api, cid, deadline.remaining())
        return Output(_logs(api, cid, "stdout"), _logs(api, cid, "stderr"), code)
    finally:
        force_remove(api, cid)


def _exec_client(ctx: RunContext, cid: str, argv: list[str], deadline: Deadline) -> Output:
    """Run *argv* inside container *cid*, killed by busybox ``timeout`` inside it when
    *deadline* passes."""
    api = ctx.require_engine().api
    seconds = max(1, math.ceil(deadline.remaining()))
    exec_id = api.exec_create(cid, ["timeout", "-s", "KILL", str(seconds), *argv])["Id"]
    stdout, stderr = api.exec_start(exec_id, demux=True)
    code = int(api.exec_inspect(exec_id)["ExitCode"])
    if code == 128 + 9:
        raise SampleError(
            f"`{argv[0]}` not done within the scenario timeout of {deadline.seconds:g} s; killed"
        )
    return Output(decoded(stdout), decoded(stderr), code)


def _logs(api: Any, cid: str, stream: Literal["stdout", "stderr"]) -> str:
    return decoded(api.logs(cid, stdout=stream == "stdout", stderr=stream == "stderr"))


def _container_address(ctx: RunContext, cid: str, network: str) -> str:
    networks = ctx.require_engine().api.inspect_container(cid)["NetworkSettings"]["Networks"]
    return str(networks[network]["IPAddress"])


def _published_port(ctx: RunContext, cid: str, port: int) -> int:
    bindings = ctx.require_engine().api.port(cid, port) or []
    for binding in bindings:
        if binding.get("HostIp") in (LOOPBACK, "") and binding.get("HostPort"):
            return int(binding["HostPort"])
    raise SampleError(f"the engine published no host port for {port}/tcp ({bindings!r})")


# --- shared helpers ---------------------------------------------------------------------------


def _await_ready(
    state: Callable[[], tuple[str, bool]], marker: str, deadline: Deadline, what: str
) -> None:
    """Poll *state* (output so far, still running) until *marker* is in the output;
    raises :class:`SampleError` when the server exits first or *deadline* passes."""
    while True:
        text, running = state()
        if marker in text:
            return
        if not running:
            raise SampleError(f"{what} exited before it listened{output_tail(text, prefix=': ')}")
        deadline.remaining()
        time.sleep(POLL_S)


def _one_version(versions: Mapping[str, str]) -> str:
    """One version string for the ``tool`` record: the version, or each side's when the
    host's and the container's differ."""
    if len(set(versions.values())) == 1:
        return next(iter(versions.values()))
    return "; ".join(f"{side}: {v}" for side, v in versions.items()) or "unknown"
