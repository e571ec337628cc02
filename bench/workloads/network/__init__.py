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
  (:func:`.gateway.probe_host_gateway`).

``measure = "throughput"`` runs iperf3 (``-J``, parsed by :mod:`bench.tools.iperf`) for
``duration`` seconds after ``omit`` warm-up seconds, ``streams`` parallel streams,
``direction = "reverse"`` adding ``-R`` (the server sends). Metrics: ``bitrate`` at the
receiving side, ``retransmits``, ``sender_cpu``, ``receiver_cpu``.

``measure = "latency"`` times ``roundtrips`` TCP round trips of one byte over one
connection (after :data:`.programs.WARM_ROUND_TRIPS` uncounted ones) and stores their
median and 99th percentile (``rtt_p50``, ``rtt_p99``). Both ends are the same busybox programs on
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
(:func:`.addresses.check_address`), and host<->container paths are skipped when the
engine is not local. The engine's userland-proxy setting
(:func:`bench.environment.dockerd.userland_proxy`) and the addresses actually used are
recorded in the result's ``extra``.

The modules beside this one: :mod:`.programs` (iperf3 and the echo, and how their output
becomes figures), :mod:`.servers` (running them on the host and in containers),
:mod:`.addresses` (the address rule) and :mod:`.gateway` (the to-host probe).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import docker.errors

from bench import signals
from bench.environment.dockerd import userland_proxy
from bench.environment.engine import engine_is_local
from bench.errors import SampleError, first_line
from bench.plan import ParamSpec, Scalar, Scenario, Variant
from bench.provision.context import RunContext
from bench.provision.processes import Output
from bench.workloads.network.addresses import LOOPBACK, check_address, subnets_of
from bench.workloads.network.gateway import (
    HOST_ALIAS,
    HOST_GATEWAY,
    HostGateway,
    probe_host_gateway,
)
from bench.workloads.network.programs import (
    LATENCY_METHOD,
    PROGRAMS,
    WARM_ROUND_TRIPS,
    Program,
)
from bench.workloads.network.servers import (
    IMAGE,
    Deadline,
    container_address,
    container_client,
    container_server,
    exec_client,
    host_client,
    host_server,
    host_tool_version,
    published_port,
)

ClientSide = Literal["host", "container", "server-container"]


@dataclass(frozen=True)
class PathSpec:
    """Where one path's server and client run (``server-container``: inside the server's
    container, by ``docker exec``); ``description`` says which way data flows forward
    (the client sends), ``reverse`` which way with ``iperf3 -R`` (the server sends over
    the connection the client opened)."""

    server: Literal["host", "container"]
    client: ClientSide
    description: str
    reverse: str

    @property
    def on_host(self) -> bool:
        """Whether an end runs on the host (needs the tool there)."""
        return "host" in (self.server, self.client)

    @property
    def crosses(self) -> bool:
        """Whether the path joins the host and a container (needs a local engine)."""
        return self.on_host and "container" in (self.server, self.client)


#: an engine label saying its published ports do not reach this host's loopback
NOT_FORWARDED = "crossdock.published-ports=not-forwarded"

PATHS: dict[str, PathSpec] = {
    "native-loopback": PathSpec(
        "host",
        "host",
        "host -> host over 127.0.0.1 (the baseline)",
        "host -> host over 127.0.0.1, the server sending (the baseline)",
    ),
    "container-loopback": PathSpec(
        "container",
        "server-container",
        "inside one container (network none) over 127.0.0.1",
        "inside one container (network none) over 127.0.0.1, the server sending",
    ),
    "bridge": PathSpec(
        "container",
        "container",
        "container -> container on a user bridge made for the run",
        "container -> container on a user bridge made for the run, the server's container "
        "sending to the client's",
    ),
    "published-port": PathSpec(
        "container",
        "host",
        "host -> container through a port published on 127.0.0.1",
        "container -> host: the container behind a port published on 127.0.0.1 sends to the "
        "host over the connection the host opened",
    ),
    "to-host": PathSpec(
        "host",
        "container",
        f"container -> host through {HOST_ALIAS} (host-gateway)",
        f"host -> container: the host sends to the container over the connection the "
        f"container opened through {HOST_ALIAS} (host-gateway)",
    ),
}


