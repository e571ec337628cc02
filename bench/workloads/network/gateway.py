"""The way from a container to a host server: ``host.docker.internal``, which the engine
maps to its ``host-gateway``, probed once per scenario (:func:`probe_host_gateway`)
before the ``to-host`` path sends anything there.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass

from bench.environment.engine import engine_is_local
from bench.errors import SampleError
from bench.provision.context import RunContext
from bench.provision.processes import Output, output_tail
from bench.workloads.network.addresses import LOOPBACK, check_address, is_local_address
from bench.workloads.network.servers import Deadline, container_client

#: the name a container uses for the host, mapped by the engine's ``host-gateway``
HOST_ALIAS = "host.docker.internal"
HOST_GATEWAY = {HOST_ALIAS: "host-gateway"}


@dataclass(frozen=True)
class HostGateway:
    """How a container reaches a host server here: bind the server to ``bind``; in a
    container ``host.docker.internal`` resolves to ``resolved``."""

    bind: str
    resolved: str
    how: str


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
    return container_client(
        ctx,
        ["busybox", "sh", "-c", script],
        Deadline(30),
        network="bridge",
        extra_hosts=HOST_GATEWAY,
    )