@dataclass(frozen=True)
class Route:
    """Where one repetition's server listens and where its client connects.

    ``target_address`` is the address ``target_host`` stands for (what is checked against
    :func:`.addresses.check_address`); ``client_network`` and ``extra_hosts`` configure a client
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
        if variant["path"] == "published-port" and NOT_FORWARDED in (
            ctx.engine.info.get("Labels") or []
        ):
            return (
                f"the engine's label {NOT_FORWARDED} says nothing forwards the ports it "
                "publishes to this host (crossdock's reference VM has no port forwarder)"
            )
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
        reverse = variant["measure"] == "throughput" and variant["direction"] == "reverse"
        sides = {"server": path.server, "client": path.client.removeprefix("server-")}
        extra: dict[str, object] = {
            "path": path.reverse if reverse else path.description,
            "server_side": path.server,
            "client_side": path.client,
            **facts,
        }
        if variant["measure"] == "throughput":
            extra["data_from"] = sides["server" if reverse else "client"]
            extra["data_to"] = sides["client" if reverse else "server"]
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
            port = host_server(stack, program, LOOPBACK, deadline, ctx.engine)
            return Route(f"host {LOOPBACK}:{port}", LOOPBACK, port, LOOPBACK)
        if path == "to-host":
            gateway = self._host_gateway(ctx)
            if isinstance(gateway, str):
                raise SampleError(gateway)
            port = host_server(stack, program, gateway.bind, deadline, ctx.engine)
            return Route(
                f"host {gateway.bind}:{port}",
                HOST_ALIAS,
                port,
                gateway.resolved,
                client_network="bridge",
                extra_hosts=HOST_GATEWAY,
            )
        if path == "container-loopback":
            cid = container_server(ctx, stack, program, deadline, network="none", bind=LOOPBACK)
            where = f"container {cid[:12]} {LOOPBACK}:{program.port}"
            return Route(where, LOOPBACK, program.port, LOOPBACK, server_container=cid)
        if path == "bridge":
            network = self._bridge_network(ctx)
            cid = container_server(ctx, stack, program, deadline, network=network)
            ip = container_address(ctx, cid, network)
            where = f"container {cid[:12]} {ip}:{program.port} on {network}"
            return Route(where, ip, program.port, ip, client_network=network)
        cid = container_server(ctx, stack, program, deadline, network="bridge", publish=True)
        host_port = published_port(ctx, cid, program.port)
        self._proxy = userland_proxy(ctx.require_engine(), host_port)
        where = f"container {cid[:12]} :{program.port} published on {LOOPBACK}:{host_port}"
        return Route(where, LOOPBACK, host_port, LOOPBACK)

    def _client(
        self, ctx: RunContext, side: ClientSide, route: Route, argv: list[str], deadline: Deadline
    ) -> Output:
        if side == "host":
            return host_client(argv, deadline)
        if side == "server-container":
            assert route.server_container is not None
            return exec_client(ctx, route.server_container, argv, deadline)
        return container_client(
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
        return {"name": self._bridge, "subnets": subnets_of(attrs)}

    def _host_gateway(self, ctx: RunContext) -> HostGateway | str:
        """Where a host server is reachable from a container (probed once), or why not."""
        if self._gateway is None:
            try:
                self._gateway = probe_host_gateway(ctx)
            except Exception as e:  # noqa: BLE001 - any failure of the probe is the skip's reason
                self._gateway = f"could not probe the host from a container: {first_line(e)}"
        return self._gateway


def _one_version(versions: Mapping[str, str]) -> str:
    """One version string for the ``tool`` record: the version, or each side's when the
    host's and the container's differ."""
    if len(set(versions.values())) == 1:
        return next(iter(versions.values()))
    return "; ".join(f"{side}: {v}" for side, v in versions.items()) or "unknown"
